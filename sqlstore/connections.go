package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchyard/switchyard"
)

const connectionCols = `id, name, owner_id, provider_id, provider_type, models, key_hash, key_prefix, credential,
	rate_limit_rpm, token_limit_tpm, budget_usd, enabled, last_used_at, version, created_at, updated_at`

// storedCredential is a connection's own credential as stored: its secrets
// sealed and bound to the connection row.
type storedCredential struct {
	Name    string                 `json:"name"`
	Method  switchyard.AuthMethod  `json:"method"`
	Config  map[string]string      `json:"config,omitempty"`
	Secrets map[string]sealedField `json:"secrets,omitempty"`
}

type connectionRow struct {
	c    switchyard.Connection
	cred *storedCredential
}

func scanConnection(sc interface{ Scan(...any) error }) (*connectionRow, error) {
	var r connectionRow
	c := &r.c
	var providerID sql.NullString
	err := sc.Scan(&c.ID, &c.Name, &c.OwnerID, &providerID, &c.ProviderType, jsonCol{&c.Models}, &c.KeyHash, &c.KeyPrefix,
		jsonCol{&r.cred}, &c.RateLimitRPM, &c.TokenLimitTPM, &c.BudgetUSD, &c.Enabled, nullTime{&c.LastUsedAt}, &c.Version,
		dbTime{&c.CreatedAt}, dbTime{&c.UpdatedAt})
	c.ProviderID = providerID.String
	return &r, err
}

func (s *store) finishConnection(r *connectionRow) *switchyard.Connection {
	c := r.c
	if r.cred != nil {
		c.Credential = &switchyard.Credential{Name: r.cred.Name, Method: r.cred.Method, Config: r.cred.Config,
			Secrets: s.open("connections", c.ID, "credential.", r.cred.Secrets)}
	}
	return &c
}

func (s *store) connectionArgs(c *switchyard.Connection, oldCred *storedCredential) ([]any, error) {
	var providerID any
	if c.ProviderID != "" {
		providerID = c.ProviderID
	}
	models, err := jsonArg(c.Models, "[]")
	if err != nil {
		return nil, err
	}
	var cred any
	if c.Credential != nil {
		var old map[string]sealedField
		if oldCred != nil {
			old = oldCred.Secrets
		}
		sealed, err := s.seal("connections", c.ID, "credential.", c.Credential.Secrets, old)
		if err != nil {
			return nil, err
		}
		if cred, err = nullJSONArg(storedCredential{Name: c.Credential.Name, Method: c.Credential.Method,
			Config: c.Credential.Config, Secrets: sealed}); err != nil {
			return nil, err
		}
	}
	return []any{c.Name, c.OwnerID, providerID, c.ProviderType, models, c.KeyHash, c.KeyPrefix, cred,
		c.RateLimitRPM, c.TokenLimitTPM, c.BudgetUSD, c.Enabled}, nil
}

// CreateConnection stores a new connection.
func (s *store) CreateConnection(ctx context.Context, c *switchyard.Connection) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		if err := t.requireConnectionRefs(ctx, c); err != nil {
			return err
		}
		if c.ID == "" {
			c.ID = newID()
		}
		args, err := t.connectionArgs(c, nil)
		if err != nil {
			return err
		}
		now := t.nowUTC()
		_, err = t.exec(ctx, `INSERT INTO connections (`+connectionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			append(append([]any{c.ID}, args...), t.tsp(c.LastUsedAt), t.ts(now), t.ts(now))...)
		if err != nil {
			return err
		}
		c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
		return nil
	})
}

