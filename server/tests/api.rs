//! What every `/v1` endpoint shares: JSON errors for unknown paths and wrong methods,
//! and CORS for the browser endpoints.

mod common;

use common::*;
use serde_json::json;

#[test]
fn wrong_methods_on_known_paths_are_json_405s() {
    let site = Site::new();
    let server = site.start();
    for (method, path, allow) in [
        ("GET", "/v1/batch", "POST"),
        ("PUT", "/v1/batch", "POST"),
        ("DELETE", "/v1/consent", "POST"),
        ("GET", "/v1/consent", "POST"),
        ("POST", "/v1/consent/abc", "GET,HEAD"),
        ("DELETE", "/v1/consent/abc", "GET,HEAD"),
    ] {
        let reply = server.send(method, path, &[], None);
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(
            reply.error(405),
            format!("{path} does not take {method}; the Allow header lists the methods it takes")
        );
    }
}

#[test]
fn unknown_api_paths_stay_json_404s() {
    let site = Site::new();
    let server = site.start();
    for path in [
        "/v1/batch/extra",
        "/v1/consent/",
        "/v1/consents",
        "/v1/track",
    ] {
        let reply = server.post_json(path, &json!({ "batch": [] }));
        assert_eq!(reply.error(404), format!("no API endpoint at {path}"));
    }
}

#[test]
fn cors_preflight_and_answers_allow_any_origin() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.arg("--server-key").arg("sk");
    let server = Server::start(cmd);
    for path in ["/v1/batch", "/v1/consent"] {
        let reply = server.send(
            "OPTIONS",
            path,
            &[
                ("origin", "https://shop.example"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type,authorization,content-encoding",
                ),
            ],
            None,
        );
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        let methods = reply
            .header("access-control-allow-methods")
            .unwrap()
            .to_ascii_uppercase();
        assert!(
            methods.contains("POST") && methods.contains("OPTIONS"),
            "{methods}"
        );
        let headers = reply
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        for name in ["content-type", "authorization", "content-encoding"] {
            assert!(headers.contains(name), "{name} missing from {headers}");
        }
        assert!(reply.header("access-control-max-age").is_some());
    }

    // The answers, errors included, can be read by the shop's page.
    let origin = ("origin", "https://shop.example");
    let auth = basic(DEMO_KEY);
    let ok = server.post(
        "/v1/batch",
        &[
            origin,
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        json!({ "batch": [track("m1")] }).to_string(),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));
    let refused = server.post("/v1/consent", &[origin], "{}");
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));

    // The merchant's proof endpoint is not for pages.
    let proof = server.get_with("/v1/consent/abc", &[origin, ("authorization", "Bearer sk")]);
    assert_eq!(proof.status, 404);
    assert_eq!(proof.header("access-control-allow-origin"), None);
}

#[test]
fn no_bad_request_makes_the_server_panic_or_answer_500() {
    let site = Site::new();
    let server = site.start();
    let auth = basic(DEMO_KEY);
    let json = ("content-type", "application/json");
    let bodies: Vec<Vec<u8>> = vec![
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"batch\"".to_vec(),
        br#"{"batch": null}"#.to_vec(),
        br#"{"batch": [null]}"#.to_vec(),
        br#"{"batch": [{}]}"#.to_vec(),
        br#"{"batch": [{"type": null, "messageId": {}}]}"#.to_vec(),
        "[".repeat(200).into_bytes(),
        vec![0u8; 64],
        br#"{"batch": [{"type": "track", "messageId": "m", "timestamp": "9999-12-31T23:59:59-23:59", "userId": "u", "event": "e"}]}"#.to_vec(),
    ];
    for path in ["/v1/batch", "/v1/consent"] {
        for body in &bodies {
            let reply = server.post(path, &[json, ("authorization", &auth)], body);
            assert!(
                (400..500).contains(&reply.status),
                "{path} {:?} -> {}",
                String::from_utf8_lossy(body),
                reply.status
            );
            reply.json();
        }
    }
    let (_, stderr) = server.stop(libc::SIGTERM);
    assert_no_panic(&stderr);
}
