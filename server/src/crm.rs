//! The merchant's CRM: customer 360, RFM segments with lifetime value and VIPs, the
//! funnel, and the dashboard overview, under `/v1/crm`.
//!
//! Every endpoint takes the merchant's server key (`Authorization: Bearer`) or the
//! session cookie of a staff account with role `merchant` (`souk-server agent add
//! --role merchant`; a plain agent gets 403). Cookie requests must come from the
//! server's own pages: a browser's `Sec-Fetch-Site: cross-site` or `same-site` is
//! refused, and there is no CORS. Money is in minor units, per currency.
//!
//! | endpoint | answers |
//! |---|---|
//! | `GET /v1/crm/customers?q=&limit=&offset=` | search by name, email, phone or id ([`customer::search`]) |
//! | `GET /v1/crm/customers/{userId or profileId}` | customer 360 ([`customer::view`]) |
//! | `GET /v1/crm/segments` | the latest refresh: segment sizes, money, LTV, VIPs |
//! | `GET /v1/crm/segments/{name}/customers?limit=&offset=` | a segment's customers, best spenders first (`vip` and `all` too) |
//! | `GET /v1/crm/segments/{name}.csv` | the same, every row, as CSV |
//! | `GET`/`PUT`/`DELETE /v1/crm/custom-segments…` | the merchant's own segments ([`custom`], in the language of [`filter`]) |
//! | `GET /v1/crm/funnel?from=&to=&by=day\|category\|device` | the funnel, viewed-not-bought, abandoned carts, recommendation clicks ([`funnel`]) |
//! | `GET /v1/crm/overview?from=&to=` | sales, funnel, segment history, consent rates ([`overview`]) |
//! | `GET /v1/crm/loyalty` | the loyalty rules, members per tier, points owed ([`programme`]) |
//! | `POST /v1/crm/refresh` | recomputes the segments now ([`refresh`]) |
//! | `GET`/`PUT /v1/crm/settings` | the VIP rule, the RFM currency, the as-of date |
//!
//! How the scores, segments and lifetime value are computed is in [`rfm`]; which
//! orders count, in [`orders`]; why they are materialised, in [`refresh`].

pub mod bench;
pub mod custom;
pub mod customer;
pub mod filter;
pub mod funnel;
pub mod orders;
pub mod overview;
pub mod page;
pub mod programme;
pub mod refresh;
pub mod rfm;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path as UrlPath, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::auth::ServerKey;
use crate::body::JsonBody;
use crate::chat::agents;
use crate::fields::{quote, Fields};
use crate::http::{ApiError, AppState};
use crate::store::Store;
use crate::{datetime, Error};

use refresh::{Progress, Run, Settings};
use rfm::{Segment, VipRule};

/// The most rows one page lists.
pub const MAX_LIMIT: usize = 500;

/// The rows a page lists when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;

/// Who called a CRM endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staff {
    /// The merchant's backend, with the server key.
    ServerKey,
    /// A signed-in staff account with role `merchant`.
    Merchant {
        /// Its agent id.
        agent_id: i64,
    },
}

/// The roles a staff account may have.
pub const ROLES: [&str; 2] = ["agent", "merchant"];

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if parts.headers.contains_key(AUTHORIZATION) {
            return ServerKey::from_request_parts(parts, state)
                .await
                .map(|_| Staff::ServerKey)
                .map_err(IntoResponse::into_response);
        }
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "send the server key as Authorization: Bearer <server key>, or sign in with POST /v1/agent/login as staff with the merchant role (the souk_agent cookie is missing, expired or signed out)",
            )
            .into_response()
        };
        let token = agents::session_token(&parts.headers).ok_or_else(unauthorized)?;
        same_origin(&parts.headers).map_err(IntoResponse::into_response)?;
        let hash = agents::token_hash(&token);
        let found = state
            .store
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT a.id, a.role FROM agent_sessions s JOIN agents a ON a.id = s.agent_id
                         WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                    )?
                    .query_row(params![hash, datetime::now()], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                    })
                    .optional()?)
            })
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        match found {
            None => Err(unauthorized()),
            Some((agent_id, role)) if role == "merchant" => Ok(Staff::Merchant { agent_id }),
            Some((_, role)) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the CRM is for merchants, and this account's role is {role}: add one with `souk-server agent add --role merchant`"),
            )
            .into_response()),
        }
    }
}

