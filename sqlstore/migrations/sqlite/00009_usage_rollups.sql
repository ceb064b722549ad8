-- Usage rolled up per minute, hour and day, per provider, model, connection
-- and user: derived from usage_events by the analytics rollup job, which
-- rewrites whole time windows (so building one twice changes nothing).
-- latency and ttft are mergeable log-scale histograms (analytics.Histogram),
-- so that percentiles survive the rollup from minutes to hours to days.
-- No foreign keys: the history outlives what it names. WITHOUT ROWID keeps
-- the rows in key order, so a range of the key is read without lookups.

-- +goose Up
CREATE TABLE usage_rollups (
    resolution          TEXT NOT NULL CHECK (resolution IN ('minute', 'hour', 'day')),
    bucket              TEXT NOT NULL,
    provider_id         TEXT NOT NULL DEFAULT '',
    model_id            TEXT NOT NULL DEFAULT '',
    connection_id       TEXT NOT NULL DEFAULT '',
    user_id             TEXT NOT NULL DEFAULT '',
    requests            INTEGER NOT NULL DEFAULT 0,
    errors              INTEGER NOT NULL DEFAULT 0,
    cancelled           INTEGER NOT NULL DEFAULT 0,
    error_classes       TEXT NOT NULL DEFAULT '{}',
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd            REAL NOT NULL DEFAULT 0,
    latency_sum_ms      INTEGER NOT NULL DEFAULT 0,
    latency             BLOB,
    ttft_count          INTEGER NOT NULL DEFAULT 0,
    ttft_sum_ms         INTEGER NOT NULL DEFAULT 0,
    ttft                BLOB,
    -- Connection before bucket: the per-model totals (connection '*') and
    -- one connection's rows are each one range of the key.
    PRIMARY KEY (resolution, connection_id, bucket, provider_id, model_id, user_id)
) WITHOUT ROWID;
CREATE INDEX usage_rollups_bucket ON usage_rollups (resolution, bucket);
-- The connections' totals (provider '*') and one provider's rows.
CREATE INDEX usage_rollups_provider ON usage_rollups (resolution, provider_id, bucket);

-- How far the minute rollups have been built from raw events.
CREATE TABLE usage_rollup_state (
    name       TEXT PRIMARY KEY,
    done_until TEXT NOT NULL
);

-- +goose Down
DROP TABLE usage_rollup_state;
DROP TABLE usage_rollups;
