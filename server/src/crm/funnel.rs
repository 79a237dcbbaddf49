//! The funnel and what shoppers do on the way: drop-off, products viewed but not
//! bought, abandoned carts and recommendation clicks, over a window of time.
//!
//! # The funnel
//!
//! Product Viewed → Product Added → Checkout Started → Order Completed, counted in
//! *profiles* (a customer on two devices counts once): a profile reaches a step when
//! it sends that step's event at or after it reached the step before, within the
//! window. By day, each UTC day is a funnel of its own; by category, a profile goes
//! through the funnel of each category it viewed (an add, checkout or order counts
//! for the categories of its lines); by device, the device of each event
//! ([`Message::device`]: `context.device.type`, else the user agent, else
//! `unknown` — the plugin sends neither today, so its events are `unknown`).
//!
//! # Recommendations
//!
//! The plugin's `<souk-recommendations>` widget sends `Product List Viewed` once a
//! list is half in view and `Product Clicked` on a card, both with `list_id`
//! `souk-<surface>` (`souk-similar`, `souk-cart`, `souk-for-you`). So per surface:
//! `clicks`, `clickers` (profiles), `impressions` (the lists viewed), `ctr` = clicks ÷
//! impressions only when there are impressions (else null, never a guess), and
//! `addedAfterClick`, the clicks whose product the same profile then added to the
//! cart, an outcome rate that needs no impressions.

use std::collections::{BTreeMap, HashMap, HashSet};

use std::borrow::Cow;

use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::{json, Value};

use super::orders::{cell_number, cell_text, currency_code, to_minor};
use crate::datetime;

/// The funnel's steps, in order.
pub const STEPS: [&str; 4] = [
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
];

/// How many products the viewed-but-not-bought list holds.
pub const TOP_NOT_BOUGHT: usize = 10;

/// How many abandoned carts are listed.
pub const LATEST_CARTS: usize = 20;

/// The default window: the 30 days up to now.
pub const DEFAULT_DAYS: u64 = 30;

/// A window of time, `[from, to)` in the stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The start, inclusive.
    pub from: String,
    /// The end, exclusive.
    pub to: String,
}

impl Window {
    /// `from` and `to` as given: a day `YYYY-MM-DD` (from its start; `to` through its
    /// end) or an RFC 3339 date-time. `to` defaults to now, `from` to
    /// [`DEFAULT_DAYS`] before `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Window, String> {
        let at = |name: &str, text: &str, end: bool| -> Result<String, String> {
            if let Some(at) = datetime::normalize(text) {
                return Ok(at);
            }
            let day = if end {
                super::refresh::day_end(text)
            } else if text.len() == 10 {
                datetime::normalize(&format!("{text}T00:00:00Z"))
            } else {
                None
            };
            day.ok_or_else(|| format!("{name}: must be a day such as 2011-12-01 or an RFC 3339 date-time, got {text:?}"))
        };
        let to = match to {
            Some(text) => at("to", text, true)?,
            None => datetime::now(),
        };
        let from = match from {
            Some(text) => at("from", text, false)?,
            None => {
                let end = datetime::to_ms(&to).unwrap_or(0);
                souk::core::time::iso8601(end.saturating_sub(DEFAULT_DAYS * 86_400_000))
            }
        };
        if from >= to {
            return Err(format!(
                "from: must be before to ({from} is not before {to})"
            ));
        }
        Ok(Window { from, to })
    }
}

/// How to group the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// One funnel.
    Nothing,
    /// A funnel per UTC day.
    Day,
    /// A funnel per product category.
    Category,
    /// A funnel per device kind.
    Device,
}

impl By {
    /// `day`, `category` or `device`.
    pub fn parse(text: &str) -> Result<By, String> {
        match text {
            "day" => Ok(By::Day),
            "category" => Ok(By::Category),
            "device" => Ok(By::Device),
            _ => Err(format!("by: must be day, category or device, got {text:?}")),
        }
    }
}

/// Each user and anonymous id's profile, looked up once per id (a join per event
/// row costs more than the whole pass).
struct Profiles<'c> {
    conn: &'c Connection,
    users: HashMap<String, Option<i64>>,
    devices: HashMap<String, Option<i64>>,
}

