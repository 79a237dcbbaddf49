//! One evaluation pass: which customers' moments came, for each switched-on trigger.
//!
//! A pass reads on a read connection (one snapshot): it finds the profiles whose
//! situation may have come due in the trigger's window, decides each with the pure
//! functions below, and keeps those the merchant can reach and whose latest consent
//! grants the trigger's category. Then one write job stores the firings: a key
//! already stored (UNIQUE), or the same situation already fired for a profile that
//! was merged into this one, stores nothing, so each situation fires once however
//! many passes see it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::{json, Value};
use souk::core::cart::{Cart, Change};
use souk::core::event::{Properties, Value as Prop};
use souk::core::loyalty::Rules;
use souk::core::time::{iso8601, DAY_MS};

use super::{Kind, Trigger};
use crate::crm::orders::{self, cell_text, Order, Scope};
use crate::crm::refresh::trait_name;
use crate::datetime;
use crate::loyalty::Ledger;
use crate::store::{self, Store};

/// How long after it became due a situation may still fire.
pub const STALE_MS: u64 = 7 * DAY_MS;

/// How far back a cart is rebuilt from its events.
const CART_LOOKBACK_MS: u64 = 30 * DAY_MS;

/// The events that change a cart (an `Order Completed` empties it).
pub const CART_EVENTS: [&str; 4] = [
    "Product Added",
    "Product Removed",
    "Cart Viewed",
    "Checkout Started",
];

/// When a trigger may fire: for what became due from `since_ms` to `now_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The later of when the trigger was switched on and [`STALE_MS`] before now.
    pub since_ms: u64,
    /// Now, ms since the Unix epoch.
    pub now_ms: u64,
}

impl Window {
    /// The window of a trigger switched on at `enabled_at_ms`, evaluated at `now_ms`.
    pub fn new(enabled_at_ms: u64, now_ms: u64) -> Window {
        Window {
            since_ms: enabled_at_ms.max(now_ms.saturating_sub(STALE_MS)),
            now_ms,
        }
    }

    /// Whether a situation that became due at `due_ms` fires now.
    pub fn holds(self, due_ms: u64) -> bool {
        self.since_ms <= due_ms && due_ms <= self.now_ms
    }
}

/// A customer's situation, before reach and consent are checked.
struct Situation {
    profile_id: i64,
    /// The last part of the idempotency key.
    subject: String,
    details: Value,
}

/// A webhook a pass decided to fire.
#[derive(Debug, Clone)]
pub struct Firing {
    kind: Kind,
    profile_id: i64,
    subject: String,
    key: String,
    url: String,
    body: String,
}

/// The tier a loyalty customer holds now, different from the one the trigger saw
/// last: stored if no other pass moved it meanwhile, and fired if it may be.
#[derive(Debug, Clone)]
struct TierSeen {
    customer: String,
    /// The `trigger_tiers` row as read: (tier, changes, seen_at).
    read: Option<(String, i64, String)>,
    tier: String,
    changes: i64,
    firing: Option<Firing>,
}

/// What a pass decided.
#[derive(Debug, Default)]
struct Decided {
    firings: Vec<Firing>,
    tiers: Vec<TierSeen>,
}

/// A webhook a pass fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// Its trigger's kind.
    pub kind: Kind,
    /// Its idempotency key.
    pub key: String,
    /// The customer's profile.
    pub profile_id: i64,
    /// Where it goes.
    pub url: String,
}

/// Evaluates every switched-on trigger as of `now_ms` and stores what fires.
pub async fn pass(store: &Store, rules: Arc<Rules>, now_ms: u64) -> store::Result<Vec<Fired>> {
    let decided = store
        .read(move |conn| Ok(decide(conn, &rules, now_ms)?))
        .await?;
    if decided.firings.is_empty() && decided.tiers.is_empty() {
        return Ok(Vec::new());
    }
    store
        .write(move |conn| Ok(commit(conn, decided, &datetime::now())?))
        .await
}

fn decide(conn: &Connection, rules: &Rules, now_ms: u64) -> rusqlite::Result<Decided> {
    let snapshot = conn.unchecked_transaction()?;
    let mut decided = Decided::default();
    for trigger in Trigger::load_all(conn)? {
        let enabled_at = trigger.enabled_at.as_deref().and_then(datetime::to_ms);
        let (true, Some(url), Some(enabled_at)) = (trigger.enabled, &trigger.url, enabled_at)
        else {
            continue;
        };
        if now_ms < enabled_at {
            continue;
        }
        let window = Window::new(enabled_at, now_ms);
        let param = trigger
            .param
            .or(trigger.kind.param().map(|p| p.default))
            .unwrap_or(0)
            .max(0) as u64;
        let situations = match trigger.kind {
            Kind::AbandonedCart => {
                abandoned_carts(conn, window, param.saturating_mul(60_000), &trigger.consent)?
            }
            Kind::FirstPurchase => first_purchases(conn, window, &trigger.consent)?,
            Kind::WinBack => {
                win_backs(conn, window, param.saturating_mul(DAY_MS), &trigger.consent)?
            }
            Kind::Birthday => birthdays(conn, rules, window, param)?,
            Kind::TierChange => {
                tier_changes(conn, rules, &trigger, url, enabled_at, now_ms, &mut decided)?;
                continue;
            }
        };
        for situation in situations {
            if let Some(firing) = firing(conn, &trigger, url, situation, now_ms)? {
                decided.firings.push(firing);
            }
        }
    }
    snapshot.finish()?;
    Ok(decided)
}

