-- A delivery status can arrive before buzon has recorded the send it is about (the platform
-- answered the send after its status webhook, or the answer was lost). It is kept here and
-- applied when the send's platform id is known.
CREATE TABLE early_statuses (
    channel_id      BIGINT  NOT NULL REFERENCES channels (id),
    platform_id     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    error           TEXT,
    received_at     BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, platform_id)
);
CREATE INDEX early_statuses_received ON early_statuses (received_at);
