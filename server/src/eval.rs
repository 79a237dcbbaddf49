//! `souk-server eval`: recommendation quality on a real shop's invoice lines.
//!
//! # How the data goes in
//!
//! The way a live shop's data does ([`retail`] has the rules): the invoice lines
//! become a JSON product feed, checked and stored by [`catalog`]; each invoice of a
//! known customer placed before the cut-off becomes a Segment `Order Completed`
//! message, checked by [`ingest::parse_batch`] and stored by [`ingest::insert`] in
//! batches, as `POST /v1/batch` does, into a temporary SQLite file. The model is
//! [`model::build`] as of the cut-off.
//!
//! # The split and the tasks
//!
//! Train on everything before `--cutoff`. Test each customer on their first
//! invoice at or after it (and before `--until`, if given):
//!
//! - *picked for you*: customers with a history before the cut-off. The profile is
//!   [`Profile::observe`] fed their stored `Order Completed` events in time order;
//!   the targets are the next invoice's products they had not bought before (every
//!   method leaves out what the customer already bought: souk's scorer gets their
//!   history as `exclude`). [`recommend::for_you`] is called at the invoice's time.
//! - *bought with the cart*: every customer's next invoice with two products or
//!   more: one product, chosen by a hash of the invoice number, is hidden and the
//!   rest is the cart, in line order. [`recommend::with_cart`] ranks it.
//!
//! # The methods
//!
//! - *popularity*: the products in the most training invoices;
//! - *item-kNN (raw counts)*: a candidate scores the number of customers who bought
//!   it with each product of the history or cart, summed, with no normalisation;
//! - *EASE*: the closed-form linear item-item model ([`ease`]), λ = `--ease-lambda`,
//!   scored like item-kNN (summed weights from the history or cart);
//! - *souk*: the model file `build-model` writes, scored by the plugin's own code
//!   with the shop's default rules (at most 3 of 10 from one category), a row per
//!   `--algorithm` (EASE with `--lambda`, or item-kNN; `auto` as `serve` builds);
//! - *implicit ALS / BPR*: `bench/implicit_eval.py` on the same split, in a
//!   Python venv under `target/implicit-venv` (created on first use).
//!
//! Every list falls back to popularity when a method runs out of candidates, and
//! all of them are scored by the same [`metrics`] code.

pub mod ease;
pub mod metrics;
pub mod retail;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use souk::core::model::{Model, ModelError};
use souk::core::profile::Profile;
use souk::core::recommend::{self, Rules};

use crate::cli::EvalArgs;
use crate::fields::Invalid;
use crate::store::Store;
use crate::{catalog, datetime, ingest, model, store, Error};

use metrics::Tally;
use retail::RetailError;

/// The length of every list scored.
pub const N: usize = 10;

/// The `implicit` release the bench installs.
pub const IMPLICIT_VERSION: &str = "0.7.2";

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The invoice lines could not be read.
    #[error(transparent)]
    Data(#[from] RetailError),
    /// The catalogue built from them was refused.
    #[error("the catalogue built from the invoice lines was refused: {0}")]
    Feed(Invalid),
    /// A date option is not a date.
    #[error("{option} {text:?} is not a date such as 2011-09-01")]
    Date {
        /// The option.
        option: &'static str,
        /// What was given.
        text: String,
    },
    /// The scratch directory could not be made.
    #[error("cannot make the scratch directory {dir}: {source}")]
    Scratch {
        /// The directory.
        dir: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The model file did not load.
    #[error("the model file just built does not load: {0}")]
    Model(#[from] ModelError),
    /// Nothing to test on.
    #[error(
        "no customer has an invoice both before and after the cut-off {0}: choose another --cutoff"
    )]
    NoCases(String),
}

/// One "picked for you" case.
struct ForYouCase {
    /// Row of the customer in the training data.
    person: usize,
    /// When they came back, ms.
    at_ms: u64,
    targets: Vec<u32>,
}

/// One "bought with the cart" case.
struct CartCase {
    cart: Vec<u32>,
    hidden: u32,
}

