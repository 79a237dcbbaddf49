//! `GET /v1/crm/loyalty`: the loyalty programme as the merchant configured it (the
//! `--loyalty-rules` file, in its own format), how many members hold each tier now,
//! and the points earned, spent, lapsed and still owed.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use rusqlite::Connection;
use serde_json::{json, Value};
use souk::core::loyalty::Rules;

use super::Staff;
use crate::http::{ApiError, AppState};
use crate::loyalty::Ledger;
use crate::{datetime, rules};

/// The route, to merge into the CRM's.
pub fn routes() -> Router<AppState> {
    let route = |r: MethodRouter<AppState>| r.fallback(crate::http::method_not_allowed);
    Router::new().route("/v1/crm/loyalty", route(get(view)))
}

/// `{rules, members: {total, tiers: [{id, name, threshold, customers}]}, points:
/// {owed, earned, spent, lapsed, adjusted}}` at `now_ms`.
pub fn summary(conn: &Connection, rules: &Rules, now_ms: u64) -> rusqlite::Result<Value> {
    let snapshot = conn.unchecked_transaction()?;
    let mut held = vec![0_i64; rules.tiers.len()];
    let mut members = 0;
    Ledger::each(conn, |ledger| {
        members += 1;
        if let Some(n) = held.get_mut(rules.tier_at(ledger.entries(), now_ms)) {
            *n += 1;
        }
        Ok(())
    })?;
    let points = |condition: &str| -> rusqlite::Result<i64> {
        conn.query_row(
            &format!("SELECT coalesce(SUM(points), 0) FROM loyalty_ledger WHERE {condition}"),
            [],
            |row| row.get(0),
        )
    };
    let owed = points("1")?;
    let earned = points("kind IN ('order', 'bonus') AND points > 0")?;
    let reversed = points("kind = 'refund'")?;
    let spent = points("kind IN ('redemption', 'release')")?;
    let lapsed = points("kind = 'expiry'")?;
    let adjusted = points("kind = 'adjustment'")?;
    snapshot.finish()?;
    let tiers: Vec<Value> = rules
        .tiers
        .iter()
        .zip(held)
        .map(|(tier, customers)| {
            json!({
                "id": tier.id,
                "name": { "en": tier.name.en, "ar": tier.name.ar },
                "threshold": tier.threshold,
                "multiplierPermille": tier.multiplier_permille,
                "customers": customers,
            })
        })
        .collect();
    Ok(json!({
        "rules": rules::to_json(rules),
        "members": { "total": members, "tiers": tiers },
        "points": {
            "owed": owed, "earned": earned, "reversed": -reversed, "spent": -spent,
            "lapsed": -lapsed, "adjusted": adjusted,
        },
    }))
}

/// `GET /v1/crm/loyalty`.
async fn view(State(state): State<AppState>, _: Staff) -> Result<Json<Value>, ApiError> {
    let rules = Arc::clone(&state.rules);
    let answer = state
        .store
        .read(move |conn| Ok(summary(conn, &rules, datetime::now_ms())?))
        .await?;
    Ok(Json(answer))
}
