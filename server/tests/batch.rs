//! `POST /v1/batch`, Segment's HTTP tracking API: what is stored, exactly once; every
//! way a message is rejected while its valid neighbours are stored; and every way a
//! whole request is refused.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use serde_json::{json, Value};

#[test]
fn an_accepted_batch_lands_in_the_database() {
    let site = Site::new();
    let server = site.start();
    let identify = json!({
        "type": "identify", "messageId": "m2", "userId": "user-7", "anonymousId": "anon-1",
        "timestamp": "2024-05-01T10:01:00Z", "traits": { "name": "Noor" },
        "customField": { "kept": true }
    });
    let page = json!({
        "type": "page", "name": "Home", "messageId": "m3", "anonymousId": "anon-1",
        "timestamp": "2024-05-01T10:02:00Z"
    });
    let reply = server.post_json(
        "/v1/batch",
        &json!({ "batch": [track("m1"), identify, page], "sentAt": "2024-05-01T10:03:00Z" }),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({ "success": true, "accepted": 3, "duplicates": 0 })
    );

    let rows = site.rows(
        "SELECT message_id, type, event, anonymous_id, user_id, timestamp, received_at, body
         FROM events ORDER BY message_id",
    );
    assert_eq!(rows.len(), 3);
    let body =
        |row: &Value| -> Value { serde_json::from_str(row["body"].as_str().unwrap()).unwrap() };

    let m1 = &rows[0];
    assert_eq!(m1["message_id"], "m1");
    assert_eq!(m1["type"], "track");
    assert_eq!(m1["event"], "Product Viewed");
    assert_eq!(m1["anonymous_id"], "anon-1");
    assert_eq!(m1["user_id"], Value::Null);
    // Stored in UTC with milliseconds, so text order is time order.
    assert_eq!(m1["timestamp"], "2024-05-01T10:00:00.250Z");
    let received_at = m1["received_at"].as_str().unwrap();
    assert_eq!(received_at.len(), 24, "{received_at}");
    assert!(
        received_at.ends_with('Z') && received_at > "2024",
        "{received_at}"
    );
    // The message as sent, compact.
    let text = m1["body"].as_str().unwrap();
    assert!(!text.contains(": ") && !text.contains('\n'), "{text}");
    assert_eq!(body(m1), track("m1"));

    let m2 = &rows[1];
    assert_eq!(
        (&m2["type"], &m2["event"], &m2["user_id"]),
        (&json!("identify"), &Value::Null, &json!("user-7"))
    );
    assert_eq!(body(m2)["customField"], json!({ "kept": true }));

    let m3 = &rows[2];
    assert_eq!(
        (&m3["type"], &m3["event"]),
        (&json!("page"), &json!("Home"))
    );
}

#[test]
fn a_resent_batch_is_reported_as_duplicates_and_adds_no_rows() {
    let site = Site::new();
    let server = site.start();
    let batch = json!({ "batch": [track("m1"), track("m2")] });
    assert_eq!(
        server.post_json("/v1/batch", &batch).json(),
        json!({ "success": true, "accepted": 2, "duplicates": 0 })
    );
    let first_received_at: String = site
        .conn()
        .query_row(
            "SELECT received_at FROM events WHERE message_id = 'm2'",
            [],
            |r| r.get(0),
        )
        .unwrap();

    let reply = server.post_json("/v1/batch", &batch);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({ "success": true, "accepted": 0, "duplicates": 2 })
    );
    assert_eq!(site.events(), 2);

    // A batch with one new message and one seen one; a duplicate inside the batch too.
    let mut changed = track("m2");
    changed["event"] = json!("Product Added");
    let reply = server.post_json(
        "/v1/batch",
        &json!({ "batch": [track("m3"), changed, track("m3")] }),
    );
    assert_eq!(
        reply.json(),
        json!({ "success": true, "accepted": 1, "duplicates": 2 })
    );
    assert_eq!(site.events(), 3);
    // The first copy stands.
    let (event, received_at): (String, String) = site
        .conn()
        .query_row(
            "SELECT event, received_at FROM events WHERE message_id = 'm2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(event, "Product Viewed");
    assert_eq!(received_at, first_received_at);
}

