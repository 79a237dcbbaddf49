//! The two keys. The shop's public *write key* comes from the browser, Segment style:
//! as the HTTP Basic username with an empty password, or as `writeKey` in the JSON
//! body (what `navigator.sendBeacon`, which cannot set headers, relies on). The
//! merchant's secret *server key* comes from its own backend as a Bearer token.
//!
//! Keys are compared in constant time.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use base64::Engine;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::http::ApiError;

/// How to send the write key, for the 401 answers.
const HOW_TO_SEND_THE_WRITE_KEY: &str = "send the shop's write key as the HTTP Basic username with an empty password (Authorization: Basic base64(writeKey + \":\")) or as \"writeKey\" in the JSON body";

/// The keys this server accepts. Its `Debug` output never shows them.
pub struct Keys {
    write_key: String,
    server_key: Option<String>,
    identity_secret: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("write_key", &"<redacted>")
            .field(
                "server_key",
                &self.server_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "identity_secret",
                &self.identity_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Keys {
    /// The shop's write key, and the merchant's server key if one is configured.
    pub fn new(write_key: String, server_key: Option<String>) -> Keys {
        Keys {
            write_key,
            server_key,
            identity_secret: None,
        }
    }

    fn is_write_key(&self, candidate: &str) -> bool {
        same(candidate, &self.write_key)
    }

    /// The same keys with the shop's identity secret, which signs shoppers' userIds.
    pub fn with_identity_secret(self, identity_secret: Option<String>) -> Keys {
        Keys {
            identity_secret,
            ..self
        }
    }

    /// Checks that `user_hash` is the shop's [`user_hash`] of `user_id`. Every failure
    /// answers the same, whoever the userId names, so nothing about a customer leaks:
    /// 403 while no identity secret is configured, else 401.
    pub fn check_user_hash(&self, user_id: &str, user_hash: Option<&str>) -> Result<(), ApiError> {
        let Some(secret) = &self.identity_secret else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the shopper endpoints need the shop's identity secret, and none is configured: start souk-server with --identity-secret or SOUK_IDENTITY_SECRET",
            ));
        };
        let expected = hmac_sha256(secret, user_id);
        let given = user_hash.and_then(decode_hex);
        let valid = given.is_some_and(|given| bool::from(given.as_slice().ct_eq(&expected)));
        if valid {
            Ok(())
        } else {
            Err(unauthorized(
                "userHash is missing or does not sign this userId: the shop's backend computes it as the hex HMAC-SHA256 of the userId with the shop's identity secret",
            ))
        }
    }
}

/// The `userHash` that proves a shopper is `user_id`: the lowercase hex HMAC-SHA256 of
/// the userId (UTF-8) keyed with the shop's identity secret (UTF-8).
pub fn user_hash(identity_secret: &str, user_id: &str) -> String {
    hmac_sha256(identity_secret, user_id)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hmac_sha256(secret: &str, message: &str) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().into()
}

/// 64 hex digits (either case) as 32 bytes.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().as_bytes();
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16);
    text.chunks(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

fn same(candidate: &str, key: &str) -> bool {
    candidate.as_bytes().ct_eq(key.as_bytes()).into()
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// The write-key check of a browser endpoint. Taken from the request head first, so a
/// wrong `Authorization` header is refused before the body is read; without that
/// header the key must be in the body, checked by [`WriteAuth::confirm`].
#[derive(Debug)]
pub enum WriteAuth {
    /// The `Authorization` header carried the right key.
    Header,
    /// No `Authorization` header: the body must carry the key.
    Body(Arc<Keys>),
}

impl WriteAuth {
    /// Finishes the check with the body's `writeKey` when no header carried the key.
    pub fn confirm(self, body: &Value) -> Result<(), ApiError> {
        let WriteAuth::Body(keys) = self else {
            return Ok(());
        };
        match body.get("writeKey") {
            None | Some(Value::Null) => Err(unauthorized(format!(
                "no write key: {HOW_TO_SEND_THE_WRITE_KEY}"
            ))),
            Some(Value::String(key)) if keys.is_write_key(key) => Ok(()),
            Some(Value::String(_)) => Err(unauthorized(
                "the write key in \"writeKey\" is not this shop's write key",
            )),
            Some(_) => Err(unauthorized("\"writeKey\" must be a string")),
        }
    }
}

impl<S> FromRequestParts<S> for WriteAuth
where
    Arc<Keys>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let keys = Arc::<Keys>::from_ref(state);
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(WriteAuth::Body(keys));
        };
        let malformed = || {
            unauthorized(format!(
                "the Authorization header is not HTTP Basic with the write key: {HOW_TO_SEND_THE_WRITE_KEY}"
            ))
        };
        let (scheme, credentials) = split_scheme(header).ok_or_else(malformed)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(malformed());
        }
        let decoded = STANDARD_PAD_INDIFFERENT
            .decode(credentials)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(malformed)?;
        // Segment puts the key in the username and ignores the password.
        let user = decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user);
        if keys.is_write_key(user) {
            Ok(WriteAuth::Header)
        } else {
            Err(unauthorized(
                "the write key in the Authorization header is not this shop's write key",
            ))
        }
    }
}

