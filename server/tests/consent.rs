//! Proof of consent: `POST /v1/consent` keeps every version of a record, append-only, and
//! `GET /v1/consent/{consentId}` gives the merchant the history with the server key.

mod common;

use common::*;
use serde_json::{json, Value};

const SERVER_KEY: &str = "merchant-secret-key";

/// A valid first version of record `c-1`, made and updated at `at`.
fn record(at: &str) -> Value {
    json!({
        "consentId": "0b5c9f4e-2f1d-4c8a-9e3b-7a6d5c4b3a21",
        "anonymousId": "anon-1",
        "revision": "policy-2024-05",
        "language": "ar",
        "source": "banner",
        "categories": {
            "necessary": true, "functional": true, "analytics": false,
            "personalization": false, "marketing": false
        },
        "firstAt": "2024-05-01T10:00:00Z",
        "updatedAt": at,
        "gpc": false
    })
}

const ID: &str = "0b5c9f4e-2f1d-4c8a-9e3b-7a6d5c4b3a21";

fn with_server_key(site: &Site) -> Server {
    let mut cmd = site.command();
    cmd.arg("--server-key").arg(SERVER_KEY);
    Server::start(cmd)
}

fn proof(server: &Server, authorization: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    server.get_with(&format!("/v1/consent/{ID}"), &headers)
}

#[test]
fn versions_are_stored_counted_and_resends_change_nothing() {
    let site = Site::new();
    let server = site.start();
    let v1 = record("2024-05-01T10:00:00Z");
    let mut v2 = record("2024-05-02T09:00:00+03:00");
    v2["categories"]["analytics"] = json!(true);
    v2["userId"] = json!("user-7");
    let mut v3 = record("2024-06-01T10:00:00Z");
    v3["source"] = json!("gpc");
    v3["gpc"] = json!(true);
    v3["categories"]["functional"] = json!(false);

    assert_eq!(
        server.post_json("/v1/consent", &v1).json(),
        json!({ "stored": true, "version": 1 })
    );
    assert_eq!(
        server.post_json("/v1/consent", &v2).json(),
        json!({ "stored": true, "version": 2 })
    );
    assert_eq!(
        server.post_json("/v1/consent", &v1).json(),
        json!({ "stored": false, "version": 1 })
    );
    assert_eq!(
        server.post_json("/v1/consent", &v3).json(),
        json!({ "stored": true, "version": 3 })
    );
    assert_eq!(
        server.post_json("/v1/consent", &v2).json(),
        json!({ "stored": false, "version": 2 })
    );
    // The same instant written another way is the same version.
    let mut v2_utc = v2.clone();
    v2_utc["updatedAt"] = json!("2024-05-02T06:00:00.000Z");
    assert_eq!(
        server.post_json("/v1/consent", &v2_utc).json(),
        json!({ "stored": false, "version": 2 })
    );
    assert_eq!(site.consents(), 3);

    let rows = site.rows(
        "SELECT consent_id, user_id, source, functional, analytics, personalization, marketing,
                gpc, updated_at, body
         FROM consents ORDER BY id",
    );
    let flags = |row: &Value| {
        [
            "functional",
            "analytics",
            "personalization",
            "marketing",
            "gpc",
        ]
        .map(|c| row[c].as_i64().unwrap())
    };
    assert_eq!(rows[0]["consent_id"], ID);
    assert_eq!(
        (&rows[0]["user_id"], &rows[1]["user_id"]),
        (&Value::Null, &json!("user-7"))
    );
    assert_eq!(flags(&rows[0]), [1, 0, 0, 0, 0]);
    assert_eq!(flags(&rows[1]), [1, 1, 0, 0, 0]);
    assert_eq!(flags(&rows[2]), [0, 0, 0, 0, 1]);
    assert_eq!(rows[2]["source"], "gpc");
    assert_eq!(rows[1]["updated_at"], "2024-05-02T06:00:00.000Z");
    assert_eq!(
        serde_json::from_str::<Value>(rows[1]["body"].as_str().unwrap()).unwrap(),
        v2
    );

    let conn = site.conn();
    // Append-only in the database itself.
    assert!(conn
        .execute("UPDATE consents SET analytics = 1", [])
        .is_err());
    assert!(conn.execute("DELETE FROM consents", []).is_err());
    assert_eq!(site.consents(), 3);
}

