-- The configuration's change counter: every change that affects routing
-- (providers, credentials, models, connections) increments it in its own
-- transaction, so that replicas can tell they are behind.

-- +goose Up
CREATE TABLE change_version (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    changed_at TIMESTAMPTZ NOT NULL
);
INSERT INTO change_version (id, version, reason, changed_at) VALUES (1, 1, 'created', now());

-- +goose Down
DROP TABLE change_version;