/// `"Scheme credentials"` split at the first space, credentials trimmed.
fn split_scheme(header: &HeaderValue) -> Option<(&str, &str)> {
    let (scheme, rest) = header.to_str().ok()?.trim().split_once(' ')?;
    Some((scheme, rest.trim()))
}

/// Proof that the request carried the merchant's server key as
/// `Authorization: Bearer <key>`.
#[derive(Debug)]
pub struct ServerKey;

/// Why a request was refused the server key: 403 while none is configured, 401 for a
/// missing or wrong one (with `WWW-Authenticate: Bearer`).
#[derive(Debug)]
pub struct ServerKeyRejection(ApiError);

impl IntoResponse for ServerKeyRejection {
    fn into_response(self) -> Response {
        let challenge = self.0.status() == StatusCode::UNAUTHORIZED;
        let mut response = self.0.into_response();
        if challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl<S> FromRequestParts<S> for ServerKey
where
    Arc<Keys>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServerKeyRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let keys = Arc::<Keys>::from_ref(state);
        check_server_key(&keys, &parts.headers).map_err(ServerKeyRejection)
    }
}

fn check_server_key(keys: &Keys, headers: &HeaderMap) -> Result<ServerKey, ApiError> {
    let Some(server_key) = &keys.server_key else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this endpoint needs the server key, and none is configured: start souk-server with --server-key or SOUK_SERVER_KEY",
        ));
    };
    let how = "send the server key as Authorization: Bearer <server key>";
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Err(unauthorized(format!("no server key: {how}")));
    };
    match split_scheme(header) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            if same(token, server_key) {
                Ok(ServerKey)
            } else {
                Err(unauthorized("the Bearer token is not the server key"))
            }
        }
        _ => Err(unauthorized(format!(
            "the Authorization header is not a Bearer token: {how}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> Arc<Keys> {
        Arc::new(Keys::new("wk".into(), Some("sk".into())))
    }

    #[test]
    fn the_body_key_is_checked_only_without_a_header() {
        assert!(WriteAuth::Header.confirm(&json!({})).is_ok());
        assert!(WriteAuth::Body(keys())
            .confirm(&json!({"writeKey": "wk"}))
            .is_ok());
        for body in [
            json!({}),
            json!({"writeKey": "nope"}),
            json!({"writeKey": 1}),
        ] {
            let err = WriteAuth::Body(keys()).confirm(&body).unwrap_err();
            assert_eq!(err.status(), StatusCode::UNAUTHORIZED, "{body}");
        }
    }

    #[test]
    fn the_server_key_needs_the_bearer_scheme_and_the_exact_key() {
        let mut headers = HeaderMap::new();
        let status = |keys: &Keys, headers: &HeaderMap| {
            check_server_key(keys, headers).err().map(|e| e.status())
        };
        assert_eq!(status(&keys(), &headers), Some(StatusCode::UNAUTHORIZED));
        for (value, expected) in [
            ("Bearer sk", None),
            ("bearer  sk ", None),
            ("Bearer sk2", Some(StatusCode::UNAUTHORIZED)),
            ("Bearer s", Some(StatusCode::UNAUTHORIZED)),
            ("Basic sk", Some(StatusCode::UNAUTHORIZED)),
            ("sk", Some(StatusCode::UNAUTHORIZED)),
        ] {
            headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(status(&keys(), &headers), expected, "{value}");
        }
        let unset = Keys::new("wk".into(), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer sk"));
        assert_eq!(status(&unset, &headers), Some(StatusCode::FORBIDDEN));
    }

    #[test]
    fn user_hashes_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let keys = Keys::new("wk".into(), None).with_identity_secret(Some("secret".into()));
        let hash = user_hash("secret", "u1");
        assert!(keys.check_user_hash("u1", Some(&hash)).is_ok());
        assert!(keys
            .check_user_hash("u1", Some(&hash.to_uppercase()))
            .is_ok());
        for bad in [None, Some(""), Some("zz"), Some(&hash[1..])] {
            let err = keys.check_user_hash("u1", bad).unwrap_err();
            assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        }
        let other = keys.check_user_hash("u2", Some(&hash)).unwrap_err();
        assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
        let unset = Keys::new("wk".into(), None);
        assert_eq!(
            unset
                .check_user_hash("u1", Some(&hash))
                .unwrap_err()
                .status(),
            StatusCode::FORBIDDEN
        );
    }
}
