//! A real shop's year in the CRM, through the normal paths, and the scale bench.
//!
//! # How the invoices go in
//!
//! The invoice lines are read by [`retail::load`] (its rules: sales of known
//! customers, one order per invoice). Each customer is given a channel mix by a hash
//! of their id: half buy online only, three in ten in store only, two in ten in both
//! (each invoice, by its hash). Then, as a live shop would send them:
//!
//! - an **online** order is a browsing session of the logged-in shopper, sent to the
//!   batch path ([`ingest::parse_batch`] + [`ingest::insert`], as `POST /v1/batch`):
//!   a `page` call, `Product Viewed` and `Product Added` for each line, `Checkout
//!   Started`, and `Order Completed` (lines, `subtotal`, GBP); the customer's first
//!   online order is preceded by an `identify` call with a made-up email and name.
//!   One order in four also has an earlier session a day before that ends in `Cart
//!   Abandoned`, and one in five a click on a `souk-similar` recommendation. Those
//!   sessions are synthetic: the data set has purchases only.
//! - two thirds of the customers are loyalty members: their online orders are also
//!   posted as `POST /v1/orders` does ([`loyalty::post_order`] in a write job), with
//!   the same order id, so the CRM must count each once.
//! - a **store** order is a row of a POS sales file (`sale_id` = invoice,
//!   `customer_id`, `subtotal` in pence), imported by [`pos::import`].
//!
//! An order too large for Segment's 32 KB message limit is sent without its lines.
//!
//! # The bench
//!
//! For each size, a fresh database gets customers (in hash order, replayed with
//! shifted ids `<id>-r1`, `-r2`, … once the real ones run out) until it holds that
//! many events; then it times a refresh, the same computation without the write (the
//! read path), the overview over the whole year, and one customer's 360.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::try_join_all;
use serde_json::{json, Value};
use souk::core::loyalty::{OrderAmounts, Rules};
use souk::core::time::iso8601;

use super::refresh::{self, Run};
use super::{funnel, overview, stderr_progress, table, BenchArgs, CrmError, ImportRetailArgs};
use crate::eval::retail::{self, Order as Invoice, Shop};
use crate::loyalty::{self, CustomerRef, Failure};
use crate::store::{self, Store};
use crate::{datetime, ingest, pos, Error};

const MINUTE: u64 = 60_000;

/// FNV-1a, for stable choices.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How a customer buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    Online,
    Store,
    Both,
}

fn mix(customer: &str) -> Mix {
    match hash(customer) % 10 {
        0..=4 => Mix::Online,
        5..=7 => Mix::Store,
        _ => Mix::Both,
    }
}

fn member(customer: &str) -> bool {
    hash(&format!("member:{customer}")) % 3 != 0
}

/// What one load put in the database.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    /// Customers loaded.
    pub customers: usize,
    /// Events stored.
    pub events: usize,
    /// Events the batch path refused.
    pub refused: usize,
    /// Online orders, and how many were also posted to the ledger.
    pub online: usize,
    /// Online orders also in the ledger.
    pub ledger: usize,
    /// Store orders imported by the POS path.
    pub store: usize,
    /// The last order's time.
    pub last_ms: u64,
}

/// One customer's share of a load, generated before it is stored.
struct Planned {
    messages: Vec<Value>,
    ledger: Vec<loyalty::Order>,
    pos_rows: Vec<String>,
    online: usize,
    last_ms: u64,
}

/// Product names by stock code, from the feed.
struct Names(HashMap<String, String>);

impl Names {
    fn of(shop: &Shop) -> Names {
        Names(
            shop.feed
                .iter()
                .filter_map(|p| {
                    Some((p["id"].as_str()?.to_owned(), p["name"].as_str()?.to_owned()))
                })
                .collect(),
        )
    }
}

/// A product event's properties.
fn product(shop: &Shop, names: &Names, code: &str, quantity: u64) -> Value {
    let price = shop.prices.get(code).copied().unwrap_or_default();
    let name = names.0.get(code).map_or(code, String::as_str);
    json!({
        "product_id": code,
        "name": name,
        "category": shop.categories.get(code).map_or("other", String::as_str),
        "price": price as f64 / 100.0,
        "quantity": quantity,
        "currency": "GBP",
    })
}

