//! Right-time triggers over real HTTP against a real SQLite file, with a real webhook
//! receiver on 127.0.0.1: what fires, once, signed, only with consent, and how a
//! failing receiver is retried. Time moves with `triggers run --now`, never by
//! sleeping.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use souk::core::time::iso8601;

const SERVER_KEY: &str = "merchant-secret-key";
const MINUTE: u64 = 60_000;
const DAY: u64 = 86_400_000;

/// The proxy variables a developer's shell may hold: the receiver is local.
const PROXIES: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// One webhook as the receiver got it.
#[derive(Debug, Clone)]
struct Hook {
    headers: HashMap<String, String>,
    body: String,
}

impl Hook {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Checks `Souk-Signature` against `secret`, as a merchant's receiver would.
    fn verify(&self, secret: &str) {
        let signature = self.header("souk-signature");
        let (t, v1) = signature
            .split_once(',')
            .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1.strip_prefix("v1=")?)))
            .unwrap_or_else(|| panic!("malformed signature {signature}"));
        let t: u64 = t.parse().unwrap();
        let age = (now_ms() / 1000).abs_diff(t);
        assert!(age < 60, "signed {age} s ago");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{}", self.body).as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, expected, "the signature does not verify");
    }
}

/// A webhook receiver on a free port of 127.0.0.1: it answers the statuses given, in
/// order, then the last one forever, and keeps what it got.
struct Receiver {
    url: String,
    hooks: Arc<Mutex<Vec<Hook>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hooks/souk", listener.local_addr().unwrap());
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut statuses = statuses.to_vec();
        if statuses.is_empty() {
            statuses.push(200);
        }
        let thread = thread::spawn({
            let (hooks, stop) = (Arc::clone(&hooks), Arc::clone(&stop));
            move || {
                let mut answered = 0;
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let status = statuses[answered.min(statuses.len() - 1)];
                            if let Some(hook) = answer(stream, status) {
                                hooks.lock().unwrap().push(hook);
                                answered += 1;
                            }
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            }
        });
        Receiver {
            url,
            hooks,
            stop,
            thread: Some(thread),
        }
    }

    fn hooks(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request from `stream` and answers `status`.
fn answer(stream: TcpStream, status: u16) -> Option<Hook> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(LIMIT)).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    assert!(line.starts_with("POST /hooks/souk "), "{line}");
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} Answer\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    stream.flush().ok()?;
    Some(Hook {
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

/// `souk-server serve` with the server key, a trigger pass every `every`, and
/// retries after 20 ms.
fn start(site: &Site, every: &str) -> Server {
    let mut cmd = site.command();
    cmd.args(["--server-key", SERVER_KEY, "--triggers-every", every])
        .args(["--triggers-retry-base", "20ms"]);
    for proxy in PROXIES {
        cmd.env_remove(proxy);
    }
    Server::start(cmd)
}

fn bearer() -> String {
    format!("Bearer {SERVER_KEY}")
}

/// A merchant request with the server key and a JSON body.
fn merchant(server: &Server, method: &str, path: &str, body: Option<Value>) -> Reply {
    let body = body.map(|b| b.to_string());
    server.send(
        method,
        path,
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        body.as_deref().map(str::as_bytes),
    )
}

/// Configures trigger `kind`, which must succeed; answers the trigger.
fn configure(server: &Server, kind: &str, body: Value) -> Value {
    let reply = merchant(
        server,
        "PUT",
        &format!("/v1/crm/triggers/{kind}"),
        Some(body),
    );
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    answer
}

/// `souk-server triggers run` as of `now_ms`; answers its standard output.
fn run(site: &Site, now_ms: u64, extra: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
    cmd.args(["triggers", "run", "--db"])
        .arg(site.db())
        .args(["--now", &iso8601(now_ms), "--retry-base", "20ms"])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("SOUK_LOYALTY_RULES");
    for proxy in PROXIES {
        cmd.env_remove(proxy);
    }
    let (status, stdout, stderr) = run_with_output(cmd);
    assert_no_panic(&stderr);
    assert!(status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The keys a run's output says fired.
fn fired(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("fired "))
        .map(|l| l.split(' ').nth(1).unwrap().to_owned())
        .collect()
}

fn send(server: &Server, messages: &[Value]) {
    let reply = server.post_json("/v1/batch", &json!({ "batch": messages }));
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    assert_eq!(answer.get("rejected"), None, "{answer}");
}

fn identify(id: &str, at_ms: u64, anon: &str, user: &str, traits: Value) -> Value {
    json!({
        "type": "identify", "messageId": id, "anonymousId": anon, "userId": user,
        "timestamp": iso8601(at_ms), "traits": traits,
    })
}

fn added(id: &str, at_ms: u64, anon: &str, user: Option<&str>, product: &str, price: f64) -> Value {
    let mut m = json!({
        "type": "track", "event": "Product Added", "messageId": id, "anonymousId": anon,
        "timestamp": iso8601(at_ms),
        "properties": { "product_id": product, "name": format!("The {product}"), "price": price, "currency": "SAR", "quantity": 1 },
    });
    if let Some(user) = user {
        m["userId"] = json!(user);
    }
    m
}

/// Posts version `at_ms` of consent record `id` with `marketing` and `functional`.
fn consent(
    server: &Server,
    id: &str,
    anon: &str,
    user: Option<&str>,
    at_ms: u64,
    marketing: bool,
    functional: bool,
) {
    let record = json!({
        "consentId": id, "anonymousId": anon, "userId": user, "revision": "1",
        "language": "en", "source": "banner",
        "categories": { "necessary": true, "functional": functional, "analytics": true,
                        "personalization": false, "marketing": marketing },
        "firstAt": iso8601(at_ms), "updatedAt": iso8601(at_ms), "gpc": false,
    });
    let reply = server.post_json("/v1/consent", &record);
    assert_eq!(reply.status, 200, "{}", reply.json());
}

fn order(server: &Server, order_id: &str, user: &str, subtotal: i64, at_ms: u64) {
    let body = json!({ "orderId": order_id, "userId": user, "subtotal": subtotal, "currency": "SAR", "at": iso8601(at_ms) });
    let reply = merchant(server, "POST", "/v1/orders", Some(body));
    assert_eq!(reply.status, 201, "{}", reply.json());
}

fn profile_of(server: &Server, user: &str) -> i64 {
    let reply = merchant(server, "GET", &format!("/v1/crm/customers/{user}"), None);
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    answer["profileId"].as_i64().unwrap()
}

fn log(server: &Server, query: &str) -> Value {
    let reply = merchant(server, "GET", &format!("/v1/crm/triggers/log{query}"), None);
    let answer = reply.json();
    assert_eq!(reply.status, 200, "{answer}");
    answer
}

/// A shopper who consents to marketing (and functional), logs in and is named.
fn customer(server: &Server, user: &str, anon: &str, at_ms: u64) {
    consent(
        server,
        &format!("c-{user}"),
        anon,
        Some(user),
        at_ms,
        true,
        true,
    );
    send(
        server,
        &[identify(
            &format!("id-{user}"),
            at_ms,
            anon,
            user,
            json!({ "name": format!("Customer {user}"), "email": format!("{user}@shop.example") }),
        )],
    );
}

#[test]
fn an_abandoned_cart_fires_one_signed_webhook_however_many_passes() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[200]);
    let trigger = configure(
        &server,
        "abandoned_cart",
        json!({ "enabled": true, "minutes": 30, "url": receiver.url }),
    );
    let secret = trigger["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    assert_eq!(trigger["consent"], "marketing");
    // The list shows the secret masked, never whole.
    let listed = merchant(&server, "GET", "/v1/crm/triggers", None).json();
    let cart = &listed["triggers"][0];
    assert_eq!(
        (&cart["kind"], &cart["enabled"]),
        (&json!("abandoned_cart"), &json!(true))
    );
    assert_eq!(cart["secret"], format!("whsec_…{}", &secret[66..]));

    let t0 = now_ms();
    customer(&server, "noor", "anon-n", t0);
    send(
        &server,
        &[
            added("add-1", t0 + 1000, "anon-n", Some("noor"), "tea", 12.5),
            added("add-2", t0 + 2000, "anon-n", Some("noor"), "pot", 40.0),
        ],
    );
    let profile = profile_of(&server, "noor");
    let key = format!("abandoned_cart:{profile}:add-2");

    // Not yet: the cart has been idle 29 minutes.
    assert!(fired(&run(&site, t0 + 2000 + 29 * MINUTE, &[])).is_empty());
    assert!(receiver.hooks().is_empty());
    // Idle for 30 minutes: one webhook. Two passes at once fire it once between them.
    let at = t0 + 2000 + 31 * MINUTE;
    let (a, b) = thread::scope(|s| {
        let a = s.spawn(|| run(&site, at, &[]));
        let b = s.spawn(|| run(&site, at, &[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!([fired(&a), fired(&b)].concat(), [key.as_str()], "{a}\n{b}");
    // Later passes, and a restart of the server, fire nothing more.
    assert!(fired(&run(&site, at + 10 * MINUTE, &[])).is_empty());
    drop(server);
    let server = start(&site, "1h");
    assert!(fired(&run(&site, at + 2 * 3_600_000, &[])).is_empty());

    let hooks = receiver.hooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let hook = &hooks[0];
    hook.verify(&secret);
    assert_eq!(hook.header("idempotency-key"), key);
    assert_eq!(hook.header("souk-event"), "abandoned_cart");
    assert_eq!(hook.header("content-type"), "application/json");
    let body = hook.json();
    assert_eq!(body["kind"], "abandoned_cart");
    assert_eq!(body["idempotencyKey"], key);
    assert_eq!(
        body["customer"],
        json!({ "profileId": profile, "userId": "noor", "email": "noor@shop.example",
                "phone": null, "name": "Customer noor" })
    );
    assert_eq!(body["consent"]["category"], "marketing");
    let details = &body["details"];
    assert_eq!(details["currency"], "SAR");
    assert_eq!(details["value"], 5250, "{details}");
    assert_eq!(details["minutes"], 30);
    assert_eq!(details["abandonedAt"], iso8601(t0 + 2000 + 30 * MINUTE));
    let products: Vec<(&str, i64, i64)> = details["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["productId"].as_str().unwrap(),
                p["price"].as_i64().unwrap(),
                p["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(products, [("tea", 1250, 1), ("pot", 4000, 1)]);

    // The delivery log has it, delivered on the first attempt.
    let logged = log(&server, "?kind=abandoned_cart");
    assert_eq!(logged["total"], 1, "{logged}");
    let delivery = &logged["deliveries"][0];
    assert_eq!(
        (&delivery["key"], &delivery["state"]),
        (&json!(key), &json!("delivered"))
    );
    assert_eq!(delivery["body"], body);
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (&attempts[0]["attempt"], &attempts[0]["status"]),
        (&json!(1), &json!(200))
    );
    assert_eq!(attempts[0]["nextRetryAt"], Value::Null);
    assert!(attempts[0]["durationMs"].as_i64().unwrap() >= 0);

    // Back to the shop: a new cart is a new situation, with a key of its own.
    send(
        &server,
        &[added(
            "add-3",
            at + 3 * 3_600_000,
            "anon-n",
            Some("noor"),
            "cup",
            9.0,
        )],
    );
    let later = at + 3 * 3_600_000 + 31 * MINUTE;
    assert_eq!(
        fired(&run(&site, later, &[])),
        [format!("abandoned_cart:{profile}:add-3")]
    );
    assert_eq!(receiver.hooks().len(), 2);
}

#[test]
fn without_marketing_consent_nothing_fires_and_nothing_is_logged() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[200]);
    configure(
        &server,
        "abandoned_cart",
        json!({ "enabled": true, "minutes": 30, "url": receiver.url }),
    );
    let t0 = now_ms();
    let named = |user: &str| json!({ "email": format!("{user}@shop.example") });
    // Said no to marketing.
    consent(&server, "c-a", "anon-a", Some("amal"), t0, false, true);
    // Never decided: no record is no consent.
    // Said yes on the laptop, then no on the phone: the latest decision counts.
    consent(
        &server,
        "c-b-laptop",
        "anon-b1",
        Some("badr"),
        t0,
        true,
        true,
    );
    consent(
        &server,
        "c-b-phone",
        "anon-b2",
        Some("badr"),
        t0 + 500,
        false,
        true,
    );
    // Said yes to everything but marketing.
    consent(&server, "c-d", "anon-d", Some("dana"), t0, false, true);
    send(
        &server,
        &[
            identify("i-a", t0, "anon-a", "amal", named("amal")),
            identify("i-c", t0, "anon-c", "caro", named("caro")),
            identify("i-b1", t0, "anon-b1", "badr", named("badr")),
            identify("i-b2", t0, "anon-b2", "badr", named("badr")),
            identify("i-d", t0, "anon-d", "dana", named("dana")),
            added("add-a", t0 + 1000, "anon-a", Some("amal"), "tea", 12.5),
            added("add-c", t0 + 1000, "anon-c", Some("caro"), "tea", 12.5),
            added("add-b", t0 + 1000, "anon-b1", Some("badr"), "tea", 12.5),
            added("add-d", t0 + 1000, "anon-d", Some("dana"), "tea", 12.5),
        ],
    );
    let at = t0 + 1000 + 31 * MINUTE;
    let stdout = run(&site, at, &[]);
    assert!(fired(&stdout).is_empty(), "{stdout}");
    assert!(stdout.contains("0 fired"), "{stdout}");
    assert!(receiver.hooks().is_empty());
    assert_eq!(log(&server, "")["total"], 0);
    assert_eq!(site.count("SELECT COUNT(*) FROM trigger_deliveries"), 0);

    // Badr says yes again: now his cart, still fresh, fires.
    consent(
        &server,
        "c-b-phone",
        "anon-b2",
        Some("badr"),
        t0 + 2000,
        true,
        true,
    );
    let badr = profile_of(&server, "badr");
    assert_eq!(
        fired(&run(&site, at + MINUTE, &[])),
        [format!("abandoned_cart:{badr}:add-b")]
    );
    assert_eq!(receiver.hooks().len(), 1);
}

#[test]
fn consent_withdrawn_before_a_retry_stops_the_webhook() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[503]);
    configure(
        &server,
        "first_purchase",
        json!({ "enabled": true, "url": receiver.url }),
    );
    let t0 = now_ms();
    customer(&server, "rana", "anon-r", t0);
    order(&server, "o-1", "rana", 5000, t0 + 1000);
    let first = run(&site, t0 + 2000, &[]);
    assert!(first.contains("retry first_purchase:"), "{first}");
    assert_eq!(receiver.hooks().len(), 1);

    // She withdraws on another device before the retry is due.
    consent(
        &server,
        "c-rana-2",
        "anon-r2",
        Some("rana"),
        t0 + 3000,
        false,
        true,
    );
    thread::sleep(Duration::from_millis(100));
    let second = run(&site, t0 + 4000, &[]);
    assert!(second.contains("failed first_purchase:"), "{second}");
    assert_eq!(receiver.hooks().len(), 1, "nothing more is sent");
    let delivery = &log(&server, "")["deliveries"][0];
    assert_eq!(delivery["state"], "failed");
    assert!(
        delivery["lastError"].as_str().unwrap().contains("consent"),
        "{delivery}"
    );
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
}

#[test]
fn a_failing_receiver_is_retried_with_the_same_key_until_it_answers() {
    let site = Site::new();
    // The server evaluates every 100 ms and retries after 20 ms, 40 ms, …
    let server = start(&site, "100ms");
    let receiver = Receiver::start(&[500, 500, 200]);
    let secret = configure(
        &server,
        "first_purchase",
        json!({ "enabled": true, "url": receiver.url }),
    )["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let t0 = now_ms();
    customer(&server, "sara", "anon-s", t0);
    order(&server, "o-1", "sara", 7500, t0);
    let profile = profile_of(&server, "sara");
    let key = format!("first_purchase:{profile}:o-1");

    let deadline = Instant::now() + LIMIT;
    let delivery = loop {
        let logged = log(&server, "?kind=first_purchase&state=delivered");
        if logged["total"] == 1 {
            break logged["deliveries"][0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "not delivered: {}",
            log(&server, "")
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(delivery["key"], key);
    let attempts = delivery["attempts"].as_array().unwrap();
    let statuses: Vec<&Value> = attempts.iter().map(|a| &a["status"]).collect();
    assert_eq!(
        statuses,
        [&json!(500), &json!(500), &json!(200)],
        "{delivery}"
    );
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt["attempt"], n as i64 + 1);
        let retry = attempt["nextRetryAt"].as_str();
        if n < 2 {
            assert!(
                retry.unwrap() > attempt["at"].as_str().unwrap(),
                "{attempt}"
            );
        } else {
            assert_eq!(retry, None);
        }
    }

    let hooks = receiver.hooks();
    assert_eq!(hooks.len(), 3);
    for hook in &hooks {
        assert_eq!(hook.header("idempotency-key"), key);
        assert_eq!(
            hook.body, hooks[0].body,
            "every attempt sends the same body"
        );
        hook.verify(&secret);
    }
    let body = hooks[0].json();
    assert_eq!(body["details"]["order"]["orderId"], "o-1");
    assert_eq!(body["details"]["order"]["value"], 7500);
    // Delivered once: later passes leave it be.
    thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.hooks().len(), 3);
    assert_eq!(log(&server, "")["total"], 1);
}

#[test]
fn a_receiver_that_refuses_is_not_retried() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[410]);
    configure(
        &server,
        "first_purchase",
        json!({ "enabled": true, "url": receiver.url }),
    );
    let t0 = now_ms();
    customer(&server, "lina", "anon-l", t0);
    order(&server, "o-1", "lina", 5000, t0 + 1000);
    let stdout = run(&site, t0 + 2000, &["--wait", "2s"]);
    assert!(stdout.contains("failed first_purchase:"), "{stdout}");
    run(&site, t0 + 3000, &[]);
    assert_eq!(receiver.hooks().len(), 1);
    let delivery = &log(&server, "?state=failed")["deliveries"][0];
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
    assert!(
        delivery["lastError"]
            .as_str()
            .unwrap()
            .contains("HTTP 410: refused"),
        "{delivery}"
    );
}

#[test]
fn a_first_purchase_fires_once_and_only_for_a_first_order() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[200]);
    let t0 = now_ms();
    // An old customer: her first order was placed before the trigger was switched on.
    customer(&server, "huda", "anon-h", t0 - DAY);
    order(&server, "h-1", "huda", 5000, t0 - DAY);
    configure(
        &server,
        "first_purchase",
        json!({ "enabled": true, "url": receiver.url }),
    );

    let t1 = now_ms() + 1000;
    customer(&server, "omar", "anon-o", t1);
    order(&server, "o-1", "omar", 3000, t1);
    order(&server, "h-2", "huda", 3000, t1);
    let omar = profile_of(&server, "omar");
    assert_eq!(
        fired(&run(&site, t1 + MINUTE, &[])),
        [format!("first_purchase:{omar}:o-1")]
    );
    // His second order is not a first.
    order(&server, "o-2", "omar", 3000, t1 + 2 * MINUTE);
    assert!(fired(&run(&site, t1 + 3 * MINUTE, &[])).is_empty());
    let hooks = receiver.hooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].json()["details"]["order"]["channel"], "online");
}

