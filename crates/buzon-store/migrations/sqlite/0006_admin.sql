-- Admin: OAuth sign-ins in progress, and what the channel pages show about rate limits.

-- One row per OAuth sign-in in progress: created when an admin is sent to the platform's
-- consent page (keyed by the SHA-256 of its `state`), consumed by the callback; for Facebook
-- it then holds the Pages granted until the admin picks which to connect (keyed by the
-- SHA-256 of a new one-time token). `sealed` is AES-256-GCM ciphertext (the PKCE verifier,
-- or the granted Pages with their tokens): never clear text.
CREATE TABLE oauth_flows (
    id              INTEGER PRIMARY KEY,
    token_hash      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('facebook', 'whatsapp', 'x')),
    stage           TEXT    NOT NULL CHECK (stage IN ('authorize', 'pick')),
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    sealed          BLOB   NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

-- Until when the platform asked us to hold back (rate limits), for the channel's health.
ALTER TABLE channels ADD COLUMN rate_limited_until BIGINT;
-- When the health last turned unhealthy.
ALTER TABLE channels ADD COLUMN last_error_at BIGINT;
