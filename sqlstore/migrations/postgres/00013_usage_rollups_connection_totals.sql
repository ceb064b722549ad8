-- Nothing to do on PostgreSQL: SQLite gets an index of the connections'
-- totals here, but PostgreSQL reads them through usage_rollups_provider
-- quickly enough (an hourly month of 40 connections' totals, 28,800 rows, in
-- about 25 ms; see docs/benchmarks.md). The migration keeps both dialects at
-- the same schema version.

-- +goose Up

-- +goose Down