#[test]
fn win_back_fires_once_per_last_order_after_the_days_without_one() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[200]);
    configure(
        &server,
        "win_back",
        json!({ "enabled": true, "days": 30, "url": receiver.url }),
    );
    let t0 = now_ms() + 1000;
    customer(&server, "zaid", "anon-z", t0);
    order(&server, "o-1", "zaid", 5000, t0);
    let profile = profile_of(&server, "zaid");
    assert!(fired(&run(&site, t0 + 29 * DAY, &[])).is_empty());
    assert_eq!(
        fired(&run(&site, t0 + 31 * DAY, &[])),
        [format!("win_back:{profile}:o-1")]
    );
    assert!(fired(&run(&site, t0 + 32 * DAY, &[])).is_empty());
    let body = receiver.hooks()[0].json();
    assert_eq!(body["details"]["daysSinceLastOrder"], 31);
    assert_eq!(body["details"]["lastOrder"]["orderId"], "o-1");

    // He came back, and lapsed again: a new last order, a new webhook.
    order(&server, "o-2", "zaid", 5000, t0 + 35 * DAY);
    assert!(fired(&run(&site, t0 + 60 * DAY, &[])).is_empty());
    assert_eq!(
        fired(&run(&site, t0 + 66 * DAY, &[])),
        [format!("win_back:{profile}:o-2")]
    );
    assert_eq!(receiver.hooks().len(), 2);
}

