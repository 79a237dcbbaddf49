-- The right to erasure (src/privacy.rs): `souk-server customer erase` and
-- `DELETE /v1/crm/customers/{key}` delete or anonymise everything held about one
-- customer in one transaction, and log it here.

-- Every erasure: when it ran, who asked for it (`cli`, `server key`, `staff <agent
-- id>`), and what it did to each table, as JSON `[{table, action, rows}]`. It keeps
-- no identifier of the customer: the log shows that an erasure happened and what it
-- touched, never whose data it was. `finished_at` is NULL only inside the erasure's
-- own transaction, which sets it before committing; while it is NULL the triggers
-- below let that transaction pseudonymise the append-only tables.
CREATE TABLE erasures (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    requested_by TEXT NOT NULL,
    tables       TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX erasures_running ON erasures (id) WHERE finished_at IS NULL;

-- The append-only tables stay append-only, with one exception: while an erasure
-- runs, it may replace who a row belongs to and the text that identifies them, but
-- never what the row proves (a consent decision and its dates, a ledger entry's
-- points and amounts, a coupon's reward and state, a chat message's author and
-- times). The error messages are the ones of 0002, 0004 and 0006.

DROP TRIGGER consents_no_update;
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
WHEN NOT (EXISTS (SELECT 1 FROM erasures WHERE finished_at IS NULL)
          AND NEW.id IS OLD.id AND NEW.revision IS OLD.revision
          AND NEW.language IS OLD.language AND NEW.source IS OLD.source
          AND NEW.functional IS OLD.functional AND NEW.analytics IS OLD.analytics
          AND NEW.personalization IS OLD.personalization
          AND NEW.marketing IS OLD.marketing AND NEW.gpc IS OLD.gpc
          AND NEW.first_at IS OLD.first_at AND NEW.updated_at IS OLD.updated_at
          AND NEW.received_at IS OLD.received_at)
BEGIN
    SELECT RAISE(ABORT, 'consents are append-only: a stored version cannot be changed');
END;

DROP TRIGGER loyalty_ledger_no_update;
CREATE TRIGGER loyalty_ledger_no_update BEFORE UPDATE ON loyalty_ledger
WHEN NOT (EXISTS (SELECT 1 FROM erasures WHERE finished_at IS NULL)
          AND NEW.id IS OLD.id AND NEW.kind IS OLD.kind AND NEW.points IS OLD.points
          AND NEW.qualifying IS OLD.qualifying AND NEW.currency IS OLD.currency
          AND NEW.at IS OLD.at AND NEW.at_ms IS OLD.at_ms
          AND NEW.recorded_at IS OLD.recorded_at)
BEGIN
    SELECT RAISE(ABORT, 'the loyalty ledger is append-only: an entry cannot be changed');
END;

DROP TRIGGER loyalty_coupons_consume_once;
CREATE TRIGGER loyalty_coupons_consume_once BEFORE UPDATE ON loyalty_coupons
WHEN (OLD.state <> 'issued' OR NEW.state <> 'consumed'
      OR NEW.code IS NOT OLD.code OR NEW.customer IS NOT OLD.customer
      OR NEW.reward_id IS NOT OLD.reward_id OR NEW.reward IS NOT OLD.reward
      OR NEW.entry_id IS NOT OLD.entry_id OR NEW.issued_at IS NOT OLD.issued_at)
     AND NOT (EXISTS (SELECT 1 FROM erasures WHERE finished_at IS NULL)
              AND NEW.code IS OLD.code AND NEW.reward_id IS OLD.reward_id
              AND NEW.reward IS OLD.reward AND NEW.entry_id IS OLD.entry_id
              AND NEW.issued_at IS OLD.issued_at AND NEW.state IS OLD.state
              AND NEW.consumed_at IS OLD.consumed_at)
BEGIN
    SELECT RAISE(ABORT, 'a loyalty coupon only changes once, from issued to consumed');
END;

DROP TRIGGER chat_messages_no_update;
CREATE TRIGGER chat_messages_no_update BEFORE UPDATE ON chat_messages
WHEN NOT (EXISTS (SELECT 1 FROM erasures WHERE finished_at IS NULL)
          AND NEW.seq IS OLD.seq AND NEW.conversation_id IS OLD.conversation_id
          AND NEW.author IS OLD.author AND NEW.agent_id IS OLD.agent_id
          AND NEW.automatic IS OLD.automatic AND NEW.faq_id IS OLD.faq_id
          AND NEW.sent_at IS OLD.sent_at AND NEW.received_at IS OLD.received_at)
BEGIN
    SELECT RAISE(ABORT, 'chat messages cannot be changed once stored');
END;
