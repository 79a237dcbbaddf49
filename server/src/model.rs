//! The recommendation model: `souk-server build-model`, the rebuilds inside `serve`,
//! and `GET /v1/model`.
//!
//! # What goes in
//!
//! The imported catalogue ([`catalog`]) and the stored `track` events that name
//! catalogue products: `Product Viewed` ([`VIEW_WEIGHT`]), `Product Added`
//! ([`ADD_WEIGHT`]) and each product of an `Order Completed` ([`ORDER_WEIGHT`]),
//! read from `properties.product_id` and `properties.products[].product_id`. A
//! quantity does not multiply the weight: three of a thing is one signal. Each
//! event's weight is halved every `half_life_days` of its age (its `timestamp`), so
//! last month counts half as much as today.
//!
//! Events are grouped per *person*: the identity graph's profile
//! ([`identity`](crate::identity)) of the event's userId, else of its anonymousId,
//! so a shopper's browsing before and after logging in counts together. Events from
//! before the graph knew an id fall back to the userId, then the anonymousId.
//!
//! # The person × product weights
//!
//! A person's weight for a product is `ln(1 + Σ decayed event weights)`: the log
//! keeps one shopper who opened a page fifty times from outweighing fifty shoppers.
//! Only a person's [`MAX_ITEMS_PER_PERSON`] strongest products are kept, which bounds
//! the work a crawler or a shared kiosk can cause. Both algorithms start from these
//! [`Interactions`], and both end in each product's K strongest neighbours,
//! quantised by [`Neighbour::new`], which the plugin's scorer sums.
//!
//! # The algorithms: EASE, and item-kNN for large catalogues
//!
//! `--algorithm auto` (what `serve` uses) picks EASE when at most
//! [`EASE_MAX_PRODUCTS`] products have signal and item-kNN above; `ease` and `knn`
//! force one.
//!
//! **EASE** ([`ease`]; Steck 2019) fits the item-item weights `B` that best predict
//! each product's column of the matrix from the others, in closed form:
//! `B = I − P·diag(1/P_jj)` with `P = (XᵀX + λI)⁻¹` (λ = [`DEFAULT_LAMBDA`]) and a
//! zero diagonal. Row `i` of `B` is what a weight on product `i` adds to each other
//! product's score, so its K largest positive weights are product `i`'s
//! neighbours, as they are (a weight above 1 counts as 1); the scorer's sum over
//! what a shopper touched is then EASE's own prediction, cut to K terms. Unlike
//! cosine it discounts what a product's neighbours already explain together, and
//! on the UCI Online Retail data it ranks the hidden cart item 15 % better (NDCG at
//! 10) than item-kNN (`bench/README.md`). The cost is a dense matrix over the
//! products with signal: time grows with their cube, memory with their square.
//!
//! **Item-kNN** ([`similarities`]): the similarity of products *i* and *j* is the
//! cosine of their columns, shrunk towards zero when few people share them:
//!
//! ```text
//! sim(i, j) = (Σ_u r_ui · r_uj) / (‖r_i‖ · ‖r_j‖) · n_ij / (n_ij + SHRINK)
//! ```
//!
//! where `n_ij` counts the people who touched both. The matrix is never dense:
//! products are scored one at a time by walking the people who touched it and
//! their own (short) lists, with one accumulator the size of the catalogue, so the
//! cost is `Σ_people (items per person)²` and the memory is that of the
//! interactions: 10,000 products and 100,000 people take about 1.6 s.
//!
//! Popularity by category is each product's decayed interaction sum, and trending
//! is the undecayed sum over the last [`TRENDING_DAYS`] days. Products with no
//! signal are in the catalogue part with no neighbours and in no list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use souk::core::model::{self, Model, ModelError, Neighbour, Parts, Product};

use crate::catalog::{self, CatalogProduct};
use crate::cli::BuildModelArgs;
use crate::http::{ApiError, AppState};
use crate::{datetime, store, Error};

