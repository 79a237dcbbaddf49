//! The HTTP routes: health, the `/v1` API and the static demo files.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;
use tower_http::trace::TraceLayer;

use crate::store::{self, Store};

/// Builds the application: the API on top of the static `dist` and `www` directories.
pub fn router(store: Arc<Store>, www: &Path, dist: &Path) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1", any(unknown_api))
        .route("/v1/{*rest}", any(unknown_api))
        .with_state(store)
        .nest_service("/dist", files(dist))
        .fallback_service(files(www))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// `GET /health`: reads the schema version through the read pool.
async fn health(State(store): State<Arc<Store>>) -> Result<Json<serde_json::Value>, ApiError> {
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

/// Any `/v1` path that no route claims.
async fn unknown_api(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no API endpoint at {}", uri.path()),
    )
}
