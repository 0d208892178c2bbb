-- The inbound event log and the outbox: durable queues claimed with leases.

CREATE TABLE inbound_events (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL CHECK (source IN ('facebook', 'whatsapp', 'x')),
    channel_id      BIGINT  REFERENCES channels (id),
    -- 'webhook', or 'poll:<endpoint>' for a page a poller fetched.
    origin          TEXT    NOT NULL DEFAULT 'webhook',
    dedup_key       TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    received_at     BIGINT  NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    processed_at    BIGINT,
    error           TEXT,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     BIGINT,
    UNIQUE (source, dedup_key)
);
CREATE INDEX inbound_events_pending ON inbound_events (state, id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    -- The outbound message a reply sends, or the message a moderation acts on.
    message_id      BIGINT  NOT NULL REFERENCES messages (id),
    -- 'reply', or 'moderate' (hide or unhide on the platform).
    kind            TEXT    NOT NULL DEFAULT 'reply',
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    channel_id      BIGINT  NOT NULL REFERENCES channels (id),
    idempotency_key TEXT    NOT NULL UNIQUE,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_updated ON outbox (updated_at);
CREATE INDEX outbox_message ON outbox (message_id);