#[test]
fn consent_takes_the_write_key_like_the_batch() {
    let site = Site::new();
    let server = site.start();
    let body = record("2024-05-01T10:00:00Z").to_string();
    let json = ("content-type", "application/json");
    let missing = server.post("/v1/consent", &[json], &body).error(401);
    assert!(missing.contains("Basic"), "{missing}");
    let wrong = basic("not-the-key");
    server
        .post("/v1/consent", &[json, ("authorization", &wrong)], &body)
        .error(401);

    // sendBeacon style: text/plain, key in the body, which is not kept.
    let mut beacon = record("2024-05-01T10:00:00Z");
    beacon["writeKey"] = json!(DEMO_KEY);
    let reply = server.post(
        "/v1/consent",
        &[("content-type", "text/plain;charset=UTF-8")],
        beacon.to_string(),
    );
    assert_eq!(reply.json(), json!({ "stored": true, "version": 1 }));
    assert_eq!(
        site.count("SELECT COUNT(*) FROM consents WHERE body LIKE '%writeKey%'"),
        0
    );
}

#[test]
fn the_proof_needs_the_server_key() {
    // Without a configured server key the endpoint is closed, whatever is sent.
    let site = Site::new();
    let server = site.start();
    assert_eq!(
        server
            .post_json("/v1/consent", &record("2024-05-01T10:00:00Z"))
            .status,
        200
    );
    let bearer = format!("Bearer {SERVER_KEY}");
    for auth in [None, Some(bearer.as_str())] {
        let message = proof(&server, auth).error(403);
        assert!(
            message.contains("--server-key") && message.contains("SOUK_SERVER_KEY"),
            "{message}"
        );
    }
    drop(server);

    let server = with_server_key(&site);
    let missing = proof(&server, None);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert!(missing.error(401).contains("Bearer"));
    let basic_key = basic(SERVER_KEY);
    for wrong in [
        "Bearer merchant-secret-ke",
        "Bearer merchant-secret-key2",
        "Bearer souk_demo_write_key",
        SERVER_KEY,
        basic_key.as_str(),
    ] {
        let message = proof(&server, Some(wrong)).error(401);
        assert!(!message.contains(SERVER_KEY), "{message}");
    }
    let reply = proof(&server, Some(&bearer));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["versions"].as_array().unwrap().len(), 1);
}