/// What the training events say, read back from the store.
struct Training {
    /// Each customer's userId, row order.
    customers: Vec<String>,
    /// Each customer's products with their invoice counts, by product index.
    items: Vec<Vec<(u32, u32)>>,
    /// Each customer's profile, as the device would have built it.
    profiles: Vec<Profile>,
}

/// A method's two tallies and its build time.
struct Row {
    method: String,
    build: Duration,
    for_you: Tally,
    cart: Tally,
}

/// `YYYY-MM-DD` as ms since the Unix epoch, at midnight UTC.
fn day_ms(option: &'static str, text: &str) -> Result<u64, EvalError> {
    datetime::to_ms(&format!("{}T00:00:00Z", text.trim())).ok_or_else(|| EvalError::Date {
        option,
        text: text.to_owned(),
    })
}

/// FNV-1a of `text`: a fixed, platform-independent choice of the hidden item.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Stores the catalogue and the training orders the way live data is stored;
/// returns (orders accepted, orders refused, first refusal).
async fn load_store(
    db: &Path,
    shop: &retail::Shop,
    cutoff_ms: u64,
) -> Result<(usize, usize, Option<String>), Error> {
    let products = catalog::parse(&Value::Array(shop.feed.clone())).map_err(EvalError::Feed)?;
    let store = Store::open(db)?;
    let result = async {
        catalog::import(&store, products).await?;
        let (mut accepted, mut refused, mut first) = (0, 0, None);
        let mut pending: Vec<Value> = Vec::new();
        let mut bytes = 0;
        let train = shop.orders.iter().filter(|o| o.at_ms < cutoff_ms);
        let mut messages = train.map(|o| retail::order_completed(o, shop)).peekable();
        while let Some(message) = messages.next() {
            bytes += message.to_string().len() + 1;
            pending.push(message);
            let full = pending.len() >= ingest::MAX_MESSAGES
                || bytes >= ingest::MAX_BODY_BYTES - ingest::MAX_MESSAGE_BYTES;
            if !full && messages.peek().is_some() {
                continue;
            }
            let body = serde_json::json!({ "batch": std::mem::take(&mut pending) });
            bytes = 0;
            let batch = ingest::parse_batch(&body).map_err(EvalError::Feed)?;
            refused += batch.rejected.len();
            if first.is_none() {
                first = batch.rejected.first().map(|r| r.error.to_string());
            }
            let events = batch.events;
            let received_at = datetime::now();
            let stored = store
                .write(move |conn| Ok(ingest::insert(conn, &events, &received_at)?))
                .await?;
            accepted += stored.accepted;
        }
        Ok::<_, Error>((accepted, refused, first))
    }
    .await;
    store.close().await;
    result
}

/// Reads the stored orders back per customer: their products, and their profile.
fn read_training(
    conn: &rusqlite::Connection,
    index: &HashMap<String, u32>,
) -> rusqlite::Result<Training> {
    let mut select = conn.prepare(
        "SELECT user_id, timestamp, body FROM events
         WHERE type = 'track' AND event = 'Order Completed' AND user_id IS NOT NULL
         ORDER BY user_id, timestamp, message_id",
    )?;
    let mut rows = select.query([])?;
    let mut training = Training {
        customers: Vec::new(),
        items: Vec::new(),
        profiles: Vec::new(),
    };
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let flush = |training: &mut Training, counts: &mut HashMap<u32, u32>| {
        if let Some(items) = training.items.last_mut() {
            items.extend(counts.drain());
            items.sort_unstable();
        }
    };
    while let Some(row) = rows.next()? {
        let user: String = row.get(0)?;
        let at_ms = datetime::to_ms(&row.get::<_, String>(1)?).unwrap_or_default();
        let body: Value = serde_json::from_str(&row.get::<_, String>(2)?).unwrap_or_default();
        if training.customers.last() != Some(&user) {
            flush(&mut training, &mut counts);
            training.customers.push(user);
            training.items.push(Vec::new());
            training.profiles.push(Profile::new());
        }
        let properties = ingest::properties(&body);
        if let Some(profile) = training.profiles.last_mut() {
            profile.observe("Order Completed", &properties, at_ms);
        }
        let products = body["properties"]["products"].as_array();
        for product in products.into_iter().flatten() {
            if let Some(&item) = product["product_id"].as_str().and_then(|id| index.get(id)) {
                *counts.entry(item).or_default() += 1;
            }
        }
    }
    flush(&mut training, &mut counts);
    Ok(training)
}

