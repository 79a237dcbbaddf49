//! Recommendations scored on the device, over the [`Model`] the server built.
//!
//! Three surfaces, each answering the top N as product indices into the model
//! (the glue maps them to the catalogue's fields):
//!
//! - [`similar`]: "similar to this product", from the product's neighbours. Context
//!   only, so it needs no personalisation consent.
//! - [`with_cart`]: "frequently bought with the cart", from the cart items'
//!   neighbours, summed.
//! - [`for_you`]: "picked for you", from the [`Profile`]: the neighbours of recently
//!   viewed, carted and bought products, and the popular products of the categories
//!   the shopper leans towards. Only with `personalization` granted.
//!
//! # Scores
//!
//! A neighbour's similarity is `s = (weight / 255)²` in [0, 1]. A candidate's score
//! is a sum over where it came from:
//!
//! - `similar`: `s` (one source product).
//! - `with_cart`: `Σ s` over the cart's products that list it.
//! - `for_you`: `Σ kind × decay(now − seen) × s` over the profile's products that
//!   list it, with kind 1 for viewed, 2 for carted and 2 for bought; plus, for each
//!   of the 5 strongest affinity categories and each of its 20 most popular
//!   products at rank `r` (0 first), `0.5 × share × decay(now − updated) ×
//!   10 / (10 + r)`, where `share` is the category's part of all affinity.
//!   `decay(age) = 2^(−age / 14 days)` ([`profile::decay`]).
//!
//! # Order, filters and fallbacks
//!
//! 1. The shop's pinned products, in its order.
//! 2. Scored candidates, highest first (ties by index), then the popular products
//!    of the relevant categories (the product's; the cart's, latest first; the
//!    profile's strongest, then those of its recent products).
//! 3. Trending products.
//!
//! Everything shown is in stock, in the shop's category filter, and neither
//! excluded by the shop nor in the cart, just bought or the product on show. No
//! category takes more than [`Rules::max_per_category`] places while steps 2 and 3
//! have other candidates; if they run out, the places are filled in order from
//! what the cap held back.
//!
//! # Cost
//!
//! No step looks at the whole catalogue: candidates come from neighbour lists
//! (K each), at most 50 entries of each popular list and the trending list. Ids
//! are found by binary search, scores are summed in one sorted `Vec`, and a call
//! allocates a handful of buffers sized by its candidates. Nothing here formats
//! text or indexes a slice in a way that can panic.

use super::model::Model;
use super::profile::{self, Profile, Seen};

/// Most picks a call returns, whatever it asks for.
pub const MAX_RESULTS: usize = 50;

/// The default cap on picks from one category: 3 (of 10).
pub const DEFAULT_MAX_PER_CATEGORY: usize = 3;

/// Entries read from each popular list or the trending list.
const LIST_SCAN: usize = 50;
/// Affinity categories and fallback categories `for_you` uses.
const TOP_CATEGORIES: usize = 5;
/// Popular products of each affinity category that `for_you` scores.
const AFFINITY_SCAN: usize = 20;
/// The affinity term's weight, against a neighbour of a fresh view (1 × s).
const AFFINITY_WEIGHT: f32 = 0.5;
/// How much each kind of profile product counts.
const VIEWED_WEIGHT: f32 = 1.0;
const CARTED_WEIGHT: f32 = 2.0;
const BOUGHT_WEIGHT: f32 = 2.0;

/// The shop's rules for one recommendations placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Product ids shown first, in this order, when they can be shown at all.
    pub pinned: Vec<String>,
    /// Product ids never shown.
    pub excluded: Vec<String>,
    /// Only products of these categories (by name), if set. A name the model does
    /// not know matches nothing.
    pub categories: Option<Vec<String>>,
    /// Most picks from one category while others are available, whatever N is
    /// (pinned products count towards it); 0 for no cap.
    pub max_per_category: usize,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            pinned: Vec::new(),
            excluded: Vec::new(),
            categories: None,
            max_per_category: DEFAULT_MAX_PER_CATEGORY,
        }
    }
}

