package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

const userCols = `id, username, email, role, password_hash, disabled, last_login_at, version, created_at, updated_at`

func scanUser(sc interface{ Scan(...any) error }) (*switchyard.User, error) {
	var u switchyard.User
	err := sc.Scan(&u.ID, &u.Username, &u.Email, &u.Role, &u.PasswordHash, &u.Disabled, nullTime{&u.LastLoginAt},
		&u.Version, dbTime{&u.CreatedAt}, dbTime{&u.UpdatedAt})
	return &u, err
}

// CreateUser stores a new user.
func (s *store) CreateUser(ctx context.Context, u *switchyard.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	now := s.nowUTC()
	id := u.ID
	if id == "" {
		id = newID()
	}
	_, err := s.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		id, u.Username, u.Email, string(u.Role), u.PasswordHash, u.Disabled, s.tsp(u.LastLoginAt), s.ts(now), s.ts(now))
	if err != nil {
		return err
	}
	u.ID, u.Version, u.CreatedAt, u.UpdatedAt = id, 1, now, now
	return nil
}

// GetUser returns one user.
func (s *store) GetUser(ctx context.Context, id string) (*switchyard.User, error) {
	return s.getUser(ctx, "id", id)
}

// GetUserByUsername returns the user with the given username.
func (s *store) GetUserByUsername(ctx context.Context, username string) (*switchyard.User, error) {
	return s.getUser(ctx, "username", username)
}

func (s *store) getUser(ctx context.Context, col, v string) (*switchyard.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+col+` = ?`, v))
	if isNoRows(err) {
		return nil, notFound("user", v)
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", s.db.dialect.classify(err))
	}
	return u, nil
}

// ListUsers returns one page of users in creation order.
func (s *store) ListUsers(ctx context.Context, f switchyard.UserFilter) (switchyard.Page[*switchyard.User], error) {
	var w where
	if f.Role != "" {
		w.add("role = ?", string(f.Role))
	}
	tail, limit, err := paginate(&w, f.ListOptions, false)
	if err != nil {
		return switchyard.Page[*switchyard.User]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT `+userCols+` FROM users`+w.String()+tail, w.args, scanUser)
	if err != nil {
		return switchyard.Page[*switchyard.User]{}, fmt.Errorf("list users: %w", err)
	}
	return finishPage(items, limit, func(u *switchyard.User) string { return u.ID }), nil
}

// UpdateUser saves every field of u if u.Version is still current.
func (s *store) UpdateUser(ctx context.Context, u *switchyard.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	now := s.nowUTC()
	res, err := s.exec(ctx, `UPDATE users SET username = ?, email = ?, role = ?, password_hash = ?, disabled = ?, last_login_at = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		u.Username, u.Email, string(u.Role), u.PasswordHash, u.Disabled, s.tsp(u.LastLoginAt), s.ts(now), u.ID, u.Version)
	if err != nil {
		return err
	}
	if err := s.checkVersioned(ctx, res, "users", "user", u.ID, u.Version); err != nil {
		return err
	}
	u.Version++
	u.UpdatedAt = now
	return nil
}

// DeleteUser deletes a user and their tokens, unless they own connections.
func (s *store) DeleteUser(ctx context.Context, id string, version int64) error {
	return s.tx(ctx, func(t *store) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM connections WHERE owner_id = ?`, id).Scan(&n); err != nil {
			return t.db.dialect.classify(err)
		}
		if n > 0 {
			return &switchyard.Error{Code: switchyard.ECONFLICT,
				Message: fmt.Sprintf("user %q owns %d connection(s); delete them or give them to another user first, or disable the user", id, n)}
		}
		return t.deleteVersioned(ctx, "users", "user", id, version)
	})
}

// ActiveAdmins returns the ids of enabled admins, locking their rows on
// PostgreSQL.
func (s *store) ActiveAdmins(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s, `SELECT id FROM users WHERE role = 'admin' AND disabled = ? ORDER BY id`+s.db.dialect.forUpdate(),
		[]any{false}, func(sc interface{ Scan(...any) error }) (string, error) {
			var id string
			err := sc.Scan(&id)
			return id, err
		})
}

// RecordLogin sets last_login_at without changing the version.
func (s *store) RecordLogin(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, s.ts(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("user", id)
	}
	return nil
}

// CountUsers returns how many users exist.
func (s *store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, s.db.dialect.classify(err)
}

const tokenCols = `id, user_id, name, hash, prefix, last_used_at, expires_at, revoked_at, created_at`

func scanToken(sc interface{ Scan(...any) error }) (*switchyard.APIToken, error) {
	var t switchyard.APIToken
	err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Prefix, nullTime{&t.LastUsedAt}, nullTime{&t.ExpiresAt},
		nullTime{&t.RevokedAt}, dbTime{&t.CreatedAt})
	return &t, err
}

// CreateToken stores a new API token (its hash).
func (s *store) CreateToken(ctx context.Context, t *switchyard.APIToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *store) error {
		var one int
		if err := tx.queryRow(ctx, `SELECT 1 FROM users WHERE id = ?`, t.UserID).Scan(&one); isNoRows(err) {
			return notFound("user", t.UserID)
		} else if err != nil {
			return tx.db.dialect.classify(err)
		}
		now := tx.nowUTC()
		id := t.ID
		if id == "" {
			id = newID()
		}
		_, err := tx.exec(ctx, `INSERT INTO api_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, t.UserID, t.Name, t.Hash, t.Prefix, tx.tsp(t.LastUsedAt), tx.tsp(t.ExpiresAt), tx.tsp(t.RevokedAt), tx.ts(now))
		if err != nil {
			return err
		}
		t.ID, t.CreatedAt = id, now
		return nil
	})
}

// GetTokenByHash returns the token with the given hash, revoked or not.
func (s *store) GetTokenByHash(ctx context.Context, hash string) (*switchyard.APIToken, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if isNoRows(err) {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no token has this value")
	}
	if err != nil {
		return nil, fmt.Errorf("get token: %w", s.db.dialect.classify(err))
	}
	return t, nil
}

// GetToken returns one token by id.
func (s *store) GetToken(ctx context.Context, id string) (*switchyard.APIToken, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, notFound("token", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get token: %w", s.db.dialect.classify(err))
	}
	return t, nil
}

// ListTokens returns a user's tokens, oldest first.
func (s *store) ListTokens(ctx context.Context, userID string) ([]*switchyard.APIToken, error) {
	return queryAll(ctx, s, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`, []any{userID}, scanToken)
}

// RevokeToken marks a token revoked; revoking twice is not an error.
func (s *store) RevokeToken(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, s.ts(s.nowUTC()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("token", id)
	}
	return nil
}

// TouchToken records when a token was last used.
func (s *store) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, s.ts(at), id)
	return err
}
