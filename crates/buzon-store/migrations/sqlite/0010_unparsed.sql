-- Every part of a delivery has an outcome: stored, a known event, or unrecognized. An event
-- with unrecognized parts is kept as 'unparsed' (its other parts stored), with each part's
-- path and reason in `unparsed` (JSON), and the channel it was for; it is replayable. SQLite
-- cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE inbound_events_next (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL CHECK (source IN ('facebook', 'whatsapp', 'x')),
    channel_id      BIGINT  REFERENCES channels (id),
    origin          TEXT    NOT NULL DEFAULT 'webhook',
    dedup_key       TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    received_at     BIGINT  NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'done', 'failed', 'unparsed')),
    processed_at    BIGINT,
    error           TEXT,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     BIGINT,
    unparsed        TEXT,
    UNIQUE (source, dedup_key)
);
INSERT INTO inbound_events_next (id, source, channel_id, origin, dedup_key, body, received_at,
    state, processed_at, error, attempts, lease_owner, lease_until)
SELECT id, source, channel_id, origin, dedup_key, body, received_at, state, processed_at,
    error, attempts, lease_owner, lease_until FROM inbound_events;
DROP TABLE inbound_events;
ALTER TABLE inbound_events_next RENAME TO inbound_events;
CREATE INDEX inbound_events_pending ON inbound_events (state, id);
CREATE INDEX inbound_events_unparsed ON inbound_events (channel_id, id) WHERE state = 'unparsed';

-- The raw JSON of a part whose message was stored with a placeholder for what could not be
-- shown (an attachment of an unknown kind, an odd field).
ALTER TABLE messages ADD COLUMN raw_part TEXT;
