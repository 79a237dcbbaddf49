//! The loyalty ledger over real HTTP against the real binary and a real SQLite file:
//! the merchant's backend posts orders and refunds, the shopper redeems with a
//! userHash, the checkout consumes the code.

mod common;

use std::sync::Barrier;
use std::thread;

use common::*;
use serde_json::{json, Value};
use souk_server::auth::user_hash;

const SERVER_KEY: &str = "merchant-secret-key";
const IDENTITY_SECRET: &str = "shop-identity-secret";

fn start(site: &Site) -> Server {
    let mut cmd = site.command();
    cmd.arg("--server-key")
        .arg(SERVER_KEY)
        .arg("--identity-secret")
        .arg(IDENTITY_SECRET)
        .env_remove("SOUK_IDENTITY_SECRET")
        .env_remove("SOUK_LOYALTY_RULES");
    Server::start(cmd)
}

/// POSTs `body` with the server key.
fn merchant(server: &Server, path: &str, body: &Value) -> Reply {
    let bearer = format!("Bearer {SERVER_KEY}");
    server.post(
        path,
        &[
            ("content-type", "application/json"),
            ("authorization", &bearer),
        ],
        body.to_string(),
    )
}

fn merchant_get(server: &Server, path: &str) -> Reply {
    let bearer = format!("Bearer {SERVER_KEY}");
    server.get_with(path, &[("authorization", &bearer)])
}

/// An order of `subtotal` minor units (no tax, discount or shipping) by `user`.
fn order(id: &str, user: &str, subtotal: i64) -> Value {
    json!({ "orderId": id, "userId": user, "subtotal": subtotal, "currency": "SAR" })
}

fn post_order(server: &Server, body: &Value) -> Value {
    let reply = merchant(server, "/v1/orders", body);
    let answer = reply.json();
    assert_eq!(reply.status, 201, "{answer}");
    answer
}

fn hash(user: &str) -> String {
    user_hash(IDENTITY_SECRET, user)
}

/// The shopper's own view, with the right hash.
fn view(server: &Server, user: &str) -> Value {
    let reply = server.get(&format!(
        "/v1/loyalty?userId={user}&userHash={}",
        hash(user)
    ));
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    answer
}

fn redeem(server: &Server, user: &str, user_hash: &str, reward: &str) -> Reply {
    server.post(
        "/v1/loyalty/redeem",
        &[("content-type", "application/json")],
        json!({ "userId": user, "userHash": user_hash, "reward": reward }).to_string(),
    )
}

fn ledger_rows(site: &Site) -> i64 {
    site.count("SELECT COUNT(*) FROM loyalty_ledger")
}

#[test]
fn an_order_earns_on_goods_without_tax_or_shipping_and_only_once() {
    let site = Site::new();
    let server = start(&site);
    // 115.00 with VAT inside, 20.00 shipping, 5.00 off: 95.00 of goods, 15.00 of it tax.
    let with_vat = json!({
        "orderId": "o-1", "userId": "noor", "subtotal": 11_500, "discount": 500,
        "tax": 1_500, "taxInPrices": true, "shipping": 2_000, "currency": "SAR"
    });
    let first = post_order(&server, &with_vat);
    assert_eq!(first["entry"]["points"], 95);
    assert_eq!(first["entry"]["qualifying"], 9_500);
    assert_eq!(first["entry"]["key"], "order:o-1");
    assert_eq!(first["duplicate"], false);

    // The same order again: 200, the same entry, nothing appended.
    let again = merchant(&server, "/v1/orders", &with_vat);
    assert_eq!(again.status, 200);
    let again = again.json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["entry"], first["entry"]);
    assert_eq!(ledger_rows(&site), 1);

    // Tax added on top does not earn either.
    let on_top = json!({
        "orderId": "o-2", "userId": "noor", "subtotal": 10_000, "tax": 1_500,
        "taxInPrices": false, "shipping": 1_000, "currency": "SAR"
    });
    assert_eq!(post_order(&server, &on_top)["entry"]["points"], 100);

    let account = merchant_get(&server, "/v1/loyalty/customers/noor").json();
    assert_eq!(account["balance"], 195);
    assert_eq!(account["spend"], 19_500);
    assert_eq!(account["tier"]["id"], "bronze");
    assert_eq!(account["next"]["tier"]["name"]["ar"], "فضي");
    assert_eq!(account["history"].as_array().unwrap().len(), 2);
    assert_eq!(account["history"][0]["key"], "order:o-2");
    // The customer exists in the identity graph now.
    let profile = merchant_get(&server, "/v1/profiles?user_id=noor");
    assert_eq!(profile.status, 200);
}