/// A track message.
fn track(id: String, event: &str, at_ms: u64, anon: &str, user: &str, properties: Value) -> Value {
    json!({
        "type": "track", "event": event, "messageId": id,
        "anonymousId": anon, "userId": user,
        "timestamp": iso8601(at_ms), "properties": properties,
    })
}

/// The events, ledger orders and POS rows of `customer` (replay `rep`).
fn plan(shop: &Shop, names: &Names, customer: &str, invoices: &[&Invoice], rep: usize) -> Planned {
    let user = if rep == 0 {
        customer.to_owned()
    } else {
        format!("{customer}-r{rep}")
    };
    let suffix = if rep == 0 {
        String::new()
    } else {
        format!("-r{rep}")
    };
    let anon = format!("anon-{user}");
    let mut planned = Planned {
        messages: Vec::new(),
        ledger: Vec::new(),
        pos_rows: Vec::new(),
        online: 0,
        last_ms: 0,
    };
    let mix = mix(customer);
    let member = member(customer);
    let mut identified = false;
    for invoice in invoices {
        let order_id = format!("{}{suffix}", invoice.invoice);
        let subtotal: u64 = invoice
            .lines
            .iter()
            .map(|(code, q)| shop.prices.get(code).copied().unwrap_or_default() * q)
            .sum();
        planned.last_ms = planned.last_ms.max(invoice.at_ms);
        let online = match mix {
            Mix::Online => true,
            Mix::Store => false,
            Mix::Both => hash(&invoice.invoice) % 2 == 0,
        };
        if !online {
            planned.pos_rows.push(format!(
                "{order_id},{},{user},{subtotal},GBP",
                iso8601(invoice.at_ms)
            ));
            continue;
        }
        planned.online += 1;
        let n = invoice.lines.len() as u64;
        let end = invoice.at_ms;
        let start = end.saturating_sub((2 * n + 3) * MINUTE);
        let id = |what: &str, i: u64| format!("crm-{order_id}-{what}-{i}");
        let h = hash(&order_id);
        if !identified {
            identified = true;
            planned.messages.push(json!({
                "type": "identify", "messageId": id("identify", 0),
                "anonymousId": anon, "userId": user,
                "timestamp": iso8601(start.saturating_sub(MINUTE)),
                "traits": { "email": format!("{user}@retail.example"), "name": format!("Customer {user}") },
            }));
        }
        if h % 4 == 0 {
            // A session the day before that ends in an abandoned cart.
            let before = start.saturating_sub(24 * 60 * MINUTE);
            planned.messages.push(json!({
                "type": "page", "name": "Product", "messageId": id("page-a", 0),
                "anonymousId": anon, "userId": user, "timestamp": iso8601(before),
            }));
            for (i, (code, q)) in invoice.lines.iter().take(3).enumerate() {
                let i = i as u64;
                planned.messages.push(track(
                    id("view-a", i),
                    "Product Viewed",
                    before + (i + 1) * MINUTE,
                    &anon,
                    &user,
                    product(shop, names, code, *q),
                ));
            }
            let (code, q) = &invoice.lines[0];
            let line = product(shop, names, code, *q);
            planned.messages.push(track(
                id("add-a", 0),
                "Product Added",
                before + 5 * MINUTE,
                &anon,
                &user,
                line.clone(),
            ));
            let value = line["price"].as_f64().unwrap_or(0.0) * *q as f64;
            planned.messages.push(track(
                id("abandoned", 0),
                "Cart Abandoned",
                before + 35 * MINUTE,
                &anon,
                &user,
                json!({ "cart_id": format!("cart-{order_id}"), "value": (value * 100.0).round() / 100.0,
                        "currency": "GBP", "checkout_started": false, "products": [line] }),
            ));
        }
        planned.messages.push(json!({
            "type": "page", "name": "Product", "messageId": id("page", 0),
            "anonymousId": anon, "userId": user, "timestamp": iso8601(start),
        }));
        for (i, (code, q)) in invoice.lines.iter().enumerate() {
            let i = i as u64;
            if i == 1 && h % 5 == 1 {
                let mut clicked =
                    json!({ "product_id": code, "position": 1, "list_id": "souk-similar" });
                clicked["name"] = product(shop, names, code, 1)["name"].clone();
                planned.messages.push(track(
                    id("click", i),
                    "Product Clicked",
                    start + (i + 1) * MINUTE - 1000,
                    &anon,
                    &user,
                    clicked,
                ));
            }
            planned.messages.push(track(
                id("view", i),
                "Product Viewed",
                start + (i + 1) * MINUTE,
                &anon,
                &user,
                product(shop, names, code, *q),
            ));
        }
        for (i, (code, q)) in invoice.lines.iter().enumerate() {
            let i = i as u64;
            planned.messages.push(track(
                id("add", i),
                "Product Added",
                start + (n + i + 1) * MINUTE,
                &anon,
                &user,
                product(shop, names, code, *q),
            ));
        }
        planned.messages.push(track(
            id("checkout", 0),
            "Checkout Started",
            end.saturating_sub(MINUTE),
            &anon,
            &user,
            json!({ "currency": "GBP", "value": subtotal as f64 / 100.0 }),
        ));
        let mut order = retail::order_completed(invoice, shop);
        order["messageId"] = json!(id("order", 0));
        order["anonymousId"] = json!(anon);
        order["userId"] = json!(user);
        order["properties"]["order_id"] = json!(order_id);
        order["properties"]["subtotal"] = json!(subtotal as f64 / 100.0);
        if order.to_string().len() > ingest::MAX_MESSAGE_BYTES {
            order["properties"]
                .as_object_mut()
                .map(|p| p.shift_remove("products"));
        }
        planned.messages.push(order);
        if member {
            planned.ledger.push(loyalty::Order {
                order_id,
                customer: CustomerRef::UserId(user.clone()),
                amounts: OrderAmounts {
                    subtotal: subtotal as i64,
                    discount: 0,
                    tax: 0,
                    tax_in_prices: false,
                    shipping: 0,
                },
                currency: "GBP".to_owned(),
                at_ms: Some(invoice.at_ms),
            });
        }
    }
    planned
}

