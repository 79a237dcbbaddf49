//! The shopper's behaviour profile, kept on the device and never sent anywhere: what
//! they viewed, carted and bought lately, and which categories they lean towards.
//! `core::recommend` scores "picked for you" from it.
//!
//! It exists only while `personalization` is granted: the core keeps it under
//! [`STORAGE_KEY`], and withdrawing the category purges it with every other
//! `souk:personalization:` key.
//!
//! # What it holds, and its limits
//!
//! - The [`MAX_VIEWED`] products viewed (or clicked) last, the [`MAX_CARTED`] put
//!   in the cart last, and the [`MAX_BOUGHT`] bought last: each list most recent
//!   first, each product in it once, with the time it was last seen there.
//! - An affinity for each of at most [`MAX_CATEGORIES`] categories: a sum of event
//!   weights (view 1, click 0.5, add to cart 3, purchase 5) that halves every
//!   [`HALF_LIFE_MS`] (14 days), kept in thousandths. An affinity that decays below
//!   0.05 is forgotten, and past [`MAX_CATEGORIES`] the weakest goes (never the
//!   one just touched: the freshest interest always gets in).
//! - Product ids and category names of at most [`MAX_ID_BYTES`] bytes, with no
//!   control characters; others are ignored.
//! - Times are kept to the minute.
//!
//! # The stored form
//!
//! Text, one record a line, fields separated by tabs, at most [`MAX_ENCODED`] bytes:
//!
//! ```text
//! p1 <tab> updated, ms since the Unix epoch (a whole minute)
//! v|c|b <tab> minutes before `updated` <tab> product id      viewed, carted, bought
//! a <tab> affinity in thousandths, as of `updated` <tab> category name
//! ```
//!
//! Each list's lines come most recent first, and affinities strongest first. Should
//! long ids push the text past [`MAX_ENCODED`], the oldest views go first, then the
//! weakest affinities, the oldest carted and the oldest bought, so the stored form
//! is always exactly the profile in memory. [`Profile::decode`] refuses anything
//! else, whole: a newer version, a broken line, a list past its limit.

//!
//! # Wiring (not done yet)
//!
//! `Souk::track` should, once the event passed its checks and whether or not
//! `analytics` is granted, load the profile from [`STORAGE_KEY`] (a missing or
//! refused text is an empty profile), call [`Profile::observe`] with the clock's
//! time, and on `true` store [`Profile::encode`] through `Souk::keep`, which
//! writes nothing unless `personalization` is granted. `Souk::purge` already
//! removes the key when the category is withdrawn (or was withdrawn before the
//! page loaded); an in-memory copy, if `Souk` keeps one, must be dropped there too.

use super::event::{Properties, Value};

/// Where the profile is stored; its category is `personalization`.
pub const STORAGE_KEY: &str = "souk:personalization:profile";

/// How long an affinity or a recent product takes to count half as much: 14 days.
pub const HALF_LIFE_MS: u64 = 14 * DAY_MS;

/// Most products kept as recently viewed.
pub const MAX_VIEWED: usize = 30;
/// Most products kept as recently put in the cart.
pub const MAX_CARTED: usize = 20;
/// Most products kept as recently bought.
pub const MAX_BOUGHT: usize = 20;
/// Most categories with an affinity.
pub const MAX_CATEGORIES: usize = 20;
/// Longest product id or category name kept, in bytes.
pub const MAX_ID_BYTES: usize = 100;
/// Largest stored form, in bytes.
pub const MAX_ENCODED: usize = 4096;

const DAY_MS: u64 = 86_400_000;
const MINUTE_MS: u64 = 60_000;
/// The header's tag: the format's version.
const VERSION_TAG: &str = "p1";
/// Affinity weights, in thousandths.
const VIEW_WEIGHT: u32 = 1_000;
const CLICK_WEIGHT: u32 = 500;
const ADD_WEIGHT: u32 = 3_000;
const BUY_WEIGHT: u32 = 5_000;
/// An affinity below 0.05 is forgotten.
const AFFINITY_FLOOR: u32 = 50;
/// An affinity stops growing at 10,000 (a month of daily shopping); it keeps the
/// numbers small and the lines short.
const AFFINITY_CAP: u32 = 10_000_000;