pub mod ease;

/// The weight of a `Product Viewed`.
pub const VIEW_WEIGHT: f32 = 1.0;
/// The weight of a `Product Added` (to the cart).
pub const ADD_WEIGHT: f32 = 3.0;
/// The weight of each product of an `Order Completed`.
pub const ORDER_WEIGHT: f32 = 5.0;

/// Neighbours kept per product unless `--k` says otherwise.
pub const DEFAULT_K: u16 = 20;
/// The age at which an event counts half, unless `--half-life-days` says otherwise.
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 30.0;
/// The shrinkage, in people: a pair shared by `SHRINK` people keeps half its cosine.
pub const SHRINK: f32 = 5.0;
/// The most products one person contributes, their strongest.
pub const MAX_ITEMS_PER_PERSON: usize = 200;
/// The length of each category's popular list.
pub const POPULAR_PER_CATEGORY: usize = 50;
/// The length of the trending list.
pub const TRENDING_LEN: usize = 50;
/// The window of the trending list, in days.
pub const TRENDING_DAYS: u64 = 7;

/// EASE's L2 penalty λ unless `--lambda` says otherwise, on the scale of the
/// damped person × product weights: chosen on a validation split of the UCI
/// Online Retail data (`bench/README.md`).
pub const DEFAULT_LAMBDA: f64 = 50.0;
/// The most products with signal that `auto` builds with EASE; above it, item-kNN.
/// EASE's inversion grows with the cube of the products and its memory with the
/// square: on 2 cores, 0.5 s for 3,900, 6.4 s for 10,000, and at this limit 21 s
/// and at most 2.7 GB (three `f32` matrices, `12 × products²` bytes).
pub const EASE_MAX_PRODUCTS: usize = 15_000;

/// How long a client may use a fetched model before asking again, in seconds.
pub const MAX_AGE_SECONDS: u32 = 300;

const DAY_MS: f64 = 86_400_000.0;

/// Which algorithm makes the neighbour lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// EASE up to [`EASE_MAX_PRODUCTS`] products with signal, item-kNN above.
    Auto,
    /// EASE, whatever the number of products.
    Ease,
    /// Item-kNN on cosine with co-occurrence shrinkage.
    Knn,
}

impl Algorithm {
    /// Its name in progress lines and the eval table.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Auto => "auto",
            Algorithm::Ease => "EASE",
            Algorithm::Knn => "item-kNN",
        }
    }
}

/// What a build is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Which algorithm makes the neighbour lists.
    pub algorithm: Algorithm,
    /// EASE's L2 penalty λ ([`DEFAULT_LAMBDA`]).
    pub lambda: f64,
    /// The most neighbours per product.
    pub k: u16,
    /// The age at which an event counts half, in days.
    pub half_life_days: f64,
    /// The co-occurrence shrinkage, in people ([`SHRINK`]).
    pub shrink: f32,
    /// The build's "now", in ms since the Unix epoch: ages count back from it.
    pub now_ms: u64,
}

impl Options {
    /// The defaults, as of now.
    pub fn now() -> Options {
        Options {
            algorithm: Algorithm::Auto,
            lambda: DEFAULT_LAMBDA,
            k: DEFAULT_K,
            half_life_days: DEFAULT_HALF_LIFE_DAYS,
            shrink: SHRINK,
            now_ms: datetime::now_ms(),
        }
    }
}