#[test]
fn concurrent_posts_land_exactly_once() {
    const POSTS: usize = 200;
    const DISTINCT: usize = 150;
    let site = Site::new();
    let server = site.start();
    let url = format!("{}/v1/batch", server.url);
    let start = Arc::new(Barrier::new(POSTS));
    // Thread i posts message m{i % 150}: 150 ids, the first 50 of them posted twice at once.
    let threads: Vec<_> = (0..POSTS)
        .map(|i| {
            let url = url.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let body = json!({ "batch": [track(&format!("m{}", i % DISTINCT))] }).to_string();
                start.wait();
                let mut reply = agent()
                    .post(&url)
                    .header("authorization", basic(DEMO_KEY))
                    .header("content-type", "application/json")
                    .send(body)
                    .unwrap();
                assert_eq!(reply.status(), 200);
                let json: Value =
                    serde_json::from_slice(&reply.body_mut().read_to_vec().unwrap()).unwrap();
                (
                    i % DISTINCT,
                    json["accepted"].as_u64().unwrap(),
                    json["duplicates"].as_u64().unwrap(),
                )
            })
        })
        .collect();
    let mut accepted = vec![0; DISTINCT];
    let mut duplicates = vec![0; DISTINCT];
    for thread in threads {
        let (id, a, d) = thread.join().unwrap();
        accepted[id] += a;
        duplicates[id] += d;
    }
    assert!(accepted.iter().all(|&a| a == 1), "{accepted:?}");
    assert_eq!(duplicates.iter().sum::<u64>(), (POSTS - DISTINCT) as u64);
    assert_eq!(site.events(), DISTINCT as i64);
    assert_eq!(
        site.count("SELECT COUNT(DISTINCT message_id) FROM events"),
        DISTINCT as i64
    );
}

/// `track("bad")` with `field` set to `value` (removed if `value` is None).
fn bad_track(field: &str, value: Option<Value>) -> Value {
    let mut message = track("bad");
    match value {
        Some(value) => message[field] = value,
        None => {
            message.as_object_mut().unwrap().remove(field);
        }
    }
    message
}

