-- Segment-style events as received from the plugin (or any Segment-compatible client).
-- `message_id` is the client's messageId, so a retried batch is stored once.
CREATE TABLE events (
    message_id   TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    event        TEXT,
    anonymous_id TEXT,
    user_id      TEXT,
    timestamp    TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    body         TEXT NOT NULL
);

CREATE INDEX events_anonymous_id ON events (anonymous_id);
CREATE INDEX events_user_id ON events (user_id);