/// The customers of `shop` with their invoices, in hash order.
fn customers(shop: &Shop) -> Vec<(String, Vec<&Invoice>)> {
    let mut by_customer: HashMap<&str, Vec<&Invoice>> = HashMap::new();
    for order in &shop.orders {
        by_customer.entry(&order.customer).or_default().push(order);
    }
    let mut list: Vec<(String, Vec<&Invoice>)> = by_customer
        .into_iter()
        .map(|(c, orders)| (c.to_owned(), orders))
        .collect();
    list.sort_by_key(|(c, _)| (hash(c), c.clone()));
    list
}

/// Stores messages in batches through the batch path, a few batches in flight.
async fn store_messages(
    store: &Store,
    messages: Vec<Value>,
    loaded: &mut Loaded,
) -> Result<(), Error> {
    let mut batches = Vec::new();
    let mut pending = Vec::new();
    let mut bytes = 0;
    for message in messages {
        bytes += message.to_string().len() + 1;
        pending.push(message);
        if pending.len() >= ingest::MAX_MESSAGES
            || bytes >= ingest::MAX_BODY_BYTES - ingest::MAX_MESSAGE_BYTES
        {
            batches.push(std::mem::take(&mut pending));
            bytes = 0;
        }
    }
    if !pending.is_empty() {
        batches.push(pending);
    }
    for group in batches.chunks(8) {
        let jobs = group.iter().map(|batch| {
            let body = json!({ "batch": batch });
            async move {
                let checked = ingest::parse_batch(&body)
                    .map_err(|e| store::Error::Invariant(e.to_string()))?;
                let refused = checked.rejected.len();
                let events = checked.events;
                let received_at = datetime::now();
                let stored = store
                    .write(move |conn| Ok(ingest::insert(conn, &events, &received_at)?))
                    .await?;
                Ok::<_, store::Error>((stored.accepted, refused))
            }
        });
        for (accepted, refused) in try_join_all(jobs).await? {
            loaded.events += accepted;
            loaded.refused += refused;
        }
    }
    Ok(())
}

