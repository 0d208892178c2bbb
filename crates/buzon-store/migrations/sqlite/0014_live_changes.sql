-- Live updates show every change a reader can see, not only new messages: a message's status,
-- text (an edit), hiding, removal, error or platform id bumps its `changed` number, and the
-- activity version every node watches includes the highest one. (SQLite has one writer, so
-- the next number is the highest plus one.)
ALTER TABLE messages ADD COLUMN changed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_changed ON messages (changed);
CREATE TRIGGER messages_changed_update
    AFTER UPDATE OF status, text, hidden, deleted, error, platform_id ON messages
BEGIN
    UPDATE messages SET changed = (SELECT COALESCE(MAX(changed), 0) + 1 FROM messages)
    WHERE id = NEW.id;
END;
