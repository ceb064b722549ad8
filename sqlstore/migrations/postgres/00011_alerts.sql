-- Alerts: channels (their secrets sealed per field, like provider
-- secrets), rules (one built-in, present out of the box), alerts (at most
-- one open per rule and subject) and every delivery attempt.

-- +goose Up
CREATE TABLE alert_channels (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
    enabled    BOOLEAN NOT NULL,
    config     JSONB NOT NULL DEFAULT '{}',
    secrets    JSONB NOT NULL DEFAULT '{}',
    version    BIGINT NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_rules (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    enabled          BOOLEAN NOT NULL,
    builtin          BOOLEAN NOT NULL DEFAULT FALSE,
    provider_id      TEXT NOT NULL DEFAULT '',
    for_minutes      INTEGER NOT NULL DEFAULT 0,
    threshold        DOUBLE PRECISION NOT NULL DEFAULT 0,
    window_minutes   INTEGER NOT NULL DEFAULT 0,
    cooldown_minutes INTEGER NOT NULL DEFAULT 0,
    channel_ids      JSONB NOT NULL DEFAULT '[]',
    version          BIGINT NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

INSERT INTO alert_rules (id, name, kind, enabled, builtin, cooldown_minutes, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-00000000a1e7', 'Provider down', 'provider_down', TRUE, TRUE, 5,
        '2026-11-26T00:00:00.000000Z', '2026-11-26T00:00:00.000000Z');

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    rule_id     TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
    summary     TEXT NOT NULL DEFAULT '',
    opened_at   TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, subject) WHERE state = 'open';
CREATE INDEX alerts_rule_subject ON alerts (rule_id, subject, id);

CREATE TABLE alert_deliveries (
    id         TEXT PRIMARY KEY,
    alert_id   TEXT REFERENCES alerts (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL,
    event      TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    ok         BOOLEAN NOT NULL,
    status     INTEGER NOT NULL DEFAULT 0,
    error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_deliveries_alert_id ON alert_deliveries (alert_id, id);

-- +goose Down
DROP TABLE alert_deliveries;
DROP TABLE alerts;
DROP TABLE alert_rules;
DROP TABLE alert_channels;