/// The top `n` by `scores` (above 0; ties by popularity), then by popularity;
/// never an `excluded` product.
fn top_n(
    scores: &[f32],
    by_popularity: &[u32],
    rank: &[u32],
    excluded: &HashSet<u32>,
    n: usize,
) -> Vec<u32> {
    let mut scored: Vec<u32> = (0..scores.len() as u32)
        .filter(|i| scores[*i as usize] > 0.0 && !excluded.contains(i))
        .collect();
    scored.sort_unstable_by(|&a, &b| {
        scores[b as usize]
            .total_cmp(&scores[a as usize])
            .then(rank[a as usize].cmp(&rank[b as usize]))
    });
    scored.truncate(n);
    for &item in by_popularity {
        if scored.len() >= n {
            break;
        }
        if !excluded.contains(&item) && !scored.contains(&item) {
            scored.push(item);
        }
    }
    scored
}

/// Raw co-occurrence: how many customers bought both, dense (products²).
struct CoCounts {
    n: usize,
    counts: Vec<u16>,
}

impl CoCounts {
    fn new(n: usize, items: &[Vec<(u32, u32)>]) -> CoCounts {
        let mut counts = vec![0u16; n * n];
        for row in items {
            for &(a, _) in row {
                let line = &mut counts[a as usize * n..(a as usize + 1) * n];
                for &(b, _) in row {
                    if a != b {
                        line[b as usize] = line[b as usize].saturating_add(1);
                    }
                }
            }
        }
        CoCounts { n, counts }
    }

    fn scores(&self, from: impl Iterator<Item = u32>) -> Vec<f32> {
        let mut scores = vec![0f32; self.n];
        for a in from {
            let line = &self.counts[a as usize * self.n..(a as usize + 1) * self.n];
            for (score, &count) in scores.iter_mut().zip(line) {
                *score += f32::from(count);
            }
        }
        scores
    }
}