#[test]
fn an_order_can_name_its_customer_by_email_through_the_identity_graph() {
    let site = Site::new();
    let server = start(&site);
    let identify = json!({
        "type": "identify", "messageId": "m-1", "userId": "sara", "anonymousId": "a-1",
        "timestamp": "2024-05-01T10:00:00Z", "traits": { "email": "Sara@Example.com" }
    });
    assert_eq!(
        server
            .post_json("/v1/batch", &json!({ "batch": [identify] }))
            .status,
        200
    );
    let body = json!({ "orderId": "o-1", "email": "sara@example.com", "subtotal": 5_000, "currency": "SAR" });
    assert_eq!(post_order(&server, &body)["userId"], "sara");
    let unknown = json!({ "orderId": "o-2", "email": "who@example.com", "subtotal": 5_000, "currency": "SAR" });
    let error = merchant(&server, "/v1/orders", &unknown).error(404);
    assert!(error.starts_with("email:"), "{error}");
    assert_eq!(view(&server, "sara")["balance"], 50);
}

#[test]
fn partial_refunds_take_back_their_share_once() {
    let site = Site::new();
    let server = start(&site);
    post_order(&server, &order("o-1", "noor", 20_000));
    let refund = |id: &str, subtotal: i64| {
        merchant(
            &server,
            "/v1/refunds",
            &json!({ "orderId": "o-1", "refundId": id, "subtotal": subtotal }),
        )
    };
    let first = refund("r-1", 5_000);
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["entry"]["points"], -50);
    assert_eq!(first.json()["balance"], 150);
    let resent = refund("r-1", 5_000);
    assert_eq!(resent.status, 200);
    assert_eq!(resent.json()["duplicate"], true);
    assert_eq!(resent.json()["balance"], 150);
    // More than is left is capped at what is left.
    let rest = refund("r-2", 50_000).json();
    assert_eq!(rest["entry"]["points"], -150);
    assert_eq!(rest["entry"]["qualifying"], 15_000);
    assert_eq!(rest["balance"], 0);
    let error = refund("r-3", 100).error(409);
    assert!(error.contains("nothing left to refund"), "{error}");
    let error = merchant(
        &server,
        "/v1/refunds",
        &json!({ "orderId": "nope", "refundId": "r", "subtotal": 1 }),
    )
    .error(404);
    assert!(error.starts_with("orderId:"), "{error}");
    assert_eq!(ledger_rows(&site), 3);
}

