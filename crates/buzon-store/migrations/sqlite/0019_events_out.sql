-- Events out: the webhooks admins register (URL, the events they want, a secret sealed like
-- every credential), and one delivery per subscription and event, written by triggers in the
-- transaction of the change itself (so an event is never lost nor invented), claimed with
-- leases and retried with backoff by the sender.

CREATE TABLE event_subscriptions (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL,
    -- The events, comma-separated and wrapped in commas: ",message.received,message.sent,".
    events          TEXT    NOT NULL,
    secret          BLOB    NOT NULL,
    active          BIGINT  NOT NULL DEFAULT 1,
    created_at      BIGINT  NOT NULL
);

CREATE TABLE event_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id BIGINT  NOT NULL,
    event           TEXT    NOT NULL,
    -- What it is about: a message id (message.*), a conversation status change id
    -- (conversation.status_changed), an escalation id (conversation.escalated), or 0 (test).
    subject_id      BIGINT  NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_at, id);
CREATE INDEX event_deliveries_subscription ON event_deliveries (subscription_id, id DESC);

CREATE TRIGGER events_out_message_received AFTER INSERT ON messages
WHEN new.direction = 'inbound'
BEGIN
    INSERT INTO event_deliveries (subscription_id, event, subject_id, next_attempt_at, created_at, updated_at)
    SELECT s.id, 'message.received', new.id, new.received_at, new.received_at, new.received_at
    FROM event_subscriptions s WHERE s.active = 1 AND s.events LIKE '%,message.received,%';
END;

CREATE TRIGGER events_out_message_sent AFTER UPDATE OF status ON messages
WHEN new.direction = 'outbound' AND new.status IN ('sent', 'delivered', 'read')
    AND old.status IN ('queued', 'unknown', 'failed')
BEGIN
    INSERT INTO event_deliveries (subscription_id, event, subject_id, next_attempt_at, created_at, updated_at)
    SELECT s.id, 'message.sent', new.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000,
           CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM event_subscriptions s WHERE s.active = 1 AND s.events LIKE '%,message.sent,%';
END;

CREATE TRIGGER events_out_status_changed AFTER INSERT ON conversation_status_changes
BEGIN
    INSERT INTO event_deliveries (subscription_id, event, subject_id, next_attempt_at, created_at, updated_at)
    SELECT s.id, 'conversation.status_changed', new.id, new.changed_at, new.changed_at, new.changed_at
    FROM event_subscriptions s WHERE s.active = 1 AND s.events LIKE '%,conversation.status_changed,%';
END;

CREATE TRIGGER events_out_escalated AFTER INSERT ON escalations
BEGIN
    INSERT INTO event_deliveries (subscription_id, event, subject_id, next_attempt_at, created_at, updated_at)
    SELECT s.id, 'conversation.escalated', new.id, new.escalated_at, new.escalated_at, new.escalated_at
    FROM event_subscriptions s WHERE s.active = 1 AND s.events LIKE '%,conversation.escalated,%';
END;
