//! The identity graph: what the merchant's backend sees at `GET /v1/profiles` after the
//! shop's pages (and its own backend) sent their messages.

mod common;

use common::*;
use serde_json::{json, Value};

const SERVER_KEY: &str = "merchant-secret-key";

fn with_server_key(site: &Site) -> Server {
    let mut cmd = site.command();
    cmd.arg("--server-key").arg(SERVER_KEY);
    Server::start(cmd)
}

/// A message of type `kind` sent on 1 May 2024 at `hh_mm` UTC.
fn message(
    kind: &str,
    id: &str,
    hh_mm: &str,
    anonymous: Option<&str>,
    user: Option<&str>,
) -> Value {
    let mut m = json!({
        "type": kind,
        "messageId": id,
        "timestamp": format!("2024-05-01T{hh_mm}:00Z"),
        "context": { "library": { "name": "analytics.js" } }
    });
    match kind {
        "track" => m["event"] = json!("Product Viewed"),
        "page" => m["name"] = json!("Product"),
        _ => {}
    }
    if let Some(anonymous) = anonymous {
        m["anonymousId"] = json!(anonymous);
    }
    if let Some(user) = user {
        m["userId"] = json!(user);
    }
    m
}

/// The stored form of 1 May 2024 at `hh_mm` UTC.
fn at(hh_mm: &str) -> String {
    format!("2024-05-01T{hh_mm}:00.000Z")
}

/// Posts `messages` as one batch and returns the answer, which must be a 200.
fn send(server: &Server, messages: &[Value]) -> Value {
    let reply = server.post_json("/v1/batch", &json!({ "batch": messages }));
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    assert_eq!(answer.get("rejected"), None, "{answer}");
    answer
}

fn lookup(server: &Server, query: &str) -> Reply {
    let bearer = format!("Bearer {SERVER_KEY}");
    server.get_with(
        &format!("/v1/profiles?{query}"),
        &[("authorization", &bearer)],
    )
}

/// The profile `query` finds, which must exist.
fn profile(server: &Server, query: &str) -> Value {
    let reply = lookup(server, query);
    let profile = reply.json();
    assert_eq!(reply.status, 200, "{query}: {profile}");
    profile
}

/// The `kind:value` of each identity of `profile`, in its order.
fn identities(profile: &Value) -> Vec<String> {
    profile["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}:{}",
                i["kind"].as_str().unwrap(),
                i["value"].as_str().unwrap()
            )
        })
        .collect()
}

