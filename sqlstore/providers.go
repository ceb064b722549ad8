package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard"
)

const providerCols = `id, name, slug, protocol, base_url, template, params, system_type, system, enabled,
	headers, settings, health_status, last_test, version, created_at, updated_at`

type providerRow struct {
	p       switchyard.Provider
	headers map[string]sealedField
}

func scanProvider(sc interface{ Scan(...any) error }) (*providerRow, error) {
	var r providerRow
	p := &r.p
	err := sc.Scan(&p.ID, &p.Name, &p.Slug, &p.Protocol, &p.BaseURL, &p.Template, jsonCol{&p.Params},
		&p.SystemType, &p.System, &p.Enabled, jsonCol{&r.headers}, jsonCol{&p.Settings}, &p.Status,
		jsonCol{&p.LastTest}, &p.Version, dbTime{&p.CreatedAt}, dbTime{&p.UpdatedAt})
	return &r, err
}

// CreateProvider stores a new provider with its credentials.
func (s *store) CreateProvider(ctx context.Context, p *switchyard.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		now := t.nowUTC()
		id := p.ID
		if id == "" {
			id = newID()
		}
		headers, err := t.seal("providers", id, "headers.", p.Headers, nil)
		if err != nil {
			return err
		}
		args, err := providerArgs(p, headers)
		if err != nil {
			return err
		}
		status := p.Status
		if status == "" {
			status = switchyard.StatusUnknown
		}
		lastTest, err := nullJSONArg(p.LastTest)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO providers (`+providerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			append(append([]any{id}, args...), string(status), lastTest, t.ts(now), t.ts(now))...)
		if err != nil {
			return err
		}
		creds := cloneCredentials(p.Credentials)
		if err := t.saveCredentials(ctx, id, creds, t.ts(now)); err != nil {
			return err
		}
		p.ID, p.Version, p.CreatedAt, p.UpdatedAt, p.Status, p.Credentials = id, 1, now, now, status, creds
		return nil
	})
}

func providerArgs(p *switchyard.Provider, headers map[string]sealedField) ([]any, error) {
	params, err := jsonArg(p.Params, "{}")
	if err != nil {
		return nil, err
	}
	hdr, err := jsonArg(headers, "{}")
	if err != nil {
		return nil, err
	}
	settings, err := jsonArg(p.Settings, "{}")
	if err != nil {
		return nil, err
	}
	return []any{p.Name, p.Slug, string(p.Protocol), p.BaseURL, p.Template, params, p.SystemType, p.System, p.Enabled, hdr, settings}, nil
}

func cloneCredentials(cs []switchyard.Credential) []switchyard.Credential {
	out := make([]switchyard.Credential, len(cs))
	copy(out, cs)
	return out
}

// GetProvider returns a provider with its credentials, secrets decrypted.
func (s *store) GetProvider(ctx context.Context, id string) (*switchyard.Provider, error) {
	return s.getProvider(ctx, "id", id)
}

// GetProviderBySlug returns the provider with the given slug.
func (s *store) GetProviderBySlug(ctx context.Context, slug string) (*switchyard.Provider, error) {
	return s.getProvider(ctx, "slug", slug)
}

func (s *store) getProvider(ctx context.Context, col, v string) (*switchyard.Provider, error) {
	r, err := scanProvider(s.queryRow(ctx, `SELECT `+providerCols+` FROM providers WHERE `+col+` = ?`, v))
	if isNoRows(err) {
		return nil, notFound("provider", v)
	}
	if err != nil {
		return nil, fmt.Errorf("get provider: %w", s.db.dialect.classify(err))
	}
	ps, err := s.finishProviders(ctx, []*providerRow{r})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// ListProviders returns one page of providers in creation order.
func (s *store) ListProviders(ctx context.Context, f switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error) {
	var w where
	if f.Status != "" {
		if f.Status == switchyard.StatusDisabled {
			w.add("enabled = ?", false)
		} else {
			w.add("enabled = ? AND health_status = ?", true, string(f.Status))
		}
	}
	if f.Protocol != "" {
		w.add("protocol = ?", string(f.Protocol))
	}
	if f.Enabled != nil {
		w.add("enabled = ?", *f.Enabled)
	}
	if f.System != nil {
		w.add("system = ?", *f.System)
	}
	if f.Search != "" {
		op := s.db.dialect.like()
		w.add("(name "+op+" ? ESCAPE '\\' OR slug "+op+" ? ESCAPE '\\')", escapeLike(f.Search), escapeLike(f.Search))
	}
	tail, limit, err := paginate(&w, f.ListOptions, false)
	if err != nil {
		return switchyard.Page[*switchyard.Provider]{}, err
	}
	rows, err := s.query(ctx, `SELECT `+providerCols+` FROM providers`+w.String()+tail, w.args...)
	if err != nil {
		return switchyard.Page[*switchyard.Provider]{}, fmt.Errorf("list providers: %w", err)
	}
	var rs []*providerRow
	for rows.Next() {
		r, err := scanProvider(rows)
		if err != nil {
			rows.Close()
			return switchyard.Page[*switchyard.Provider]{}, err
		}
		rs = append(rs, r)
	}
	if err := closeRows(rows); err != nil {
		return switchyard.Page[*switchyard.Provider]{}, err
	}
	page := finishPage(rs, limit, func(r *providerRow) string { return r.p.ID })
	ps, err := s.finishProviders(ctx, page.Items)
	if err != nil {
		return switchyard.Page[*switchyard.Provider]{}, err
	}
	return switchyard.Page[*switchyard.Provider]{Items: ps, NextCursor: page.NextCursor}, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// finishProviders decrypts headers and loads every provider's credentials
// with one query.
func (s *store) finishProviders(ctx context.Context, rs []*providerRow) ([]*switchyard.Provider, error) {
	out := make([]*switchyard.Provider, len(rs))
	byID := make(map[string]*switchyard.Provider, len(rs))
	ids := make([]any, len(rs))
	for i, r := range rs {
		p := &r.p
		p.Headers = s.open("providers", p.ID, "headers.", r.headers)
		out[i], byID[p.ID], ids[i] = p, p, p.ID
	}
	if len(rs) == 0 {
		return out, nil
	}
	creds, err := s.loadCredentials(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range creds {
		p := byID[c.providerID]
		p.Credentials = append(p.Credentials, s.openCredential(c))
	}
	return out, nil
}

type credentialRow struct {
	providerID string
	c          switchyard.Credential
	secrets    map[string]sealedField
}

func (s *store) loadCredentials(ctx context.Context, providerIDs []any) ([]credentialRow, error) {
	q := `SELECT provider_id, id, name, method, config, secrets, weight, status, models FROM provider_credentials
		WHERE provider_id IN (?` + strings.Repeat(", ?", len(providerIDs)-1) + `) ORDER BY provider_id, position`
	rows, err := s.query(ctx, q, providerIDs...)
	if err != nil {
		return nil, fmt.Errorf("load credentials: %w", err)
	}
	var out []credentialRow
	for rows.Next() {
		var r credentialRow
		if err := rows.Scan(&r.providerID, &r.c.ID, &r.c.Name, &r.c.Method, jsonCol{&r.c.Config}, jsonCol{&r.secrets},
			&r.c.Weight, &r.c.Status, jsonCol{&r.c.Models}); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	return out, closeRows(rows)
}

func (s *store) openCredential(r credentialRow) switchyard.Credential {
	c := r.c
	c.Secrets = s.open("provider_credentials", c.ID, "", r.secrets)
	return c
}

// saveCredentials replaces the provider's credentials with cs: rows with a
// known ID are updated (a set secret without plaintext keeps its stored
// ciphertext), the others inserted, and missing ones deleted. It sets the
// IDs of new credentials in cs.
func (s *store) saveCredentials(ctx context.Context, providerID string, cs []switchyard.Credential, now any) error {
	existing := map[string]map[string]sealedField{}
	names := map[string]string{}
	rows, err := s.loadCredentials(ctx, []any{providerID})
	if err != nil {
		return err
	}
	for _, r := range rows {
		existing[r.c.ID], names[r.c.ID] = r.secrets, r.c.Name
	}
	// Remove the dropped credentials first, and park renamed ones under
	// their id, so that a new credential may take a dropped one's name and
	// two may swap names without tripping the unique (provider, name).
	sent := map[string]bool{}
	renamed := false
	for _, c := range cs {
		if old, ok := names[c.ID]; ok {
			sent[c.ID] = true
			renamed = renamed || old != c.Name
		}
	}
	for id := range existing {
		if !sent[id] {
			if _, err := s.exec(ctx, `DELETE FROM provider_credentials WHERE id = ?`, id); err != nil {
				return err
			}
			delete(existing, id)
		}
	}
	if renamed {
		for id := range existing {
			if _, err := s.exec(ctx, `UPDATE provider_credentials SET name = ? WHERE id = ?`, "~"+id, id); err != nil {
				return err
			}
		}
	}
	for i := range cs {
		c := &cs[i]
		old, known := existing[c.ID]
		if c.ID == "" {
			c.ID = newID()
		}
		sealed, err := s.seal("provider_credentials", c.ID, "", c.Secrets, old)
		if err != nil {
			var e *switchyard.Error
			if ok := asError(err, &e); ok && len(e.Fields) > 0 {
				for j := range e.Fields {
					e.Fields[j].Field = fmt.Sprintf("credentials[%d].secrets.%s", i, e.Fields[j].Field)
				}
			}
			return err
		}
		config, err := jsonArg(c.Config, "{}")
		if err != nil {
			return err
		}
		sec, err := jsonArg(sealed, "{}")
		if err != nil {
			return err
		}
		models, err := jsonArg(c.Models, "[]")
		if err != nil {
			return err
		}
		weight := c.Weight
		if weight == 0 {
			weight = 1
		}
		status := c.Status
		if status == "" {
			status = switchyard.CredentialActive
		}
		if known {
			_, err = s.exec(ctx, `UPDATE provider_credentials SET position = ?, name = ?, method = ?, config = ?, secrets = ?,
				weight = ?, status = ?, models = ?, updated_at = ? WHERE id = ? AND provider_id = ?`,
				i, c.Name, string(c.Method), config, sec, weight, string(status), models, now, c.ID, providerID)
		} else {
			_, err = s.exec(ctx, `INSERT INTO provider_credentials (id, provider_id, position, name, method, config, secrets,
				weight, status, models, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c.ID, providerID, i, c.Name, string(c.Method), config, sec, weight, string(status), models, now, now)
		}
		if err != nil {
			return err
		}
		c.Weight, c.Status = weight, status
	}
	return nil
}

