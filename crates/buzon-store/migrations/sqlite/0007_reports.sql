-- Every change of a conversation's status, at buzon's time, for response-time metrics: a
-- resolution ends a response cycle, a reopen may start one, time in pending does not count.
CREATE TABLE conversation_status_changes (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    status          TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    -- Who changed it; NULL for buzon itself (a customer message reopening the conversation).
    user_id         BIGINT  REFERENCES users (id),
    changed_at      BIGINT  NOT NULL
);
CREATE INDEX conversation_status_changes_conversation
    ON conversation_status_changes (conversation_id, changed_at);
CREATE INDEX conversation_status_changes_time ON conversation_status_changes (changed_at);

-- Reports find the conversations with customer messages in a period by platform time.
CREATE INDEX messages_inbound_time ON messages (direction, created_at, channel_id, conversation_id);
-- Reports read every message of the conversations in scope from this index alone.
CREATE INDEX messages_report ON messages (conversation_id, direction, status, created_at, user_id, automatic);
