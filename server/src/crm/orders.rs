//! A customer's orders, from the two places souk-server learns of them, each order
//! once.
//!
//! - The loyalty ledger: `POST /v1/orders` from the shop's backend and the POS import
//!   (order ids `pos:<sale_id>`, the *store* orders). Its value is the order's
//!   qualifying amount (goods after discounts, without tax and shipping, minor
//!   units), less what refunds took back; an order refunded in full is left out.
//! - `Order Completed` track events (the plugin, the shop's backend, any Segment
//!   client). Their value is `properties.subtotal`, else `revenue`, else `total`,
//!   else the sum of `products[].price × quantity`, in major units of
//!   `properties.currency`, turned into minor units by [`minor_digits`].
//!
//! An order id in both is one order: the ledger's value, time and customer win,
//! since they come from the merchant's backend. An event without `order_id` is an
//! order of its own, keyed by its messageId. Orders are *online* unless their id
//! starts with [`pos::ORDER_PREFIX`].
//!
//! An event belongs to the profile of its userId, or of its anonymousId when it has
//! none, as [`identity::profile`](crate::identity::profile) counts events; a ledger
//! entry to the profile of its customer's userId.

use std::borrow::Cow;
use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value;

use crate::pos;

/// Where an order was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// On the web shop (or any channel that is not the POS).
    Online,
    /// In a store, through the POS import.
    Store,
}

impl Channel {
    /// `online` or `store`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Store => "store",
        }
    }

    fn of(order_id: &str) -> Channel {
        if order_id.starts_with(pos::ORDER_PREFIX) {
            Channel::Store
        } else {
            Channel::Online
        }
    }
}

/// One order, deduplicated.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The shop's order id, or `event:<messageId>` for an event without one.
    pub order_id: String,
    /// The customer's profile.
    pub profile_id: i64,
    /// When it was placed, ms since the Unix epoch.
    pub at_ms: i64,
    /// Online or in store.
    pub channel: Channel,
    /// ISO 4217, when known.
    pub currency: Option<String>,
    /// Its value in minor units, when known.
    pub value: Option<i64>,
    /// Whether the ledger has it.
    pub in_ledger: bool,
    /// Whether an `Order Completed` event has it.
    pub in_events: bool,
}

/// The digits after the point of ISO 4217 `currency`: 3 for the dinars and rials
/// that use fils or baisa, 0 for the currencies without minor units, else 2.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        _ => 2,
    }
}

/// `major` units of `currency` in minor units, rounded.
pub fn to_minor(major: f64, currency: Option<&str>) -> i64 {
    let digits = currency.map_or(2, minor_digits);
    (major * 10f64.powi(digits as i32)).round() as i64
}

/// A number, or a string holding one (some clients send prices as text).
pub fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// A string, or a number written as one (order and product ids).
pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `text` upper-cased, if it looks like an ISO 4217 code.
pub fn currency_code(text: &str) -> Option<String> {
    let code = text.trim().to_ascii_uppercase();
    (code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())).then_some(code)
}

/// A value SQLite's `json_extract` gave, as text: strings as they are, numbers
/// written out; `None` for null, an empty string, or a blob.
pub fn cell_text(value: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match value {
        ValueRef::Text(t) if !t.is_empty() => std::str::from_utf8(t).ok().map(Cow::Borrowed),
        ValueRef::Integer(n) => Some(Cow::Owned(n.to_string())),
        ValueRef::Real(x) => Some(Cow::Owned(x.to_string())),
        _ => None,
    }
}

