//! The merchant's own segments: named [`Filter`]s, kept in `crm_custom_segments`
//! and evaluated against the latest refresh's scores (`crm_customers`) when read,
//! with the tier, the products and categories bought, and the consent read only when
//! the filter asks for them.
//!
//! | endpoint | does |
//! |---|---|
//! | `GET /v1/crm/custom-segments` | every custom segment, with its size now |
//! | `PUT /v1/crm/custom-segments/{name}` `{label, filter}` | saves one, answers its size |
//! | `DELETE /v1/crm/custom-segments/{name}` | removes one |
//! | `POST /v1/crm/custom-segments/preview` `{filter}` | the size and first customers, unsaved |
//!
//! A saved segment's customers and CSV are at `/v1/crm/segments/{name}/customers` and
//! `/v1/crm/segments/{name}.csv`, like the RFM segments.

use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put, MethodRouter};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use souk::core::loyalty::Rules;

use super::filter::{Facts, Filter, Needs, Shop};
use super::orders;
use super::rfm::{Segment, DAY_MS};
use super::{bad_request, Staff};
use crate::body::JsonBody;
use crate::fields::{quote, Fields};
use crate::http::{ApiError, AppState};
use crate::loyalty::Ledger;
use crate::{datetime, identity};

/// How many customers a preview shows.
const PREVIEW: usize = 10;

/// The most custom segments a shop keeps.
pub const MAX_SEGMENTS: i64 = 100;

/// The routes, to merge into the CRM's.
pub fn routes() -> Router<AppState> {
    let route = |r: MethodRouter<AppState>| r.fallback(crate::http::method_not_allowed);
    Router::new()
        .route("/v1/crm/custom-segments", route(get(list)))
        .route("/v1/crm/custom-segments/preview", route(post(preview)))
        .route(
            "/v1/crm/custom-segments/{name}",
            route(put(save).delete(remove)),
        )
}