/// Why a model could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// There is no catalogue to build from.
    #[error("no catalogue is imported yet, so there is nothing to recommend: run `souk-server import-catalog --db FILE --file catalog.json` (or start serve with --catalog FILE) first")]
    NoCatalogue,
    /// The model did not fit the file format.
    #[error("cannot lay out the model file: {0}")]
    Model(#[from] ModelError),
    /// A query failed.
    #[error("database error while building the model: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// A built model file and what went into it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The model file.
    pub bytes: Vec<u8>,
    /// Products in the catalogue.
    pub products: usize,
    /// Products with at least one neighbour.
    pub with_neighbours: usize,
    /// The algorithm that made the neighbour lists: EASE or item-kNN, never auto.
    pub algorithm: Algorithm,
    /// Product events read that name a catalogue product.
    pub events: u64,
    /// Product events read that name a product the catalogue lacks.
    pub unmatched: u64,
    /// People with at least one such event.
    pub people: usize,
}

/// The person × product weights that similarities are computed from, one row per
/// person: each row's products are distinct, and its weights positive.
#[derive(Debug, Clone, Default)]
pub struct Interactions {
    items: usize,
    /// Where each person's row starts in `entries`, and one past the last row.
    starts: Vec<usize>,
    entries: Vec<(u32, f32)>,
}

impl Interactions {
    /// Rows from `(person, product, weight)` triples over `items` products: weights of
    /// the same pair are summed, then damped to `ln(1 + sum)`, and each person keeps
    /// their [`MAX_ITEMS_PER_PERSON`] strongest products.
    pub fn new(items: usize, mut triples: Vec<(u32, u32, f32)>) -> Interactions {
        triples.sort_unstable_by_key(|&(person, item, _)| (person, item));
        let mut out = Interactions {
            items,
            starts: vec![0],
            entries: Vec::with_capacity(triples.len()),
        };
        let mut at = 0;
        while at < triples.len() {
            let person = triples[at].0;
            let row_start = out.entries.len();
            while at < triples.len() && triples[at].0 == person {
                let item = triples[at].1;
                let mut sum = 0.0;
                while at < triples.len() && triples[at].0 == person && triples[at].1 == item {
                    sum += triples[at].2;
                    at += 1;
                }
                if sum > 0.0 {
                    out.entries.push((item, sum.ln_1p()));
                }
            }
            let row = &mut out.entries[row_start..];
            if row.len() > MAX_ITEMS_PER_PERSON {
                row.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                out.entries.truncate(row_start + MAX_ITEMS_PER_PERSON);
            }
            if out.entries.len() > row_start {
                out.starts.push(out.entries.len());
            }
        }
        out
    }

    /// How many products the columns stand for.
    pub fn items(&self) -> usize {
        self.items
    }

    /// How many people have a row.
    pub fn people(&self) -> usize {
        self.starts.len() - 1
    }

    /// How many (person, product) weights there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many products someone touched.
    pub fn products_with_signal(&self) -> usize {
        let mut seen = vec![false; self.items];
        self.entries
            .iter()
            .filter(|&&(item, _)| !std::mem::replace(&mut seen[item as usize], true))
            .count()
    }

    /// The products and weights of the person at `row`.
    pub fn row(&self, row: usize) -> &[(u32, f32)] {
        &self.entries[self.starts[row]..self.starts[row + 1]]
    }
}

/// The item-kNN's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Knn {
    /// The most neighbours per product.
    pub k: usize,
    /// The co-occurrence shrinkage, in people ([`SHRINK`]).
    pub shrink: f32,
}

