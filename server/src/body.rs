//! [`JsonBody`]: the body of a browser POST read as JSON, with JSON errors for every way
//! it can be wrong instead of axum's plain-text rejections.
//!
//! `application/json` and `text/plain` (what `navigator.sendBeacon` sends with a string)
//! are both parsed as JSON, and so is a body with no `Content-Type`. A gzip body has
//! already been inflated by tower-http's request decompression when it gets here; any
//! other `Content-Encoding` is refused with 415.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::http::ApiError;

/// How much more of a too-large body is read and dropped before answering 413, so the
/// client gets the answer instead of a reset connection.
const DRAIN_BYTES: usize = 8 << 20;

/// How long draining a too-large body may take.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// A JSON body of at most `MAX` bytes (after decompression).
#[derive(Debug)]
pub struct JsonBody<const MAX: usize>(pub Value);

impl<S: Send + Sync, const MAX: usize> FromRequest<S> for JsonBody<MAX> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        check_headers(req.headers())?;
        let bytes = read_at_most(req.into_body(), MAX).await?;
        parse(&bytes).map(JsonBody)
    }
}

fn unsupported(message: String) -> ApiError {
    ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
}

fn check_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(value) = headers.get(CONTENT_TYPE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        let essence = text
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && essence != "text/plain" {
            return Err(unsupported(format!(
                "Content-Type must be application/json or text/plain (both are read as JSON), got {text:?}"
            )));
        }
    }
    // The decompression layer removes the header of a body it inflated.
    if let Some(value) = headers.get(CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        if !text.trim().eq_ignore_ascii_case("identity") {
            return Err(unsupported(format!(
                "Content-Encoding {text:?} is not supported; send the body as gzip or uncompressed"
            )));
        }
    }
    Ok(())
}

/// Reads the whole body, refusing it with 413 once it passes `max` bytes.
async fn read_at_most(mut body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the request body could not be read (if it is gzip, it is not valid gzip): {e}"
                ),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > max {
            drain(body).await;
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than {} KB ({max} bytes); send a smaller body (fewer messages per batch)",
                    max / 1024
                ),
            ));
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// Reads and drops what is left of `body`, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(mut body: Body) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut seen = 0;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}

fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the request body is empty; send a JSON object",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn json_and_plain_text_are_accepted_and_forms_are_not() {
        let mut headers = HeaderMap::new();
        assert!(check_headers(&headers).is_ok());
        for ok in [
            "application/json",
            "text/plain;charset=UTF-8",
            "Application/JSON; charset=utf-8",
        ] {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ok));
            assert!(check_headers(&headers).is_ok(), "{ok}");
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let err = check_headers(&headers).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn json_errors_say_where() {
        let err = parse(br#"{"batch": [}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(
            err.message().contains("at line 1 column 12"),
            "{}",
            err.message()
        );
        assert!(parse(b"  ").unwrap_err().message().contains("empty"));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413() {
        let err = read_at_most(Body::from(vec![b' '; 11]), 10)
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            read_at_most(Body::from(vec![b' '; 10]), 10)
                .await
                .unwrap()
                .len(),
            10
        );
    }
}