/// Posts orders as `POST /v1/orders` does, each in its own write job (many at once,
/// so they share commits).
async fn post_orders(
    store: &Store,
    rules: &Arc<Rules>,
    orders: Vec<loyalty::Order>,
) -> Result<usize, Error> {
    let mut posted = 0;
    for chunk in orders.chunks(256) {
        let jobs = chunk.iter().cloned().map(|order| {
            let rules = Arc::clone(rules);
            store.write(move |conn| {
                match loyalty::post_order(conn, &rules, &order, datetime::now_ms()) {
                    Ok((created, _)) => Ok(usize::from(created)),
                    Err(Failure::Refused(e)) => {
                        Err(store::Error::Invariant(e.message().to_owned()))
                    }
                    Err(Failure::Db(e)) => Err(e.into()),
                    Err(Failure::Broken(problem)) => Err(store::Error::Invariant(problem)),
                }
            })
        });
        posted += try_join_all(jobs).await?.into_iter().sum::<usize>();
    }
    Ok(posted)
}

/// Loads customers of `shop` into `store` until it holds `events` events (every
/// real customer once, without a target).
pub async fn load(store: &Store, shop: &Shop, target: Option<usize>) -> Result<Loaded, Error> {
    let rules = Arc::new(Rules::default());
    let list = customers(shop);
    let names = Names::of(shop);
    let mut loaded = Loaded::default();
    let mut messages = Vec::new();
    let mut ledger = Vec::new();
    let mut pos_rows = vec!["sale_id,sold_at,customer_id,subtotal,currency".to_owned()];
    let mut planned_events = 0;
    'reps: for rep in 0.. {
        for (customer, invoices) in &list {
            if target.is_some_and(|t| planned_events >= t) || (target.is_none() && rep > 0) {
                break 'reps;
            }
            let p = plan(shop, &names, customer, invoices, rep);
            planned_events += p.messages.len();
            loaded.customers += 1;
            loaded.online += p.online;
            loaded.ledger += p.ledger.len();
            loaded.store += p.pos_rows.len();
            loaded.last_ms = loaded.last_ms.max(p.last_ms);
            messages.extend(p.messages);
            ledger.extend(p.ledger);
            pos_rows.extend(p.pos_rows);
        }
    }
    let progress = stderr_progress();
    progress(&format!(
        "loading {} customers: {} events, {} ledger orders, {} POS sales",
        loaded.customers,
        messages.len(),
        ledger.len(),
        pos_rows.len() - 1
    ));
    // Events go in time order, as a live shop sends them.
    messages.sort_by(|a, b| a["timestamp"].as_str().cmp(&b["timestamp"].as_str()));
    store_messages(store, messages, &mut loaded).await?;
    progress(&format!(
        "stored {} events ({} refused)",
        loaded.events, loaded.refused
    ));
    post_orders(store, &rules, ledger).await?;
    let csv = pos_rows.join("\n");
    let report = pos::import(store, rules, csv.as_bytes(), datetime::now_ms())
        .await?
        .map_err(CrmError::Pos)?;
    if let Some(first) = report.refused.first() {
        return Err(CrmError::Pos(format!("line {}: {}", first.line, first.problem)).into());
    }
    progress(&format!("imported {} POS sales", report.imported));
    Ok(loaded)
}

/// Sets the as-of date to the end of the last order's day and the currency to GBP.
async fn settle(store: &Store, last_ms: u64) -> Result<String, Error> {
    let day = &iso8601(last_ms)[..10];
    let as_of = refresh::day_end(day).unwrap_or_else(datetime::now);
    let setting = as_of.clone();
    store
        .write(move |conn| {
            let mut settings = refresh::Settings::load(conn)?;
            settings.as_of = Some(setting);
            settings.currency = Some("GBP".to_owned());
            Ok(settings.save(conn)?)
        })
        .await?;
    Ok(as_of)
}