#[test]
fn a_tier_change_fires_up_and_down_once_each() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[200]);
    let trigger = configure(
        &server,
        "tier_change",
        json!({ "enabled": true, "url": receiver.url }),
    );
    assert_eq!(trigger["consent"], "functional");
    let t0 = now_ms() + 1000;
    customer(&server, "maha", "anon-m", t0);
    // Only functional consent: enough for tier_change, which is a service message.
    consent(
        &server,
        "c-maha",
        "anon-m",
        Some("maha"),
        t0 + 1,
        false,
        true,
    );
    // A customer without functional consent moves up too, silently.
    consent(&server, "c-nada", "anon-x", Some("nada"), t0, true, false);
    send(
        &server,
        &[identify(
            "i-x",
            t0,
            "anon-x",
            "nada",
            json!({ "email": "nada@shop.example" }),
        )],
    );
    // A small order leaves Maha bronze; a big one makes her silver (from 500.00).
    order(&server, "o-1", "maha", 10_000, t0);
    assert!(fired(&run(&site, t0 + MINUTE, &[])).is_empty());
    order(&server, "o-2", "maha", 45_000, t0 + 2 * MINUTE);
    order(&server, "x-1", "nada", 60_000, t0 + 2 * MINUTE);
    let profile = profile_of(&server, "maha");
    assert_eq!(
        fired(&run(&site, t0 + 3 * MINUTE, &[])),
        [format!("tier_change:{profile}:1")]
    );
    assert!(fired(&run(&site, t0 + 4 * MINUTE, &[])).is_empty());
    // A year on, the spend has left the window and the grace has run out: bronze.
    assert_eq!(
        fired(&run(&site, t0 + 400 * DAY, &[])),
        [format!("tier_change:{profile}:2")]
    );
    assert!(fired(&run(&site, t0 + 401 * DAY, &[])).is_empty());

    let hooks = receiver.hooks();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let up = hooks[0].json();
    assert_eq!(up["details"]["from"]["id"], "bronze");
    assert_eq!(up["details"]["to"]["id"], "silver");
    assert_eq!(up["details"]["direction"], "up");
    assert_eq!(up["details"]["to"]["name"]["en"], "Silver");
    assert_eq!(up["consent"]["category"], "functional");
    let down = hooks[1].json();
    assert_eq!(
        (
            &down["details"]["from"]["id"],
            &down["details"]["to"]["id"],
            &down["details"]["direction"]
        ),
        (&json!("silver"), &json!("bronze"), &json!("down"))
    );
}