/// Refuses what a browser marks as sent from another site: cookie requests serve the
/// dashboard's own pages only.
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the CRM API only answers the dashboard's own pages (same origin) when signed in with a cookie",
        ));
    }
    Ok(())
}

/// The CRM's routes, to merge into the application's router.
pub fn routes() -> Router<AppState> {
    let route = |r: MethodRouter<AppState>| r.fallback(crate::http::method_not_allowed);
    Router::new()
        .route("/v1/crm/customers", route(get(search)))
        .route("/v1/crm/customers/{key}", route(get(customer_view)))
        .route("/v1/crm/segments", route(get(segments)))
        .route("/v1/crm/segments/{name}", route(get(segment_file)))
        .route(
            "/v1/crm/segments/{name}/customers",
            route(get(segment_customers)),
        )
        .route("/v1/crm/funnel", route(get(funnel_view)))
        .route("/v1/crm/overview", route(get(overview_view)))
        .route("/v1/crm/refresh", route(post(refresh_now)))
        .route(
            "/v1/crm/settings",
            route(get(settings_view).put(settings_put)),
        )
        .merge(custom::routes())
        .merge(programme::routes())
        .merge(crate::privacy::routes())
        .merge(page::routes())
        .merge(crate::triggers::api::routes())
}

/// A query string, as axum extracts it for [`query_params`].
pub(crate) type QueryParams = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The query's parameters, each once and each one of `allowed`.
pub(crate) fn query_params(
    query: QueryParams,
    allowed: &[&str],
) -> Result<HashMap<String, String>, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let mut found = HashMap::new();
    for (name, value) in pairs {
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "query: unknown parameter {}; this endpoint takes {}",
                    quote(&json!(name)),
                    allowed.join(", ")
                ),
            ));
        }
        if found.insert(name.clone(), value).is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("query: {name} is given twice"),
            ));
        }
    }
    Ok(found)
}

/// A 400 with `message`.
pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// `limit` (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]) and `offset`.
pub(crate) fn page(params: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let number = |name: &str, default: usize, range: std::ops::RangeInclusive<usize>| match params
        .get(name)
    {
        None => Ok(default),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                bad_request(format!(
                    "{name}: must be a whole number from {} to {}, got {}",
                    range.start(),
                    range.end(),
                    quote(&json!(text))
                ))
            }),
    };
    Ok((
        number("limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?,
        number("offset", 0, 0..=usize::MAX / 2)?,
    ))
}

/// `GET /v1/crm/customers?q=&limit=&offset=`.
async fn search(
    State(state): State<AppState>,
    _: Staff,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let params = query_params(query, &["q", "limit", "offset"])?;
    let (limit, offset) = page(&params)?;
    let q = params.get("q").cloned().unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(bad_request("q: must be at most 200 characters"));
    }
    let answer = state
        .store
        .read(move |conn| Ok(customer::search(conn, &q, limit, offset)?))
        .await?;
    Ok(Json(answer))
}

/// `GET /v1/crm/customers/{key}`: a userId, else a profile id (followed through
/// merges).
async fn customer_view(
    State(state): State<AppState>,
    _: Staff,
    key: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let UrlPath(key) = key.map_err(|e| bad_request(e.body_text()))?;
    let rules = Arc::clone(&state.rules);
    let wanted = key.clone();
    let answer = state
        .store
        .read(move |conn| {
            let Some(profile) = customer::resolve(conn, &wanted)? else {
                return Ok(None);
            };
            Ok(customer::view(conn, &rules, profile, datetime::now_ms())?)
        })
        .await?;
    answer.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no customer has the userId or profile id {}",
                quote(&json!(key))
            ),
        )
    })
}

/// The segment summary of `run`, as `GET /v1/crm/segments` answers it.
fn segments_json(run: Option<&Run>) -> Value {
    let Some(run) = run else {
        return json!({
            "run": null,
            "segments": Segment::ALL.iter().map(|s| json!({
                "name": s.name(), "label": s.label(), "customers": 0, "share": null,
                "monetary": 0, "ltv": 0, "averageLtv": null,
            })).collect::<Vec<_>>(),
        });
    };
    let segments: Vec<Value> = run
        .segments
        .iter()
        .map(|(s, n, monetary, ltv)| {
            json!({
                "name": s.name(),
                "label": s.label(),
                "customers": n,
                "share": (run.customers > 0).then(|| *n as f64 / run.customers as f64),
                "monetary": monetary,
                "ltv": ltv,
                "averageLtv": (*n > 0).then(|| (*ltv as f64 / *n as f64).round() as i64),
            })
        })
        .collect();
    let mut summary = run.to_json();
    if let Some(object) = summary.as_object_mut() {
        object.remove("segments");
    }
    json!({ "run": summary, "currency": run.currency, "vip": { "rule": run.vip_rule, "customers": run.vips }, "segments": segments })
}

