//! The triggers' API under `/v1/crm/triggers`, for the merchant (the server key or a
//! merchant's session, as every CRM endpoint).
//!
//! | endpoint | answers |
//! |---|---|
//! | `GET /v1/crm/triggers` | `{triggers: [{kind, enabled, minutes \| days, url, consent, secret, enabledAt, updatedAt}]}`, the secret masked |
//! | `GET /v1/crm/triggers/{kind}` | one trigger |
//! | `PUT /v1/crm/triggers/{kind}` | `{enabled?, minutes? \| days?, url?, consent?}`: changes what is given and answers the trigger; the first time, with its new secret in full |
//! | `POST /v1/crm/triggers/{kind}/secret` | makes a new secret and answers it in full, once: `{kind, secret}` |
//! | `GET /v1/crm/triggers/log?kind=&state=&limit=&offset=` | deliveries, newest first, each with its attempts |

use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

use super::{new_secret, Kind, Trigger};
use crate::body::JsonBody;
use crate::consent::choices;
use crate::crm::{bad_request, page, query_params, QueryParams, Staff};
use crate::datetime;
use crate::fields::{quote, Fields};
use crate::http::{ApiError, AppState};

/// The longest webhook URL.
pub const MAX_URL_CHARS: usize = 2000;

/// The triggers' routes, to merge into the CRM's.
pub fn routes() -> Router<AppState> {
    let route = |r: MethodRouter<AppState>| r.fallback(crate::http::method_not_allowed);
    Router::new()
        .route("/v1/crm/triggers", route(get(list)))
        .route("/v1/crm/triggers/log", route(get(log)))
        .route("/v1/crm/triggers/{kind}", route(get(one).put(configure)))
        .route("/v1/crm/triggers/{kind}/secret", route(post(rotate)))
}

fn kind_names() -> String {
    Kind::ALL.map(Kind::name).join(", ")
}

/// The kind a path names; 404 for another word.
fn kind_of(path: Result<UrlPath<String>, PathRejection>) -> Result<Kind, ApiError> {
    let UrlPath(name) = path.map_err(|e| bad_request(e.body_text()))?;
    Kind::parse(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no trigger {}; the triggers are {}",
                quote(&json!(name)),
                kind_names()
            ),
        )
    })
}

/// `GET /v1/crm/triggers`.
async fn list(State(state): State<AppState>, _: Staff) -> Result<Json<Value>, ApiError> {
    let triggers = state
        .store
        .read(|conn| Ok(Trigger::load_all(conn)?))
        .await?;
    Ok(Json(json!({
        "triggers": triggers.iter().map(Trigger::to_json).collect::<Vec<_>>(),
    })))
}

/// `GET /v1/crm/triggers/{kind}`.
async fn one(
    State(state): State<AppState>,
    _: Staff,
    kind: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let kind = kind_of(kind)?;
    let trigger = state
        .store
        .read(move |conn| Ok(Trigger::load(conn, kind)?))
        .await?;
    Ok(Json(trigger.to_json()))
}

/// A checked `PUT` body: what to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Switch it on or off.
    pub enabled: Option<bool>,
    /// Its parameter.
    pub param: Option<i64>,
    /// The receiver; `Some(None)` clears it.
    pub url: Option<Option<String>>,
    /// The consent category.
    pub consent: Option<String>,
}