/// `souk-server crm import-retail`.
pub async fn import_cli(args: ImportRetailArgs) -> Result<(), Error> {
    let shop = retail::load(&args.data).map_err(CrmError::from)?;
    let progress = stderr_progress();
    progress(&format!(
        "read {} invoice lines: {} orders of known customers",
        shop.rows,
        shop.orders.len()
    ));
    let store = Store::open(&args.db)?;
    let result = async {
        let started = Instant::now();
        let loaded = load(&store, &shop, None).await?;
        let as_of = settle(&store, loaded.last_ms).await?;
        progress(&format!(
            "imported in {:.1} s; scoring as of {as_of} in GBP",
            started.elapsed().as_secs_f64()
        ));
        let run = refresh::refresh(&store, None, stderr_progress()).await?;
        Ok::<_, Error>((loaded, run))
    }
    .await;
    store.close().await;
    let (loaded, run) = result?;
    println!(
        "{} customers: {} events, {} online orders ({} also in the ledger), {} store orders\n",
        loaded.customers, loaded.events, loaded.online, loaded.ledger, loaded.store
    );
    print!("{}", table(&run));
    println!(
        "\nrefresh: read {} ms, score {} ms, write {} ms",
        run.read_ms, run.score_ms, run.write_ms
    );
    Ok(())
}

/// One size's timings.
struct Timing {
    loaded: Loaded,
    import_s: f64,
    run: Run,
    refresh_ms: f64,
    read_path_ms: f64,
    overview_ms: f64,
    funnel_ms: f64,
    segments_ms: f64,
    customer_ms: f64,
    /// A custom segment over the scores only, and one that also reads the products
    /// bought and the tiers: (ms, customers).
    custom_scores: (f64, usize),
    custom_full: (f64, usize),
}

/// The custom segments the bench times: one over the scores, one over what was bought
/// and the loyalty tier too.
const CUSTOM_SCORES: &str = "segment in (at-risk, cant-lose) and orders >= 3";
const CUSTOM_FULL: &str = "product = 85123A and last_order_days > 30 and tier >= silver";

