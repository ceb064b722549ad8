-- +goose Up
ALTER TABLE providers ADD COLUMN last_test JSONB;

-- +goose Down
ALTER TABLE providers DROP COLUMN last_test;
