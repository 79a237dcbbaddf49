//! The catalogue import, `build-model` and `GET /v1/model`, over real HTTP against a
//! real SQLite file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use souk::core::i18n::Lang;
use souk::core::model::{checksum, Model};

/// Products of the demo shop the scenario uses.
const POT: &str = "p001"; // kitchen, viewed with the press, bought with the teapot
const PRESS: &str = "p008"; // kitchen
const TEAPOT: &str = "p012"; // tableware
const CAMEL: &str = "p050"; // toys, once seen beside the pot

fn demo_catalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/shop/catalog.json")
}

fn cli(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
    cmd.args(args).env_remove("RUST_LOG");
    cmd
}

/// Runs `souk-server build-model` on `site`'s database into `out`, with `extra` options.
fn build_model(
    site: &Site,
    out: &std::path::Path,
    extra: &[&str],
) -> (std::process::ExitStatus, String) {
    let db = site.db();
    let mut args = vec![
        "build-model",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_to_exit(cli(&args))
}

fn serve_with(site: &Site, extra: &[&str]) -> Server {
    let mut cmd = site.command();
    cmd.args(extra);
    Server::start(cmd)
}

fn event(name: &str, anonymous: &str, user: Option<&str>, properties: Value) -> Value {
    let mut message = json!({
        "type": "track",
        "event": name,
        "messageId": format!("m-{}", uuid_like()),
        "anonymousId": anonymous,
        "timestamp": souk_server::datetime::now(),
        "properties": properties,
    });
    if let Some(user) = user {
        message["userId"] = json!(user);
    }
    message
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn viewed(anonymous: &str, product: &str) -> Value {
    event(
        "Product Viewed",
        anonymous,
        None,
        json!({"product_id": product, "price": 10, "currency": "AED"}),
    )
}

/// Eight shoppers view the pot and the press; four buy the pot with the teapot; one
/// views the pot and the camel.
fn shoppers() -> Vec<Value> {
    let mut batch = Vec::new();
    for i in 0..8 {
        let who = format!("viewer-{i}");
        batch.push(viewed(&who, POT));
        batch.push(viewed(&who, PRESS));
    }
    for i in 0..4 {
        let who = format!("buyer-{i}");
        let user = format!("customer-{i}");
        batch.push(event(
            "Order Completed",
            &who,
            Some(&user),
            json!({
                "order_id": format!("o-{i}"), "total": 224, "currency": "AED",
                "products": [
                    {"product_id": POT, "price": 89, "quantity": 1},
                    {"product_id": TEAPOT, "price": 135, "quantity": 1},
                ],
            }),
        ));
    }
    batch.push(viewed("browser", POT));
    batch.push(viewed("browser", CAMEL));
    batch.push(viewed("browser", "not-in-the-catalogue"));
    batch
}

fn post_events(server: &Server, batch: Vec<Value>) {
    let count = batch.len();
    let reply = server
        .post_json("/v1/batch", &json!({ "batch": batch }))
        .json();
    assert_eq!(reply["accepted"], count, "{reply}");
}

/// GETs `/v1/model` until it answers 200 (the build runs in the background), and
/// until `ready` accepts the model.
fn model_when(server: &Server, ready: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = Instant::now() + LIMIT;
    loop {
        let reply = server.get("/v1/model");
        if reply.status == 200 && ready(&reply) {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "no model in time: {} {:?}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn neighbour_ids(model: &Model, id: &str) -> Vec<(String, u8)> {
    let index = model.find(id).unwrap();
    model
        .neighbours(index)
        .iter()
        .map(|n| (model.product(n.product).unwrap().id.to_owned(), n.weight))
        .collect()
}

fn popular_ids(model: &Model, category: &str) -> Vec<String> {
    let c = model.find_category(category).unwrap();
    model
        .popular(c)
        .iter()
        .map(|&i| model.product(i).unwrap().id.to_owned())
        .collect()
}

fn assert_recommends(model: &Model) {
    let pot = neighbour_ids(model, POT);
    let weight = |id: &str| pot.iter().find(|(n, _)| n == id).map(|&(_, w)| w);
    let press = weight(PRESS).unwrap_or_else(|| panic!("the press is not among {pot:?}"));
    let camel = weight(CAMEL).unwrap_or(0);
    assert!(press > camel, "press {press} vs camel {camel}: {pot:?}");
    assert!(weight(TEAPOT).is_some(), "bought together: {pot:?}");
    let teapot = neighbour_ids(model, TEAPOT);
    assert_eq!(teapot[0].0, POT, "{teapot:?}");
    assert!(
        neighbour_ids(model, "p002").is_empty(),
        "no signal, no neighbours"
    );
    // What shoppers chose comes first; the rest of the category follows, unranked.
    assert_eq!(popular_ids(model, "kitchen")[..2], [POT, PRESS]);
    assert_eq!(popular_ids(model, "kitchen").len(), 8, "the whole shelf");
    assert_eq!(popular_ids(model, "tableware")[0], TEAPOT);
    assert_eq!(popular_ids(model, "toys")[0], CAMEL);
    let garden = popular_ids(model, "garden");
    assert!(
        garden
            .iter()
            .all(|id| model.product(model.find(id).unwrap()).is_some())
            && garden.len() == 8
    );
    assert_eq!(model.trending()[0], model.find(POT).unwrap());
}

/// Every product of the demo catalogue is in the model, with its names and price.
fn assert_catalogue(model: &Model) {
    let text = std::fs::read_to_string(demo_catalog()).unwrap();
    let feed: Value = serde_json::from_str(&text).unwrap();
    let products = feed["products"].as_array().unwrap();
    assert_eq!(model.len(), products.len());
    for p in products {
        let id = p["id"].as_str().unwrap();
        let product = model.product(model.find(id).unwrap()).unwrap();
        assert_eq!(product.name(Lang::En), p["name"]["en"]);
        assert_eq!(product.name(Lang::Ar), p["name"]["ar"]);
        let minor = (p["price"].as_f64().unwrap() * 100.0).round() as u64;
        assert_eq!((product.price_minor, product.currency), (minor, "AED"));
        assert_eq!(product.url, p["url"]);
        assert_eq!(product.image_url, p["image"]);
        assert_eq!(model.category(product.category).unwrap(), p["category"]);
        assert_eq!(product.in_stock, p["availability"] == "in_stock", "{id}");
    }
}

#[test]
fn there_is_no_model_before_a_catalogue() {
    let site = Site::new();
    let server = site.start();
    let reply = server.get_with("/v1/model", &[("origin", "https://shop.example")]);
    let error = reply.error(404);
    assert!(error.contains("import-catalog"), "{error}");
    assert!(error.contains("--catalog"), "{error}");
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));

    let out = site.dir.path().join("model.bin");
    let (status, stderr) = build_model(&site, &out, &[]);
    assert!(!status.success());
    assert!(stderr.contains("no catalogue is imported yet"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn the_model_carries_the_catalogue_and_what_shoppers_did_together() {
    let site = Site::new();
    let catalog = demo_catalog();
    let server = serve_with(&site, &["--catalog", catalog.to_str().unwrap()]);
    // Built at startup from the catalogue alone.
    let first = model_when(&server, |_| true);
    let model = Model::decode(&first.body).unwrap();
    assert_catalogue(&model);
    assert!((0..model.len() as u32).all(|i| model.neighbours(i).is_empty()));
    assert_eq!(site.count("SELECT COUNT(*) FROM catalog_products"), 64);

    post_events(&server, shoppers());
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");

    // The command line, on the same database.
    let out = site.dir.path().join("model.bin");
    let (status, stderr) = build_model(&site, &out, &["--k", "5"]);
    assert!(status.success(), "{stderr}");
    for phase in [
        "catalogue: 64 products in 8 categories",
        "events: 26 product events from 13 people (1 name",
        "similarities:",
        "model:",
        "wrote",
    ] {
        assert!(stderr.contains(phase), "{phase:?} missing from:\n{stderr}");
    }
    let file = std::fs::read(&out).unwrap();
    let built = Model::decode(&file).unwrap();
    assert_eq!(built.k(), 5);
    assert_catalogue(&built);
    assert_recommends(&built);

    // A restart builds it again and serves it.
    let server = site.start();
    let reply = model_when(&server, |r| {
        Model::decode(&r.body).is_ok_and(|m| !m.neighbours(m.find(POT).unwrap()).is_empty())
    });
    let served = Model::decode(&reply.body).unwrap();
    assert_eq!(served.k(), 20);
    assert_catalogue(&served);
    assert_recommends(&served);

    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let etag = reply.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{:016x}\"", checksum(&reply.body)));

    let again = server.get_with("/v1/model", &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some("public, max-age=300"));
    let stale = server.get_with("/v1/model", &[("if-none-match", "\"0000000000000000\"")]);
    assert_eq!(stale.status, 200);

    let zipped = server.get_with("/v1/model", &[("accept-encoding", "gzip")]);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&zipped.body), reply.body);
    assert!(zipped.body.len() < reply.body.len());
    let brotli = server.get_with("/v1/model", &[("accept-encoding", "br")]);
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn build_model_takes_the_algorithm_and_each_writes_a_model_the_core_decodes() {
    let site = Site::new();
    let catalog = demo_catalog();
    let server = serve_with(&site, &["--catalog", catalog.to_str().unwrap()]);
    model_when(&server, |_| true);
    post_events(&server, shoppers());
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");

    // Four products have signal, so auto is EASE.
    for (algorithm, name) in [("ease", "EASE"), ("knn", "item-kNN"), ("auto", "EASE")] {
        let out = site.dir.path().join(format!("model-{algorithm}.bin"));
        let (status, stderr) = build_model(&site, &out, &["--algorithm", algorithm, "--k", "3"]);
        assert!(status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!("64 products have neighbours ({name}, k = 3)")),
            "{stderr}"
        );
        assert_eq!(
            stderr.contains("EASE: the 4 × 4 matrix of the products with signal, λ = 50"),
            name == "EASE",
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("with neighbours by {name}")),
            "{stderr}"
        );
        let model = Model::decode(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(model.k(), 3);
        assert!((0..model.len() as u32).all(|i| model.neighbours(i).len() <= 3));
        assert_catalogue(&model);
        assert_recommends(&model);
    }

    let out = site.dir.path().join("model.bin");
    let (status, stderr) = build_model(&site, &out, &["--algorithm", "als"]);
    assert!(!status.success());
    assert!(
        stderr.contains("[possible values: auto, ease, knn]"),
        "{stderr}"
    );
    let (status, stderr) = build_model(&site, &out, &["--lambda", "0"]);
    assert!(!status.success());
    assert!(stderr.contains("is not a number above 0"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn model_every_rebuilds_in_the_background() {
    let site = Site::new();
    let catalog = demo_catalog();
    let server = serve_with(
        &site,
        &[
            "--catalog",
            catalog.to_str().unwrap(),
            "--model-every",
            "1s",
        ],
    );
    let first = model_when(&server, |_| true);
    post_events(&server, shoppers());
    let rebuilt = model_when(&server, |r| {
        r.header("etag") != first.header("etag") && {
            Model::decode(&r.body).is_ok_and(|m| !m.neighbours(m.find(POT).unwrap()).is_empty())
        }
    });
    assert_recommends(&Model::decode(&rebuilt.body).unwrap());
}

#[test]
fn a_catalogue_is_replaced_whole_and_a_bad_one_is_refused_by_field() {
    let site = Site::new();
    let db = site.db();
    let import = |file: &Path| {
        run_to_exit(cli(&[
            "import-catalog",
            "--db",
            db.to_str().unwrap(),
            "--file",
            file.to_str().unwrap(),
        ]))
    };
    let (status, stderr) = import(&demo_catalog());
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("imported 64 products"), "{stderr}");

    let small = site.dir.path().join("small.json");
    std::fs::write(
        &small,
        json!([
            {"id": "tea", "name": {"en": "Mint tea", "ar": "شاي بالنعناع"}, "price": 12.5, "currency": "SAR", "category": "tea"},
            {"id": "cup", "name": "Cup", "price": "3.000 KWD", "stock": 0},
        ])
        .to_string(),
    )
    .unwrap();
    let (status, stderr) = import(&small);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        site.rows("SELECT id, price_minor, currency, category, in_stock FROM catalog_products ORDER BY id"),
        [
            json!({"id": "cup", "price_minor": 3000, "currency": "KWD", "category": "", "in_stock": 0}),
            json!({"id": "tea", "price_minor": 1250, "currency": "SAR", "category": "tea", "in_stock": 1}),
        ]
    );

    let bad = site.dir.path().join("bad.json");
    std::fs::write(
        &bad,
        json!({"shop": {"currency": "AED"}, "products": [
            {"id": "a", "name": "A", "price": 1},
            {"id": "b", "name": "B", "price": "free"},
        ]})
        .to_string(),
    )
    .unwrap();
    let (status, stderr) = import(&bad);
    assert!(!status.success());
    assert!(
        stderr.contains("bad.json was refused: products[1].price: must be a non-negative number"),
        "{stderr}"
    );
    assert_eq!(
        site.count("SELECT COUNT(*) FROM catalog_products"),
        2,
        "the old catalogue stays"
    );

    std::fs::write(&bad, "{\"products\": [").unwrap();
    let (status, stderr) = import(&bad);
    assert!(!status.success());
    assert!(stderr.contains("is not valid JSON"), "{stderr}");

    // serve refuses to start on a bad catalogue, and says why.
    let mut cmd = site.command();
    cmd.args(["--catalog", bad.to_str().unwrap()]);
    let (status, stderr) = run_to_exit(cmd);
    assert!(!status.success());
    assert!(stderr.contains("is not valid JSON"), "{stderr}");
}

/// Times build-model on 10k products and 100k people:
/// `cargo test --release -p souk-server --test model -- --ignored --nocapture`.
#[test]
#[ignore]
fn build_model_at_scale() {
    let site = Site::new();
    let products = 10_000;
    let people = 100_000;
    let catalogue: Vec<Value> = (0..products)
        .map(|i| json!({"id": format!("p{i:05}"), "name": format!("Product {i}"), "price": 10, "category": format!("c{}", i % 100)}))
        .collect();
    let file = site.dir.path().join("catalog.json");
    std::fs::write(
        &file,
        json!({"currency": "AED", "products": catalogue}).to_string(),
    )
    .unwrap();
    let (status, stderr) = run_to_exit(cli(&[
        "import-catalog",
        "--db",
        site.db().to_str().unwrap(),
        "--file",
        file.to_str().unwrap(),
    ]));
    assert!(status.success(), "{stderr}");

    // Each person browses one neighbourhood of the catalogue: ~12 events, some adds,
    // an order now and then, over the last 60 days. Written straight to the table,
    // since going through HTTP would time the ingest instead.
    let started = Instant::now();
    let mut conn = site.conn();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare("INSERT INTO events (message_id, type, event, anonymous_id, timestamp, received_at, body) VALUES (?1, 'track', ?2, ?3, ?4, ?4, ?5)")
            .unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut id = 0u64;
        for person in 0..people {
            let home = next() % products;
            let anonymous = format!("a{person}");
            for _ in 0..12 {
                let product = format!("p{:05}", (home + next() % 40) % products);
                let roll = next() % 20;
                let (name, body) = match roll {
                    0 => (
                        "Order Completed",
                        json!({"properties": {"products": [{"product_id": product}]}}),
                    ),
                    1..=3 => (
                        "Product Added",
                        json!({"properties": {"product_id": product}}),
                    ),
                    _ => (
                        "Product Viewed",
                        json!({"properties": {"product_id": product}}),
                    ),
                };
                let at = now - next() % (60 * 86_400);
                let timestamp = time_text(at);
                id += 1;
                insert
                    .execute(rusqlite::params![
                        format!("m{id}"),
                        name,
                        anonymous,
                        timestamp,
                        body.to_string()
                    ])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
    eprintln!(
        "wrote {} events in {:.1}s",
        people * 12,
        started.elapsed().as_secs_f64()
    );

    let out = site.dir.path().join("model.bin");
    let started = Instant::now();
    let (status, stderr) = build_model(&site, &out, &[]);
    let took = started.elapsed();
    assert!(status.success(), "{stderr}");
    eprint!("{stderr}");
    let size = std::fs::metadata(&out).unwrap().len();
    eprintln!(
        "build-model over {products} products, {people} people: {:.2}s, {size} bytes",
        took.as_secs_f64()
    );
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` for seconds since the epoch (civil-from-days).
fn time_text(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