/// `GET /v1/crm/segments`: `{run, currency, vip, segments: [{name, label, customers,
/// share, monetary, ltv, averageLtv}]}` of the latest refresh.
async fn segments(State(state): State<AppState>, _: Staff) -> Result<Json<Value>, ApiError> {
    let run = state.store.read(|conn| Ok(refresh::latest(conn)?)).await?;
    Ok(Json(segments_json(run.as_ref())))
}

/// Which customers a segment path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Which {
    Segment(Segment),
    Vip,
    All,
    /// A custom segment's customers, best spenders first.
    Profiles(Vec<i64>),
}

impl Which {
    /// The customers of segment `name`: an RFM segment, `vip`, `all` or a custom
    /// segment.
    async fn find(state: &AppState, name: &str) -> Result<Which, ApiError> {
        match name {
            "vip" => return Ok(Which::Vip),
            "all" => return Ok(Which::All),
            _ => {}
        }
        if let Some(segment) = Segment::parse(name) {
            return Ok(Which::Segment(segment));
        }
        let rules = Arc::clone(&state.rules);
        let wanted = name.to_owned();
        let found = state
            .store
            .read(move |conn| {
                let Some(text) = custom::saved(conn, &wanted)? else {
                    return Ok(None);
                };
                Ok(Some(match custom::compile(conn, &rules, &text)? {
                    Ok(filter) => Ok(custom::matching(conn, &rules, &filter)?),
                    Err(e) => Err(e),
                }))
            })
            .await?;
        match found {
            Some(profiles) => Ok(Which::Profiles(profiles?)),
            None => {
                let names: Vec<&str> = Segment::ALL.iter().map(|s| s.name()).collect();
                Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no segment {}; the segments are {}, vip, all and the custom segments at /v1/crm/custom-segments",
                        quote(&json!(name)),
                        names.join(", ")
                    ),
                ))
            }
        }
    }

    /// The SQL condition and its parameter.
    fn condition(&self) -> (&'static str, Option<String>) {
        match self {
            Which::Segment(s) => ("c.segment = ?1", Some(s.name().to_owned())),
            Which::Vip => ("c.vip = 1 AND ?1 IS NULL", None),
            Which::All => ("?1 IS NULL", None),
            Which::Profiles(ids) => (
                "c.profile_id IN (SELECT value FROM json_each(?1))",
                Some(json!(ids).to_string()),
            ),
        }
    }
}

/// The columns of a segment's rows, in CSV order.
const COLUMNS: [&str; 20] = [
    "profile_id",
    "user_id",
    "name",
    "email",
    "phone",
    "segment",
    "r",
    "f",
    "m",
    "recency_days",
    "orders",
    "online_orders",
    "store_orders",
    "monetary",
    "aov",
    "ltv",
    "vip",
    "first_order_at",
    "last_order_at",
    "currency",
];

