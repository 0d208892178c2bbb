-- Incident mode: an announced incident (keywords, a reply per language, a label) and the
-- conversations that joined it; and an index on arrival time for spike detection, which
-- counts the customer messages of the last minutes against the usual for that hour.

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    -- The keywords, the texts per language and the label, as JSON.
    definition      TEXT    NOT NULL,
    started_by      TEXT    NOT NULL,
    started_at      BIGINT  NOT NULL,
    ended_at        BIGINT
);

CREATE TABLE incident_conversations (
    incident_id     BIGINT  NOT NULL REFERENCES incidents (id),
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    joined_at       BIGINT  NOT NULL,
    PRIMARY KEY (incident_id, conversation_id)
);

CREATE INDEX messages_received ON messages (received_at);