// UpdateProvider saves every field of p and its credentials, if p.Version
// is still current.
func (s *store) UpdateProvider(ctx context.Context, p *switchyard.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		var oldHeaders map[string]sealedField
		var system bool
		var systemType string
		err := t.queryRow(ctx, `SELECT headers, system, system_type FROM providers WHERE id = ?`, p.ID).Scan(jsonCol{&oldHeaders}, &system, &systemType)
		if isNoRows(err) {
			return notFound("provider", p.ID)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if system && (!p.System || p.SystemType != systemType) {
			return &switchyard.Error{Code: switchyard.EFORBIDDEN, Message: "a system provider stays a system provider of its type"}
		}
		headers, err := t.seal("providers", p.ID, "headers.", p.Headers, oldHeaders)
		if err != nil {
			return err
		}
		args, err := providerArgs(p, headers)
		if err != nil {
			return err
		}
		now := t.nowUTC()
		res, err := t.exec(ctx, `UPDATE providers SET name = ?, slug = ?, protocol = ?, base_url = ?, template = ?, params = ?,
			system_type = ?, system = ?, enabled = ?, headers = ?, settings = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, append(args, t.ts(now), p.ID, p.Version)...)
		if err != nil {
			return err
		}
		if err := t.checkVersioned(ctx, res, "providers", "provider", p.ID, p.Version); err != nil {
			return err
		}
		creds := cloneCredentials(p.Credentials)
		if err := t.saveCredentials(ctx, p.ID, creds, t.ts(now)); err != nil {
			return err
		}
		p.Version++
		p.UpdatedAt, p.Credentials = now, creds
		return nil
	})
}

// DeleteProvider deletes a provider and, by cascade, its models and
// credentials.
func (s *store) DeleteProvider(ctx context.Context, id string, version int64) error {
	return s.tx(ctx, func(t *store) error {
		var system bool
		err := t.queryRow(ctx, `SELECT system FROM providers WHERE id = ?`, id).Scan(&system)
		if isNoRows(err) {
			return notFound("provider", id)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if system {
			return &switchyard.Error{Code: switchyard.EFORBIDDEN, Message: "system providers cannot be deleted; disable it instead"}
		}
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM connections WHERE provider_id = ?`, id).Scan(&n); err != nil {
			return t.db.dialect.classify(err)
		}
		if n > 0 {
			return &switchyard.Error{Code: switchyard.ECONFLICT,
				Message: fmt.Sprintf("provider %q is used by %d connection(s); move or delete them first, or disable the provider", id, n)}
		}
		return t.deleteVersioned(ctx, "providers", "provider", id, version)
	})
}

// SetProviderTest stores the latest connectivity test.
func (s *store) SetProviderTest(ctx context.Context, id string, t *switchyard.ProviderTest) error {
	v, err := nullJSONArg(t)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE providers SET last_test = ? WHERE id = ?`, v, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("provider", id)
	}
	return nil
}

// SetProviderStatus records a provider's health status without changing
// its version.
func (s *store) SetProviderStatus(ctx context.Context, id string, status switchyard.ProviderStatus) error {
	switch status {
	case switchyard.StatusUnknown, switchyard.StatusHealthy, switchyard.StatusDegraded, switchyard.StatusDown:
	default:
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "status must be unknown, healthy, degraded or down",
			Fields: []switchyard.FieldError{{Field: "status", Code: "invalid_enum", Message: "must be unknown, healthy, degraded or down"}}}
	}
	now := s.ts(s.nowUTC())
	res, err := s.exec(ctx, `UPDATE providers SET health_status = ?, status_changed_at = ? WHERE id = ? AND health_status <> ?`,
		string(status), now, id, string(status))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := s.queryRow(ctx, `SELECT 1 FROM providers WHERE id = ?`, id).Scan(&one); isNoRows(err) {
			return notFound("provider", id)
		}
	}
	return nil
}
