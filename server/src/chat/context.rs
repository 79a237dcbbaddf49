//! What an agent sees about the shopper beside the conversation, from what souk
//! already stores: their page, their cart, what they looked at, their loyalty
//! account and their earlier conversations.
//!
//! The shopper's events are those stored under the conversation's anonymousId, and
//! under its userId once identified.
//! - Page: the newer of the page the widget sent with a message (`context`) and the
//!   latest `page` event.
//! - Cart: the shopper's latest cart events ("Product Added", "Product Removed",
//!   "Cart Viewed", "Checkout Started", "Order Completed") replayed in time order
//!   through `souk::core::cart::Cart`, the rules the plugin itself keeps the cart
//!   with; an order empties it. `null` when it holds nothing.
//! - Recently viewed: the last five distinct products of "Product Viewed", named
//!   from the catalogue when the event did not name them.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use souk::core::cart::{Cart, Change};
use souk::core::loyalty::Rules;

use crate::{datetime, ingest};

/// How many of the shopper's latest cart events are replayed.
const CART_EVENTS: i64 = 500;

/// How many recently viewed products are listed.
const VIEWED: usize = 5;

/// How many earlier conversations are listed.
const EARLIER: i64 = 10;

/// The conversation's shopper, as stored.
pub(super) struct Shopper<'a> {
    pub conversation: &'a str,
    pub anonymous_id: &'a str,
    pub user_id: Option<&'a str>,
    /// The page the widget last sent, and when.
    pub context: Option<Value>,
    pub context_at: Option<&'a str>,
}

/// `{page, cart, recentlyViewed, loyalty, earlier}` of `shopper`.
pub(super) fn of(
    conn: &Connection,
    rules: &Rules,
    shopper: &Shopper<'_>,
) -> rusqlite::Result<Value> {
    Ok(json!({
        "page": page(conn, shopper)?,
        "cart": cart(conn, shopper)?,
        "recentlyViewed": recently_viewed(conn, shopper)?,
        "loyalty": loyalty(conn, rules, shopper.user_id)?,
        "earlier": earlier(conn, shopper)?,
    }))
}

/// The shopper's events of `type` (and of these `event` names, if any), newest first.
fn events(
    conn: &Connection,
    shopper: &Shopper<'_>,
    kind: &str,
    names: &[&str],
    limit: i64,
) -> rusqlite::Result<Vec<(String, String, Value)>> {
    let names = serde_json::to_string(names).expect("strings are JSON");
    conn.prepare_cached(
        "SELECT message_id, event, timestamp, body FROM events
         WHERE anonymous_id = ?1 AND type = ?3
           AND (?4 = '[]' OR event IN (SELECT value FROM json_each(?4)))
         UNION
         SELECT message_id, event, timestamp, body FROM events
         WHERE user_id = ?2 AND type = ?3
           AND (?4 = '[]' OR event IN (SELECT value FROM json_each(?4)))
         ORDER BY timestamp DESC, message_id DESC LIMIT ?5",
    )?
    .query_map(
        params![shopper.anonymous_id, shopper.user_id, kind, names, limit],
        read_event,
    )?
    .collect()
}

fn read_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, Value)> {
    let event: Option<String> = row.get(1)?;
    let body: String = row.get(3)?;
    Ok((
        event.unwrap_or_default(),
        row.get(2)?,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    ))
}

