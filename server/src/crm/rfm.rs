//! RFM scores, the named segments, the estimated lifetime value and the VIP rule:
//! pure functions over each customer's orders, tested without a database.
//!
//! # Scores
//!
//! Over the customers with at least one order (as of the run's date):
//! - *recency* is the whole days since their last order, *frequency* their orders
//!   (online and in store, each order id once), *monetary* what those orders came to
//!   in the run's currency, in minor units;
//! - each is scored 1–5 by quintile: a customer scores 1 + ⌊5 × w ÷ n⌋, where w is
//!   how many of the n customers did strictly worse (an older last order, fewer
//!   orders, less money). Equal values score the same, so when many customers tie
//!   (most shops' one-order customers) the fifths come out uneven, and the worst
//!   value always scores 1.
//!
//! # Segments
//!
//! The R × FM grid of Putler's RFM segment table ("RFM Analysis For Successful
//! Customer Segmentation"): the rows are R, the columns FM, the mean of F and M
//! rounded half up. Putler's table gives each segment ranges that overlap; this grid
//! resolves them cell by cell, and folds the three segments the issue does not
//! name into their neighbours (*promising* into potential loyalists, *needs
//! attention* into potential loyalists and loyal, *about to sleep* into
//! hibernating):
//!
//! | R \ FM | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | 5 | new | potential loyalists | loyal | champions | champions |
//! | 4 | new | potential loyalists | loyal | champions | champions |
//! | 3 | potential loyalists | potential loyalists | loyal | loyal | loyal |
//! | 2 | hibernating | hibernating | at risk | at risk | at risk |
//! | 1 | lost | lost | at risk | can't lose | can't lose |
//!
//! # Lifetime value
//!
//! A simple model that fits in five lines (money in the run's currency):
//! 1. AOV = the customer's monetary ÷ their orders in that currency;
//! 2. frequency = their orders per year: orders × 365 ÷ max(days since their first
//!    order, 365), so a short burst is not extrapolated to a year;
//! 3. q = the shop's quarterly repeat rate: of the customers who ordered 90–180 days
//!    before the run's date, the share who ordered again in the last 90 days;
//! 4. expected lifetime = 1 ÷ quarterly churn = 1 ÷ (4 × (1 − q)) years, at most
//!    [`MAX_LIFETIME_YEARS`]; [`DEFAULT_LIFETIME_YEARS`] when nobody ordered in that
//!    quarter;
//! 5. LTV = AOV × frequency × expected lifetime, rounded to minor units.
//!
//! It counts a quiet quarter as churn, so it errs low for customers who buy once a
//! year; it is the same for every customer, so it ranks them by AOV × frequency.
//!
//! # VIPs
//!
//! A rule from the settings ([`VipRule`]): `top 5% by monetary` (the default) or
//! `by ltv`, which takes every customer at or above the value of the customer at
//! that rank (ties go in together, a value of 0 never does), or `monetary >= N` /
//! `ltv >= N` in minor units.

use std::fmt;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The longest expected lifetime the model gives, in years (q at 0.975).
pub const MAX_LIFETIME_YEARS: f64 = 10.0;

/// The lifetime used when no customer ordered in the quarter the repeat rate is
/// measured on, in years.
pub const DEFAULT_LIFETIME_YEARS: f64 = 1.0;

/// A named RFM segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// Bought recently, often, and spent the most.
    Champions,
    /// Buy regularly and spend well.
    Loyal,
    /// Recent customers with a few orders or middling spend.
    PotentialLoyalists,
    /// Bought recently, once, and little.
    New,
    /// Used to buy well, not lately.
    AtRisk,
    /// Were among the best, and have been gone the longest.
    CantLose,
    /// Few, small orders a while ago.
    Hibernating,
    /// Few, small orders long ago.
    Lost,
}

use Segment::*;

/// The grid of the module docs: `GRID[5 - r][fm - 1]`.
const GRID: [[Segment; 5]; 5] = [
    [New, PotentialLoyalists, Loyal, Champions, Champions],
    [New, PotentialLoyalists, Loyal, Champions, Champions],
    [PotentialLoyalists, PotentialLoyalists, Loyal, Loyal, Loyal],
    [Hibernating, Hibernating, AtRisk, AtRisk, AtRisk],
    [Lost, Lost, AtRisk, CantLose, CantLose],
];