/// A segment's rows, best spenders first: each row's cells as JSON values.
fn segment_rows(
    conn: &Connection,
    which: &Which,
    limit: usize,
    offset: usize,
) -> rusqlite::Result<(i64, Vec<Vec<Value>>)> {
    let (condition, param) = which.condition();
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM crm_customers c WHERE {condition}"),
        [&param],
        |row| row.get(0),
    )?;
    let mut statement = conn.prepare(&format!(
        "SELECT c.profile_id, c.user_id, c.name, c.email, c.phone, c.segment, c.r, c.f, c.m,
                c.recency_days, c.orders, c.online_orders, c.store_orders, c.monetary, c.aov,
                c.ltv, c.vip, c.first_order_at, c.last_order_at, r.currency
         FROM crm_customers c JOIN crm_runs r ON r.id = c.run_id
         WHERE {condition} ORDER BY c.monetary DESC, c.profile_id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = statement
        .query_map(params![param, limit as i64, offset as i64], |row| {
            (0..COLUMNS.len())
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Integer(n) if COLUMNS[i] == "vip" => {
                            json!(n == 1)
                        }
                        rusqlite::types::ValueRef::Integer(n) => json!(n),
                        rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        _ => Value::Null,
                    })
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((total, rows))
}

/// `camelCase` of a snake_case column.
fn camel(column: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in column.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A row of [`segment_rows`] as an object keyed by the columns in camelCase.
fn row_json(cells: Vec<Value>) -> Value {
    Value::Object(
        COLUMNS
            .iter()
            .zip(cells)
            .map(|(c, v)| (camel(c), v))
            .collect(),
    )
}

/// `GET /v1/crm/segments/{name}/customers`: `{segment, total, limit, offset,
/// customers: [{profileId, userId, name, email, phone, segment, r, f, m, recencyDays,
/// orders, onlineOrders, storeOrders, monetary, aov, ltv, vip, firstOrderAt,
/// lastOrderAt, currency}]}`.
async fn segment_customers(
    State(state): State<AppState>,
    _: Staff,
    name: Result<UrlPath<String>, PathRejection>,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let UrlPath(name) = name.map_err(|e| bad_request(e.body_text()))?;
    let (limit, offset) = page(&query_params(query, &["limit", "offset"])?)?;
    let which = Which::find(&state, &name).await?;
    let (total, rows) = state
        .store
        .read(move |conn| Ok(segment_rows(conn, &which, limit, offset)?))
        .await?;
    let customers: Vec<Value> = rows.into_iter().map(row_json).collect();
    Ok(Json(json!({
        "segment": name, "total": total, "limit": limit, "offset": offset,
        "customers": customers,
    })))
}

/// A cell for a spreadsheet: text a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@`, tab, carriage return first) gets a leading `'` (OWASP's advice on CSV
/// injection). Names come from shoppers.
fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `GET /v1/crm/segments/{name}.csv`: every customer of the segment as CSV, with a
/// header of [`COLUMNS`].
async fn segment_file(
    State(state): State<AppState>,
    _: Staff,
    file: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let UrlPath(file) = file.map_err(|e| bad_request(e.body_text()))?;
    let Some(name) = file.strip_suffix(".csv") else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no CRM endpoint at /v1/crm/segments/{file}: use /v1/crm/segments/{file}/customers or /v1/crm/segments/{file}.csv"
            ),
        ));
    };
    let which = Which::find(&state, name).await?;
    let (_, rows) = state
        .store
        .read(move |conn| Ok(segment_rows(conn, &which, i64::MAX as usize, 0)?))
        .await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the CSV: {e}"),
        )
    };
    writer.write_record(COLUMNS).map_err(failed)?;
    for cells in rows {
        writer
            .write_record(cells.iter().map(csv_cell))
            .map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let disposition = format!("attachment; filename=\"souk-{name}.csv\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("a segment name is a header value"),
    );
    Ok(response)
}

/// The window of `from` and `to`.
fn window(params: &HashMap<String, String>) -> Result<funnel::Window, ApiError> {
    funnel::Window::parse(
        params.get("from").map(String::as_str),
        params.get("to").map(String::as_str),
    )
    .map_err(bad_request)
}

/// `GET /v1/crm/funnel?from=&to=&by=`.
async fn funnel_view(
    State(state): State<AppState>,
    _: Staff,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let params = query_params(query, &["from", "to", "by"])?;
    let window = window(&params)?;
    let by = match params.get("by") {
        Some(by) => funnel::By::parse(by).map_err(bad_request)?,
        None => funnel::By::Nothing,
    };
    let answer = state
        .store
        .read(move |conn| Ok(funnel::funnel(conn, &window, by, true)?))
        .await?;
    Ok(Json(answer))
}

/// `GET /v1/crm/overview?from=&to=`.
async fn overview_view(
    State(state): State<AppState>,
    _: Staff,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let params = query_params(query, &["from", "to"])?;
    let window = window(&params)?;
    let answer = state
        .store
        .read(move |conn| Ok(overview::overview(conn, &window)?))
        .await?;
    Ok(Json(answer))
}

/// `POST /v1/crm/refresh`: recomputes now and answers the run.
async fn refresh_now(State(state): State<AppState>, _: Staff) -> Result<Json<Value>, ApiError> {
    let quiet: Progress = Arc::new(|_: &str| {});
    let run = refresh::refresh(&state.store, None, quiet).await?;
    Ok(Json(segments_json(Some(&run))))
}

