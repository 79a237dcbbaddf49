-- The identity graph: one customer, one profile, across sessions, devices and channels.
-- Each identifier a stored message names is an identity; a link joins two identities
-- and says which message joined them and why; a profile is a connected set of
-- identities. Written in the same transaction as the message (src/identity.rs); the
-- migration builds it from the events already stored.

-- `kind` is open text: anonymous_id, user_id, email, phone, and whatever later sources
-- add. `value` is normalised (emails trimmed and lowercased, phones to digits). Every
-- row carries its profile's id, so finding a customer's profile is one lookup; a
-- profile's id is the id of the identity that started it, and when two profiles merge
-- the smaller one takes the larger one's id.
CREATE TABLE identities (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    profile_id INTEGER NOT NULL,
    -- The earliest message timestamp that named it.
    first_seen TEXT NOT NULL,
    UNIQUE (kind, value)
);

-- Also answers "does this profile have a user_id?", the merge guard's question.
CREATE INDEX identities_profile ON identities (profile_id, kind);

-- One link per pair of identities, whichever way round: the first message that joined
-- them explains it. `status` is `merged` when the link joins (or agrees with) one
-- profile, and `conflict` when it would have joined two profiles that each have a
-- different user_id, which the graph refuses.
CREATE TABLE identity_links (
    id         INTEGER PRIMARY KEY,
    from_id    INTEGER NOT NULL REFERENCES identities (id),
    to_id      INTEGER NOT NULL REFERENCES identities (id),
    reason     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    -- The message's timestamp.
    at         TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('merged', 'conflict')),
    CHECK (from_id <> to_id)
);

CREATE UNIQUE INDEX identity_links_pair
    ON identity_links (min(from_id, to_id), max(from_id, to_id));
CREATE INDEX identity_links_from ON identity_links (from_id);
CREATE INDEX identity_links_to ON identity_links (to_id);

-- Every merge: which profile was relabelled into which, how many identities moved,
-- and the link that caused it.
CREATE TABLE profile_merges (
    id           INTEGER PRIMARY KEY,
    from_profile INTEGER NOT NULL,
    into_profile INTEGER NOT NULL,
    identities   INTEGER NOT NULL,
    link_id      INTEGER NOT NULL REFERENCES identity_links (id)
);