impl<'c> Profiles<'c> {
    fn new(conn: &'c Connection) -> Self {
        Profiles {
            conn,
            users: HashMap::new(),
            devices: HashMap::new(),
        }
    }

    /// The profile of an event: its userId's, else its anonymousId's.
    fn of(&mut self, row: &Row<'_>) -> rusqlite::Result<Option<i64>> {
        for (column, kind) in [(1, "user_id"), (2, "anonymous_id")] {
            let Some(id) = cell_text(row.get_ref(column)?) else {
                continue;
            };
            let cache = if column == 1 {
                &mut self.users
            } else {
                &mut self.devices
            };
            if let Some(found) = cache.get(id.as_ref()) {
                return Ok(*found);
            }
            let found = self
                .conn
                .prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?
                .query_row((kind, id.as_ref()), |r| r.get(0))
                .optional()?;
            cache.insert(id.into_owned(), found);
            return Ok(found);
        }
        Ok(None)
    }
}

/// The columns every pass selects (`each`).
const AT: usize = 0;
const PRODUCT: usize = 3;
const NAME: usize = 4;
const CATEGORY: usize = 5;
const DEVICE: usize = 6;
const USER_AGENT: usize = 7;
const LIST: usize = 8;
const VALUE: usize = 9;
const CURRENCY: usize = 10;
const CHECKOUT: usize = 11;
const LINE_PRODUCT: usize = 12;
const LINE_CATEGORY: usize = 13;
const LINES: usize = 14;

/// What SQLite extracts for each column from [`PRODUCT`] on.
const EXTRACTS: [&str; 12] = [
    "json_extract(e.body, '$.properties.product_id')",
    "json_extract(e.body, '$.properties.name')",
    "json_extract(e.body, '$.properties.category')",
    "json_extract(e.body, '$.context.device.type')",
    "json_extract(e.body, '$.context.userAgent')",
    "json_extract(e.body, '$.properties.list_id')",
    "json_extract(e.body, '$.properties.value')",
    "json_extract(e.body, '$.properties.currency')",
    "json_extract(e.body, '$.properties.checkout_started')",
    "json_extract(item.value, '$.product_id')",
    "json_extract(item.value, '$.category')",
    "json_array_length(e.body, '$.properties.products')",
];

