-- What kind of thread a conversation is, set by the connector that first saw it, so that the
-- platform's rules (reply window, hiding, privacy) never depend on the shape of a thread key.
ALTER TABLE conversations ADD COLUMN kind TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind IN ('comment', 'messenger', 'whatsapp', 'x_mention', 'x_dm'));

-- Conversations stored before the column: their connectors made these thread keys.
UPDATE conversations SET kind = CASE
    WHEN thread_key LIKE 'messenger:%' THEN 'messenger'
    WHEN thread_key LIKE 'whatsapp:%' THEN 'whatsapp'
    WHEN thread_key LIKE 'dm:%' THEN 'x_dm'
    WHEN thread_key LIKE 'tweet:%' THEN 'x_mention'
    ELSE 'comment'
END;

-- The "reply window closing" order reads only windowed kinds.
CREATE INDEX conversations_window ON conversations (kind, last_inbound_at, id);
