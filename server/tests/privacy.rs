//! A customer's rights of access and erasure over real HTTP against a real SQLite
//! file, and through the real binary's `customer export` and `customer erase`: two
//! customers are seeded through the normal paths (events, consent, orders, a POS
//! import, a redemption, a rated chat, a CRM refresh); one is exported and erased,
//! and then no table and no byte of the database files holds any of their
//! identifiers, while the other customer and the shop's ledger totals are untouched.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use rusqlite::types::ValueRef;
use serde_json::{json, Value};
use souk_server::auth::user_hash;
use souk_server::privacy::pseudonym;

const SERVER_KEY: &str = "merchant-secret-key";
const IDENTITY_SECRET: &str = "shop-identity-secret";
const PASSWORD: &str = "a long staff password";
const AGENT: &str = "agent@shop.example";
const OWNER: &str = "owner@shop.example";
/// Where the triggers' webhooks go: nothing listens there.
const HOOK: &str = "http://127.0.0.1:9/hooks";

/// One customer's identifiers, each unique in the test's database.
struct Person {
    user_id: &'static str,
    /// As the shopper typed it; stored lowercased.
    email: &'static str,
    /// As the shopper typed it.
    phone: &'static str,
    phone_normalised: &'static str,
    name: &'static str,
    birthday: &'static str,
    laptop: &'static str,
    phone_device: &'static str,
    ip: &'static str,
    consent_id: &'static str,
    order_id: &'static str,
    sale_id: &'static str,
    /// In their chat message.
    phrase: &'static str,
    /// In their chat rating's comment.
    comment: &'static str,
}

const ZAINAB: Person = Person {
    user_id: "user-zq-7781",
    email: "Zainab.Qasimi@Example.ORG",
    phone: "+966 55 765 4321",
    phone_normalised: "+966557654321",
    name: "Zainab Qasimi",
    birthday: "1987-03-14",
    laptop: "anon-zq-laptop",
    phone_device: "anon-zq-mobile",
    ip: "203.0.113.77",
    consent_id: "consent-zq-laptop",
    order_id: "zq-web-order-1",
    sale_id: "zq-till-sale-1",
    phrase: "purple elephant saffron tea",
    comment: "quick and kind velvet answer",
};

const BILAL: Person = Person {
    user_id: "user-bh-2290",
    email: "Bilal.Haddad@example.net",
    phone: "+971 50 111 2233",
    phone_normalised: "+971501112233",
    name: "Bilal Haddad",
    birthday: "1990-11-02",
    laptop: "anon-bh-laptop",
    phone_device: "anon-bh-mobile",
    ip: "198.51.100.23",
    consent_id: "consent-bh-laptop",
    order_id: "bh-web-order-1",
    sale_id: "bh-till-sale-1",
    phrase: "green mountain cardamom coffee",
    comment: "helpful amber reply",
};