/// `GET /v1/crm/settings`: `{vip, currency, asOf}`.
async fn settings_view(State(state): State<AppState>, _: Staff) -> Result<Json<Value>, ApiError> {
    let settings = state.store.read(|conn| Ok(Settings::load(conn)?)).await?;
    Ok(Json(settings.to_json()))
}

/// `PUT /v1/crm/settings` `{vip?, currency?, asOf?}`: changes what is given (`null`
/// clears currency and asOf) and answers the settings; the next refresh uses them.
async fn settings_put(
    State(state): State<AppState>,
    _: Staff,
    JsonBody(body): JsonBody<4096>,
) -> Result<Json<Value>, ApiError> {
    let f = Fields::of(&body, "")?;
    if let Some(unknown) = f.names().find(|n| !["vip", "currency", "asOf"].contains(n)) {
        return Err(bad_request(format!(
            "{unknown}: is not a CRM setting; the settings are vip, currency and asOf"
        )));
    }
    let text = |name: &str| -> Result<Option<Option<String>>, ApiError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(other) => Err(bad_request(format!(
                "{name}: must be a string or null, got {}",
                quote(other)
            ))),
        }
    };
    let vip = match text("vip")? {
        Some(Some(rule)) => {
            Some(VipRule::parse(&rule).map_err(|e| bad_request(format!("vip: {e}")))?)
        }
        Some(None) => Some(VipRule::default()),
        None => None,
    };
    let currency = text("currency")?
        .map(|c| c.map(|c| refresh::parse_currency(&c)).transpose())
        .transpose()
        .map_err(|e| bad_request(format!("currency: {e}")))?;
    let as_of = text("asOf")?
        .map(|a| a.map(|a| refresh::parse_as_of(&a)).transpose())
        .transpose()
        .map_err(|e| bad_request(format!("asOf: {e}")))?;
    let saved = state
        .store
        .write(move |conn| {
            let mut settings = Settings::load(conn)?;
            if let Some(vip) = vip {
                settings.vip = vip;
            }
            if let Some(currency) = currency {
                settings.currency = currency;
            }
            if let Some(as_of) = as_of {
                settings.as_of = as_of;
            }
            settings.save(conn)?;
            Ok(settings)
        })
        .await?;
    Ok(Json(saved.to_json()))
}

/// Why a `souk-server crm` command failed.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// A setting given on the command line was refused.
    #[error("--{flag}: {problem}")]
    Setting {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The invoice lines could not be read.
    #[error(transparent)]
    Retail(#[from] crate::eval::retail::RetailError),
    /// The POS import of the bench's sales refused its file.
    #[error("the POS import refused the generated sales file: {0}")]
    Pos(String),
    /// The scratch directory could not be made.
    #[error("cannot make the scratch directory {dir}: {source}")]
    Scratch {
        /// The directory.
        dir: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The bench was asked for no sizes.
    #[error("--sizes: give one or more numbers of events, such as 10000,100000,1000000")]
    Sizes,
}

/// Options of `souk-server crm`.
#[derive(Debug, clap::Args)]
pub struct CrmArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CrmCommand,
}

/// The `crm` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CrmCommand {
    /// Recompute the RFM segments, lifetime values and VIPs now, printing progress
    /// and the segment sizes. `serve` may be running on the database.
    Refresh(RefreshArgs),
    /// Show or change the CRM settings: the VIP rule, the RFM currency, the as-of date.
    Settings(SettingsArgs),
    /// Import a shop's invoice lines (the UCI Online Retail layout) through the
    /// normal paths (events, POST /v1/orders, the POS import) and compute its segments.
    ImportRetail(ImportRetailArgs),
    /// Time the segment refresh and the dashboard overview on 10k, 100k and 1M events
    /// made from a shop's invoice lines.
    Bench(BenchArgs),
}

/// Options of `souk-server crm refresh`.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// SQLite database file of a souk-server.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// Score as of this day (its end, UTC) or date-time, this run only
    /// [default: the as-of setting, else now].
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Options of `souk-server crm settings`.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// SQLite database file of a souk-server.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// Who is a VIP: `top 5% by monetary`, `top 10% by ltv`, `monetary >= 100000`
    /// or `ltv >= 50000` (minor units).
    #[arg(long, value_name = "RULE")]
    pub vip: Option<String>,
    /// The currency RFM money is counted in (`auto`: the one with the most orders).
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Score as of this day or date-time (`now` to follow the clock), for a shop's
    /// past data.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Options of `souk-server crm import-retail`.
