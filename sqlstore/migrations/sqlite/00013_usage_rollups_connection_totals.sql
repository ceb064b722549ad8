-- The connections' totals (provider '*') in an index of their own that holds
-- every column: a report per connection or per user reads them in bucket
-- order without looking each row up in the table by its key, as it did
-- through usage_rollups_provider (an hourly month per connection over 3
-- million events: 181 ms of CPU before, 126 ms with it). ListRollups names
-- the kind with the literal '*', so that the planner sees the condition.

-- +goose Up
CREATE INDEX usage_rollups_connection_totals ON usage_rollups (resolution, bucket, connection_id, user_id,
    provider_id, model_id, requests, errors, cancelled, error_classes, input_tokens, output_tokens,
    cached_input_tokens, cost_usd, latency_sum_ms, latency, ttft_count, ttft_sum_ms, ttft)
    WHERE provider_id = '*';

-- +goose Down
DROP INDEX usage_rollups_connection_totals;