/// A value SQLite's `json_extract` gave, as a finite number (also from text).
pub fn cell_number(value: ValueRef<'_>) -> Option<f64> {
    match value {
        ValueRef::Integer(n) => Some(n as f64),
        ValueRef::Real(x) => Some(x),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// The parts of a stored track message the CRM reads; everything else is skipped
/// unparsed.
#[derive(Debug, Default, Deserialize)]
pub struct Message {
    /// Its properties.
    #[serde(default)]
    pub properties: Properties,
    /// Its context.
    #[serde(default)]
    pub context: Context,
}

/// The e-commerce spec properties the CRM reads.
#[derive(Debug, Default, Deserialize)]
pub struct Properties {
    /// An order's id.
    pub order_id: Option<Value>,
    /// A product's id.
    pub product_id: Option<Value>,
    /// A product's name.
    pub name: Option<Value>,
    /// A product's category.
    pub category: Option<Value>,
    /// ISO 4217.
    pub currency: Option<Value>,
    /// An order's goods after discounts, before tax and shipping.
    pub subtotal: Option<Value>,
    /// An order's revenue, without tax and shipping.
    pub revenue: Option<Value>,
    /// What the shopper paid.
    pub total: Option<Value>,
    /// A cart's value (Cart Abandoned).
    pub value: Option<Value>,
    /// A product list's id (Product Clicked, Product List Viewed).
    pub list_id: Option<Value>,
    /// Whether checkout had started (Cart Abandoned).
    pub checkout_started: Option<Value>,
    /// The lines of an order, checkout or cart.
    pub products: Option<Value>,
}

/// The context the CRM reads: the device.
#[derive(Debug, Default, Deserialize)]
pub struct Context {
    /// Segment's `context.device`.
    pub device: Option<Value>,
    /// The browser's user agent.
    #[serde(rename = "userAgent")]
    pub user_agent: Option<Value>,
}

impl Message {
    /// Reads a stored body; an unreadable one reads as empty.
    pub fn parse(body: &str) -> Message {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// `properties.currency`, upper-cased, if it looks like ISO 4217.
    pub fn currency(&self) -> Option<String> {
        text(self.properties.currency.as_ref()).and_then(|c| currency_code(&c))
    }

    /// The lines in `properties.products`: (product id, name, category, price,
    /// quantity), quantity 1 when not given.
    pub fn lines(&self) -> Vec<Line> {
        let Some(Value::Array(items)) = &self.properties.products else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let product_id = text(item.get("product_id")).or_else(|| text(item.get("sku")))?;
                Some(Line {
                    product_id,
                    name: text(item.get("name")),
                    category: text(item.get("category")),
                    price: number(item.get("price")),
                    quantity: number(item.get("quantity")).unwrap_or(1.0),
                })
            })
            .collect()
    }

    /// An order's value in major units (the module docs' order of fields).
    pub fn order_value(&self) -> Option<f64> {
        let p = &self.properties;
        number(p.subtotal.as_ref())
            .or_else(|| number(p.revenue.as_ref()))
            .or_else(|| number(p.total.as_ref()))
            .or_else(|| {
                let lines = self.lines();
                let priced: Vec<f64> = lines
                    .iter()
                    .filter_map(|l| Some(l.price? * l.quantity))
                    .collect();
                (!priced.is_empty()).then(|| priced.iter().sum())
            })
    }

    /// The device kind: `context.device.type`, else `mobile`, `tablet` or `desktop`
    /// from `context.userAgent`, else `unknown`.
    pub fn device(&self) -> String {
        if let Some(kind) = text(self.context.device.as_ref().and_then(|d| d.get("type"))) {
            return kind.to_ascii_lowercase();
        }
        text(self.context.user_agent.as_ref())
            .and_then(|ua| crate::ingest::device_class(&ua))
            .unwrap_or("unknown")
            .to_owned()
    }
}

/// One line of an order, checkout or cart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The product's id (or sku).
    pub product_id: String,
    /// Its name, as sent.
    pub name: Option<String>,
    /// Its category, as sent.
    pub category: Option<String>,
    /// Its unit price, major units.
    pub price: Option<f64>,
    /// How many.
    pub quantity: f64,
}

/// Whose orders to collect.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Every customer's.
    All,
    /// One profile's.
    Profile(i64),
}