/// Why a product was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The shop pinned it.
    Pinned,
    /// It scored from neighbours (and, for `for_you`, affinities).
    Scored,
    /// A fallback: popular in a relevant category.
    Popular,
    /// A fallback: trending.
    Trending,
}

/// One recommended product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// Its index in the model's product table.
    pub product: u32,
    /// Its score (see the module's docs); 0 for pinned products and fallbacks.
    pub score: f32,
    /// Why it was picked.
    pub reason: Reason,
}

/// Where recommendations show, and what they start from.
#[derive(Debug, Clone, Copy)]
pub enum Surface<'a> {
    /// "Similar to this product": the product on show.
    Similar(&'a str),
    /// "Frequently bought with the cart": the shop's cart, or the device's.
    Cart(Option<&'a [&'a str]>),
    /// "Picked for you", from the on-device profile.
    ForYou,
}

/// The top `n` of `surface`, never what is in the shopper's `cart` (as the device
/// followed it). "Picked for you" scores `profile`, which exists only with
/// `personalization` consent; without one it is what is trending.
pub fn for_surface(
    model: &Model,
    surface: Surface<'_>,
    cart: &[&str],
    profile: Option<&Profile>,
    now_ms: u64,
    n: usize,
    rules: &Rules,
) -> Vec<Pick> {
    match surface {
        Surface::Similar(product) => similar(model, product, cart, n, rules),
        Surface::Cart(Some(given)) => with_cart(model, given, cart, n, rules),
        Surface::Cart(None) => with_cart(model, cart, &[], n, rules),
        Surface::ForYou => {
            let empty = Profile::new();
            for_you(model, profile.unwrap_or(&empty), now_ms, cart, n, rules)
        }
    }
}

/// "Similar to this product": the neighbours of `product_id`, then popular in its
/// category, then trending. Never the product itself, nor anything in `exclude`
/// (the cart, what was just bought).
pub fn similar(
    model: &Model,
    product_id: &str,
    exclude: &[&str],
    n: usize,
    rules: &Rules,
) -> Vec<Pick> {
    let product = model.find(product_id);
    let gate = Gate::new(model, rules, exclude, product.into_iter());
    let mut board = Board::new(model, &gate, n, rules);
    let scored: Vec<(u32, f32)> = product.map_or(Vec::new(), |p| {
        let mut list: Vec<(u32, f32)> = model
            .neighbours(p)
            .iter()
            .map(|nb| (nb.product, nb.similarity()))
            .collect();
        rank(&mut list);
        list
    });
    let categories: Vec<u32> = product
        .and_then(|p| model.category_and_stock(p))
        .map(|(category, _)| category)
        .into_iter()
        .collect();
    board.fill(&scored, &categories);
    board.finish()
}

/// "Frequently bought with the cart": the summed neighbours of the products in
/// `cart` (in the order they went in; the latest 50 of a longer cart), then
/// popular in their categories (latest first), then trending. Never what is in the
/// cart or in `exclude`.
pub fn with_cart(
    model: &Model,
    cart: &[&str],
    exclude: &[&str],
    n: usize,
    rules: &Rules,
) -> Vec<Pick> {
    let items: Vec<u32> = cart.iter().filter_map(|id| model.find(id)).collect();
    let gate = Gate::new(model, rules, exclude, items.iter().copied());
    let mut board = Board::new(model, &gate, n, rules);
    // The latest items speak for a long cart; all of it stays excluded.
    let scoring = items.iter().rev().take(LIST_SCAN);
    let mut scored: Vec<(u32, f32)> = Vec::with_capacity(scoring.len() * usize::from(model.k()));
    for &item in scoring {
        let neighbours = model.neighbours(item);
        scored.extend(neighbours.iter().map(|nb| (nb.product, nb.similarity())));
    }
    merge(&mut scored);
    rank(&mut scored);
    let mut categories = Vec::new();
    for &item in items.iter().rev() {
        add_category(model, &mut categories, item);
    }
    board.fill(&scored, &categories);
    board.finish()
}

