-- The normalizer stores a batch's messages with one multi-row INSERT. Two of the triggers on
-- that insert ran once per row, each a PL/pgSQL call running its own INSERT: the largest part
-- of a batch's time on PostgreSQL (auto_explain of the engine benchmark). They now run once
-- per statement over its transition table, with the same rows as a result (the journal of
-- changed conversations names each conversation once per statement).

DROP TRIGGER metric_changes_message_insert ON messages;
CREATE FUNCTION metric_changes_messages_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO metric_changes (conversation_id, recorded_at)
    SELECT DISTINCT conversation_id, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
    FROM inserted;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER metric_changes_message_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION metric_changes_messages_inserted();

DROP TRIGGER events_out_message_received ON messages;
CREATE FUNCTION events_out_messages_received() RETURNS trigger AS $$
BEGIN
    INSERT INTO event_deliveries (subscription_id, event, subject_id, next_attempt_at, created_at, updated_at)
    SELECT s.id, 'message.received', m.id, m.received_at, m.received_at, m.received_at
    FROM inserted m
    JOIN event_subscriptions s ON s.active = 1 AND s.events LIKE '%,message.received,%'
    WHERE m.direction = 'inbound'
    ORDER BY m.id, s.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_out_message_received AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_out_messages_received();
DROP FUNCTION events_out_message_received();

-- Claiming an event sets its lease (columns no index holds): with room left on its page the
-- new row version stays on the page and no index is touched (a HOT update), instead of a
-- copy elsewhere and an entry in every index of the table.
ALTER TABLE inbound_events SET (fillfactor = 60);