/// The SQL of the ledger's orders, and of the `Order Completed` events, for
/// `scope`. The ledger's select `(order id, ms, value, currency, profile,
/// refunded)`; the events' `(message id, timestamp, body, profile, order_id,
/// currency, subtotal, revenue, total)`, the properties extracted by SQLite so that
/// the lines are parsed only when needed.
fn queries(scope: Scope) -> (&'static str, &'static str) {
    match scope {
        Scope::All => (
            "SELECT l.order_id, l.at_ms, l.qualifying - coalesce(r.refunded, 0), l.currency,
                    i.profile_id, r.refunded
             FROM loyalty_ledger l
             JOIN identities i ON i.kind = 'user_id' AND i.value = l.customer
             LEFT JOIN (SELECT order_id, SUM(qualifying) AS refunded FROM loyalty_ledger
                        WHERE kind = 'refund' GROUP BY order_id) r ON r.order_id = l.order_id
             WHERE l.kind = 'order' AND ?1 = ?1",
            "SELECT e.message_id, e.timestamp, e.body, coalesce(u.profile_id, a.profile_id),
                    json_extract(e.body, '$.properties.order_id'),
                    json_extract(e.body, '$.properties.currency'),
                    json_extract(e.body, '$.properties.subtotal'),
                    json_extract(e.body, '$.properties.revenue'),
                    json_extract(e.body, '$.properties.total')
             FROM events e
             LEFT JOIN identities u ON u.kind = 'user_id' AND u.value = e.user_id
             LEFT JOIN identities a ON a.kind = 'anonymous_id' AND a.value = e.anonymous_id
             WHERE e.type = 'track' AND e.event = 'Order Completed' AND ?1 = ?1",
        ),
        Scope::Profile(_) => (
            "SELECT l.order_id, l.at_ms, l.qualifying - coalesce(
                        (SELECT SUM(qualifying) FROM loyalty_ledger r
                         WHERE r.kind = 'refund' AND r.order_id = l.order_id), 0),
                    l.currency, ?1,
                    (SELECT SUM(qualifying) FROM loyalty_ledger r
                     WHERE r.kind = 'refund' AND r.order_id = l.order_id)
             FROM loyalty_ledger l
             WHERE l.kind = 'order' AND l.customer IN
                 (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id')",
            // The indexes by customer, not the track index, which would read every
            // order of the shop.
            "SELECT message_id, timestamp, body, ?1, json_extract(body, '$.properties.order_id'),
                    json_extract(body, '$.properties.currency'),
                    json_extract(body, '$.properties.subtotal'),
                    json_extract(body, '$.properties.revenue'),
                    json_extract(body, '$.properties.total')
             FROM events INDEXED BY events_user_id
             WHERE user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id')
               AND type = 'track' AND event = 'Order Completed'
             UNION ALL
             SELECT message_id, timestamp, body, ?1, json_extract(body, '$.properties.order_id'),
                    json_extract(body, '$.properties.currency'),
                    json_extract(body, '$.properties.subtotal'),
                    json_extract(body, '$.properties.revenue'),
                    json_extract(body, '$.properties.total')
             FROM events INDEXED BY events_anonymous_id
             WHERE anonymous_id IN
                     (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
               AND user_id IS NULL AND type = 'track' AND event = 'Order Completed'",
        ),
    }
}

/// An `Order Completed` event as read, with its parsed body.
pub struct OrderEvent {
    /// The order it stands for.
    pub order: Order,
    /// Its body, for the lines.
    pub message: Message,
}

/// The orders of `scope`, each once, oldest first; with `keep_events`, also the
/// `Order Completed` events read (for their lines). `progress` hears how many rows
/// each source gave.
pub fn collect(
    conn: &Connection,
    scope: Scope,
    keep_events: bool,
    progress: &mut dyn FnMut(&str),
) -> rusqlite::Result<(Vec<Order>, Vec<OrderEvent>)> {
    let profile = match scope {
        Scope::All => 0,
        Scope::Profile(id) => id,
    };
    let (ledger_sql, events_sql) = queries(scope);
    let mut by_id: HashMap<String, Order> = HashMap::new();
    let mut statement = conn.prepare_cached(ledger_sql)?;
    let mut rows = statement.query([profile])?;
    let mut ledger_rows = 0;
    while let Some(row) = rows.next()? {
        ledger_rows += 1;
        let Some(order_id) = row.get::<_, Option<String>>(0)? else {
            continue;
        };
        let value: i64 = row.get(2)?;
        let refunded: Option<i64> = row.get(5)?;
        if refunded.is_some() && value <= 0 {
            continue; // refunded in full
        }
        by_id.insert(
            order_id.clone(),
            Order {
                channel: Channel::of(&order_id),
                order_id,
                profile_id: row.get(4)?,
                at_ms: row.get(1)?,
                currency: row.get(3)?,
                value: Some(value),
                in_ledger: true,
                in_events: false,
            },
        );
    }
    let refunded_in_full = {
        // Ids the ledger dropped as refunded must not come back from their events.
        let mut statement = conn.prepare_cached(
            "SELECT DISTINCT order_id FROM loyalty_ledger WHERE kind = 'refund' AND order_id IS NOT NULL",
        )?;
        let ids = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.into_iter()
            .filter(|id| !by_id.contains_key(id))
            .collect::<std::collections::HashSet<_>>()
    };
    progress(&format!("read {ledger_rows} ledger orders"));

    let mut statement = conn.prepare_cached(events_sql)?;
    let mut rows = statement.query([profile])?;
    let mut events = Vec::new();
    let mut event_rows = 0;
    while let Some(row) = rows.next()? {
        event_rows += 1;
        let Some(profile_id) = row.get::<_, Option<i64>>(3)? else {
            continue;
        };
        let message_id: String = row.get(0)?;
        let timestamp: String = row.get(1)?;
        let order_id = cell_text(row.get_ref(4)?)
            .map(Cow::into_owned)
            .unwrap_or_else(|| format!("event:{message_id}"));
        if refunded_in_full.contains(&order_id) {
            continue;
        }
        let at_ms = crate::datetime::to_ms(&timestamp).unwrap_or(0) as i64;
        let currency = cell_text(row.get_ref(5)?).and_then(|c| currency_code(&c));
        let head = (6..=8)
            .map(|i| row.get_ref(i).map(cell_number))
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .next();
        // The body is parsed only for the lines: to price an order without an
        // amount, or for the caller.
        let message = if keep_events || head.is_none() {
            Some(Message::parse(row.get_ref(2)?.as_str()?))
        } else {
            None
        };
        let value = head
            .or_else(|| message.as_ref().and_then(Message::order_value))
            .map(|v| to_minor(v, currency.as_deref()));
        let order = by_id.entry(order_id.clone()).or_insert_with(|| Order {
            channel: Channel::of(&order_id),
            order_id,
            profile_id,
            at_ms,
            currency,
            value,
            in_ledger: false,
            in_events: false,
        });
        order.in_events = true;
        if let (true, Some(message)) = (keep_events, message) {
            events.push(OrderEvent {
                order: order.clone(),
                message,
            });
        }
    }
    progress(&format!("read {event_rows} Order Completed events"));
    let mut orders: Vec<Order> = by_id.into_values().collect();
    orders.sort_by(|a, b| (a.at_ms, &a.order_id).cmp(&(b.at_ms, &b.order_id)));
    Ok((orders, events))
}

/// The currency with the most orders (the first in alphabetical order on a tie).
pub fn main_currency(orders: &[Order]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for order in orders {
        if let Some(c) = &order.currency {
            *counts.entry(c).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(c, _)| c.to_owned())
}

/// Orders grouped by customer for the scores: orders after `as_of_ms` are left out;
/// monetary counts the orders in `currency` with a known value.
pub fn customers(
    orders: &[Order],
    as_of_ms: i64,
    currency: Option<&str>,
) -> Vec<super::rfm::Customer> {
    let mut by_profile: HashMap<i64, super::rfm::Customer> = HashMap::new();
    for order in orders.iter().filter(|o| o.at_ms <= as_of_ms) {
        let c = by_profile
            .entry(order.profile_id)
            .or_insert_with(|| super::rfm::Customer {
                profile_id: order.profile_id,
                first_ms: order.at_ms,
                last_ms: order.at_ms,
                ..Default::default()
            });
        c.first_ms = c.first_ms.min(order.at_ms);
        c.last_ms = c.last_ms.max(order.at_ms);
        c.order_ms.push(order.at_ms);
        match order.channel {
            Channel::Online => c.online += 1,
            Channel::Store => c.store += 1,
        }
        if let (Some(value), true) = (order.value, order.currency.as_deref() == currency) {
            c.monetary += value;
            c.money_orders += 1;
        }
    }
    let mut customers: Vec<_> = by_profile.into_values().collect();
    customers.sort_by_key(|c| c.profile_id);
    customers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_turns_into_minor_units_by_currency() {
        assert_eq!(to_minor(12.5, Some("SAR")), 1250);
        assert_eq!(to_minor(1.234, Some("KWD")), 1234);
        assert_eq!(to_minor(1500.0, Some("JPY")), 1500);
        assert_eq!(to_minor(0.1 + 0.2, None), 30);
    }

    #[test]
    fn an_order_value_prefers_the_subtotal_then_the_lines() {
        let order = |properties: Value| {
            Message::parse(&json!({ "properties": properties }).to_string()).order_value()
        };
        assert_eq!(order(json!({"subtotal": 10, "total": 12})), Some(10.0));
        assert_eq!(order(json!({"revenue": "9.5", "total": 12})), Some(9.5));
        assert_eq!(
            order(
                json!({"products": [{"product_id": "a", "price": 2.5, "quantity": 2},
                                     {"product_id": "b", "price": 1}]})
            ),
            Some(6.0)
        );
        assert_eq!(order(json!({"products": [{"product_id": "a"}]})), None);
        assert_eq!(Message::parse("not json").order_value(), None);
    }

    #[test]
    fn devices_come_from_the_context() {
        let device =
            |context: Value| Message::parse(&json!({ "context": context }).to_string()).device();
        assert_eq!(device(json!({"device": {"type": "Mobile"}})), "mobile");
        assert_eq!(
            device(json!({"userAgent": "Mozilla/5.0 (iPad; CPU OS 17_0)"})),
            "tablet"
        );
        assert_eq!(
            device(json!({"userAgent": "Mozilla/5.0 (Linux; Android 14) Mobile"})),
            "mobile"
        );
        assert_eq!(
            device(json!({"userAgent": "Mozilla/5.0 (X11; Linux x86_64)"})),
            "desktop"
        );
        assert_eq!(device(json!({"library": {"name": "souk"}})), "unknown");
    }
}
