-- The loyalty ledger: every customer's points, one append-only line per change
-- (src/loyalty.rs; the rules are souk's core::loyalty). A customer is a profile's
-- user_id. `key` is the entry's idempotency key (`order:<id>`, `refund:<order>:<id>`,
-- `expiry:<ms>`, ...), unique in a customer's ledger, so a resent order or refund
-- changes nothing. Rows are never updated or deleted (the triggers below refuse it):
-- the balance is the sum of a customer's points.
CREATE TABLE loyalty_ledger (
    id          INTEGER PRIMARY KEY,
    customer    TEXT NOT NULL,
    -- order, refund, bonus, redemption, release, adjustment, expiry
    kind        TEXT NOT NULL CHECK (kind IN ('order', 'refund', 'bonus', 'redemption',
                                              'release', 'adjustment', 'expiry')),
    points      INTEGER NOT NULL,
    -- For an order its qualifying amount, for a refund the qualifying amount
    -- refunded, in minor units; otherwise 0.
    qualifying  INTEGER NOT NULL DEFAULT 0,
    order_id    TEXT,
    key         TEXT NOT NULL,
    -- A bonus's action, a redemption's reward id, a release's redemption key.
    detail      TEXT,
    -- An adjustment's reason.
    reason      TEXT,
    currency    TEXT,
    -- When it happened: RFC 3339 UTC text, and the same in ms since the Unix epoch.
    at          TEXT NOT NULL,
    at_ms       INTEGER NOT NULL CHECK (at_ms >= 0),
    recorded_at TEXT NOT NULL,
    UNIQUE (customer, key)
);

CREATE INDEX loyalty_ledger_order ON loyalty_ledger (order_id) WHERE order_id IS NOT NULL;

CREATE TRIGGER loyalty_ledger_no_update BEFORE UPDATE ON loyalty_ledger
BEGIN
    SELECT RAISE(ABORT, 'the loyalty ledger is append-only: an entry cannot be changed');
END;

CREATE TRIGGER loyalty_ledger_no_delete BEFORE DELETE ON loyalty_ledger
BEGIN
    SELECT RAISE(ABORT, 'the loyalty ledger is append-only: an entry cannot be deleted');
END;

-- Single-use codes issued by redemptions. `reward` is the reward as it was when the
-- code was issued (JSON), so a later change of the rules does not change a code's
-- worth. A code goes from `issued` to `consumed` once and is never deleted.
CREATE TABLE loyalty_coupons (
    code        TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    reward_id   TEXT NOT NULL,
    reward      TEXT NOT NULL,
    entry_id    INTEGER NOT NULL UNIQUE REFERENCES loyalty_ledger (id),
    issued_at   TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'consumed')),
    consumed_at TEXT,
    order_id    TEXT,
    CHECK ((state = 'issued') = (consumed_at IS NULL))
);

CREATE INDEX loyalty_coupons_customer ON loyalty_coupons (customer);

CREATE TRIGGER loyalty_coupons_consume_once BEFORE UPDATE ON loyalty_coupons
WHEN OLD.state <> 'issued' OR NEW.state <> 'consumed'
     OR NEW.code IS NOT OLD.code OR NEW.customer IS NOT OLD.customer
     OR NEW.reward_id IS NOT OLD.reward_id OR NEW.reward IS NOT OLD.reward
     OR NEW.entry_id IS NOT OLD.entry_id OR NEW.issued_at IS NOT OLD.issued_at
BEGIN
    SELECT RAISE(ABORT, 'a loyalty coupon only changes once, from issued to consumed');
END;

CREATE TRIGGER loyalty_coupons_no_delete BEFORE DELETE ON loyalty_coupons
BEGIN
    SELECT RAISE(ABORT, 'loyalty coupons cannot be deleted');
END;
