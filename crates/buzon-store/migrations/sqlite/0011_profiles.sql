-- People the platform names only by id (Messenger senders): buzon asks the platform for their
-- name and picture once, keeps them on the contact, and asks again at most daily, when they
-- have written since.
ALTER TABLE contacts ADD COLUMN picture_url TEXT;
ALTER TABLE contacts ADD COLUMN profile_checked_at BIGINT;
CREATE INDEX contacts_unnamed ON contacts (profile_checked_at) WHERE name IS NULL;
-- Whether a contact wrote since buzon last asked about them.
CREATE INDEX messages_contact ON messages (contact_id, received_at);