/// The webhook for `situation`, if the customer can be reached and consents.
fn firing(
    conn: &Connection,
    trigger: &Trigger,
    url: &str,
    situation: Situation,
    now_ms: u64,
) -> rusqlite::Result<Option<Firing>> {
    let customer = Customer::of(conn, situation.profile_id)?;
    if !customer.reachable() {
        return Ok(None);
    }
    let Some(granted_at) = consent(conn, situation.profile_id, &trigger.consent)? else {
        return Ok(None);
    };
    let subject = key_part(&situation.subject);
    let key = format!("{}:{}:{subject}", trigger.kind.name(), situation.profile_id);
    let body = json!({
        "kind": trigger.kind.name(),
        "idempotencyKey": key,
        "at": iso8601(now_ms),
        "customer": customer.to_json(),
        "consent": { "category": trigger.consent, "grantedAt": granted_at },
        "details": situation.details,
    });
    Ok(Some(Firing {
        kind: trigger.kind,
        profile_id: situation.profile_id,
        subject,
        key,
        url: url.to_owned(),
        body: body.to_string(),
    }))
}

/// `text` fit for a key and a header: visible ASCII kept, anything else (and `%`)
/// percent-encoded byte by byte.
pub fn key_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_graphic() && c != '%' {
            out.push(c);
        } else {
            let mut bytes = [0u8; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Stores what a pass decided; answers what fired.
fn commit(conn: &Connection, decided: Decided, now: &str) -> rusqlite::Result<Vec<Fired>> {
    let mut fired = Vec::new();
    for firing in decided.firings {
        if insert(conn, &firing, now)? {
            fired.push(firing.into());
        }
    }
    for seen in decided.tiers {
        let current = tier_row(conn, &seen.customer)?;
        if current != seen.read {
            continue; // another pass saw this change first
        }
        conn.prepare_cached(
            "INSERT INTO trigger_tiers (customer, tier, changes, seen_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (customer) DO UPDATE SET tier = excluded.tier,
                 changes = excluded.changes, seen_at = excluded.seen_at",
        )?
        .execute(params![seen.customer, seen.tier, seen.changes, now])?;
        if let Some(firing) = seen.firing {
            if insert(conn, &firing, now)? {
                fired.push(firing.into());
            }
        }
    }
    Ok(fired)
}

impl From<Firing> for Fired {
    fn from(firing: Firing) -> Fired {
        Fired {
            kind: firing.kind,
            key: firing.key,
            profile_id: firing.profile_id,
            url: firing.url,
        }
    }
}

/// Stores `firing` unless its key is stored, its situation was fired for a profile
/// since merged into this one, or the customer was erased since the pass read them
/// (`customer erase`); whether it was stored.
fn insert(conn: &Connection, firing: &Firing, now: &str) -> rusqlite::Result<bool> {
    let known = conn
        .prepare_cached("SELECT 1 FROM identities WHERE profile_id = ?1")?
        .exists([firing.profile_id])?;
    if !known {
        return Ok(false);
    }
    let already = conn
        .prepare_cached(
            "WITH RECURSIVE merged (id) AS (
                 SELECT ?1
                 UNION SELECT m.from_profile FROM profile_merges m JOIN merged ON m.into_profile = merged.id)
             SELECT 1 FROM trigger_deliveries
             WHERE kind = ?2 AND subject = ?3 AND profile_id IN merged",
        )?
        .exists(params![firing.profile_id, firing.kind.name(), firing.subject])?;
    if already {
        return Ok(false);
    }
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO trigger_deliveries
                 (key, kind, profile_id, subject, url, body, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?
        .execute(params![
            firing.key,
            firing.kind.name(),
            firing.profile_id,
            firing.subject,
            firing.url,
            firing.body,
            now,
        ])?;
    Ok(inserted == 1)
}

/// What the webhook says about the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    /// The profile in the identity graph.
    pub profile_id: i64,
    /// The shop's userId.
    pub user_id: Option<String>,
    /// The latest email.
    pub email: Option<String>,
    /// The latest phone.
    pub phone: Option<String>,
    /// From the newest identify call that names them.
    pub name: Option<String>,
}

impl Customer {
    /// The customer of `profile`.
    pub fn of(conn: &Connection, profile: i64) -> rusqlite::Result<Customer> {
        let latest = |kind: &str| -> rusqlite::Result<Option<String>> {
            conn.prepare_cached(
                "SELECT value FROM identities WHERE profile_id = ?1 AND kind = ?2
                 ORDER BY first_seen DESC, id DESC LIMIT 1",
            )?
            .query_row(params![profile, kind], |row| row.get(0))
            .optional()
        };
        let mut name = None;
        let sql = profile_events("type = 'identify'", "timestamp, body");
        let mut statement = conn.prepare_cached(&format!("{sql} ORDER BY 1 DESC"))?;
        let mut rows = statement.query(params![profile])?;
        while let Some(row) = rows.next()? {
            let body: String = row.get(1)?;
            let traits = serde_json::from_str::<Value>(&body)
                .map(|m| m["traits"].clone())
                .unwrap_or_default();
            if let Some(found) = trait_name(&traits) {
                name = Some(found);
                break;
            }
        }
        Ok(Customer {
            profile_id: profile,
            user_id: latest("user_id")?,
            email: latest("email")?,
            phone: latest("phone")?,
            name,
        })
    }

    /// Whether the merchant can reach them: a userId, an email or a phone.
    pub fn reachable(&self) -> bool {
        self.user_id.is_some() || self.email.is_some() || self.phone.is_some()
    }

    /// `{profileId, userId, email, phone, name}`.
    pub fn to_json(&self) -> Value {
        json!({
            "profileId": self.profile_id,
            "userId": self.user_id,
            "email": self.email,
            "phone": self.phone,
            "name": self.name,
        })
    }
}

/// A union of the profile's (`?1`) events that match `condition`, selecting
/// `columns`: those of its userIds, and those of its anonymousIds that have no
/// userId, as the CRM counts a profile's events. Each half reads through its own
/// index.
fn profile_events(condition: &str, columns: &str) -> String {
    format!(
        "SELECT {columns} FROM events INDEXED BY events_user_id
         WHERE user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id')
           AND {condition}
         UNION ALL
         SELECT {columns} FROM events INDEXED BY events_anonymous_id
         WHERE anonymous_id IN
                 (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
           AND user_id IS NULL AND {condition}"
    )
}

/// When the profile's latest consent record (across all its anonymousIds and
/// userIds) was made, if it grants `category`; `None` when it does not, or there is
/// none.
pub fn consent(
    conn: &Connection,
    profile: i64,
    category: &str,
) -> rusqlite::Result<Option<String>> {
    let Some(column) = crate::consent::choices().iter().find(|c| **c == category) else {
        return Ok(None);
    };
    let latest: Option<(bool, String)> = conn
        .prepare_cached(&format!(
            "SELECT {column}, updated_at FROM consents
             WHERE anonymous_id IN
                     (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
                OR user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id')
             ORDER BY updated_at DESC, id DESC LIMIT 1"
        ))?
        .query_row([profile], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(latest.and_then(|(granted, at)| granted.then_some(at)))
}

/// The `profiles` the merchant can reach (a userId, an email or a phone) and whose
/// latest consent grants `category`: checked first, since it rules out most
/// profiles (anonymous visitors) for two index lookups each.
fn eligible(
    conn: &Connection,
    profiles: BTreeSet<i64>,
    category: &str,
) -> rusqlite::Result<Vec<i64>> {
    let mut kept = Vec::new();
    for profile in profiles {
        let reachable = conn
            .prepare_cached(
                "SELECT 1 FROM identities
                 WHERE profile_id = ?1 AND kind IN ('user_id', 'email', 'phone') LIMIT 1",
            )?
            .exists([profile])?;
        if reachable && consent(conn, profile, category)?.is_some() {
            kept.push(profile);
        }
    }
    Ok(kept)
}

/// The profile of a message: its userId's, else its anonymousId's.
fn profile_of(
    conn: &Connection,
    user_id: Option<&str>,
    anonymous_id: Option<&str>,
) -> rusqlite::Result<Option<i64>> {
    let (kind, value) = match (user_id, anonymous_id) {
        (Some(user), _) => ("user_id", user),
        (None, Some(anonymous)) => ("anonymous_id", anonymous),
        (None, None) => return Ok(None),
    };
    conn.prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?
        .query_row((kind, value), |row| row.get(0))
        .optional()
}

/// The profiles that sent track event `events` between `from` and `to` (stored form,
/// both included).
fn senders(
    conn: &Connection,
    events: &[&str],
    from: &str,
    to: &str,
) -> rusqlite::Result<BTreeSet<i64>> {
    let names = vec!["?"; events.len()].join(", ");
    let sql = format!(
        "SELECT DISTINCT user_id, anonymous_id FROM events
         WHERE type = 'track' AND event IN ({names}) AND timestamp >= ? AND timestamp <= ?"
    );
    let mut values: Vec<&str> = events.to_vec();
    values.extend([from, to]);
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params_from_iter(values))?;
    let mut pairs = Vec::new();
    while let Some(row) = rows.next()? {
        pairs.push((
            row.get::<_, Option<String>>(0)?,
            row.get::<_, Option<String>>(1)?,
        ));
    }
    let mut profiles = BTreeSet::new();
    for (user, anonymous) in pairs {
        if let Some(profile) = profile_of(conn, user.as_deref(), anonymous.as_deref())? {
            profiles.insert(profile);
        }
    }
    Ok(profiles)
}

/// One thing that changed a cart.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A cart event: when, its messageId, its name and properties.
    Event {
        /// When it was sent, ms since the Unix epoch.
        at_ms: u64,
        /// Its messageId.
        message_id: String,
        /// Its name, such as `Product Added`.
        event: String,
        /// Its properties.
        properties: Properties,
    },
    /// An order from any source, which empties the cart.
    Order {
        /// When it was placed.
        at_ms: u64,
    },
}

impl Step {
    fn at_ms(&self) -> u64 {
        match self {
            Step::Event { at_ms, .. } | Step::Order { at_ms } => *at_ms,
        }
    }
}

/// The cart that `steps` leave, by the plugin's own cart rules, with the messageId
/// of the last event that changed it; `None` when it is empty. At the same moment an
/// order counts after the cart events.
pub fn replay(steps: &[Step]) -> Option<(Cart, String)> {
    let mut ordered: Vec<&Step> = steps.iter().collect();
    ordered.sort_by_key(|s| (s.at_ms(), matches!(s, Step::Order { .. })));
    let mut cart: Option<(Cart, String)> = None;
    for step in ordered {
        match step {
            Step::Order { .. } => cart = None,
            Step::Event {
                at_ms,
                message_id,
                event,
                properties,
            } => {
                let (current, last) =
                    cart.get_or_insert_with(|| (Cart::new(String::new(), *at_ms), String::new()));
                match current.apply(event, properties, *at_ms) {
                    Change::Kept => last.clone_from(message_id),
                    Change::Ordered => cart = None,
                    Change::None => {}
                }
            }
        }
    }
    cart.filter(|(c, last)| !c.items.is_empty() && !last.is_empty())
}

/// The cart `steps` leave, its last event's messageId and when it became abandoned,
/// if that was `idle_ms` after its last change and falls in `window`.
pub fn abandoned(steps: &[Step], window: Window, idle_ms: u64) -> Option<(Cart, String, u64)> {
    let (cart, last) = replay(steps)?;
    let (_, due) = cart.abandoned(window.now_ms, idle_ms)?;
    window.holds(due).then_some((cart, last, due))
}

/// A stored JSON value as a property value of the plugin's event model.
fn prop(value: &Value) -> Prop {
    match value {
        Value::Null => Prop::Null,
        Value::Bool(b) => Prop::Bool(*b),
        Value::Number(n) => n
            .as_f64()
            .filter(|n| n.is_finite())
            .map_or(Prop::Null, Prop::Number),
        Value::String(s) => Prop::Text(s.clone()),
        Value::Array(items) => Prop::List(items.iter().map(prop).collect()),
        Value::Object(map) => Prop::Object(properties(map)),
    }
}

fn properties(map: &serde_json::Map<String, Value>) -> Properties {
    Properties(map.iter().map(|(k, v)| (k.clone(), prop(v))).collect())
}

fn abandoned_carts(
    conn: &Connection,
    window: Window,
    idle_ms: u64,
    category: &str,
) -> rusqlite::Result<Vec<Situation>> {
    let from = iso8601(window.since_ms.saturating_sub(idle_ms));
    let to = iso8601(window.now_ms.saturating_sub(idle_ms));
    let mut found = Vec::new();
    let carters = senders(conn, &CART_EVENTS, &from, &to)?;
    for profile in eligible(conn, carters, category)? {
        let steps = cart_steps(conn, profile, window.now_ms)?;
        let Some((cart, last, due)) = abandoned(&steps, window, idle_ms) else {
            continue;
        };
        found.push(Situation {
            profile_id: profile,
            subject: last,
            details: cart_json(&cart, due, idle_ms),
        });
    }
    Ok(found)
}

/// The profile's cart events and orders of the [`CART_LOOKBACK_MS`] before now.
fn cart_steps(conn: &Connection, profile: i64, now_ms: u64) -> rusqlite::Result<Vec<Step>> {
    let from_ms = now_ms.saturating_sub(CART_LOOKBACK_MS + STALE_MS);
    let (from, to) = (iso8601(from_ms), iso8601(now_ms));
    let sql = profile_events(
        "type = 'track' AND event IN ('Product Added', 'Product Removed', 'Cart Viewed',
                                      'Checkout Started', 'Order Completed')
         AND timestamp >= ?2 AND timestamp <= ?3",
        "message_id, timestamp, event, body",
    );
    let mut steps = Vec::new();
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params![profile, from, to])?;
    while let Some(row) = rows.next()? {
        let timestamp: String = row.get(1)?;
        let body: String = row.get(3)?;
        let Some(at_ms) = datetime::to_ms(&timestamp) else {
            continue;
        };
        let properties = match serde_json::from_str::<Value>(&body) {
            Ok(Value::Object(mut message)) => match message.remove("properties") {
                Some(Value::Object(map)) => properties(&map),
                _ => Properties::default(),
            },
            _ => Properties::default(),
        };
        steps.push(Step::Event {
            at_ms,
            message_id: row.get(0)?,
            event: row.get(2)?,
            properties,
        });
    }
    for order in profile_orders(conn, profile, now_ms)? {
        let at_ms = order.at_ms.max(0) as u64;
        if at_ms >= from_ms {
            steps.push(Step::Order { at_ms });
        }
    }
    Ok(steps)
}

