package control

import (
	"context"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
)

// ListTokens lists a user's API tokens, oldest first: the caller's own, or
// (admins only) those of userID.
func (s *Service) ListTokens(ctx context.Context, a *Actor, userID string) ([]*switchyard.APIToken, error) {
	if a == nil || a.User == nil {
		return nil, requireAdmin(a, "list tokens")
	}
	if userID == "" || userID == a.User.ID {
		return s.store.ListTokens(ctx, a.User.ID)
	}
	if err := requireAdmin(a, "list the tokens of other users"); err != nil {
		return nil, err
	}
	if _, err := s.store.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	return s.store.ListTokens(ctx, userID)
}

// CreateToken makes an API token for the caller, acting with the caller's
// role, and returns it: it is shown this once and stored only as its hash.
// expiresInDays 0 means it never expires.
func (s *Service) CreateToken(ctx context.Context, a *Actor, name string, expiresInDays int) (*switchyard.APIToken, string, error) {
	if a == nil || a.User == nil {
		return nil, "", requireAdmin(a, "create tokens")
	}
	if expiresInDays < 0 {
		return nil, "", &switchyard.Error{Code: switchyard.EINVALID, Message: "expires_in_days must be positive",
			Fields: []switchyard.FieldError{{Field: "expires_in_days", Code: "out_of_range", Message: "must be at least 1 (leave it out for a token that does not expire)"}}}
	}
	token, hash, display, err := auth.NewToken(auth.PrefixAPIToken)
	if err != nil {
		return nil, "", err
	}
	t := &switchyard.APIToken{UserID: a.User.ID, Name: name, Hash: hash, Prefix: display}
	if expiresInDays > 0 {
		at := s.now().UTC().Add(time.Duration(expiresInDays) * 24 * time.Hour)
		t.ExpiresAt = &at
	}
	err = s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "token", t.ID, nil, t)
	})
	if err != nil {
		return nil, "", err
	}
	return t, token, nil
}

// RevokeToken revokes an API token: users their own, admins any. It stops
// working at once; revoking twice is not an error.
func (s *Service) RevokeToken(ctx context.Context, a *Actor, id string) error {
	if a == nil || a.User == nil {
		return requireAdmin(a, "revoke tokens")
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		t, err := tx.GetToken(ctx, id)
		if err != nil {
			return err
		}
		if !a.Admin() && t.UserID != a.User.ID {
			return hidden("token", id)
		}
		if t.RevokedAt != nil {
			return nil
		}
		if err := tx.RevokeToken(ctx, id); err != nil {
			return err
		}
		after, err := tx.GetToken(ctx, id)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "revoke", "token", id, t, after)
	})
}
