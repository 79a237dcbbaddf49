//! The dashboard's first screen in one answer: sales (revenue, orders, AOV) over the
//! window, the funnel, the segment sizes of the latest refreshes, and consent rates.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::{json, Value};

use super::funnel::{self, By, Window};
use super::orders::{self, Channel, Scope};
use super::refresh;
use super::rfm::Segment;
use crate::consent::CATEGORIES;

/// How many past refreshes the segment history shows.
pub const HISTORY: i64 = 30;

/// Windows up to this many days are charted by day, longer ones by month.
pub const DAILY_UP_TO_DAYS: i64 = 92;

/// Revenue, orders and AOV per currency over `window`, and the series by day or month.
fn sales(conn: &Connection, window: &Window) -> rusqlite::Result<Value> {
    let (all, _) = orders::collect(conn, Scope::All, false, &mut |_| {})?;
    let (from, to) = (
        crate::datetime::to_ms(&window.from).unwrap_or(0) as i64,
        crate::datetime::to_ms(&window.to).unwrap_or(0) as i64,
    );
    let daily = (to - from) <= DAILY_UP_TO_DAYS * super::rfm::DAY_MS;
    #[derive(Default, Clone, Copy)]
    struct Tally {
        orders: usize,
        online: usize,
        store: usize,
        revenue: i64,
        valued: usize,
    }
    impl Tally {
        fn add(&mut self, order: &orders::Order) {
            self.orders += 1;
            match order.channel {
                Channel::Online => self.online += 1,
                Channel::Store => self.store += 1,
            }
            if let Some(v) = order.value {
                self.revenue += v;
                self.valued += 1;
            }
        }
        fn json(&self) -> Value {
            json!({
                "orders": self.orders, "online": self.online, "store": self.store,
                "revenue": self.revenue,
                "aov": (self.valued > 0).then(|| (self.revenue as f64 / self.valued as f64).round() as i64),
            })
        }
    }
    let mut totals: BTreeMap<String, Tally> = BTreeMap::new();
    let mut series: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for order in all.iter().filter(|o| o.at_ms >= from && o.at_ms < to) {
        let currency = order
            .currency
            .clone()
            .unwrap_or_else(|| "unknown".to_owned());
        totals.entry(currency.clone()).or_default().add(order);
        let at = souk::core::time::iso8601(order.at_ms.max(0) as u64);
        let bucket = at[..if daily { 10 } else { 7 }].to_owned();
        series.entry((bucket, currency)).or_default().add(order);
    }
    Ok(json!({
        "bucket": if daily { "day" } else { "month" },
        "byCurrency": totals.iter().map(|(c, t)| {
            let mut v = t.json();
            v["currency"] = json!(c);
            v
        }).collect::<Vec<_>>(),
        "series": series.iter().map(|((bucket, c), t)| {
            let mut v = t.json();
            v["at"] = json!(bucket);
            v["currency"] = json!(c);
            v
        }).collect::<Vec<_>>(),
    }))
}

/// The latest refreshes' segment sizes, oldest first.
fn history(conn: &Connection) -> rusqlite::Result<Vec<Value>> {
    let runs: Vec<(i64, String, String)> = conn
        .prepare_cached("SELECT id, finished_at, as_of FROM crm_runs ORDER BY id DESC LIMIT ?1")?
        .query_map([HISTORY], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut sizes =
        conn.prepare_cached("SELECT segment, customers FROM crm_run_segments WHERE run_id = ?1")?;
    let mut out = Vec::new();
    for (id, at, as_of) in runs.into_iter().rev() {
        let found: BTreeMap<String, i64> = sizes
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let segments: serde_json::Map<String, Value> = Segment::ALL
            .iter()
            .map(|s| {
                (
                    s.name().to_owned(),
                    json!(found.get(s.name()).copied().unwrap_or(0)),
                )
            })
            .collect();
        out.push(json!({ "run": id, "at": at, "asOf": as_of, "segments": segments }));
    }
    Ok(out)
}

/// Consent rates: of the consent records whose latest version falls in `window`,
/// the share that allow each category.
fn consent(conn: &Connection, window: &Window) -> rusqlite::Result<Value> {
    let (records, counts): (i64, Vec<i64>) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(functional), 0), COALESCE(SUM(analytics), 0),
                    COALESCE(SUM(personalization), 0), COALESCE(SUM(marketing), 0)
             FROM consents c
             WHERE c.updated_at = (SELECT MAX(updated_at) FROM consents WHERE consent_id = c.consent_id)
               AND c.updated_at >= ?1 AND c.updated_at < ?2",
        )?
        .query_row((&window.from, &window.to), |row| {
            Ok((row.get(0)?, (1..=4).map(|i| row.get(i)).collect::<rusqlite::Result<_>>()?))
        })?;
    let mut rates = serde_json::Map::new();
    rates.insert("necessary".to_owned(), json!((records > 0).then_some(1.0)));
    for (name, n) in CATEGORIES[1..].iter().zip(counts) {
        rates.insert(
            (*name).to_owned(),
            json!((records > 0).then(|| n as f64 / records as f64)),
        );
    }
    Ok(json!({ "records": records, "rates": rates }))
}

/// `GET /v1/crm/overview`: `{from, to, sales, funnel, segments, history, consent}`.
pub fn overview(conn: &Connection, window: &Window) -> rusqlite::Result<Value> {
    let snapshot = conn.unchecked_transaction()?;
    let sales = sales(conn, window)?;
    let mut funnel = funnel::funnel(conn, window, By::Nothing, false)?;
    let run = refresh::latest(conn)?;
    let history = history(conn)?;
    let consent = consent(conn, window)?;
    snapshot.finish()?;
    Ok(json!({
        "from": window.from,
        "to": window.to,
        "sales": sales,
        "funnel": {
            "steps": funnel["steps"].take(),
            "abandonedCarts": funnel["abandonedCarts"].take(),
            "recommendations": funnel["recommendations"].take(),
        },
        "segments": run.map(|r| r.to_json()),
        "history": history,
        "consent": consent,
    }))
}