impl Person {
    /// Everything that must not survive their erasure, in the forms it was given.
    fn identifiers(&self) -> Vec<String> {
        let digits: String = self.phone_normalised.trim_start_matches('+').to_owned();
        [
            self.user_id,
            self.email,
            self.phone,
            self.phone_normalised,
            &digits,
            self.name,
            self.birthday,
            self.laptop,
            self.phone_device,
            self.ip,
            self.consent_id,
            self.order_id,
            self.sale_id,
            self.phrase,
            self.comment,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

fn start(site: &Site) -> Server {
    let mut cmd = site.command();
    cmd.arg("--server-key")
        .arg(SERVER_KEY)
        .arg("--identity-secret")
        .arg(IDENTITY_SECRET)
        // The test evaluates the triggers itself (`triggers run`), once, before any
        // erasure: a pass that read a customer before their erasure and wrote after it
        // would bring their webhook back.
        .args(["--triggers-every", "1d"])
        .env_remove("SOUK_CHAT_HOURS")
        .env_remove("SOUK_FAQ");
    Server::start(cmd)
}

fn bearer() -> String {
    format!("Bearer {SERVER_KEY}")
}

/// `minutes` ago, RFC 3339.
fn ago(minutes: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    souk::core::time::iso8601(now.as_millis() as u64 - minutes * 60_000)
}

/// `souk-server <command…> --db <db> <args…>`: (success, stdout, stderr).
fn run(command: &[&str], db: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
    cmd.args(command)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUST_LOG")
        // Never a terminal: `customer erase` would ask on one.
        .stdin(Stdio::null());
    let (status, stdout, stderr) = run_with_output(cmd);
    assert_no_panic(&stderr);
    (status.success(), stdout, stderr)
}

fn created(reply: Reply) -> Value {
    let body = reply.json();
    assert!(reply.status == 200 || reply.status == 201, "{body}");
    body
}

fn merchant_post(server: &Server, path: &str, body: &Value) -> Value {
    created(server.post(
        path,
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    ))
}

/// Signs in and answers the `Cookie` header of the session.
fn sign_in(server: &Server, email: &str) -> String {
    staff_cookie(server, email, PASSWORD)
}

fn cookie_post(server: &Server, cookie: &str, path: &str, body: &Value) -> Value {
    created(server.post(
        path,
        &[("content-type", "application/json"), ("cookie", cookie)],
        body.to_string(),
    ))
}

/// A site with an agent and a merchant account, and its server.
fn shop() -> (Site, Server) {
    let site = Site::new();
    for (email, role) in [(AGENT, "agent"), (OWNER, "merchant")] {
        let (ok, stderr) = add_staff(
            &site,
            &["--email", email, "--name", "Staff", "--role", role],
            PASSWORD,
        );
        assert!(ok, "{stderr}");
    }
    let server = start(&site);
    // Webhooks about customers' first orders and tier changes, to a closed port.
    for kind in ["first_purchase", "tier_change"] {
        let reply = server.send(
            "PUT",
            &format!("/v1/crm/triggers/{kind}"),
            &[
                ("authorization", &bearer()),
                ("content-type", "application/json"),
            ],
            Some(
                json!({ "enabled": true, "url": HOOK })
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    (site, server)
}

/// Everything a customer does, through the normal paths; answers their coupon code.
fn seed(site: &Site, server: &Server, p: &Person) -> String {
    let hash = user_hash(IDENTITY_SECRET, p.user_id);
    let context = |device: &str| {
        json!({
            "ip": p.ip,
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "page": { "url": format!("https://shop.example/p/tea?ref=mail&email={}", p.email) },
            "device": { "id": device },
        })
    };
    let tea = json!({ "product_id": "tea-1", "name": "Mint tea", "category": "tea", "price": 60.25, "currency": "SAR" });
    let message = |kind: &str, id: String, minutes: u64, anon: &str, user: Option<&str>| {
        let mut m = json!({
            "type": kind, "messageId": id, "anonymousId": anon, "timestamp": ago(minutes),
            "context": context(anon),
        });
        if let Some(user) = user {
            m["userId"] = json!(user);
        }
        m
    };
    let mut page = message("page", format!("{}-1", p.laptop), 300, p.laptop, None);
    page["name"] = json!("Product");
    let mut viewed = message("track", format!("{}-2", p.laptop), 299, p.laptop, None);
    viewed["event"] = json!("Product Viewed");
    viewed["properties"] = tea.clone();
    let mut added = message("track", format!("{}-3", p.laptop), 298, p.laptop, None);
    added["event"] = json!("Product Added");
    added["properties"] = tea.clone();
    let mut identify = message(
        "identify",
        format!("{}-4", p.laptop),
        290,
        p.laptop,
        Some(p.user_id),
    );
    identify["traits"] = json!({
        "name": p.name, "email": p.email, "phone": p.phone, "birthday": p.birthday,
    });
    let mut ordered = message(
        "track",
        format!("{}-5", p.laptop),
        289,
        p.laptop,
        Some(p.user_id),
    );
    ordered["event"] = json!("Order Completed");
    ordered["properties"] = json!({
        "order_id": p.order_id, "currency": "SAR", "subtotal": 1200, "products": [tea],
    });
    let mut mobile = message(
        "page",
        format!("{}-6", p.phone_device),
        60,
        p.phone_device,
        None,
    );
    mobile["name"] = json!("Home");
    let mut mobile_identified = message(
        "page",
        format!("{}-7", p.phone_device),
        59,
        p.phone_device,
        Some(p.user_id),
    );
    mobile_identified["name"] = json!("Account");
    let batch =
        json!({ "batch": [page, viewed, added, identify, ordered, mobile, mobile_identified] });
    let answer = created(server.post_json("/v1/batch", &batch));
    assert_eq!(answer.get("rejected"), None, "{answer}");

    let consent = json!({
        "consentId": p.consent_id, "anonymousId": p.laptop, "userId": p.user_id,
        "revision": "2024-05", "language": "ar-SA", "source": "banner",
        "categories": {"necessary": true, "functional": true, "analytics": true,
                       "personalization": false, "marketing": true},
        "firstAt": ago(301), "updatedAt": ago(301), "gpc": false,
    });
    created(server.post_json("/v1/consent", &consent));

    // 1,200.00 online (1,200 points, which make silver) and 80.00 in store, found by
    // the email as typed (80 points at silver's 1.25: 100). Both now, after the
    // triggers were switched on, so that they fire.
    merchant_post(
        server,
        "/v1/orders",
        &json!({ "orderId": p.order_id, "userId": p.user_id, "subtotal": 120_000, "currency": "SAR" }),
    );
    let sales = site.dir.path().join("sales.csv");
    std::fs::write(
        &sales,
        format!(
            "sale_id,email,subtotal,currency\n{},{},8000,SAR\n",
            p.sale_id, p.email
        ),
    )
    .unwrap();
    let (ok, stdout, stderr) = run(
        &["import-pos"],
        &site.db(),
        &["--file", sales.to_str().unwrap()],
    );
    assert!(ok && stdout.contains("imported 1,"), "{stdout}\n{stderr}");
    std::fs::remove_file(&sales).unwrap();

    let redeemed = created(server.post_json(
        "/v1/loyalty/redeem",
        &json!({ "userId": p.user_id, "userHash": hash, "reward": "five-off" }),
    ));
    let code = redeemed["code"].as_str().unwrap().to_owned();

    // A chat: the shopper asks, an agent answers by name and closes, the shopper rates.
    let posted = created(server.post_json(
        "/v1/chat/messages",
        &json!({
            "anonymousId": p.laptop, "userId": p.user_id, "userHash": hash,
            "id": format!("{}-chat-1", p.laptop), "text": format!("Do you sell {}?", p.phrase),
            "email": p.email, "context": { "url": "https://shop.example/p/tea", "title": "Tea" },
        }),
    ));
    let conversation = posted["conversationId"].as_str().unwrap().to_owned();
    let agent = sign_in(server, AGENT);
    cookie_post(
        server,
        &agent,
        &format!("/v1/agent/conversations/{conversation}/messages"),
        &json!({ "id": format!("{}-reply-1", p.laptop), "text": format!("Yes {}, we do.", p.name) }),
    );
    cookie_post(
        server,
        &agent,
        &format!("/v1/agent/conversations/{conversation}/close"),
        &json!({}),
    );
    created(server.post_json(
        "/v1/chat/rating",
        &json!({
            "anonymousId": p.laptop, "userId": p.user_id, "userHash": hash,
            "conversationId": conversation, "score": 4, "comment": p.comment,
        }),
    ));
    code
}

/// Both customers, then a CRM refresh from the command line: Zainab's coupon code.
fn seed_both(site: &Site, server: &Server) -> String {
    let code = seed(site, server, &ZAINAB);
    seed(site, server, &BILAL);
    let (ok, stdout, stderr) = run(&["crm", "refresh"], &site.db(), &[]);
    assert!(ok, "{stdout}\n{stderr}");
    let mut triggers = Command::new(env!("CARGO_BIN_EXE_souk-server"));
    triggers
        .args(["triggers", "run", "--db"])
        .arg(site.db())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for proxy in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        triggers.env_remove(proxy);
    }
    let (_, stdout, stderr) = run_with_output(triggers);
    assert_no_panic(&stderr);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM trigger_deliveries"),
        4,
        "{stdout}\n{stderr}"
    );
    code
}

fn export_http(server: &Server, key: &str) -> Reply {
    server.get_with(
        &format!("/v1/crm/customers/{key}/export"),
        &[("authorization", &bearer())],
    )
}

/// An export without the parts that change from one call to the next.
fn stable(mut export: Value) -> Value {
    let object = export.as_object_mut().unwrap();
    object.remove("exportedAt");
    object.remove("key");
    export
}

/// The rows of `table` in an export.
fn rows<'a>(export: &'a Value, table: &str) -> &'a Vec<Value> {
    export["tables"][table]
        .as_array()
        .unwrap_or_else(|| panic!("no table {table} in the export"))
}

/// The shop's ledger as the books see it: entries, points earned, points spent,
/// qualifying amounts and accounts.
fn ledger_totals(site: &Site) -> Vec<Value> {
    site.rows(
        "SELECT COUNT(*) AS entries,
                SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS earned,
                SUM(CASE WHEN points < 0 THEN points ELSE 0 END) AS spent,
                SUM(qualifying) AS qualifying, COUNT(DISTINCT customer) AS accounts
         FROM loyalty_ledger",
    )
}

/// Every cell of every table of the database, as text (blobs decoded lossily):
/// (table, column, text). Generic, so a table added later is scanned too.
fn every_cell(site: &Site) -> Vec<(String, String, String)> {
    let conn = site.conn();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(tables.len() > 10, "{tables:?}");
    let mut cells = Vec::new();
    for table in tables {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))
            .unwrap();
        let names: Vec<String> = statement
            .column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let mut found = statement.query([]).unwrap();
        while let Some(row) = found.next().unwrap() {
            for (i, name) in names.iter().enumerate() {
                let text = match row.get_ref(i).unwrap() {
                    ValueRef::Null => continue,
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(x) => x.to_string(),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                };
                cells.push((table.clone(), name.clone(), text));
            }
        }
    }
    cells
}