/// A cart as the webhook shows it: money in minor units.
fn cart_json(cart: &Cart, due_ms: u64, idle_ms: u64) -> Value {
    let currency = cart.currency.as_deref().and_then(orders::currency_code);
    let minor = |price: f64| orders::to_minor(price, currency.as_deref());
    let products: Vec<Value> = cart
        .items
        .iter()
        .map(|item| {
            json!({
                "productId": item.product_id,
                "name": item.name,
                "price": item.price.map(minor),
                "quantity": item.quantity,
            })
        })
        .collect();
    let value: i64 = cart
        .items
        .iter()
        .filter_map(|item| Some(minor(item.price?) * i64::from(item.quantity)))
        .sum();
    json!({
        "cartId": (!cart.id.is_empty()).then_some(&cart.id),
        "currency": currency,
        "value": value,
        "products": products,
        "checkoutStarted": cart.checkout,
        "lastActivityAt": iso8601(cart.active_ms),
        "abandonedAt": iso8601(due_ms),
        "minutes": idle_ms / 60_000,
    })
}

/// The profile's orders placed by `now_ms`, oldest first, each once.
fn profile_orders(conn: &Connection, profile: i64, now_ms: u64) -> rusqlite::Result<Vec<Order>> {
    let (orders, _) = orders::collect(conn, Scope::Profile(profile), false, &mut |_| {})?;
    Ok(orders
        .into_iter()
        .filter(|o| o.at_ms.max(0) as u64 <= now_ms)
        .collect())
}