#[test]
fn the_proof_lists_every_version_oldest_first() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.env("SOUK_SERVER_KEY", SERVER_KEY);
    let server = Server::start(cmd);
    let v1 = record("2024-05-01T10:00:00Z");
    let mut v2 = record("2024-05-03T10:00:00Z");
    v2["categories"]["marketing"] = json!(true);
    v2["language"] = json!("en-GB");
    // Sent out of order (a device that was offline): the history is by updatedAt.
    assert_eq!(server.post_json("/v1/consent", &v2).json()["version"], 1);
    assert_eq!(server.post_json("/v1/consent", &v1).json()["version"], 1);
    assert_eq!(
        server.post_json("/v1/consent", &v2).json(),
        json!({ "stored": false, "version": 2 })
    );
    let mut other = record("2024-05-02T10:00:00Z");
    other["consentId"] = json!("another-record");
    assert_eq!(server.post_json("/v1/consent", &other).json()["version"], 1);

    let reply = proof(&server, Some(&format!("Bearer {SERVER_KEY}")));
    let history = reply.json();
    assert_eq!(history["consentId"], ID);
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    let first = &versions[0];
    assert_eq!(first["version"], 1);
    assert_eq!(first["updatedAt"], "2024-05-01T10:00:00.000Z");
    assert_eq!(first["firstAt"], "2024-05-01T10:00:00.000Z");
    assert_eq!(first["anonymousId"], "anon-1");
    assert_eq!(first["userId"], Value::Null);
    assert_eq!(first["revision"], "policy-2024-05");
    assert_eq!(first["language"], "ar");
    assert_eq!(first["source"], "banner");
    assert_eq!(first["gpc"], false);
    assert_eq!(
        first["categories"],
        json!({ "necessary": true, "functional": true, "analytics": false, "personalization": false, "marketing": false })
    );
    assert_eq!(first["record"], v1);
    assert!(first["receivedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(versions[1]["version"], 2);
    assert_eq!(versions[1]["categories"]["marketing"], true);
    assert_eq!(versions[1]["language"], "en-GB");
    assert_eq!(versions[1]["record"], v2);

    let bearer = format!("Bearer {SERVER_KEY}");
    let unknown = server.get_with("/v1/consent/no-such-record", &[("authorization", &bearer)]);
    assert_eq!(
        unknown.error(404),
        "no consent record with consentId \"no-such-record\""
    );
    let bad = server.get_with("/v1/consent/bad%20id", &[("authorization", &bearer)]);
    assert!(bad
        .error(400)
        .starts_with("consentId: must be 1 to 100 letters"));
}

/// `record(...)` with `field` (a path like `categories.analytics`) set to `value`, or
/// removed when `value` is None.
fn bad_record(field: &str, value: Option<Value>) -> Value {
    let mut body = record("2024-05-02T10:00:00Z");
    let (object, name) = match field.split_once('.') {
        Some((outer, name)) => (&mut body[outer], name),
        None => (&mut body, field),
    };
    match value {
        Some(value) => object[name] = value,
        None => {
            object.as_object_mut().unwrap().remove(name);
        }
    }
    body
}

#[test]
fn bad_consent_fields_are_named() {
    let site = Site::new();
    let server = site.start();
    let cases: Vec<(Value, &str)> = vec![
        (bad_record("consentId", None), "consentId: is required"),
        (bad_record("consentId", Some(json!(""))), "consentId: must not be empty"),
        (bad_record("consentId", Some(json!("c".repeat(101)))), "consentId: is 101 characters long; the limit is 100"),
        (
            bad_record("consentId", Some(json!("a/b"))),
            r#"consentId: must be 1 to 100 letters, digits, '-', '_' or '.', got "a/b""#,
        ),
        (bad_record("anonymousId", None), "anonymousId: is required"),
        (bad_record("userId", Some(json!(12))), "userId: must be a string, got 12"),
        (bad_record("revision", None), "revision: is required"),
        (bad_record("revision", Some(json!("r".repeat(101)))), "revision: is 101 characters long; the limit is 100"),
        (bad_record("language", None), "language: is required"),
        (
            bad_record("language", Some(json!("en_US"))),
            r#"language: must be a BCP 47 language tag such as "en" or "ar-SA", got "en_US""#,
        ),
        (bad_record("language", Some(json!("a".repeat(36)))), "language: is 36 characters long; the limit is 35"),
        (
            bad_record("source", Some(json!("popup"))),
            r#"source: must be one of banner, api, gpc, tcf, cmp, got "popup""#,
        ),
        (bad_record("categories", None), "categories: is required"),
        (bad_record("categories", Some(json!(["analytics"]))), r#"categories: must be an object, got ["analytics"]"#),
        (
            bad_record("categories.necessary", Some(json!(false))),
            "categories.necessary: must be true: necessary storage is not optional",
        ),
        (bad_record("categories.necessary", None), "categories.necessary: is required"),
        (bad_record("categories.analytics", None), "categories.analytics: is required"),
        (bad_record("categories.marketing", Some(json!("yes"))), r#"categories.marketing: must be true or false, got "yes""#),
        (
            bad_record("categories.advertising", Some(json!(true))),
            "categories.advertising: is not a consent category; the categories are necessary, functional, analytics, personalization, marketing",
        ),
        (bad_record("firstAt", None), "firstAt: is required"),
        (bad_record("firstAt", Some(json!("last week"))), r#"firstAt: must be an RFC 3339 date-time, got "last week""#),
        (bad_record("updatedAt", Some(json!("2024-05-02"))), r#"updatedAt: must be an RFC 3339 date-time, got "2024-05-02""#),
        (bad_record("updatedAt", Some(json!("2024-04-30T10:00:00Z"))), "updatedAt: must not be before firstAt"),
        (bad_record("gpc", None), "gpc: is required"),
        (bad_record("gpc", Some(json!(0))), "gpc: must be true or false, got 0"),
        (json!("consent"), r#"body: must be a JSON object, got "consent""#),
    ];
    for (body, expected) in cases {
        let reply = server.post_json("/v1/consent", &body);
        assert_eq!(reply.error(400), expected);
    }
    assert_eq!(site.consents(), 0);

    let mut big = record("2024-05-02T10:00:00Z");
    big["notes"] = json!("x".repeat(40_000));
    let message = server.post_json("/v1/consent", &big).error(413);
    assert!(message.contains("32 KB"), "{message}");
    assert_eq!(site.consents(), 0);
}
