-- Out of hours: the team's settings edited in the UI (business hours; config is the default
-- until an admin saves them), each channel's own hours and auto-reply, the language detected
-- in every inbound text, and the durable list of new customer messages the rules (auto-reply,
-- incidents, alerts) have yet to look at, written in the same transaction as the messages.

CREATE TABLE team_settings (
    name            TEXT    PRIMARY KEY,
    value           TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL
);

ALTER TABLE channels ADD COLUMN business_hours TEXT;
ALTER TABLE channels ADD COLUMN auto_reply TEXT;

ALTER TABLE messages ADD COLUMN language TEXT;
-- The language of the conversation's newest customer message that had one: the inbox filter.
ALTER TABLE conversations ADD COLUMN language TEXT;
CREATE INDEX conversations_language ON conversations (language, last_activity_at DESC, id DESC);

CREATE TABLE rule_checks (
    message_id      BIGINT  PRIMARY KEY REFERENCES messages (id),
    created_at      BIGINT  NOT NULL
);