/// The first of `needles` found in `haystack`, ignoring ASCII case, and where.
fn first_found<'a>(haystack: &[u8], needles: &'a [String]) -> Option<(&'a String, usize)> {
    let haystack = haystack.to_ascii_lowercase();
    needles.iter().find_map(|needle| {
        let needle_bytes = needle.to_ascii_lowercase().into_bytes();
        haystack
            .windows(needle_bytes.len())
            .position(|w| w == needle_bytes.as_slice())
            .map(|at| (needle, at))
    })
}

/// No cell of any table and no byte of the database's files holds any of `p`'s
/// identifiers; `still` (the other customer) is still there.
fn assert_forgotten(site: &Site, p: &Person, still: &Person) {
    let needles = p.identifiers();
    let cells = every_cell(site);
    for (table, column, text) in &cells {
        if let Some((found, _)) = first_found(text.as_bytes(), &needles) {
            panic!("{table}.{column} still holds {found:?}: {text}");
        }
    }
    let others = still.identifiers();
    for kept in &others {
        assert!(
            cells
                .iter()
                .any(|(_, _, text)| text.contains(kept.as_str())),
            "{kept} of the other customer is gone"
        );
    }
    // The erasure vacuumed the file and emptied the WAL.
    let db = site.db();
    let mut files = 0;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = format!("{}{suffix}", db.display());
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        files += 1;
        if let Some((found, at)) = first_found(&bytes, &needles) {
            panic!("the file {path} still holds the bytes of {found:?} at offset {at}");
        }
    }
    assert!(files >= 1);
    let all = std::fs::read(&db).unwrap();
    assert!(
        first_found(&all, &others).is_some(),
        "the database file should hold the other customer"
    );
}