#[test]
fn a_birthday_fires_on_the_day_once_a_year() {
    let site = Site::new();
    let server = start(&site, "1h");
    let receiver = Receiver::start(&[200]);
    configure(
        &server,
        "birthday",
        json!({ "enabled": true, "days": 0, "url": receiver.url }),
    );
    let t0 = now_ms();
    // Her birthday is ten days from now, in 1992 (a leap year: any day exists).
    let day_ms = (t0 / DAY + 10) * DAY;
    let date = &iso8601(day_ms)[..10];
    let year: i64 = date[..4].parse().unwrap();
    let birthday = format!("1992{}", &date[4..]);
    consent(&server, "c-yara", "anon-y", Some("yara"), t0, true, true);
    send(
        &server,
        &[identify(
            "i-y",
            t0,
            "anon-y",
            "yara",
            json!({ "firstName": "Yara", "email": "yara@shop.example", "birthday": birthday }),
        )],
    );
    // Someone without a birthday trait.
    customer(&server, "sami", "anon-sa", t0);
    let profile = profile_of(&server, "yara");
    assert!(fired(&run(&site, day_ms - 3_600_000, &[])).is_empty());
    assert_eq!(
        fired(&run(&site, day_ms + 9 * 3_600_000, &[])),
        [format!("birthday:{profile}:{year}")]
    );
    assert!(fired(&run(&site, day_ms + 20 * 3_600_000, &[])).is_empty());
    assert!(fired(&run(&site, day_ms + DAY + 3_600_000, &[])).is_empty());
    let body = receiver.hooks()[0].json();
    assert_eq!(body["details"]["date"], date);
    assert_eq!(body["details"]["age"], year - 1992);
    assert_eq!(body["details"]["loyaltyBonusPoints"], 200);
    assert_eq!(body["customer"]["name"], "Yara");
    assert_eq!(receiver.hooks().len(), 1);
}