/// Each product's neighbours, strongest first: item-kNN on cosine with co-occurrence
/// shrinkage (see the module's docs). [`ease`] is the other way to neighbour lists.
pub fn similarities(interactions: &Interactions, knn: &Knn) -> Vec<Vec<Neighbour>> {
    let n = interactions.items();
    // The columns: for each product, the people who touched it and their weight.
    let mut column_starts = vec![0usize; n + 1];
    for &(item, _) in &interactions.entries {
        column_starts[item as usize + 1] += 1;
    }
    for i in 0..n {
        column_starts[i + 1] += column_starts[i];
    }
    let mut fill = column_starts.clone();
    let mut columns = vec![(0u32, 0f32); interactions.len()];
    let mut norms = vec![0f32; n];
    for person in 0..interactions.people() {
        for &(item, weight) in interactions.row(person) {
            let slot = &mut fill[item as usize];
            columns[*slot] = (person as u32, weight);
            *slot += 1;
            norms[item as usize] += weight * weight;
        }
    }
    norms.iter_mut().for_each(|n| *n = n.sqrt());

    let mut dot = vec![0f32; n];
    let mut shared = vec![0u32; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut scored: Vec<(f32, u32)> = Vec::new();
    let mut neighbours = Vec::with_capacity(n);
    for i in 0..n {
        for &(person, weight_i) in &columns[column_starts[i]..column_starts[i + 1]] {
            for &(j, weight_j) in interactions.row(person as usize) {
                if j as usize == i {
                    continue;
                }
                let j = j as usize;
                if shared[j] == 0 {
                    touched.push(j as u32);
                }
                shared[j] += 1;
                dot[j] += weight_i * weight_j;
            }
        }
        scored.clear();
        for j in touched.drain(..) {
            let ju = j as usize;
            let together = shared[ju] as f32;
            let cosine = dot[ju] / (norms[i] * norms[ju]);
            scored.push((cosine * together / (together + knn.shrink), j));
            dot[ju] = 0.0;
            shared[ju] = 0;
        }
        let strongest = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scored.len() > knn.k && knn.k > 0 {
            scored.select_nth_unstable_by(knn.k - 1, strongest);
        }
        scored.truncate(knn.k);
        scored.sort_unstable_by(strongest);
        neighbours.push(
            scored
                .iter()
                .map(|&(similarity, j)| Neighbour::new(j, similarity))
                .filter(|neighbour| neighbour.weight > 0)
                .collect(),
        );
    }
    neighbours
}

/// Who did something: a profile of the identity graph, else a userId, else an
/// anonymousId.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Person {
    Profile(i64),
    User(String),
    Anonymous(String),
}

/// What the events say: the interactions' triples and each product's totals.
struct Signals {
    triples: Vec<(u32, u32, f32)>,
    popularity: Vec<f64>,
    trending: Vec<f64>,
    events: u64,
    unmatched: u64,
}

/// Reads the product events and weighs them; `index` maps a catalogue id to its
/// product index.
fn read_signals(
    conn: &Connection,
    index: &HashMap<&str, u32>,
    options: &Options,
) -> rusqlite::Result<Signals> {
    let mut signals = Signals {
        triples: Vec::new(),
        popularity: vec![0.0; index.len()],
        trending: vec![0.0; index.len()],
        events: 0,
        unmatched: 0,
    };
    let mut people: HashMap<Person, u32> = HashMap::new();
    let half_life_ms = options.half_life_days * DAY_MS;
    let trending_from = options.now_ms.saturating_sub(TRENDING_DAYS * DAY_MS as u64);
    // Views and adds name one product; an order, each of its products.
    let who =
        "COALESCE(pu.profile_id, pa.profile_id), e.user_id, e.anonymous_id, e.timestamp, e.event";
    let profiles = "LEFT JOIN identities pu ON pu.kind = 'user_id' AND pu.value = e.user_id
         LEFT JOIN identities pa ON pa.kind = 'anonymous_id' AND pa.value = e.anonymous_id";
    let queries = [
        format!(
            "SELECT {who}, json_extract(e.body, '$.properties.product_id')
             FROM events e {profiles}
             WHERE e.type = 'track' AND e.event IN ('Product Viewed', 'Product Added')
               AND json_valid(e.body)"
        ),
        format!(
            "SELECT {who}, json_extract(item.value, '$.product_id')
             FROM events e
             JOIN json_each(iif(json_valid(e.body), e.body, '{{}}'), '$.properties.products') item
             {profiles}
             WHERE e.type = 'track' AND e.event = 'Order Completed' AND item.type = 'object'"
        ),
    ];
    for sql in &queries {
        let mut statement = conn.prepare(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let product = match row.get::<_, SqlValue>(5)? {
                SqlValue::Text(id) => index.get(id.as_str()).copied(),
                SqlValue::Integer(id) => index.get(id.to_string().as_str()).copied(),
                _ => continue,
            };
            let Some(product) = product else {
                signals.unmatched += 1;
                continue;
            };
            let person = match (row.get::<_, Option<i64>>(0)?, row.get(1)?, row.get(2)?) {
                (Some(profile), _, _) => Person::Profile(profile),
                (None, Some(user), _) => Person::User(user),
                (None, None, Some(anonymous)) => Person::Anonymous(anonymous),
                (None, None, None) => continue,
            };
            let Some(at_ms) = datetime::to_ms(&row.get::<_, String>(3)?) else {
                continue;
            };
            let weight = match row.get_ref(4)?.as_str()? {
                "Product Viewed" => VIEW_WEIGHT,
                "Product Added" => ADD_WEIGHT,
                _ => ORDER_WEIGHT,
            };
            let age_ms = options.now_ms.saturating_sub(at_ms) as f64;
            let decayed = f64::from(weight) * (-age_ms / half_life_ms).exp2();
            let next = people.len() as u32;
            let person = *people.entry(person).or_insert(next);
            signals.triples.push((person, product, decayed as f32));
            signals.popularity[product as usize] += decayed;
            if at_ms >= trending_from {
                signals.trending[product as usize] += f64::from(weight);
            }
            signals.events += 1;
        }
    }
    Ok(signals)
}