/// Compiles `text` for this shop: its tiers, and the currency of the latest refresh.
pub fn compile(conn: &Connection, rules: &Rules, text: &str) -> rusqlite::Result<Compiled> {
    let currency: Option<String> = conn
        .query_row(
            "SELECT currency FROM crm_runs ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    let tiers: Vec<&str> = rules.tiers.iter().map(|t| t.id.as_str()).collect();
    let shop = Shop {
        tiers: &tiers,
        minor_digits: currency.as_deref().map_or(2, orders::minor_digits),
    };
    Ok(Filter::parse(text, shop).map_err(|e| bad_request(format!("filter: {e}"))))
}

/// A filter compiled, or why it does not read.
pub type Compiled = Result<Filter, ApiError>;

/// The saved filter of custom segment `name`, if there is one.
pub fn saved(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT filter FROM crm_custom_segments WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()
}

/// The profiles of the latest refresh that pass `filter`, best spenders first.
pub fn matching(conn: &Connection, rules: &Rules, filter: &Filter) -> rusqlite::Result<Vec<i64>> {
    let snapshot = conn.unchecked_transaction()?;
    let customers = facts(conn, rules, filter.needs())?;
    snapshot.finish()?;
    Ok(customers
        .into_iter()
        .filter(|(_, facts)| filter.matches(facts))
        .map(|(profile, _)| profile)
        .collect())
}

/// Every scored customer's facts, best spenders first; the costly ones only when
/// `needs` says so.
fn facts(conn: &Connection, rules: &Rules, needs: Needs) -> rusqlite::Result<Vec<(i64, Facts)>> {
    let as_of_ms = conn
        .query_row(
            "SELECT as_of FROM crm_runs ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get::<_, String>(0),
        )
        .optional()?
        .and_then(|at| datetime::to_ms(&at))
        .unwrap_or_else(datetime::now_ms);
    let mut customers: Vec<(i64, Option<String>, Facts)> = conn
        .prepare(
            "SELECT profile_id, user_id, segment, vip, orders, online_orders, store_orders,
                    monetary, aov, ltv, recency_days, first_order_at
             FROM crm_customers ORDER BY monetary DESC, profile_id",
        )?
        .query_map([], |row| {
            let first: String = row.get(11)?;
            let first_ms = datetime::to_ms(&first).unwrap_or(as_of_ms);
            Ok((
                row.get(0)?,
                row.get(1)?,
                Facts {
                    segment: row.get(2)?,
                    vip: row.get(3)?,
                    orders: row.get(4)?,
                    online_orders: row.get(5)?,
                    store_orders: row.get(6)?,
                    spent: row.get(7)?,
                    aov: row.get(8)?,
                    ltv: row.get(9)?,
                    last_order_days: row.get(10)?,
                    first_order_days: (as_of_ms.saturating_sub(first_ms) / DAY_MS as u64) as i64,
                    ..Facts::default()
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if needs.tier {
        let mut tiers = HashMap::new();
        Ledger::each(conn, |ledger| {
            tiers.insert(
                ledger.customer().to_owned(),
                rules.tier_at(ledger.entries(), as_of_ms),
            );
            Ok(())
        })?;
        for (_, user, facts) in &mut customers {
            facts.tier = user.as_ref().and_then(|user| tiers.get(user).copied());
        }
    }
    if needs.products {
        let mut bought = products(conn)?;
        for (profile, _, facts) in &mut customers {
            if let Some((products, categories)) = bought.remove(profile) {
                facts.products = products.into_iter().collect();
                facts.categories = categories.into_iter().collect();
            }
        }
    }
    if needs.consent {
        let mut granted = consents(conn)?;
        for (profile, _, facts) in &mut customers {
            if let Some(granted) = granted.remove(profile) {
                facts.consent = granted.into_iter().map(str::to_owned).collect();
            }
        }
    }
    Ok(customers
        .into_iter()
        .map(|(profile, _, facts)| (profile, facts))
        .collect())
}

/// Each profile's products and categories (lower-cased) bought online: from the
/// `Order Completed` lines, a line's category else the catalogue's, read by
/// SQLite's JSON functions without parsing whole events. Store sales carry no
/// lines.
#[allow(clippy::type_complexity)]
fn products(conn: &Connection) -> rusqlite::Result<HashMap<i64, (Vec<String>, Vec<String>)>> {
    let mut statement = conn.prepare(
        "SELECT coalesce(u.profile_id, a.profile_id),
                coalesce(json_extract(p.value, '$.product_id'), json_extract(p.value, '$.sku')) AS product,
                coalesce(nullif(json_extract(p.value, '$.category'), ''), c.category)
         FROM events e
         JOIN json_each(e.body, '$.properties.products') p
         LEFT JOIN identities u ON u.kind = 'user_id' AND u.value = e.user_id
         LEFT JOIN identities a ON a.kind = 'anonymous_id' AND a.value = e.anonymous_id
         LEFT JOIN catalog_products c ON c.id = product AND c.category != ''
         WHERE e.type = 'track' AND e.event = 'Order Completed'",
    )?;
    let mut bought: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let Some(profile) = row.get::<_, Option<i64>>(0)? else {
            continue;
        };
        let (products, categories) = bought.entry(profile).or_default();
        if let Some(product) = orders::cell_text(row.get_ref(1)?) {
            products.push(product.into_owned());
        }
        if let Some(category) = orders::cell_text(row.get_ref(2)?) {
            categories.push(category.to_lowercase());
        }
    }
    Ok(bought)
}

/// The consent categories each profile's latest choice grants, over all its
/// anonymousIds and userIds (as the triggers read it, [`crate::triggers`]).
fn consents(conn: &Connection) -> rusqlite::Result<HashMap<i64, Vec<&'static str>>> {
    let mut statement = conn.prepare(
        "SELECT i.profile_id, c.functional, c.analytics, c.personalization, c.marketing
         FROM consents c JOIN identities i
              ON (i.kind = ?1 AND i.value = c.anonymous_id) OR (i.kind = ?2 AND i.value = c.user_id)
         ORDER BY c.updated_at, c.id",
    )?;
    let rows = statement.query_map([identity::ANONYMOUS_ID, identity::USER_ID], |row| {
        let mut granted = Vec::new();
        for (i, category) in crate::consent::choices().iter().enumerate() {
            if row.get::<_, bool>(i + 1)? {
                granted.push(*category);
            }
        }
        Ok((row.get::<_, i64>(0)?, granted))
    })?;
    rows.collect()
}

/// A custom segment's name: 1 to 40 lower-case letters, digits and `-`, not a
/// built-in segment's, `vip` or `all`.
fn check_name(name: &str) -> Result<(), ApiError> {
    let fine = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !fine {
        return Err(bad_request(format!(
            "name: {} must be 1 to 40 lower-case letters, digits and -, such as lapsed-kitchen",
            quote(&json!(name))
        )));
    }
    if name == "vip" || name == "all" || name == "preview" || Segment::parse(name).is_some() {
        return Err(bad_request(format!(
            "name: {name} is a built-in segment's; choose another"
        )));
    }
    Ok(())
}

/// `GET /v1/crm/custom-segments`: `{segments: [{name, label, filter, customers,
/// createdAt, updatedAt}]}`, by name.
async fn list(State(state): State<AppState>, _: Staff) -> Result<Json<Value>, ApiError> {
    let rules = std::sync::Arc::clone(&state.rules);
    let segments = state
        .store
        .read(move |conn| {
            let rows: Vec<(String, String, String, String, String)> = conn
                .prepare(
                    "SELECT name, label, filter, created_at, updated_at
                     FROM crm_custom_segments ORDER BY name",
                )?
                .query_map([], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let compiled = rows
                .iter()
                .map(|row| compile(conn, &rules, &row.2))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // The customers' facts once, for every segment: what any of them needs.
            let needs = compiled
                .iter()
                .flatten()
                .fold(Needs::default(), |needs, filter| needs.or(filter.needs()));
            let snapshot = conn.unchecked_transaction()?;
            let customers = facts(conn, &rules, needs)?;
            snapshot.finish()?;
            let mut out = Vec::new();
            for ((name, label, text, created, updated), filter) in rows.into_iter().zip(compiled) {
                // A filter that no longer reads (a tier was renamed) shows its error.
                let (customers, problem) = match filter {
                    Ok(filter) => (
                        Some(customers.iter().filter(|(_, f)| filter.matches(f)).count()),
                        None,
                    ),
                    Err(e) => (None, Some(e.message().to_owned())),
                };
                out.push(json!({
                    "name": name, "label": label, "filter": text, "customers": customers,
                    "problem": problem, "createdAt": created, "updatedAt": updated,
                }));
            }
            Ok(out)
        })
        .await?;
    Ok(Json(json!({ "segments": segments })))
}

/// The `filter` text of a body, and its other fields checked against `allowed`.
fn filter_text(body: &Value, allowed: &[&str]) -> Result<String, ApiError> {
    let fields = Fields::of(body, "")?;
    if let Some(unknown) = fields.names().find(|n| !allowed.contains(n)) {
        return Err(bad_request(format!(
            "{unknown}: is not a field here; send {}",
            allowed.join(" and ")
        )));
    }
    match body.get("filter") {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(bad_request(format!(
            "filter: must be a string, got {}",
            quote(other)
        ))),
        None => Err(bad_request(
            "filter: is required, such as \"segment = at-risk and orders >= 3\"",
        )),
    }
}

/// `PUT /v1/crm/custom-segments/{name}` `{label?, filter}`: saves the segment (the
/// label defaults to the name) and answers it with its size.
async fn save(
    State(state): State<AppState>,
    _: Staff,
    name: Result<UrlPath<String>, PathRejection>,
    JsonBody(body): JsonBody<8192>,
) -> Result<Json<Value>, ApiError> {
    let UrlPath(name) = name.map_err(|e| bad_request(e.body_text()))?;
    check_name(&name)?;
    let text = filter_text(&body, &["label", "filter"])?;
    let label = match body.get("label") {
        None | Some(Value::Null) => name.clone(),
        Some(Value::String(label)) if !label.trim().is_empty() && label.chars().count() <= 80 => {
            label.trim().to_owned()
        }
        Some(other) => {
            return Err(bad_request(format!(
                "label: must be a text of 1 to 80 characters, got {}",
                quote(other)
            )))
        }
    };
    let rules = std::sync::Arc::clone(&state.rules);
    let checked = text.clone();
    state
        .store
        .read(move |conn| Ok(compile(conn, &rules, &checked)?.map(drop)))
        .await??;
    let now = datetime::now();
    let (saved_name, saved_label, saved_text) = (name.clone(), label.clone(), text.clone());
    let kept = state
        .store
        .write(move |conn| {
            let count: i64 = conn.query_row(
                "SELECT COUNT(*) FROM crm_custom_segments WHERE name != ?1",
                [&saved_name],
                |row| row.get(0),
            )?;
            if count >= MAX_SEGMENTS {
                return Ok(false);
            }
            conn.execute(
                "INSERT INTO crm_custom_segments (name, label, filter, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (name) DO UPDATE SET label = excluded.label,
                     filter = excluded.filter, updated_at = excluded.updated_at",
                params![saved_name, saved_label, saved_text, now],
            )?;
            Ok(true)
        })
        .await?;
    if !kept {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("a shop keeps at most {MAX_SEGMENTS} custom segments; delete one first"),
        ));
    }
    let answer = sample(&state, text).await?;
    Ok(Json(
        json!({ "name": name, "label": label, "filter": answer.0, "customers": answer.1 }),
    ))
}

/// `DELETE /v1/crm/custom-segments/{name}`: 204, or 404 when there is none.
async fn remove(
    State(state): State<AppState>,
    _: Staff,
    name: Result<UrlPath<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let UrlPath(name) = name.map_err(|e| bad_request(e.body_text()))?;
    let wanted = name.clone();
    let removed = state
        .store
        .write(move |conn| {
            Ok(conn.execute("DELETE FROM crm_custom_segments WHERE name = ?1", [&wanted])?)
        })
        .await?;
    if removed == 0 {
        return Err(not_found(&name));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// No custom segment `name`.
pub fn not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no custom segment {}", quote(&json!(name))),
    )
}

/// The filter's text and how many customers pass it, with the first [`PREVIEW`].
async fn sample(state: &AppState, text: String) -> Result<(String, usize, Vec<Value>), ApiError> {
    let rules = std::sync::Arc::clone(&state.rules);
    state
        .store
        .read(move |conn| {
            let filter = match compile(conn, &rules, &text)? {
                Ok(filter) => filter,
                Err(e) => return Ok(Err(e)),
            };
            let profiles = matching(conn, &rules, &filter)?;
            let (_, rows) = super::segment_rows(
                conn,
                &super::Which::Profiles(profiles[..profiles.len().min(PREVIEW)].to_vec()),
                PREVIEW,
                0,
            )?;
            Ok(Ok((
                text,
                profiles.len(),
                rows.into_iter().map(super::row_json).collect(),
            )))
        })
        .await?
}

/// `POST /v1/crm/custom-segments/preview` `{filter}`: `{filter, customers, sample}`,
/// the first [`PREVIEW`] customers best spenders first; nothing is saved.
async fn preview(
    State(state): State<AppState>,
    _: Staff,
    JsonBody(body): JsonBody<8192>,
) -> Result<Json<Value>, ApiError> {
    let text = filter_text(&body, &["filter"])?;
    let (filter, customers, sample) = sample(&state, text).await?;
    Ok(Json(
        json!({ "filter": filter, "customers": customers, "sample": sample }),
    ))
}