impl Segment {
    /// Every segment, best first.
    pub const ALL: [Segment; 8] = [
        Champions,
        Loyal,
        PotentialLoyalists,
        New,
        AtRisk,
        CantLose,
        Hibernating,
        Lost,
    ];

    /// The name in URLs and files, such as `cant-lose`.
    pub fn name(self) -> &'static str {
        match self {
            Champions => "champions",
            Loyal => "loyal",
            PotentialLoyalists => "potential-loyalists",
            New => "new",
            AtRisk => "at-risk",
            CantLose => "cant-lose",
            Hibernating => "hibernating",
            Lost => "lost",
        }
    }

    /// The name people read, such as `Can't lose`.
    pub fn label(self) -> &'static str {
        match self {
            Champions => "Champions",
            Loyal => "Loyal",
            PotentialLoyalists => "Potential loyalists",
            New => "New",
            AtRisk => "At risk",
            CantLose => "Can't lose",
            Hibernating => "Hibernating",
            Lost => "Lost",
        }
    }

    /// The segment named `name` ([`Segment::name`]).
    pub fn parse(name: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The segment of scores `r`, `f` and `m` (each 1–5).
    pub fn of(r: u8, f: u8, m: u8) -> Segment {
        let clamp = |score: u8| usize::from(score.clamp(1, 5));
        let fm = (clamp(f) + clamp(m)).div_ceil(2);
        GRID[5 - clamp(r)][fm - 1]
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One customer's orders, as the scores need them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Customer {
    /// Their profile in the identity graph.
    pub profile_id: i64,
    /// Their first and last order, ms since the Unix epoch.
    pub first_ms: i64,
    /// Their last order.
    pub last_ms: i64,
    /// Every order's time, in any order.
    pub order_ms: Vec<i64>,
    /// Orders placed online.
    pub online: u32,
    /// Orders placed in a store.
    pub store: u32,
    /// What their orders in the run's currency came to, in minor units.
    pub monetary: i64,
    /// How many of their orders are in the run's currency with a known value.
    pub money_orders: u32,
}

impl Customer {
    /// Their orders, online and in store.
    pub fn orders(&self) -> u32 {
        self.online + self.store
    }
}

/// A customer's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Their profile.
    pub profile_id: i64,
    /// Whole days from their last order to the run's date.
    pub recency_days: i64,
    /// Recency score, 1–5.
    pub r: u8,
    /// Frequency score, 1–5.
    pub f: u8,
    /// Monetary score, 1–5.
    pub m: u8,
    /// Their segment.
    pub segment: Segment,
    /// Average order value, minor units.
    pub aov: i64,
    /// Estimated lifetime value, minor units.
    pub ltv: i64,
    /// Whether the VIP rule picks them.
    pub vip: bool,
}

/// The shop-wide numbers of the lifetime model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifetime {
    /// The quarterly repeat rate q, if anyone ordered in the quarter it is measured on.
    pub retention: Option<f64>,
    /// The expected lifetime in years.
    pub years: f64,
}

/// What a VIP rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Money spent so far.
    Monetary,
    /// Estimated lifetime value.
    Ltv,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Measure::Monetary => "monetary",
            Measure::Ltv => "ltv",
        }
    }

    fn of(self, customer: &Customer, scored: &Scored) -> i64 {
        match self {
            Measure::Monetary => customer.monetary,
            Measure::Ltv => scored.ltv,
        }
    }
}

/// Who is a VIP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VipRule {
    /// The top `percent` of customers by a measure.
    Top {
        /// Above 0, at most 100.
        percent: f64,
        /// What ranks them.
        by: Measure,
    },
    /// Everyone with at least `amount` minor units of a measure.
    AtLeast {
        /// What is compared.
        by: Measure,
        /// The threshold, minor units.
        amount: i64,
    },
}

impl Default for VipRule {
    fn default() -> Self {
        VipRule::Top {
            percent: 5.0,
            by: Measure::Monetary,
        }
    }
}