/// Times custom segment `filter` on `store`: (ms, customers in it).
async fn time_custom(store: &Store, filter: &'static str) -> Result<(f64, usize), Error> {
    let started = Instant::now();
    let found = store
        .read(move |conn| {
            let rules = Rules::default();
            Ok(match super::custom::compile(conn, &rules, filter)? {
                Ok(compiled) => Ok(super::custom::matching(conn, &rules, &compiled)?.len()),
                Err(e) => Err(e.message().to_owned()),
            })
        })
        .await?;
    let customers = found.map_err(|problem| CrmError::Setting {
        flag: "sizes",
        problem: format!("the bench's filter {filter:?} does not read: {problem}"),
    })?;
    Ok((ms(started), customers))
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

async fn time_size(dir: &Path, shop: &Shop, size: usize) -> Result<Timing, Error> {
    let db = dir.join(format!("crm-{size}.db"));
    let _ = std::fs::remove_file(&db);
    let store = Store::open(&db)?;
    let result = async {
        let started = Instant::now();
        let loaded = load(&store, shop, Some(size)).await?;
        let import_s = started.elapsed().as_secs_f64();
        settle(&store, loaded.last_ms).await?;
        let quiet: refresh::Progress = Arc::new(|_: &str| {});
        let started = Instant::now();
        let run = refresh::refresh(&store, None, Arc::clone(&quiet)).await?;
        let refresh_ms = ms(started);
        // The read path: the same computation, answered instead of written.
        let started = Instant::now();
        store
            .read(|conn| {
                let as_of = refresh::Settings::load(conn)?
                    .as_of
                    .unwrap_or_else(datetime::now);
                let as_of_ms = datetime::to_ms(&as_of).unwrap_or(0) as i64;
                let (orders, _) =
                    super::orders::collect(conn, super::orders::Scope::All, false, &mut |_| {})?;
                let customers = super::orders::customers(&orders, as_of_ms, Some("GBP"));
                let scored =
                    super::rfm::score(&customers, as_of_ms, &super::rfm::VipRule::default());
                Ok(scored.0.len())
            })
            .await?;
        let read_path_ms = ms(started);
        let window =
            funnel::Window::parse(Some("2010-12-01"), Some("2011-12-31")).expect("a fixed window");
        let year = window.clone();
        let started = Instant::now();
        store
            .read(move |conn| Ok(overview::overview(conn, &year)?))
            .await?;
        let overview_ms = ms(started);
        let started = Instant::now();
        store
            .read(move |conn| Ok(funnel::funnel(conn, &window, funnel::By::Day, true)?))
            .await?;
        let funnel_ms = ms(started);
        let started = Instant::now();
        store.read(|conn| Ok(refresh::latest(conn)?)).await?;
        let segments_ms = ms(started);
        let started = Instant::now();
        store
            .read(|conn| {
                let profile: i64 = conn.query_row(
                    "SELECT profile_id FROM crm_customers ORDER BY orders DESC LIMIT 1",
                    [],
                    |row| row.get(0),
                )?;
                Ok(super::customer::view(
                    conn,
                    &Rules::default(),
                    profile,
                    datetime::now_ms(),
                )?)
            })
            .await?;
        let customer_ms = ms(started);
        let custom_scores = time_custom(&store, CUSTOM_SCORES).await?;
        let custom_full = time_custom(&store, CUSTOM_FULL).await?;
        Ok::<_, Error>(Timing {
            loaded,
            import_s,
            run,
            refresh_ms,
            read_path_ms,
            overview_ms,
            funnel_ms,
            segments_ms,
            customer_ms,
            custom_scores,
            custom_full,
        })
    }
    .await;
    store.close().await;
    result
}

/// `souk-server crm bench`.
pub async fn bench_cli(args: BenchArgs) -> Result<(), Error> {
    if args.sizes.is_empty() {
        return Err(CrmError::Sizes.into());
    }
    let shop = retail::load(&args.data).map_err(CrmError::from)?;
    let dir = std::env::temp_dir().join(format!("souk-crm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| CrmError::Scratch {
        dir: dir.clone(),
        source,
    })?;
    let mut rows = Vec::new();
    let mut failed = None;
    for &size in &args.sizes {
        eprintln!("crm bench: {size} events");
        match time_size(&dir, &shop, size).await {
            Ok(t) => rows.push(t),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("crm bench: kept {}", dir.display());
    }
    if let Some(e) = failed {
        return Err(e);
    }
    println!("| events | customers | orders (online + store) | import | refresh (read + score + write) | read path (no write) | overview (whole year) | funnel by day, with products | segments read | customer 360 | custom segment, scores | custom segment, products + tier |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for t in &rows {
        println!(
            "| {} | {} | {} ({} + {}) | {:.1} s | {:.0} ms ({} + {} + {}) | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} ms | {:.1} ms | {:.1} ms ({}) | {:.0} ms ({}) |",
            t.loaded.events,
            t.run.customers,
            t.run.orders,
            t.run.online,
            t.run.store,
            t.import_s,
            t.refresh_ms,
            t.run.read_ms,
            t.run.score_ms,
            t.run.write_ms,
            t.read_path_ms,
            t.overview_ms,
            t.funnel_ms,
            t.segments_ms,
            t.customer_ms,
            t.custom_scores.0,
            t.custom_scores.1,
            t.custom_full.0,
            t.custom_full.1,
        );
    }
    println!("\ncustom segments: scores `{CUSTOM_SCORES}`; products + tier `{CUSTOM_FULL}`");
    if let Some(last) = rows.last() {
        println!("\nsegments at {} events:\n", last.loaded.events);
        print!("{}", table(&last.run));
    }
    Ok(())
}
