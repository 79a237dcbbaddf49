//! The HTTP routes: health, the `/v1` API and the static demo files.
//!
//! Every `/v1` answer is JSON, errors included: `{"error": message}` for an unknown
//! path (404), a wrong method (405, with `Allow`), a refused body or key (4xx), and a
//! database failure (5xx). Handlers stay thin: the checks live in [`ingest`],
//! [`consent`], [`identity`], [`auth`], [`body`] and [`cors`].

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRef, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;
use tower_http::trace::TraceLayer;

use rusqlite::Connection;
use souk::core::loyalty::Rules;

use crate::auth::{Keys, ServerKey, WriteAuth};
use crate::body::JsonBody;
use crate::cors::{self, AllowedOrigins};
use crate::fields::Invalid;
use crate::identity::{self, Lookup};
use crate::ingest::{self, Event, Stored};
use crate::loyalty::{self, Failure};
use crate::store::{self, Store};
use crate::{consent, datetime};

/// What the handlers share: the database, the keys and the loyalty rules.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<Store>,
    /// The write key, the server key and the identity secret.
    pub keys: Arc<Keys>,
    /// The shop's loyalty programme.
    pub rules: Arc<Rules>,
    /// The recommendation model `GET /v1/model` serves.
    pub model: crate::model::Latest,
    /// The live chat's events, business hours and rate limits.
    pub chat: crate::chat::Chat,
}

impl FromRef<AppState> for Arc<Store> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.store)
    }
}

impl FromRef<AppState> for Arc<Keys> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.keys)
    }
}

/// Builds the application: the API on top of the static `dist` and `www` directories.
/// `origins` are the pages that may read the browser endpoints' answers; `demo_shop`
/// adds the demo shop's checkout ([`crate::demo`]).
pub fn router(
    state: AppState,
    origins: AllowedOrigins,
    demo_shop: bool,
    www: &Path,
    dist: &Path,
) -> Router {
    let browser = |route| browser_route(route, &origins);
    let merchant = |route: MethodRouter<AppState>| route.fallback(method_not_allowed);
    let mut api = Router::new()
        .route("/health", get(health))
        .route("/v1/batch", browser(post(batch)))
        .route("/v1/consent", browser(post(consent_post)))
        .route("/v1/loyalty", browser(get(loyalty_view)))
        .route("/v1/loyalty/redeem", browser(post(loyalty_redeem)))
        .route("/v1/model", browser(get(crate::model::get)))
        .route("/v1/orders", merchant(post(orders)))
        .route("/v1/refunds", merchant(post(refunds)))
        .route("/v1/loyalty/adjustments", merchant(post(adjustments)))
        .route("/v1/loyalty/bonuses", merchant(post(bonuses)))
        .route("/v1/coupons/validate", merchant(post(coupon_validate)))
        .route("/v1/coupons/release", merchant(post(coupon_release)))
        .route(
            "/v1/loyalty/customers/{user_id}",
            merchant(get(loyalty_customer)),
        );
    if demo_shop {
        api = api.route("/demo/checkout", post(crate::demo::checkout));
    }
    api = api.merge(crate::chat::routes(&origins));
    api = api.merge(crate::crm::routes());
    for &kind in ingest::TYPES {
        let call = post(move |store, auth, headers, body| single(kind, store, auth, headers, body));
        api = api.route(&format!("/v1/{kind}"), browser(call));
    }
    api.route(
        "/v1/consent/{consent_id}",
        get(consent_proof).fallback(method_not_allowed),
    )
    .route("/v1/profiles", get(profile).fallback(method_not_allowed))
    .route("/v1", any(unknown_api))
    .route("/v1/{*rest}", any(unknown_api))
    .with_state(state)
    .nest_service("/dist", files(dist))
    .fallback_service(files(www))
    .layer(CompressionLayer::new())
    .layer(TraceLayer::new_for_http())
}

/// An endpoint that the plugin calls from the shop's pages: CORS for `origins` (the
/// write key is public, and the shopper endpoints check a userHash), and a body that
/// may be gzip.
pub(crate) fn browser_route(
    route: MethodRouter<AppState>,
    origins: &AllowedOrigins,
) -> MethodRouter<AppState> {
    // Unknown encodings go through to `JsonBody`, which refuses them as JSON.
    let inflate = RequestDecompressionLayer::new().pass_through_unaccepted(true);
    route
        .fallback(method_not_allowed)
        .layer::<_, Infallible>(inflate)
        .layer(middleware::from_fn_with_state(origins.clone(), cors::layer))
}

