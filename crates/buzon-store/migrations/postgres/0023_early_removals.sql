-- A removal can reach buzon before the object it removes: webhooks come in any order, and a
-- Page mention's fetch may already be under way when its removal is processed. A removal
-- that finds no message is kept here; a message stored later with the same platform id is
-- stored retracted (shown as removed). Kept seven days, as early delivery statuses are.
CREATE TABLE early_removals (
    channel_id      BIGINT  NOT NULL REFERENCES channels (id),
    platform_id     TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, platform_id)
);
CREATE INDEX early_removals_received ON early_removals (received_at);
