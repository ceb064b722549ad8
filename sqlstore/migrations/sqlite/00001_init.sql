-- Switchyard schema, SQLite dialect. Times are UTC text in a fixed-width
-- RFC 3339 form so that text order is time order. JSON is stored as text.

-- +goose Up
CREATE TABLE encryption_keys (
    id            TEXT PRIMARY KEY,
    wrapped       TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX encryption_keys_one_active ON encryption_keys (active) WHERE active = 1;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL CONSTRAINT users_username_key UNIQUE,
    email         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    last_login_at TEXT,
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    prefix       TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE provider_templates (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL CONSTRAINT provider_templates_slug_key UNIQUE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    protocol        TEXT NOT NULL CHECK (protocol IN ('openai', 'openai_compatible', 'azure_openai', 'anthropic', 'bedrock', 'gemini', 'vertex', 'ollama')),
    base_url        TEXT NOT NULL,
    auth_method     TEXT NOT NULL CHECK (auth_method IN ('api_key', 'bearer', 'oauth2_client_credentials', 'aws_sigv4', 'gcp_service_account', 'azure_ad', 'none')),
    auth_config     TEXT NOT NULL DEFAULT '{}',
    parameters      TEXT NOT NULL DEFAULT '{}',
    headers         TEXT NOT NULL DEFAULT '{}',
    settings        TEXT NOT NULL DEFAULT '{}',
    models          TEXT NOT NULL DEFAULT '[]',
    docs_url        TEXT NOT NULL DEFAULT '',
    env_vars        TEXT NOT NULL DEFAULT '[]',
    system_type     TEXT NOT NULL DEFAULT '',
    system          INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    catalog_version INTEGER NOT NULL DEFAULT 0 CHECK (catalog_version >= 0),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE providers (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    slug              TEXT NOT NULL CONSTRAINT providers_slug_key UNIQUE,
    protocol          TEXT NOT NULL CHECK (protocol IN ('openai', 'openai_compatible', 'azure_openai', 'anthropic', 'bedrock', 'gemini', 'vertex', 'ollama')),
    base_url          TEXT NOT NULL,
    template          TEXT NOT NULL DEFAULT '',
    params            TEXT NOT NULL DEFAULT '{}',
    system_type       TEXT NOT NULL DEFAULT '',
    system            INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    headers           TEXT NOT NULL DEFAULT '{}',
    settings          TEXT NOT NULL DEFAULT '{}',
    health_status     TEXT NOT NULL DEFAULT 'unknown' CHECK (health_status IN ('unknown', 'healthy', 'degraded', 'down', 'disabled')),
    status_changed_at TEXT,
    version           INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CHECK (system = 0 OR system_type <> '')
);
CREATE UNIQUE INDEX providers_system_type_key ON providers (system_type) WHERE system_type <> '';
CREATE INDEX providers_protocol ON providers (protocol);

CREATE TABLE provider_credentials (
    id          TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL DEFAULT 0,
    name        TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('api_key', 'bearer', 'oauth2_client_credentials', 'aws_sigv4', 'gcp_service_account', 'azure_ad', 'none')),
    config      TEXT NOT NULL DEFAULT '{}',
    secrets     TEXT NOT NULL DEFAULT '{}',
    weight      INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'failing')),
    models      TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT provider_credentials_provider_id_name_key UNIQUE (provider_id, name)
);

CREATE TABLE models (
    id                   TEXT PRIMARY KEY,
    provider_id          TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    upstream_id          TEXT NOT NULL,
    display_name         TEXT NOT NULL DEFAULT '',
    aliases              TEXT NOT NULL DEFAULT '[]',
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    status               TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'available', 'unavailable', 'deprecated')),
    capabilities         TEXT NOT NULL DEFAULT '{}',
    sources              TEXT NOT NULL DEFAULT '{}',
    input_per_mtok       REAL NOT NULL DEFAULT 0 CHECK (input_per_mtok >= 0),
    output_per_mtok      REAL NOT NULL DEFAULT 0 CHECK (output_per_mtok >= 0),
    cache_read_per_mtok  REAL NOT NULL DEFAULT 0 CHECK (cache_read_per_mtok >= 0),
    cache_write_per_mtok REAL NOT NULL DEFAULT 0 CHECK (cache_write_per_mtok >= 0),
    last_test            TEXT,
    last_benchmark       TEXT,
    version              INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CONSTRAINT models_provider_id_upstream_id_key UNIQUE (provider_id, upstream_id)
);
CREATE INDEX models_upstream_id ON models (upstream_id);

CREATE TABLE connections (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    provider_id    TEXT REFERENCES providers (id) ON DELETE RESTRICT,
    provider_type  TEXT NOT NULL DEFAULT '',
    models         TEXT NOT NULL DEFAULT '[]',
    key_hash       TEXT NOT NULL CONSTRAINT connections_key_hash_key UNIQUE,
    key_prefix     TEXT NOT NULL,
    credential     TEXT,
    rate_limit_rpm INTEGER NOT NULL DEFAULT 0 CHECK (rate_limit_rpm >= 0),
    budget_usd     REAL NOT NULL DEFAULT 0 CHECK (budget_usd >= 0),
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    last_used_at   TEXT,
    version        INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CONSTRAINT connections_owner_id_name_key UNIQUE (owner_id, name),
    CHECK (provider_id IS NULL OR provider_type = '')
);
CREATE INDEX connections_provider_id ON connections (provider_id);

CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_id      TEXT NOT NULL DEFAULT '',
    actor_name    TEXT NOT NULL DEFAULT '',
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL DEFAULT '',
    before        TEXT,
    after         TEXT,
    remote_addr   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE connections;
DROP TABLE models;
DROP TABLE provider_credentials;
DROP TABLE providers;
DROP TABLE provider_templates;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE encryption_keys;