impl fmt::Display for VipRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VipRule::Top { percent, by } => write!(f, "top {percent}% by {}", by.name()),
            VipRule::AtLeast { by, amount } => write!(f, "{} >= {amount}", by.name()),
        }
    }
}

/// How to write a VIP rule, for errors.
pub const VIP_RULE_FORMS: &str =
    "write `top 5% by monetary`, `top 10% by ltv`, `monetary >= 100000` or `ltv >= 50000` (amounts in minor units)";

impl VipRule {
    /// Reads `top P% by monetary|ltv` or `monetary|ltv >= N`.
    pub fn parse(text: &str) -> Result<VipRule, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let measure = |word: &str| match word.to_ascii_lowercase().as_str() {
            "monetary" => Some(Measure::Monetary),
            "ltv" => Some(Measure::Ltv),
            _ => None,
        };
        let refused = || format!("{text:?} is not a VIP rule: {VIP_RULE_FORMS}");
        match words[..] {
            [top, percent, by, what]
                if top.eq_ignore_ascii_case("top") && by.eq_ignore_ascii_case("by") =>
            {
                let percent: f64 = percent
                    .strip_suffix('%')
                    .and_then(|p| p.parse().ok())
                    .filter(|p: &f64| *p > 0.0 && *p <= 100.0)
                    .ok_or_else(refused)?;
                Ok(VipRule::Top {
                    percent,
                    by: measure(what).ok_or_else(refused)?,
                })
            }
            [what, ">=", amount] => Ok(VipRule::AtLeast {
                by: measure(what).ok_or_else(refused)?,
                amount: amount
                    .parse()
                    .ok()
                    .filter(|a: &i64| *a >= 0)
                    .ok_or_else(refused)?,
            }),
            _ => Err(refused()),
        }
    }
}

/// Scores 1–5 for `values`, where a higher value is better: 1 + ⌊5 × w ÷ n⌋ with w
/// the number of values strictly below.
pub fn quintiles(values: &[i64]) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as u64;
    values
        .iter()
        .map(|v| {
            let worse = sorted.partition_point(|x| x < v) as u64;
            (1 + 5 * worse / n).min(5) as u8
        })
        .collect()
}

/// The lifetime model's shop-wide numbers as of `as_of_ms` (step 3 and 4 of the
/// module docs).
pub fn lifetime(customers: &[Customer], as_of_ms: i64) -> Lifetime {
    let quarter = 90 * DAY_MS;
    let in_range =
        |c: &Customer, from: i64, to: i64| c.order_ms.iter().any(|&t| t > from && t <= to);
    let base: Vec<&Customer> = customers
        .iter()
        .filter(|c| in_range(c, as_of_ms - 2 * quarter, as_of_ms - quarter))
        .collect();
    if base.is_empty() {
        return Lifetime {
            retention: None,
            years: DEFAULT_LIFETIME_YEARS,
        };
    }
    let kept = base
        .iter()
        .filter(|c| in_range(c, as_of_ms - quarter, as_of_ms))
        .count();
    let q = kept as f64 / base.len() as f64;
    // q = 1 divides by zero: infinity, capped.
    Lifetime {
        retention: Some(q),
        years: (1.0 / (4.0 * (1.0 - q))).min(MAX_LIFETIME_YEARS),
    }
}

/// Scores every customer as of `as_of_ms` and marks the VIPs by `vip`; answers the
/// scores in `customers`' order and the lifetime model's numbers.
pub fn score(customers: &[Customer], as_of_ms: i64, vip: &VipRule) -> (Vec<Scored>, Lifetime) {
    let lifetime = lifetime(customers, as_of_ms);
    let recency: Vec<i64> = customers
        .iter()
        .map(|c| ((as_of_ms - c.last_ms).max(0)) / DAY_MS)
        .collect();
    // A more recent order is better: score the negated age.
    let r = quintiles(&recency.iter().map(|d| -d).collect::<Vec<_>>());
    let f = quintiles(
        &customers
            .iter()
            .map(|c| i64::from(c.orders()))
            .collect::<Vec<_>>(),
    );
    let m = quintiles(&customers.iter().map(|c| c.monetary).collect::<Vec<_>>());
    let mut scored: Vec<Scored> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let aov = if c.money_orders > 0 {
                c.monetary as f64 / f64::from(c.money_orders)
            } else {
                0.0
            };
            let tenure_days = ((as_of_ms - c.first_ms).max(0) as f64) / DAY_MS as f64;
            let per_year = f64::from(c.orders()) * 365.0 / tenure_days.max(365.0);
            Scored {
                profile_id: c.profile_id,
                recency_days: recency[i],
                r: r[i],
                f: f[i],
                m: m[i],
                segment: Segment::of(r[i], f[i], m[i]),
                aov: aov.round() as i64,
                ltv: (aov * per_year * lifetime.years).round() as i64,
                vip: false,
            }
        })
        .collect();
    mark_vips(customers, &mut scored, vip);
    (scored, lifetime)
}

