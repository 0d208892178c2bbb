-- Messages hidden on the platform, and when a message was last edited.
ALTER TABLE messages ADD COLUMN hidden BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