// requireConnectionRefs names a missing owner or provider.
func (s *store) requireConnectionRefs(ctx context.Context, c *switchyard.Connection) error {
	var one int
	if err := s.queryRow(ctx, `SELECT 1 FROM users WHERE id = ?`, c.OwnerID).Scan(&one); isNoRows(err) {
		return &switchyard.Error{Code: switchyard.EINVALID, Message: fmt.Sprintf("owner %q does not exist", c.OwnerID),
			Fields: []switchyard.FieldError{{Field: "owner_id", Code: "not_found", Message: "no such user"}}}
	} else if err != nil {
		return s.db.dialect.classify(err)
	}
	if c.ProviderID == "" {
		return nil
	}
	if err := s.queryRow(ctx, `SELECT 1 FROM providers WHERE id = ?`, c.ProviderID).Scan(&one); isNoRows(err) {
		return &switchyard.Error{Code: switchyard.EINVALID, Message: fmt.Sprintf("provider %q does not exist", c.ProviderID),
			Fields: []switchyard.FieldError{{Field: "provider_id", Code: "not_found", Message: "no such provider"}}}
	} else if err != nil {
		return s.db.dialect.classify(err)
	}
	return nil
}

// GetConnection returns one connection.
func (s *store) GetConnection(ctx context.Context, id string) (*switchyard.Connection, error) {
	return s.getConnection(ctx, "id", id)
}

// GetConnectionByKeyHash returns the connection whose gateway key hashes to hash.
func (s *store) GetConnectionByKeyHash(ctx context.Context, hash string) (*switchyard.Connection, error) {
	return s.getConnection(ctx, "key_hash", hash)
}

func (s *store) getConnection(ctx context.Context, col, v string) (*switchyard.Connection, error) {
	r, err := scanConnection(s.queryRow(ctx, `SELECT `+connectionCols+` FROM connections WHERE `+col+` = ?`, v))
	if isNoRows(err) {
		if col == "key_hash" {
			return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no connection has this key")
		}
		return nil, notFound("connection", v)
	}
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", s.db.dialect.classify(err))
	}
	return s.finishConnection(r), nil
}

// ListConnections returns one page of connections in creation order.
func (s *store) ListConnections(ctx context.Context, f switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error) {
	var w where
	if f.OwnerID != "" {
		w.add("owner_id = ?", f.OwnerID)
	}
	if f.ProviderID != "" {
		w.add("provider_id = ?", f.ProviderID)
	}
	tail, limit, err := paginate(&w, f.ListOptions, false)
	if err != nil {
		return switchyard.Page[*switchyard.Connection]{}, err
	}
	rows, err := queryAll(ctx, s, `SELECT `+connectionCols+` FROM connections`+w.String()+tail, w.args, scanConnection)
	if err != nil {
		return switchyard.Page[*switchyard.Connection]{}, fmt.Errorf("list connections: %w", err)
	}
	page := finishPage(rows, limit, func(r *connectionRow) string { return r.c.ID })
	out := switchyard.Page[*switchyard.Connection]{NextCursor: page.NextCursor}
	for _, r := range page.Items {
		out.Items = append(out.Items, s.finishConnection(r))
	}
	return out, nil
}

// UpdateConnection saves every field of c if c.Version is still current.
func (s *store) UpdateConnection(ctx context.Context, c *switchyard.Connection) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		var old *storedCredential
		err := t.queryRow(ctx, `SELECT credential FROM connections WHERE id = ?`, c.ID).Scan(jsonCol{&old})
		if isNoRows(err) {
			return notFound("connection", c.ID)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if err := t.requireConnectionRefs(ctx, c); err != nil {
			return err
		}
		args, err := t.connectionArgs(c, old)
		if err != nil {
			return err
		}
		now := t.nowUTC()
		res, err := t.exec(ctx, `UPDATE connections SET name = ?, owner_id = ?, provider_id = ?, provider_type = ?, models = ?,
			key_hash = ?, key_prefix = ?, credential = ?, rate_limit_rpm = ?, token_limit_tpm = ?, budget_usd = ?, enabled = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, append(args, t.ts(now), c.ID, c.Version)...)
		if err != nil {
			return err
		}
		if err := t.checkVersioned(ctx, res, "connections", "connection", c.ID, c.Version); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt = now
		return nil
	})
}

// DeleteConnection deletes one connection.
func (s *store) DeleteConnection(ctx context.Context, id string, version int64) error {
	return s.deleteVersioned(ctx, "connections", "connection", id, version)
}