/// The indices of the products scoring above zero among `candidates`, highest first
/// (ties by index), at most `len`.
fn top(scores: &[f64], candidates: impl Iterator<Item = u32>, len: usize) -> Vec<u32> {
    let mut ranked: Vec<u32> = candidates.filter(|&i| scores[i as usize] > 0.0).collect();
    ranked.sort_unstable_by(|&a, &b| {
        scores[b as usize]
            .total_cmp(&scores[a as usize])
            .then(a.cmp(&b))
    });
    ranked.truncate(len);
    ranked
}

/// Builds the model from the catalogue and events in `conn`, calling `report` with a
/// line per phase (counts and elapsed time).
pub fn build(
    conn: &Connection,
    options: &Options,
    report: &mut dyn FnMut(&str),
) -> Result<Built, BuildError> {
    let started = Instant::now();
    let mut phase =
        |line: String| report(&format!("{line} [{:.2}s]", started.elapsed().as_secs_f64()));
    let catalogue = read_catalogue(conn)?;
    let mut categories: Vec<&str> = catalogue.iter().map(|p| p.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    phase(format!(
        "catalogue: {} products in {} categories",
        catalogue.len(),
        categories.len()
    ));

    let index: HashMap<&str, u32> = catalogue
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i as u32))
        .collect();
    let signals = read_signals(conn, &index, options)?;
    let interactions = Interactions::new(catalogue.len(), signals.triples);
    phase(format!(
        "events: {} product events from {} people ({} name products not in the catalogue); {} person-product pairs",
        signals.events,
        interactions.people(),
        signals.unmatched,
        interactions.len()
    ));

    let with_signal = interactions.products_with_signal();
    let k = usize::from(options.k);
    let mut algorithm = match options.algorithm {
        Algorithm::Auto if with_signal <= EASE_MAX_PRODUCTS => Algorithm::Ease,
        Algorithm::Auto => {
            phase(format!("{with_signal} products with signal is above EASE's limit of {EASE_MAX_PRODUCTS}: item-kNN"));
            Algorithm::Knn
        }
        chosen => chosen,
    };
    let mut neighbours = Vec::new();
    if algorithm == Algorithm::Ease {
        let gram = ease::Gram::new(&interactions, options.lambda);
        let m = gram.products();
        phase(format!(
            "EASE: the {m} × {m} matrix of the products with signal, λ = {}",
            options.lambda
        ));
        match gram.invert() {
            Ok(inverse) => {
                phase("EASE: inverted".into());
                neighbours = inverse.neighbours(catalogue.len(), k);
            }
            Err(e) => {
                phase(format!("EASE failed, so item-kNN instead: {e}"));
                algorithm = Algorithm::Knn;
            }
        }
    }
    if algorithm == Algorithm::Knn {
        let knn = Knn {
            k,
            shrink: options.shrink,
        };
        neighbours = similarities(&interactions, &knn);
    }
    let with_neighbours = neighbours.iter().filter(|n| !n.is_empty()).count();
    phase(format!(
        "similarities: {with_neighbours} of {} products have neighbours ({}, k = {})",
        catalogue.len(),
        algorithm.name(),
        options.k
    ));

    let category_of: Vec<u32> = catalogue
        .iter()
        .map(|p| {
            categories
                .binary_search(&p.category.as_str())
                .unwrap_or_default() as u32
        })
        .collect();
    let popular = (0..categories.len() as u32)
        .map(|c| {
            let members = || (0..catalogue.len() as u32).filter(|&i| category_of[i as usize] == c);
            // What shoppers chose first; then the rest of the category, in catalogue
            // order, so a new shop's "similar" row still shows its neighbours on the shelf.
            let mut list = top(&signals.popularity, members(), POPULAR_PER_CATEGORY);
            let unseen: Vec<u32> = members()
                .filter(|&i| signals.popularity[i as usize] <= 0.0)
                .collect();
            list.extend(
                unseen
                    .into_iter()
                    .take(POPULAR_PER_CATEGORY.saturating_sub(list.len())),
            );
            list
        })
        .collect();
    let trending = top(&signals.trending, 0..catalogue.len() as u32, TRENDING_LEN);
    let parts = Parts {
        created_at_ms: options.now_ms,
        k: options.k,
        categories,
        products: catalogue
            .iter()
            .zip(&category_of)
            .map(|(p, &category)| Product {
                id: &p.id,
                name_en: &p.name_en,
                name_ar: &p.name_ar,
                price_minor: p.price_minor,
                currency: &p.currency,
                url: &p.url,
                image_url: &p.image_url,
                category,
                in_stock: p.in_stock,
            })
            .collect(),
        neighbours,
        popular,
        trending,
    };
    let bytes = Model::new(&parts)?.encode();
    phase(format!("model: {} bytes", bytes.len()));
    Ok(Built {
        bytes,
        products: catalogue.len(),
        with_neighbours,
        algorithm,
        events: signals.events,
        unmatched: signals.unmatched,
        people: interactions.people(),
    })
}