/// The profiles with an order placed from `from_ms` to `to_ms`: in the ledger (the
/// merchant's backend, the POS) or as an `Order Completed` event.
fn buyers(conn: &Connection, from_ms: u64, to_ms: u64) -> rusqlite::Result<BTreeSet<i64>> {
    // CROSS JOIN keeps the ledger outside, read through its orders' time.
    let mut profiles: BTreeSet<i64> = conn
        .prepare_cached(
            "SELECT DISTINCT i.profile_id FROM loyalty_ledger l
             CROSS JOIN identities i ON i.kind = 'user_id' AND i.value = l.customer
             WHERE l.kind = 'order' AND l.at_ms >= ?1 AND l.at_ms <= ?2",
        )?
        .query_map(params![from_ms as i64, to_ms as i64], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    profiles.extend(senders(
        conn,
        &["Order Completed"],
        &iso8601(from_ms),
        &iso8601(to_ms),
    )?);
    Ok(profiles)
}

/// The customer's first order, if it was placed in `window`.
pub fn first_purchase(orders: &[Order], window: Window) -> Option<&Order> {
    let first = orders.iter().min_by_key(|o| (o.at_ms, &o.order_id))?;
    window.holds(first.at_ms.max(0) as u64).then_some(first)
}

/// The customer's last order and when `gap_ms` without another ran out, if that
/// falls in `window`.
pub fn win_back(orders: &[Order], window: Window, gap_ms: u64) -> Option<(&Order, u64)> {
    let last = orders.iter().max_by_key(|o| (o.at_ms, &o.order_id))?;
    let due = (last.at_ms.max(0) as u64).saturating_add(gap_ms);
    window.holds(due).then_some((last, due))
}

fn order_json(order: &Order) -> Value {
    json!({
        "orderId": order.order_id,
        "at": iso8601(order.at_ms.max(0) as u64),
        "value": order.value,
        "currency": order.currency,
        "channel": order.channel.name(),
    })
}

fn first_purchases(
    conn: &Connection,
    window: Window,
    category: &str,
) -> rusqlite::Result<Vec<Situation>> {
    let mut found = Vec::new();
    let buyers = buyers(conn, window.since_ms, window.now_ms)?;
    for profile in eligible(conn, buyers, category)? {
        let orders = profile_orders(conn, profile, window.now_ms)?;
        if let Some(first) = first_purchase(&orders, window) {
            found.push(Situation {
                profile_id: profile,
                subject: first.order_id.clone(),
                details: json!({ "order": order_json(first) }),
            });
        }
    }
    Ok(found)
}

fn win_backs(
    conn: &Connection,
    window: Window,
    gap_ms: u64,
    category: &str,
) -> rusqlite::Result<Vec<Situation>> {
    let mut found = Vec::new();
    let (from, to) = (
        window.since_ms.saturating_sub(gap_ms),
        window.now_ms.saturating_sub(gap_ms),
    );
    for profile in eligible(conn, buyers(conn, from, to)?, category)? {
        let orders = profile_orders(conn, profile, window.now_ms)?;
        if let Some((last, due)) = win_back(&orders, window, gap_ms) {
            let since = window.now_ms.saturating_sub(last.at_ms.max(0) as u64);
            found.push(Situation {
                profile_id: profile,
                subject: last.order_id.clone(),
                details: json!({
                    "lastOrder": order_json(last),
                    "daysSinceLastOrder": since / DAY_MS,
                    "days": gap_ms / DAY_MS,
                    "orders": orders.len(),
                    "dueAt": iso8601(due),
                }),
            });
        }
    }
    Ok(found)
}

/// A birthday: the month and day, and the year when it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Birthday {
    /// The year of birth, if given.
    pub year: Option<i32>,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
}

