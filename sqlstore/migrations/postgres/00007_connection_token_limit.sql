-- +goose Up
ALTER TABLE connections ADD COLUMN token_limit_tpm INTEGER NOT NULL DEFAULT 0 CHECK (token_limit_tpm >= 0);

-- +goose Down
ALTER TABLE connections DROP COLUMN token_limit_tpm;