/// The stored catalogue in id order; [`BuildError::NoCatalogue`] when there is none
/// (or the database predates catalogues).
fn read_catalogue(conn: &Connection) -> Result<Vec<CatalogProduct>, BuildError> {
    if store::schema_version(conn)? < 5 {
        return Err(BuildError::NoCatalogue);
    }
    let catalogue = catalog::read_all(conn)?;
    if catalogue.is_empty() {
        return Err(BuildError::NoCatalogue);
    }
    Ok(catalogue)
}

/// The strong ETag of a model file: the hex FNV-1a 64 of its bytes, quoted.
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{:016x}\"", model::checksum(bytes))
}

/// `souk-server build-model`: builds from a read-only connection (so `serve` may be
/// running on the database) and writes the file in place of `--out` atomically.
pub fn run(args: &BuildModelArgs) -> Result<(), Error> {
    let conn = store::open_read_only(&args.db)?;
    let options = Options {
        algorithm: args.algorithm,
        lambda: args.lambda,
        k: args.k,
        half_life_days: args.half_life_days,
        shrink: SHRINK,
        now_ms: datetime::now_ms(),
    };
    let built = build(&conn, &options, &mut |line| {
        eprintln!("build-model: {line}")
    })?;
    let output = |source| Error::Output {
        to: args.out.display().to_string(),
        source,
    };
    let mut temporary = args.out.clone().into_os_string();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, &built.bytes).map_err(output)?;
    std::fs::rename(&temporary, &args.out).map_err(output)?;
    eprintln!(
        "build-model: wrote {} ({} products, {} with neighbours by {}; ETag {})",
        args.out.display(),
        built.products,
        built.with_neighbours,
        built.algorithm.name(),
        etag(&built.bytes)
    );
    Ok(())
}