/// Reads a `birthday` trait: `YYYY-MM-DD`, a date-time starting with one, or
/// `--MM-DD` (no year). A date that does not exist is `None`.
pub fn parse_birthday(text: &str) -> Option<Birthday> {
    let text = text.trim();
    let (year, rest) = match text.strip_prefix("--") {
        Some(rest) => (None, rest),
        None => {
            let (year, rest) = text.split_at_checked(4)?;
            let rest = rest.strip_prefix('-')?;
            if !year.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (Some(year.parse::<i32>().ok()?), rest)
        }
    };
    let (month, rest) = rest.split_at_checked(2)?;
    let (day, tail) = rest.strip_prefix('-')?.split_at_checked(2)?;
    let after_date = match year {
        Some(_) => tail.is_empty() || tail.starts_with(['T', 't', ' ']),
        None => tail.is_empty(),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !after_date || !digits(month) || !digits(day) {
        return None;
    }
    let birthday = Birthday {
        year,
        month: month.parse().ok()?,
        day: day.parse().ok()?,
    };
    // A year-less 29 February exists.
    date_ms(year.unwrap_or(2000), birthday.month, birthday.day)?;
    Some(birthday)
}

/// Midnight (UTC) of a date, ms since the Unix epoch.
fn date_ms(year: i32, month: u8, day: u8) -> Option<u64> {
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    u64::try_from(date.midnight().assume_utc().unix_timestamp())
        .ok()
        .map(|s| s * 1000)
}

/// Midnight (UTC) of `birthday` in `year`; 29 February is the 28th in other years.
fn occurrence(birthday: Birthday, year: i32) -> Option<u64> {
    let leap = time::util::is_leap_year(year);
    let day = if birthday.month == 2 && birthday.day == 29 && !leap {
        28
    } else {
        birthday.day
    };
    date_ms(year, birthday.month, day)
}

/// The year whose birthday fires now and its midnight: `days_ahead` days before the
/// day, if that falls in `window` and the day has not ended.
pub fn birthday_due(birthday: Birthday, window: Window, days_ahead: u64) -> Option<(i32, u64)> {
    let this_year = i32::try_from(souk::core::time::date(window.now_ms).0).ok()?;
    (this_year - 1..=this_year + 1).find_map(|year| {
        if birthday.year.is_some_and(|born| born >= year) {
            return None;
        }
        let day = occurrence(birthday, year)?;
        let due = day.saturating_sub(days_ahead.saturating_mul(DAY_MS));
        (window.holds(due) && window.now_ms < day + DAY_MS).then_some((year, day))
    })
}

fn birthdays(
    conn: &Connection,
    rules: &Rules,
    window: Window,
    days_ahead: u64,
) -> rusqlite::Result<Vec<Situation>> {
    // The newest identify call with a birthday wins.
    let mut given: BTreeMap<i64, String> = BTreeMap::new();
    let mut rows_read = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT user_id, anonymous_id, json_extract(body, '$.traits.birthday') FROM events
             WHERE type = 'identify' AND timestamp <= ?1
               AND json_extract(body, '$.traits.birthday') IS NOT NULL
             ORDER BY timestamp",
        )?;
        let mut rows = statement.query([iso8601(window.now_ms)])?;
        while let Some(row) = rows.next()? {
            let Some(text) = cell_text(row.get_ref(2)?).map(|t| t.into_owned()) else {
                continue;
            };
            rows_read.push((
                row.get::<_, Option<String>>(0)?,
                row.get::<_, Option<String>>(1)?,
                text,
            ));
        }
    }
    for (user, anonymous, text) in rows_read {
        if let Some(profile) = profile_of(conn, user.as_deref(), anonymous.as_deref())? {
            given.insert(profile, text);
        }
    }
    let mut found = Vec::new();
    for (profile, text) in given {
        let Some(birthday) = parse_birthday(&text) else {
            continue;
        };
        let Some((year, day)) = birthday_due(birthday, window, days_ahead) else {
            continue;
        };
        let mut details = json!({
            "birthday": text,
            "date": iso8601(day)[..10],
            "daysAhead": days_ahead,
            "age": birthday.year.map(|born| year - born),
        });
        if rules.bonuses.birthday > 0 {
            // What POST /v1/loyalty/bonuses grants for it, once that calendar year.
            details["loyaltyBonusPoints"] = json!(rules.bonuses.birthday);
        }
        found.push(Situation {
            profile_id: profile,
            subject: year.to_string(),
            details,
        });
    }
    Ok(found)
}