/// Calls `f` on each `event` of the window, oldest first, straight from the track
/// index. Only the `columns` asked for are extracted from the body (the others are
/// null): reading a row is cheap, parsing its JSON is not. With a line column,
/// once per line of `properties.products` (once, lines null, when it has none).
fn each(
    conn: &Connection,
    window: &Window,
    event: &str,
    columns: &[usize],
    f: &mut dyn FnMut(&Row<'_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let lines = columns.contains(&LINE_PRODUCT) || columns.contains(&LINE_CATEGORY);
    let join = if lines {
        "LEFT JOIN json_each(e.body, '$.properties.products') item"
    } else {
        ""
    };
    let extracts: Vec<&str> = EXTRACTS
        .iter()
        .enumerate()
        .map(|(i, sql)| {
            if columns.contains(&(PRODUCT + i)) {
                *sql
            } else {
                "NULL"
            }
        })
        .collect();
    let sql = format!(
        "SELECT e.timestamp, e.user_id, e.anonymous_id, {}
         FROM events e {join}
         WHERE e.type = 'track' AND e.event = ?1 AND e.timestamp >= ?2 AND e.timestamp < ?3
         ORDER BY e.timestamp",
        extracts.join(", ")
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query((event, &window.from, &window.to))?;
    while let Some(row) = rows.next()? {
        f(row)?;
    }
    Ok(())
}

fn at<'r>(row: &'r Row<'_>) -> rusqlite::Result<&'r str> {
    row.get_ref(AT)?.as_str().map_err(Into::into)
}

fn cell<'r>(row: &'r Row<'_>, column: usize) -> rusqlite::Result<Option<Cow<'r, str>>> {
    Ok(cell_text(row.get_ref(column)?))
}

/// The group keys, interned.
#[derive(Default)]
struct Groups {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Groups {
    fn id(&mut self, key: &str) -> u32 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(key.to_owned(), id);
        self.names.push(key.to_owned());
        id
    }
}

/// The device kind of a row: `context.device.type`, else from the user agent.
fn device(row: &Row<'_>) -> rusqlite::Result<String> {
    if let Some(kind) = cell(row, DEVICE)? {
        return Ok(kind.to_ascii_lowercase());
    }
    Ok(match cell(row, USER_AGENT)? {
        Some(ua) if ua.contains("iPad") || ua.contains("Tablet") => "tablet",
        Some(ua) if ua.contains("Mobi") || ua.contains("Android") => "mobile",
        Some(_) => "desktop",
        None => "unknown",
    }
    .to_owned())
}

/// The group key of the whole window.
const OVERALL: u32 = u32::MAX;

/// The funnel's progress: who reached which step when, overall and per group.
struct Progress {
    by: By,
    groups: Groups,
    /// (group, profile) → (the last step reached, when).
    reached: HashMap<(u32, i64), (usize, String)>,
    counts: HashMap<u32, [usize; 4]>,
}

impl Progress {
    fn new(by: By) -> Self {
        Progress {
            by,
            groups: Groups::default(),
            reached: HashMap::new(),
            counts: HashMap::new(),
        }
    }

    /// The row's group, for a step whose category comes from `category` (the
    /// product's, or the line's).
    fn key(&mut self, row: &Row<'_>, category: usize) -> rusqlite::Result<u32> {
        Ok(match self.by {
            By::Nothing => OVERALL,
            By::Day => self.groups.id(&at(row)?[..10]),
            By::Device => {
                let device = device(row)?;
                self.groups.id(&device)
            }
            By::Category => {
                let category = cell(row, category)?;
                self.groups.id(category.as_deref().unwrap_or("(none)"))
            }
        })
    }

    /// Counts the row's profile at `step`, overall and in its group, if it reached
    /// the step before by then.
    fn advance(
        &mut self,
        row: &Row<'_>,
        profile: i64,
        step: usize,
        category: usize,
    ) -> rusqlite::Result<()> {
        let at = at(row)?;
        self.step(OVERALL, profile, step, at);
        if self.by != By::Nothing {
            let key = self.key(row, category)?;
            self.step(key, profile, step, at);
        }
        Ok(())
    }

    fn step(&mut self, key: u32, profile: i64, step: usize, at: &str) {
        let advanced = match self.reached.get_mut(&(key, profile)) {
            None if step == 0 => {
                self.reached.insert((key, profile), (0, at.to_owned()));
                true
            }
            Some((last, when)) if *last + 1 == step && at >= when.as_str() => {
                *last = step;
                at.clone_into(when);
                true
            }
            _ => false,
        };
        if advanced {
            self.counts.entry(key).or_default()[step] += 1;
        }
    }

    /// The whole window's counts.
    fn overall(&self) -> [usize; 4] {
        self.counts.get(&OVERALL).copied().unwrap_or_default()
    }

    /// Each group's counts, in key order.
    fn groups(&self) -> BTreeMap<String, [usize; 4]> {
        self.counts
            .iter()
            .filter(|(id, _)| **id != OVERALL)
            .map(|(id, counts)| (self.groups.names[*id as usize].clone(), *counts))
            .collect()
    }
}

fn steps_json(counts: [usize; 4]) -> Vec<Value> {
    STEPS
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let share = |of: usize| (of > 0).then(|| counts[i] as f64 / of as f64);
            json!({
                "event": event,
                "profiles": counts[i],
                "conversion": share(counts[0]),
                "fromPrevious": if i == 0 { None } else { share(counts[i - 1]) },
                "dropOff": if i == 0 { None } else { share(counts[i - 1]).map(|s| 1.0 - s) },
            })
        })
        .collect()
}

/// A product viewed in the window.
#[derive(Default)]
struct Viewed {
    name: Option<String>,
    category: Option<String>,
    viewers: HashSet<i64>,
    buyers: HashSet<i64>,
}

/// A recommendation surface's clicks.
#[derive(Default)]
struct Surface {
    clicks: usize,
    clickers: HashSet<i64>,
    impressions: usize,
    added: usize,
}

/// A click waiting for its add to cart: (surface, when, counted yet).
type Click = (String, String, bool);