/// A built model as served: its bytes and ETag.
#[derive(Debug)]
pub struct Published {
    /// The model file.
    pub bytes: Bytes,
    /// Its strong ETag, see [`etag`].
    pub etag: HeaderValue,
}

/// The model `GET /v1/model` serves; rebuilds swap it in whole.
#[derive(Debug, Clone, Default)]
pub struct Latest(Arc<RwLock<Option<Arc<Published>>>>);

impl Latest {
    /// Serves `bytes` from now on; returns its ETag.
    pub fn publish(&self, bytes: Vec<u8>) -> String {
        let tag = etag(&bytes);
        let published = Published {
            etag: HeaderValue::from_str(&tag).expect("a quoted hex string is a header value"),
            bytes: Bytes::from(bytes),
        };
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(published));
        tag
    }

    /// The model being served, if one was built.
    pub fn current(&self) -> Option<Arc<Published>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl FromRef<AppState> for Latest {
    fn from_ref(state: &AppState) -> Self {
        state.model.clone()
    }
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, as RFC 9110 asks
/// for this header; `*` matches any).
fn none_match(header: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(list) = header.to_str() else {
        return false;
    };
    let wanted = etag.to_str().unwrap_or_default();
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == wanted)
}

/// `GET /v1/model`: the latest model file, public like the catalogue it carries.
/// Strong ETag, `Cache-Control: public, max-age=300`, 304 for a matching
/// `If-None-Match`; gzip or brotli come from the router's compression layer.
pub async fn get(State(latest): State<Latest>, headers: HeaderMap) -> Response {
    let Some(model) = latest.current() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "no recommendation model has been built yet: import the catalogue (`souk-server import-catalog --db FILE --file catalog.json`, or `serve --catalog FILE`) and restart serve, which builds one at startup, or run serve with --model-every (such as 1h) to rebuild on a schedule",
        )
        .into_response();
    };
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    let tag = (header::ETAG, model.etag.clone());
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|h| none_match(h, &model.etag))
    {
        return (StatusCode::NOT_MODIFIED, [tag, cache]).into_response();
    }
    let kind = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    ([kind, tag, cache], model.bytes.clone()).into_response()
}

/// Parses `--model-every`: a whole number and a unit, `s`, `m`, `h` or `d`
/// (`30m`, `1h`, `1d`).
pub fn parse_every(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not an interval: write a whole number and a unit, s, m, h or d, such as 30m, 1h or 1d"
            ))
        }
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n.saturating_mul(seconds))),
        _ => Err(format!(
            "{text:?} is not an interval: the number must be a whole number above 0, such as 30m, 1h or 1d"
        )),
    }
}

/// Builds the model from the database at `db` on a blocking thread and publishes it;
/// logs what happened. Leaves the model being served alone if the build fails.
pub async fn rebuild(db: &Path, latest: &Latest) {
    let db = db.to_owned();
    let result = tokio::task::spawn_blocking(move || -> Result<Built, Error> {
        let conn = store::open_read_only(&db)?;
        let built = build(&conn, &Options::now(), &mut |line| {
            tracing::debug!("build-model: {line}")
        })?;
        Ok(built)
    })
    .await;
    match result {
        Ok(Ok(built)) => {
            let started = Instant::now();
            let (bytes, products, with, events, people) = (
                built.bytes.len(),
                built.products,
                built.with_neighbours,
                built.events,
                built.people,
            );
            let tag = latest.publish(built.bytes);
            tracing::info!(products, with_neighbours = with, events, people, bytes, etag = %tag, swap_ms = started.elapsed().as_millis() as u64, "recommendation model built; /v1/model serves it");
        }
        Ok(Err(Error::Model(BuildError::NoCatalogue))) => {
            tracing::info!("no catalogue imported yet; /v1/model answers 404 until one is (serve --catalog FILE, or souk-server import-catalog)")
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the recommendation model could not be built; the previous one is still served")
        }
        Err(_) => tracing::error!(
            "the recommendation model build panicked; the previous one is still served"
        ),
    }
}