impl Change {
    /// Reads `{enabled?, minutes? | days?, url?, consent?}` for a trigger of `kind`.
    pub fn parse(kind: Kind, body: &Value) -> Result<Change, ApiError> {
        let f = Fields::of(body, "")?;
        let param = kind.param();
        for name in f.names() {
            match name {
                "enabled" | "url" | "consent" => {}
                "minutes" | "days" => match param {
                    Some(p) if p.name == name => {}
                    Some(p) => {
                        return Err(bad_request(format!(
                            "{name}: {kind} takes {}, not {name}",
                            p.name
                        )))
                    }
                    None => {
                        return Err(bad_request(format!(
                            "{name}: {kind} takes no minutes or days"
                        )))
                    }
                },
                _ => {
                    let mut known = vec!["enabled", "url", "consent"];
                    known.extend(param.map(|p| p.name));
                    return Err(bad_request(format!(
                        "{}: is not a setting of a trigger; {kind} takes {}",
                        quote(&json!(name)),
                        known.join(", ")
                    )));
                }
            }
        }
        let enabled = match f.get("enabled") {
            Some(_) => Some(f.bool("enabled")?),
            None => None,
        };
        let param = match (param, param.and_then(|p| f.get(p.name))) {
            (Some(p), Some(value)) => Some(
                value
                    .as_i64()
                    .filter(|n| (p.min..=p.max).contains(n))
                    .ok_or_else(|| {
                        bad_request(format!(
                            "{}: must be a whole number from {} to {}, got {}",
                            p.name,
                            p.min,
                            p.max,
                            quote(value)
                        ))
                    })?,
            ),
            _ => None,
        };
        let url = match body.get("url") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(check_url(text).map_err(bad_request)?)),
            Some(other) => {
                return Err(bad_request(format!(
                    "url: must be a string (the http:// or https:// address of your webhook receiver) or null, got {}",
                    quote(other)
                )))
            }
        };
        let consent = match f.get("consent") {
            None => None,
            Some(value) => Some(check_consent(kind, value).map_err(bad_request)?),
        };
        Ok(Change {
            enabled,
            param,
            url,
            consent,
        })
    }
}

/// A webhook URL: an absolute `http://` or `https://` address with a host, no user
/// or password in it, no fragment, at most [`MAX_URL_CHARS`]; the error says why not.
pub fn check_url(text: &str) -> Result<String, String> {
    let shown = quote(&json!(text));
    let how = "the http:// or https:// address of your webhook receiver, such as https://shop.example/hooks/souk";
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "url: is longer than {MAX_URL_CHARS} characters; give {how}"
        ));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "url: must not hold spaces or control characters, got {shown}"
        ));
    }
    let lower = text.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!(
            "url: must start with http:// or https://, got {shown}"
        ));
    }
    let uri: Uri = text
        .parse()
        .map_err(|_| format!("url: must be {how}, got {shown}"))?;
    let Some(authority) = uri.authority() else {
        return Err(format!("url: must name a host, got {shown}"));
    };
    if authority.as_str().contains('@') {
        return Err(
            "url: must not hold a user name or password; check the signature instead".to_owned(),
        );
    }
    if authority.host().is_empty() {
        return Err(format!("url: must name a host, got {shown}"));
    }
    if text.contains('#') {
        return Err(format!("url: must not have a #fragment, got {shown}"));
    }
    Ok(text.to_owned())
}

/// A consent category for a trigger of `kind`: not `necessary`, and `marketing` for
/// the kinds that are marketing whatever the merchant says.
fn check_consent(kind: Kind, value: &Value) -> Result<String, String> {
    let Some(category) = value.as_str() else {
        return Err(format!(
            "consent: must be one of {}, got {}",
            choices().join(", "),
            quote(value)
        ));
    };
    if category == "necessary" {
        return Err("consent: necessary cannot be used: a webhook about a customer is not strictly necessary, so it needs the customer's consent (marketing, or functional for a service message)".to_owned());
    }
    if !choices().contains(&category) {
        return Err(format!(
            "consent: must be one of {}, got {}",
            choices().join(", "),
            quote(value)
        ));
    }
    if kind.marketing_only() && category != "marketing" {
        return Err(format!(
            "consent: {kind} is marketing, so it always requires the marketing consent, got {}",
            quote(value)
        ));
    }
    Ok(category.to_owned())
}