fn mark_vips(customers: &[Customer], scored: &mut [Scored], rule: &VipRule) {
    match *rule {
        VipRule::AtLeast { by, amount } => {
            for (c, s) in customers.iter().zip(scored.iter_mut()) {
                s.vip = by.of(c, s) >= amount;
            }
        }
        VipRule::Top { percent, by } => {
            let mut values: Vec<i64> = customers
                .iter()
                .zip(scored.iter())
                .map(|(c, s)| by.of(c, s))
                .collect();
            if values.is_empty() {
                return;
            }
            values.sort_unstable_by(|a, b| b.cmp(a));
            let k =
                ((values.len() as f64 * percent / 100.0).ceil() as usize).clamp(1, values.len());
            let threshold = values[k - 1].max(1);
            for (c, s) in customers.iter().zip(scored.iter_mut()) {
                s.vip = by.of(c, s) >= threshold;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AS_OF: i64 = 1_000 * DAY_MS;

    fn customer(profile_id: i64, days_ago: &[i64], monetary: i64) -> Customer {
        let order_ms: Vec<i64> = days_ago.iter().map(|d| AS_OF - d * DAY_MS).collect();
        Customer {
            profile_id,
            first_ms: *order_ms.iter().min().unwrap(),
            last_ms: *order_ms.iter().max().unwrap(),
            online: order_ms.len() as u32,
            store: 0,
            money_orders: order_ms.len() as u32,
            order_ms,
            monetary,
        }
    }

    #[test]
    fn the_grid_has_every_named_segment_and_reads_r_by_fm() {
        assert_eq!(Segment::of(5, 5, 5), Champions);
        assert_eq!(Segment::of(4, 4, 3), Champions, "FM 3.5 rounds up to 4");
        assert_eq!(Segment::of(5, 1, 1), New);
        assert_eq!(Segment::of(5, 1, 3), PotentialLoyalists);
        assert_eq!(Segment::of(3, 3, 3), Loyal);
        assert_eq!(Segment::of(2, 4, 4), AtRisk);
        assert_eq!(Segment::of(1, 5, 4), CantLose);
        assert_eq!(Segment::of(2, 1, 2), Hibernating);
        assert_eq!(Segment::of(1, 1, 1), Lost);
        let mut seen: Vec<Segment> = GRID.iter().flatten().copied().collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, Segment::ALL);
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.name()), Some(s));
        }
    }

    #[test]
    fn quintiles_split_in_fifths_and_ties_score_alike() {
        assert_eq!(
            quintiles(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        );
        // Six one-order customers tie at the bottom; the worst value scores 1.
        assert_eq!(
            quintiles(&[1, 1, 1, 1, 1, 1, 2, 2, 3, 9]),
            [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
        );
        assert_eq!(quintiles(&[7]), [1]);
        assert_eq!(quintiles(&[]), Vec::<u8>::new());
    }

    #[test]
    fn lifetime_comes_from_the_quarterly_repeat_rate() {
        // Four ordered 90-180 days ago; one of them again in the last quarter.
        let customers = [
            customer(1, &[100, 10], 0),
            customer(2, &[120], 0),
            customer(3, &[150], 0),
            customer(4, &[179], 0),
            customer(5, &[5], 0),
        ];
        let l = lifetime(&customers, AS_OF);
        assert_eq!(l.retention, Some(0.25));
        assert!((l.years - 1.0 / 3.0).abs() < 1e-9, "{}", l.years);
        // Everyone came back: the lifetime is capped.
        let loyal = [customer(1, &[100, 10], 0)];
        assert_eq!(lifetime(&loyal, AS_OF).years, MAX_LIFETIME_YEARS);
        // Nobody to measure on.
        let l = lifetime(&[customer(1, &[5], 0)], AS_OF);
        assert_eq!((l.retention, l.years), (None, DEFAULT_LIFETIME_YEARS));
    }

    #[test]
    fn ltv_is_aov_times_yearly_frequency_times_lifetime() {
        // Two customers 90-180 days ago, both back: q = 1 → capped at 10 years.
        let customers = [
            // 4 orders over 730 days, 40,000 minor units: AOV 10,000, 2 a year.
            customer(1, &[730, 400, 100, 10], 40_000),
            // 2 orders in the last 150 days: a year's worth at least, so 2 a year.
            customer(2, &[150, 20], 3_000),
        ];
        let (scored, lifetime) = score(&customers, AS_OF, &VipRule::default());
        assert_eq!(lifetime.years, MAX_LIFETIME_YEARS);
        assert_eq!(scored[0].aov, 10_000);
        assert_eq!(scored[0].ltv, 10_000 * 2 * 10);
        assert_eq!(scored[1].aov, 1_500);
        assert_eq!(scored[1].ltv, 1_500 * 2 * 10);
        assert_eq!(scored[1].recency_days, 20);
    }

    #[test]
    fn scores_and_segments_of_a_small_shop() {
        let customers: Vec<Customer> = (0..10)
            .map(|i| {
                // Customer i ordered i+1 times, last 10×(10−i) days ago, 1,000×(i+1)².
                let days: Vec<i64> = (0..=i).map(|k| 10 * (10 - i) + 30 * k).collect();
                customer(i, &days, 1_000 * (i + 1) * (i + 1))
            })
            .collect();
        let (scored, _) = score(&customers, AS_OF, &VipRule::default());
        let rfm: Vec<(u8, u8, u8)> = scored.iter().map(|s| (s.r, s.f, s.m)).collect();
        assert_eq!(rfm[0], (1, 1, 1));
        assert_eq!(rfm[9], (5, 5, 5));
        assert_eq!(scored[0].segment, Lost);
        assert_eq!(scored[9].segment, Champions);
        // Top 5% of 10 is the one best spender.
        let vips: Vec<i64> = scored
            .iter()
            .filter(|s| s.vip)
            .map(|s| s.profile_id)
            .collect();
        assert_eq!(vips, [9]);
    }

    #[test]
    fn vip_rules_read_and_pick() {
        assert_eq!(VipRule::parse("top 5% by monetary"), Ok(VipRule::default()));
        assert_eq!(
            VipRule::parse("Top 12.5% BY ltv"),
            Ok(VipRule::Top {
                percent: 12.5,
                by: Measure::Ltv
            })
        );
        assert_eq!(
            VipRule::parse("ltv >= 50000"),
            Ok(VipRule::AtLeast {
                by: Measure::Ltv,
                amount: 50_000
            })
        );
        for bad in [
            "",
            "top 0% by ltv",
            "top 5 by ltv",
            "top 101% by ltv",
            "ltv > 5",
            "spend >= 5",
        ] {
            assert!(VipRule::parse(bad).is_err(), "{bad}");
        }
        let rule = VipRule::parse("monetary >= 2000").unwrap();
        assert_eq!(rule.to_string(), "monetary >= 2000");
        assert_eq!(VipRule::parse(&rule.to_string()), Ok(rule));
        // Ties at the cut go in together; nothing spent is never VIP.
        let customers = [
            customer(1, &[1], 500),
            customer(2, &[1], 500),
            customer(3, &[1], 100),
            customer(4, &[1], 0),
        ];
        let (scored, _) = score(&customers, AS_OF, &VipRule::default());
        assert_eq!(scored.iter().filter(|s| s.vip).count(), 2);
        let (scored, _) = score(&customers[3..], AS_OF, &VipRule::default());
        assert!(!scored[0].vip);
        let (scored, _) = score(&customers, AS_OF, &rule);
        assert!(scored.iter().all(|s| !s.vip));
    }
}
