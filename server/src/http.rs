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
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
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

use crate::auth::{Keys, ServerKey, WriteAuth};
use crate::body::JsonBody;
use crate::cors::{self, AllowedOrigins};
use crate::fields::Invalid;
use crate::identity::{self, Lookup};
use crate::ingest::{self, Event, Stored};
use crate::store::{self, Store};
use crate::{consent, datetime};

/// What the handlers share: the database and the keys.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<Store>,
    /// The write key and the server key.
    pub keys: Arc<Keys>,
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
/// `origins` are the pages that may read the browser endpoints' answers.
pub fn router(
    store: Arc<Store>,
    keys: Keys,
    origins: AllowedOrigins,
    www: &Path,
    dist: &Path,
) -> Router {
    let state = AppState {
        store,
        keys: Arc::new(keys),
    };
    let browser_post = |route| browser_post(route, &origins);
    let mut api = Router::new()
        .route("/health", get(health))
        .route("/v1/batch", browser_post(post(batch)))
        .route("/v1/consent", browser_post(post(consent_post)));
    for &kind in ingest::TYPES {
        let call = post(move |store, auth, body| single(kind, store, auth, body));
        api = api.route(&format!("/v1/{kind}"), browser_post(call));
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

/// A POST endpoint that the plugin calls from the shop's pages: CORS for `origins`
/// (the write key is public), and a body that may be gzip.
fn browser_post(route: MethodRouter<AppState>, origins: &AllowedOrigins) -> MethodRouter<AppState> {
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
    JsonBody(body): JsonBody<{ ingest::MAX_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    auth.confirm(&body)?;
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
    JsonBody(body): JsonBody<{ ingest::MAX_MESSAGE_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    auth.confirm(&body)?;
    let event = ingest::parse_single(&body, kind)?;
    let stored = store_events(&store, vec![event]).await?;
    let mut answer = json!({ "success": true });
    if stored.duplicates > 0 {
        answer["duplicate"] = json!(true);
    }
    Ok(Json(answer))
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
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
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
