-- Users, API tokens, the audit log and channels.
-- Times are BIGINT milliseconds since the Unix epoch (UTC); flags are BIGINT 0/1, so that
-- the same queries and decoders serve SQLite and PostgreSQL.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
    password_hash   TEXT    NOT NULL,
    active          BIGINT  NOT NULL DEFAULT 1,
    created_at      BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
    user_id         BIGINT  REFERENCES users (id),
    token_hash      TEXT    NOT NULL UNIQUE,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              BIGINT  NOT NULL,
    actor           TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    detail          TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);

-- The audit log is append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('facebook', 'whatsapp', 'x')),
    name            TEXT    NOT NULL,
    platform_id     TEXT    NOT NULL,
    -- AES-256-GCM ciphertext of the credentials JSON: never clear text.
    credentials     BLOB    NOT NULL,
    health          TEXT    NOT NULL DEFAULT 'unknown',
    health_reason   TEXT,
    cursor          TEXT,
    last_success_at BIGINT,
    created_at      BIGINT  NOT NULL,
    UNIQUE (kind, platform_id)
);

-- One poller per channel holds the lease; a node that dies loses it when it expires.
CREATE TABLE channel_leases (
    channel_id      BIGINT  PRIMARY KEY REFERENCES channels (id),
    owner           TEXT    NOT NULL,
    lease_until     BIGINT  NOT NULL
);