/// The tier a tier_change pass compares with: the one it stored, unless that was
/// stored before the trigger was last switched on (`enabled_at`), else the one held
/// then.
pub fn tier_baseline<'a>(
    stored: Option<(&'a str, &str)>,
    enabled_at: &str,
    held_when_enabled: &'a str,
) -> &'a str {
    match stored {
        Some((tier, seen_at)) if seen_at >= enabled_at => tier,
        _ => held_when_enabled,
    }
}

fn tier_row(conn: &Connection, customer: &str) -> rusqlite::Result<Option<(String, i64, String)>> {
    conn.prepare_cached("SELECT tier, changes, seen_at FROM trigger_tiers WHERE customer = ?1")?
        .query_row([customer], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()
}

fn tier_json(rules: &Rules, id: &str) -> Value {
    match rules.tiers.iter().find(|t| t.id == id) {
        Some(tier) => json!({
            "id": tier.id,
            "name": { "en": tier.name.en, "ar": tier.name.ar },
            "threshold": tier.threshold,
        }),
        None => json!({ "id": id, "name": null, "threshold": null }),
    }
}

fn tier_changes(
    conn: &Connection,
    rules: &Rules,
    trigger: &Trigger,
    url: &str,
    enabled_at_ms: u64,
    now_ms: u64,
    decided: &mut Decided,
) -> rusqlite::Result<()> {
    let enabled_at = trigger.enabled_at.clone().unwrap_or_default();
    let customers: Vec<String> = conn
        .prepare_cached("SELECT DISTINCT customer FROM loyalty_ledger")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for customer in customers {
        let ledger = Ledger::load(conn, &customer)?;
        let tier_id = |index: usize| rules.tiers.get(index).map(|t| t.id.clone());
        let (Some(now), Some(then)) = (
            tier_id(rules.tier_at(ledger.entries(), now_ms)),
            tier_id(rules.tier_at(ledger.entries(), enabled_at_ms)),
        ) else {
            continue;
        };
        let read = tier_row(conn, &customer)?;
        let stored = read.as_ref().map(|(t, _, s)| (t.as_str(), s.as_str()));
        let from = tier_baseline(stored, &enabled_at, &then).to_owned();
        if from == now {
            continue;
        }
        let changes = read.as_ref().map_or(0, |(_, n, _)| *n) + 1;
        let profile: Option<i64> = conn
            .prepare_cached(
                "SELECT profile_id FROM identities WHERE kind = 'user_id' AND value = ?1",
            )?
            .query_row([&customer], |row| row.get(0))
            .optional()?;
        let position = |id: &str| rules.tiers.iter().position(|t| t.id == id);
        let direction = match (position(&from), position(&now)) {
            (Some(a), Some(b)) if b > a => Some("up"),
            (Some(_), Some(_)) => Some("down"),
            _ => None,
        };
        let spend =
            souk::core::loyalty::Account::from_ledger(rules, ledger.entries(), now_ms).spend;
        let firing = match profile {
            Some(profile_id) => firing(
                conn,
                trigger,
                url,
                Situation {
                    profile_id,
                    subject: changes.to_string(),
                    details: json!({
                        "from": tier_json(rules, &from),
                        "to": tier_json(rules, &now),
                        "direction": direction,
                        "spend": spend,
                        "change": changes,
                    }),
                },
                now_ms,
            )?,
            None => None,
        };
        decided.tiers.push(TierSeen {
            customer,
            read,
            tier: now,
            changes,
            firing,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::orders::Channel;

    const T0: u64 = 1_780_000_000_000; // 2026-05-28T20:26:40Z
    const MINUTE: u64 = 60_000;

    fn added(at_ms: u64, id: &str, product: &str, price: f64) -> Step {
        Step::Event {
            at_ms,
            message_id: id.to_owned(),
            event: "Product Added".to_owned(),
            properties: Properties::from([
                ("product_id", Prop::Text(product.to_owned())),
                ("price", Prop::Number(price)),
                ("currency", Prop::Text("SAR".to_owned())),
            ]),
        }
    }

    fn removed(at_ms: u64, id: &str, product: &str) -> Step {
        Step::Event {
            at_ms,
            message_id: id.to_owned(),
            event: "Product Removed".to_owned(),
            properties: Properties::from([("product_id", Prop::Text(product.to_owned()))]),
        }
    }

    fn order(id: &str, at_ms: u64) -> Order {
        Order {
            order_id: id.to_owned(),
            profile_id: 1,
            at_ms: at_ms as i64,
            channel: Channel::Online,
            currency: Some("SAR".into()),
            value: Some(1000),
            in_ledger: true,
            in_events: false,
        }
    }

    #[test]
    fn a_cart_is_abandoned_once_idle_and_not_before() {
        let steps = [
            added(T0, "m1", "tea", 12.5),
            added(T0 + MINUTE, "m2", "pot", 40.0),
        ];
        let idle = 30 * MINUTE;
        let at = |now| Window::new(T0 - DAY_MS, now);
        assert_eq!(abandoned(&steps, at(T0 + 30 * MINUTE), idle), None);
        let (cart, last, due) = abandoned(&steps, at(T0 + 31 * MINUTE), idle).unwrap();
        assert_eq!((last.as_str(), due), ("m2", T0 + 31 * MINUTE));
        assert_eq!(cart.items.len(), 2);
        let json = cart_json(&cart, due, idle);
        assert_eq!(json["value"], 5250);
        assert_eq!(json["products"][0]["price"], 1250);
        // Too late: more than 7 days after it became due.
        assert_eq!(abandoned(&steps, at(T0 + 8 * DAY_MS), idle), None);
        // Before the trigger was switched on.
        let late_start = Window::new(T0 + 40 * MINUTE, T0 + 41 * MINUTE);
        assert_eq!(abandoned(&steps, late_start, idle), None);
    }

    #[test]
    fn an_order_or_an_emptied_cart_is_not_abandoned() {
        let idle = 30 * MINUTE;
        let window = Window::new(T0 - DAY_MS, T0 + DAY_MS);
        let bought = [
            added(T0, "m1", "tea", 12.5),
            Step::Order { at_ms: T0 + MINUTE },
        ];
        assert_eq!(abandoned(&bought, window, idle), None);
        let emptied = [
            added(T0, "m1", "tea", 12.5),
            removed(T0 + MINUTE, "m2", "tea"),
        ];
        assert_eq!(abandoned(&emptied, window, idle), None);
        // A new cart after the order is a cart of its own.
        let again = [
            added(T0, "m1", "tea", 12.5),
            Step::Order { at_ms: T0 + MINUTE },
            added(T0 + 2 * MINUTE, "m3", "pot", 40.0),
        ];
        let (cart, last, _) = abandoned(&again, window, idle).unwrap();
        assert_eq!((cart.items.len(), last.as_str()), (1, "m3"));
    }

    #[test]
    fn first_purchase_and_win_back_decide_on_the_orders() {
        let window = Window::new(T0, T0 + DAY_MS);
        assert_eq!(
            first_purchase(&[order("o1", T0 + 5)], window).map(|o| o.order_id.as_str()),
            Some("o1")
        );
        // Not the first: an earlier order exists.
        assert_eq!(
            first_purchase(&[order("o0", T0 - 5), order("o1", T0 + 5)], window),
            None
        );
        assert_eq!(first_purchase(&[], window), None);

        let gap = 90 * DAY_MS;
        let lapsed = [order("o1", T0 - 100 * DAY_MS), order("o2", T0 - gap + 10)];
        let (last, due) = win_back(&lapsed, window, gap).unwrap();
        assert_eq!((last.order_id.as_str(), due), ("o2", T0 + 10));
        // A newer order puts it off.
        let back = [order("o2", T0 - gap + 10), order("o3", T0)];
        assert_eq!(win_back(&back, window, gap), None);
    }

    #[test]
    fn birthdays_are_read_and_come_once_a_year() {
        assert_eq!(
            parse_birthday("1990-05-30"),
            Some(Birthday {
                year: Some(1990),
                month: 5,
                day: 30
            })
        );
        assert_eq!(
            parse_birthday("1990-05-30T00:00:00Z").map(|b| b.day),
            Some(30)
        );
        assert_eq!(parse_birthday("--02-29").map(|b| b.month), Some(2));
        for bad in [
            "",
            "1990-02-30",
            "1991-02-29",
            "30/05/1990",
            "1990-5-30",
            "--13-01",
            "1990-05-30x",
        ] {
            assert_eq!(parse_birthday(bad), None, "{bad}");
        }
        let birthday = parse_birthday("1990-05-30").unwrap();
        // T0 is 28 May 2026: two days ahead fires from the 28th, on the day too.
        let day = date_ms(2026, 5, 30).unwrap();
        let window = |now| Window::new(T0 - DAY_MS, now);
        assert_eq!(birthday_due(birthday, window(T0), 0), None);
        assert_eq!(birthday_due(birthday, window(T0), 2), Some((2026, day)));
        assert_eq!(
            birthday_due(birthday, window(day + 3_600_000), 0),
            Some((2026, day))
        );
        assert_eq!(birthday_due(birthday, window(day + DAY_MS), 0), None);
        // 29 February on the 28th in a year without one.
        let leap = parse_birthday("2000-02-29").unwrap();
        let feb_28 = date_ms(2027, 2, 28).unwrap();
        let at = Window::new(feb_28 - DAY_MS, feb_28 + 1);
        assert_eq!(birthday_due(leap, at, 0), Some((2027, feb_28)));
    }

    #[test]
    fn the_tier_baseline_is_the_one_held_when_switched_on() {
        let on = "2026-05-01T00:00:00.000Z";
        assert_eq!(tier_baseline(None, on, "bronze"), "bronze");
        assert_eq!(
            tier_baseline(Some(("silver", "2026-05-02T00:00:00.000Z")), on, "bronze"),
            "silver"
        );
        // Stored before the trigger was switched on again: stale.
        assert_eq!(
            tier_baseline(Some(("gold", "2026-04-01T00:00:00.000Z")), on, "bronze"),
            "bronze"
        );
    }

    #[test]
    fn a_situation_fires_once_even_after_its_profile_is_merged() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations().to_latest(&mut conn).unwrap();
        let firing = |profile: i64, subject: &str| Firing {
            kind: Kind::AbandonedCart,
            profile_id: profile,
            subject: subject.to_owned(),
            key: format!("abandoned_cart:{profile}:{subject}"),
            url: "https://shop.example/hook".to_owned(),
            body: "{}".to_owned(),
        };
        let now = "2026-05-28T20:30:00.000Z";
        for profile in [5, 7, 8] {
            conn.execute(
                "INSERT INTO identities (kind, value, profile_id, first_seen)
                 VALUES ('user_id', ?1, ?2, ?3)",
                params![format!("u-{profile}"), profile, now],
            )
            .unwrap();
        }
        assert!(insert(&conn, &firing(5, "m1"), now).unwrap());
        assert!(!insert(&conn, &firing(5, "m1"), now).unwrap(), "same key");
        // Profile 5 is merged into 7 (through 6): its cart is the same cart. The
        // links that explain the merges are left out.
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO profile_merges (from_profile, into_profile, identities, link_id)
             VALUES (5, 6, 1, 1), (6, 7, 2, 2)",
        )
        .unwrap();
        assert!(
            !insert(&conn, &firing(7, "m1"), now).unwrap(),
            "merged profile"
        );
        assert!(
            insert(&conn, &firing(7, "m2"), now).unwrap(),
            "another cart"
        );
        assert!(
            insert(&conn, &firing(8, "m1"), now).unwrap(),
            "another profile"
        );
        assert!(
            !insert(&conn, &firing(9, "m1"), now).unwrap(),
            "a profile erased since the pass read it"
        );
    }

    #[test]
    fn keys_hold_visible_ascii_only() {
        assert_eq!(key_part("cart-1:2"), "cart-1:2");
        assert_eq!(key_part("a b%ك"), "a%20b%25%D9%83");
    }
}
