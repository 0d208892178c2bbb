-- A journal of the conversations whose response-time figures may have changed: every node
-- keeps the measured cycles of every conversation in memory and reloads the ones named here
-- (see crates/buzon-web/src/reports/index.rs). Triggers fill it, so no write path can forget.
-- AUTOINCREMENT: ids are never reused, even after old rows are pruned.
CREATE TABLE metric_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id BIGINT  NOT NULL,
    recorded_at     BIGINT  NOT NULL
);
CREATE INDEX metric_changes_time ON metric_changes (recorded_at);

CREATE TRIGGER metric_changes_message_insert AFTER INSERT ON messages BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    VALUES (new.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER metric_changes_message_update
AFTER UPDATE OF conversation_id, direction, status, created_at, user_id, automatic ON messages
BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    VALUES (new.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
    INSERT INTO metric_changes (conversation_id, recorded_at)
    SELECT old.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000
    WHERE old.conversation_id <> new.conversation_id;
END;
CREATE TRIGGER metric_changes_message_delete AFTER DELETE ON messages BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    VALUES (old.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER metric_changes_status_insert AFTER INSERT ON conversation_status_changes BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    VALUES (new.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER metric_changes_label_insert AFTER INSERT ON conversation_labels BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    VALUES (new.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER metric_changes_label_delete AFTER DELETE ON conversation_labels BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    VALUES (old.conversation_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
-- A troll, spam or blocked label on a contact flags the conversations of every contact of the
-- same person (other contact labels do not change figures).
CREATE TRIGGER metric_changes_contact_label_insert AFTER INSERT ON contact_labels
WHEN new.label IN ('troll', 'spam', 'blocked') BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    SELECT id, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM conversations
    WHERE contact_id = new.contact_id OR contact_id IN (
        SELECT k2.id FROM contacts k1 JOIN contacts k2 ON k2.person_id = k1.person_id
        WHERE k1.id = new.contact_id);
END;
CREATE TRIGGER metric_changes_contact_label_delete AFTER DELETE ON contact_labels
WHEN old.label IN ('troll', 'spam', 'blocked') BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    SELECT id, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM conversations
    WHERE contact_id = old.contact_id OR contact_id IN (
        SELECT k2.id FROM contacts k1 JOIN contacts k2 ON k2.person_id = k1.person_id
        WHERE k1.id = old.contact_id);
END;
-- Linking contacts into a person matters only when one of them is flagged.
CREATE TRIGGER metric_changes_contact_person AFTER UPDATE OF person_id ON contacts
WHEN old.person_id IS NOT new.person_id AND EXISTS (
    SELECT 1 FROM contact_labels f JOIN contacts k ON k.id = f.contact_id
    WHERE f.label IN ('troll', 'spam', 'blocked')
      AND (k.id = new.id OR k.person_id = new.person_id OR k.person_id = old.person_id))
BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    SELECT id, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM conversations
    WHERE contact_id IN (SELECT id FROM contacts
        WHERE id = new.id OR person_id = new.person_id OR person_id = old.person_id);
END;