/// `souk-server eval`.
pub async fn run(args: &EvalArgs) -> Result<(), Error> {
    let cutoff_ms = day_ms("--cutoff", &args.cutoff)?;
    let until_ms = match &args.until {
        Some(until) => day_ms("--until", until)?,
        None => u64::MAX,
    };
    let started = Instant::now();
    let shop = retail::load(&args.data).map_err(EvalError::from)?;
    eprintln!(
        "eval: {} lines: {} of cancellation or adjustment invoices, {} with quantity or price <= 0, {} not products, {} sales without a customer; {} products, {} customer orders [{:.1}s]",
        shop.rows, shop.cancelled, shop.not_positive, shop.not_products, shop.guests,
        shop.feed.len(), shop.orders.len(), started.elapsed().as_secs_f64()
    );

    let scratch = std::env::temp_dir().join(format!(
        "souk-eval-{}-{}",
        std::process::id(),
        datetime::now_ms()
    ));
    std::fs::create_dir_all(&scratch).map_err(|source| EvalError::Scratch {
        dir: scratch.clone(),
        source,
    })?;
    let outcome = evaluate(args, &shop, &scratch, cutoff_ms, until_ms, started).await;
    if args.keep {
        eprintln!("eval: kept {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let table = outcome?;
    println!("{table}");
    Ok(())
}

async fn evaluate(
    args: &EvalArgs,
    shop: &retail::Shop,
    scratch: &Path,
    cutoff_ms: u64,
    until_ms: u64,
    started: Instant,
) -> Result<String, Error> {
    let db = scratch.join("eval.db");
    let (accepted, refused, first) = load_store(&db, shop, cutoff_ms).await?;
    eprintln!(
        "eval: stored {accepted} orders before {} through the batch path ({refused} refused{}) [{:.1}s]",
        args.cutoff,
        first.map(|e| format!("; first: {e}")).unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );

    let conn = store::open_read_only(&db)?;
    let catalogue = catalog::read_all(&conn).map_err(store::Error::from)?;
    let index: HashMap<String, u32> = catalogue
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i as u32))
        .collect();
    let n_items = catalogue.len();

    // souk: the model as build-model makes it, as of the cut-off, once per
    // --algorithm.
    let mut souk_models = Vec::new();
    for &algorithm in &args.algorithm {
        let options = model::Options {
            algorithm,
            lambda: args.lambda,
            k: args.k,
            half_life_days: args.half_life_days,
            shrink: args.shrink,
            now_ms: cutoff_ms,
        };
        let clock = Instant::now();
        let built = model::build(&conn, &options, &mut |line| {
            eprintln!("eval: build-model: {line}")
        })?;
        let souk_model = Model::decode(&built.bytes).map_err(EvalError::from)?;
        souk_models.push((built.algorithm, souk_model, clock.elapsed()));
    }

    let training = read_training(&conn, &index).map_err(store::Error::from)?;
    let row_of: HashMap<&str, usize> = training
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();

    // The test cases: each customer's first invoice in [cut-off, until).
    let mut for_you = Vec::new();
    let mut carts = Vec::new();
    let mut tested: HashSet<&str> = HashSet::new();
    for order in &shop.orders {
        if order.at_ms < cutoff_ms || order.at_ms >= until_ms || !tested.insert(&order.customer) {
            continue;
        }
        let items: Vec<u32> = order
            .lines
            .iter()
            .filter_map(|(c, _)| index.get(c).copied())
            .collect();
        if let Some(&person) = row_of.get(order.customer.as_str()) {
            let had = &training.items[person];
            let targets: Vec<u32> = items
                .iter()
                .copied()
                .filter(|i| had.binary_search_by_key(i, |&(item, _)| item).is_err())
                .collect();
            if !targets.is_empty() {
                for_you.push(ForYouCase {
                    person,
                    at_ms: order.at_ms,
                    targets,
                });
            }
        }
        if items.len() >= 2 {
            let hide = (fnv(&order.invoice) % items.len() as u64) as usize;
            let mut cart = items.clone();
            let hidden = cart.remove(hide);
            carts.push(CartCase { cart, hidden });
        }
    }
    if for_you.is_empty() && carts.is_empty() {
        return Err(EvalError::NoCases(args.cutoff.clone()).into());
    }
    eprintln!(
        "eval: {} customers before the cut-off; {} picked-for-you cases, {} cart cases",
        training.customers.len(),
        for_you.len(),
        carts.len()
    );
    let history = |person: usize| -> HashSet<u32> {
        training.items[person].iter().map(|&(i, _)| i).collect()
    };

    let mut rows = Vec::new();
    // (a) popularity: training invoices per product.
    let clock = Instant::now();
    let mut invoices = vec![0u32; n_items];
    for items in &training.items {
        for &(item, count) in items {
            invoices[item as usize] += count;
        }
    }
    let mut by_popularity: Vec<u32> = (0..n_items as u32).collect();
    by_popularity.sort_by(|&a, &b| {
        invoices[b as usize]
            .cmp(&invoices[a as usize])
            .then(a.cmp(&b))
    });
    let mut rank = vec![0u32; n_items];
    for (r, &item) in by_popularity.iter().enumerate() {
        rank[item as usize] = r as u32;
    }
    let popularity_build = clock.elapsed();
    let none = vec![0f32; n_items];
    let mut row = Row {
        method: "popularity".into(),
        build: popularity_build,
        for_you: Tally::default(),
        cart: Tally::default(),
    };
    for case in &for_you {
        let top = top_n(&none, &by_popularity, &rank, &history(case.person), N);
        row.for_you.add(&top, &case.targets, N);
    }
    for case in &carts {
        let top = top_n(
            &none,
            &by_popularity,
            &rank,
            &case.cart.iter().copied().collect(),
            N,
        );
        row.cart.add(&top, &[case.hidden], N);
    }
    rows.push(row);

    // (b) plain item-kNN on raw co-occurrence counts.
    let clock = Instant::now();
    let co = CoCounts::new(n_items, &training.items);
    let mut row = Row {
        method: "item-kNN (raw counts)".into(),
        build: clock.elapsed(),
        for_you: Tally::default(),
        cart: Tally::default(),
    };
    for case in &for_you {
        let had = history(case.person);
        let scores = co.scores(had.iter().copied());
        row.for_you.add(
            &top_n(&scores, &by_popularity, &rank, &had, N),
            &case.targets,
            N,
        );
    }
    for case in &carts {
        let scores = co.scores(case.cart.iter().copied());
        let top = top_n(
            &scores,
            &by_popularity,
            &rank,
            &case.cart.iter().copied().collect(),
            N,
        );
        row.cart.add(&top, &[case.hidden], N);
    }
    drop(co);
    rows.push(row);

    // (b') EASE, dense: skipped above --ease-max-products.
    if n_items <= args.ease_max_products {
        let clock = Instant::now();
        let ease = ease::Ease::fit(n_items, &training.items, args.ease_lambda);
        let mut row = Row {
            method: format!("EASE (λ={})", args.ease_lambda),
            build: clock.elapsed(),
            for_you: Tally::default(),
            cart: Tally::default(),
        };
        eprintln!("eval: EASE fitted [{:.1}s]", row.build.as_secs_f64());
        for case in &for_you {
            let had = history(case.person);
            let scores = ease.scores(had.iter().copied());
            row.for_you.add(
                &top_n(&scores, &by_popularity, &rank, &had, N),
                &case.targets,
                N,
            );
        }
        for case in &carts {
            let excluded = case.cart.iter().copied().collect();
            let scores = ease.scores(case.cart.iter().copied());
            row.cart.add(
                &top_n(&scores, &by_popularity, &rank, &excluded, N),
                &[case.hidden],
                N,
            );
        }
        rows.push(row);
    } else {
        eprintln!("eval: EASE skipped: {n_items} products is above --ease-max-products");
    }

    // (c) souk: the model file and the plugin's scorer.
    let rules = Rules {
        max_per_category: args
            .max_per_category
            .unwrap_or(recommend::DEFAULT_MAX_PER_CATEGORY),
        ..Rules::default()
    };
    let ids = |items: &mut dyn Iterator<Item = u32>| -> Vec<&str> {
        items.map(|i| catalogue[i as usize].id.as_str()).collect()
    };
    for (algorithm, souk_model, souk_build) in &souk_models {
        let setting = match algorithm {
            model::Algorithm::Ease => format!("λ={}", args.lambda),
            _ => format!("shrink {}", args.shrink),
        };
        let mut row = Row {
            method: format!(
                "souk {} (K={}, half-life {}d, {setting})",
                algorithm.name(),
                args.k,
                args.half_life_days
            ),
            build: *souk_build,
            for_you: Tally::default(),
            cart: Tally::default(),
        };
        for case in &for_you {
            let had = history(case.person);
            let exclude = ids(&mut had.iter().copied());
            let picks = recommend::for_you(
                souk_model,
                &training.profiles[case.person],
                case.at_ms,
                &exclude,
                N,
                &rules,
            );
            let top: Vec<u32> = picks.iter().map(|p| p.product).collect();
            row.for_you.add(&top, &case.targets, N);
        }
        for case in &carts {
            let cart = ids(&mut case.cart.iter().copied());
            let picks = recommend::with_cart(souk_model, &cart, &[], N, &rules);
            let top: Vec<u32> = picks.iter().map(|p| p.product).collect();
            row.cart.add(&top, &[case.hidden], N);
        }
        rows.push(row);
    }

    // (d) implicit, on the same split.
    if args.no_implicit {
        eprintln!("eval: implicit skipped (--no-implicit)");
    } else {
        match implicit_rows(scratch, &training, &for_you, &carts, n_items) {
            Ok(mut more) => rows.append(&mut more),
            Err(why) => eprintln!("eval: implicit not run: {why}"),
        }
    }

    let mut table = String::new();
    let _ = writeln!(
        table,
        "\nCut-off {}{}; {} products, {} training customers, {} training orders. Top {N}, scored by the same code.\n",
        args.cutoff,
        args.until.as_ref().map(|u| format!(", tests before {u}")).unwrap_or_default(),
        n_items,
        training.customers.len(),
        accepted
    );
    let _ = writeln!(
        table,
        "| method | task | cases | hit-rate@{N} | NDCG@{N} | MRR@{N} | coverage | build |"
    );
    let _ = writeln!(table, "|---|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        for (task, tally) in [
            ("picked for you", &row.for_you),
            ("with the cart", &row.cart),
        ] {
            let _ = writeln!(
                table,
                "| {} | {task} | {} | {:.4} | {:.4} | {:.4} | {:.1}% | {:.2}s |",
                row.method,
                tally.cases(),
                tally.hit_rate(),
                tally.ndcg(),
                tally.mrr(),
                100.0 * tally.coverage(n_items),
                row.build.as_secs_f64()
            );
        }
    }
    Ok(table)
}