/// Serves the files under `dir` (`index.html` for a directory), to be revalidated on
/// every use since they change while developing.
fn files(dir: &Path) -> SetResponseHeader<ServeDir, HeaderValue> {
    SetResponseHeader::overriding(
        ServeDir::new(dir),
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
}

/// An error answered as `{"error": message}` with its status code.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with the given status and a message for the caller.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The status code it is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, invalid.to_string())
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        tracing::error!(error = %e, "a database job failed");
        let status = match e {
            store::Error::Closed | store::Error::Commit(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// `GET /health`: reads the schema version through the read pool.
async fn health(State(store): State<Arc<Store>>) -> Result<Json<Value>, ApiError> {
    match store.read(|conn| Ok(store::schema_version(conn)?)).await {
        Ok(version) => Ok(Json(json!({ "status": "ok", "schema_version": version }))),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the database is unusable: {e}"),
            ))
        }
    }
}

/// `POST /v1/batch`: stores the valid messages of a Segment batch exactly once per
/// `messageId` and, once they are committed, answers
/// `{"success": true, "accepted": N, "duplicates": M, "rejected"?: [...]}`, where
/// `rejected` lists the invalid messages as `{"index", "messageId"?, "error"}`.
async fn batch(
    State(store): State<Arc<Store>>,
    auth: WriteAuth,
    headers: HeaderMap,
    JsonBody(mut body): JsonBody<{ ingest::MAX_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    auth.confirm(&body)?;
    if let (Some(class), Some(Value::Array(messages))) = (device(&headers), body.get_mut("batch")) {
        ingest::add_device(messages, class);
    }
    let ingest::Batch { events, rejected } = ingest::parse_batch(&body)?;
    let stored = store_events(&store, events).await?;
    let mut answer = json!({
        "success": true,
        "accepted": stored.accepted,
        "duplicates": stored.duplicates,
    });
    if let Some(first) = rejected.first() {
        tracing::info!(count = rejected.len(), first = %first.error, "refused messages of a batch");
        answer["rejected"] = rejected.iter().map(ingest::Rejected::to_json).collect();
    }
    Ok(Json(answer))
}

/// `POST /v1/{type}` (track, page, identify, alias, screen, group): stores one message
/// exactly once and answers `{"success": true}` once it is committed, with
/// `"duplicate": true` if its `messageId` was already stored.
async fn single(
    kind: &'static str,
    State(store): State<Arc<Store>>,
    auth: WriteAuth,
    headers: HeaderMap,
    JsonBody(mut body): JsonBody<{ ingest::MAX_MESSAGE_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    auth.confirm(&body)?;
    if let Some(class) = device(&headers) {
        ingest::add_device(std::slice::from_mut(&mut body), class);
    }
    let event = ingest::parse_single(&body, kind)?;
    let stored = store_events(&store, vec![event]).await?;
    let mut answer = json!({ "success": true });
    if stored.duplicates > 0 {
        answer["duplicate"] = json!(true);
    }
    Ok(Json(answer))
}

/// The device class of the browser that sent a request, from its `User-Agent`.
fn device(headers: &HeaderMap) -> Option<&'static str> {
    let agent = headers.get(axum::http::header::USER_AGENT)?.to_str().ok()?;
    ingest::device_class(agent)
}

/// Stores `events` in one write job (nothing to wait for when there are none).
async fn store_events(store: &Store, events: Vec<Event>) -> Result<Stored, ApiError> {
    if events.is_empty() {
        return Ok(Stored::default());
    }
    let received_at = datetime::now();
    Ok(store
        .write(move |conn| Ok(ingest::insert(conn, &events, &received_at)?))
        .await?)
}

/// `POST /v1/consent`: appends a version of a consent record and answers
/// `{"stored": bool, "version": N}` once it is committed.
async fn consent_post(
    State(store): State<Arc<Store>>,
    auth: WriteAuth,
    JsonBody(body): JsonBody<{ consent::MAX_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    auth.confirm(&body)?;
    let record = consent::parse(&body)?;
    let received_at = datetime::now();
    let saved = store
        .write(move |conn| Ok(consent::save(conn, &record, &received_at)?))
        .await?;
    Ok(Json(
        json!({ "stored": saved.stored, "version": saved.version }),
    ))
}

/// `GET /v1/consent/{consentId}` with the server key: every version, oldest first.
async fn consent_proof(
    State(store): State<Arc<Store>>,
    _: ServerKey,
    consent_id: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let UrlPath(consent_id) =
        consent_id.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    consent::check_consent_id(&consent_id)?;
    let id = consent_id.clone();
    match store
        .read(move |conn| Ok(consent::history(conn, &id)?))
        .await?
    {
        Some(history) => Ok(Json(history)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no consent record with consentId {consent_id:?}"),
        )),
    }
}

/// `GET /v1/profiles?user_id=…` (or `anonymous_id`, `email`, `phone`: exactly one) with
/// the server key: the customer profile that identifier belongs to, from the identity
/// graph.
async fn profile(
    State(store): State<Arc<Store>>,
    _: ServerKey,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let lookup = Lookup::parse(&query)?;
    let wanted = lookup.clone();
    match store
        .read(move |conn| Ok(identity::profile(conn, &wanted)?))
        .await?
    {
        Some(profile) => Ok(Json(profile)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no profile has the {lookup}: no stored message named it"),
        )),
    }
}

