//! CORS for the browser endpoints: which shop pages may read the answers.
//!
//! With no allowlist, any origin may (the write key is public; fine for the demo and
//! localhost). With one, only the listed origins get CORS headers: a request from
//! another origin is still processed (CORS protects browsers, not the server), but its
//! page cannot read the answer, and its preflight is refused without allow headers.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;

/// The methods a preflight allows.
const METHODS: &str = "GET,POST,OPTIONS";

/// The request headers a preflight allows.
const HEADERS: &str = "content-type,authorization,content-encoding";

/// How long a browser may cache a preflight answer: a day.
const MAX_AGE: &str = "86400";

/// The origins whose pages may read the browser endpoints' answers.
#[derive(Debug, Clone)]
pub enum AllowedOrigins {
    /// Every origin.
    Any,
    /// Only these, as `scheme://host[:port]` in lower case.
    List(Arc<[HeaderValue]>),
}

impl AllowedOrigins {
    /// [`AllowedOrigins::Any`] when `origins` is empty, else the list.
    pub fn new(origins: Vec<HeaderValue>) -> AllowedOrigins {
        if origins.is_empty() {
            AllowedOrigins::Any
        } else {
            AllowedOrigins::List(origins.into())
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    fn allow(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match self {
            AllowedOrigins::Any => Some(HeaderValue::from_static("*")),
            AllowedOrigins::List(list) => origin.filter(|o| list.contains(o)).cloned(),
        }
    }
}

/// Parses one `--allow-origin` value: `http` or `https`, a host and an optional port,
/// no path. Scheme and host are lower-cased, as browsers send them.
pub fn parse_origin(text: &str) -> Result<HeaderValue, String> {
    let origin = text.trim().to_ascii_lowercase();
    let how = "an origin is http(s)://host[:port] with no path, such as https://shop.example";
    if origin == "*" {
        return Err(format!(
            "\"*\" is not an origin; leave --allow-origin unset to allow every origin ({how})"
        ));
    }
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("{text:?} does not start with https:// or http:// ({how})"))?;
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid_host {
        return Err(format!("{text:?} is not an origin ({how})"));
    }
    HeaderValue::from_str(&origin).map_err(|_| format!("{text:?} is not an origin ({how})"))
}

/// The middleware: answers preflights (`OPTIONS`) itself and adds
/// `Access-Control-Allow-Origin` to the answers that an allowed origin may read.
pub async fn layer(
    State(origins): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(ORIGIN).cloned();
    let allowed = origins.allow(origin.as_ref());
    let mut response = if request.method() == Method::OPTIONS {
        match &allowed {
            Some(_) => preflight(),
            None => refuse_preflight(origin.as_ref()),
        }
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    if let Some(allowed) = allowed {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    }
    if matches!(origins, AllowedOrigins::List(_)) {
        // The answer depends on the Origin, so caches must keep one per origin.
        headers.append(VARY, HeaderValue::from_static("origin"));
    }
    response
}

fn preflight() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(HEADERS),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    (StatusCode::OK, headers).into_response()
}

fn refuse_preflight(origin: Option<&HeaderValue>) -> Response {
    let message = match origin.map(|o| String::from_utf8_lossy(o.as_bytes())) {
        Some(origin) if parse_origin(&origin).is_ok() => format!(
            "CORS: origin {origin:?} may not call this API; start souk-server with --allow-origin {origin} (or add it to SOUK_ALLOWED_ORIGINS) to allow it"
        ),
        Some(origin) => format!("CORS: origin {origin:?} may not call this API"),
        None => "CORS: a preflight needs an Origin header".to_owned(),
    };
    ApiError::new(StatusCode::FORBIDDEN, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_lower_cased() {
        assert_eq!(
            parse_origin(" https://Shop.Example ").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            parse_origin("http://localhost:8080").unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(
            parse_origin("http://[::1]:3000").unwrap(),
            "http://[::1]:3000"
        );
        for bad in [
            "*",
            "shop.example",
            "https://",
            "https://shop.example/",
            "https://shop.example/path",
            "ftp://shop.example",
            "https://shop example",
        ] {
            let err = parse_origin(bad).unwrap_err();
            assert!(err.contains("https://shop.example"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_list_allows_only_its_origins() {
        let list = AllowedOrigins::new(vec![HeaderValue::from_static("https://a.example")]);
        let a = HeaderValue::from_static("https://a.example");
        let b = HeaderValue::from_static("https://b.example");
        assert_eq!(list.allow(Some(&a)), Some(a.clone()));
        assert_eq!(list.allow(Some(&b)), None);
        assert_eq!(list.allow(None), None);
        let any = AllowedOrigins::new(Vec::new());
        assert_eq!(any.allow(Some(&b)).unwrap(), "*");
        assert_eq!(any.allow(None).unwrap(), "*");
    }
}
