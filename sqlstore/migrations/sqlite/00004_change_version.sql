-- The configuration's change counter: every change that affects routing
-- (providers, credentials, models, connections) increments it in its own
-- transaction, so that replicas can tell they are behind.

-- +goose Up
CREATE TABLE change_version (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL
);
INSERT INTO change_version (id, version, reason, changed_at) VALUES (1, 1, 'created', '1970-01-01T00:00:00.000000Z');

-- +goose Down
DROP TABLE change_version;