#[test]
fn an_export_holds_everything_and_an_erasure_from_the_command_line_leaves_nothing() {
    let (site, server) = shop();
    let code = seed_both(&site, &server);
    let p = &ZAINAB;

    // The export, asked by the email in another case.
    let reply = export_http(&server, &p.email.to_uppercase());
    let export = reply.json();
    assert_eq!(reply.status, 200, "{export}");
    let subject = &export["subject"];
    assert_eq!(subject["userIds"], json!([p.user_id]));
    assert_eq!(subject["emails"], json!([p.email.to_lowercase()]));
    assert_eq!(subject["phones"], json!([p.phone_normalised]));
    assert_eq!(subject["anonymousIds"], json!([p.laptop, p.phone_device]));
    let profile_id = subject["profileId"].as_i64().unwrap();
    assert_eq!(export["profile"]["profileId"], profile_id);
    let reasons: Vec<&str> = export["profile"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["identify", "traits.email", "traits.phone", "same message"],
        "{}",
        export["profile"]
    );

    // Every stored event of both devices, raw.
    let events = rows(&export, "events");
    assert_eq!(events.len(), 7, "{events:?}");
    let identify = events.iter().find(|e| e["type"] == "identify").unwrap();
    assert_eq!(identify["body"]["traits"]["birthday"], p.birthday);
    assert_eq!(identify["body"]["traits"]["name"], p.name);
    assert_eq!(identify["body"]["traits"]["phone"], p.phone);
    assert_eq!(events[0]["body"]["context"]["ip"], p.ip);
    assert_eq!(events[0]["anonymous_id"], p.laptop);
    assert!(events.iter().any(|e| e["anonymous_id"] == p.phone_device));

    let consents = rows(&export, "consents");
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0]["consent_id"], p.consent_id);
    assert_eq!(consents[0]["marketing"], 1);
    assert_eq!(consents[0]["body"]["userId"], p.user_id);

    // The ledger: the online order, the POS sale and the redemption.
    let ledger = rows(&export, "loyalty_ledger");
    let points: Vec<(Value, Value, Value)> = ledger
        .iter()
        .map(|e| {
            (
                e["kind"].clone(),
                e["order_id"].clone(),
                e["points"].clone(),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            (json!("order"), json!(p.order_id), json!(1200)),
            (
                json!("order"),
                json!(format!("pos:{}", p.sale_id)),
                json!(100)
            ),
            (json!("redemption"), Value::Null, json!(-500)),
        ]
    );
    let coupons = rows(&export, "loyalty_coupons");
    assert_eq!(coupons.len(), 1);
    assert_eq!(coupons[0]["code"], code);
    assert_eq!(coupons[0]["reward_id"], "five-off");
    assert_eq!(coupons[0]["reward"]["cost"], 500);

    // The chat, its messages and its rating.
    let conversations = rows(&export, "chat_conversations");
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["user_id"], p.user_id);
    assert_eq!(conversations[0]["email"], p.email.to_lowercase());
    assert_eq!(conversations[0]["csat"], 4);
    assert_eq!(conversations[0]["csat_comment"], p.comment);
    assert_eq!(conversations[0]["context"]["title"], "Tea");
    let texts: Vec<&str> = rows(&export, "chat_messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            format!("Do you sell {}?", p.phrase),
            format!("Yes {}, we do.", p.name)
        ]
    );
    assert_eq!(
        rows(&export, "chat_reads").len(),
        0,
        "the shopper read nothing"
    );

    // The CRM's scores.
    let scores = rows(&export, "crm_customers");
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0]["name"], p.name);
    assert_eq!(scores[0]["email"], p.email.to_lowercase());
    assert_eq!(scores[0]["phone"], p.phone_normalised);
    assert_eq!(scores[0]["monetary"], 128_000);
    assert_eq!(scores[0]["orders"], 2);
    assert_eq!(rows(&export, "identities").len(), 5);

    // The webhooks fired about them, with their contact details.
    let deliveries = rows(&export, "trigger_deliveries");
    let kinds: Vec<&str> = deliveries
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["first_purchase", "tier_change"]);
    assert_eq!(
        deliveries[0]["body"]["customer"]["email"],
        p.email.to_lowercase()
    );
    assert_eq!(deliveries[0]["body"]["customer"]["name"], p.name);
    assert!(!rows(&export, "trigger_attempts").is_empty());
    assert_eq!(
        rows(&export, "trigger_tiers"),
        &vec![
            json!({ "customer": p.user_id, "tier": "silver", "changes": 1, "seen_at": rows(&export, "trigger_tiers")[0]["seen_at"] })
        ]
    );

    // The command line writes the same document, asked by the phone as typed.
    let out = site.dir.path().join("zainab.json");
    let (ok, stdout, stderr) = run(
        &["customer", "export", p.phone],
        &site.db(),
        &["--out", out.to_str().unwrap()],
    );
    assert!(ok, "{stdout}\n{stderr}");
    let from_cli: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(stable(from_cli), stable(export.clone()));
    let (ok, stdout, _) = run(&["customer", "export", p.user_id], &site.db(), &[]);
    assert!(ok);
    let to_stdout: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stable(to_stdout), stable(export));

    let bilal_before = stable(export_http(&server, BILAL.user_id).json());
    let books = ledger_totals(&site);
    let events_before = site.events();

    // Without --yes and without a terminal to ask on, nothing happens.
    let (ok, _, stderr) = run(&["customer", "erase", p.user_id], &site.db(), &[]);
    assert!(!ok);
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(site.events(), events_before);

    // Erased by the command line while the server runs.
    let (ok, stdout, stderr) = run(&["customer", "erase", p.user_id], &site.db(), &["--yes"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("| events | deleted | 7 |"), "{stdout}");
    assert!(
        stdout.contains("| loyalty_ledger | anonymised | 3 |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| consents | pseudonymised | 1 |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| trigger_deliveries | deleted | 2 |"),
        "{stdout}"
    );
    assert!(stdout.contains("| identities | deleted | 5 |"), "{stdout}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(site.events(), events_before - 7);

    assert_forgotten(&site, p, &BILAL);
    assert_eq!(ledger_totals(&site), books, "the books must still add up");
    assert_eq!(
        stable(export_http(&server, BILAL.user_id).json()),
        bilal_before
    );

    // The consent proof stays, findable with the key the erasure printed.
    let key_line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("consent proof key: "))
        .unwrap();
    let key: Vec<u8> = (0..key_line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&key_line[i..i + 2], 16).unwrap())
        .collect();
    let proof = site.rows(&format!(
        "SELECT consent_id, marketing, personalization, user_id FROM consents WHERE user_id = '{}'",
        pseudonym(&key, "user_id", p.user_id)
    ));
    assert_eq!(
        proof,
        [json!({
            "consent_id": pseudonym(&key, "consent_id", p.consent_id),
            "marketing": 1, "personalization": 0,
            "user_id": pseudonym(&key, "user_id", p.user_id),
        })]
    );
    let history = server.get_with(
        &format!(
            "/v1/consent/{}",
            pseudonym(&key, "consent_id", p.consent_id)
        ),
        &[("authorization", &bearer())],
    );
    let history = history.json();
    assert_eq!(
        history["versions"][0]["categories"]["analytics"], true,
        "{history}"
    );

    // The agents' side stays: the conversation's rating and the reply's author.
    let kept = site.rows(
        "SELECT c.status, c.csat, c.user_id, c.email, m.author, m.text
         FROM chat_conversations c JOIN chat_messages m ON m.conversation_id = c.id
         WHERE c.anonymous_id LIKE 'erased:%' ORDER BY m.seq",
    );
    assert_eq!(
        kept,
        [
            json!({ "status": "closed", "csat": 4, "user_id": null, "email": null, "author": "shopper", "text": "[erased]" }),
            json!({ "status": "closed", "csat": 4, "user_id": null, "email": null, "author": "agent", "text": "[erased]" }),
        ]
    );
    // The coupon still works at checkout, for nobody in particular.
    let check = merchant_post(&server, "/v1/coupons/validate", &json!({ "code": code }));
    assert_eq!(check["valid"], true, "{check}");
    assert!(check["userId"].as_str().unwrap().starts_with("erased:"));

    // The log says what was done, not to whom.
    let log =
        site.rows("SELECT requested_by, finished_at IS NOT NULL AS finished, tables FROM erasures");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["requested_by"], "cli");
    assert_eq!(log[0]["finished"], 1);
    let tables: Value = serde_json::from_str(log[0]["tables"].as_str().unwrap()).unwrap();
    assert!(tables
        .as_array()
        .unwrap()
        .contains(&json!({ "table": "events", "action": "deleted", "rows": 7 })));

    // The customer is gone from the CRM, by every key.
    for key in [p.user_id.to_owned(), profile_id.to_string()] {
        let reply = server.get_with(
            &format!("/v1/crm/customers/{key}"),
            &[("authorization", &bearer())],
        );
        assert_eq!(reply.status, 404, "{key}");
    }

    // A second erasure, or one of someone never known, has nothing to erase.
    for key in [p.user_id, p.email, "nobody-at-all"] {
        let (ok, stdout, stderr) = run(&["customer", "erase", key], &site.db(), &["--yes"]);
        assert!(!ok, "{key}: {stdout}");
        assert!(stderr.contains("nothing to erase"), "{stderr}");
        assert!(stderr.contains(key), "{stderr}");
    }
    let (ok, _, stderr) = run(&["customer", "export", p.user_id], &site.db(), &[]);
    assert!(!ok);
    assert!(stderr.contains("no customer has"), "{stderr}");
    assert_eq!(site.count("SELECT COUNT(*) FROM erasures"), 1);
}

