//! Customer 360: everything souk-server knows about one customer, and customer search.
//!
//! # Visits
//!
//! A *visit* is a session of one device: the profile's `page` and `screen` calls from
//! one anonymousId, split where 30 minutes pass without one (Google Analytics'
//! session timeout). Calls that name another customer's userId (a shared computer)
//! are that customer's. `days` counts the UTC days with a page call, `devices` the
//! anonymousIds that made one.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use souk::core::loyalty::Rules;

use super::orders::{self, Channel, Scope};
use super::refresh::trait_name;
use crate::identity::{self, Lookup};
use crate::{datetime, loyalty};

/// The gap that ends a visit, ms.
pub const VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// How many of the latest orders a profile lists.
pub const LATEST_ORDERS: usize = 20;

/// How many products a profile lists.
pub const TOP_PRODUCTS: usize = 10;

/// How a path names a customer: a userId, else a profile id.
pub fn resolve(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    let by_user: Option<i64> = conn
        .prepare_cached("SELECT profile_id FROM identities WHERE kind = 'user_id' AND value = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?;
    if by_user.is_some() {
        return Ok(by_user);
    }
    let Ok(id) = key.parse::<i64>() else {
        return Ok(None);
    };
    profile_id(conn, id)
}

/// The profile `id` is now: itself if it exists, else the profile it was merged into.
pub fn profile_id(conn: &Connection, mut id: i64) -> rusqlite::Result<Option<i64>> {
    for _ in 0..64 {
        let exists = conn
            .prepare_cached("SELECT 1 FROM identities WHERE profile_id = ?1 LIMIT 1")?
            .exists([id])?;
        if exists {
            return Ok(Some(id));
        }
        let into: Option<i64> = conn
            .prepare_cached(
                "SELECT into_profile FROM profile_merges WHERE from_profile = ?1 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([id], |row| row.get(0))
            .optional()?;
        match into {
            Some(next) => id = next,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The ids of kind `kind` in profile `profile`.
fn ids(conn: &Connection, profile: i64, kind: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT value FROM identities WHERE profile_id = ?1 AND kind = ?2 ORDER BY first_seen, id",
    )?
    .query_map((profile, kind), |row| row.get(0))?
    .collect()
}

/// The identify traits of the profile, merged oldest first (newer values win).
fn traits(conn: &Connection, profile: i64) -> rusqlite::Result<Map<String, Value>> {
    let mut merged = Map::new();
    let bodies: Vec<String> = conn
        .prepare_cached(
            "SELECT body, timestamp FROM events INDEXED BY events_user_id
             WHERE user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id')
               AND type = 'identify'
             UNION ALL
             SELECT body, timestamp FROM events INDEXED BY events_anonymous_id
             WHERE anonymous_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
               AND user_id IS NULL AND type = 'identify'
             ORDER BY 2",
        )?
        .query_map([profile], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for body in bodies {
        if let Ok(Value::Object(message)) = serde_json::from_str::<Value>(&body) {
            if let Some(Value::Object(traits)) = message.get("traits") {
                for (k, v) in traits {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Ok(merged)
}

/// Visits of the module docs: `{count, days, devices, firstAt, lastAt}`.
fn visits(conn: &Connection, profile: i64) -> rusqlite::Result<Value> {
    let mut statement = conn.prepare_cached(
        "SELECT anonymous_id, timestamp FROM events INDEXED BY events_anonymous_id
         WHERE anonymous_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
           AND type IN ('page', 'screen')
           AND (user_id IS NULL OR user_id IN
                (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id'))
         ORDER BY anonymous_id, timestamp",
    )?;
    let mut rows = statement.query([profile])?;
    let (mut count, mut days, mut devices) = (0, HashSet::new(), HashSet::new());
    let mut last: Option<(String, i64)> = None;
    let (mut first_at, mut last_at): (Option<String>, Option<String>) = (None, None);
    while let Some(row) = rows.next()? {
        let device: String = row.get(0)?;
        let at: String = row.get(1)?;
        let ms = datetime::to_ms(&at).unwrap_or(0) as i64;
        let new_visit = match &last {
            Some((d, t)) => *d != device || ms - t > VISIT_GAP_MS,
            None => true,
        };
        count += usize::from(new_visit);
        days.insert(at[..10].to_owned());
        devices.insert(device.clone());
        if first_at.as_ref().is_none_or(|f| at < *f) {
            first_at = Some(at.clone());
        }
        if last_at.as_ref().is_none_or(|l| at > *l) {
            last_at = Some(at.clone());
        }
        last = Some((device, ms));
    }
    Ok(json!({
        "count": count, "days": days.len(), "devices": devices.len(),
        "firstAt": first_at, "lastAt": last_at,
    }))
}

/// What a profile bought: `(orders, products, first and last order ms)`.
type Bought = (Value, Value, Option<(i64, i64)>);

/// A product's lines across orders: quantity, the orders, name, category.
#[derive(Default)]
struct Lines {
    quantity: f64,
    orders: HashSet<String>,
    name: Option<String>,
    category: Option<String>,
}

/// The profile's orders: counts, money per currency, the latest, and the products.
fn orders_json(conn: &Connection, profile: i64) -> rusqlite::Result<Bought> {
    let (orders, events) = orders::collect(conn, Scope::Profile(profile), true, &mut |_| {})?;
    let mut by_currency: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for order in &orders {
        let currency = order
            .currency
            .clone()
            .unwrap_or_else(|| "unknown".to_owned());
        let entry = by_currency.entry(currency).or_default();
        entry.0 += 1;
        if let Some(value) = order.value {
            entry.1 += value;
            entry.2 += 1;
        }
    }
    let count = |channel| orders.iter().filter(|o| o.channel == channel).count();
    let latest: Vec<Value> = orders
        .iter()
        .rev()
        .take(LATEST_ORDERS)
        .map(|o| {
            let mut sources = Vec::new();
            if o.in_events {
                sources.push("events");
            }
            if o.in_ledger {
                sources.push("ledger");
            }
            json!({
                "orderId": o.order_id,
                "at": souk::core::time::iso8601(o.at_ms.max(0) as u64),
                "channel": o.channel.name(),
                "value": o.value,
                "currency": o.currency,
                "sources": sources,
            })
        })
        .collect();
    let answer = json!({
        "total": orders.len(),
        "online": count(Channel::Online),
        "store": count(Channel::Store),
        "byCurrency": by_currency.iter().map(|(currency, (n, total, valued))| json!({
            "currency": currency,
            "orders": n,
            "total": total,
            "average": if *valued > 0 { Some((*total as f64 / *valued as f64).round() as i64) } else { None },
        })).collect::<Vec<_>>(),
        "latest": latest,
    });

    // Products, from the orders' lines (store orders carry none); each event once.
    let mut products: HashMap<String, Lines> = HashMap::new();
    let mut seen = HashSet::new();
    for event in &events {
        if !seen.insert(event.order.order_id.clone()) {
            continue;
        }
        for line in event.message.lines() {
            let entry = products.entry(line.product_id).or_default();
            entry.quantity += line.quantity;
            entry.orders.insert(event.order.order_id.clone());
            if line.name.is_some() {
                entry.name = line.name;
            }
            if line.category.is_some() {
                entry.category = line.category;
            }
        }
    }
    let mut products: Vec<(String, Lines)> = products.into_iter().collect();
    // Most orders first, then most units, then by id.
    products.sort_by(|(a_id, a), (b_id, b)| {
        b.orders
            .len()
            .cmp(&a.orders.len())
            .then(b.quantity.total_cmp(&a.quantity))
            .then_with(|| a_id.cmp(b_id))
    });
    // A line without a name or category (a GA4 purchase carries ids) takes the
    // catalogue's.
    let mut catalogue = conn.prepare_cached(
        "SELECT name_en, nullif(category, '') FROM catalog_products WHERE id = ?1",
    )?;
    let mut listed = Vec::new();
    for (id, mut lines) in products.into_iter().take(TOP_PRODUCTS) {
        if lines.name.is_none() || lines.category.is_none() {
            let known: Option<(String, Option<String>)> = catalogue
                .query_row([&id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            if let Some((name, category)) = known {
                lines.name = lines.name.or(Some(name));
                lines.category = lines.category.or(category);
            }
        }
        listed.push((id, lines));
    }
    let products: Vec<Value> = listed
        .into_iter()
        .map(|(id, lines)| {
            json!({
                "productId": id, "name": lines.name, "category": lines.category,
                "orders": lines.orders.len(), "quantity": lines.quantity,
            })
        })
        .collect();
    // Oldest first.
    let span = orders
        .first()
        .zip(orders.last())
        .map(|(a, b)| (a.at_ms, b.at_ms));
    Ok((answer, Value::Array(products), span))
}

/// The profile's chat: `{conversations, open, last}`.
fn chat(conn: &Connection, profile: i64) -> rusqlite::Result<Value> {
    let mine = "(anonymous_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
                 OR user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id'))";
    let (count, open): (i64, i64) = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*), COALESCE(SUM(status = 'open'), 0) FROM chat_conversations WHERE {mine}"
        ))?
        .query_row([profile], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let last = conn
        .prepare_cached(&format!(
            "SELECT c.id, c.status, c.created_at, c.updated_at,
                    (SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = c.id),
                    m.author, m.text, m.received_at
             FROM chat_conversations c
             LEFT JOIN chat_messages m ON m.seq = (SELECT MAX(seq) FROM chat_messages WHERE conversation_id = c.id)
             WHERE {mine} ORDER BY c.last_seq DESC, c.created_at DESC LIMIT 1"
        ))?
        .query_row([profile], |row| {
            let author: Option<String> = row.get(5)?;
            Ok(json!({
                "id": row.get::<_, String>(0)?,
                "status": row.get::<_, String>(1)?,
                "createdAt": row.get::<_, String>(2)?,
                "updatedAt": row.get::<_, String>(3)?,
                "messages": row.get::<_, i64>(4)?,
                "lastMessage": match author {
                    Some(author) => json!({
                        "author": author,
                        "text": row.get::<_, String>(6)?,
                        "at": row.get::<_, String>(7)?,
                    }),
                    None => Value::Null,
                },
            }))
        })
        .optional()?;
    Ok(json!({ "conversations": count, "open": open, "last": last }))
}

/// The profile's consent: the latest decision and every version, oldest first.
fn consent(conn: &Connection, profile: i64) -> rusqlite::Result<Value> {
    let history: Vec<Value> = conn
        .prepare_cached(
            "SELECT consent_id, anonymous_id, user_id, revision, language, source, functional,
                    analytics, personalization, marketing, gpc, updated_at, received_at
             FROM consents
             WHERE anonymous_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'anonymous_id')
                OR user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = 'user_id')
             ORDER BY updated_at, id",
        )?
        .query_map([profile], |row| {
            Ok(json!({
                "consentId": row.get::<_, String>(0)?,
                "anonymousId": row.get::<_, String>(1)?,
                "userId": row.get::<_, Option<String>>(2)?,
                "revision": row.get::<_, String>(3)?,
                "language": row.get::<_, String>(4)?,
                "source": row.get::<_, String>(5)?,
                "categories": {
                    "necessary": true,
                    "functional": row.get::<_, bool>(6)?,
                    "analytics": row.get::<_, bool>(7)?,
                    "personalization": row.get::<_, bool>(8)?,
                    "marketing": row.get::<_, bool>(9)?,
                },
                "gpc": row.get::<_, bool>(10)?,
                "updatedAt": row.get::<_, String>(11)?,
                "receivedAt": row.get::<_, String>(12)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // The latest decision of each device.
    let mut devices: BTreeMap<String, Value> = BTreeMap::new();
    for version in &history {
        devices.insert(
            version["anonymousId"].as_str().unwrap_or("").to_owned(),
            version.clone(),
        );
    }
    Ok(json!({
        "current": history.last(),
        "devices": devices.into_values().collect::<Vec<_>>(),
        "history": history,
    }))
}

/// The profile's scores from the latest refresh, if it has orders.
fn scores(conn: &Connection, profile: i64) -> rusqlite::Result<Option<Value>> {
    conn.prepare_cached(
        "SELECT c.segment, c.r, c.f, c.m, c.recency_days, c.monetary, c.aov, c.ltv, c.vip,
                r.currency, r.as_of, r.finished_at
         FROM crm_customers c JOIN crm_runs r ON r.id = c.run_id WHERE c.profile_id = ?1",
    )?
    .query_row([profile], |row| {
        Ok(json!({
            "segment": row.get::<_, String>(0)?,
            "r": row.get::<_, i64>(1)?, "f": row.get::<_, i64>(2)?, "m": row.get::<_, i64>(3)?,
            "recencyDays": row.get::<_, i64>(4)?,
            "monetary": row.get::<_, i64>(5)?,
            "aov": row.get::<_, i64>(6)?,
            "ltv": row.get::<_, i64>(7)?,
            "vip": row.get::<_, bool>(8)?,
            "currency": row.get::<_, Option<String>>(9)?,
            "asOf": row.get::<_, String>(10)?,
            "computedAt": row.get::<_, String>(11)?,
        }))
    })
    .optional()
}

/// Customer 360 of profile `profile`, with the loyalty account by `rules` at
/// `now_ms`; `None` if the profile does not exist. The graph and the loyalty account
/// are each read in their own snapshot (their functions take one), the rest in a
/// third.
pub fn view(
    conn: &Connection,
    rules: &Rules,
    profile: i64,
    now_ms: u64,
) -> rusqlite::Result<Option<Value>> {
    let Some((kind, value)) = conn
        .prepare_cached(
            "SELECT kind, value FROM identities WHERE profile_id = ?1 ORDER BY id LIMIT 1",
        )?
        .query_row([profile], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let kind = identity::LOOKUP_KINDS
        .iter()
        .copied()
        .find(|k| *k == kind)
        .unwrap_or(identity::USER_ID);
    let graph = identity::profile(conn, &Lookup { kind, value })?.unwrap_or(Value::Null);
    let user_ids = ids(conn, profile, identity::USER_ID)?;
    let loyalty = match user_ids.first() {
        Some(user) if loyalty::known(conn, user)? => {
            let account = loyalty::account(conn, rules, user, now_ms, true)?;
            json!({
                "userId": user,
                "balance": account["balance"],
                "tier": account["tier"],
                "spend": account["spend"],
                "next": account["next"],
                "expiry": account["expiry"],
            })
        }
        _ => Value::Null,
    };
    let snapshot = conn.unchecked_transaction()?;
    let emails = ids(conn, profile, identity::EMAIL)?;
    let phones = ids(conn, profile, identity::PHONE)?;
    let traits = traits(conn, profile)?;
    let visits = visits(conn, profile)?;
    let (orders, products, span) = orders_json(conn, profile)?;
    let chat = chat(conn, profile)?;
    let consent = consent(conn, profile)?;
    let rfm = scores(conn, profile)?;
    snapshot.finish()?;

    // First and last seen: any message of the profile, or any order (POS sales have
    // no message).
    let at = |ms: i64| souk::core::time::iso8601(ms.max(0) as u64);
    let first_order = span.map(|(first, _)| at(first));
    let order_at = span.map(|(_, last)| at(last));
    let pick = |a: Option<String>, b: Option<String>, earliest: bool| match (a, b) {
        (Some(a), Some(b)) => Some(if (a < b) == earliest { a } else { b }),
        (a, b) => a.or(b),
    };
    let events = &graph["events"];
    let first_seen = pick(
        events["firstSeen"].as_str().map(str::to_owned),
        first_order,
        true,
    );
    let last_seen = pick(
        events["lastSeen"].as_str().map(str::to_owned),
        order_at,
        false,
    );
    let traits = Value::Object(traits);
    Ok(Some(json!({
        "profileId": profile,
        "userId": user_ids.first(),
        "name": trait_name(&traits),
        "email": emails.last(),
        "phone": phones.last(),
        "traits": traits,
        "identities": graph["identities"],
        "links": graph["links"],
        "events": graph["events"],
        "firstSeen": first_seen,
        "lastSeen": last_seen,
        "visits": visits,
        "orders": orders,
        "products": products,
        "loyalty": loyalty,
        "chat": chat,
        "consent": consent,
        "rfm": rfm,
    })))
}

/// One search hit as listed.
fn summary(conn: &Connection, profile: i64) -> rusqlite::Result<Value> {
    let user = ids(conn, profile, identity::USER_ID)?;
    let emails = ids(conn, profile, identity::EMAIL)?;
    let phones = ids(conn, profile, identity::PHONE)?;
    let scored = conn
        .prepare_cached("SELECT name, segment, orders, monetary, last_order_at, vip FROM crm_customers WHERE profile_id = ?1")?
        .query_row([profile], |row| {
            Ok((
                row.get::<_, Option<String>>(0)?,
                json!({
                    "segment": row.get::<_, String>(1)?,
                    "orders": row.get::<_, i64>(2)?,
                    "monetary": row.get::<_, i64>(3)?,
                    "lastOrderAt": row.get::<_, String>(4)?,
                    "vip": row.get::<_, bool>(5)?,
                }),
            ))
        })
        .optional()?;
    let (name, rfm) = match scored {
        Some((name, rfm)) => (name, rfm),
        None => (None, Value::Null),
    };
    let name = match name {
        Some(name) => Some(name),
        None => trait_name(&Value::Object(traits(conn, profile)?)),
    };
    Ok(json!({
        "profileId": profile,
        "userId": user.first(),
        "name": name,
        "email": emails.last(),
        "phone": phones.last(),
        "rfm": rfm,
    }))
}

/// Profiles whose name (identify traits), email, phone or id matches `q`: ids and
/// normalised emails and phones exactly, or a part of an email, userId or name
/// (case-insensitive). Without `q`, the scored customers, best spenders first.
/// Answers `{q, total, limit, offset, customers}`.
pub fn search(conn: &Connection, q: &str, limit: usize, offset: usize) -> rusqlite::Result<Value> {
    let snapshot = conn.unchecked_transaction()?;
    let q = q.trim();
    let found: Vec<i64> = if q.is_empty() {
        conn.prepare_cached(
            "SELECT profile_id FROM crm_customers ORDER BY monetary DESC, profile_id",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?
    } else {
        matches(conn, q)?
    };
    let customers = found
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&p| summary(conn, p))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    snapshot.finish()?;
    Ok(json!({
        "q": q, "total": found.len(), "limit": limit, "offset": offset, "customers": customers,
    }))
}

/// The profiles matching `q`, exact matches first, then by profile id.
fn matches(conn: &Connection, q: &str) -> rusqlite::Result<Vec<i64>> {
    let mut exact: Vec<i64> = Vec::new();
    let mut partial: Vec<i64> = Vec::new();
    let email = identity::normalize_email(q);
    let phone = identity::normalize_phone(q);
    let mut statement =
        conn.prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?;
    for (kind, value) in [
        (identity::USER_ID, Some(q.to_owned())),
        (identity::ANONYMOUS_ID, Some(q.to_owned())),
        (identity::EMAIL, email),
        (identity::PHONE, phone),
    ] {
        if let Some(value) = value {
            if let Some(p) = statement
                .query_row((kind, &value), |row| row.get(0))
                .optional()?
            {
                exact.push(p);
            }
        }
    }
    if let Ok(id) = q.parse::<i64>() {
        if let Some(p) = profile_id(conn, id)? {
            exact.push(p);
        }
    }
    let pattern = format!("%{}%", q.replace(['%', '_', '\\'], ""));
    if pattern.len() > 2 {
        let mut statement = conn.prepare_cached(
            "SELECT DISTINCT profile_id FROM identities
             WHERE kind IN ('email', 'user_id') AND value LIKE ?1",
        )?;
        for p in statement.query_map([&pattern], |row| row.get(0))? {
            partial.push(p?);
        }
        // Names live in identify traits: read only the calls that mention q.
        let wanted = q.to_lowercase();
        let mut statement = conn.prepare_cached(
            "SELECT e.body, coalesce(u.profile_id, a.profile_id) FROM events e
             LEFT JOIN identities u ON u.kind = 'user_id' AND u.value = e.user_id
             LEFT JOIN identities a ON a.kind = 'anonymous_id' AND a.value = e.anonymous_id
             WHERE e.type = 'identify' AND e.body LIKE ?1",
        )?;
        let mut rows = statement.query([&pattern])?;
        while let Some(row) = rows.next()? {
            let Some(p) = row.get::<_, Option<i64>>(1)? else {
                continue;
            };
            let body: String = row.get(0)?;
            let Ok(message) = serde_json::from_str::<Value>(&body) else {
                continue;
            };
            let named =
                trait_name(&message["traits"]).is_some_and(|n| n.to_lowercase().contains(&wanted));
            if named {
                partial.push(p);
            }
        }
    }
    partial.sort_unstable();
    let mut seen = HashSet::new();
    Ok(exact
        .into_iter()
        .chain(partial)
        .filter(|p| seen.insert(*p))
        .collect())
}
