-- Benchmark history: one row per finished run of a model. The result is the
-- whole switchyard.BenchmarkResult as JSON; the columns beside it are what
-- lists filter and sort on.

-- +goose Up
CREATE TABLE benchmarks (
    id       TEXT PRIMARY KEY,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('completed', 'cancelled')),
    result   TEXT NOT NULL
);
CREATE INDEX benchmarks_model_id ON benchmarks (model_id, id);

-- +goose Down
DROP TABLE benchmarks;