/// "Picked for you": scored from `profile` at `now_ms` (see the module's docs),
/// then popular in its categories, then trending. Never what the profile holds as
/// carted or bought, nor anything in `exclude` (the current cart). With an empty
/// profile it is the trending list.
pub fn for_you(
    model: &Model,
    profile: &Profile,
    now_ms: u64,
    exclude: &[&str],
    n: usize,
    rules: &Rules,
) -> Vec<Pick> {
    let held = profile.carted().iter().chain(profile.bought());
    let held = held.filter_map(|seen| model.find(&seen.product_id));
    let gate = Gate::new(model, rules, exclude, held);
    let mut board = Board::new(model, &gate, n, rules);

    let k = usize::from(model.k());
    let recent = profile.viewed().len() + profile.carted().len() + profile.bought().len();
    let mut scored: Vec<(u32, f32)> =
        Vec::with_capacity(recent * k + TOP_CATEGORIES * AFFINITY_SCAN);
    let mut fallback: Vec<u32> = Vec::with_capacity(TOP_CATEGORIES);

    let total: u64 = profile
        .affinities()
        .iter()
        .map(|a| u64::from(a.milli))
        .sum();
    let stale = profile::decay(now_ms.saturating_sub(profile.updated_ms()));
    for affinity in profile.affinities().iter().take(TOP_CATEGORIES) {
        let Some(category) = model.find_category(&affinity.category) else {
            continue;
        };
        if !fallback.contains(&category) {
            fallback.push(category);
        }
        let share = affinity.milli as f32 / total.max(1) as f32;
        let weight = AFFINITY_WEIGHT * share * stale;
        let popular = model.popular(category).iter().take(AFFINITY_SCAN);
        for (rank, &product) in popular.enumerate() {
            scored.push((product, weight * 10.0 / (10.0 + rank as f32)));
        }
    }

    let kinds: [(&[Seen], f32); 3] = [
        (profile.viewed(), VIEWED_WEIGHT),
        (profile.carted(), CARTED_WEIGHT),
        (profile.bought(), BOUGHT_WEIGHT),
    ];
    for (list, kind) in kinds {
        for seen in list {
            let Some(item) = model.find(&seen.product_id) else {
                continue;
            };
            if fallback.len() < TOP_CATEGORIES {
                add_category(model, &mut fallback, item);
            }
            let weight = kind * profile::decay(now_ms.saturating_sub(seen.at_ms));
            let neighbours = model.neighbours(item);
            scored.extend(
                neighbours
                    .iter()
                    .map(|nb| (nb.product, weight * nb.similarity())),
            );
        }
    }
    merge(&mut scored);
    rank(&mut scored);
    board.fill(&scored, &fallback);
    board.finish()
}

