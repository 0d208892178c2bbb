-- People, contacts, conversations and messages, with full-text search.

CREATE TABLE persons (
    id              INTEGER PRIMARY KEY,
    name            TEXT,
    created_at      BIGINT  NOT NULL
);

CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    channel_id      BIGINT  NOT NULL REFERENCES channels (id),
    person_id       BIGINT  REFERENCES persons (id),
    platform_id     TEXT    NOT NULL,
    name            TEXT,
    handle          TEXT,
    created_at      BIGINT  NOT NULL,
    UNIQUE (channel_id, platform_id)
);
CREATE INDEX contacts_person ON contacts (person_id);

CREATE TABLE contact_labels (
    contact_id      BIGINT  NOT NULL REFERENCES contacts (id),
    label           TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (contact_id, label)
);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    channel_id        BIGINT  NOT NULL REFERENCES channels (id),
    contact_id        BIGINT  NOT NULL REFERENCES contacts (id),
    thread_key        TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    assignee_id       BIGINT  REFERENCES users (id),
    priority          BIGINT  NOT NULL DEFAULT 0,
    waiting_since     BIGINT,
    last_activity_at  BIGINT  NOT NULL,
    last_inbound_at   BIGINT,
    snoozed_until     BIGINT,
    last_message_text TEXT,
    created_at        BIGINT  NOT NULL,
    UNIQUE (channel_id, thread_key)
);
-- The queue's orders: priority (VIPs and influencers) then newest activity; longest waiting.
CREATE INDEX conversations_queue ON conversations (status, priority DESC, last_activity_at DESC, id DESC);
CREATE INDEX conversations_activity ON conversations (priority DESC, last_activity_at DESC, id DESC);
CREATE INDEX conversations_waiting ON conversations (status, waiting_since, id);
CREATE INDEX conversations_channel ON conversations (channel_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact ON conversations (contact_id);

CREATE TABLE conversation_labels (
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    label           TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (conversation_id, label)
);
CREATE INDEX conversation_labels_label ON conversation_labels (label, conversation_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    channel_id      BIGINT  NOT NULL REFERENCES channels (id),
    direction       TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- NULL until an outbound message is sent; unique per channel once known.
    platform_id     TEXT,
    contact_id      BIGINT  REFERENCES contacts (id),
    user_id         BIGINT  REFERENCES users (id),
    text            TEXT    NOT NULL,
    attachments     TEXT    NOT NULL DEFAULT '[]',
    created_at      BIGINT  NOT NULL,
    received_at     BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    error           TEXT,
    automatic       BIGINT  NOT NULL DEFAULT 0,
    deleted         BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (channel_id, platform_id)
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
