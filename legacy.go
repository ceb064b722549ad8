package switchyard

import (
	"context"
	"encoding/json"
	"time"
)

// LegacyMigration records one migration from a hardcoded configuration
// (old-style connections, environment variables, a LiteLLM config): where
// it came from, its compatibility report, and every change it made with the
// state before it, so that it can be rolled back. Secrets are never part of
// a record.
type LegacyMigration struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// ActorID is the user who applied it; empty from the command line.
	ActorID string `json:"actor_id"`
	// Sources names what was migrated: "connections", "env", "litellm".
	Sources []string `json:"sources"`
	// Report and Changes are the legacy package's own documents.
	Report  json.RawMessage `json:"report"`
	Changes json.RawMessage `json:"changes"`
	// RolledBackAt is set once the migration has been rolled back.
	RolledBackAt *time.Time `json:"rolled_back_at"`
}

// LegacyStore keeps the record of migrations from hardcoded configurations.
type LegacyStore interface {
	// CreateLegacyMigration sets ID (when empty) and CreatedAt (when zero).
	CreateLegacyMigration(ctx context.Context, m *LegacyMigration) error
	// GetLegacyMigration returns ENOTFOUND for an unknown id.
	GetLegacyMigration(ctx context.Context, id string) (*LegacyMigration, error)
	// ListLegacyMigrations lists migrations, newest first.
	ListLegacyMigrations(ctx context.Context, opts ListOptions) (Page[*LegacyMigration], error)
	// MarkLegacyMigrationRolledBack sets RolledBackAt; a migration already
	// rolled back returns ECONFLICT.
	MarkLegacyMigrationRolledBack(ctx context.Context, id string, at time.Time) error
}