/// Each link of `profile` as `from -> to (reason, messageId, status)`.
fn links(profile: &Value) -> Vec<String> {
    let end = |e: &Value| {
        format!(
            "{}:{}",
            e["kind"].as_str().unwrap(),
            e["value"].as_str().unwrap()
        )
    };
    profile["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} -> {} ({}, {}, {})",
                end(&l["from"]),
                end(&l["to"]),
                l["reason"].as_str().unwrap(),
                l["messageId"].as_str().unwrap(),
                l["status"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn browsing_anonymously_then_logging_in_is_one_profile() {
    let site = Site::new();
    let server = with_server_key(&site);
    let mut added = message("track", "m2", "10:05", Some("anon-web"), None);
    added["event"] = json!("Product Added");
    send(
        &server,
        &[
            message("track", "m1", "10:00", Some("anon-web"), None),
            added,
        ],
    );

    // Before login, the visitor is a profile of one anonymous id.
    let visitor = profile(&server, "anonymous_id=anon-web");
    assert_eq!(identities(&visitor), ["anonymous_id:anon-web"]);
    assert_eq!(visitor["identities"][0]["firstSeen"], at("10:00"));
    assert_eq!(visitor["links"], json!([]));
    assert_eq!(
        visitor["events"],
        json!({ "count": 2, "firstSeen": at("10:00"), "lastSeen": at("10:05") })
    );
    assert_eq!(lookup(&server, "user_id=u-7").status, 404);

    // Login: the shop's page identifies the shopper, and browsing goes on.
    let identify = message("identify", "m3", "10:10", Some("anon-web"), Some("u-7"));
    let reply = server.post_json("/v1/identify", &identify);
    assert_eq!(reply.status, 200);
    send(
        &server,
        &[message(
            "track",
            "m4",
            "10:12",
            Some("anon-web"),
            Some("u-7"),
        )],
    );

    let customer = profile(&server, "user_id=u-7");
    assert_eq!(customer["profileId"], visitor["profileId"]);
    assert_eq!(
        identities(&customer),
        ["anonymous_id:anon-web", "user_id:u-7"]
    );
    assert_eq!(customer["identities"][1]["firstSeen"], at("10:10"));
    // One link, from the identify call; the later message with both ids adds none.
    assert_eq!(
        customer["links"],
        json!([{
            "from": { "kind": "anonymous_id", "value": "anon-web" },
            "to": { "kind": "user_id", "value": "u-7" },
            "reason": "identify", "messageId": "m3", "at": at("10:10"), "status": "merged"
        }])
    );
    // The anonymous browsing before login is the customer's.
    assert_eq!(
        customer["events"],
        json!({ "count": 4, "firstSeen": at("10:00"), "lastSeen": at("10:12") })
    );
    assert_eq!(profile(&server, "anonymous_id=anon-web"), customer);
}

#[test]
fn two_devices_of_one_customer_are_one_profile() {
    let site = Site::new();
    let server = with_server_key(&site);
    send(
        &server,
        &[
            message("track", "p1", "09:00", Some("anon-phone"), None),
            message("identify", "p2", "09:01", Some("anon-phone"), Some("u-7")),
        ],
    );
    send(
        &server,
        &[
            message("track", "l1", "12:00", Some("anon-laptop"), None),
            message("page", "l2", "12:30", Some("anon-laptop"), Some("u-7")),
        ],
    );
    let customer = profile(&server, "user_id=u-7");
    assert_eq!(
        identities(&customer),
        [
            "anonymous_id:anon-phone",
            "user_id:u-7",
            "anonymous_id:anon-laptop"
        ]
    );
    assert_eq!(
        links(&customer),
        [
            "anonymous_id:anon-phone -> user_id:u-7 (identify, p2, merged)",
            "anonymous_id:anon-laptop -> user_id:u-7 (same message, l2, merged)",
        ]
    );
    assert_eq!(customer["events"]["count"], 4);
    assert_eq!(customer["events"]["firstSeen"], at("09:00"));
    assert_eq!(customer["events"]["lastSeen"], at("12:30"));
    for device in ["anon-phone", "anon-laptop"] {
        let found = profile(&server, &format!("anonymous_id={device}"));
        assert_eq!(found["profileId"], customer["profileId"], "{device}");
    }
    // Each device was a profile of its own until it met the customer.
    assert_eq!(site.count("SELECT COUNT(*) FROM profile_merges"), 2);
}

#[test]
fn alias_links_a_previous_id_to_the_customer() {
    let site = Site::new();
    let server = with_server_key(&site);
    send(
        &server,
        &[
            message("identify", "w1", "08:00", Some("anon-web"), Some("u-9")),
            message("track", "a1", "09:00", Some("anon-app"), None),
            message("track", "a2", "09:10", Some("anon-app"), None),
        ],
    );
    assert_ne!(
        profile(&server, "anonymous_id=anon-app")["profileId"],
        profile(&server, "user_id=u-9")["profileId"]
    );
    // The merchant's backend learns that the app's visitor is u-9 and says so.
    let alias = json!({
        "type": "alias", "messageId": "al1", "timestamp": "2024-05-01T09:20:00Z",
        "previousId": "anon-app", "userId": "u-9"
    });
    assert_eq!(server.post_json("/v1/alias", &alias).status, 200);

    let customer = profile(&server, "anonymous_id=anon-app");
    assert_eq!(
        customer["profileId"],
        profile(&server, "user_id=u-9")["profileId"]
    );
    assert_eq!(
        links(&customer),
        [
            "anonymous_id:anon-web -> user_id:u-9 (identify, w1, merged)",
            "anonymous_id:anon-app -> user_id:u-9 (alias, al1, merged)",
        ]
    );
    // identify, the app's two events, and the alias call itself.
    assert_eq!(customer["events"]["count"], 4);
}

#[test]
fn an_email_or_phone_brings_a_guest_into_the_customer_s_profile() {
    let site = Site::new();
    let server = with_server_key(&site);
    let mut login = message("identify", "w1", "10:00", Some("anon-web"), Some("u-7"));
    login["traits"] =
        json!({ "email": " Noor@Example.COM ", "phone": "+966 (50) 123-4567", "name": "نور" });
    // A guest checkout on the tablet: no account, but the same email.
    let mut guest = message("identify", "t1", "11:00", Some("anon-tablet"), None);
    guest["traits"] = json!({ "email": "noor@example.com" });
    // A kiosk that sends the shopper's traits with every event, RudderStack style, in
    // the digits the shopper typed.
    let mut kiosk = message("track", "k1", "12:00", Some("anon-kiosk"), None);
    kiosk["context"]["traits"] = json!({ "phone": "+٩٦٦ ٥٠ ١٢٣ ٤٥٦٧" });
    // A group call's traits describe the company, not the shopper.
    let mut office = message("group", "g1", "13:00", Some("anon-office"), None);
    office["groupId"] = json!("acme");
    office["traits"] = json!({ "email": "noor@example.com" });
    // Not an email, not a phone: ignored.
    let mut junk = message("identify", "j1", "14:00", Some("anon-junk"), None);
    junk["traits"] = json!({ "email": "noor at example", "phone": "call me" });
    send(&server, &[login, guest, kiosk, office, junk]);

    let customer = profile(&server, "email=NOOR%40example.com");
    assert_eq!(
        identities(&customer),
        [
            "anonymous_id:anon-web",
            "user_id:u-7",
            "email:noor@example.com",
            "phone:+966501234567",
            "anonymous_id:anon-tablet",
            "anonymous_id:anon-kiosk",
        ]
    );
    assert_eq!(
        links(&customer),
        [
            "anonymous_id:anon-web -> user_id:u-7 (identify, w1, merged)",
            "email:noor@example.com -> user_id:u-7 (traits.email, w1, merged)",
            "phone:+966501234567 -> user_id:u-7 (traits.phone, w1, merged)",
            "email:noor@example.com -> anonymous_id:anon-tablet (traits.email, t1, merged)",
            "phone:+966501234567 -> anonymous_id:anon-kiosk (context.traits.phone, k1, merged)",
        ]
    );
    assert_eq!(customer["events"]["count"], 3);
    // The phone can be asked for as it was typed; a + in a URL query is %2B.
    for query in [
        "phone=%2B966%2050%20123%204567",
        "anonymous_id=anon-tablet",
        "anonymous_id=anon-kiosk",
    ] {
        assert_eq!(
            profile(&server, query)["profileId"],
            customer["profileId"],
            "{query}"
        );
    }
    // The national form is another phone, which no message named.
    lookup(&server, "phone=050%20123%204567").error(404);
    let office = profile(&server, "anonymous_id=anon-office");
    assert_eq!(identities(&office), ["anonymous_id:anon-office"]);
    assert_eq!(
        identities(&profile(&server, "anonymous_id=anon-junk")),
        ["anonymous_id:anon-junk"]
    );
}

#[test]
fn a_shared_computer_does_not_fuse_two_customers() {
    let site = Site::new();
    let server = with_server_key(&site);
    let mut mum = message("identify", "f1", "18:00", Some("family-pc"), Some("u-mum"));
    mum["traits"] = json!({ "email": "mum@example.com" });
    // The son logs in on the same browser, and types his mother's email too.
    let mut son = message("identify", "f3", "20:00", Some("family-pc"), Some("u-son"));
    son["traits"] = json!({ "email": "mum@example.com" });
    send(
        &server,
        &[
            mum,
            message("track", "f2", "18:05", Some("family-pc"), Some("u-mum")),
            son,
            message("track", "f4", "20:05", Some("family-pc"), Some("u-son")),
            message("track", "f5", "21:00", Some("family-pc"), None),
        ],
    );
    // The son's phone, aliased to his mother's account from a browser.
    let alias = json!({
        "type": "alias", "messageId": "f6", "timestamp": "2024-05-01T21:30:00Z",
        "anonymousId": "son-phone", "previousId": "u-son", "userId": "u-mum"
    });
    assert_eq!(server.post_json("/v1/alias", &alias).status, 200);

    let mother = profile(&server, "user_id=u-mum");
    let son = profile(&server, "user_id=u-son");
    assert_ne!(mother["profileId"], son["profileId"]);
    assert_eq!(
        identities(&mother),
        [
            "anonymous_id:family-pc",
            "user_id:u-mum",
            "email:mum@example.com",
            "anonymous_id:son-phone"
        ]
    );
    assert_eq!(identities(&son), ["user_id:u-son"]);
    // Each refused link is on both profiles, so the merchant sees why they stayed apart.
    let conflicts = [
        "anonymous_id:family-pc -> user_id:u-son (identify, f3, conflict)",
        "email:mum@example.com -> user_id:u-son (traits.email, f3, conflict)",
        "user_id:u-son -> user_id:u-mum (alias, f6, conflict)",
    ];
    assert_eq!(links(&son), conflicts);
    assert_eq!(
        links(&mother),
        [
            "anonymous_id:family-pc -> user_id:u-mum (identify, f1, merged)",
            "email:mum@example.com -> user_id:u-mum (traits.email, f1, merged)",
            conflicts[0],
            conflicts[1],
            conflicts[2],
            "anonymous_id:son-phone -> user_id:u-mum (same message, f6, merged)",
        ]
    );
    // An event is the customer's whose userId it carries; the shared computer's
    // anonymous events go with the profile it belongs to.
    assert_eq!(
        son["events"],
        json!({ "count": 2, "firstSeen": at("20:00"), "lastSeen": at("20:05") })
    );
    assert_eq!(
        mother["events"],
        json!({ "count": 4, "firstSeen": at("18:00"), "lastSeen": "2024-05-01T21:30:00.000Z" })
    );
    assert_eq!(
        profile(&server, "anonymous_id=family-pc")["profileId"],
        mother["profileId"]
    );
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM (SELECT profile_id FROM identities WHERE kind = 'user_id'
             GROUP BY profile_id HAVING COUNT(*) > 1)"
        ),
        0
    );
}

#[test]
fn a_resent_batch_and_repeated_links_change_nothing() {
    let site = Site::new();
    let server = with_server_key(&site);
    let mut identify = message("identify", "r2", "10:10", Some("anon-1"), Some("u-1"));
    identify["traits"] = json!({ "email": "ali@example.com" });
    let alias = json!({
        "type": "alias", "messageId": "r3", "timestamp": "2024-05-01T10:20:00Z",
        "previousId": "anon-2", "userId": "u-1"
    });
    let batch = [
        message("track", "r1", "10:00", Some("anon-1"), None),
        identify,
        alias,
    ];
    assert_eq!(send(&server, &batch)["accepted"], 3);
    let graph = || {
        [
            "SELECT COUNT(*) FROM identities",
            "SELECT COUNT(*) FROM identity_links",
            "SELECT COUNT(*) FROM profile_merges",
        ]
        .map(|sql| site.count(sql))
    };
    let before = profile(&server, "user_id=u-1");
    let counts = graph();
    assert_eq!(counts, [4, 3, 3]);

    // The client did not hear back and sends the batch again.
    let answer = send(&server, &batch);
    assert_eq!(
        (&answer["accepted"], &answer["duplicates"]),
        (&json!(0), &json!(3))
    );
    assert_eq!(profile(&server, "user_id=u-1"), before);
    assert_eq!(graph(), counts);

    // New messages that make the same links again add only themselves as events.
    let mut again = message("identify", "r4", "11:00", Some("anon-1"), Some("u-1"));
    again["traits"] = json!({ "email": "ALI@example.com" });
    let mut track = message("track", "r5", "11:05", Some("anon-2"), Some("u-1"));
    track["context"]["traits"] = json!({ "email": "ali@example.com" });
    assert_eq!(send(&server, &[again, track])["accepted"], 2);
    let after = profile(&server, "user_id=u-1");
    assert_eq!(after["links"], before["links"]);
    assert_eq!(after["identities"], before["identities"]);
    assert_eq!(after["events"]["count"], 5);
    assert_eq!(graph(), counts);
}

#[test]
fn profiles_need_the_server_key_and_exactly_one_identifier() {
    let site = Site::new();
    // Without a configured server key, the endpoint is closed.
    let server = site.start();
    send(
        &server,
        &[message(
            "identify",
            "m1",
            "10:00",
            Some("anon-1"),
            Some("نور"),
        )],
    );
    let closed = lookup(&server, "user_id=u-1").error(403);
    assert!(closed.contains("--server-key"), "{closed}");
    drop(server);

    let server = with_server_key(&site);
    let missing = server.get("/v1/profiles?user_id=u-1");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert!(missing.error(401).contains("Bearer"));
    let wrong = server.get_with("/v1/profiles", &[("authorization", &basic(DEMO_KEY))]);
    wrong.error(401);

    let how = "give exactly one of user_id, anonymous_id, email or phone, such as /v1/profiles?email=noor%40example.com";
    for (query, expected) in [
        ("", format!("query: is empty: {how}")),
        (
            "user_id=a&email=b%40c.d",
            format!("query: names 2 identifiers (user_id, email): {how}"),
        ),
        (
            "user_id=a&user_id=b",
            format!("query: names 2 identifiers (user_id, user_id): {how}"),
        ),
        (
            "userId=a",
            format!("query: has the unknown parameter \"userId\": {how}"),
        ),
        ("user_id=", "user_id: must not be empty".to_owned()),
        ("anonymous_id", "anonymous_id: must not be empty".to_owned()),
        (
            "email=noor",
            "email: must be an email address, got \"noor\"".to_owned(),
        ),
        (
            "email=%ZZ",
            "email: must be an email address, got \"%ZZ\"".to_owned(),
        ),
    ] {
        let reply = server.get_with(
            &format!("/v1/profiles?{query}"),
            &[("authorization", &format!("Bearer {SERVER_KEY}"))],
        );
        assert_eq!(reply.error(400), expected, "{query}");
    }
    let phone = lookup(&server, "phone=call%20me").error(400);
    assert!(
        phone.starts_with("phone: must be a phone number"),
        "{phone}"
    );

    assert_eq!(
        lookup(&server, "user_id=u-1").error(404),
        "no profile has the user_id \"u-1\": no stored message named it"
    );
    assert_eq!(
        lookup(&server, "email=nobody%40example.com").error(404),
        "no profile has the email \"nobody@example.com\": no stored message named it"
    );
    // Not UTF-8, and longer than any stored id: still a clean answer.
    lookup(&server, "anonymous_id=%FF%FE").error(404);
    lookup(&server, &format!("user_id={}", "x".repeat(5000))).error(404);

    let found = profile(&server, "user_id=%D9%86%D9%88%D8%B1");
    assert_eq!(identities(&found), ["anonymous_id:anon-1", "user_id:نور"]);
    let post = server.post(
        "/v1/profiles",
        &[("authorization", &format!("Bearer {SERVER_KEY}"))],
        "{}",
    );
    assert_eq!(post.header("allow"), Some("GET,HEAD"));
    post.error(405);
    let (_, stderr) = server.stop(libc::SIGTERM);
    assert_no_panic(&stderr);
}

#[test]
fn an_upgraded_database_builds_its_graph_from_the_events_it_holds() {
    let site = Site::new();
    // A database written by souk-server before the identity graph: schema version 2.
    {
        let conn = site.conn();
        conn.execute_batch(include_str!("../migrations/0001_events.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../migrations/0002_consents.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        let mut identify = message("identify", "o2", "10:10", Some("anon-web"), Some("u-7"));
        identify["traits"] = json!({ "email": "noor@example.com" });
        let rows = [
            (
                message("track", "o1", "10:00", Some("anon-web"), None),
                "2024-05-01T10:00:01.000Z",
            ),
            (identify, "2024-05-01T10:10:01.000Z"),
            (
                message("track", "o3", "11:00", Some("anon-phone"), Some("u-7")),
                "2024-05-01T11:00:01.000Z",
            ),
            (
                message("identify", "o4", "12:00", Some("anon-phone"), Some("u-8")),
                "2024-05-01T12:00:01.000Z",
            ),
        ];
        for (m, received_at) in rows {
            conn.execute(
                "INSERT INTO events (message_id, type, event, anonymous_id, user_id, timestamp, received_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    m["messageId"].as_str(),
                    m["type"].as_str(),
                    m["event"].as_str(),
                    m["anonymousId"].as_str(),
                    m["userId"].as_str(),
                    at(&m["timestamp"].as_str().unwrap()[11..16]),
                    received_at,
                    m.to_string(),
                ),
            )
            .unwrap();
        }
        // A row no check of today would pass is left out, not fatal.
        conn.execute(
            "INSERT INTO events (message_id, type, timestamp, received_at, body)
             VALUES ('o5', 'track', '2024-05-01T13:00:00.000Z', '2024-05-01T13:00:01.000Z', 'not json')",
            [],
        )
        .unwrap();
    }

    let server = with_server_key(&site);
    let health = server.get("/health").json();
    assert_eq!(health["schema_version"], souk_server::store::SCHEMA_VERSION);
    let customer = profile(&server, "email=noor%40example.com");
    assert_eq!(
        identities(&customer),
        [
            "anonymous_id:anon-web",
            "user_id:u-7",
            "email:noor@example.com",
            "anonymous_id:anon-phone"
        ]
    );
    assert_eq!(
        links(&customer),
        [
            "anonymous_id:anon-web -> user_id:u-7 (identify, o2, merged)",
            "email:noor@example.com -> user_id:u-7 (traits.email, o2, merged)",
            "anonymous_id:anon-phone -> user_id:u-7 (same message, o3, merged)",
            "anonymous_id:anon-phone -> user_id:u-8 (identify, o4, conflict)",
        ]
    );
    assert_eq!(
        customer["events"],
        json!({ "count": 3, "firstSeen": at("10:00"), "lastSeen": at("11:00") })
    );
    // Live messages go on from there.
    send(
        &server,
        &[message("track", "n1", "14:00", Some("anon-web"), None)],
    );
    assert_eq!(profile(&server, "user_id=u-7")["events"]["count"], 4);
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success());
    assert!(
        stderr.contains("a stored event was left out of the identity graph"),
        "{stderr}"
    );
}