/// Invalid messages, each with the error the batch answer gives for it.
fn invalid_messages() -> Vec<(Value, String)> {
    let mut huge = track("bad");
    huge["properties"]["blob"] = json!("x".repeat(33_000));
    let huge_len = huge.to_string().len();
    vec![
        (
            bad_track("timestamp", Some(json!("yesterday"))),
            r#"timestamp: must be an RFC 3339 date-time, got "yesterday""#.into(),
        ),
        (
            bad_track("timestamp", Some(json!(1714557600000u64))),
            "timestamp: must be an RFC 3339 date-time, got 1714557600000".into(),
        ),
        (bad_track("timestamp", None), "timestamp: is required".into()),
        (bad_track("type", None), "type: is required".into()),
        (
            bad_track("type", Some(json!("click"))),
            r#"type: must be one of track, page, identify, alias, screen, group, got "click""#.into(),
        ),
        (
            bad_track("messageId", None),
            "messageId: is required: souk stores each message exactly once by its messageId, so give every message a unique one (Segment's libraries do)".into(),
        ),
        (bad_track("messageId", Some(json!(""))), "messageId: must not be empty".into()),
        (
            bad_track("messageId", Some(json!("m".repeat(101)))),
            "messageId: is 101 characters long; the limit is 100".into(),
        ),
        (bad_track("messageId", Some(json!(42))), "messageId: must be a string, got 42".into()),
        (bad_track("anonymousId", None), "message: needs an anonymousId or a userId".into()),
        (
            bad_track("anonymousId", Some(json!("a".repeat(101)))),
            "anonymousId: is 101 characters long; the limit is 100".into(),
        ),
        (bad_track("userId", Some(json!(7))), "userId: must be a string, got 7".into()),
        (bad_track("event", None), "event: is required for track calls".into()),
        (bad_track("event", Some(json!(""))), "event: must not be empty".into()),
        (
            bad_track("properties", Some(json!([1, 2]))),
            "properties: must be an object, got [1,2]".into(),
        ),
        (
            bad_track("context", Some(json!("ar-SA"))),
            r#"context: must be an object, got "ar-SA""#.into(),
        ),
        (
            json!({ "type": "identify", "messageId": "bad", "userId": "u",
                    "timestamp": "2024-05-01T10:00:00Z", "traits": true }),
            "traits: must be an object, got true".into(),
        ),
        (
            json!({ "type": "alias", "messageId": "bad", "userId": "u",
                    "timestamp": "2024-05-01T10:00:00Z" }),
            "previousId: is required for alias calls".into(),
        ),
        (
            json!({ "type": "alias", "messageId": "bad", "anonymousId": "a",
                    "previousId": "p", "timestamp": "2024-05-01T10:00:00Z" }),
            "userId: is required for alias calls".into(),
        ),
        (
            json!({ "type": "group", "messageId": "bad", "userId": "u",
                    "timestamp": "2024-05-01T10:00:00Z" }),
            "groupId: is required for group calls".into(),
        ),
        (json!("hello"), r#"message: must be a JSON object, got "hello""#.into()),
        (json!(null), "message: must be a JSON object, got null".into()),
        (huge, format!("message: is {huge_len} bytes as JSON; the limit is 32768")),
    ]
}

/// What the batch answer says about `bad` at `index`: its string `messageId`, if any.
fn rejection(index: usize, bad: &Value, error: &str) -> Value {
    let mut entry = json!({ "index": index, "error": error });
    if let Some(id) = bad.get("messageId").and_then(Value::as_str) {
        entry["messageId"] = json!(id);
    }
    entry
}

#[test]
fn each_invalid_message_is_rejected_alone_with_the_field_named() {
    let site = Site::new();
    let server = site.start();
    for (i, (bad, expected)) in invalid_messages().into_iter().enumerate() {
        let (before, after) = (format!("before-{i}"), format!("after-{i}"));
        let reply = server.post_json(
            "/v1/batch",
            &json!({ "batch": [track(&before), bad, track(&after)] }),
        );
        assert_eq!(reply.status, 200, "{expected}");
        assert_eq!(
            reply.json(),
            json!({
                "success": true, "accepted": 2, "duplicates": 0,
                "rejected": [rejection(1, &bad, &expected)],
            })
        );
        // The valid neighbours are stored, the invalid message is not.
        let ids: Vec<Value> = site
            .rows(&format!(
                "SELECT message_id FROM events WHERE message_id IN ('{before}', '{after}', 'bad')"
            ))
            .into_iter()
            .map(|row| row["message_id"].clone())
            .collect();
        assert_eq!(ids.len(), 2, "{expected}: {ids:?}");
        assert!(!ids.contains(&json!("bad")), "{expected}");
    }
    assert_eq!(site.events(), 2 * invalid_messages().len() as i64);
}

#[test]
fn a_batch_reports_every_invalid_message_by_index() {
    let site = Site::new();
    let server = site.start();
    let cases = invalid_messages();
    // good-0, bad, good-1, bad, ...: the bad ones sit at the odd indexes.
    let batch: Vec<Value> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, (bad, _))| [track(&format!("good-{i}")), bad.clone()])
        .collect();
    let reply = server.post_json("/v1/batch", &json!({ "batch": batch }));
    let expected: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (bad, error))| rejection(2 * i + 1, bad, error))
        .collect();
    assert_eq!(
        reply.json(),
        json!({
            "success": true, "accepted": cases.len(), "duplicates": 0,
            "rejected": expected,
        })
    );
    assert_eq!(site.events(), cases.len() as i64);

    // A batch of invalid messages only stores nothing and still succeeds, so the
    // client drops them.
    let reply = server.post_json(
        "/v1/batch",
        &json!({ "batch": [bad_track("event", None), 7] }),
    );
    assert_eq!(
        reply.json(),
        json!({
            "success": true, "accepted": 0, "duplicates": 0,
            "rejected": [
                { "index": 0, "messageId": "bad", "error": "event: is required for track calls" },
                { "index": 1, "error": "message: must be a JSON object, got 7" },
            ],
        })
    );
    // Once fixed, the message goes through under the same messageId.
    let reply = server.post_json("/v1/batch", &json!({ "batch": [track("bad")] }));
    assert_eq!(
        reply.json(),
        json!({ "success": true, "accepted": 1, "duplicates": 0 })
    );
    assert_eq!(site.events(), cases.len() as i64 + 1);
}