/// Applies `change` to the stored trigger of `kind`; answers it, with the secret in
/// full when this made it.
fn apply(
    conn: &Connection,
    kind: Kind,
    change: Change,
) -> rusqlite::Result<Result<Value, ApiError>> {
    let mut trigger = Trigger::load(conn, kind)?;
    let now = datetime::now();
    let was_enabled = trigger.enabled;
    if let Some(enabled) = change.enabled {
        trigger.enabled = enabled;
    }
    if let Some(param) = change.param {
        trigger.param = Some(param);
    }
    if let Some(url) = change.url {
        trigger.url = url;
    }
    if let Some(consent) = change.consent {
        trigger.consent = consent;
    }
    if trigger.enabled && trigger.url.is_none() {
        return Ok(Err(bad_request(
            "url: is required to switch a trigger on: give the http:// or https:// address of your webhook receiver",
        )));
    }
    let made = trigger.secret.is_none().then(new_secret);
    if let Some(secret) = &made {
        trigger.secret = Some(secret.clone());
    }
    if trigger.enabled && !was_enabled {
        trigger.enabled_at = Some(now.clone());
    }
    trigger.updated_at = now;
    trigger.save(conn)?;
    let mut answer = trigger.to_json();
    if let Some(secret) = made {
        answer["secret"] = json!(secret);
    }
    Ok(Ok(answer))
}

/// `PUT /v1/crm/triggers/{kind}`.
async fn configure(
    State(state): State<AppState>,
    _: Staff,
    kind: Result<UrlPath<String>, PathRejection>,
    JsonBody(body): JsonBody<8192>,
) -> Result<Json<Value>, ApiError> {
    let kind = kind_of(kind)?;
    let change = Change::parse(kind, &body)?;
    state
        .store
        .write(move |conn| Ok(apply(conn, kind, change)?))
        .await?
        .map(Json)
}

/// `POST /v1/crm/triggers/{kind}/secret`: a new secret, answered once. Deliveries
/// not yet sent are signed with it.
async fn rotate(
    State(state): State<AppState>,
    _: Staff,
    kind: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let kind = kind_of(kind)?;
    let secret = new_secret();
    let stored = secret.clone();
    state
        .store
        .write(move |conn| {
            let mut trigger = Trigger::load(conn, kind)?;
            trigger.secret = Some(stored);
            trigger.updated_at = datetime::now();
            trigger.save(conn)?;
            Ok(())
        })
        .await?;
    Ok(Json(json!({ "kind": kind.name(), "secret": secret })))
}

/// The delivery states.
const STATES: [&str; 3] = ["pending", "delivered", "failed"];

/// `GET /v1/crm/triggers/log?kind=&state=&limit=&offset=`: `{total, limit, offset,
/// deliveries: [{id, kind, key, profileId, url, state, createdAt, nextAttemptAt,
/// finishedAt, lastError, body, attempts: [{attempt, at, status, error, durationMs,
/// nextRetryAt}]}]}`, newest first.
async fn log(
    State(state): State<AppState>,
    _: Staff,
    query: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let params = query_params(query, &["kind", "state", "limit", "offset"])?;
    let (limit, offset) = page(&params)?;
    let kind = match params.get("kind") {
        None => None,
        Some(name) => Some(Kind::parse(name).ok_or_else(|| {
            bad_request(format!(
                "kind: must be one of {}, got {}",
                kind_names(),
                quote(&json!(name))
            ))
        })?),
    };
    let wanted = match params.get("state") {
        None => None,
        Some(s) if STATES.contains(&s.as_str()) => Some(s.clone()),
        Some(s) => {
            return Err(bad_request(format!(
                "state: must be one of {}, got {}",
                STATES.join(", "),
                quote(&json!(s))
            )))
        }
    };
    let answer = state
        .store
        .read(move |conn| Ok(deliveries(conn, kind, wanted.as_deref(), limit, offset)?))
        .await?;
    Ok(Json(answer))
}