/// The venv's Python with `implicit` importable, made if missing.
fn implicit_python() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = root.join("target").join("implicit-venv");
    let python = venv.join("bin").join("python");
    let works = |python: &Path| {
        Command::new(python)
            .args(["-c", "import implicit, numpy, scipy"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if python.exists() && works(&python) {
        return Ok(python);
    }
    eprintln!(
        "eval: creating {} with implicit=={IMPLICIT_VERSION} (once)",
        venv.display()
    );
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let tail = String::from_utf8_lossy(&out.stderr);
            let tail: String = tail.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
            Err(format!("{cmd:?} failed: {tail}"))
        }
    };
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "-q",
        &format!("implicit=={IMPLICIT_VERSION}"),
        "numpy",
        "scipy",
    ]))?;
    if works(&python) {
        Ok(python)
    } else {
        Err("implicit installed but does not import".into())
    }
}

/// Writes the split, runs `bench/implicit_eval.py` and scores its lists.
fn implicit_rows(
    scratch: &Path,
    training: &Training,
    for_you: &[ForYouCase],
    carts: &[CartCase],
    n_items: usize,
) -> Result<Vec<Row>, String> {
    let python = implicit_python()?;
    let dir = scratch.join("split");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut train = String::from("user,item,count\n");
    for (user, items) in training.items.iter().enumerate() {
        for &(item, count) in items {
            let _ = writeln!(train, "{user},{item},{count}");
        }
    }
    let mut cases = String::from("task,case,user,items\n");
    for (i, case) in for_you.iter().enumerate() {
        let _ = writeln!(cases, "foryou,{i},{},", case.person);
    }
    for (i, case) in carts.iter().enumerate() {
        let items: Vec<String> = case.cart.iter().map(u32::to_string).collect();
        let _ = writeln!(cases, "cart,{i},,{}", items.join(" "));
    }
    let write =
        |name: &str, text: &str| std::fs::write(dir.join(name), text).map_err(|e| e.to_string());
    write("train.csv", &train)?;
    write("cases.csv", &cases)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/implicit_eval.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&dir)
        .arg(n_items.to_string())
        .arg(training.customers.len().to_string())
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut rows: Vec<Row> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split(',').collect();
        match fields.as_slice() {
            ["fit", method, seconds] => rows.push(Row {
                method: (*method).to_owned(),
                build: Duration::from_secs_f64(seconds.parse().unwrap_or_default()),
                for_you: Tally::default(),
                cart: Tally::default(),
            }),
            ["rec", method, task, case, items] => {
                let Some(row) = rows.iter_mut().find(|r| r.method == *method) else {
                    continue;
                };
                let top: Vec<u32> = items.split(' ').filter_map(|i| i.parse().ok()).collect();
                let case: usize = case.parse().unwrap_or(usize::MAX);
                match *task {
                    "foryou" => {
                        if let Some(c) = for_you.get(case) {
                            row.for_you.add(&top, &c.targets, N)
                        }
                    }
                    _ => {
                        if let Some(c) = carts.get(case) {
                            row.cart.add(&top, &[c.hidden], N)
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if rows.is_empty() {
        return Err(format!("{} printed no results", script.display()));
    }
    Ok(rows)
}
