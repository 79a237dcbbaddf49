-- The merchant's CRM (src/crm.rs): staff roles, the indexes its reads need, and the
-- customer scores a refresh materialises (`souk-server crm refresh`, `serve
-- --crm-every`, `POST /v1/crm/refresh`).

-- Who may open the merchant dashboard: an agent answers chats at /agent, a merchant
-- also reads the CRM at /v1/crm. Every existing account stays an agent.
ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'agent'
    CHECK (role IN ('agent', 'merchant'));

-- Track events by name and time: orders, the funnel's steps, abandoned carts and
-- recommendation clicks. Partial, so only queries that say `type = 'track'` (the
-- commerce reads) can pick it, and lookups by device or customer keep their own.
CREATE INDEX events_track ON events (event, timestamp) WHERE type = 'track';

-- Identify calls by time: the traits (name, email, phone) customer search reads.
CREATE INDEX events_identify ON events (timestamp) WHERE type = 'identify';

-- The CRM's settings, one row each: `vip` (the VIP rule, such as `top 5% by
-- monetary`), `currency` (the one RFM money is counted in) and `as_of` (score as of
-- this date instead of now, for a shop's past data).
CREATE TABLE crm_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Every refresh: when, as of when, what it read, the model's shop-wide numbers and
-- how long each phase took.
CREATE TABLE crm_runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    currency        TEXT,
    customers       INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    online_orders   INTEGER NOT NULL,
    store_orders    INTEGER NOT NULL,
    -- The quarterly repeat rate the lifetime value uses, and the lifetime it gives.
    retention       REAL,
    lifetime_years  REAL NOT NULL,
    vip_rule        TEXT NOT NULL,
    vips            INTEGER NOT NULL,
    read_ms         INTEGER NOT NULL,
    score_ms        INTEGER NOT NULL,
    write_ms        INTEGER NOT NULL
);

-- Each run's segment sizes, so the dashboard can chart them over time.
CREATE TABLE crm_run_segments (
    run_id    INTEGER NOT NULL REFERENCES crm_runs (id),
    segment   TEXT NOT NULL,
    customers INTEGER NOT NULL,
    monetary  INTEGER NOT NULL,
    ltv       INTEGER NOT NULL,
    PRIMARY KEY (run_id, segment)
) WITHOUT ROWID;

-- The latest run's scores: one row per customer (a profile with at least one
-- order), replaced whole by each refresh. Money is in minor units of the run's
-- currency.
CREATE TABLE crm_customers (
    profile_id     INTEGER PRIMARY KEY,
    user_id        TEXT,
    -- For search and export: the identify traits' name, the latest email and phone.
    name           TEXT,
    email          TEXT,
    phone          TEXT,
    orders         INTEGER NOT NULL,
    online_orders  INTEGER NOT NULL,
    store_orders   INTEGER NOT NULL,
    first_order_at TEXT NOT NULL,
    last_order_at  TEXT NOT NULL,
    recency_days   INTEGER NOT NULL,
    monetary       INTEGER NOT NULL,
    aov            INTEGER NOT NULL,
    r              INTEGER NOT NULL CHECK (r BETWEEN 1 AND 5),
    f              INTEGER NOT NULL CHECK (f BETWEEN 1 AND 5),
    m              INTEGER NOT NULL CHECK (m BETWEEN 1 AND 5),
    segment        TEXT NOT NULL,
    ltv            INTEGER NOT NULL,
    vip            INTEGER NOT NULL CHECK (vip IN (0, 1)),
    run_id         INTEGER NOT NULL REFERENCES crm_runs (id)
);

CREATE INDEX crm_customers_segment ON crm_customers (segment, monetary DESC);
CREATE INDEX crm_customers_user ON crm_customers (user_id);