#[test]
fn a_redeemed_code_is_worth_its_reward_and_is_consumed_once() {
    let site = Site::new();
    let server = start(&site);
    post_order(&server, &order("o-1", "noor", 100_000));
    let reply = redeem(&server, "noor", &hash("noor"), "ten-percent");
    let redeemed = reply.json();
    assert_eq!(reply.status, 201, "{redeemed}");
    assert_eq!(redeemed["balance"], 200);
    assert_eq!(redeemed["entry"]["points"], -800);
    let code = redeemed["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14, "{code}");

    // 10% of 300.00 of goods (after the shop's own 20.00 off) is 28.00.
    let basket = json!({ "subtotal": 30_000, "discount": 2_000, "shipping": 1_500 });
    let check = merchant(
        &server,
        "/v1/coupons/validate",
        &json!({ "code": code.to_lowercase(), "basket": basket }),
    );
    let check = check.json();
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(check["state"], "issued");
    assert_eq!(check["userId"], "noor");
    assert_eq!(check["discount"], 2_800);
    assert_eq!(check["reward"]["type"], "percent_discount");

    let consume = json!({ "code": code, "orderId": "o-2", "consume": true, "basket": basket });
    let used = merchant(&server, "/v1/coupons/validate", &consume);
    assert_eq!(used.status, 200);
    let used = used.json();
    assert_eq!(used["consumed"], true);
    assert_eq!(used["orderId"], "o-2");
    let error = merchant(&server, "/v1/coupons/validate", &consume).error(409);
    assert!(error.contains("already consumed"), "{error}");
    let after = merchant(&server, "/v1/coupons/validate", &json!({ "code": code })).json();
    assert_eq!(after["valid"], false);
    assert_eq!(after["state"], "consumed");

    let error = merchant(
        &server,
        "/v1/coupons/validate",
        &json!({ "code": "NOPE-NOPE-NOPE" }),
    )
    .error(404);
    assert!(error.starts_with("code:"), "{error}");
    let error = merchant(
        &server,
        "/v1/coupons/validate",
        &json!({ "code": code, "consume": true }),
    )
    .error(400);
    assert!(error.starts_with("orderId:"), "{error}");

    // The shopper sees the code, the redemption and what is left.
    let mine = view(&server, "noor");
    assert_eq!(mine["balance"], 200);
    assert_eq!(mine["coupons"][0]["code"], code.as_str());
    assert_eq!(mine["coupons"][0]["state"], "consumed");
    assert_eq!(mine["history"][0]["kind"], "redemption");
    assert_eq!(mine["history"][0].get("key"), None);
    let error = redeem(&server, "noor", &hash("noor"), "five-off").error(409);
    assert!(error.contains("more are needed"), "{error}");
    let error = redeem(&server, "noor", &hash("noor"), "a-yacht").error(400);
    assert!(error.starts_with("reward:"), "{error}");
}

#[test]
fn fifty_parallel_redemptions_against_points_for_three_issue_exactly_three_codes() {
    let site = Site::new();
    let server = start(&site);
    // 1,500 points; "five-off" costs 500.
    post_order(&server, &order("o-1", "noor", 150_000));
    let user_hash = hash("noor");
    let barrier = Barrier::new(50);
    let statuses: Vec<(u16, Value)> = thread::scope(|scope| {
        let requests: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let reply = redeem(&server, "noor", &user_hash, "five-off");
                    (reply.status, reply.json())
                })
            })
            .collect();
        requests.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let codes: Vec<&str> = statuses
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, answer)| answer["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 3, "{statuses:?}");
    for (status, answer) in &statuses {
        assert!(*status == 201 || *status == 409, "{status}: {answer}");
    }
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 3);
    assert_eq!(site.count("SELECT COUNT(*) FROM loyalty_coupons"), 3);
    assert_eq!(
        site.count("SELECT SUM(points) FROM loyalty_ledger WHERE customer = 'noor'"),
        0
    );
    assert_eq!(view(&server, "noor")["balance"], 0);
}

#[test]
fn one_shopper_can_neither_read_nor_spend_another_shoppers_points() {
    let site = Site::new();
    let server = start(&site);
    post_order(&server, &order("o-a", "alice", 100_000));
    post_order(&server, &order("o-b", "bob", 70_000));

    // Wrong, missing, or someone else's hash: the same 401, whether the user exists.
    let mut bodies = Vec::new();
    for query in [
        "userId=bob".to_owned(),
        "userId=bob&userHash=".to_owned(),
        format!("userId=bob&userHash={}", hash("alice")),
        format!("userId=bob&userHash={}", "0".repeat(64)),
        format!("userId=nobody&userHash={}", hash("alice")),
        "userId=nobody&userHash=abc".to_owned(),
    ] {
        let reply = server.get(&format!("/v1/loyalty?{query}"));
        assert_eq!(reply.status, 401, "{query}");
        bodies.push(reply.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "the 401 bodies differ"
    );
    let body = String::from_utf8_lossy(&bodies[0]).into_owned();
    assert!(!body.contains("bob") && !body.contains("700"), "{body}");

    // Alice's hash shows Alice's account, never Bob's.
    let alice = view(&server, "alice");
    assert_eq!(alice["userId"], "alice");
    assert_eq!(alice["balance"], 1_000);
    assert!(!alice.to_string().contains("o-b"), "{alice}");

    // Spending Bob's points with Alice's hash fails and leaves them as they were.
    let reply = redeem(&server, "bob", &hash("alice"), "five-off");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body, bodies[0]);
    assert_eq!(redeem(&server, "bob", "", "five-off").status, 401);
    assert_eq!(view(&server, "bob")["balance"], 700);
    assert_eq!(site.count("SELECT COUNT(*) FROM loyalty_coupons"), 0);

    // Without the server key the merchant endpoints refuse too.
    let reply = server.post(
        "/v1/orders",
        &[("content-type", "application/json")],
        order("o-x", "alice", 1_000_000).to_string(),
    );
    assert_eq!(reply.status, 401);
    assert_eq!(
        server.get("/v1/loyalty/customers/bob").status,
        401,
        "the merchant view needs the server key"
    );
}

