-- Health checks rolled up per minute, hour and day and provider (by the
-- analytics rollup job, which rewrites whole windows): how many checks ran,
-- how many succeeded, and a mergeable latency histogram of the successful
-- ones. No foreign key: the history outlives its provider until pruned.

-- +goose Up
CREATE TABLE health_rollups (
    resolution     TEXT NOT NULL CHECK (resolution IN ('minute', 'hour', 'day')),
    provider_id    TEXT NOT NULL,
    bucket         TEXT NOT NULL,
    checks         INTEGER NOT NULL DEFAULT 0,
    ok             INTEGER NOT NULL DEFAULT 0,
    latency_sum_ms INTEGER NOT NULL DEFAULT 0,
    latency        BLOB,
    PRIMARY KEY (resolution, provider_id, bucket)
) WITHOUT ROWID;
CREATE INDEX health_rollups_bucket ON health_rollups (resolution, bucket);

-- +goose Down
DROP TABLE health_rollups;
