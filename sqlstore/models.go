package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchyard/switchyard"
)

const modelCols = `id, provider_id, upstream_id, display_name, aliases, enabled, status, capabilities, sources,
	input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok, last_test, last_benchmark,
	version, created_at, updated_at`

func scanModel(sc interface{ Scan(...any) error }) (*switchyard.Model, error) {
	var m switchyard.Model
	err := sc.Scan(&m.ID, &m.ProviderID, &m.UpstreamID, &m.DisplayName, jsonCol{&m.Aliases}, &m.Enabled, &m.Status,
		jsonCol{&m.Capabilities}, jsonCol{&m.Sources}, &m.Pricing.InputPerMTok, &m.Pricing.OutputPerMTok,
		&m.Pricing.CacheReadPerMTok, &m.Pricing.CacheWritePerMTok, jsonCol{&m.LastTest}, jsonCol{&m.LastBenchmark},
		&m.Version, dbTime{&m.CreatedAt}, dbTime{&m.UpdatedAt})
	return &m, err
}

// modelArgs returns the values of every column after id and provider_id up
// to last_benchmark, in modelCols order.
func modelArgs(m *switchyard.Model) ([]any, error) {
	aliases, err := jsonArg(m.Aliases, "[]")
	if err != nil {
		return nil, err
	}
	caps, err := jsonArg(m.Capabilities, "{}")
	if err != nil {
		return nil, err
	}
	sources, err := jsonArg(m.Sources, "{}")
	if err != nil {
		return nil, err
	}
	lastTest, err := nullJSONArg(m.LastTest)
	if err != nil {
		return nil, err
	}
	lastBench, err := nullJSONArg(m.LastBenchmark)
	if err != nil {
		return nil, err
	}
	status := m.Status
	if status == "" {
		status = switchyard.ModelUnknown
	}
	return []any{m.UpstreamID, m.DisplayName, aliases, m.Enabled, string(status), caps, sources,
		m.Pricing.InputPerMTok, m.Pricing.OutputPerMTok, m.Pricing.CacheReadPerMTok, m.Pricing.CacheWritePerMTok,
		lastTest, lastBench}, nil
}

const insertModel = `INSERT INTO models (` + modelCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`

// CreateModel stores a new model of an existing provider.
func (s *store) CreateModel(ctx context.Context, m *switchyard.Model) error {
	return s.CreateModels(ctx, []*switchyard.Model{m})
}

// CreateModels stores many models in one transaction: all or none.
func (s *store) CreateModels(ctx context.Context, ms []*switchyard.Model) error {
	var pr switchyard.Problems
	for i, m := range ms {
		prefix := ""
		if len(ms) > 1 {
			prefix = fmt.Sprintf("[%d]", i)
		}
		if m.ProviderID == "" {
			pr.Add(prefixed(prefix, "provider_id"), "required", "a model belongs to a provider")
		}
		pr.Merge(prefix, m.Validate())
	}
	if err := pr.Err("model"); err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		if err := t.requireProviders(ctx, ms); err != nil {
			return err
		}
		stmt, err := t.prepare(ctx, insertModel)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := t.nowUTC()
		for _, m := range ms {
			args, err := modelArgs(m)
			if err != nil {
				return err
			}
			id := m.ID
			if id == "" {
				id = newID()
			}
			if _, err := stmt.ExecContext(ctx, append(append([]any{id, m.ProviderID}, args...), t.ts(now), t.ts(now))...); err != nil {
				return t.db.dialect.classify(err)
			}
			m.ID, m.Version, m.CreatedAt, m.UpdatedAt = id, 1, now, now
			if m.Status == "" {
				m.Status = switchyard.ModelUnknown
			}
		}
		return nil
	})
}

func prefixed(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// requireProviders reports a model whose provider does not exist as
// ENOTFOUND naming the provider, rather than a bare foreign key failure.
func (s *store) requireProviders(ctx context.Context, ms []*switchyard.Model) error {
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.ProviderID] {
			continue
		}
		seen[m.ProviderID] = true
		var one int
		err := s.queryRow(ctx, `SELECT 1 FROM providers WHERE id = ?`, m.ProviderID).Scan(&one)
		if isNoRows(err) {
			return notFound("provider", m.ProviderID)
		}
		if err != nil {
			return s.db.dialect.classify(err)
		}
	}
	return nil
}

func (s *store) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	p, ok := s.q.(interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	})
	if !ok {
		return nil, fmt.Errorf("prepare: unsupported querier %T", s.q)
	}
	stmt, err := p.PrepareContext(ctx, s.db.dialect.rebind(q))
	if err != nil {
		return nil, s.db.dialect.classify(err)
	}
	return stmt, nil
}

// GetModel returns one model.
func (s *store) GetModel(ctx context.Context, id string) (*switchyard.Model, error) {
	m, err := scanModel(s.queryRow(ctx, `SELECT `+modelCols+` FROM models WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, notFound("model", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get model: %w", s.db.dialect.classify(err))
	}
	return m, nil
}

// ListModels returns one page of models in creation order.
func (s *store) ListModels(ctx context.Context, f switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error) {
	var w where
	if f.ProviderID != "" {
		w.add("provider_id = ?", f.ProviderID)
	}
	if f.Enabled != nil {
		w.add("enabled = ?", *f.Enabled)
	}
	if f.ProviderEnabled != nil {
		w.add("provider_id IN (SELECT id FROM providers WHERE enabled = ?)", *f.ProviderEnabled)
	}
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.Search != "" {
		op := s.db.dialect.like()
		w.add("(upstream_id "+op+" ? ESCAPE '\\' OR display_name "+op+" ? ESCAPE '\\')", escapeLike(f.Search), escapeLike(f.Search))
	}
	tail, limit, err := paginate(&w, f.ListOptions, false)
	if err != nil {
		return switchyard.Page[*switchyard.Model]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT `+modelCols+` FROM models`+w.String()+tail, w.args, scanModel)
	if err != nil {
		return switchyard.Page[*switchyard.Model]{}, fmt.Errorf("list models: %w", err)
	}
	return finishPage(items, limit, func(m *switchyard.Model) string { return m.ID }), nil
}

// queryAll runs a query and scans every row.
func queryAll[T any](ctx context.Context, s *store, q string, args []any, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	return out, closeRows(rows)
}

// UpdateModel saves every field of m if m.Version is still current. The
// provider of a model does not change.
func (s *store) UpdateModel(ctx context.Context, m *switchyard.Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	args, err := modelArgs(m)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	res, err := s.exec(ctx, `UPDATE models SET upstream_id = ?, display_name = ?, aliases = ?, enabled = ?, status = ?,
		capabilities = ?, sources = ?, input_per_mtok = ?, output_per_mtok = ?, cache_read_per_mtok = ?,
		cache_write_per_mtok = ?, last_test = ?, last_benchmark = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, append(args, s.ts(now), m.ID, m.Version)...)
	if err != nil {
		return err
	}
	if err := s.checkVersioned(ctx, res, "models", "model", m.ID, m.Version); err != nil {
		return err
	}
	m.Version++
	m.UpdatedAt = now
	return nil
}

// DeleteModel deletes one model.
func (s *store) DeleteModel(ctx context.Context, id string, version int64) error {
	return s.deleteVersioned(ctx, "models", "model", id, version)
}