/// A product the shopper came across, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The shop's `product_id`.
    pub product_id: String,
    /// When it was last seen in this list, in ms since the Unix epoch, to the minute.
    pub at_ms: u64,
}

/// How much the shopper leans towards a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affinity {
    /// The category's name, as the shop's events give it.
    pub category: String,
    /// The decayed sum of event weights as of [`Profile::updated_ms`], in
    /// thousandths.
    pub milli: u32,
}

/// The on-device behaviour profile. See the module's docs for what it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    updated_ms: u64,
    viewed: Vec<Seen>,
    carted: Vec<Seen>,
    bought: Vec<Seen>,
    affinities: Vec<Affinity>,
}

/// The multiplier that `age_ms` of decay leaves: `2^(-age / HALF_LIFE_MS)`, 1 for
/// no age, 0.5 at 14 days, 0.25 at 28.
pub fn decay(age_ms: u64) -> f32 {
    let half_lives = age_ms as f64 / HALF_LIFE_MS as f64;
    (-(half_lives as f32)).exp2()
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Profile {
        Profile::default()
    }

    /// When it last changed, in ms since the Unix epoch, to the minute; 0 if never.
    pub fn updated_ms(&self) -> u64 {
        self.updated_ms
    }

    /// Recently viewed or clicked products, most recent first.
    pub fn viewed(&self) -> &[Seen] {
        &self.viewed
    }

    /// Products recently put in the cart and not since removed or bought, most
    /// recent first.
    pub fn carted(&self) -> &[Seen] {
        &self.carted
    }

    /// Recently bought products, most recent first.
    pub fn bought(&self) -> &[Seen] {
        &self.bought
    }

    /// Category affinities as of [`Profile::updated_ms`], strongest first (ties by
    /// name). They all decay alike, so their order and shares hold at any later time.
    pub fn affinities(&self) -> &[Affinity] {
        &self.affinities
    }

    /// The affinity for `category` at `now_ms`, decayed since the last update.
    pub fn affinity(&self, category: &str, now_ms: u64) -> f32 {
        self.affinities
            .iter()
            .find(|a| a.category == category)
            .map_or(0.0, |a| {
                a.milli as f32 / 1000.0 * decay(now_ms.saturating_sub(self.updated_ms))
            })
    }

    /// Whether it holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.viewed.is_empty()
            && self.carted.is_empty()
            && self.bought.is_empty()
            && self.affinities.is_empty()
    }

    /// Learns from track event `event` with its `properties`, at `now_ms`; `true`
    /// if the profile changed, so it needs storing again (through `Souk::keep`).
    ///
    /// It follows the Segment e-commerce events by `product_id` (else `sku`) and
    /// `category`: "Product Viewed" and "Product Clicked" (viewed), "Product Added"
    /// (carted), "Product Removed" (no longer carted), "Cart Viewed" (its
    /// `products` count as carted, keeping their time if already there) and "Order
    /// Completed" (its `products` are bought and no longer carted). Other events
    /// change nothing. Time never runs backwards for the profile: an event dated
    /// before its last update counts as at that update.
    pub fn observe(&mut self, event: &str, properties: &Properties, now_ms: u64) -> bool {
        let now = (now_ms - now_ms % MINUTE_MS).max(self.updated_ms);
        match event {
            "Product Viewed" | "Product Clicked" | "Product Added" => {
                let Some(id) = product_id(properties) else {
                    return false;
                };
                self.decay_to(now);
                let (list, limit, weight) = match event {
                    "Product Viewed" => (&mut self.viewed, MAX_VIEWED, VIEW_WEIGHT),
                    "Product Clicked" => (&mut self.viewed, MAX_VIEWED, CLICK_WEIGHT),
                    _ => (&mut self.carted, MAX_CARTED, ADD_WEIGHT),
                };
                touch(list, id, now, limit);
                self.lean(properties, weight);
            }
            "Product Removed" => {
                let Some(id) = product_id(properties) else {
                    return false;
                };
                if !self.carted.iter().any(|seen| seen.product_id == id) {
                    return false;
                }
                self.decay_to(now);
                self.carted.retain(|seen| seen.product_id != id);
            }
            "Cart Viewed" | "Order Completed" => {
                let Some(Value::List(products)) = properties.get("products") else {
                    return false;
                };
                let bought = event == "Order Completed";
                let mut changed = false;
                for product in products {
                    let Value::Object(product) = product else {
                        continue;
                    };
                    let Some(id) = product_id(product) else {
                        continue;
                    };
                    let known = self.carted.iter().any(|seen| seen.product_id == id);
                    if !bought && known {
                        continue;
                    }
                    if !changed {
                        self.decay_to(now);
                        changed = true;
                    }
                    if bought {
                        self.carted.retain(|seen| seen.product_id != id);
                        touch(&mut self.bought, id, now, MAX_BOUGHT);
                        self.lean(product, BUY_WEIGHT);
                    } else {
                        touch(&mut self.carted, id, now, MAX_CARTED);
                    }
                }
                if !changed {
                    return false;
                }
            }
            _ => return false,
        }
        self.fit();
        true
    }

    /// Decays every affinity from the last update to `now`, forgetting the faint,
    /// and makes `now` the last update: affinities are always "as of" it.
    fn decay_to(&mut self, now: u64) {
        let factor = decay(now.saturating_sub(self.updated_ms));
        self.updated_ms = now;
        if factor >= 1.0 {
            return;
        }
        for affinity in &mut self.affinities {
            affinity.milli = (affinity.milli as f32 * factor).round() as u32;
        }
        self.affinities.retain(|a| a.milli >= AFFINITY_FLOOR);
    }

    /// Adds `weight` to the affinity of the event's `category`, if it names one.
    fn lean(&mut self, properties: &Properties, weight: u32) {
        let Some(Value::Text(category)) = properties.get("category") else {
            return;
        };
        let Some(category) = clean(category) else {
            return;
        };
        match self.affinities.iter_mut().find(|a| a.category == category) {
            Some(affinity) => {
                affinity.milli = affinity.milli.saturating_add(weight).min(AFFINITY_CAP);
            }
            None => {
                // The freshest interest always gets in: the weakest other goes.
                if self.affinities.len() >= MAX_CATEGORIES {
                    self.affinities.truncate(MAX_CATEGORIES - 1);
                }
                self.affinities.push(Affinity {
                    category: category.to_owned(),
                    milli: weight,
                });
            }
        }
        self.affinities
            .sort_unstable_by(|a, b| b.milli.cmp(&a.milli).then(a.category.cmp(&b.category)));
    }

    /// Drops the least useful records until the stored form fits [`MAX_ENCODED`].
    fn fit(&mut self) {
        while self.encoded_len() > MAX_ENCODED {
            if self.viewed.pop().is_none()
                && self.affinities.pop().is_none()
                && self.carted.pop().is_none()
                && self.bought.pop().is_none()
            {
                return;
            }
        }
    }

    /// The length of [`Profile::encode`]'s text, without writing it.
    fn encoded_len(&self) -> usize {
        let seen = |list: &[Seen]| -> usize {
            list.iter()
                .map(|s| 4 + digits(self.age_minutes(s)) + s.product_id.len())
                .sum()
        };
        VERSION_TAG.len()
            + 1
            + digits(self.updated_ms)
            + seen(&self.viewed)
            + seen(&self.carted)
            + seen(&self.bought)
            + self
                .affinities
                .iter()
                .map(|a| 4 + digits(a.milli.into()) + a.category.len())
                .sum::<usize>()
    }

    fn age_minutes(&self, seen: &Seen) -> u64 {
        self.updated_ms.saturating_sub(seen.at_ms) / MINUTE_MS
    }

    /// The stored form (see the module's docs); never longer than [`MAX_ENCODED`].
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.encoded_len());
        out.push_str(VERSION_TAG);
        out.push('\t');
        push_number(&mut out, self.updated_ms);
        for (tag, list) in [
            ('v', &self.viewed),
            ('c', &self.carted),
            ('b', &self.bought),
        ] {
            for seen in list {
                out.push('\n');
                out.push(tag);
                out.push('\t');
                push_number(&mut out, self.age_minutes(seen));
                out.push('\t');
                out.push_str(&seen.product_id);
            }
        }
        for affinity in &self.affinities {
            out.push_str("\na\t");
            push_number(&mut out, affinity.milli.into());
            out.push('\t');
            out.push_str(&affinity.category);
        }
        out
    }

    /// Reads [`Profile::encode`]'s form; `None` for anything else, or anything past
    /// the limits.
    pub fn decode(text: &str) -> Option<Profile> {
        if text.len() > MAX_ENCODED {
            return None;
        }
        let mut lines = text.split('\n');
        let (tag, updated) = lines.next()?.split_once('\t')?;
        if tag != VERSION_TAG {
            return None;
        }
        let updated_ms = parse(updated)?;
        if updated_ms % MINUTE_MS != 0 {
            return None;
        }
        let mut profile = Profile {
            updated_ms,
            ..Profile::default()
        };
        for line in lines {
            let mut fields = line.split('\t');
            let (tag, number, name) = (fields.next()?, fields.next()?, fields.next()?);
            if fields.next().is_some() || clean(name) != Some(name) {
                return None;
            }
            let number = parse(number)?;
            let (list, limit) = match tag {
                "v" => (&mut profile.viewed, MAX_VIEWED),
                "c" => (&mut profile.carted, MAX_CARTED),
                "b" => (&mut profile.bought, MAX_BOUGHT),
                "a" => {
                    let milli = u32::try_from(number).ok()?;
                    // Strongest first, ties by name, as `lean` sorts them.
                    let in_order = profile.affinities.last().is_none_or(|last| {
                        last.milli > milli || (last.milli == milli && last.category.as_str() < name)
                    });
                    if !in_order
                        || !(AFFINITY_FLOOR..=AFFINITY_CAP).contains(&milli)
                        || profile.affinities.len() >= MAX_CATEGORIES
                        || profile.affinities.iter().any(|a| a.category == name)
                    {
                        return None;
                    }
                    profile.affinities.push(Affinity {
                        category: name.to_owned(),
                        milli,
                    });
                    continue;
                }
                _ => return None,
            };
            let at_ms = updated_ms.checked_sub(number.checked_mul(MINUTE_MS)?)?;
            let in_order = list.last().is_none_or(|last| last.at_ms >= at_ms);
            if !in_order || list.len() >= limit || list.iter().any(|s| s.product_id == name) {
                return None;
            }
            list.push(Seen {
                product_id: name.to_owned(),
                at_ms,
            });
        }
        (profile.encoded_len() <= MAX_ENCODED).then_some(profile)
    }
}

