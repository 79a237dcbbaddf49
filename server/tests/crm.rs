//! The merchant's CRM over real HTTP against a real SQLite file: one customer who
//! browsed anonymously, logged in, bought online and in store, chatted and consented
//! is one profile with all of it; the synthetic shop's segments, exports and funnel;
//! and who may read any of it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{json, Value};

const SERVER_KEY: &str = "merchant-secret-key";
const IDENTITY_SECRET: &str = "shop-identity-secret";
const PASSWORD: &str = "a long staff password";

fn start(site: &Site) -> Server {
    let mut cmd = site.command();
    cmd.arg("--server-key")
        .arg(SERVER_KEY)
        .arg("--identity-secret")
        .arg(IDENTITY_SECRET)
        .env_remove("SOUK_CHAT_HOURS");
    Server::start(cmd)
}

fn bearer() -> String {
    format!("Bearer {SERVER_KEY}")
}

/// A CRM GET with the server key.
fn crm(server: &Server, path: &str) -> Reply {
    server.get_with(path, &[("authorization", &bearer())])
}

/// A CRM GET with the server key that must answer 200.
fn crm_json(server: &Server, path: &str) -> Value {
    let reply = crm(server, path);
    let body = reply.json();
    assert_eq!(reply.status, 200, "{path}: {body}");
    body
}

fn refresh(server: &Server) -> Value {
    let reply = server.post("/v1/crm/refresh", &[("authorization", &bearer())], "");
    let body = reply.json();
    assert_eq!(reply.status, 200, "{body}");
    body
}

/// `minutes` ago, RFC 3339.
fn ago(minutes: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    souk::core::time::iso8601(now.as_millis() as u64 - minutes * 60_000)
}

fn send(server: &Server, messages: &[Value]) {
    let reply = server.post_json("/v1/batch", &json!({ "batch": messages }));
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    assert_eq!(answer.get("rejected"), None, "{answer}");
}

fn message(kind: &str, id: &str, minutes_ago: u64, anon: &str, user: Option<&str>) -> Value {
    let mut m = json!({
        "type": kind, "messageId": id, "anonymousId": anon, "timestamp": ago(minutes_ago),
    });
    if let Some(user) = user {
        m["userId"] = json!(user);
    }
    m
}

fn track(
    id: &str,
    minutes_ago: u64,
    anon: &str,
    user: Option<&str>,
    event: &str,
    properties: Value,
) -> Value {
    let mut m = message("track", id, minutes_ago, anon, user);
    m["event"] = json!(event);
    m["properties"] = properties;
    m
}

fn page(id: &str, minutes_ago: u64, anon: &str, user: Option<&str>) -> Value {
    let mut m = message("page", id, minutes_ago, anon, user);
    m["name"] = json!("Product");
    m
}

/// `souk-server <command…> --db <db> <args…>`.
fn run(command: &[&str], db: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
    cmd.args(command)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUST_LOG");
    let (status, stdout, stderr) = run_with_output(cmd);
    assert_no_panic(&stderr);
    (status.success(), stdout, stderr)
}

fn import_pos(site: &Site, csv: &str) {
    let file: PathBuf = site.dir.path().join("sales.csv");
    std::fs::write(&file, csv).unwrap();
    let (ok, stdout, stderr) = run(
        &["import-pos"],
        &site.db(),
        &["--file", file.to_str().unwrap()],
    );
    assert!(ok && stdout.contains("imported 1,"), "{stdout}\n{stderr}");
}

/// `souk-server agent add` with `role`, the password on standard input.
fn add_role(site: &Site, email: &str, role: &str) {
    let (ok, stderr) = add_staff(
        site,
        &["--email", email, "--name", "Staff", "--role", role],
        PASSWORD,
    );
    assert!(ok, "{stderr}");
    assert!(stderr.contains(&format!("added {role} ")), "{stderr}");
}

/// Signs in and answers the `Cookie` header of the session.
fn sign_in(server: &Server, email: &str) -> String {
    staff_cookie(server, email, PASSWORD)
}

fn kinds(profile: &Value) -> Vec<String> {
    let mut found: Vec<String> = profile["identities"]
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
        .collect();
    found.sort();
    found
}

