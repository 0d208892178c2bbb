-- Listening: what buzon finds that was not addressed to the account (X posts matching a saved
-- search, Facebook Page mentions elsewhere, Page reviews). Such a conversation waits in the
-- monitoring view ('watching') until an agent or a rule promotes it into the queue (monitor
-- NULL again, promoted_at set: its response time counts from then) or dismisses it.
ALTER TABLE conversations ADD COLUMN monitor TEXT CHECK (monitor IN ('watching', 'dismissed'));
ALTER TABLE conversations ADD COLUMN found_by TEXT;
ALTER TABLE conversations ADD COLUMN search_id BIGINT;
ALTER TABLE conversations ADD COLUMN promoted_at BIGINT;
-- A review's recommendation ('positive' or 'negative'), for a conversation found as a review.
ALTER TABLE conversations ADD COLUMN recommendation TEXT;
CREATE INDEX conversations_monitor ON conversations (monitor, last_activity_at DESC, id DESC) WHERE monitor IS NOT NULL;

-- What found each message: NULL (addressed to the account), 'search', 'mention' or 'review';
-- search_id names the saved search.
ALTER TABLE messages ADD COLUMN found_by TEXT;
ALTER TABLE messages ADD COLUMN search_id BIGINT;
ALTER TABLE messages ADD COLUMN recommendation TEXT;
CREATE INDEX messages_found ON messages (search_id, received_at) WHERE search_id IS NOT NULL;
-- Spike detection counts finds at the time they were written.
CREATE INDEX messages_found_written ON messages (created_at) WHERE found_by IS NOT NULL;

-- An X channel's saved searches, polled through recent search. since_id bounds the next
-- run; while a run pages back, newest_id holds what since_id becomes when it ends and
-- next_token the page to fetch next.
CREATE TABLE saved_searches (
    id            INTEGER PRIMARY KEY,
    channel_id    BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    query         TEXT    NOT NULL,
    promote       TEXT    NOT NULL DEFAULT 'none' CHECK (promote IN ('none', 'questions', 'negative', 'all')),
    since_id      TEXT,
    newest_id     TEXT,
    next_token    TEXT,
    next_poll_at  BIGINT  NOT NULL DEFAULT 0,
    last_polled_at BIGINT,
    last_error    TEXT,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX saved_searches_channel ON saved_searches (channel_id, id);

-- Objects a webhook named without their content (a Facebook Page mention), to be fetched
-- with the channel's token by its poller; the fetched body is stored in the event log like
-- any polled page. A repeat (an edit) asks again.
CREATE TABLE listening_fetches (
    channel_id    BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    object_id     TEXT    NOT NULL,
    requested_at  BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    next_at       BIGINT  NOT NULL DEFAULT 0,
    last_error    TEXT,
    PRIMARY KEY (channel_id, object_id)
);

-- Two new conversation kinds: a post elsewhere that tags the Page, and a Page review. SQLite
-- cannot change a column's CHECK, so the column is replaced: a new one with the wider CHECK,
-- filled from the old, which is then dropped (its index first) and the new one renamed.
ALTER TABLE conversations ADD COLUMN kind_wide TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind_wide IN ('comment', 'messenger', 'whatsapp', 'x_mention', 'x_dm', 'page_mention', 'page_review'));
UPDATE conversations SET kind_wide = kind;
DROP INDEX conversations_window;
ALTER TABLE conversations DROP COLUMN kind;
ALTER TABLE conversations RENAME COLUMN kind_wide TO kind;
CREATE INDEX conversations_window ON conversations (kind, last_inbound_at, id);
