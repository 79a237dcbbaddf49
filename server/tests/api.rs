//! What every `/v1` endpoint shares: JSON errors for unknown paths and wrong methods,
//! and CORS for the browser endpoints (any origin by default, or an allowlist).

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
        ("GET", "/v1/track", "POST"),
        ("PATCH", "/v1/identify", "POST"),
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
        "/v1/tracks",
        "/v1/track/extra",
        "/v1/click",
    ] {
        let reply = server.post_json(path, &json!({ "batch": [] }));
        assert_eq!(reply.error(404), format!("no API endpoint at {path}"));
    }
}

/// The browser endpoints, which answer CORS preflights.
const BROWSER_PATHS: [&str; 8] = [
    "/v1/batch",
    "/v1/consent",
    "/v1/track",
    "/v1/page",
    "/v1/identify",
    "/v1/alias",
    "/v1/screen",
    "/v1/group",
];

/// A browser's preflight from `origin` before a POST to `path`.
fn preflight(server: &Server, path: &str, origin: &str) -> Reply {
    server.send(
        "OPTIONS",
        path,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type,authorization,content-encoding",
            ),
        ],
        None,
    )
}

/// Checks that `reply` is a preflight answer that lets `origin` POST.
fn assert_preflight_allows(reply: &Reply, path: &str, origin: &str) {
    assert_eq!(reply.status, 200, "{path}");
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some(origin),
        "{path}"
    );
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

#[test]
fn cors_preflight_and_answers_allow_any_origin_by_default() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.arg("--server-key").arg("sk");
    let server = Server::start(cmd);
    for path in BROWSER_PATHS {
        let reply = preflight(&server, path, "https://shop.example");
        assert_preflight_allows(&reply, path, "*");
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

    let (_, stderr) = server.stop(libc::SIGTERM);
    assert!(
        stderr
            .contains("no --allow-origin set: pages of any origin may call the browser endpoints"),
        "{stderr}"
    );
}

#[test]
fn an_origin_allowlist_gives_cors_headers_to_its_origins_only() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.args(["--allow-origin", "https://Shop.example"])
        .args(["--allow-origin", "http://localhost:3000"]);
    let server = Server::start(cmd);
    let auth = basic(DEMO_KEY);
    for origin in ["https://shop.example", "http://localhost:3000"] {
        for path in BROWSER_PATHS {
            let reply = preflight(&server, path, origin);
            assert_preflight_allows(&reply, path, origin);
            assert_eq!(reply.header("vary"), Some("origin"), "{path}");
        }
        let reply = server.post(
            "/v1/track",
            &[("origin", origin), ("authorization", &auth)],
            json!(track(&format!("from {origin}"))).to_string(),
        );
        assert_eq!(reply.json(), json!({ "success": true }));
        assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
    }

    // Another origin's preflight gets no allow headers, and says why.
    assert_eq!(
        preflight(&server, "/v1/batch", "null").error(403),
        r#"CORS: origin "null" may not call this API"#
    );
    for origin in ["https://evil.example", "https://shop.example.evil.example"] {
        for path in BROWSER_PATHS {
            let reply = preflight(&server, path, origin);
            for name in [
                "access-control-allow-origin",
                "access-control-allow-methods",
                "access-control-allow-headers",
                "access-control-max-age",
            ] {
                assert_eq!(reply.header(name), None, "{name} for {origin} at {path}");
            }
            assert_eq!(
                reply.error(403),
                format!("CORS: origin {origin:?} may not call this API; start souk-server with --allow-origin {origin} (or add it to SOUK_ALLOWED_ORIGINS) to allow it")
            );
        }
    }
    // Its requests are still processed (CORS protects browsers, not the server), but
    // its pages cannot read the answers; nor can requests without an Origin.
    for (headers, id) in [
        (vec![("origin", "https://evil.example")], "from evil"),
        (vec![], "from a backend"),
    ] {
        let mut headers = headers;
        headers.push(("authorization", &auth));
        let reply = server.post(
            "/v1/batch",
            &headers,
            json!({ "batch": [track(id)] }).to_string(),
        );
        assert_eq!(reply.json()["accepted"], 1, "{id}");
        assert_eq!(reply.header("access-control-allow-origin"), None, "{id}");
        assert_eq!(reply.header("vary"), Some("origin"), "{id}");
    }
    assert_eq!(site.events(), 4);

    let (_, stderr) = server.stop(libc::SIGTERM);
    assert!(
        stderr.contains("only these origins may call the browser endpoints origins=https://shop.example, http://localhost:3000"),
        "{stderr}"
    );
}

#[test]
fn the_allowlist_also_comes_from_the_environment_and_is_checked() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.env(
        "SOUK_ALLOWED_ORIGINS",
        "https://a.example, https://b.example:8443",
    );
    let server = Server::start(cmd);
    for origin in ["https://a.example", "https://b.example:8443"] {
        assert_preflight_allows(
            &preflight(&server, "/v1/batch", origin),
            "/v1/batch",
            origin,
        );
    }
    assert_eq!(
        preflight(&server, "/v1/batch", "https://b.example").status,
        403
    );

    for (origin, problem) in [
        (
            "shop.example",
            "\"shop.example\" does not start with https:// or http://",
        ),
        (
            "https://shop.example/",
            "\"https://shop.example/\" is not an origin",
        ),
        (
            "*",
            "\"*\" is not an origin; leave --allow-origin unset to allow every origin",
        ),
    ] {
        let mut cmd = site.command();
        cmd.args(["--allow-origin", origin]);
        let (status, stderr) = run_to_exit(cmd);
        assert_eq!(status.code(), Some(2), "{origin}");
        assert_no_panic(&stderr);
        assert!(
            stderr.contains(&format!(
                "invalid value '{origin}' for '--allow-origin <ORIGIN>': {problem}"
            )),
            "{stderr}"
        );
    }
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
        br#"{"type": 7, "messageId": []}"#.to_vec(),
        "[".repeat(200).into_bytes(),
        vec![0u8; 64],
        br#"{"batch": [{"type": "track", "messageId": "m", "timestamp": "9999-12-31T23:59:59-23:59", "userId": "u", "event": "e"}]}"#.to_vec(),
        br#"{"type": "track", "messageId": "m", "timestamp": "9999-12-31T23:59:59-23:59", "userId": "u", "event": "e"}"#.to_vec(),
    ];
    let paths = [
        "/v1/batch",
        "/v1/consent",
        "/v1/track",
        "/v1/alias",
        "/v1/group",
    ];
    for path in paths {
        for body in &bodies {
            let reply = server.post(path, &[json, ("authorization", &auth)], body);
            let shown = format!("{path} {:?}", String::from_utf8_lossy(body));
            let answer = reply.json();
            // A batch whose messages are all invalid is a 200 that rejects them all.
            if reply.status == 200 {
                assert_eq!(path, "/v1/batch", "{shown}");
                assert_eq!(answer["accepted"], 0, "{shown}");
                assert!(
                    !answer["rejected"].as_array().unwrap().is_empty(),
                    "{shown}"
                );
            } else {
                assert!(
                    (400..500).contains(&reply.status),
                    "{shown} -> {}",
                    reply.status
                );
                assert!(answer["error"].is_string(), "{shown}");
            }
        }
    }
    assert_eq!(site.events(), 0);
    let (_, stderr) = server.stop(libc::SIGTERM);
    assert_no_panic(&stderr);
}
