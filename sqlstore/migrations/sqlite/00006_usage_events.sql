-- One row per gateway request, written in batches by analytics.Recorder and
-- never changed. No foreign keys: the history outlives the providers,
-- models and connections it names. Indexed for time ranges, overall and per
-- provider, connection and model; (at, id) is also the order of a listing.

-- +goose Up
CREATE TABLE usage_events (
    id                  TEXT PRIMARY KEY,
    at                  TEXT NOT NULL,
    request_id          TEXT NOT NULL DEFAULT '',
    connection_id       TEXT NOT NULL DEFAULT '',
    user_id             TEXT NOT NULL DEFAULT '',
    provider_id         TEXT NOT NULL DEFAULT '',
    model_id            TEXT NOT NULL DEFAULT '',
    model               TEXT NOT NULL DEFAULT '',
    upstream_model      TEXT NOT NULL DEFAULT '',
    stream              INTEGER NOT NULL DEFAULT 0 CHECK (stream IN (0, 1)),
    status              TEXT NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
    error_class         TEXT NOT NULL DEFAULT '',
    http_status         INTEGER NOT NULL DEFAULT 0,
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms          INTEGER NOT NULL DEFAULT 0,
    ttft_ms             INTEGER NOT NULL DEFAULT 0,
    cost_usd            REAL NOT NULL DEFAULT 0,
    attempts            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX usage_events_at ON usage_events (at, id);
CREATE INDEX usage_events_provider_at ON usage_events (provider_id, at);
CREATE INDEX usage_events_connection_at ON usage_events (connection_id, at);
CREATE INDEX usage_events_model_at ON usage_events (model_id, at);

-- +goose Down
DROP TABLE usage_events;