#[test]
fn a_bad_batch_body_is_still_refused_whole() {
    let site = Site::new();
    let server = site.start();
    let cases: Vec<(Value, String)> = vec![
        (
            json!({ "sentAt": "2024-05-01T10:00:00Z" }),
            "batch: is required".into(),
        ),
        (json!({ "batch": null }), "batch: is required".into()),
        (
            json!({ "batch": { "0": {} } }),
            r#"batch: must be an array of messages, got {"0":{}}"#.into(),
        ),
        (
            json!({ "batch": [track("good")], "sentAt": "now" }),
            r#"sentAt: must be an RFC 3339 date-time, got "now""#.into(),
        ),
        (
            json!([track("good")]),
            format!(
                "body: must be a JSON object, got {}…",
                &json!([track("good")]).to_string()[..59]
            ),
        ),
        (
            json!({ "batch": (0..1001).map(|i| track(&format!("m{i}"))).collect::<Vec<_>>() }),
            "batch: has 1001 messages; the limit is 1000".into(),
        ),
    ];
    for (body, expected) in cases {
        let reply = server.post_json("/v1/batch", &body);
        assert_eq!(reply.error(400), expected);
        assert_eq!(site.events(), 0, "a refused batch stored rows: {expected}");
    }
}

#[test]
fn malformed_json_is_a_400_that_says_where() {
    let site = Site::new();
    let server = site.start();
    let auth = basic(DEMO_KEY);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let cases = [
        (
            r#"{"batch": [}"#,
            "the request body is not valid JSON: expected value at line 1 column 12",
        ),
        (
            "{\"batch\": [\n  {\"type\": \"track\",,}]}",
            "the request body is not valid JSON: key must be a string at line 2 column 20",
        ),
        (
            r#"{"batch": ["#,
            "the request body is not valid JSON: EOF while parsing a list at line 1 column 11",
        ),
        ("", "the request body is empty; send a JSON object"),
    ];
    for (body, expected) in cases {
        let reply = server.post("/v1/batch", &headers, body);
        assert_eq!(reply.error(400), expected, "{body}");
    }
    // Invalid UTF-8 and a BOM-less binary body are JSON errors too, not a 500.
    let reply = server.post("/v1/batch", &headers, [0xff, 0xfe, 0x00]);
    assert!(reply
        .error(400)
        .starts_with("the request body is not valid JSON"));
    assert_eq!(site.events(), 0);
}

#[test]
fn the_write_key_is_required_and_checked() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.arg("--write-key").arg("shop_key_1");
    let server = Server::start(cmd);
    let body = json!({ "batch": [track("m1")] }).to_string();
    let json = ("content-type", "application/json");

    let missing = server.post("/v1/batch", &[json], &body).error(401);
    assert!(
        missing.contains("Basic") && missing.contains("\"writeKey\" in the JSON body"),
        "{missing}"
    );
    let wrong_basic = basic("souk_demo_write_key");
    let wrong_body =
        json!({ "batch": [track("m1")], "writeKey": "souk_demo_write_key" }).to_string();
    for (headers, body) in [
        (
            vec![json, ("authorization", wrong_basic.as_str())],
            body.as_str(),
        ),
        (
            vec![json, ("authorization", "Basic !!!not-base64")],
            body.as_str(),
        ),
        (
            vec![json, ("authorization", "Bearer shop_key_1")],
            body.as_str(),
        ),
        (vec![json, ("authorization", "shop_key_1")], body.as_str()),
        (vec![json], wrong_body.as_str()),
        (vec![json], r#"{"batch": [], "writeKey": 7}"#),
    ] {
        let message = server.post("/v1/batch", &headers, body).error(401);
        assert!(!message.contains("shop_key_1"), "the key leaked: {message}");
    }
    // A wrong header is refused even if the body has the right key.
    let both = json!({ "batch": [track("m1")], "writeKey": "shop_key_1" }).to_string();
    assert_eq!(
        server
            .post(
                "/v1/batch",
                &[json, ("authorization", wrong_basic.as_str())],
                &both
            )
            .status,
        401
    );
    assert_eq!(site.events(), 0);

    // Auth comes before validation: an unauthenticated bad batch learns nothing.
    assert_eq!(
        server
            .post("/v1/batch", &[json], r#"{"batch": [1]}"#)
            .status,
        401
    );
}

#[test]
fn basic_auth_and_the_body_write_key_both_work() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.env("SOUK_WRITE_KEY", "shop_key_2");
    let server = Server::start(cmd);
    let json = ("content-type", "application/json");

    let auth = basic("shop_key_2");
    let reply = server.post(
        "/v1/batch",
        &[json, ("authorization", &auth)],
        json!({ "batch": [track("m1")] }).to_string(),
    );
    assert_eq!(reply.json()["accepted"], 1);
    // Some clients send no padding, or a password; Segment ignores the password.
    for (credentials, id) in [
        ("c2hvcF9rZXlfMjo", "m2"),
        ("c2hvcF9rZXlfMjppZ25vcmVk", "m3"),
    ] {
        let auth = format!("basic {credentials}");
        let reply = server.post(
            "/v1/batch",
            &[json, ("authorization", &auth)],
            json!({ "batch": [track(id)] }).to_string(),
        );
        assert_eq!(reply.json()["accepted"], 1, "{credentials}");
    }

    // sendBeacon: a text/plain string with the key in the body, and no header.
    let beacon = json!({ "batch": [track("m4")], "writeKey": "shop_key_2" }).to_string();
    let reply = server.post(
        "/v1/batch",
        &[("content-type", "text/plain;charset=UTF-8")],
        beacon,
    );
    assert_eq!(
        reply.json(),
        json!({ "success": true, "accepted": 1, "duplicates": 0 })
    );
    // The key is not part of the stored messages.
    assert_eq!(
        site.count("SELECT COUNT(*) FROM events WHERE body LIKE '%shop_key_2%'"),
        0
    );
    assert_eq!(site.events(), 4);
}

