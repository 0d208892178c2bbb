-- Working the queue: the canned-reply library and each use of it, snoozes that return
-- (marked), escalation to supervisors (by hand, or by a rule on waiting time), and the
-- channel's reply settings (signatures).

CREATE TABLE canned_replies (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    shortcut        TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    -- ISO 639-1; none: any language.
    language        TEXT,
    -- Comma-separated labels (as conversation labels are written).
    labels          TEXT    NOT NULL DEFAULT '',
    -- The agent who saved it for themself; none: shared by the team (admins curate those).
    owner_id        BIGINT  REFERENCES users (id),
    uses            BIGINT  NOT NULL DEFAULT 0,
    last_used_at    BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
-- A shortcut names one reply among the shared ones and one among each agent's own.
CREATE UNIQUE INDEX canned_replies_shortcut ON canned_replies (COALESCE(owner_id, 0), shortcut);

-- Which reply a sent message came from: counted once, with the message, and shown beside the
-- person ("last canned replies used with them").
CREATE TABLE canned_reply_uses (
    message_id      BIGINT  PRIMARY KEY REFERENCES messages (id),
    canned_reply_id BIGINT  NOT NULL REFERENCES canned_replies (id),
    contact_id      BIGINT  NOT NULL REFERENCES contacts (id),
    used_at         BIGINT  NOT NULL
);
CREATE INDEX canned_reply_uses_contact ON canned_reply_uses (contact_id, used_at DESC);
CREATE INDEX canned_reply_uses_reply ON canned_reply_uses (canned_reply_id);

-- When a snoozed conversation came back (its time came, or the customer wrote): the mark in
-- the queue, until someone changes its status.
ALTER TABLE conversations ADD COLUMN returned_at BIGINT;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;

-- Escalation: the conversation's mark while it is escalated (cleared when it is resolved),
-- and every escalation for the reports: who asked (an audit name, or the rule) and the note.
ALTER TABLE conversations ADD COLUMN escalated_at BIGINT;
CREATE INDEX conversations_escalated ON conversations (escalated_at) WHERE escalated_at IS NOT NULL;
CREATE TABLE escalations (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    escalated_at    BIGINT  NOT NULL,
    escalated_by    TEXT    NOT NULL,
    rule_id         BIGINT,
    -- For a rule: the start of the wait it judged (a wait is escalated once by each rule).
    wait_started    BIGINT,
    note            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX escalations_time ON escalations (escalated_at);
-- A rule escalates a conversation once per wait.
CREATE UNIQUE INDEX escalations_rule_once ON escalations (conversation_id, rule_id, wait_started);
ALTER TABLE users ADD COLUMN supervisor BIGINT NOT NULL DEFAULT 0;

-- Rules that escalate a conversation waiting longer than a target (business minutes) on a
-- channel or with a label (or everywhere).
CREATE TABLE escalation_rules (
    id              INTEGER PRIMARY KEY,
    channel_id      BIGINT  REFERENCES channels (id),
    label           TEXT,
    target_minutes  BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL
);

-- The channel's reply settings: the signature ("— Ana"), and the closing question sent when
-- an agent resolves a conversation (a text per language, as JSON).
ALTER TABLE channels ADD COLUMN signature BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN closing_question TEXT;

-- Closing the loop: each closing question sent (the outbound message), who resolved, and the
-- customer's answer (1 satisfied, 0 not; none while unanswered).
CREATE TABLE satisfaction_requests (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id),
    question_id     BIGINT  NOT NULL REFERENCES messages (id),
    agent_id        BIGINT  REFERENCES users (id),
    asked_at        BIGINT  NOT NULL,
    answer_id       BIGINT  REFERENCES messages (id),
    answered_at     BIGINT,
    satisfied       BIGINT
);
CREATE INDEX satisfaction_conversation ON satisfaction_requests (conversation_id, id);
CREATE INDEX satisfaction_pending ON satisfaction_requests (asked_at) WHERE answered_at IS NULL;
CREATE INDEX satisfaction_answered ON satisfaction_requests (answered_at) WHERE answered_at IS NOT NULL;
