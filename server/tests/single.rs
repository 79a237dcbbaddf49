//! Segment's single-message calls, `POST /v1/track`, `/v1/page`, `/v1/identify`,
//! `/v1/alias`, `/v1/screen` and `/v1/group`: one message as the body, its type from
//! the path, stored exactly once like a batch's messages.

mod common;

use common::*;
use serde_json::{json, Value};

/// A valid message for the call `kind`, without a `type`.
fn message(kind: &str, message_id: &str) -> Value {
    let mut m = json!({
        "messageId": message_id,
        "anonymousId": "anon-1",
        "timestamp": "2024-05-01T10:00:00Z",
        "context": { "library": { "name": "analytics-node", "version": "2.1.0" } },
    });
    match kind {
        "track" => {
            m["event"] = json!("Order Completed");
            m["properties"] = json!({ "order_id": "o-1", "revenue": 42 });
        }
        "page" | "screen" => m["name"] = json!("Home"),
        "identify" => {
            m["userId"] = json!("user-7");
            m["traits"] = json!({ "name": "Noor" });
        }
        "alias" => {
            m["userId"] = json!("user-7");
            m["previousId"] = json!("anon-1");
        }
        "group" => m["groupId"] = json!("shop-1"),
        _ => unreachable!("{kind}"),
    }
    m
}

const KINDS: [&str; 6] = ["track", "page", "identify", "alias", "screen", "group"];

#[test]
fn each_call_stores_its_message_with_the_type_of_its_path() {
    let site = Site::new();
    let server = site.start();
    for kind in KINDS {
        let sent = message(kind, &format!("{kind}-1"));
        let reply = server.post_json(&format!("/v1/{kind}"), &sent);
        assert_eq!(reply.status, 200, "{kind}");
        assert_eq!(reply.json(), json!({ "success": true }), "{kind}");
    }
    let rows = site.rows(
        "SELECT message_id, type, event, anonymous_id, user_id, body FROM events ORDER BY rowid",
    );
    assert_eq!(rows.len(), KINDS.len());
    for (row, kind) in rows.iter().zip(KINDS) {
        assert_eq!(row["message_id"], format!("{kind}-1"));
        assert_eq!(row["type"], kind);
        // The stored message is the body with its type filled in, first.
        let mut expected = json!({ "type": kind });
        expected
            .as_object_mut()
            .unwrap()
            .extend(message(kind, "").as_object().unwrap().clone());
        expected["messageId"] = json!(format!("{kind}-1"));
        assert_eq!(row["body"], expected.to_string(), "{kind}");
    }
    assert_eq!(rows[0]["event"], "Order Completed");
    assert_eq!(rows[1]["event"], "Home");
    assert_eq!(rows[2]["user_id"], "user-7");

    // A type in the body must agree with the path.
    let mut typed = message("page", "page-2");
    typed["type"] = json!("page");
    assert_eq!(
        server.post_json("/v1/page", &typed).json(),
        json!({ "success": true })
    );
    typed["messageId"] = json!("page-3");
    assert_eq!(
        server.post_json("/v1/track", &typed).error(400),
        r#"type: must be "track" (or left out) at /v1/track, got "page""#
    );
    assert_eq!(site.events(), KINDS.len() as i64 + 1);
}

#[test]
fn a_resent_message_is_a_duplicate_and_the_first_copy_stands() {
    let site = Site::new();
    let server = site.start();
    let first = message("track", "m1");
    assert_eq!(
        server.post_json("/v1/track", &first).json(),
        json!({ "success": true })
    );
    let mut changed = first.clone();
    changed["event"] = json!("Product Added");
    for body in [&first, &changed] {
        assert_eq!(
            server.post_json("/v1/track", body).json(),
            json!({ "success": true, "duplicate": true })
        );
    }
    // The same messageId through a batch is a duplicate too, and the other way round.
    let reply = server.post_json("/v1/batch", &json!({ "batch": [track("m1"), track("m2")] }));
    assert_eq!(
        reply.json(),
        json!({ "success": true, "accepted": 1, "duplicates": 1 })
    );
    assert_eq!(
        server
            .post_json("/v1/track", &message("track", "m2"))
            .json(),
        json!({ "success": true, "duplicate": true })
    );
    assert_eq!(site.events(), 2);
    assert_eq!(
        site.rows("SELECT event FROM events WHERE message_id = 'm1'")[0]["event"],
        "Order Completed"
    );
}

