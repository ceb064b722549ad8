package control

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/legacy"
)

// serverSources keeps what the server may migrate: never its own
// environment, and no os.environ/ reference resolved.
func serverSources(src legacy.Sources) legacy.Sources {
	src.Env, src.Resolve = nil, nil
	return src
}

// LegacyPlan reports what a migration from hardcoded configurations would
// do, writing nothing (admins only).
func (s *Service) LegacyPlan(ctx context.Context, a *Actor, src legacy.Sources) (*legacy.Report, error) {
	if err := requireAdmin(a, "plan a migration"); err != nil {
		return nil, err
	}
	return legacy.Plan(ctx, s.store, serverSources(src))
}

// LegacyApply performs a migration in one transaction with its audit entry
// (admins only).
func (s *Service) LegacyApply(ctx context.Context, a *Actor, src legacy.Sources) (*switchyard.LegacyMigration, error) {
	if err := requireAdmin(a, "apply a migration"); err != nil {
		return nil, err
	}
	var rec *switchyard.LegacyMigration
	_, err := legacy.Apply(ctx, s.store, serverSources(src), legacy.Options{ActorID: a.userID(), Now: s.now,
		Applied: func(ctx context.Context, tx switchyard.Store, m *switchyard.LegacyMigration) error {
			rec = m
			return s.audit(ctx, tx, a, "legacy_migrate", "legacy_migration", m.ID, nil, map[string]any{"sources": m.Sources, "report": m.Report})
		}})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// LegacyRollback restores the state before a migration (admins only).
func (s *Service) LegacyRollback(ctx context.Context, a *Actor, id string, force bool) (*legacy.RollbackResult, error) {
	if err := requireAdmin(a, "roll back a migration"); err != nil {
		return nil, err
	}
	return legacy.Rollback(ctx, s.store, id, force, legacy.Options{ActorID: a.userID(), Now: s.now,
		RolledBack: func(ctx context.Context, tx switchyard.Store, r *legacy.RollbackResult) error {
			return s.audit(ctx, tx, a, "legacy_rollback", "legacy_migration", r.ID, nil, r)
		}})
}

// LegacyMigrations lists migrations, newest first (admins only).
func (s *Service) LegacyMigrations(ctx context.Context, a *Actor, opts switchyard.ListOptions) (switchyard.Page[*switchyard.LegacyMigration], error) {
	if err := requireAdmin(a, "list migrations"); err != nil {
		return switchyard.Page[*switchyard.LegacyMigration]{}, err
	}
	return s.store.ListLegacyMigrations(ctx, opts)
}

// LegacyMigration reads one migration (admins only).
func (s *Service) LegacyMigration(ctx context.Context, a *Actor, id string) (*switchyard.LegacyMigration, error) {
	if err := requireAdmin(a, "read migrations"); err != nil {
		return nil, err
	}
	return s.store.GetLegacyMigration(ctx, id)
}