#[test]
fn one_customer_across_web_store_chat_and_consent_is_one_profile() {
    let site = Site::new();
    let server = start(&site);
    let tea = json!({ "product_id": "tea-1", "name": "Mint tea", "category": "tea", "price": 60.25, "currency": "SAR" });

    // Browsing anonymously on the laptop: two visits an hour apart, a cart abandoned.
    send(
        &server,
        &[
            page("w1", 300, "anon-web", None),
            track("w2", 299, "anon-web", None, "Product Viewed", tea.clone()),
            track("w3", 298, "anon-web", None, "Product Added", tea.clone()),
            track(
                "w4",
                240,
                "anon-web",
                None,
                "Cart Abandoned",
                json!({ "cart_id": "c1", "value": 60.25, "currency": "SAR", "products": [tea.clone()] }),
            ),
            page("w5", 200, "anon-web", None),
            track(
                "w6",
                199,
                "anon-web",
                None,
                "Product Clicked",
                json!({ "product_id": "tea-1", "list_id": "souk-similar", "position": 1 }),
            ),
        ],
    );
    let consent = json!({
        "consentId": "consent-web", "anonymousId": "anon-web", "revision": "2024-05",
        "language": "ar-SA", "source": "banner",
        "categories": {"necessary": true, "functional": true, "analytics": true,
                       "personalization": false, "marketing": false},
        "firstAt": ago(301), "updatedAt": ago(301), "gpc": false,
    });
    assert_eq!(server.post_json("/v1/consent", &consent).status, 200);
    let chat =
        json!({ "anonymousId": "anon-web", "id": "chat-1", "text": "Do you have green tea?" });
    assert_eq!(server.post_json("/v1/chat/messages", &chat).status, 201);

    // Logs in, and buys online.
    let mut identify = message("identify", "w7", 190, "anon-web", Some("u-1"));
    identify["traits"] =
        json!({ "name": "Noor Ali", "email": "Noor@Example.com", "phone": "+966 50 123 4567" });
    send(
        &server,
        &[
            identify,
            track(
                "w8",
                189,
                "anon-web",
                Some("u-1"),
                "Product Added",
                tea.clone(),
            ),
            track(
                "w9",
                188,
                "anon-web",
                Some("u-1"),
                "Checkout Started",
                json!({ "products": [tea.clone()] }),
            ),
            track(
                "w10",
                187,
                "anon-web",
                Some("u-1"),
                "Order Completed",
                json!({
                    "order_id": "o-1", "currency": "SAR", "subtotal": 120.5, "total": 130,
                    "products": [{ "product_id": "tea-1", "name": "Mint tea", "category": "tea", "price": 60.25, "quantity": 2 }],
                }),
            ),
        ],
    );
    // The shop's backend posts the same order for its points: one order, not two.
    let order = json!({ "orderId": "o-1", "userId": "u-1", "subtotal": 12050, "currency": "SAR", "at": ago(187) });
    let reply = server.post(
        "/v1/orders",
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        order.to_string(),
    );
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    // Later, on the phone, logged in.
    send(
        &server,
        &[
            page("p1", 60, "anon-phone", None),
            page("p2", 59, "anon-phone", Some("u-1")),
        ],
    );
    // And in the store, by the POS import.
    import_pos(
        &site,
        &format!(
            "sale_id,sold_at,customer_id,subtotal,currency\ns-1,{},u-1,8000,SAR\n",
            ago(30)
        ),
    );
    refresh(&server);

    let customer = crm_json(&server, "/v1/crm/customers/u-1");
    let profile_id = customer["profileId"].as_i64().unwrap();
    assert_eq!(customer["userId"], "u-1");
    assert_eq!(customer["name"], "Noor Ali");
    assert_eq!(customer["email"], "noor@example.com");
    assert_eq!(customer["phone"], "+966501234567");
    assert_eq!(
        kinds(&customer),
        [
            "anonymous_id:anon-phone",
            "anonymous_id:anon-web",
            "email:noor@example.com",
            "phone:+966501234567",
            "user_id:u-1"
        ]
    );
    let reasons: Vec<&str> = customer["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["identify", "traits.email", "traits.phone", "same message"],
        "{}",
        customer["links"]
    );
    // Two laptop visits (300 and 200 minutes ago) and one on the phone, on two devices.
    assert_eq!(customer["visits"]["count"], 3, "{}", customer["visits"]);
    assert_eq!(customer["visits"]["devices"], 2);
    assert_eq!(customer["firstSeen"], customer["events"]["firstSeen"]);
    // The store sale is the latest thing the customer did.
    assert_eq!(customer["lastSeen"], customer["orders"]["latest"][0]["at"]);
    let orders = &customer["orders"];
    assert_eq!(
        (
            orders["total"].as_i64(),
            orders["online"].as_i64(),
            orders["store"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{orders}"
    );
    assert_eq!(
        orders["byCurrency"],
        json!([{ "currency": "SAR", "orders": 2, "total": 20050, "average": 10025 }])
    );
    assert_eq!(orders["latest"][0]["orderId"], "pos:s-1");
    assert_eq!(orders["latest"][0]["channel"], "store");
    assert_eq!(orders["latest"][1]["sources"], json!(["events", "ledger"]));
    assert_eq!(
        customer["products"],
        json!([{ "productId": "tea-1", "name": "Mint tea", "category": "tea", "orders": 1, "quantity": 2.0 }])
    );
    assert!(
        customer["loyalty"]["balance"].as_i64().unwrap() > 0,
        "{}",
        customer["loyalty"]
    );
    assert!(customer["loyalty"]["tier"]["id"].is_string());
    assert_eq!(customer["chat"]["conversations"], 1);
    assert_eq!(
        customer["chat"]["last"]["lastMessage"]["text"],
        "Do you have green tea?"
    );
    assert_eq!(
        customer["consent"]["current"]["categories"]["analytics"],
        true
    );
    assert_eq!(
        customer["consent"]["current"]["categories"]["marketing"],
        false
    );
    assert_eq!(customer["consent"]["history"].as_array().unwrap().len(), 1);
    // One customer is every quintile's best and worst: scored, with their money.
    assert_eq!(customer["rfm"]["monetary"], 20050);
    assert_eq!(customer["rfm"]["currency"], "SAR");
    assert_eq!(customer["rfm"]["vip"], true);

    // The same customer by profile id; unknown ones are 404.
    assert_eq!(
        crm_json(&server, &format!("/v1/crm/customers/{profile_id}"))["userId"],
        "u-1"
    );
    assert!(crm(&server, "/v1/crm/customers/nobody")
        .error(404)
        .contains("nobody"));

    // Search by name, email, phone and id.
    for q in [
        "noor",
        "ALI",
        "noor@example.com",
        "%2B966%2050%20123%204567",
        "u-1",
        "anon-phone",
        "example.com",
    ] {
        let found = crm_json(&server, &format!("/v1/crm/customers?q={q}"));
        assert_eq!(found["total"], 1, "{q}: {found}");
        assert_eq!(found["customers"][0]["profileId"], profile_id, "{q}");
        assert_eq!(found["customers"][0]["name"], "Noor Ali", "{q}");
    }
    assert_eq!(crm_json(&server, "/v1/crm/customers?q=zzz")["total"], 0);
    let listed = crm_json(&server, "/v1/crm/customers");
    assert_eq!(listed["customers"][0]["rfm"]["orders"], 2);

    // The funnel over the last day: one profile went all the way (its anonymous
    // views count for it), the cart abandoned before was recovered.
    let funnel = crm_json(
        &server,
        &format!(
            "/v1/crm/funnel?from={}&to={}&by=category",
            ago(24 * 60),
            ago(0)
        ),
    );
    let profiles: Vec<i64> = funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["profiles"].as_i64().unwrap())
        .collect();
    assert_eq!(profiles, [1, 1, 1, 1], "{funnel}");
    assert_eq!(funnel["groups"][0]["key"], "tea");
    assert_eq!(funnel["abandonedCarts"]["count"], 1);
    assert_eq!(funnel["abandonedCarts"]["recovered"], 1);
    assert_eq!(
        funnel["abandonedCarts"]["value"],
        json!([{ "currency": "SAR", "carts": 1, "total": 6025 }])
    );
    assert_eq!(funnel["recommendations"][0]["surface"], "similar");
    assert_eq!(funnel["recommendations"][0]["clicks"], 1);
    assert_eq!(funnel["recommendations"][0]["ctr"], Value::Null);
    assert_eq!(funnel["viewedNotBought"], json!([]));

    let overview = crm_json(&server, &format!("/v1/crm/overview?from={}", ago(24 * 60)));
    assert_eq!(overview["sales"]["byCurrency"][0]["revenue"], 20050);
    assert_eq!(overview["sales"]["byCurrency"][0]["online"], 1);
    assert_eq!(overview["consent"]["rates"]["analytics"], 1.0);
    assert_eq!(overview["consent"]["rates"]["marketing"], 0.0);
}

/// `crm import-retail` of the synthetic shop into `site`'s database.
fn import_synthetic(site: &Site) -> String {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/online-retail-synthetic.csv");
    let (ok, stdout, stderr) = run(
        &["crm", "import-retail"],
        &site.db(),
        &["--data", data.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("crm: scored 12 customers as of 2011-02-16T00:00:00.000Z"),
        "{stderr}"
    );
    stdout
}

#[test]
fn the_synthetic_shop_is_segmented_exported_and_funnelled() {
    let site = Site::new();
    let table = import_synthetic(&site);
    assert!(table.contains("12 customers, 24 orders"), "{table}");
    let server = start(&site);
    // The startup refresh scores as of the import's as-of setting; refresh again to
    // be sure it is done.
    let refreshed = refresh(&server);
    let segments = crm_json(&server, "/v1/crm/segments");
    assert_eq!(segments["segments"], refreshed["segments"]);
    assert_eq!(segments["run"]["customers"], 12);
    assert_eq!(segments["run"]["asOf"], "2011-02-16T00:00:00.000Z");
    assert_eq!(segments["currency"], "GBP");
    let sizes: Vec<(String, i64)> = segments["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["customers"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes.len(), 8);
    assert_eq!(sizes.iter().map(|s| s.1).sum::<i64>(), 12);
    // The CLI printed the same sizes.
    for (name, n) in &sizes {
        let label = segments["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name.as_str())
            .unwrap()["label"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            table.contains(&format!("| {label} | {n} |")),
            "{label} {n}\n{table}"
        );
    }

    // A segment's customers, a page at a time, and the CSV with every row.
    let (name, n) = sizes.iter().find(|s| s.1 >= 2).unwrap().clone();
    let first = crm_json(
        &server,
        &format!("/v1/crm/segments/{name}/customers?limit=1"),
    );
    assert_eq!(first["total"], n);
    assert_eq!(first["customers"].as_array().unwrap().len(), 1);
    let second = crm_json(
        &server,
        &format!("/v1/crm/segments/{name}/customers?limit=1&offset=1"),
    );
    assert_ne!(
        first["customers"][0]["profileId"],
        second["customers"][0]["profileId"]
    );
    assert!(
        first["customers"][0]["monetary"].as_i64() >= second["customers"][0]["monetary"].as_i64()
    );
    assert_eq!(first["customers"][0]["segment"], name.as_str());
    let csv = crm(&server, &format!("/v1/crm/segments/{name}.csv"));
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains(&format!("souk-{name}.csv")));
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    assert_eq!(reader.headers().unwrap().get(0), Some("profile_id"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, n);
    assert!(rows.iter().all(|r| &r[5] == name.as_str()));
    assert!(rows.iter().all(|r| &r[19] == "GBP"));
    let all = crm(&server, "/v1/crm/segments/all.csv");
    assert_eq!(
        csv::Reader::from_reader(all.body.as_slice())
            .records()
            .count(),
        12
    );
    let vips = crm_json(&server, "/v1/crm/segments/vip/customers");
    assert_eq!(vips["total"], segments["vip"]["customers"]);
    assert!(crm(&server, "/v1/crm/segments/big-spenders/customers")
        .error(404)
        .contains("champions"));
    assert_eq!(crm(&server, "/v1/crm/segments/champions.json").status, 404);
    assert!(crm(&server, "/v1/crm/segments/lost/customers?limit=0")
        .error(400)
        .contains("limit"));

    // The VIP rule is a setting; the next refresh applies it.
    let reply = server.send(
        "PUT",
        "/v1/crm/settings",
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        Some(json!({ "vip": "top 50% by ltv" }).to_string().as_bytes()),
    );
    assert_eq!(reply.json()["vip"], "top 50% by ltv");
    let bad = server.send(
        "PUT",
        "/v1/crm/settings",
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        Some(json!({ "vip": "the best ones" }).to_string().as_bytes()),
    );
    assert!(bad.error(400).starts_with("vip: "));
    let run = refresh(&server);
    assert_eq!(run["vip"]["rule"], "top 50% by ltv");
    assert!(run["vip"]["customers"].as_i64().unwrap() >= 6, "{run}");

    // The funnel of January 2011, by day: only online customers browsed, and each
    // one who viewed went on to order.
    let funnel = crm_json(
        &server,
        "/v1/crm/funnel?from=2011-01-01&to=2011-01-31&by=day",
    );
    let steps: Vec<i64> = funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["profiles"].as_i64().unwrap())
        .collect();
    assert!(
        steps[0] > 0 && steps.iter().all(|s| *s == steps[0]),
        "{funnel}"
    );
    assert_eq!(funnel["steps"][3]["conversion"], 1.0);
    // Each online customer ordered on one day of January (some also browsed the day
    // before, abandoning a cart).
    let days: i64 = funnel["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["steps"][3]["profiles"].as_i64().unwrap())
        .sum();
    assert_eq!(days, steps[3], "{funnel}");
    let devices = crm_json(
        &server,
        "/v1/crm/funnel?from=2011-01-01&to=2011-01-31&by=device",
    );
    assert_eq!(devices["groups"][0]["key"], "unknown");
    assert!(crm(&server, "/v1/crm/funnel?by=week")
        .error(400)
        .starts_with("by:"));
    assert!(crm(&server, "/v1/crm/funnel?from=2011-02-01&to=2011-01-01")
        .error(400)
        .starts_with("from:"));
    assert!(crm(&server, "/v1/crm/funnel?since=2011")
        .error(400)
        .contains("unknown parameter"));

    let overview = crm_json(&server, "/v1/crm/overview?from=2011-01-01&to=2011-02-28");
    assert_eq!(overview["sales"]["bucket"], "day");
    assert_eq!(overview["sales"]["byCurrency"][0]["orders"], 24);
    assert_eq!(overview["segments"]["customers"], 12);
    assert!(overview["history"].as_array().unwrap().len() >= 2);
}

#[test]
fn crm_refresh_prints_its_progress_and_the_sizes() {
    let site = Site::new();
    import_synthetic(&site);
    let (ok, stdout, stderr) = run(&["crm", "refresh"], &site.db(), &[]);
    assert!(ok, "{stderr}");
    for line in [
        "crm: read 24 ledger orders",
        "crm: read 11 Order Completed events",
        "crm: scored 12 customers",
        "crm: wrote 12 customers",
    ] {
        assert!(stderr.contains(line), "{line}\n{stderr}");
    }
    assert!(
        stdout.contains("| segment | customers | share |"),
        "{stdout}"
    );
    let (ok, stdout, _) = run(
        &["crm", "settings"],
        &site.db(),
        &["--vip", "monetary >= 1"],
    );
    assert!(ok);
    assert!(
        stdout.contains("vip: monetary >= 1") && stdout.contains("as-of: 2011-02-16"),
        "{stdout}"
    );
    let (ok, stdout, _) = run(&["crm", "refresh"], &site.db(), &["--as-of", "2011-03-31"]);
    assert!(ok);
    assert!(
        stdout.contains("as of 2011-04-01T00:00:00.000Z")
            && stdout.contains("VIPs (monetary >= 1): 12"),
        "{stdout}"
    );
    let (ok, _, stderr) = run(&["crm", "settings"], &site.db(), &["--vip", "lots"]);
    assert!(
        !ok && stderr.contains("--vip: \"lots\" is not a VIP rule"),
        "{stderr}"
    );
}

#[test]
fn only_the_server_key_or_a_merchant_may_read_the_crm() {
    let site = Site::new();
    add_role(&site, "agent@shop.example", "agent");
    add_role(&site, "owner@shop.example", "merchant");
    let server = start(&site);

    assert!(server
        .get("/v1/crm/segments")
        .error(401)
        .contains("merchant role"));
    let wrong = server.get_with("/v1/crm/segments", &[("authorization", "Bearer nope")]);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    assert_eq!(crm(&server, "/v1/crm/segments").status, 200);

    let agent = sign_in(&server, "agent@shop.example");
    assert!(server
        .get_with("/v1/crm/segments", &[("cookie", &agent)])
        .error(403)
        .contains("role is agent"));
    // The agent's console is theirs all the same.
    assert_eq!(
        server
            .get_with("/v1/agent/me", &[("cookie", &agent)])
            .status,
        200
    );

    let owner = sign_in(&server, "owner@shop.example");
    assert_eq!(
        server
            .get_with("/v1/crm/segments", &[("cookie", &owner)])
            .status,
        200
    );
    assert_eq!(
        server
            .get_with(
                "/v1/crm/customers?q=x",
                &[("cookie", &owner), ("sec-fetch-site", "same-origin")]
            )
            .status,
        200
    );
    let cross = server.get_with(
        "/v1/crm/segments",
        &[("cookie", &owner), ("sec-fetch-site", "cross-site")],
    );
    assert!(cross.error(403).contains("same origin"));
    let post = server.post("/v1/crm/refresh", &[("cookie", &owner)], "");
    assert_eq!(post.status, 200);
    assert_eq!(
        server
            .send("DELETE", "/v1/crm/segments", &[("cookie", &owner)], None)
            .status,
        405
    );

    let (ok, stdout, _) = run(&["agent", "list"], &site.db(), &[]);
    assert!(ok);
    assert!(
        stdout.contains("\tagent@shop.example\t")
            && stdout.lines().any(|l| l.ends_with("\tmerchant")),
        "{stdout}"
    );

    // Without a server key configured, a Bearer token is refused as the other
    // merchant endpoints refuse it.
    drop(server);
    let unset = Server::start(site.command());
    let reply = unset.get_with("/v1/crm/segments", &[("authorization", &bearer())]);
    assert!(reply.error(403).contains("--server-key"));
}

/// A merchant request with the server key: `method path` with a JSON body.
fn crm_send(server: &Server, method: &str, path: &str, body: Option<Value>) -> Reply {
    let text = body.map(|b| b.to_string());
    server.send(
        method,
        path,
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        text.as_deref().map(str::as_bytes),
    )
}

/// The user ids of a segment's customers, best spenders first.
fn segment_users(server: &Server, name: &str) -> Vec<String> {
    let page = crm_json(server, &format!("/v1/crm/segments/{name}/customers"));
    let users: Vec<String> = page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["userId"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(page["total"], users.len(), "{page}");
    users
}

#[test]
fn a_merchant_defines_segments_with_the_filter_language() {
    let site = Site::new();
    let server = start(&site);
    const QUARTER: u64 = 90 * 24 * 60;
    let line = |id: &str, category: &str, price: f64| json!({ "product_id": id, "name": id, "category": category, "price": price, "quantity": 1 });
    let order = |id: &str, minutes: u64, user: &str, lines: Vec<Value>, total: f64| {
        track(
            id,
            minutes,
            &format!("anon-{user}"),
            Some(user),
            "Order Completed",
            json!({ "order_id": id, "currency": "SAR", "subtotal": total, "products": lines }),
        )
    };
    // Amal bought tea twice, three months ago, and is silver; Badr bought coffee last
    // week; Carim bought tea once, yesterday.
    send(
        &server,
        &[
            order(
                "o-a1",
                QUARTER + 60,
                "amal",
                vec![line("tea-1", "Tea", 300.0)],
                300.0,
            ),
            order(
                "o-a2",
                QUARTER,
                "amal",
                vec![line("tea-2", "Tea", 310.0)],
                310.0,
            ),
            order(
                "o-b1",
                7 * 24 * 60,
                "badr",
                vec![line("cof-1", "Coffee", 40.0)],
                40.0,
            ),
            order(
                "o-c1",
                24 * 60,
                "carim",
                vec![line("tea-1", "Tea", 300.0)],
                300.0,
            ),
        ],
    );
    for (id, user, subtotal, minutes) in [
        ("o-a1", "amal", 30000, QUARTER + 60),
        ("o-a2", "amal", 31000, QUARTER),
        ("o-b1", "badr", 4000, 7 * 24 * 60),
    ] {
        let order = json!({ "orderId": id, "userId": user, "subtotal": subtotal, "currency": "SAR", "at": ago(minutes) });
        assert_eq!(
            crm_send(&server, "POST", "/v1/orders", Some(order)).status,
            201
        );
    }
    // Only Amal said yes to marketing.
    for (user, marketing) in [("amal", true), ("badr", false)] {
        let consent = json!({
            "consentId": format!("consent-{user}"), "anonymousId": format!("anon-{user}"),
            "revision": "2024-05", "language": "en", "source": "banner",
            "categories": {"necessary": true, "functional": true, "analytics": true,
                           "personalization": false, "marketing": marketing},
            "firstAt": ago(10), "updatedAt": ago(10), "gpc": false,
        });
        assert_eq!(server.post_json("/v1/consent", &consent).status, 200);
    }
    refresh(&server);

    // The example: bought in a category, not in 60 days, tier at least silver.
    let saved = crm_send(
        &server,
        "PUT",
        "/v1/crm/custom-segments/lapsed-tea",
        Some(
            json!({ "label": "Lapsed tea lovers", "filter": "category = tea and last_order_days > 60 and tier >= silver" }),
        ),
    );
    assert_eq!(saved.status, 200, "{}", saved.json());
    assert_eq!(saved.json()["customers"], 1);
    assert_eq!(segment_users(&server, "lapsed-tea"), ["amal"]);

    for (filter, expected) in [
        ("category = TEA", vec!["amal", "carim"]),
        ("category != tea", vec!["badr"]),
        ("orders >= 2 or spent < 50", vec!["amal", "badr"]),
        ("consent = marketing", vec!["amal"]),
        (
            "not consent in (marketing) and last_order_days <= 7",
            vec!["carim", "badr"],
        ),
        ("tier in (bronze)", vec!["badr"]),
        ("product = tea-1 and first_order_days < 30", vec!["carim"]),
    ] {
        let reply = crm_send(
            &server,
            "POST",
            "/v1/crm/custom-segments/preview",
            Some(json!({ "filter": filter })),
        );
        let body = reply.json();
        assert_eq!(reply.status, 200, "{filter}: {body}");
        let users: Vec<&str> = body["sample"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["userId"].as_str().unwrap())
            .collect();
        assert_eq!(users, expected, "{filter}");
        assert_eq!(body["customers"], expected.len(), "{filter}");
    }

    // The export has the segment's rows under the usual header.
    let csv = crm(&server, "/v1/crm/segments/lapsed-tea.csv");
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("profile_id,user_id,"));
    assert!(lines[1].contains(",amal,"), "{text}");
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"souk-lapsed-tea.csv\"")
    );

    // Listed with its size; a mistake says where; names are checked; deleted is gone.
    let list = crm_json(&server, "/v1/crm/custom-segments");
    assert_eq!(list["segments"][0]["name"], "lapsed-tea");
    assert_eq!(list["segments"][0]["label"], "Lapsed tea lovers");
    assert_eq!(list["segments"][0]["customers"], 1);
    let wrong = crm_send(
        &server,
        "PUT",
        "/v1/crm/custom-segments/x",
        Some(json!({ "filter": "tier >= platinum" })),
    );
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.error(400),
        "filter: at character 9: no tier `platinum`; the tiers are bronze, silver, gold"
    );
    let wrong = crm_send(
        &server,
        "PUT",
        "/v1/crm/custom-segments/champions",
        Some(json!({ "filter": "vip" })),
    );
    assert!(wrong.error(400).contains("built-in segment"));
    let wrong = crm_send(
        &server,
        "PUT",
        "/v1/crm/custom-segments/Big%20Spenders",
        Some(json!({ "filter": "vip" })),
    );
    assert!(wrong.error(400).contains("lower-case letters"));
    let wrong = crm_send(
        &server,
        "POST",
        "/v1/crm/custom-segments/preview",
        Some(json!({ "filter": 3 })),
    );
    assert!(wrong.error(400).contains("filter: must be a string"));
    assert_eq!(
        crm_send(
            &server,
            "DELETE",
            "/v1/crm/custom-segments/lapsed-tea",
            None
        )
        .status,
        204
    );
    assert_eq!(
        crm_send(
            &server,
            "DELETE",
            "/v1/crm/custom-segments/lapsed-tea",
            None
        )
        .status,
        404
    );
    assert!(crm(&server, "/v1/crm/segments/lapsed-tea/customers")
        .error(404)
        .contains("no segment"));
    // Without the key or a merchant's session: nothing.
    assert_eq!(server.get("/v1/crm/custom-segments").status, 401);

    // The loyalty programme's page: the rules as configured, members per tier, points.
    let loyalty = crm_json(&server, "/v1/crm/loyalty");
    assert_eq!(loyalty["rules"]["tiers"][1]["id"], "silver");
    assert_eq!(loyalty["rules"]["earn"], json!({ "points": 1, "per": 100 }));
    assert_eq!(loyalty["members"]["total"], 2);
    let held: Vec<(&str, i64)> = loyalty["members"]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["customers"].as_i64().unwrap()))
        .collect();
    assert_eq!(held, [("bronze", 1), ("silver", 1), ("gold", 0)]);
    let points = &loyalty["points"];
    assert!(points["earned"].as_i64().unwrap() >= 650, "{points}");
    assert_eq!(points["owed"], points["earned"], "nothing spent yet");
    assert_eq!(server.get("/v1/crm/loyalty").status, 401);
}