/// A known `/v1` path called with a method it does not take; axum adds `Allow`.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take {method}; the Allow header lists the methods it takes",
            uri.path()
        ),
    )
}

/// Any `/v1` path that no route claims.
async fn unknown_api(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no API endpoint at {}", uri.path()),
    )
}

/// Runs a ledger operation in one write job: a refusal commits what the job wrote
/// before it (a due expiry), a database failure or a broken ledger rolls it back.
pub(crate) async fn ledger_write<T, F>(store: &Store, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Connection) -> loyalty::Outcome<T> + Send + 'static,
    T: Send + 'static,
{
    store
        .write(move |conn| match work(conn) {
            Ok(value) => Ok(Ok(value)),
            Err(Failure::Refused(refusal)) => Ok(Err(refusal)),
            Err(Failure::Db(e)) => Err(e.into()),
            Err(Failure::Broken(problem)) => Err(store::Error::Invariant(problem)),
        })
        .await?
}

/// 201 for something new, 200 for a resend of something already stored.
pub(crate) fn created_or_ok((created, answer): (bool, Value)) -> (StatusCode, Json<Value>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(answer))
}

/// `POST /v1/orders` with the server key: earns an order's points, once per orderId.
async fn orders(
    State(state): State<AppState>,
    _: ServerKey,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let order = loyalty::Order::parse(&body)?;
    let rules = Arc::clone(&state.rules);
    let posted = ledger_write(&state.store, move |conn| {
        loyalty::post_order(conn, &rules, &order, datetime::now_ms())
    })
    .await?;
    Ok(created_or_ok(posted))
}

/// `POST /v1/refunds` with the server key: reverses what a refund takes back, once
/// per (orderId, refundId).
async fn refunds(
    State(state): State<AppState>,
    _: ServerKey,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let refund = loyalty::Refund::parse(&body)?;
    let rules = Arc::clone(&state.rules);
    let posted = ledger_write(&state.store, move |conn| {
        loyalty::post_refund(conn, &rules, &refund, datetime::now_ms())
    })
    .await?;
    Ok(created_or_ok(posted))
}

/// `POST /v1/loyalty/adjustments` with the server key: points added or taken away by
/// hand, with a reason.
async fn adjustments(
    State(state): State<AppState>,
    _: ServerKey,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let adjustment = loyalty::Adjustment::parse(&body)?;
    let rules = Arc::clone(&state.rules);
    let posted = ledger_write(&state.store, move |conn| {
        loyalty::post_adjustment(conn, &rules, &adjustment, datetime::now_ms())
    })
    .await?;
    Ok(created_or_ok(posted))
}

