-- Health monitoring: every check result, and every change of a provider's
-- status with its reason. Both go with their provider; old rows are pruned
-- by the monitor (SWITCHYARD_HEALTH_RETENTION). Lists are newest first by
-- the time-ordered id.

-- +goose Up
CREATE TABLE health_checks (
    id          TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    model_id    TEXT NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL,
    ok          BOOLEAN NOT NULL,
    latency_ms  BIGINT NOT NULL DEFAULT 0,
    code        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX health_checks_provider_id ON health_checks (provider_id, id);
CREATE INDEX health_checks_at ON health_checks (at);

CREATE TABLE provider_status_changes (
    id          TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL CHECK (to_status IN ('unknown', 'healthy', 'degraded', 'down')),
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX provider_status_changes_provider_id ON provider_status_changes (provider_id, id);
CREATE INDEX provider_status_changes_at ON provider_status_changes (at);

-- +goose Down
DROP TABLE provider_status_changes;
DROP TABLE health_checks;