/// `{url, title, at, source: "chat" | "events"}` of the page the shopper is on.
fn page(conn: &Connection, shopper: &Shopper<'_>) -> rusqlite::Result<Value> {
    let from_chat = shopper.context.as_ref().map(|context| {
        json!({
            "url": context.get("url"),
            "title": context.get("title"),
            "lang": context.get("lang"),
            "at": shopper.context_at,
            "source": "chat",
        })
    });
    let from_events = events(conn, shopper, "page", &[], 1)?
        .into_iter()
        .next()
        .map(|(_, at, body)| {
            let text = |path: &[&str]| {
                path.iter()
                    .try_fold(&body, |value, key| value.get(key))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            json!({
                "url": text(&["properties", "url"]).or_else(|| text(&["context", "page", "url"])),
                "title": text(&["properties", "title"])
                    .or_else(|| text(&["context", "page", "title"]))
                    .or_else(|| text(&["name"])),
                "at": at,
                "source": "events",
            })
        });
    Ok(match (from_chat, from_events) {
        (Some(chat), Some(events)) => {
            if events["at"].as_str() > chat["at"].as_str() {
                events
            } else {
                chat
            }
        }
        (chat, events) => chat.or(events).unwrap_or(Value::Null),
    })
}

/// `{items: [{productId, name, price, quantity}], currency, checkoutStarted,
/// updatedAt}` of the shopper's cart, or `null` when it is empty.
fn cart(conn: &Connection, shopper: &Shopper<'_>) -> rusqlite::Result<Value> {
    let names = [
        "Product Added",
        "Product Removed",
        "Cart Viewed",
        "Checkout Started",
        "Order Completed",
    ];
    let mut cart = Cart::new(String::new(), 0);
    let mut updated_at = None;
    for (event, at, body) in events(conn, shopper, "track", &names, CART_EVENTS)?
        .into_iter()
        .rev()
    {
        let at_ms = datetime::to_ms(&at).unwrap_or_default();
        match cart.apply(&event, &ingest::properties(&body), at_ms) {
            Change::Ordered => cart = Cart::new(String::new(), at_ms),
            Change::Kept => {}
            Change::None => continue,
        }
        updated_at = Some(at);
    }
    if cart.items.is_empty() {
        return Ok(Value::Null);
    }
    let items: Vec<Value> = cart
        .items
        .iter()
        .map(|item| {
            json!({
                "productId": item.product_id,
                "name": item.name,
                "price": item.price,
                "quantity": item.quantity,
            })
        })
        .collect();
    Ok(json!({
        "items": items,
        "currency": cart.currency,
        "checkoutStarted": cart.checkout,
        "updatedAt": updated_at,
    }))
}

/// The last [`VIEWED`] distinct products the shopper viewed, newest first.
fn recently_viewed(conn: &Connection, shopper: &Shopper<'_>) -> rusqlite::Result<Vec<Value>> {
    let mut seen: Vec<Value> = Vec::new();
    for (_, at, body) in events(conn, shopper, "track", &["Product Viewed"], 50)? {
        let p = &body["properties"];
        let Some(id) = p["product_id"].as_str().or_else(|| p["sku"].as_str()) else {
            continue;
        };
        if seen.iter().any(|v| v["productId"] == id) {
            continue;
        }
        let name = match p["name"].as_str() {
            Some(name) => Some(name.to_owned()),
            None => conn
                .prepare_cached("SELECT name_en FROM catalog_products WHERE id = ?1")?
                .query_row([id], |row| row.get::<_, String>(0))
                .optional()?,
        };
        seen.push(json!({
            "productId": id,
            "name": name,
            "price": p.get("price"),
            "currency": p.get("currency"),
            "url": p.get("url"),
            "at": at,
        }));
        if seen.len() == VIEWED {
            break;
        }
    }
    Ok(seen)
}

/// `{balance, tier, next, spend}` of an identified shopper the ledger knows.
fn loyalty(conn: &Connection, rules: &Rules, user_id: Option<&str>) -> rusqlite::Result<Value> {
    let Some(user_id) = user_id else {
        return Ok(Value::Null);
    };
    if !crate::loyalty::known(conn, user_id)? {
        return Ok(Value::Null);
    }
    let account = crate::loyalty::account(conn, rules, user_id, datetime::now_ms(), false)?;
    Ok(json!({
        "balance": account["balance"],
        "tier": account["tier"],
        "next": account["next"],
        "spend": account["spend"],
    }))
}

/// The shopper's other conversations, latest first.
fn earlier(conn: &Connection, shopper: &Shopper<'_>) -> rusqlite::Result<Vec<Value>> {
    conn.prepare_cached(
        "SELECT c.id, c.status, c.created_at, c.closed_at, c.csat, m.text
         FROM chat_conversations c LEFT JOIN chat_messages m ON m.seq = c.last_seq
         WHERE c.id <> ?1 AND (c.anonymous_id = ?2 OR c.user_id = ?3)
         ORDER BY c.last_seq DESC LIMIT ?4",
    )?
    .query_map(
        params![
            shopper.conversation,
            shopper.anonymous_id,
            shopper.user_id,
            EARLIER
        ],
        |row| {
            Ok(json!({
                "id": row.get::<_, String>(0)?,
                "status": row.get::<_, String>(1)?,
                "createdAt": row.get::<_, String>(2)?,
                "closedAt": row.get::<_, Option<String>>(3)?,
                "rating": row.get::<_, Option<i64>>(4)?,
                "lastMessage": row.get::<_, Option<String>>(5)?.map(|t| super::console::preview(&t)),
            }))
        },
    )?
    .collect()
}