/// `POST /v1/loyalty/bonuses` with the server key: a bonus action's points, once.
async fn bonuses(
    State(state): State<AppState>,
    _: ServerKey,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let grant = loyalty::BonusGrant::parse(&body)?;
    let rules = Arc::clone(&state.rules);
    let posted = ledger_write(&state.store, move |conn| {
        loyalty::post_bonus(conn, &rules, &grant, datetime::now_ms())
    })
    .await?;
    Ok(created_or_ok(posted))
}

/// `POST /v1/coupons/release` `{code}` with the server key: cancels an unused code and
/// gives its points back, once.
async fn coupon_release(
    State(state): State<AppState>,
    _: ServerKey,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let code = crate::fields::Fields::of(&body, "")?
        .required_str("code", 40)?
        .trim()
        .to_ascii_uppercase();
    let rules = Arc::clone(&state.rules);
    let released = ledger_write(&state.store, move |conn| {
        loyalty::release(conn, &rules, &code, datetime::now_ms())
    })
    .await?;
    Ok(created_or_ok(released))
}

/// `POST /v1/coupons/validate` with the server key: what a code is worth, and with
/// `consume: true` uses it up, once.
async fn coupon_validate(
    State(state): State<AppState>,
    _: ServerKey,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    let validation = loyalty::Validation::parse(&body)?;
    let check = move |conn: &Connection| loyalty::validate(conn, &validation, datetime::now_ms());
    if body.get("consume") == Some(&Value::Bool(true)) {
        return Ok(Json(ledger_write(&state.store, check).await?));
    }
    let answer = state
        .store
        .read(move |conn| match check(conn) {
            Ok(value) => Ok(Ok(value)),
            Err(Failure::Refused(refusal)) => Ok(Err(refusal)),
            Err(Failure::Db(e)) => Err(e.into()),
            Err(Failure::Broken(problem)) => Err(store::Error::Invariant(problem)),
        })
        .await??;
    Ok(Json(answer))
}

/// `GET /v1/loyalty/customers/{userId}` with the server key: the account and its
/// whole history.
async fn loyalty_customer(
    State(state): State<AppState>,
    _: ServerKey,
    user_id: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let UrlPath(user_id) =
        user_id.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let rules = Arc::clone(&state.rules);
    let id = user_id.clone();
    let answer = state
        .store
        .read(move |conn| {
            if !loyalty::known(conn, &id)? {
                return Ok(None);
            }
            Ok(Some(loyalty::account(
                conn,
                &rules,
                &id,
                datetime::now_ms(),
                true,
            )?))
        })
        .await?;
    answer.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "userId: no customer {} is known to the identity graph or the ledger",
                crate::fields::quote(&json!(user_id))
            ),
        )
    })
}

/// The shopper's userId, once its userHash is checked: 400 without a userId, and the
/// same 401 for every wrong or missing hash.
pub(crate) fn shopper(
    keys: &Keys,
    user_id: Option<&str>,
    user_hash: Option<&str>,
) -> Result<String, ApiError> {
    let user_id = user_id.filter(|u| !u.is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "userId: is required, with the userHash the shop's backend computed for it",
        )
    })?;
    keys.check_user_hash(user_id, user_hash)?;
    Ok(user_id.to_owned())
}

/// `GET /v1/loyalty?userId=…&userHash=…`: the shopper's own account, with their recent
/// history and the rewards they can afford.
async fn loyalty_view(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let user_id = shopper(&state.keys, param("userId"), param("userHash"))?;
    let rules = Arc::clone(&state.rules);
    let answer = state
        .store
        .read(move |conn| {
            Ok(loyalty::account(
                conn,
                &rules,
                &user_id,
                datetime::now_ms(),
                false,
            )?)
        })
        .await?;
    Ok(Json(answer))
}

/// `POST /v1/loyalty/redeem` `{userId, userHash, reward}`: spends the shopper's points
/// on a reward and answers its single-use code.
async fn loyalty_redeem(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<{ loyalty::MAX_BODY_BYTES }>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let user_id = shopper(&state.keys, text("userId"), text("userHash"))?;
    let reward = crate::fields::Fields::of(&body, "")?
        .required_str("reward", 40)?
        .to_owned();
    let rules = Arc::clone(&state.rules);
    let answer = ledger_write(&state.store, move |conn| {
        loyalty::redeem(conn, &rules, &user_id, &reward, datetime::now_ms())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}