/// Builds the model now and then every `every` (if given), in the background.
pub fn schedule(
    db: PathBuf,
    latest: Latest,
    every: Option<Duration>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            rebuild(&db, &latest).await;
            match every {
                Some(every) => tokio::time::sleep(every).await,
                None => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knn(k: usize) -> Knn {
        Knn { k, shrink: SHRINK }
    }

    #[test]
    fn products_seen_together_are_neighbours_and_the_rest_are_not() {
        // Five people view 0 and 1; one views 0 and 2; 3 is seen alone.
        let mut triples = Vec::new();
        for person in 0..5 {
            triples.extend([(person, 0, 1.0), (person, 1, 1.0)]);
        }
        triples.extend([(5, 0, 1.0), (5, 2, 1.0), (6, 3, 1.0)]);
        let interactions = Interactions::new(5, triples);
        assert_eq!(interactions.people(), 7);
        let neighbours = similarities(&interactions, &knn(10));
        assert_eq!(neighbours[0][0].product, 1);
        assert_eq!(neighbours[0][1].product, 2);
        assert!(neighbours[0][0].weight > neighbours[0][1].weight);
        assert_eq!(neighbours[1].len(), 1);
        assert!(neighbours[3].is_empty() && neighbours[4].is_empty());
        // Symmetric: the cosine and the shared count are.
        assert_eq!(neighbours[1][0].weight, neighbours[0][0].weight);
    }

    #[test]
    fn k_bounds_the_lists_and_repeats_are_summed() {
        let triples: Vec<_> = (0..10u32)
            .flat_map(|item| [(0, item, 1.0), (1, item, 1.0), (0, item, 2.0)])
            .collect();
        let interactions = Interactions::new(10, triples);
        assert_eq!(interactions.row(0).len(), 10);
        assert!((interactions.row(0)[0].1 - 3f32.ln_1p()).abs() < 1e-6);
        let neighbours = similarities(&interactions, &knn(3));
        assert!(neighbours.iter().all(|n| n.len() == 3));
        assert_eq!(similarities(&interactions, &knn(0))[0], vec![]);
    }

    #[test]
    fn a_heavy_person_keeps_only_their_strongest_products() {
        let triples: Vec<_> = (0..500u32).map(|item| (0, item, item as f32)).collect();
        let interactions = Interactions::new(500, triples);
        let row = interactions.row(0);
        assert_eq!(row.len(), MAX_ITEMS_PER_PERSON);
        assert!(row.iter().all(|&(item, _)| item >= 300));
    }

    #[test]
    fn intervals_parse_with_units() {
        assert_eq!(parse_every("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_every("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_every("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_every("45s"), Ok(Duration::from_secs(45)));
        for bad in ["", "1", "h", "0h", "1.5h", "1w", "-1h"] {
            assert!(parse_every(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        let tag = HeaderValue::from_static("\"00ff\"");
        let matches = |h: &'static str| none_match(&HeaderValue::from_static(h), &tag);
        assert!(matches("\"00ff\""));
        assert!(matches("W/\"00ff\""));
        assert!(matches("\"aa\", \"00ff\""));
        assert!(matches("*"));
        assert!(!matches("\"00fe\""));
    }
}