fn deliveries(
    conn: &Connection,
    kind: Option<Kind>,
    state: Option<&str>,
    limit: usize,
    offset: usize,
) -> rusqlite::Result<Value> {
    let snapshot = conn.unchecked_transaction()?;
    let kind = kind.map(Kind::name);
    let total: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM trigger_deliveries
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR state = ?2)",
        )?
        .query_row(params![kind, state], |row| row.get(0))?;
    let mut rows = conn
        .prepare_cached(
            "SELECT id, kind, key, profile_id, url, state, created_at, next_attempt_at,
                    finished_at, last_error, body
             FROM trigger_deliveries
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR state = ?2)
             ORDER BY id DESC LIMIT ?3 OFFSET ?4",
        )?
        .query_map(params![kind, state, limit as i64, offset as i64], |row| {
            let body: String = row.get(10)?;
            Ok((
                row.get::<_, i64>(0)?,
                json!({
                    "id": row.get::<_, i64>(0)?,
                    "kind": row.get::<_, String>(1)?,
                    "key": row.get::<_, String>(2)?,
                    "profileId": row.get::<_, i64>(3)?,
                    "url": row.get::<_, String>(4)?,
                    "state": row.get::<_, String>(5)?,
                    "createdAt": row.get::<_, String>(6)?,
                    "nextAttemptAt": row.get::<_, Option<String>>(7)?,
                    "finishedAt": row.get::<_, Option<String>>(8)?,
                    "lastError": row.get::<_, Option<String>>(9)?,
                    // Written by a pass from JSON, so it reads back.
                    "body": serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body)),
                }),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut attempts = conn.prepare_cached(
        "SELECT attempt, at, status, error, duration_ms, next_retry_at
         FROM trigger_attempts WHERE delivery_id = ?1 ORDER BY attempt",
    )?;
    for (id, delivery) in &mut rows {
        delivery["attempts"] = attempts
            .query_map([*id], |row| {
                Ok(json!({
                    "attempt": row.get::<_, i64>(0)?,
                    "at": row.get::<_, String>(1)?,
                    "status": row.get::<_, Option<i64>>(2)?,
                    "error": row.get::<_, Option<String>>(3)?,
                    "durationMs": row.get::<_, i64>(4)?,
                    "nextRetryAt": row.get::<_, Option<String>>(5)?,
                }))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into();
    }
    snapshot.finish()?;
    Ok(json!({
        "total": total,
        "limit": limit,
        "offset": offset,
        "deliveries": rows.into_iter().map(|(_, d)| d).collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_addresses_of_a_host() {
        for ok in [
            "https://shop.example/hooks/souk",
            "http://127.0.0.1:8081/hook?x=1",
            "HTTPS://Shop.Example",
        ] {
            assert_eq!(check_url(ok).as_deref(), Ok(ok), "{ok}");
        }
        for (bad, says) in [
            (
                "ftp://shop.example/hook",
                "must start with http:// or https://",
            ),
            ("shop.example/hook", "must start with http:// or https://"),
            ("/hooks/souk", "must start with http:// or https://"),
            ("https://user:pw@shop.example/", "user name or password"),
            ("https://shop.example/a b", "spaces"),
            ("https://shop.example/#x", "#fragment"),
            ("https://", "must be the http"),
        ] {
            let error = check_url(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn changes_name_what_is_wrong() {
        let error =
            |kind, body: Value| Change::parse(kind, &body).unwrap_err().message().to_owned();
        assert_eq!(
            error(Kind::AbandonedCart, json!({"days": 3})),
            "days: abandoned_cart takes minutes, not days"
        );
        assert!(error(Kind::AbandonedCart, json!({"minutes": 0}))
            .starts_with("minutes: must be a whole number from 1 to 10080"));
        assert!(error(Kind::WinBack, json!({"days": 1.5}))
            .starts_with("days: must be a whole number from 1 to 730"));
        assert!(error(Kind::TierChange, json!({"minutes": 5})).contains("takes no minutes or days"));
        assert!(error(Kind::Birthday, json!({"consent": "functional"}))
            .contains("always requires the marketing consent"));
        assert!(error(Kind::TierChange, json!({"consent": "necessary"}))
            .contains("necessary cannot be used"));
        assert!(error(Kind::FirstPurchase, json!({"colour": "red"})).contains("is not a setting"));
        assert!(error(Kind::FirstPurchase, json!({"enabled": "yes"}))
            .contains("enabled: must be true or false"));
        let change = Change::parse(
            Kind::TierChange,
            &json!({"consent": "analytics", "url": null}),
        )
        .unwrap();
        assert_eq!(change.consent.as_deref(), Some("analytics"));
        assert_eq!(change.url, Some(None));
    }
}