#[test]
fn plain_text_gzip_and_no_content_type_are_read_as_json() {
    let site = Site::new();
    let server = site.start();
    let auth = basic(DEMO_KEY);
    let body = |id: &str| json!({ "batch": [track(id)] }).to_string();

    let reply = server.post(
        "/v1/batch",
        &[("content-type", "text/plain"), ("authorization", &auth)],
        body("m1"),
    );
    assert_eq!(reply.json()["accepted"], 1);

    let reply = server.post(
        "/v1/batch",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
            ("authorization", &auth),
        ],
        gzip(body("m2").as_bytes()),
    );
    assert_eq!(reply.json()["accepted"], 1);

    let reply = server.post("/v1/batch", &[("authorization", &auth)], body("m3"));
    assert_eq!(reply.json()["accepted"], 1);
    assert_eq!(site.events(), 3);

    // What cannot be read is refused as JSON.
    let reply = server.post(
        "/v1/batch",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &auth),
        ],
        body("m4"),
    );
    assert!(reply.error(415).contains("application/json or text/plain"));
    let reply = server.post(
        "/v1/batch",
        &[("content-encoding", "br"), ("authorization", &auth)],
        body("m4"),
    );
    assert!(reply.error(415).contains("\"br\" is not supported"));
    let reply = server.post(
        "/v1/batch",
        &[("content-encoding", "gzip"), ("authorization", &auth)],
        body("m4"),
    );
    assert!(reply.error(400).contains("could not be read"));
    assert_eq!(site.events(), 3);
}

#[test]
fn a_body_over_500_kb_is_413() {
    let site = Site::new();
    let server = site.start();
    let auth = basic(DEMO_KEY);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    // 20 messages of 30 KB: each under the message limit, together over 500 KB.
    let messages: Vec<Value> = (0..20)
        .map(|i| {
            let mut m = track(&format!("m{i}"));
            m["properties"]["blob"] = json!("x".repeat(30_000));
            m
        })
        .collect();
    let body = json!({ "batch": messages }).to_string();
    assert!(body.len() > 512_000);
    let message = server.post("/v1/batch", &headers, &body).error(413);
    assert_eq!(
        message,
        "the request body is larger than 500 KB (512000 bytes); send a smaller body (fewer messages per batch)"
    );

    // The limit holds after decompression: a small gzip of a big body.
    let gzip_headers = [headers[0], headers[1], ("content-encoding", "gzip")];
    let compressed = gzip(body.as_bytes());
    assert!(compressed.len() < 10_000);
    assert_eq!(
        server
            .post("/v1/batch", &gzip_headers, compressed)
            .error(413),
        message
    );
    assert_eq!(site.events(), 0);

    // Just under the limit is fine.
    let under: Vec<Value> = messages[..16].to_vec();
    let reply = server.post("/v1/batch", &headers, json!({ "batch": under }).to_string());
    assert_eq!(reply.json()["accepted"], 16);
}
