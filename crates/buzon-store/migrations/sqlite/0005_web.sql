-- Web sessions, failed logins (for throttling), internal notes, reply templates, and
-- per-channel settings.

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: the cookie itself is never stored.
    id_hash         TEXT    PRIMARY KEY,
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    csrf_token      TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL,
    ip              TEXT    NOT NULL,
    at              BIGINT  NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    user_id         BIGINT  REFERENCES users (id),
    text            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, created_at);

CREATE TABLE reply_templates (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('facebook', 'whatsapp', 'x')),
    name            TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    UNIQUE (kind, name, language)
);

ALTER TABLE channels ADD COLUMN auto_hide_flagged BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN published BIGINT NOT NULL DEFAULT 0;
-- Bumped whenever the credentials change, so pollers blocked on a bad token resume at once.
ALTER TABLE channels ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 1;
