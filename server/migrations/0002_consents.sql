-- Proof of consent: every version of every shopper's consent record, as the plugin
-- sent it. A version is (consent_id, updated_at), so a resend of the same version
-- changes nothing. Append-only: rows are never updated or deleted (the triggers
-- below refuse it), so the history shows what the shopper agreed to and when.
CREATE TABLE consents (
    id              INTEGER PRIMARY KEY,
    consent_id      TEXT NOT NULL,
    anonymous_id    TEXT NOT NULL,
    user_id         TEXT,
    revision        TEXT NOT NULL,
    language        TEXT NOT NULL,
    source          TEXT NOT NULL,
    functional      INTEGER NOT NULL CHECK (functional IN (0, 1)),
    analytics       INTEGER NOT NULL CHECK (analytics IN (0, 1)),
    personalization INTEGER NOT NULL CHECK (personalization IN (0, 1)),
    marketing       INTEGER NOT NULL CHECK (marketing IN (0, 1)),
    gpc             INTEGER NOT NULL CHECK (gpc IN (0, 1)),
    first_at        TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- Its index, led by consent_id, also serves the lookups by consent_id.
    UNIQUE (consent_id, updated_at)
);

CREATE INDEX consents_anonymous_id ON consents (anonymous_id);

CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN
    SELECT RAISE(ABORT, 'consents are append-only: a stored version cannot be changed');
END;

CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
BEGIN
    SELECT RAISE(ABORT, 'consents are append-only: a stored version cannot be deleted');
END;
