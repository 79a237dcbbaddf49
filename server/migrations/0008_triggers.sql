-- Right-time triggers (src/triggers.rs): what the merchant switched on, every webhook
-- a trigger fired with each attempt to deliver it, and the loyalty tiers the
-- tier_change trigger last saw.

-- One row per kind of trigger, all five made here switched off. `minutes` is
-- abandoned_cart's idle time, `days` win_back's days without an order and
-- birthday's days ahead; the other kinds take neither. `consent` is the category a
-- customer's latest consent must grant. `secret` keys the HMAC-SHA256 signature of
-- each delivery; it is made on the first configuration and on each rotation.
-- `enabled_at` is when the trigger was last switched on: nothing that became due
-- before it fires, so switching a trigger on never replays the past.
CREATE TABLE triggers (
    kind       TEXT PRIMARY KEY CHECK (kind IN ('abandoned_cart', 'first_purchase',
                                                'tier_change', 'win_back', 'birthday')),
    enabled    INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    minutes    INTEGER,
    days       INTEGER,
    url        TEXT,
    consent    TEXT NOT NULL CHECK (consent IN ('functional', 'analytics',
                                                'personalization', 'marketing')),
    secret     TEXT,
    enabled_at TEXT,
    updated_at TEXT NOT NULL,
    CHECK (enabled = 0 OR (url IS NOT NULL AND secret IS NOT NULL AND enabled_at IS NOT NULL))
) WITHOUT ROWID;

INSERT INTO triggers (kind, minutes, days, consent, updated_at) VALUES
    ('abandoned_cart', 30, NULL, 'marketing', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('first_purchase', NULL, NULL, 'marketing', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('tier_change', NULL, NULL, 'functional', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('win_back', NULL, 90, 'marketing', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('birthday', NULL, 0, 'marketing', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

-- Every firing: one webhook for one customer and one situation, named by its
-- idempotency key (`abandoned_cart:<profile>:<messageId>`, `win_back:<profile>:<order
-- id>`, ...). The UNIQUE key is what makes repeated, restarted and concurrent passes
-- fire each situation once. `subject` is the key's last part, so that a situation
-- already fired for a profile that was later merged into another is recognised.
-- `body` is the JSON sent on every attempt, fixed when fired. `state` is pending
-- until an attempt gets a 2xx (delivered) or the attempts run out or a 4xx says no
-- (failed); `lease_until` keeps two souk-servers from sending the same attempt.
CREATE TABLE trigger_deliveries (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    profile_id      INTEGER NOT NULL,
    subject         TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT,
    lease_until     TEXT,
    finished_at     TEXT,
    last_error      TEXT
);

CREATE INDEX trigger_deliveries_due ON trigger_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX trigger_deliveries_kind ON trigger_deliveries (kind, id);
CREATE INDEX trigger_deliveries_subject ON trigger_deliveries (kind, subject);

-- The delivery log: every attempt, with the HTTP status (NULL when no answer came)
-- or the error, how long it took, and when the next attempt is due (NULL after the
-- last one).
CREATE TABLE trigger_attempts (
    delivery_id   INTEGER NOT NULL REFERENCES trigger_deliveries (id),
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    at            TEXT NOT NULL,
    status        INTEGER,
    error         TEXT,
    duration_ms   INTEGER NOT NULL,
    next_retry_at TEXT,
    PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;

-- The tier each loyalty customer (a user id) held when tier_change last saw it
-- change, and how many changes it has seen, which numbers the next one's key. A row
-- written before the trigger was last switched on is stale: the tier held then is
-- the starting point instead.
CREATE TABLE trigger_tiers (
    customer TEXT PRIMARY KEY,
    tier     TEXT NOT NULL,
    changes  INTEGER NOT NULL CHECK (changes >= 1),
    seen_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Orders by time, for first_purchase and win_back to find the customers whose
-- situation may have changed without reading the whole ledger.
CREATE INDEX loyalty_ledger_orders_at ON loyalty_ledger (at_ms) WHERE kind = 'order';

-- Consent records by userId: a customer's latest decision is looked up by every id of
-- their profile, before each firing and each delivery attempt.
CREATE INDEX consents_user_id ON consents (user_id);