/// Adds `item`'s category to `categories` unless it is there.
fn add_category(model: &Model, categories: &mut Vec<u32>, item: u32) {
    if let Some((category, _)) = model.category_and_stock(item) {
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
}

/// Sums the scores of each product, leaving one entry per product, by index.
fn merge(scored: &mut Vec<(u32, f32)>) {
    scored.sort_unstable_by_key(|&(product, _)| product);
    scored.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
}

/// Orders candidates by score, highest first, ties by index.
fn rank(scored: &mut [(u32, f32)]) {
    scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// What may be shown: in stock, in the category filter, not excluded.
struct Gate {
    /// Excluded product indices, sorted and deduplicated.
    excluded: Vec<u32>,
    /// The category filter's indices, sorted, if the shop set one.
    categories: Option<Vec<u32>>,
}

impl Gate {
    fn new(
        model: &Model,
        rules: &Rules,
        exclude: &[&str],
        also: impl Iterator<Item = u32>,
    ) -> Gate {
        let by_id = rules.excluded.iter().map(String::as_str);
        let by_id = by_id.chain(exclude.iter().copied());
        let mut excluded: Vec<u32> = by_id.filter_map(|id| model.find(id)).chain(also).collect();
        excluded.sort_unstable();
        excluded.dedup();
        let categories = rules.categories.as_ref().map(|names| {
            let mut found: Vec<u32> = names
                .iter()
                .filter_map(|name| model.find_category(name))
                .collect();
            found.sort_unstable();
            found
        });
        Gate {
            excluded,
            categories,
        }
    }

    /// The category of `product` if it may be shown.
    fn admits(&self, model: &Model, product: u32) -> Option<u32> {
        let (category, in_stock) = model.category_and_stock(product)?;
        let allowed = self
            .categories
            .as_ref()
            .is_none_or(|filter| filter.binary_search(&category).is_ok());
        let shown = in_stock && allowed && self.excluded.binary_search(&product).is_err();
        shown.then_some(category)
    }
}

/// The picks so far, with each one's category for the cap, and what the cap held
/// back, in order.
struct Board<'a> {
    model: &'a Model,
    gate: &'a Gate,
    n: usize,
    cap: usize,
    picks: Vec<(Pick, u32)>,
    held_back: Vec<(Pick, u32)>,
}

impl<'a> Board<'a> {
    /// An empty board for `n` picks, with the shop's pinned products on it.
    fn new(model: &'a Model, gate: &'a Gate, n: usize, rules: &Rules) -> Board<'a> {
        let n = n.min(MAX_RESULTS);
        let mut board = Board {
            model,
            gate,
            n,
            cap: rules.max_per_category,
            picks: Vec::with_capacity(n),
            held_back: Vec::new(),
        };
        for id in &rules.pinned {
            if board.is_full() {
                break;
            }
            let Some(product) = model.find(id) else {
                continue;
            };
            if let Some(category) = board.fresh(product) {
                let pick = Pick {
                    product,
                    score: 0.0,
                    reason: Reason::Pinned,
                };
                board.picks.push((pick, category));
            }
        }
        board
    }

    fn is_full(&self) -> bool {
        self.picks.len() >= self.n
    }

    /// The category of `product` if it may be shown and is not on the board yet.
    fn fresh(&self, product: u32) -> Option<u32> {
        let taken = |list: &[(Pick, u32)]| list.iter().any(|(p, _)| p.product == product);
        if taken(&self.picks) || taken(&self.held_back) {
            return None;
        }
        self.gate.admits(self.model, product)
    }

    /// Offers a candidate: picked, held back by the cap, or refused.
    fn offer(&mut self, product: u32, score: f32, reason: Reason) {
        let Some(category) = self.fresh(product) else {
            return;
        };
        let pick = Pick {
            product,
            score,
            reason,
        };
        let same = self.picks.iter().filter(|(_, c)| *c == category).count();
        if self.cap == 0 || same < self.cap {
            self.picks.push((pick, category));
        } else if self.held_back.len() < self.n {
            self.held_back.push((pick, category));
        }
    }

    /// Fills the places held back by the cap, in the order they were offered.
    fn relax(&mut self) {
        let room = self.n.saturating_sub(self.picks.len());
        let take = room.min(self.held_back.len());
        self.picks.extend(self.held_back.drain(..take));
        self.held_back.clear();
    }

    /// Steps 2 and 3 of the module's docs: `scored` (ranked), then the popular
    /// products of `categories`, then trending.
    fn fill(&mut self, scored: &[(u32, f32)], categories: &[u32]) {
        for &(product, score) in scored {
            if self.is_full() {
                return;
            }
            self.offer(product, score, Reason::Scored);
        }
        for &category in categories {
            for &product in self.model.popular(category).iter().take(LIST_SCAN) {
                if self.is_full() {
                    return;
                }
                self.offer(product, 0.0, Reason::Popular);
            }
        }
        self.relax();
        for &product in self.model.trending().iter().take(LIST_SCAN) {
            if self.is_full() {
                return;
            }
            self.offer(product, 0.0, Reason::Trending);
        }
        self.relax();
    }

    fn finish(self) -> Vec<Pick> {
        self.picks.into_iter().map(|(pick, _)| pick).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{Properties, Value};
    use crate::core::model::{Neighbour, Parts, Product};

    const NOW: u64 = 1_780_000_000_000;
    const DAY: u64 = 86_400_000;

    /// Coffee p00–p05 (p05 out of stock), Tea p06–p08, Mugs p09–p11.
    const CATEGORY: [u32; 12] = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2];

    fn id(i: u32) -> String {
        format!("p{i:02}")
    }

    /// The 12-product shop, with `neighbours` as (product, [(neighbour, similarity)]).
    /// A test product: only its id, category and stock matter to the scorer.
    fn product(id: &str, category: u32, in_stock: bool) -> Product<'_> {
        Product {
            id,
            name_en: id,
            name_ar: "",
            price_minor: 1000,
            currency: "AED",
            url: "",
            image_url: "",
            category,
            in_stock,
        }
    }

    fn shop(neighbours: &[(u32, &[(u32, f32)])]) -> Model {
        let ids: Vec<String> = (0..12).map(id).collect();
        let mut lists = vec![Vec::new(); 12];
        for &(product, list) in neighbours {
            lists[product as usize] = list.iter().map(|&(p, s)| Neighbour::new(p, s)).collect();
        }
        let parts = Parts {
            created_at_ms: NOW,
            k: 10,
            categories: vec!["Coffee", "Tea", "Mugs"],
            products: ids
                .iter()
                .enumerate()
                .map(|(i, id)| product(id, CATEGORY[i], i != 5))
                .collect(),
            neighbours: lists,
            popular: vec![vec![4, 1, 0], vec![7, 6], vec![10]],
            trending: vec![11, 8, 7],
        };
        Model::new(&parts).unwrap()
    }

    /// p00's neighbours: the rest of Coffee, strongest first (p05 is out of stock),
    /// then a tea and a mug.
    fn coffee_shop() -> Model {
        shop(&[(
            0,
            &[
                (5, 0.95),
                (1, 0.9),
                (2, 0.8),
                (3, 0.7),
                (4, 0.6),
                (6, 0.5),
                (9, 0.4),
            ],
        )])
    }

    fn products(picks: &[Pick]) -> Vec<u32> {
        picks.iter().map(|pick| pick.product).collect()
    }

    fn reasons(picks: &[Pick]) -> Vec<Reason> {
        picks.iter().map(|pick| pick.reason).collect()
    }

    fn uncapped() -> Rules {
        Rules {
            max_per_category: 0,
            ..Rules::default()
        }
    }

    #[test]
    fn similar_ranks_neighbours_and_skips_itself_and_out_of_stock() {
        let model = coffee_shop();
        let picks = similar(&model, "p00", &[], 5, &uncapped());
        assert_eq!(products(&picks), [1, 2, 3, 4, 6]);
        assert!(picks.iter().all(|p| p.reason == Reason::Scored));
        assert!((picks[0].score - 0.9).abs() < 0.01);
        assert!(picks.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn the_category_cap_makes_room_for_others_and_gives_way_when_short() {
        let model = coffee_shop();
        let rules = Rules::default();
        // Three coffees, then the tea and the mug come before the fourth coffee.
        let picks = similar(&model, "p00", &[], 5, &rules);
        assert_eq!(products(&picks), [1, 2, 3, 6, 9]);
        // With nothing else left in the neighbours and Coffee's popular list, the
        // held-back coffee comes back before trending.
        let picks = similar(&model, "p00", &[], 10, &rules);
        assert_eq!(products(&picks), [1, 2, 3, 6, 9, 4, 11, 8, 7]);
        assert_eq!(picks[5].reason, Reason::Scored);
        assert_eq!(picks[6].reason, Reason::Trending);
        // A cap of one still fills every place when only coffee is left.
        let only_coffee = Rules {
            max_per_category: 1,
            categories: Some(vec!["Coffee".into()]),
            ..Rules::default()
        };
        let picks = similar(&model, "p00", &[], 10, &only_coffee);
        assert_eq!(products(&picks), [1, 2, 3, 4]);
    }

    #[test]
    fn the_cart_what_was_bought_and_the_shops_exclusions_are_never_shown() {
        let model = coffee_shop();
        let rules = Rules {
            excluded: vec!["p06".into(), "p11".into(), "no-such-product".into()],
            ..uncapped()
        };
        let picks = similar(&model, "p00", &["p02", "p04"], 10, &rules);
        assert_eq!(products(&picks), [1, 3, 9, 8, 7]);
        for never in [0, 2, 4, 5, 6, 11] {
            assert!(!products(&picks).contains(&never), "p{never:02} shown");
        }
    }

    #[test]
    fn pinned_products_come_first_when_they_can_be_shown() {
        let model = coffee_shop();
        let rules = Rules {
            pinned: vec![
                "p10".into(),
                "p05".into(),
                "p00".into(),
                "gone".into(),
                "p07".into(),
                "p10".into(),
                "p03".into(),
            ],
            excluded: vec!["p07".into()],
            ..Rules::default()
        };
        let picks = similar(&model, "p00", &[], 4, &rules);
        assert_eq!(products(&picks), [10, 3, 1, 2]);
        assert_eq!(reasons(&picks)[..2], [Reason::Pinned, Reason::Pinned]);
        assert_eq!(reasons(&picks)[2], Reason::Scored);
        // Pinned count towards the cap: p03 and two scored coffees make three.
        let picks = similar(&model, "p00", &[], 10, &rules);
        assert_eq!(products(&picks)[..5], [10, 3, 1, 2, 6]);
        // Never more than asked for, even all pinned.
        assert_eq!(products(&similar(&model, "p00", &[], 1, &rules)), [10]);
        assert!(similar(&model, "p00", &[], 0, &rules).is_empty());
    }

    #[test]
    fn a_category_filter_keeps_to_its_categories() {
        let model = coffee_shop();
        let rules = Rules {
            categories: Some(vec!["Tea".into(), "Mugs".into()]),
            ..Rules::default()
        };
        let picks = similar(&model, "p00", &[], 10, &rules);
        assert_eq!(products(&picks), [6, 9, 11, 8, 7]);
        let unknown = Rules {
            categories: Some(vec!["Shoes".into()]),
            ..Rules::default()
        };
        assert!(similar(&model, "p00", &[], 10, &unknown).is_empty());
    }

    #[test]
    fn without_neighbours_it_falls_back_to_popular_then_trending() {
        let model = coffee_shop();
        let picks = similar(&model, "p07", &[], 4, &Rules::default());
        assert_eq!(products(&picks), [6, 11, 8]);
        assert_eq!(
            reasons(&picks),
            [Reason::Popular, Reason::Trending, Reason::Trending]
        );
        assert!(picks.iter().all(|p| p.score == 0.0));
        let unknown = similar(&model, "not-in-the-model", &[], 2, &Rules::default());
        assert_eq!(products(&unknown), [11, 8]);
        let too_many = similar(&model, "p00", &[], 1_000, &uncapped());
        assert!(too_many.len() <= MAX_RESULTS);
    }

    #[test]
    fn with_cart_sums_the_carts_neighbours() {
        let model = shop(&[
            (1, &[(2, 0.5), (6, 0.3), (9, 0.45)]),
            (6, &[(2, 0.5), (8, 0.6), (1, 0.2)]),
        ]);
        let picks = with_cart(
            &model,
            &["p01", "p06", "gone"],
            &["p09"],
            10,
            &Rules::default(),
        );
        // p02 is listed by both; p01 and p06 are in the cart, p09 was just bought.
        assert_eq!(products(&picks)[..2], [2, 8]);
        assert!((picks[0].score - 1.0).abs() < 0.02);
        // Then popular in the cart's categories, the latest item's first (Tea).
        assert_eq!(products(&picks)[2..], [7, 4, 0, 11]);
        assert_eq!(picks[2].reason, Reason::Popular);
        let empty = with_cart(&model, &[], &[], 3, &Rules::default());
        assert_eq!(products(&empty), [11, 8, 7]);
    }

    fn event(name: &str, id: &str, category: Option<&str>, profile: &mut Profile, at: u64) {
        let mut properties = Properties::from([("product_id", Value::Text(id.into()))]);
        if let Some(category) = category {
            properties
                .0
                .push(("category".into(), Value::Text(category.into())));
        }
        let products = Value::List(vec![Value::Object(properties.clone())]);
        if name == "Order Completed" {
            properties = Properties::from([("products", products)]);
        }
        profile.observe(name, &properties, at);
    }

    #[test]
    fn for_you_weighs_a_fresh_view_over_an_old_one() {
        let model = shop(&[(1, &[(2, 0.8)]), (6, &[(8, 0.8)])]);
        let mut profile = Profile::new();
        event("Product Viewed", "p01", None, &mut profile, NOW - 28 * DAY);
        event("Product Viewed", "p06", None, &mut profile, NOW);
        let picks = for_you(&model, &profile, NOW, &[], 2, &Rules::default());
        assert_eq!(products(&picks), [8, 2]);
        assert!((picks[1].score / picks[0].score - 0.25).abs() < 0.01);

        let mut reversed = Profile::new();
        event("Product Viewed", "p06", None, &mut reversed, NOW - 28 * DAY);
        event("Product Viewed", "p01", None, &mut reversed, NOW);
        let picks = for_you(&model, &reversed, NOW, &[], 2, &Rules::default());
        assert_eq!(products(&picks), [2, 8]);
    }

    #[test]
    fn for_you_never_shows_what_is_carted_or_bought() {
        let model = shop(&[(1, &[(2, 0.9), (3, 0.8), (4, 0.7), (9, 0.1)])]);
        let mut profile = Profile::new();
        event("Product Viewed", "p01", None, &mut profile, NOW);
        event("Product Added", "p02", None, &mut profile, NOW);
        event("Order Completed", "p03", None, &mut profile, NOW);
        let picks = for_you(&model, &profile, NOW, &["p04"], 3, &Rules::default());
        assert_eq!(products(&picks)[..2], [9, 1], "p01 itself was only viewed");
        for never in [2, 3, 4] {
            assert!(!products(&picks).contains(&never));
        }
    }

    #[test]
    fn for_you_leans_towards_the_shoppers_categories() {
        let model = shop(&[]);
        let mut profile = Profile::new();
        // Products the model does not know still teach a category.
        for _ in 0..3 {
            event(
                "Product Viewed",
                "retired-mug",
                Some("Mugs"),
                &mut profile,
                NOW,
            );
        }
        event(
            "Product Viewed",
            "retired-tea",
            Some("Tea"),
            &mut profile,
            NOW,
        );
        let picks = for_you(&model, &profile, NOW, &[], 4, &Rules::default());
        assert_eq!(products(&picks), [10, 7, 6, 11]);
        assert_eq!(reasons(&picks)[..3], [Reason::Scored; 3]);
        assert!((picks[0].score - 0.5 * 0.75).abs() < 0.01);
        assert_eq!(picks[3].reason, Reason::Trending);

        let empty = for_you(&model, &Profile::new(), NOW, &[], 3, &Rules::default());
        assert_eq!(products(&empty), [11, 8, 7]);
        assert!(empty.iter().all(|p| p.reason == Reason::Trending));
    }

    #[test]
    fn for_you_falls_back_to_the_categories_of_recent_products() {
        let model = shop(&[]);
        let mut profile = Profile::new();
        event("Product Viewed", "p06", None, &mut profile, NOW);
        let picks = for_you(&model, &profile, NOW, &[], 3, &Rules::default());
        assert_eq!(products(&picks), [7, 6, 11]);
        assert_eq!(
            reasons(&picks),
            [Reason::Popular, Reason::Popular, Reason::Trending]
        );
    }

    /// A synthetic shop of `n` products in 100 categories, each with K = 30
    /// neighbours, a top 50 per category and 50 trending.
    fn big_shop(n: u32) -> Model {
        let ids: Vec<String> = (0..n).map(|i| format!("sku-{i:06}")).collect();
        let category = |i: u32| i % 100;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |below: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % u64::from(below)) as u32
        };
        let neighbours = (0..n)
            .map(|i| {
                (0..30)
                    .map(|r| {
                        let other = if r % 3 == 0 {
                            next(n)
                        } else {
                            (next(n / 100) * 100 + category(i)) % n
                        };
                        Neighbour::new(other, 0.9 - 0.02 * r as f32)
                    })
                    .collect()
            })
            .collect();
        let popular = (0..100)
            .map(|c| (0..50).map(|r| (r * 100 + c) % n).collect())
            .collect();
        let categories: Vec<String> = (0..100).map(|c| format!("cat-{c}")).collect();
        let parts = Parts {
            created_at_ms: NOW,
            k: 30,
            categories: categories.iter().map(String::as_str).collect(),
            products: ids
                .iter()
                .enumerate()
                .map(|(i, id)| product(id, category(i as u32), i % 9 != 0))
                .collect(),
            neighbours,
            popular,
            trending: (0..50).map(|_| next(n)).collect(),
        };
        Model::new(&parts).unwrap()
    }

    #[test]
    fn for_you_answers_over_fifty_thousand_products() {
        let model = big_shop(50_000);
        let mut profile = Profile::new();
        for i in 0..40u64 {
            let at = NOW - (40 - i) * 3_600_000;
            let product = |offset: u64| format!("sku-{:06}", (i * 997 + offset) % 50_000);
            let category = format!("cat-{}", i % 7);
            event(
                "Product Viewed",
                &product(0),
                Some(&category),
                &mut profile,
                at,
            );
            event(
                "Product Added",
                &product(1),
                Some(&category),
                &mut profile,
                at,
            );
            event(
                "Order Completed",
                &product(2),
                Some(&category),
                &mut profile,
                at,
            );
        }
        let cart: Vec<&str> = profile
            .carted()
            .iter()
            .map(|s| s.product_id.as_str())
            .collect();
        let rules = Rules::default();

        let started = std::time::Instant::now();
        let rounds = 20;
        let mut picks = Vec::new();
        for _ in 0..rounds {
            picks = for_you(&model, &profile, NOW, &cart, 10, &rules);
        }
        let per_call = started.elapsed() / rounds;
        println!("for_you over 50k products: {per_call:?} a call (this build's profile)");

        assert_eq!(picks.len(), 10);
        let mut seen = products(&picks);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 10, "each product once");
        let held: Vec<u32> = profile
            .carted()
            .iter()
            .chain(profile.bought())
            .filter_map(|s| model.find(&s.product_id))
            .collect();
        for pick in &picks {
            let (_, in_stock) = model.category_and_stock(pick.product).unwrap();
            assert!(in_stock && !held.contains(&pick.product));
            assert_eq!(pick.reason, Reason::Scored);
        }
        assert_eq!(
            picks,
            for_you(&model, &profile, NOW, &cart, 10, &rules),
            "deterministic"
        );

        let started = std::time::Instant::now();
        let similar_picks = similar(&model, "sku-012345", &cart, 10, &rules);
        let cart_picks = with_cart(&model, &cart, &[], 10, &rules);
        println!(
            "similar + with_cart over 50k products: {:?}",
            started.elapsed()
        );
        assert_eq!(similar_picks.len(), 10);
        assert_eq!(cart_picks.len(), 10);
    }
}