#[derive(Debug, clap::Args)]
pub struct ImportRetailArgs {
    /// SQLite database file; created if missing.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The invoice lines: CSV, or gzip CSV when the name ends in `.gz`.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
}

/// Options of `souk-server crm bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The invoice lines: CSV, or gzip CSV when the name ends in `.gz`.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// The numbers of events to time, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub sizes: Vec<usize>,
    /// Keep the scratch databases.
    #[arg(long)]
    pub keep: bool,
}

/// Runs `souk-server crm …`.
pub async fn run(args: CrmArgs) -> Result<(), Error> {
    match args.command {
        CrmCommand::Refresh(args) => refresh_cli(args).await,
        CrmCommand::Settings(args) => settings_cli(args).await,
        CrmCommand::ImportRetail(args) => bench::import_cli(args).await,
        CrmCommand::Bench(args) => bench::bench_cli(args).await,
    }
}

/// Progress lines on stderr.
pub fn stderr_progress() -> Progress {
    Arc::new(|line: &str| eprintln!("crm: {line}"))
}

/// The segment sizes of `run` as a table.
pub fn table(run: &Run) -> String {
    let currency = run.currency.as_deref().unwrap_or("?");
    let mut out = format!(
        "| segment | customers | share | monetary ({currency}, minor) | average LTV |\n|---|---:|---:|---:|---:|\n"
    );
    for (s, n, m, l) in &run.segments {
        let share = if run.customers > 0 {
            100.0 * *n as f64 / run.customers as f64
        } else {
            0.0
        };
        let avg = if *n > 0 { l / n } else { 0 };
        out.push_str(&format!(
            "| {} | {n} | {share:.1}% | {m} | {avg} |\n",
            s.label()
        ));
    }
    out.push_str(&format!(
        "\n{} customers, {} orders ({} online, {} in store) as of {}; quarterly repeat rate {}, expected lifetime {:.2} years; VIPs ({}): {}\n",
        run.customers,
        run.orders,
        run.online,
        run.store,
        run.as_of,
        run.lifetime
            .retention
            .map_or("n/a".to_owned(), |q| format!("{:.3}", q)),
        run.lifetime.years,
        run.vip_rule,
        run.vips
    ));
    out
}

async fn refresh_cli(args: RefreshArgs) -> Result<(), Error> {
    let as_of = args
        .as_of
        .as_deref()
        .map(refresh::parse_as_of)
        .transpose()
        .map_err(|problem| CrmError::Setting {
            flag: "as-of",
            problem,
        })?;
    let store = Store::open(&args.db)?;
    let result = refresh::refresh(&store, as_of, stderr_progress()).await;
    store.close().await;
    let run = result?;
    print!("{}", table(&run));
    Ok(())
}

async fn settings_cli(args: SettingsArgs) -> Result<(), Error> {
    let vip = args
        .vip
        .as_deref()
        .map(VipRule::parse)
        .transpose()
        .map_err(|problem| CrmError::Setting {
            flag: "vip",
            problem,
        })?;
    let currency = match args.currency.as_deref() {
        None => None,
        Some("auto") => Some(None),
        Some(c) => Some(Some(refresh::parse_currency(c).map_err(|problem| {
            CrmError::Setting {
                flag: "currency",
                problem,
            }
        })?)),
    };
    let as_of = match args.as_of.as_deref() {
        None => None,
        Some("now") => Some(None),
        Some(a) => Some(Some(refresh::parse_as_of(a).map_err(|problem| {
            CrmError::Setting {
                flag: "as-of",
                problem,
            }
        })?)),
    };
    let store = Store::open(&args.db)?;
    let result = store
        .write(move |conn| {
            let mut settings = Settings::load(conn)?;
            let changed = vip.is_some() || currency.is_some() || as_of.is_some();
            if let Some(vip) = vip {
                settings.vip = vip;
            }
            if let Some(currency) = currency {
                settings.currency = currency;
            }
            if let Some(as_of) = as_of {
                settings.as_of = as_of;
            }
            if changed {
                settings.save(conn)?;
            }
            Ok(settings)
        })
        .await;
    store.close().await;
    let settings: Settings = result?;
    println!("vip: {}", settings.vip);
    println!(
        "currency: {}",
        settings
            .currency
            .as_deref()
            .unwrap_or("auto (the one with the most orders)")
    );
    println!("as-of: {}", settings.as_of.as_deref().unwrap_or("now"));
    Ok(())
}
