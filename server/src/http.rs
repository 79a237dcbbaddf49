//! The HTTP routes: health, the `/v1` API and the static demo files.
//!
//! Every `/v1` answer is JSON, errors included: `{"error": message}` for an unknown
//! path (404), a wrong method (405, with `Allow`), a refused body or key (4xx), and a
//! database failure (5xx). Handlers stay thin: the checks live in [`ingest`],
//! [`consent`], [`auth`] and [`body`].

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRef, Path as UrlPath, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;
use tower_http::trace::TraceLayer;

use crate::auth::{Keys, ServerKey, WriteAuth};
use crate::body::JsonBody;
use crate::fields::Invalid;
use crate::store::{self, Store};
use crate::{consent, datetime, ingest};

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
pub fn router(store: Arc<Store>, keys: Keys, www: &Path, dist: &Path) -> Router {
    let state = AppState {
        store,
        keys: Arc::new(keys),
    };
    Router::new()
        .route("/health", get(health))
        .route("/v1/batch", browser_post(post(batch)))
        .route("/v1/consent", browser_post(post(consent_post)))
        .route(
            "/v1/consent/{consent_id}",
            get(consent_proof).fallback(method_not_allowed),
        )
        .route("/v1", any(unknown_api))
        .route("/v1/{*rest}", any(unknown_api))
        .with_state(state)
        .nest_service("/dist", files(dist))
        .fallback_service(files(www))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// A POST endpoint that the plugin calls from the shop's pages: any origin may call it
/// (the write key is public), and its body may be gzip.
fn browser_post(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::CONTENT_ENCODING,
        ])
        .max_age(Duration::from_secs(24 * 60 * 60));
    // Unknown encodings go through to `JsonBody`, which refuses them as JSON.
    let inflate = RequestDecompressionLayer::new().pass_through_unaccepted(true);
    route
        .fallback(method_not_allowed)
        .layer::<_, Infallible>(inflate)
        .layer(cors)
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

/// `POST /v1/batch`: stores a Segment batch exactly once per `messageId` and answers
/// `{"success": true, "accepted": N, "duplicates": M}` once it is committed.
async fn batch(
    State(store): State<Arc<Store>>,
    auth: WriteAuth,
    JsonBody(body): JsonBody<{ ingest::MAX_BODY_BYTES }>,
) -> Result<Json<Value>, ApiError> {
    auth.confirm(&body)?;
    let events = ingest::parse_batch(&body)?;
    let received_at = datetime::now();
    let stored = store
        .write(move |conn| Ok(ingest::insert(conn, &events, &received_at)?))
        .await?;
    Ok(Json(json!({
        "success": true,
        "accepted": stored.accepted,
        "duplicates": stored.duplicates,
    })))
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