/// A product's name and category from the catalogue, when the events had none.
fn catalogue(conn: &Connection, id: &str) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached("SELECT name_en, category FROM catalog_products WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

/// `GET /v1/crm/funnel`: `{from, to, unit, steps, by?, groups?, viewedNotBought?,
/// abandonedCarts, recommendations}`. One pass per event name over the track index,
/// oldest first, keeping only each profile's progress: memory grows with profiles
/// and products, not events. Without `detail` (the overview), no product is read
/// from the views, adds and orders, so there is no `viewedNotBought` and no
/// `addedAfterClick`, and the steps cost no JSON parsing.
pub fn funnel(conn: &Connection, window: &Window, by: By, detail: bool) -> rusqlite::Result<Value> {
    // The columns each pass needs for its group.
    let group: &[usize] = match by {
        By::Device => &[DEVICE, USER_AGENT],
        By::Category => &[CATEGORY],
        By::Nothing | By::Day => &[],
    };
    let line_group: &[usize] = match by {
        By::Device => &[DEVICE, USER_AGENT],
        By::Category => &[LINE_CATEGORY],
        By::Nothing | By::Day => &[],
    };
    let with = |base: &[usize], more: &[usize]| [base, more].concat();
    let mut profiles = Profiles::new(conn);
    let mut progress = Progress::new(by);
    let mut viewed: HashMap<String, Viewed> = HashMap::new();
    let mut surfaces: BTreeMap<String, Surface> = BTreeMap::new();
    // profile → product → its clicks.
    let mut clicks: HashMap<i64, HashMap<String, Vec<Click>>> = HashMap::new();
    let mut last_order: HashMap<i64, String> = HashMap::new();
    let surface_of = |row: &Row<'_>| -> rusqlite::Result<Option<String>> {
        Ok(cell(row, LIST)?
            .and_then(|id| id.strip_prefix("souk-").map(str::to_owned))
            .filter(|s| !s.is_empty()))
    };

    let product: &[usize] = if detail {
        &[PRODUCT, NAME, CATEGORY]
    } else {
        &[]
    };
    each(conn, window, STEPS[0], &with(group, product), &mut |row| {
        let Some(profile) = profiles.of(row)? else {
            return Ok(());
        };
        progress.advance(row, profile, 0, CATEGORY)?;
        if let Some(id) = cell(row, PRODUCT)? {
            if !viewed.contains_key(id.as_ref()) {
                viewed.insert(id.clone().into_owned(), Viewed::default());
            }
            let product = viewed.get_mut(id.as_ref()).expect("inserted above");
            product.viewers.insert(profile);
            if product.name.is_none() {
                product.name = cell(row, NAME)?.map(Cow::into_owned);
            }
            if product.category.is_none() {
                product.category = cell(row, CATEGORY)?.map(Cow::into_owned);
            }
        }
        Ok(())
    })?;
    each(
        conn,
        window,
        "Product Clicked",
        &[LIST, PRODUCT],
        &mut |row| {
            let Some(surface) = surface_of(row)? else {
                return Ok(());
            };
            let Some(profile) = profiles.of(row)? else {
                return Ok(());
            };
            let s = surfaces.entry(surface.clone()).or_default();
            s.clicks += 1;
            s.clickers.insert(profile);
            if let Some(product) = cell(row, PRODUCT)? {
                clicks
                    .entry(profile)
                    .or_default()
                    .entry(product.into_owned())
                    .or_default()
                    .push((surface, at(row)?.to_owned(), false));
            }
            Ok(())
        },
    )?;
    each(conn, window, "Product List Viewed", &[LIST], &mut |row| {
        if let Some(surface) = surface_of(row)? {
            surfaces.entry(surface).or_default().impressions += 1;
        }
        Ok(())
    })?;
    let product: &[usize] = if detail { &[PRODUCT] } else { &[] };
    each(conn, window, STEPS[1], &with(group, product), &mut |row| {
        let Some(profile) = profiles.of(row)? else {
            return Ok(());
        };
        progress.advance(row, profile, 1, CATEGORY)?;
        // A click counts as added when its product is added after it.
        let Some(products) = clicks.get_mut(&profile) else {
            return Ok(());
        };
        let Some(product) = cell(row, PRODUCT)? else {
            return Ok(());
        };
        let Some(waiting) = products.get_mut(product.as_ref()) else {
            return Ok(());
        };
        let when = at(row)?;
        for (surface, clicked, counted) in waiting.iter_mut() {
            if !*counted && clicked.as_str() <= when {
                *counted = true;
                surfaces.entry(surface.clone()).or_default().added += 1;
            }
        }
        Ok(())
    })?;
    each(conn, window, STEPS[2], line_group, &mut |row| {
        let Some(profile) = profiles.of(row)? else {
            return Ok(());
        };
        progress.advance(row, profile, 2, LINE_CATEGORY)
    })?;
    let product: &[usize] = if detail { &[LINE_PRODUCT] } else { &[] };
    each(
        conn,
        window,
        STEPS[3],
        &with(line_group, product),
        &mut |row| {
            let Some(profile) = profiles.of(row)? else {
                return Ok(());
            };
            progress.advance(row, profile, 3, LINE_CATEGORY)?;
            if let Some(product) = cell(row, LINE_PRODUCT)? {
                if let Some(v) = viewed.get_mut(product.as_ref()) {
                    v.buyers.insert(profile);
                }
            }
            at(row)?.clone_into(last_order.entry(profile).or_default());
            Ok(())
        },
    )?;

    // Abandoned carts, and whether the profile ordered after.
    let mut carts = Vec::new();
    let mut by_currency: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    let mut cart_profiles = HashSet::new();
    each(
        conn,
        window,
        "Cart Abandoned",
        &[VALUE, CURRENCY, CHECKOUT, LINES],
        &mut |row| {
            let Some(profile) = profiles.of(row)? else {
                return Ok(());
            };
            let currency = cell(row, CURRENCY)?.and_then(|c| currency_code(&c));
            let value = cell_number(row.get_ref(VALUE)?).map(|v| to_minor(v, currency.as_deref()));
            let entry = by_currency
                .entry(currency.clone().unwrap_or_else(|| "unknown".to_owned()))
                .or_default();
            entry.0 += 1;
            entry.1 += value.unwrap_or(0);
            cart_profiles.insert(profile);
            let when = at(row)?.to_owned();
            let recovered = last_order.get(&profile).is_some_and(|o| *o > when);
            let checkout = match row.get_ref(CHECKOUT)? {
                rusqlite::types::ValueRef::Integer(n) => Some(n != 0),
                _ => None,
            };
            carts.push(json!({
                "profileId": profile,
                "at": when,
                "value": value,
                "currency": currency,
                "items": row.get::<_, Option<i64>>(LINES)?.unwrap_or(0),
                "checkoutStarted": checkout,
                "recovered": recovered,
            }));
            Ok(())
        },
    )?;

    let overall = progress.overall();
    let mut answer = json!({
        "from": window.from,
        "to": window.to,
        "unit": "profiles",
        "steps": steps_json(overall),
    });
    if by != By::Nothing {
        answer["by"] = json!(match by {
            By::Day => "day",
            By::Category => "category",
            By::Device => "device",
            By::Nothing => unreachable!("handled above"),
        });
        answer["groups"] = progress
            .groups()
            .into_iter()
            .map(|(key, counts)| json!({ "key": key, "steps": steps_json(counts) }))
            .collect();
    }

    let mut ranked: Vec<(String, Viewed)> = viewed
        .into_iter()
        .filter(|(_, v)| v.viewers.len() > v.viewers.intersection(&v.buyers).count())
        .collect();
    let not_bought = |v: &Viewed| v.viewers.len() - v.viewers.intersection(&v.buyers).count();
    ranked.sort_by(|a, b| {
        (not_bought(&b.1), b.1.viewers.len())
            .cmp(&(not_bought(&a.1), a.1.viewers.len()))
            .then_with(|| a.0.cmp(&b.0))
    });
    let mut top = Vec::new();
    for (id, v) in ranked.into_iter().take(TOP_NOT_BOUGHT) {
        let (mut name, mut category) = (v.name.clone(), v.category.clone());
        if name.is_none() || category.is_none() {
            if let Some((n, c)) = catalogue(conn, &id)? {
                name = name.or(Some(n));
                category = category.or(Some(c));
            }
        }
        let buyers = v.viewers.intersection(&v.buyers).count();
        top.push(json!({
            "productId": id, "name": name, "category": category,
            "viewers": v.viewers.len(), "buyers": buyers, "notBought": v.viewers.len() - buyers,
        }));
    }
    if detail {
        answer["viewedNotBought"] = json!(top);
    }

    let count = carts.len();
    let recovered = carts.iter().filter(|c| c["recovered"] == true).count();
    carts.reverse();
    carts.truncate(LATEST_CARTS);
    answer["abandonedCarts"] = json!({
        "count": count,
        "profiles": cart_profiles.len(),
        "recovered": recovered,
        "value": by_currency.iter().map(|(c, (n, v))| json!({"currency": c, "carts": n, "total": v})).collect::<Vec<_>>(),
        "latest": carts,
    });
    answer["recommendations"] = surfaces
        .into_iter()
        .map(|(surface, s)| {
            json!({
                "surface": surface,
                "listId": format!("souk-{surface}"),
                "clicks": s.clicks,
                "clickers": s.clickers.len(),
                "impressions": s.impressions,
                "ctr": (s.impressions > 0).then(|| s.clicks as f64 / s.impressions as f64),
                "addedAfterClick": detail.then_some(s.added),
                "addRate": (detail && s.clicks > 0).then(|| s.added as f64 / s.clicks as f64),
            })
        })
        .collect();
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest;

    fn db(messages: &[Value]) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations().to_latest(&mut conn).unwrap();
        let events: Vec<_> = messages
            .iter()
            .map(|m| ingest::parse_message(m, "message").unwrap())
            .collect();
        ingest::insert(&conn, &events, "2024-06-01T00:00:00.000Z").unwrap();
        conn
    }

    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn track(event: &str, at: &str, anon: &str, properties: Value) -> Value {
        json!({
            "type": "track", "event": event, "anonymousId": anon,
            "messageId": format!("m{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
            "timestamp": format!("2024-05-0{at}:00Z"), "properties": properties,
        })
    }

    fn window() -> Window {
        Window::parse(Some("2024-05-01"), Some("2024-05-31")).unwrap()
    }

    fn profiles(steps: &Value) -> Vec<i64> {
        steps
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["profiles"].as_i64().unwrap())
            .collect()
    }

    #[test]
    fn a_step_counts_only_after_the_step_before() {
        let conn = db(&[
            track("Product Viewed", "1T10:00", "a", json!({})),
            track("Product Added", "1T10:01", "a", json!({})),
            track("Order Completed", "1T10:05", "a", json!({})),
            // Added before viewing: not in the funnel until added again.
            track("Product Added", "1T11:00", "b", json!({})),
            track("Product Viewed", "1T11:01", "b", json!({})),
            track("Product Viewed", "2T09:00", "c", json!({})),
            track("Product Added", "2T09:01", "c", json!({})),
            track("Checkout Started", "2T09:02", "c", json!({})),
        ]);
        let answer = funnel(&conn, &window(), By::Day, true).unwrap();
        assert_eq!(profiles(&answer["steps"]), [3, 2, 1, 0]);
        assert_eq!(answer["groups"][0]["key"], "2024-05-01");
        assert_eq!(profiles(&answer["groups"][0]["steps"]), [2, 1, 0, 0]);
        assert_eq!(profiles(&answer["groups"][1]["steps"]), [1, 1, 1, 0]);
        assert_eq!(answer["steps"][1]["fromPrevious"], 2.0 / 3.0);
    }

    #[test]
    fn categories_come_from_the_product_or_the_lines() {
        let conn = db(&[
            track("Product Viewed", "1T10:00", "a", json!({"category": "tea"})),
            track("Product Added", "1T10:01", "a", json!({"category": "tea"})),
            track(
                "Checkout Started",
                "1T10:02",
                "a",
                json!({"products": [
                {"product_id": "t", "category": "tea"}, {"product_id": "m", "category": "mugs"}]}),
            ),
            track(
                "Product Viewed",
                "1T10:03",
                "a",
                json!({"category": "mugs"}),
            ),
        ]);
        let answer = funnel(&conn, &window(), By::Category, true).unwrap();
        let groups: Vec<(String, Vec<i64>)> = answer["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["key"].as_str().unwrap().to_owned(), profiles(&g["steps"])))
            .collect();
        assert_eq!(
            groups,
            [
                ("mugs".to_owned(), vec![1, 0, 0, 0]),
                ("tea".to_owned(), vec![1, 1, 1, 0])
            ]
        );
        assert_eq!(profiles(&answer["steps"]), [1, 1, 1, 0]);
    }

    #[test]
    fn clicks_on_recommendations_count_per_surface() {
        let conn = db(&[
            track(
                "Product List Viewed",
                "1T10:00",
                "a",
                json!({"list_id": "souk-similar"}),
            ),
            track(
                "Product List Viewed",
                "1T10:00",
                "b",
                json!({"list_id": "souk-similar"}),
            ),
            track(
                "Product Clicked",
                "1T10:01",
                "a",
                json!({"list_id": "souk-similar", "product_id": "p1"}),
            ),
            track("Product Added", "1T10:02", "a", json!({"product_id": "p1"})),
            track(
                "Product Clicked",
                "1T10:03",
                "a",
                json!({"list_id": "souk-cart", "product_id": 2}),
            ),
            track(
                "Product Clicked",
                "1T10:04",
                "a",
                json!({"list_id": "home-banner", "product_id": "p3"}),
            ),
        ]);
        let surfaces =
            funnel(&conn, &window(), By::Nothing, true).unwrap()["recommendations"].clone();
        assert_eq!(surfaces.as_array().unwrap().len(), 2);
        assert_eq!(surfaces[0]["surface"], "cart");
        assert_eq!(surfaces[0]["ctr"], Value::Null, "no impressions, no CTR");
        assert_eq!(surfaces[1]["surface"], "similar");
        assert_eq!(surfaces[1]["ctr"], 0.5);
        assert_eq!(surfaces[1]["addedAfterClick"], 1);
    }

    #[test]
    fn viewed_but_not_bought_and_abandoned_carts() {
        let line = |id: &str| json!({"product_id": id, "price": 5, "quantity": 2});
        let conn = db(&[
            track(
                "Product Viewed",
                "1T10:00",
                "a",
                json!({"product_id": "p1", "name": "Dates"}),
            ),
            track(
                "Product Viewed",
                "1T10:00",
                "b",
                json!({"product_id": "p1"}),
            ),
            track(
                "Product Viewed",
                "1T10:00",
                "b",
                json!({"product_id": "p2"}),
            ),
            track(
                "Cart Abandoned",
                "1T11:00",
                "a",
                json!({"value": 10, "currency": "KWD", "products": [line("p1")]}),
            ),
            track(
                "Order Completed",
                "1T12:00",
                "a",
                json!({"products": [line("p1")]}),
            ),
            track(
                "Cart Abandoned",
                "1T12:30",
                "b",
                json!({"value": 2.5, "currency": "KWD", "checkout_started": true, "products": [line("p2")]}),
            ),
        ]);
        let answer = funnel(&conn, &window(), By::Nothing, true).unwrap();
        let top = &answer["viewedNotBought"];
        assert_eq!(
            top[0],
            json!({"productId": "p1", "name": "Dates", "category": null, "viewers": 2, "buyers": 1, "notBought": 1})
        );
        assert_eq!(top[1]["productId"], "p2");
        let carts = &answer["abandonedCarts"];
        assert_eq!(carts["count"], 2);
        assert_eq!(carts["recovered"], 1);
        assert_eq!(
            carts["value"],
            json!([{"currency": "KWD", "carts": 2, "total": 12_500}])
        );
        assert_eq!(carts["latest"][0]["checkoutStarted"], true);
        assert_eq!(carts["latest"][0]["items"], 1);
    }

    #[test]
    fn windows_read_days_and_date_times() {
        let w = Window::parse(Some("2011-12-01"), Some("2011-12-09")).unwrap();
        assert_eq!(w.from, "2011-12-01T00:00:00.000Z");
        assert_eq!(w.to, "2011-12-10T00:00:00.000Z");
        let w = Window::parse(None, Some("2024-05-31T00:00:00Z")).unwrap();
        assert_eq!(w.from, "2024-05-01T00:00:00.000Z");
        assert!(Window::parse(Some("2024-06-01"), Some("2024-05-01")).is_err());
        assert!(Window::parse(Some("May"), None)
            .unwrap_err()
            .starts_with("from:"));
    }
}