#[test]
fn segments_follow_new_orders_without_a_refresh() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.args(["--server-key", SERVER_KEY, "--crm-watch", "1s"]);
    let server = Server::start(cmd);
    let customers = |server: &Server| {
        crm_json(server, "/v1/crm/segments/all/customers")["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["userId"].as_str().unwrap().to_owned(),
                    c["orders"].as_i64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let post_order = |id: &str, user: &str| {
        let order = json!({ "orderId": id, "userId": user, "subtotal": 5000, "currency": "SAR", "at": ago(5) });
        assert_eq!(
            crm_send(&server, "POST", "/v1/orders", Some(order)).status,
            201
        );
    };
    let within = |want: &[(&str, i64)]| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let got = customers(&server);
            let want: Vec<(String, i64)> = want.iter().map(|(u, n)| (u.to_string(), *n)).collect();
            if got == want {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still {got:?}, want {want:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    post_order("o-1", "rania");
    within(&[("rania", 1)]);
    post_order("o-2", "rania");
    post_order("o-3", "sami");
    within(&[("rania", 2), ("sami", 1)]);
    // Nothing new, no new refresh: it watches the data, not the clock.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let runs = site.count("SELECT COUNT(*) FROM crm_runs");
    std::thread::sleep(std::time::Duration::from_millis(3000));
    assert_eq!(site.count("SELECT COUNT(*) FROM crm_runs"), runs);
    assert!(!server
        .stop(libc::SIGTERM)
        .1
        .contains("could not look for new data"));
}

#[test]
fn the_funnel_splits_by_the_browsers_device_class_and_keeps_no_user_agent() {
    let site = Site::new();
    let server = start(&site);
    const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
    const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    let post = |agent: &str, messages: Vec<Value>| {
        let body = json!({ "batch": messages }).to_string();
        let reply = server.post(
            "/v1/batch",
            &[
                ("authorization", &basic(DEMO_KEY)),
                ("content-type", "application/json"),
                ("user-agent", agent),
            ],
            body,
        );
        assert_eq!(reply.status, 200, "{}", reply.json());
    };
    let view = |id: &str, anon: &str| {
        track(
            id,
            30,
            anon,
            None,
            "Product Viewed",
            json!({ "product_id": "tea-1" }),
        )
    };
    post(PHONE, vec![view("m1", "phone-1"), view("m2", "phone-2")]);
    post(LAPTOP, vec![view("d1", "laptop-1")]);
    // A shop's backend is no browser; a message that names its device keeps it.
    let mut tablet = view("t1", "tablet-1");
    tablet["context"] = json!({ "device": { "type": "tablet" } });
    post("shop-backend/2.1", vec![view("b1", "backend-1"), tablet]);

    let funnel = crm_json(&server, "/v1/crm/funnel?by=device");
    let mut viewed: Vec<(String, i64)> = funnel["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["steps"][0]["profiles"].as_i64().unwrap(),
            )
        })
        .collect();
    viewed.sort();
    assert_eq!(
        viewed,
        [
            ("desktop".into(), 1),
            ("mobile".into(), 2),
            ("tablet".into(), 1),
            ("unknown".into(), 1)
        ]
    );
    let stored = site.rows("SELECT body FROM events");
    assert!(
        stored
            .iter()
            .all(|row| !row.to_string().contains("Mozilla")),
        "no user agent is stored"
    );
}
