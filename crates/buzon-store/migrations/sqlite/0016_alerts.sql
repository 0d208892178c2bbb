-- Urgent alerts: the rules (their definition as the API's JSON without the webhook secret,
-- which is kept encrypted like every credential), and the deliveries, a durable queue claimed
-- with leases. A rule alerts at most once per conversation and destination.

CREATE TABLE alert_rules (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    definition      TEXT    NOT NULL,
    -- AES-256-GCM ciphertext of the outgoing webhook's secret, when it has one.
    webhook_secret  BLOB,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE alert_deliveries (
    id              INTEGER PRIMARY KEY,
    rule_id         BIGINT  NOT NULL,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    -- 'email' or 'webhook'.
    kind            TEXT    NOT NULL CHECK (kind IN ('email', 'webhook')),
    -- The e-mail address or the URL.
    destination     TEXT    NOT NULL,
    -- What to send: the alert as JSON.
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (rule_id, conversation_id, kind, destination)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at, id);
CREATE INDEX alert_deliveries_recent ON alert_deliveries (created_at DESC, id DESC);
