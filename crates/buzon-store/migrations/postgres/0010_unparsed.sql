-- Every part of a delivery has an outcome: stored, a known event, or unrecognized. An event
-- with unrecognized parts is kept as 'unparsed' (its other parts stored), with each part's
-- path and reason in `unparsed` (JSON), and the channel it was for; it is replayable.
ALTER TABLE inbound_events DROP CONSTRAINT IF EXISTS inbound_events_state_check;
ALTER TABLE inbound_events ADD CONSTRAINT inbound_events_state_check
    CHECK (state IN ('pending', 'done', 'failed', 'unparsed'));
ALTER TABLE inbound_events ADD COLUMN unparsed TEXT;
CREATE INDEX inbound_events_unparsed ON inbound_events (channel_id, id) WHERE state = 'unparsed';

-- The raw JSON of a part whose message was stored with a placeholder for what could not be
-- shown (an attachment of an unknown kind, an odd field).
ALTER TABLE messages ADD COLUMN raw_part TEXT;