#[test]
fn the_endpoints_need_merchant_auth_and_erase_once() {
    let (site, server) = shop();
    seed_both(&site, &server);
    let p = &ZAINAB;
    let path = format!("/v1/crm/customers/{}", p.user_id);
    let export_path = format!("{path}/export");

    // Nobody, and a plain agent, may read or erase.
    assert_eq!(server.get(&export_path).status, 401);
    assert_eq!(server.send("DELETE", &path, &[], None).status, 401);
    let wrong = format!("Bearer not-the-{SERVER_KEY}");
    assert_eq!(
        server
            .send("DELETE", &path, &[("authorization", &wrong)], None)
            .status,
        401
    );
    let agent = sign_in(&server, AGENT);
    assert_eq!(
        server
            .send("DELETE", &path, &[("cookie", &agent)], None)
            .status,
        403
    );
    assert_eq!(
        server.get_with(&export_path, &[("cookie", &agent)]).status,
        403
    );
    assert_eq!(
        server
            .send("PUT", &export_path, &[("authorization", &bearer())], None)
            .status,
        405
    );

    let owner = sign_in(&server, OWNER);
    let export = server.get_with(&export_path, &[("cookie", &owner)]).json();
    assert_eq!(export["subject"]["userIds"], json!([p.user_id]));
    let bilal_before = stable(export_http(&server, BILAL.user_id).json());
    let books = ledger_totals(&site);

    // A merchant erases by the anonymous id of the phone.
    let reply = server.send(
        "DELETE",
        &format!("/v1/crm/customers/{}", p.phone_device),
        &[("cookie", &owner)],
        None,
    );
    let erased = reply.json();
    assert_eq!(reply.status, 200, "{erased}");
    assert_eq!(erased["scrubbed"], true);
    let key = erased["consentProofKey"].as_str().unwrap();
    assert_eq!(key.len(), 64);
    let done: Vec<(String, String, i64)> = erased["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_owned(),
                t["action"].as_str().unwrap().to_owned(),
                t["rows"].as_i64().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("crm_customers", "deleted", 1),
        ("trigger_deliveries", "deleted", 2),
        ("trigger_tiers", "deleted", 1),
        ("events", "deleted", 7),
        ("consents", "pseudonymised", 1),
        ("chat_messages", "anonymised", 2),
        ("chat_conversations", "anonymised", 1),
        ("loyalty_coupons", "anonymised", 1),
        ("loyalty_ledger", "anonymised", 3),
        ("identity_links", "deleted", 4),
        ("identities", "deleted", 5),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned(), expected.2);
        assert!(done.contains(&expected), "{expected:?} in {done:?}");
    }
    let log = site.rows("SELECT requested_by FROM erasures");
    assert!(
        log[0]["requested_by"]
            .as_str()
            .unwrap()
            .starts_with("staff "),
        "{log:?}"
    );

    // Checked while the server still runs: the WAL was emptied.
    assert_forgotten(&site, p, &BILAL);
    assert_eq!(ledger_totals(&site), books);
    assert_eq!(
        stable(export_http(&server, BILAL.user_id).json()),
        bilal_before
    );

    // Gone everywhere; a second erasure and an unknown key have nothing to erase.
    let auth = [("authorization", bearer())];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(n, v)| (*n, v.as_str())).collect();
    assert!(server.get_with(&path, &auth).error(404).contains(p.user_id));
    assert!(export_http(&server, p.user_id)
        .error(404)
        .contains("no customer has"));
    for key in [p.user_id, p.laptop, "nobody-at-all"] {
        let reply = server.send("DELETE", &format!("/v1/crm/customers/{key}"), &auth, None);
        let error = reply.error(404);
        assert!(error.starts_with("nothing to erase"), "{error}");
        assert!(error.contains(key), "{error}");
    }
    assert_eq!(site.count("SELECT COUNT(*) FROM erasures"), 1);
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");
    assert_no_panic(&stderr);
}