#[test]
fn bad_configuration_is_refused_with_what_is_wrong() {
    let site = Site::new();
    let server = start(&site, "1h");
    let put = |kind: &str, body: Value| {
        merchant(
            &server,
            "PUT",
            &format!("/v1/crm/triggers/{kind}"),
            Some(body),
        )
    };
    let cases = [
        (
            "abandoned_cart",
            json!({ "url": "ftp://shop.example/hook" }),
            "url: must start with http:// or https://",
        ),
        (
            "abandoned_cart",
            json!({ "url": "https://user:pw@shop.example/" }),
            "url: must not hold a user name or password",
        ),
        (
            "abandoned_cart",
            json!({ "url": 5 }),
            "url: must be a string",
        ),
        (
            "abandoned_cart",
            json!({ "minutes": 0 }),
            "minutes: must be a whole number from 1 to 10080, got 0",
        ),
        (
            "abandoned_cart",
            json!({ "days": 2 }),
            "days: abandoned_cart takes minutes, not days",
        ),
        (
            "win_back",
            json!({ "days": 1000 }),
            "days: must be a whole number from 1 to 730, got 1000",
        ),
        (
            "birthday",
            json!({ "days": -1 }),
            "days: must be a whole number from 0 to 30",
        ),
        (
            "first_purchase",
            json!({ "minutes": 5 }),
            "minutes: first_purchase takes no minutes or days",
        ),
        (
            "first_purchase",
            json!({ "enabled": true }),
            "url: is required to switch a trigger on",
        ),
        (
            "first_purchase",
            json!({ "enabled": "yes" }),
            "enabled: must be true or false",
        ),
        (
            "win_back",
            json!({ "consent": "analytics" }),
            "consent: win_back is marketing, so it always requires the marketing consent",
        ),
        (
            "tier_change",
            json!({ "consent": "necessary" }),
            "consent: necessary cannot be used",
        ),
        (
            "tier_change",
            json!({ "consent": "ads" }),
            "consent: must be one of functional, analytics, personalization, marketing",
        ),
        (
            "tier_change",
            json!({ "colour": "red" }),
            "\"colour\": is not a setting of a trigger",
        ),
    ];
    for (kind, body, says) in cases {
        let message = put(kind, body.clone()).error(400);
        assert!(message.starts_with(says), "{kind} {body}: {message}");
    }
    let message = put("abandoned-cart", json!({})).error(404);
    assert!(
        message.contains(
            "the triggers are abandoned_cart, first_purchase, tier_change, win_back, birthday"
        ),
        "{message}"
    );
    let reply = server.send(
        "PUT",
        "/v1/crm/triggers/win_back",
        &[
            ("authorization", &bearer()),
            ("content-type", "application/json"),
        ],
        Some(b"{not json"),
    );
    assert_eq!(reply.status, 400);
    // Without the server key, or with a wrong one.
    let anonymous = server.send(
        "PUT",
        "/v1/crm/triggers/win_back",
        &[("content-type", "application/json")],
        Some(br#"{"enabled": false}"#),
    );
    assert_eq!(anonymous.status, 401);
    let wrong = server.get_with("/v1/crm/triggers", &[("authorization", "Bearer nope")]);
    assert!(
        wrong.status == 401 || wrong.status == 403,
        "{}",
        wrong.status
    );
    for query in ["?kind=bogus", "?limit=0", "?state=lost", "?colour=red"] {
        let message = merchant(
            &server,
            "GET",
            &format!("/v1/crm/triggers/log{query}"),
            None,
        )
        .error(400);
        assert!(!message.is_empty());
    }
    // Nothing refused was stored.
    let listed = merchant(&server, "GET", "/v1/crm/triggers", None).json();
    for trigger in listed["triggers"].as_array().unwrap() {
        assert_eq!(trigger["enabled"], false, "{trigger}");
        assert_eq!(trigger["url"], Value::Null, "{trigger}");
    }
    assert_eq!(listed["triggers"][3]["days"], 90);
    assert_eq!(listed["triggers"][4]["consent"], "marketing");
    // Each says what the merchant may set, for the dashboard's form.
    assert_eq!(
        listed["triggers"][0]["parameter"],
        json!({ "name": "minutes", "min": 1, "max": 10080, "default": 30 })
    );
    assert_eq!(listed["triggers"][1]["parameter"], Value::Null);
    let fixed: Vec<bool> = listed["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["consentFixed"].as_bool().unwrap())
        .collect();
    assert_eq!(fixed, [true, false, false, true, true]);

    // A good configuration, then a rotated secret, answered once and masked after.
    let first = configure(
        &server,
        "win_back",
        json!({ "days": 60, "url": "https://shop.example/hooks" }),
    );
    assert_eq!(
        (&first["days"], &first["enabled"]),
        (&json!(60), &json!(false))
    );
    let rotated = merchant(&server, "POST", "/v1/crm/triggers/win_back/secret", None).json();
    let secret = rotated["secret"].as_str().unwrap();
    assert_ne!(secret, first["secret"].as_str().unwrap());
    let shown = merchant(&server, "GET", "/v1/crm/triggers/win_back", None).json();
    assert_eq!(
        shown["secret"],
        format!("whsec_…{}", &secret[secret.len() - 4..])
    );
    // A second configuration keeps the secret and does not show it.
    let again = configure(&server, "win_back", json!({ "enabled": true }));
    assert_eq!(again["secret"], shown["secret"]);
    assert!(again["enabledAt"].is_string());
}