#[test]
fn an_invalid_message_is_a_400_that_names_the_field() {
    let site = Site::new();
    let server = site.start();
    let without = |kind: &str, field: &str| {
        let mut m = message(kind, "bad");
        m.as_object_mut().unwrap().remove(field);
        m
    };
    let with = |kind: &str, field: &str, value: Value| {
        let mut m = message(kind, "bad");
        m[field] = value;
        m
    };
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "track",
            without("track", "messageId"),
            "messageId: is required: souk stores each message exactly once by its messageId, so give every message a unique one (Segment's libraries do)".into(),
        ),
        ("track", without("track", "event"), "event: is required for track calls".into()),
        (
            "track",
            with("track", "timestamp", json!("yesterday")),
            r#"timestamp: must be an RFC 3339 date-time, got "yesterday""#.into(),
        ),
        ("track", without("track", "timestamp"), "timestamp: is required".into()),
        ("page", without("page", "anonymousId"), "body: needs an anonymousId or a userId".into()),
        ("identify", with("identify", "traits", json!([1])), "traits: must be an object, got [1]".into()),
        ("alias", without("alias", "previousId"), "previousId: is required for alias calls".into()),
        ("group", without("group", "groupId"), "groupId: is required for group calls".into()),
        (
            "screen",
            with("screen", "type", json!("click")),
            r#"type: must be "screen" (or left out) at /v1/screen, got "click""#.into(),
        ),
        ("track", json!([1]), "body: must be a JSON object, got [1]".into()),
        ("track", json!("track"), r#"body: must be a JSON object, got "track""#.into()),
    ];
    for (kind, body, expected) in cases {
        let reply = server.post_json(&format!("/v1/{kind}"), &body);
        assert_eq!(reply.error(400), expected, "{kind}");
    }

    let mut huge = message("track", "big");
    huge["properties"]["blob"] = json!("x".repeat(33_000));
    let len = huge.to_string().len() + r#""type":"track","#.len();
    assert_eq!(
        server.post_json("/v1/track", &huge).error(400),
        format!("body: is {len} bytes as JSON; the limit is 32768")
    );
    huge["properties"]["blob"] = json!("x".repeat(70_000));
    assert_eq!(
        server.post_json("/v1/track", &huge).error(413),
        "the request body is larger than 64 KB (65536 bytes); send a smaller body (fewer messages per batch)"
    );
    assert_eq!(site.events(), 0);
}

#[test]
fn the_write_key_goes_in_basic_auth_or_the_body_and_is_not_stored() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.arg("--write-key").arg("shop_key_3");
    let server = Server::start(cmd);
    let json_type = ("content-type", "application/json");

    let body = message("identify", "m1").to_string();
    let missing = server.post("/v1/identify", &[json_type], &body).error(401);
    assert!(missing.contains("no write key"), "{missing}");
    let wrong = basic("souk_demo_write_key");
    let refused = server
        .post(
            "/v1/identify",
            &[json_type, ("authorization", &wrong)],
            &body,
        )
        .error(401);
    assert!(refused.contains("not this shop's write key"), "{refused}");
    let mut wrong_body = message("identify", "m1");
    wrong_body["writeKey"] = json!("nope");
    assert_eq!(
        server
            .post("/v1/identify", &[json_type], wrong_body.to_string())
            .status,
        401
    );
    assert_eq!(site.events(), 0);

    let auth = basic("shop_key_3");
    let gzipped = gzip(body.as_bytes());
    let reply = server.post(
        "/v1/identify",
        &[
            json_type,
            ("content-encoding", "gzip"),
            ("authorization", &auth),
        ],
        gzipped,
    );
    assert_eq!(reply.json(), json!({ "success": true }));
    // sendBeacon style: text/plain with the key in the body, which is not stored.
    let mut beacon = message("page", "m2");
    beacon["writeKey"] = json!("shop_key_3");
    let reply = server.post(
        "/v1/page",
        &[("content-type", "text/plain;charset=UTF-8")],
        beacon.to_string(),
    );
    assert_eq!(reply.json(), json!({ "success": true }));
    assert_eq!(site.events(), 2);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM events WHERE body LIKE '%writeKey%'"),
        0
    );
}