/// Puts `id` first in `list`, seen at `now`, keeping each product once and at most
/// `limit` of them.
fn touch(list: &mut Vec<Seen>, id: &str, now: u64, limit: usize) {
    list.retain(|seen| seen.product_id != id);
    list.insert(
        0,
        Seen {
            product_id: id.to_owned(),
            at_ms: now,
        },
    );
    list.truncate(limit);
}

/// The product's id (`product_id`, else `sku`), if it is one the profile can keep.
fn product_id(properties: &Properties) -> Option<&str> {
    ["product_id", "sku"]
        .iter()
        .find_map(|key| match properties.get(key) {
            Some(Value::Text(id)) => clean(id),
            _ => None,
        })
}

/// `text` trimmed, if it is a name the profile keeps: 1 to [`MAX_ID_BYTES`] bytes,
/// no control characters (so no tabs or line breaks).
fn clean(text: &str) -> Option<&str> {
    let text = text.trim();
    let fits = !text.is_empty() && text.len() <= MAX_ID_BYTES;
    (fits && !text.chars().any(char::is_control)).then_some(text)
}

/// A whole number in plain decimal digits, no sign, no leading zeros.
fn parse(text: &str) -> Option<u64> {
    let plain = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !plain {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// How many decimal digits `n` takes.
fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// Appends `n` in decimal, without the formatting machinery.
fn push_number(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    for &b in buf.get(at..).unwrap_or_default() {
        out.push(char::from(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_780_000_020_000;

    fn product(id: &str, category: &str) -> Properties {
        Properties::from([
            ("product_id", Value::Text(id.into())),
            ("category", Value::Text(category.into())),
        ])
    }

    fn order(ids: &[(&str, &str)]) -> Properties {
        let products = ids
            .iter()
            .map(|(id, category)| Value::Object(product(id, category)))
            .collect();
        Properties::from([("products", Value::List(products))])
    }

    fn ids(list: &[Seen]) -> Vec<&str> {
        list.iter().map(|seen| seen.product_id.as_str()).collect()
    }

    #[test]
    fn views_are_most_recent_first_once_each_and_bounded() {
        let mut profile = Profile::new();
        for i in 0..40u64 {
            let id = format!("p{}", i % 35);
            assert!(profile.observe("Product Viewed", &product(&id, "Tea"), NOW + i * 60_000));
        }
        assert_eq!(profile.viewed().len(), MAX_VIEWED);
        assert_eq!(&ids(profile.viewed())[..3], ["p4", "p3", "p2"]);
        assert_eq!(profile.viewed()[0].at_ms, NOW - NOW % 60_000 + 39 * 60_000);
        let mut once = ids(profile.viewed());
        once.sort_unstable();
        once.dedup();
        assert_eq!(once.len(), MAX_VIEWED);
        assert!(!ids(profile.viewed()).contains(&"p9"), "the oldest went");
        profile.observe("Product Clicked", &product("p20", "Tea"), NOW + 50 * 60_000);
        assert_eq!(ids(profile.viewed())[0], "p20", "a click counts as a view");
    }

    #[test]
    fn the_cart_and_orders_move_products_along() {
        let mut profile = Profile::new();
        profile.observe("Product Added", &product("mug", "Mugs"), NOW);
        profile.observe("Product Added", &product("tea", "Tea"), NOW + 60_000);
        profile.observe("Product Added", &product("pot", "Teapots"), NOW + 60_000);
        assert_eq!(ids(profile.carted()), ["pot", "tea", "mug"]);
        assert!(profile.observe("Product Removed", &product("pot", ""), NOW + 120_000));
        assert!(
            !profile.observe("Product Removed", &product("pot", ""), NOW + 120_000),
            "nothing to remove"
        );
        let viewed_cart = order(&[("mug", "Mugs"), ("spoon", "Spoons")]);
        profile.observe("Cart Viewed", &viewed_cart, NOW + 180_000);
        assert_eq!(ids(profile.carted()), ["spoon", "tea", "mug"]);
        assert_eq!(
            profile.carted()[2].at_ms,
            NOW - NOW % 60_000,
            "kept its time"
        );
        assert!(!profile.observe("Cart Viewed", &viewed_cart, NOW + 240_000));

        profile.observe(
            "Order Completed",
            &order(&[("tea", "Tea"), ("mug", "Mugs")]),
            NOW + 300_000,
        );
        assert_eq!(ids(profile.carted()), ["spoon"]);
        assert_eq!(ids(profile.bought()), ["mug", "tea"]);
        assert!(profile.affinity("Tea", NOW + 300_000) > profile.affinity("Spoons", NOW));
        assert_eq!(
            profile.affinity("Spoons", NOW),
            0.0,
            "a cart view is no lean"
        );
    }

    #[test]
    fn other_events_and_unusable_ids_change_nothing() {
        let mut profile = Profile::new();
        assert!(!profile.observe("Checkout Started", &product("p1", "Tea"), NOW));
        assert!(!profile.observe("Product Viewed", &Properties::default(), NOW));
        for id in [
            "",
            "  ",
            "has\ttab",
            "line\nbreak",
            &"x".repeat(MAX_ID_BYTES + 1),
        ] {
            assert!(!profile.observe("Product Viewed", &product(id, "Tea"), NOW));
        }
        assert!(!profile.observe("Order Completed", &Properties::default(), NOW));
        assert!(profile.is_empty());
        assert_eq!(profile, Profile::new());

        let sku = Properties::from([("sku", Value::Text(" SKU-1 ".into()))]);
        assert!(profile.observe("Product Viewed", &sku, NOW));
        assert_eq!(ids(profile.viewed()), ["SKU-1"]);
        assert!(profile.affinities().is_empty(), "no category, no lean");
    }

    #[test]
    fn affinities_decay_by_half_every_fourteen_days() {
        assert_eq!(decay(0), 1.0);
        assert!((decay(HALF_LIFE_MS) - 0.5).abs() < 1e-6);
        assert!((decay(2 * HALF_LIFE_MS) - 0.25).abs() < 1e-6);

        let mut profile = Profile::new();
        profile.observe("Product Viewed", &product("old", "Coffee"), NOW);
        let later = NOW + HALF_LIFE_MS;
        profile.observe("Product Viewed", &product("new", "Tea"), later);
        let (coffee, tea) = (
            profile.affinity("Coffee", later),
            profile.affinity("Tea", later),
        );
        assert!(
            (coffee - 0.5).abs() < 0.002,
            "an old view counts half: {coffee}"
        );
        assert!((tea - 1.0).abs() < 1e-6);
        assert_eq!(profile.affinities()[0].category, "Tea");
        // Shares hold as time passes; the strengths fall.
        let month = later + 2 * HALF_LIFE_MS;
        assert!((profile.affinity("Tea", month) - 0.25).abs() < 0.002);

        // Weights: a purchase outweighs an add, which outweighs a view.
        let mut weights = Profile::new();
        weights.observe("Product Viewed", &product("a", "Viewed"), NOW);
        weights.observe("Product Added", &product("b", "Added"), NOW);
        weights.observe("Order Completed", &order(&[("c", "Bought")]), NOW);
        let names: Vec<&str> = weights
            .affinities()
            .iter()
            .map(|a| a.category.as_str())
            .collect();
        assert_eq!(names, ["Bought", "Added", "Viewed"]);

        // Six months on, a single view is forgotten.
        let mut faded = Profile::new();
        faded.observe("Product Viewed", &product("a", "Faded"), NOW);
        faded.observe(
            "Product Viewed",
            &product("b", "Fresh"),
            NOW + 13 * HALF_LIFE_MS,
        );
        assert_eq!(faded.affinities().len(), 1);
        assert_eq!(faded.affinities()[0].category, "Fresh");
    }

    #[test]
    fn only_the_strongest_categories_are_kept_and_a_new_one_gets_in() {
        let mut profile = Profile::new();
        for i in 0..MAX_CATEGORIES {
            let category = format!("c{i:02}");
            profile.observe("Product Viewed", &product("p", &category), NOW);
            profile.observe("Product Viewed", &product("p", &category), NOW);
        }
        profile.observe("Product Viewed", &product("p", "c00"), NOW);
        profile.observe("Product Viewed", &product("p", "new"), NOW);
        assert_eq!(profile.affinities().len(), MAX_CATEGORIES);
        let names: Vec<&str> = profile
            .affinities()
            .iter()
            .map(|a| a.category.as_str())
            .collect();
        assert_eq!(names[0], "c00", "strongest first");
        assert_eq!(names[1], "c01", "ties by name");
        assert_eq!(names.last(), Some(&"new"), "the new interest got in");
        assert!(!names.contains(&"c19"), "the weakest, last by name, went");
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut profile = Profile::new();
        profile.observe("Product Viewed", &product("a", "Tea"), NOW);
        profile.observe("Product Viewed", &product("b", "Tea"), NOW - 10 * DAY_MS);
        assert_eq!(profile.updated_ms(), NOW - NOW % MINUTE_MS);
        assert_eq!(profile.viewed()[0].at_ms, profile.updated_ms());
        assert!((profile.affinity("Tea", NOW) - 2.0).abs() < 1e-6);
    }

    fn full_profile(id_len: usize) -> Profile {
        let mut profile = Profile::new();
        let pad = |i: u64| format!("{i:0>id_len$}");
        let mut at = NOW;
        for i in 0..40u64 {
            at += 7 * MINUTE_MS;
            let category = format!("cat-{}", pad(i % 25));
            profile.observe("Product Viewed", &product(&pad(1000 + i), &category), at);
            profile.observe("Product Added", &product(&pad(2000 + i), &category), at);
            let bought = order(&[(&pad(3000 + i), &category)]);
            profile.observe("Order Completed", &bought, at);
        }
        profile
    }

    #[test]
    fn the_stored_form_round_trips() {
        let profile = full_profile(8);
        assert_eq!(profile.viewed().len(), MAX_VIEWED);
        assert_eq!(profile.carted().len(), MAX_CARTED);
        assert_eq!(profile.bought().len(), MAX_BOUGHT);
        assert_eq!(profile.affinities().len(), MAX_CATEGORIES);
        let text = profile.encode();
        assert!(text.len() <= MAX_ENCODED, "{} bytes", text.len());
        assert_eq!(text.len(), profile.encoded_len());
        assert!(text.starts_with("p1\t"));
        assert_eq!(Profile::decode(&text), Some(profile));
        assert_eq!(
            Profile::decode(&Profile::new().encode()),
            Some(Profile::new())
        );
    }

    #[test]
    fn long_ids_never_push_it_past_its_bound() {
        let profile = full_profile(MAX_ID_BYTES);
        let text = profile.encode();
        assert!(text.len() <= MAX_ENCODED, "{} bytes", text.len());
        assert_eq!(
            profile.bought().len(),
            MAX_BOUGHT,
            "purchases are kept longest"
        );
        assert!(
            profile.viewed().len() < MAX_VIEWED,
            "the oldest views went first"
        );
        assert_eq!(Profile::decode(&text), Some(profile));
    }

    #[test]
    fn anything_else_is_refused() {
        let good = full_profile(6).encode();
        let swap = |from: &str, to: &str| good.replacen(from, to, 1);
        let first_view = good.lines().nth(1).unwrap().to_owned();
        let refused = [
            String::new(),
            "p2\t0".into(),
            "p1".into(),
            "p1\t-1".into(),
            "p1\t1780000000001".into(),
            "p1\t01".into(),
            "p1\t99999999999999999999999".into(),
            format!("{good}\nx\t0\tp"),
            format!("{good}\nv\t0"),
            format!("{good}\nv\t0\tp\textra"),
            format!("{good}\nv\tten\tp"),
            format!("{good}\n{first_view}"),
            format!("{good}\na\t10\tlow"),
            "p1\t0\na\t100\ta\na\t200\tb".into(),
            swap("p1\t", "p1\t1"),
            "p1\t0\nv\t5\tnewer-is-first\nv\t1\tolder".into(),
            "p1\t60000\nv\t2\ttoo-old".into(),
            "p1\t0\na\t100\tb\na\t100\ta".into(),
            "p1\t0\nv\t0\t x".into(),
            format!("{good}{}", "\n".repeat(MAX_ENCODED)),
        ];
        for text in refused {
            assert_eq!(Profile::decode(&text), None, "{text:?}");
        }
        let many: String = (0..=MAX_CARTED).map(|i| format!("\nc\t0\t{i}")).collect();
        assert_eq!(Profile::decode(&format!("p1\t0{many}")), None);
        assert!(Profile::decode("p1\t0\nv\t0\tp\nv\t0\tq\na\t100\ta\na\t100\tb").is_some());
    }

    #[test]
    fn numbers_are_written_without_the_formatter() {
        for n in [0, 7, 10, 99, 1_780_000_000_000, u64::MAX] {
            let mut out = String::new();
            push_number(&mut out, n);
            assert_eq!(out, n.to_string());
            assert_eq!(digits(n), out.len());
            assert_eq!(parse(&out), Some(n));
        }
        assert_eq!(parse("18446744073709551616"), None);
    }
}