#[test]
fn a_browser_order_completed_event_creates_no_points() {
    let site = Site::new();
    let server = start(&site);
    let forged = json!({
        "type": "track", "event": "Order Completed", "messageId": "m-forged",
        "userId": "noor", "anonymousId": "a-1", "timestamp": "2024-05-01T10:00:00Z",
        "properties": { "order_id": "o-forged", "total": 999_999, "revenue": 999_999,
                        "currency": "SAR", "points": 1_000_000 }
    });
    let reply = server.post_json("/v1/batch", &json!({ "batch": [forged] }));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["accepted"], 1);
    let reply = server.post_json("/v1/track", &json!({
        "event": "Order Completed", "messageId": "m-forged-2", "userId": "noor",
        "timestamp": "2024-05-01T10:00:00Z", "properties": { "order_id": "o-forged-2", "total": 5 }
    }));
    assert_eq!(reply.status, 200);
    assert_eq!(site.events(), 2);
    assert_eq!(ledger_rows(&site), 0);
    let mine = view(&server, "noor");
    assert_eq!(mine["balance"], 0);
    assert_eq!(mine["history"], json!([]));
    // Nor can the browser reach the order endpoint with the write key.
    let reply = server.post_json("/v1/orders", &order("o-forged", "noor", 100_000));
    assert_eq!(reply.status, 401);
    assert_eq!(ledger_rows(&site), 0);
}

#[test]
fn adjustments_need_a_reason_and_cannot_go_below_zero() {
    let site = Site::new();
    let server = start(&site);
    let adjust = |body: Value| merchant(&server, "/v1/loyalty/adjustments", &body);
    let error = adjust(json!({ "userId": "noor", "points": 50 })).error(400);
    assert!(error.starts_with("reason:"), "{error}");
    let error = adjust(json!({ "userId": "noor", "points": 0, "reason": "x" })).error(400);
    assert!(error.starts_with("points:"), "{error}");
    let body =
        json!({ "userId": "noor", "points": 50, "reason": "late delivery", "adjustmentId": "t-1" });
    assert_eq!(adjust(body.clone()).status, 201);
    assert_eq!(adjust(body).status, 200);
    let error = adjust(json!({ "userId": "noor", "points": -51, "reason": "typo" })).error(409);
    assert!(error.contains("below zero"), "{error}");
    let history = merchant_get(&server, "/v1/loyalty/customers/noor").json();
    assert_eq!(history["balance"], 50);
    assert_eq!(history["history"][0]["reason"], "late delivery");
    assert_eq!(
        merchant_get(&server, "/v1/loyalty/customers/ghost").status,
        404
    );
}

#[test]
fn bad_requests_are_refused_naming_the_field() {
    let site = Site::new();
    let server = start(&site);
    for (body, field) in [
        (
            json!({ "userId": "u", "subtotal": 1, "currency": "SAR" }),
            "orderId:",
        ),
        (
            json!({ "orderId": "o", "subtotal": 1, "currency": "SAR" }),
            "userId:",
        ),
        (
            json!({ "orderId": "o", "userId": "u", "subtotal": 12.5, "currency": "SAR" }),
            "subtotal:",
        ),
        (
            json!({ "orderId": "o", "userId": "u", "subtotal": -1, "currency": "SAR" }),
            "subtotal:",
        ),
        (
            json!({ "orderId": "o", "userId": "u", "subtotal": "100", "currency": "SAR" }),
            "subtotal:",
        ),
        (
            json!({ "orderId": "o", "userId": "u", "subtotal": 1, "tax": 1, "currency": "SAR" }),
            "taxInPrices:",
        ),
        (
            json!({ "orderId": "o", "userId": "u", "subtotal": 1, "currency": "riyal" }),
            "currency:",
        ),
        (
            json!({ "orderId": "o", "userId": "u", "subtotal": 1, "currency": "SAR", "at": "now" }),
            "at:",
        ),
        (
            json!({ "orderId": "o", "email": "not-an-email", "subtotal": 1, "currency": "SAR" }),
            "email:",
        ),
        (json!([1]), "body:"),
    ] {
        let error = merchant(&server, "/v1/orders", &body).error(400);
        assert!(error.starts_with(field), "{body}: {error}");
    }
    let reply = server.post(
        "/v1/orders",
        &[("authorization", &format!("Bearer {SERVER_KEY}"))],
        "{not json",
    );
    assert_eq!(reply.status, 400);
    let error = redeem(&server, "", "", "five-off").error(400);
    assert!(error.starts_with("userId:"), "{error}");
    assert_eq!(server.get("/v1/loyalty").status, 400);
    assert_eq!(ledger_rows(&site), 0);
}

