-- Rotating the secret key while nodes run: each channel's credentials name the key they are
-- sealed under (a fingerprint, never the key), and a write applies only while that is still
-- the node's key, so a node that has not heard of a rotation cannot seal under the old key.
-- The current key's fingerprint is team_settings' `credentials_key`.
ALTER TABLE channels ADD COLUMN credentials_key TEXT;
