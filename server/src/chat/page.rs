//! The agent console's page at `/agent`: one HTML file, its script and its stylesheet,
//! built into the binary (`server/console/`), so the console is there wherever the
//! server runs, whatever `--www` says.
//!
//! Each answer is revalidated on every use (`no-cache`, with an ETag), may not be
//! framed, and carries a Content-Security-Policy that lets the page run only its own
//! script and style and talk only to its own origin.

use std::sync::OnceLock;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::http::AppState;

/// The console's policy: its own script, style and API only; images from itself or
/// `data:`; never in a frame.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/// One of the console's files.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: OnceLock<HeaderValue>,
}

impl Asset {
    const fn new(body: &'static str, content_type: &'static str) -> Asset {
        Asset {
            body,
            content_type,
            etag: OnceLock::new(),
        }
    }

    /// A strong ETag: the first 16 bytes of the body's SHA-256, in hex.
    fn etag(&self) -> &HeaderValue {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.body.as_bytes());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a header value")
        })
    }

    /// The file, or 304 when the browser's copy (`If-None-Match`) is current.
    fn answer(&self, request: &HeaderMap) -> Response {
        let etag = self.etag();
        let current = request
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| tag.trim() == etag || tag.trim() == "*");
        let mut response = if current {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            self.body.into_response()
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(ETAG, etag.clone());
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }
}

static INDEX: Asset = Asset::new(
    include_str!("../../console/index.html"),
    "text/html; charset=utf-8",
);
static SCRIPT: Asset = Asset::new(
    include_str!("../../console/console.js"),
    "text/javascript; charset=utf-8",
);
static STYLE: Asset = Asset::new(
    include_str!("../../console/console.css"),
    "text/css; charset=utf-8",
);

async fn index(headers: HeaderMap) -> Response {
    INDEX.answer(&headers)
}

async fn script(headers: HeaderMap) -> Response {
    SCRIPT.answer(&headers)
}

async fn style(headers: HeaderMap) -> Response {
    STYLE.answer(&headers)
}

/// `GET /agent` (and `/agent/`), `/agent/console.js` and `/agent/console.css`.
pub(super) fn routes() -> Router<AppState> {
    use crate::http::method_not_allowed as other;
    Router::new()
        .route("/agent", get(index).fallback(other))
        .route("/agent/", get(index).fallback(other))
        .route("/agent/console.js", get(script).fallback(other))
        .route("/agent/console.css", get(style).fallback(other))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(response: &'a Response, name: &str) -> &'a str {
        response.headers()[name].to_str().unwrap()
    }

    #[test]
    fn each_file_has_its_type_and_the_strict_headers() {
        for (asset, kind) in [
            (&INDEX, "text/html"),
            (&SCRIPT, "text/javascript"),
            (&STYLE, "text/css"),
        ] {
            let response = asset.answer(&HeaderMap::new());
            assert_eq!(response.status(), StatusCode::OK);
            assert!(header(&response, "content-type").starts_with(kind));
            assert_eq!(header(&response, "cache-control"), "no-cache");
            assert_eq!(header(&response, "content-security-policy"), CSP);
            assert_eq!(header(&response, "x-frame-options"), "DENY");
            assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        }
    }

    #[test]
    fn a_current_copy_is_not_sent_again() {
        let etag = INDEX.etag().clone();
        let mut request = HeaderMap::new();
        request.insert(IF_NONE_MATCH, etag.clone());
        let response = INDEX.answer(&request);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[ETAG], etag);
        request.insert(IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        assert_eq!(INDEX.answer(&request).status(), StatusCode::OK);
    }

    #[test]
    fn the_page_needs_nothing_the_policy_forbids() {
        let html = INDEX.body;
        assert!(html.contains(r#"<script type="module" src="/agent/console.js"></script>"#));
        assert!(html.contains(r#"href="/agent/console.css""#));
        // No inline script, style or handler, which the policy would refuse.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<style"));
        assert!(!html.contains(" style="));
        assert!(!html.contains(" onclick="));
        assert!(!SCRIPT.body.contains("innerHTML"));
        assert!(!SCRIPT.body.contains("insertAdjacentHTML"));
    }
}
