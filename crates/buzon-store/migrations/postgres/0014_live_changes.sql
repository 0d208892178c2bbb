-- Live updates show every change a reader can see, not only new messages: a message's status,
-- text (an edit), hiding, removal, error or platform id bumps its `changed` number, and the
-- activity version every node watches includes the highest one.
ALTER TABLE messages ADD COLUMN changed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_changed ON messages (changed);
CREATE SEQUENCE messages_changed_seq;

CREATE FUNCTION messages_changed_bump() RETURNS trigger AS $$
BEGIN
    NEW.changed := nextval('messages_changed_seq');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER messages_changed_update
    BEFORE UPDATE OF status, text, hidden, deleted, error, platform_id ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_changed_bump();

-- Every node LISTENs on `buzon_activity`: a committed change anywhere wakes its workers and
-- its live updates at once (notifications are sent at commit, one per transaction).
CREATE FUNCTION buzon_activity_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('buzon_activity', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER buzon_activity_messages AFTER INSERT OR UPDATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION buzon_activity_notify();
CREATE TRIGGER buzon_activity_outbox AFTER INSERT OR UPDATE ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION buzon_activity_notify();
CREATE TRIGGER buzon_activity_events AFTER INSERT ON inbound_events
    FOR EACH STATEMENT EXECUTE FUNCTION buzon_activity_notify();
CREATE TRIGGER buzon_activity_audit AFTER INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION buzon_activity_notify();
