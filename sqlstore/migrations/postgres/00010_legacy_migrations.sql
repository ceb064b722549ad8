-- One row per migration from a hardcoded configuration (legacy package):
-- its sources, the compatibility report, and every change it made with the
-- state before it (never a secret), so that it can be rolled back. The
-- documents are kept as written (TEXT, not JSONB) so they read back byte
-- for byte.

-- +goose Up
CREATE TABLE legacy_migrations (
    id             TEXT PRIMARY KEY,
    created_at     TIMESTAMPTZ NOT NULL,
    actor_id       TEXT NOT NULL DEFAULT '',
    sources        TEXT NOT NULL,
    report         TEXT NOT NULL,
    changes        TEXT NOT NULL,
    rolled_back_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE legacy_migrations;
