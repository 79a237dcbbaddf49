//! souk-server's own pages (the agent console at `/agent`, the merchant dashboard at
//! `/dashboard`): one HTML file, its script and its stylesheet each, built into the
//! binary, so they are there wherever the server runs, whatever `--www` says. What
//! they share is in `server/pages/`: their stylesheets each begin with `staff.css`,
//! and their scripts (ES modules) import `staff.js` (sign-in, the API client, the
//! text, the DOM helpers), which each page serves next to its own script.
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

use crate::http::{method_not_allowed, AppState};

/// The policy of souk-server's own pages: its own script, style and API only; images from itself or
/// `data:`; never in a frame.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/// One of a page's files, built into the binary.
pub struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: OnceLock<HeaderValue>,
}

impl Asset {
    /// `body`, answered as `content_type`.
    pub const fn new(body: &'static str, content_type: &'static str) -> Asset {
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

/// The module the staff pages' scripts share, `server/pages/staff.js`.
pub static STAFF_SCRIPT: Asset = Asset::new(
    include_str!("../pages/staff.js"),
    "text/javascript; charset=utf-8",
);

/// The name the page's script imports [`STAFF_SCRIPT`] by, next to itself.
const STAFF_JS: &str = "staff.js";

/// A page's files under `base` (`/agent`): `base` and `base/` answer `index`,
/// `base/<name>` the script and the stylesheet, and `base/staff.js` the module the
/// script imports, [`STAFF_SCRIPT`].
pub fn routes(
    base: &str,
    index: &'static Asset,
    script: (&str, &'static Asset),
    style: (&str, &'static Asset),
) -> Router<AppState> {
    let file = |asset: &'static Asset| {
        get(move |headers: HeaderMap| async move { asset.answer(&headers) })
            .fallback(method_not_allowed)
    };
    Router::new()
        .route(base, file(index))
        .route(&format!("{base}/"), file(index))
        .route(&format!("{base}/{}", script.0), file(script.1))
        .route(&format!("{base}/{}", style.0), file(style.1))
        .route(&format!("{base}/{STAFF_JS}"), file(&STAFF_SCRIPT))
}

/// Checks that a page needs nothing its policy forbids: its script and stylesheet
/// at `base`, no inline script, style or handler, and no HTML written from strings,
/// in its script or in the staff module the script imports from next to itself.
#[cfg(test)]
pub fn assert_self_contained(index: &Asset, script: &Asset, js: &str, css: &str) {
    let html = index.body;
    assert!(html.contains(&format!(r#"<script type="module" src="{js}"></script>"#)));
    assert!(html.contains(&format!(r#"href="{css}""#)));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<style"));
    assert!(!html.contains(" style="));
    assert!(!html.contains(" onclick="));
    assert!(script.body.contains(&format!(r#" from "./{STAFF_JS}";"#)));
    for body in [script.body, STAFF_SCRIPT.body] {
        assert!(!body.contains("innerHTML"));
        assert!(!body.contains("insertAdjacentHTML"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static PAGE: Asset = Asset::new(
        "<!doctype html><title>t</title>",
        "text/html; charset=utf-8",
    );

    fn header<'a>(response: &'a Response, name: &str) -> &'a str {
        response.headers()[name].to_str().unwrap()
    }

    #[test]
    fn each_file_has_its_type_and_the_strict_headers() {
        let response = PAGE.answer(&HeaderMap::new());
        assert_eq!(response.status(), StatusCode::OK);
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert_eq!(header(&response, "content-security-policy"), CSP);
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    }

    #[test]
    fn a_current_copy_is_not_sent_again() {
        let etag = PAGE.etag().clone();
        let mut request = HeaderMap::new();
        request.insert(IF_NONE_MATCH, etag.clone());
        let response = PAGE.answer(&request);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[ETAG], etag);
        request.insert(IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        assert_eq!(PAGE.answer(&request).status(), StatusCode::OK);
    }
}
