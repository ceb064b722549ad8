package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

const legacyCols = `id, created_at, actor_id, sources, report, changes, rolled_back_at`

// CreateLegacyMigration records a migration from a hardcoded configuration.
func (s *store) CreateLegacyMigration(ctx context.Context, m *switchyard.LegacyMigration) error {
	if len(m.Sources) == 0 || !json.Valid(m.Report) || !json.Valid(m.Changes) {
		return switchyard.Errorf(switchyard.EINVALID, "a migration record needs its sources, a report and its changes as JSON")
	}
	if m.ID == "" {
		m.ID = newID()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.nowUTC()
	}
	sources, err := json.Marshal(m.Sources)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO legacy_migrations (`+legacyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.ID, s.ts(m.CreatedAt), m.ActorID, string(sources), string(m.Report), string(m.Changes), s.tsp(m.RolledBackAt))
	return err
}

func scanLegacy(sc interface{ Scan(...any) error }) (*switchyard.LegacyMigration, error) {
	var m switchyard.LegacyMigration
	var sources, report, changes string
	err := sc.Scan(&m.ID, dbTime{&m.CreatedAt}, &m.ActorID, &sources, &report, &changes, nullTime{&m.RolledBackAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(sources), &m.Sources); err != nil {
		return nil, fmt.Errorf("migration %s: sources: %w", m.ID, err)
	}
	m.Report, m.Changes = json.RawMessage(report), json.RawMessage(changes)
	return &m, nil
}

// GetLegacyMigration returns one migration record.
func (s *store) GetLegacyMigration(ctx context.Context, id string) (*switchyard.LegacyMigration, error) {
	m, err := scanLegacy(s.queryRow(ctx, `SELECT `+legacyCols+` FROM legacy_migrations WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no migration %q; switchyard legacy status lists them", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get migration: %w", s.db.dialect.classify(err))
	}
	return m, nil
}

// ListLegacyMigrations returns one page of migrations, newest first.
func (s *store) ListLegacyMigrations(ctx context.Context, opts switchyard.ListOptions) (switchyard.Page[*switchyard.LegacyMigration], error) {
	var w where
	tail, limit, err := paginate(&w, opts, true)
	if err != nil {
		return switchyard.Page[*switchyard.LegacyMigration]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT `+legacyCols+` FROM legacy_migrations`+w.String()+tail, w.args, scanLegacy)
	if err != nil {
		return switchyard.Page[*switchyard.LegacyMigration]{}, fmt.Errorf("list migrations: %w", err)
	}
	return finishPage(items, limit, func(m *switchyard.LegacyMigration) string { return m.ID }), nil
}

// MarkLegacyMigrationRolledBack notes that a migration was rolled back.
func (s *store) MarkLegacyMigrationRolledBack(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE legacy_migrations SET rolled_back_at = ? WHERE id = ? AND rolled_back_at IS NULL`, s.ts(at.UTC().Truncate(time.Microsecond)), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	if _, err := s.GetLegacyMigration(ctx, id); err != nil {
		return err
	}
	return switchyard.Errorf(switchyard.ECONFLICT, "migration %s is already rolled back", id)
}
