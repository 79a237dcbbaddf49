-- Live chat (src/chat.rs): the shop's agents, their sessions and canned responses,
-- and the conversations between shoppers and agents.

-- Agents sign in to the console at /agent. `email` is trimmed and lowercased;
-- `password_hash` is an argon2id PHC string (`$argon2id$v=19$...`), never the password.
CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- A signed-in agent's session: only the SHA-256 (hex) of the cookie's random token is
-- kept, so the table alone cannot sign anyone in.
CREATE TABLE agent_sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE INDEX agent_sessions_agent ON agent_sessions (agent_id);

-- One conversation between a shopper and the shop. It belongs to the device's
-- anonymous id and, once the shopper is identified with a valid userHash, to their
-- user id (then only that user sees it, from any device). `id` is the client's or
-- the server's (`c_` + 32 hex digits). A shopper's message to a closed conversation
-- starts a new one whose `follows` names it. `last_seq` is the seq of its latest
-- message (last activity); `close_seq` the highest seq stored when it was closed,
-- which lets a resumed stream repeat the `closed` event. `context` is the shopper's
-- page as the widget last sent it (JSON {url, title, lang}), at `context_at`.
CREATE TABLE chat_conversations (
    id             TEXT PRIMARY KEY,
    anonymous_id   TEXT NOT NULL,
    user_id        TEXT,
    email          TEXT,
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    assigned_agent INTEGER REFERENCES agents (id),
    follows        TEXT REFERENCES chat_conversations (id),
    context        TEXT,
    context_at     TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    last_seq       INTEGER NOT NULL DEFAULT 0,
    closed_at      TEXT,
    close_seq      INTEGER,
    csat           INTEGER CHECK (csat BETWEEN 1 AND 5),
    csat_comment   TEXT,
    rated_at       TEXT,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (csat IS NULL OR status = 'closed')
);

CREATE INDEX chat_conversations_anonymous ON chat_conversations (anonymous_id);
CREATE INDEX chat_conversations_user ON chat_conversations (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX chat_conversations_activity ON chat_conversations (status, last_seq);

-- Every message, in the order stored. `seq` is the server's global sequence number:
-- it orders messages and is the SSE event id (AUTOINCREMENT, so a seq is never
-- reused). `id` is the client's, so a resend is stored once. `sent_at` is the
-- client's clock, `received_at` the server's. A bot message (`automatic` 1) answers
-- from the FAQ entry `faq_id`. Messages never change (the trigger refuses it).
CREATE TABLE chat_messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES chat_conversations (id),
    author          TEXT NOT NULL CHECK (author IN ('shopper', 'agent', 'bot')),
    agent_id        INTEGER REFERENCES agents (id),
    text            TEXT NOT NULL,
    automatic       INTEGER NOT NULL DEFAULT 0 CHECK (automatic IN (0, 1)),
    faq_id          TEXT,
    sent_at         TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    CHECK ((author = 'agent') = (agent_id IS NOT NULL)),
    CHECK ((author = 'bot') = (automatic = 1))
);

CREATE INDEX chat_messages_conversation ON chat_messages (conversation_id, seq);

CREATE TRIGGER chat_messages_no_update BEFORE UPDATE ON chat_messages
BEGIN
    SELECT RAISE(ABORT, 'chat messages cannot be changed once stored');
END;

-- How far each side has read a conversation: the shopper, and the agents (one mark
-- shared by the team).
CREATE TABLE chat_reads (
    conversation_id TEXT NOT NULL REFERENCES chat_conversations (id),
    reader          TEXT NOT NULL CHECK (reader IN ('shopper', 'agent')),
    up_to_seq       INTEGER NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, reader)
) WITHOUT ROWID;

-- Replies the agents keep at hand, in a language (`lang`, such as `ar`) or for any.
CREATE TABLE chat_canned_responses (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    lang       TEXT,
    created_by INTEGER REFERENCES agents (id),
    created_at TEXT NOT NULL
);
