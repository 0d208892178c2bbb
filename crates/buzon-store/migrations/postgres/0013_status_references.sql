-- A status can carry the reference buzon sent with the message (WhatsApp's
-- biz_opaque_callback_data: the send's idempotency key). When it arrives while the send is
-- still in flight, it is kept with the early status, so that a send whose answer is then lost
-- is settled by the platform's word instead of waiting for an agent.
ALTER TABLE early_statuses ADD COLUMN reference TEXT;
CREATE INDEX early_statuses_reference ON early_statuses (channel_id, reference);