#[test]
fn the_shopper_endpoints_answer_pages_of_other_origins() {
    let site = Site::new();
    let server = start(&site);
    let preflight = server.send(
        "OPTIONS",
        "/v1/loyalty/redeem",
        &[
            ("origin", "https://shop.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        None,
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    let path = format!("/v1/loyalty?userId=noor&userHash={}", hash("noor"));
    let reply = server.get_with(&path, &[("origin", "https://shop.example")]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn without_an_identity_secret_the_shopper_endpoints_are_closed() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.env_remove("SOUK_IDENTITY_SECRET");
    let server = Server::start(cmd);
    let error = server
        .get(&format!(
            "/v1/loyalty?userId=noor&userHash={}",
            hash("noor")
        ))
        .error(403);
    assert!(error.contains("--identity-secret"), "{error}");
}

#[test]
fn the_ledger_and_the_coupons_are_append_only_in_the_file() {
    let site = Site::new();
    let server = start(&site);
    post_order(&server, &order("o-1", "noor", 50_000));
    assert_eq!(
        redeem(&server, "noor", &hash("noor"), "free-shipping").status,
        201
    );
    let conn = site.conn();
    for sql in [
        "UPDATE loyalty_ledger SET points = 100000",
        "DELETE FROM loyalty_ledger",
        "UPDATE loyalty_coupons SET customer = 'mallory'",
        "DELETE FROM loyalty_coupons",
    ] {
        let error = conn.execute(sql, []).unwrap_err().to_string();
        assert!(
            error.contains("append-only") || error.contains("coupon"),
            "{sql}: {error}"
        );
    }
    drop(conn);
    assert_eq!(view(&server, "noor")["balance"], 200);
}

#[test]
fn a_bad_rules_file_is_refused_at_startup_naming_the_field() {
    let site = Site::new();
    let rules = site.dir.path().join("rules.json");
    for (text, field) in [
        (
            r#"{"tiers": [{"id": "Gold", "name": {"en": "Gold", "ar": "ذهبي"}, "threshold": 0, "multiplier_permille": 1000}]}"#,
            "tiers[0].id",
        ),
        (r#"{"earn": {"points": 1, "per": 0}}"#, "earn.per"),
        (
            r#"{"rewards": [{"id": "x", "name": {"en": "X", "ar": "س"}, "cost": 10, "type": "fixed_discount"}]}"#,
            "rewards[0].amount",
        ),
        (r#"{"expiry_month": 6}"#, "expiry_month"),
    ] {
        std::fs::write(&rules, text).unwrap();
        let mut cmd = site.command();
        cmd.arg("--loyalty-rules").arg(&rules);
        let (status, stderr) = run_to_exit(cmd);
        assert!(!status.success(), "{text}");
        assert!(stderr.contains("loyalty rules"), "{stderr}");
        assert!(stderr.contains(field), "{text}: {stderr}");
    }
    let mut cmd = site.command();
    cmd.arg("--loyalty-rules")
        .arg(site.dir.path().join("missing.json"));
    let (status, stderr) = run_to_exit(cmd);
    assert!(!status.success());
    assert!(stderr.contains("missing.json"), "{stderr}");

    // A good file is used: one point per 10.00, and a single reward.
    std::fs::write(
        &rules,
        r#"{"earn": {"points": 1, "per": 1000}, "rewards": [{"id": "mug", "name": {"en": "A mug", "ar": "كوب"}, "cost": 5, "type": "fixed_discount", "amount": 2500}]}"#,
    )
    .unwrap();
    let mut cmd = site.command();
    cmd.arg("--loyalty-rules")
        .arg(&rules)
        .arg("--server-key")
        .arg(SERVER_KEY)
        .arg("--identity-secret")
        .arg(IDENTITY_SECRET);
    let server = Server::start(cmd);
    assert_eq!(
        post_order(&server, &order("o-1", "noor", 10_000))["entry"]["points"],
        10
    );
    let mine = view(&server, "noor");
    assert_eq!(mine["rewards"][0]["id"], "mug");
    assert_eq!(mine["rewards"][0]["affordable"], true);
}

#[test]
fn points_lapse_after_a_year_without_activity_before_anything_is_appended() {
    let site = Site::new();
    let server = start(&site);
    let old = json!({ "orderId": "o-old", "userId": "noor", "subtotal": 40_000, "currency": "SAR", "at": "2020-01-01T10:00:00Z" });
    assert_eq!(post_order(&server, &old)["balance"], 0);
    let mine = view(&server, "noor");
    assert_eq!(mine["balance"], 0);
    assert_eq!(mine["expiry"]["due"], true);
    assert_eq!(mine["expiry"]["at"], "2021-01-01T10:00:00.000Z");
    // The lapse is recorded before the new order, so it is not revived.
    assert_eq!(
        post_order(&server, &order("o-new", "noor", 10_000))["balance"],
        100
    );
    let kinds = site.rows("SELECT kind, points FROM loyalty_ledger ORDER BY id");
    assert_eq!(
        kinds,
        [
            json!({ "kind": "order", "points": 400 }),
            json!({ "kind": "expiry", "points": -400 }),
            json!({ "kind": "order", "points": 100 }),
        ]
    );
}

#[test]
fn bonuses_are_granted_once_per_signup_birthday_year_review_and_referral() {
    let site = Site::new();
    let server = start(&site);
    let bonus = |body: Value| merchant(&server, "/v1/loyalty/bonuses", &body);
    let signup = json!({ "userId": "rana", "action": "signup" });
    assert_eq!(bonus(signup.clone()).json()["balance"], 100);
    let again = bonus(signup);
    assert_eq!(again.status, 200, "a resend is harmless");
    assert_eq!(again.json()["duplicate"], true);

    let birthday = |at: &str| json!({ "userId": "rana", "action": "birthday", "at": at });
    assert_eq!(bonus(birthday("2026-03-01T09:00:00Z")).status, 201);
    assert_eq!(
        bonus(birthday("2026-03-01T18:00:00Z")).status,
        200,
        "the same year's birthday"
    );
    assert_eq!(
        bonus(birthday("2027-03-01T09:00:00Z")).status,
        201,
        "next year's"
    );

    let review = |id: &str| json!({ "userId": "rana", "action": "review", "bonusId": id });
    assert_eq!(bonus(review("r-1")).status, 201);
    assert_eq!(bonus(review("r-1")).status, 200);
    assert_eq!(
        bonus(review("r-2")).json()["balance"],
        100 + 200 + 200 + 20 + 20
    );

    let refused = bonus(json!({ "userId": "rana", "action": "review" })).error(400);
    assert!(refused.starts_with("bonusId:"), "{refused}");
    let refused = bonus(json!({ "userId": "rana", "action": "tweet" })).error(400);
    assert!(
        refused.starts_with("action:") && refused.contains("signup"),
        "{refused}"
    );
    let bare = server.post_json(
        "/v1/loyalty/bonuses",
        &json!({ "userId": "rana", "action": "signup" }),
    );
    assert_eq!(bare.status, 401, "the server key is required");
}

#[test]
fn a_released_code_gives_its_points_back_once_and_is_then_refused_at_checkout() {
    let site = Site::new();
    let server = start(&site);
    post_order(&server, &order("o-1", "omar", 120_000));
    let code = |reply: Reply| reply.json()["code"].as_str().unwrap().to_owned();
    let unused = code(redeem(&server, "omar", &hash("omar"), "five-off"));
    let used = code(redeem(&server, "omar", &hash("omar"), "five-off"));
    assert_eq!(view(&server, "omar")["balance"], 200);
    let consume = json!({ "code": used, "orderId": "o-2", "consume": true });
    assert_eq!(
        merchant(&server, "/v1/coupons/validate", &consume).status,
        200
    );

    let release = |code: &str| merchant(&server, "/v1/coupons/release", &json!({ "code": code }));
    let first = release(&unused.to_lowercase());
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["balance"], 700);
    assert_eq!(
        release(&unused).json()["duplicate"],
        true,
        "a resend gives nothing twice"
    );
    assert_eq!(view(&server, "omar")["balance"], 700);
    let refused = release(&used).error(409);
    assert!(refused.contains("already used"), "{refused}");
    release("NOPE-NOPE-NOPE").error(404);

    let check = merchant(&server, "/v1/coupons/validate", &json!({ "code": unused }));
    assert_eq!(check.json()["state"], "released");
    assert_eq!(check.json()["valid"], false);
    let consume = json!({ "code": unused, "orderId": "o-3", "consume": true });
    let refused = merchant(&server, "/v1/coupons/validate", &consume).error(409);
    assert!(refused.contains("cancelled"), "{refused}");
    let coupons = merchant_get(&server, "/v1/loyalty/customers/omar").json()["coupons"].clone();
    let state = |code: &str| {
        coupons
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(
        (state(&unused), state(&used)),
        (json!("released"), json!("consumed"))
    );
}
