//! The loyalty programme: the shop's [`Rules`], the [`Entry`]s souk-server appends
//! to each customer's ledger, and the [`Account`] a ledger adds up to. One definition
//! serves the server, which grants points, and the widget, which previews them.
//!
//! Everything is a whole number: money in minor units (cents, fils), points as `i64`,
//! tier multipliers in per mille (1000 is ×1). Times are milliseconds since the Unix
//! epoch; calendar months and years are UTC.
//!
//! # The rules, exactly
//!
//! - **Qualifying amount**: what the goods cost after discounts, without tax and
//!   shipping ([`OrderAmounts::qualifying`]); never below zero.
//! - **Earning**: `floor(qualifying × earn.points × multiplier ÷ (earn.per × 1000))`,
//!   rounded down once. The multiplier is that of the tier held just before the order
//!   ([`Rules::earn`]): the order that crosses a threshold earns at the old tier, the
//!   next one at the new tier.
//! - **Tier spend** at a moment: the qualifying amounts of the orders placed in the
//!   `tier_window_days` up to it (an order counts from its time for exactly that long),
//!   less what had been refunded of each by then.
//! - **Tiers up and down**: the tier *qualified for* at a moment is the highest whose
//!   threshold the spend then reaches. The tier *held* at `t` is the highest qualified
//!   for at any moment from `t − tier_grace_days` to `t`. So an upgrade is immediate,
//!   and a downgrade comes exactly `tier_grace_days` after spend fell below the
//!   threshold, unless it reached it again meanwhile ([`Grace`]).
//! - **Refunds**: an order's refunds take back, in total, `floor(earned × refunded ÷
//!   qualifying)` points, with `refunded` summed over its refunds and capped at its
//!   qualifying amount. Partial refunds add up to one refund of their sum, and never
//!   to more than the order earned. Points already spent are not taken below zero:
//!   what the balance lacked is [`Reversal::short`], and a later refund of the same
//!   order takes it back if the balance then allows.
//! - **Expiry**: all points lapse `expiry_months` calendar months after the last
//!   *activity* (the same day of the month, or the month's last day, at the same
//!   time). Activity is the shopper's own doing: an order, a bonus, a redemption.
//!   Refunds, released redemptions, admin adjustments and expiry do not restart the
//!   clock. A ledger without activity starts it at its first entry.
//! - **Balance** is never below zero: refunds stop at zero, and redemptions and
//!   adjustments that would go below it are refused. [`check_ledger`] finds a stored
//!   ledger that breaks this.
//!
//! The ledger is append-only. Each entry's `key` is unique in a customer's ledger, so
//! the store can refuse a second copy; the keys this module makes itself (`order:`,
//! `release:`, `expiry:`) are the same however often they are made. Before appending
//! anything, the server appends [`Account::expiry_entry`] if there is one, so lapsed
//! points are never spent, nor revived by new activity.

use super::i18n::Lang;
use super::time::{self, DAY_MS};

/// Words shown to shoppers, in each language souk ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// English.
    pub en: String,
    /// Arabic.
    pub ar: String,
}

impl Label {
    /// A label from its English and Arabic words.
    pub fn new(en: &str, ar: &str) -> Self {
        Label {
            en: en.to_owned(),
            ar: ar.to_owned(),
        }
    }

    /// The words in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ar => &self.ar,
        }
    }
}

/// How fast points are earned: `points` for every `per` minor units of qualifying
/// amount. One point per whole unit is `{ points: 1, per: 100 }` for a currency with
/// cents, `{ points: 1, per: 1000 }` for one with fils in thousandths (KWD, BHD, OMR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarnRate {
    /// Points earned for each `per` minor units.
    pub points: i64,
    /// Minor units that earn `points`.
    pub per: i64,
}

/// Something a shopper does that earns a fixed bonus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Joined the programme; granted once.
    Signup,
    /// Has a birthday; granted once a calendar year (UTC).
    Birthday,
    /// Wrote a product review; once per review, which the key names.
    Review,
    /// Brought a new customer; once per referred customer, which the key names.
    Referral,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::Signup,
        Action::Birthday,
        Action::Review,
        Action::Referral,
    ];

    /// The name used in the API and the store.
    pub fn name(self) -> &'static str {
        match self {
            Action::Signup => "signup",
            Action::Birthday => "birthday",
            Action::Review => "review",
            Action::Referral => "referral",
        }
    }

    /// The action called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }
}

/// The points each bonus [`Action`] earns; 0 switches it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bonuses {
    /// For joining.
    pub signup: i64,
    /// For a birthday.
    pub birthday: i64,
    /// For a review.
    pub review: i64,
    /// For a referral.
    pub referral: i64,
}

impl Bonuses {
    /// The points `action` earns.
    pub fn points(&self, action: Action) -> i64 {
        match action {
            Action::Signup => self.signup,
            Action::Birthday => self.birthday,
            Action::Review => self.review,
            Action::Referral => self.referral,
        }
    }
}

/// A tier of the programme, reached by qualifying spend over the tier window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Stable id, such as `silver`: lowercase letters, digits, `_` and `-`.
    pub id: String,
    /// What shoppers see.
    pub name: Label,
    /// The qualifying spend over the window that reaches this tier, in minor units.
    /// The first tier's is 0: everyone holds at least that one.
    pub threshold: i64,
    /// Points earned per 1000 of the base rate: 1000 is ×1, 1250 is ×1.25.
    pub multiplier_permille: i64,
}

/// What a reward gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardKind {
    /// A fixed amount off the goods, in minor units.
    FixedDiscount {
        /// The amount off.
        amount: i64,
    },
    /// A whole percentage off the goods, at most `cap` minor units if given.
    PercentDiscount {
        /// 1 to 100.
        percent: i64,
        /// The most it takes off, in minor units.
        cap: Option<i64>,
    },
    /// The order ships free.
    FreeShipping,
}

impl RewardKind {
    /// What it takes off an order whose goods qualify for `goods` and whose shipping
    /// costs `shipping` (both in minor units): never more than they are, percentages
    /// rounded down.
    pub fn discount(self, goods: i64, shipping: i64) -> i64 {
        let (goods, shipping) = (goods.max(0), shipping.max(0));
        match self {
            RewardKind::FixedDiscount { amount } => amount.clamp(0, goods),
            RewardKind::PercentDiscount { percent, cap } => {
                let off = mul_div(goods, percent.clamp(0, 100), 100);
                cap.map_or(off, |cap| off.min(cap.max(0)))
            }
            RewardKind::FreeShipping => shipping,
        }
    }
}

/// A reward a shopper can spend points on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reward {
    /// Stable id, such as `free-shipping`: lowercase letters, digits, `_` and `-`.
    pub id: String,
    /// What shoppers see.
    pub name: Label,
    /// Its price in points.
    pub cost: i64,
    /// What it gives.
    pub kind: RewardKind,
}

/// A shop's loyalty programme. [`Rules::default`] is a working programme; a shop's
/// own rules go through [`Rules::check`] before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Points per qualifying amount.
    pub earn: EarnRate,
    /// Points for bonus actions.
    pub bonuses: Bonuses,
    /// The tiers, from the one everyone holds (threshold 0) upwards.
    pub tiers: Vec<Tier>,
    /// The rolling window over which tier spend is counted, in days.
    pub tier_window_days: u32,
    /// How long a tier is kept after spend fell below its threshold, in days.
    pub tier_grace_days: u32,
    /// What points buy.
    pub rewards: Vec<Reward>,
    /// Months without activity after which all points lapse; `None`: never.
    pub expiry_months: Option<u32>,
}

impl Default for Rules {
    /// One point per 100 minor units; 100 points for joining, 200 on a birthday, 20
    /// for a review and 300 for a referral; bronze (×1), silver from 500.00 a year
    /// (×1.25) and gold from 2,000.00 a year (×1.5), kept 30 days after falling short;
    /// 5.00 off for 500 points, 10% off up to 50.00 for 800, free shipping for 300;
    /// points lapse after 12 months without activity.
    fn default() -> Self {
        let tier = |id: &str, en, ar, threshold, multiplier_permille| Tier {
            id: id.to_owned(),
            name: Label::new(en, ar),
            threshold,
            multiplier_permille,
        };
        let reward = |id: &str, en, ar, cost, kind| Reward {
            id: id.to_owned(),
            name: Label::new(en, ar),
            cost,
            kind,
        };
        Rules {
            earn: EarnRate {
                points: 1,
                per: 100,
            },
            bonuses: Bonuses {
                signup: 100,
                birthday: 200,
                review: 20,
                referral: 300,
            },
            tiers: vec![
                tier("bronze", "Bronze", "برونزي", 0, 1000),
                tier("silver", "Silver", "فضي", 50_000, 1250),
                tier("gold", "Gold", "ذهبي", 200_000, 1500),
            ],
            tier_window_days: 365,
            tier_grace_days: 30,
            rewards: vec![
                reward(
                    "five-off",
                    "5.00 off your order",
                    "خصم 5.00 على طلبك",
                    500,
                    RewardKind::FixedDiscount { amount: 500 },
                ),
                reward(
                    "ten-percent",
                    "10% off, up to 50.00",
                    "خصم 10٪ حتى 50.00",
                    800,
                    RewardKind::PercentDiscount {
                        percent: 10,
                        cap: Some(5_000),
                    },
                ),
                reward(
                    "free-shipping",
                    "Free shipping",
                    "شحن مجاني",
                    300,
                    RewardKind::FreeShipping,
                ),
            ],
            expiry_months: Some(12),
        }
    }
}

/// The most points, or minor units, any one setting may hold: 10^12.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// Why a shop's [`Rules`] were refused. The message names the setting and says what
/// it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// A number outside what the setting allows.
    #[error("loyalty rules: `{field}` must be from {min} to {max}, got {got}")]
    OutOfRange {
        /// The setting, such as `tiers[1].threshold`.
        field: String,
        /// The least it may be.
        min: i64,
        /// The most it may be.
        max: i64,
        /// What it was.
        got: i64,
    },
    /// An id that is empty, too long, or has other characters.
    #[error("loyalty rules: `{field}` must be 1 to 40 lowercase letters, digits, `_` or `-`, got \"{got}\"")]
    BadId {
        /// The setting, such as `rewards[0].id`.
        field: String,
        /// What it was.
        got: String,
    },
    /// An id used twice in one list.
    #[error("loyalty rules: `{field}` repeats the id \"{id}\"; each must be unique")]
    DuplicateId {
        /// The setting, such as `rewards[2].id`.
        field: String,
        /// The repeated id.
        id: String,
    },
    /// Words for shoppers that are missing, too long or have control characters.
    #[error("loyalty rules: `{field}` must be 1 to 80 printable characters, got \"{got}\"")]
    BadName {
        /// The setting, such as `tiers[0].name.ar`.
        field: String,
        /// What it was.
        got: String,
    },
    /// No tier at all.
    #[error("loyalty rules: `tiers` must list at least one tier, the one everyone holds")]
    NoTiers,
    /// The first tier cannot be held by everyone.
    #[error("loyalty rules: `tiers[0].threshold` must be 0, so that every customer holds a tier, got {0}")]
    FirstThreshold(i64),
    /// A tier's threshold not above the one before.
    #[error("loyalty rules: `{field}` must be above the tier before it ({below}), got {got}")]
    ThresholdNotAbove {
        /// The setting, such as `tiers[2].threshold`.
        field: String,
        /// The tier before's threshold.
        below: i64,
        /// What it was.
        got: i64,
    },
    /// A tier that would earn less than the one below it.
    #[error("loyalty rules: `{field}` must be at least the tier before it ({below}), got {got}")]
    MultiplierBelow {
        /// The setting, such as `tiers[2].multiplier_permille`.
        field: String,
        /// The tier before's multiplier.
        below: i64,
        /// What it was.
        got: i64,
    },
}

impl Rules {
    /// Checks every setting; the error names the first one that is wrong.
    pub fn check(&self) -> Result<(), RulesError> {
        range("earn.points", self.earn.points, 1, 1_000_000)?;
        range("earn.per", self.earn.per, 1, 1_000_000)?;
        for action in Action::ALL {
            let field = || ["bonuses.", action.name()].concat();
            range_with(field, self.bonuses.points(action), 0, 1_000_000)?;
        }
        range("tier_window_days", self.tier_window_days.into(), 1, 1096)?;
        range("tier_grace_days", self.tier_grace_days.into(), 0, 365)?;
        if let Some(months) = self.expiry_months {
            range("expiry_months", months.into(), 1, 120)?;
        }
        let first = self.tiers.first().ok_or(RulesError::NoTiers)?;
        if first.threshold != 0 {
            return Err(RulesError::FirstThreshold(first.threshold));
        }
        range("tiers", self.tiers.len() as i64, 1, 10)?;
        for (i, tier) in self.tiers.iter().enumerate() {
            let field = |name: &str| indexed("tiers", i, name);
            check_id(|| field("id"), &tier.id)?;
            if self.tiers.iter().take(i).any(|other| other.id == tier.id) {
                let (field, id) = (field("id"), tier.id.clone());
                return Err(RulesError::DuplicateId { field, id });
            }
            check_label(|lang| field(lang), &tier.name)?;
            let multiplier = tier.multiplier_permille;
            range_with(|| field("multiplier_permille"), multiplier, 1, 10_000)?;
            let Some(before) = i.checked_sub(1).and_then(|b| self.tiers.get(b)) else {
                continue;
            };
            range_with(|| field("threshold"), tier.threshold, 1, MAX_AMOUNT)?;
            if tier.threshold <= before.threshold {
                return Err(RulesError::ThresholdNotAbove {
                    field: field("threshold"),
                    below: before.threshold,
                    got: tier.threshold,
                });
            }
            if multiplier < before.multiplier_permille {
                return Err(RulesError::MultiplierBelow {
                    field: field("multiplier_permille"),
                    below: before.multiplier_permille,
                    got: multiplier,
                });
            }
        }
        range("rewards", self.rewards.len() as i64, 0, 50)?;
        for (i, reward) in self.rewards.iter().enumerate() {
            let field = |name: &str| indexed("rewards", i, name);
            check_id(|| field("id"), &reward.id)?;
            if self
                .rewards
                .iter()
                .take(i)
                .any(|other| other.id == reward.id)
            {
                let (field, id) = (field("id"), reward.id.clone());
                return Err(RulesError::DuplicateId { field, id });
            }
            check_label(|lang| field(lang), &reward.name)?;
            range_with(|| field("cost"), reward.cost, 1, MAX_AMOUNT)?;
            match reward.kind {
                RewardKind::FixedDiscount { amount } => {
                    range_with(|| field("amount"), amount, 1, MAX_AMOUNT)?;
                }
                RewardKind::PercentDiscount { percent, cap } => {
                    range_with(|| field("percent"), percent, 1, 100)?;
                    if let Some(cap) = cap {
                        range_with(|| field("cap"), cap, 1, MAX_AMOUNT)?;
                    }
                }
                RewardKind::FreeShipping => {}
            }
        }
        Ok(())
    }

    /// The points `qualifying` minor units earn at tier index `tier` (into
    /// [`Rules::tiers`]): the base rate times the tier's multiplier, rounded down once.
    /// Nothing for a qualifying amount of zero or less.
    pub fn points(&self, qualifying: i64, tier: usize) -> i64 {
        let multiplier = self.tiers.get(tier).map_or(1000, |t| t.multiplier_permille);
        let rate = i128::from(self.earn.points) * i128::from(multiplier);
        let per = i128::from(self.earn.per.max(1)) * 1000;
        clamp_i64(i128::from(qualifying.max(0)) * rate / per).max(0)
    }

    /// The entry for order `order_id`, placed at `at_ms` for `amounts`, earning at the
    /// tier held just before it in `entries`. Its key is `order:` and the order id, so
    /// a second copy of the same order is refused by the store; `entries` must not
    /// hold this order yet.
    pub fn earn(
        &self,
        entries: &[Entry],
        order_id: &str,
        amounts: &OrderAmounts,
        at_ms: u64,
    ) -> Entry {
        let qualifying = amounts.qualifying();
        let tier = self.tier_at(entries, at_ms);
        Entry {
            kind: Kind::Order,
            points: self.points(qualifying, tier),
            qualifying,
            order_id: Some(order_id.to_owned()),
            key: ["order:", order_id].concat(),
            at_ms,
        }
    }

    /// The index into [`Rules::tiers`] of the tier `entries` hold at `at_ms`, counting
    /// only what happened by then.
    pub fn tier_at(&self, entries: &[Entry], at_ms: u64) -> usize {
        self.standing(entries, at_ms).held
    }

    /// The entry granting bonus `action` at `at_ms`, under the idempotency key `key`.
    /// Refused if the action is switched off, for a second signup, and for a second
    /// birthday in the same calendar year.
    pub fn bonus(
        &self,
        entries: &[Entry],
        action: Action,
        key: &str,
        at_ms: u64,
    ) -> Result<Entry, LoyaltyError> {
        let points = self.bonuses.points(action);
        if points <= 0 {
            return Err(LoyaltyError::BonusOff(action));
        }
        let mut granted = entries.iter().filter(|e| e.kind == Kind::Bonus(action));
        match action {
            Action::Signup => {
                if let Some(earlier) = granted.next() {
                    return Err(LoyaltyError::SignupGranted {
                        at_ms: earlier.at_ms,
                    });
                }
            }
            Action::Birthday => {
                let year = time::date(at_ms).0;
                if let Some(earlier) = granted.find(|e| time::date(e.at_ms).0 == year) {
                    return Err(LoyaltyError::BirthdayGranted {
                        year,
                        at_ms: earlier.at_ms,
                    });
                }
            }
            Action::Review | Action::Referral => {}
        }
        Ok(Entry {
            kind: Kind::Bonus(action),
            points,
            qualifying: 0,
            order_id: None,
            key: key.to_owned(),
            at_ms,
        })
    }

    /// The entry spending points on reward `reward_id` at `at_ms`, under the
    /// idempotency key `key`. Refused for a reward the rules lack, and when the
    /// balance at `at_ms` (lapsed points gone) is short of its cost.
    pub fn redeem(
        &self,
        entries: &[Entry],
        reward_id: &str,
        key: &str,
        at_ms: u64,
    ) -> Result<Entry, LoyaltyError> {
        let reward = self.rewards.iter().find(|r| r.id == reward_id);
        let reward = reward.ok_or_else(|| LoyaltyError::UnknownReward(reward_id.to_owned()))?;
        let balance = self.points_held(entries, at_ms).0;
        if balance < reward.cost {
            return Err(LoyaltyError::NotEnoughPoints {
                reward: reward.id.clone(),
                cost: reward.cost,
                balance,
            });
        }
        Ok(Entry {
            kind: Kind::Redemption {
                reward: reward.id.clone(),
            },
            points: -reward.cost,
            qualifying: 0,
            order_id: None,
            key: key.to_owned(),
            at_ms,
        })
    }

    /// The balance at `now_ms`, with points past their expiry left out, and the
    /// expiry of the points held.
    fn points_held(&self, entries: &[Entry], now_ms: u64) -> (i64, Option<Expiry>) {
        let total = sum(entries);
        let expiry = match (self.expiry_months, last_activity(entries)) {
            (Some(months), Some(from)) if total > 0 => {
                let at_ms = time::add_months(from, months);
                Some(Expiry {
                    points: total,
                    at_ms,
                    due: now_ms >= at_ms,
                })
            }
            _ => None,
        };
        let balance = if expiry.is_some_and(|e| e.due) {
            0
        } else {
            total.max(0)
        };
        (balance, expiry)
    }

    /// The highest tier that `spend` reaches.
    fn qualified(&self, spend: i64) -> usize {
        self.tiers
            .iter()
            .rposition(|t| t.threshold <= spend)
            .unwrap_or(0)
    }

    /// The tiers held and qualified for at `t`, the spend then, and for a tier held
    /// only by grace, when the grace ends.
    fn standing(&self, entries: &[Entry], t: u64) -> Standing {
        let history = History::new(entries, u64::from(self.tier_window_days) * DAY_MS);
        let grace = u64::from(self.tier_grace_days) * DAY_MS;
        let spend = history.spend(t);
        let qualified = self.qualified(spend);
        // Spend only rises when an order is placed, so the best moment of the grace
        // window is its start or one of the orders in it.
        let start = t.saturating_sub(grace);
        let mut held = (self.qualified(history.spend(start)), start);
        for at in history
            .orders
            .iter()
            .map(|o| o.at)
            .filter(|at| (start.saturating_add(1)..=t).contains(at))
        {
            let tier = self.qualified(history.spend(at));
            if tier > held.0 || (tier == held.0 && at > held.1) {
                held = (tier, at);
            }
        }
        let (held, last_reached) = held;
        let until_ms = (held > qualified)
            .then(|| {
                // The first drop below the held tier after it was last reached.
                let threshold = self.tiers[held].threshold;
                let mut drops = history.drops(last_reached, t);
                drops.sort_unstable();
                let fell = drops
                    .into_iter()
                    .find(|&at| history.spend(at) < threshold)?;
                Some(fell.saturating_add(grace))
            })
            .flatten();
        Standing {
            held,
            qualified,
            spend,
            until_ms,
        }
    }
}

/// Where a customer stands among the tiers at one moment.
struct Standing {
    held: usize,
    qualified: usize,
    spend: i64,
    until_ms: Option<u64>,
}

/// An order's qualifying amount over time, for tier spend.
struct Placed<'a> {
    id: Option<&'a str>,
    at: u64,
    amount: i64,
    /// When and how much of it was refunded.
    refunds: Vec<(u64, i64)>,
}

/// The orders of a ledger, each with its refunds, and the tier window.
struct History<'a> {
    orders: Vec<Placed<'a>>,
    window: u64,
}

impl<'a> History<'a> {
    fn new(entries: &'a [Entry], window: u64) -> Self {
        let mut orders: Vec<Placed<'a>> = Vec::new();
        for entry in entries.iter().filter(|e| e.kind == Kind::Order) {
            let id = entry.order_id.as_deref();
            match orders.iter_mut().find(|o| id.is_some() && o.id == id) {
                Some(order) => {
                    order.at = order.at.min(entry.at_ms);
                    order.amount = order.amount.saturating_add(entry.qualifying.max(0));
                }
                None => orders.push(Placed {
                    id,
                    at: entry.at_ms,
                    amount: entry.qualifying.max(0),
                    refunds: Vec::new(),
                }),
            }
        }
        for entry in entries.iter().filter(|e| e.kind == Kind::Refund) {
            let id = entry.order_id.as_deref();
            if let Some(order) = orders.iter_mut().find(|o| id.is_some() && o.id == id) {
                order.refunds.push((entry.at_ms, entry.qualifying.max(0)));
            }
        }
        History { orders, window }
    }

    /// Qualifying spend over the window that ends at `t`, net of refunds made by `t`.
    fn spend(&self, t: u64) -> i64 {
        self.orders
            .iter()
            .filter(|o| o.at <= t && t < o.at.saturating_add(self.window))
            .map(|o| {
                let refunded = o.refunds.iter().filter(|r| r.0 <= t).map(|r| r.1);
                o.amount
                    .saturating_sub(refunded.fold(0, i64::saturating_add))
                    .max(0)
            })
            .fold(0, i64::saturating_add)
    }

    /// The moments in `(after, until]` when spend can fall: an order leaving the
    /// window, a refund.
    fn drops(&self, after: u64, until: u64) -> Vec<u64> {
        let leaving = self.orders.iter().map(|o| o.at.saturating_add(self.window));
        let refunds = self
            .orders
            .iter()
            .flat_map(|o| o.refunds.iter().map(|r| r.0));
        leaving
            .chain(refunds)
            .filter(|at| (after.saturating_add(1)..=until).contains(at))
            .collect()
    }
}

/// An order's money in minor units, as the shop's backend knows it. Negative figures
/// count as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderAmounts {
    /// The goods: unit price × quantity over the order's lines, before discounts
    /// ([`subtotal`]). Shipping is not a line of goods.
    pub subtotal: i64,
    /// Discounts on the goods: coupons, promotions, redeemed rewards. A discount on
    /// shipping lowers `shipping` instead.
    pub discount: i64,
    /// The order's tax.
    pub tax: i64,
    /// Whether the line prices already hold the tax (prices shown with VAT). If not,
    /// the tax was added on top.
    pub tax_in_prices: bool,
    /// What shipping cost the shopper.
    pub shipping: i64,
}

impl OrderAmounts {
    /// What earns points and counts toward tiers: the goods after discounts, without
    /// tax and shipping. Never below zero.
    pub fn qualifying(&self) -> i64 {
        let tax = if self.tax_in_prices {
            self.tax.max(0)
        } else {
            0
        };
        let goods = self.subtotal.max(0).saturating_sub(self.discount.max(0));
        goods.saturating_sub(tax).max(0)
    }

    /// What the shopper paid: goods after discounts, plus shipping and any tax added
    /// on top. For checking the amounts against the shop's own total.
    pub fn total(&self) -> i64 {
        let tax = if self.tax_in_prices {
            0
        } else {
            self.tax.max(0)
        };
        let goods = self
            .subtotal
            .max(0)
            .saturating_sub(self.discount.max(0))
            .max(0);
        goods
            .saturating_add(self.shipping.max(0))
            .saturating_add(tax)
    }
}

/// One line of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The price of one, in minor units.
    pub unit_price: i64,
    /// How many.
    pub quantity: u32,
}

/// The goods' subtotal of `lines`: unit price × quantity, summed. Negative prices
/// count as zero.
pub fn subtotal(lines: &[Line]) -> i64 {
    lines
        .iter()
        .map(|line| line.unit_price.max(0).saturating_mul(line.quantity.into()))
        .fold(0, i64::saturating_add)
}

/// What a ledger entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Points earned by an order.
    Order,
    /// Points an order's refund took back.
    Refund,
    /// Points for a bonus action.
    Bonus(Action),
    /// Points spent on a reward.
    Redemption {
        /// The reward's id.
        reward: String,
    },
    /// Points given back for a cancelled redemption.
    Release {
        /// The key of the redemption it cancels.
        redemption: String,
    },
    /// Points a merchant added or took away by hand.
    Adjustment {
        /// Why, for the customer's record.
        reason: String,
    },
    /// Points that lapsed after a spell without activity.
    Expiry,
}

impl Kind {
    /// The name used in the API and the store.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Order => "order",
            Kind::Refund => "refund",
            Kind::Bonus(_) => "bonus",
            Kind::Redemption { .. } => "redemption",
            Kind::Release { .. } => "release",
            Kind::Adjustment { .. } => "adjustment",
            Kind::Expiry => "expiry",
        }
    }

    /// Whether it is the shopper's own activity, which restarts the expiry clock.
    pub fn is_activity(&self) -> bool {
        matches!(self, Kind::Order | Kind::Bonus(_) | Kind::Redemption { .. })
    }
}

/// One line of a customer's append-only points ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What happened.
    pub kind: Kind,
    /// Points added (positive) or taken away (negative).
    pub points: i64,
    /// For an order, its qualifying amount; for a refund, the qualifying amount
    /// refunded; otherwise 0. In minor units.
    pub qualifying: i64,
    /// The order an order, refund or redemption belongs to.
    pub order_id: Option<String>,
    /// The idempotency key, unique in the customer's ledger.
    pub key: String,
    /// When it happened, in ms since the Unix epoch.
    pub at_ms: u64,
}

/// A refund's entry, and the points it should have taken back but the balance no
/// longer held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversal {
    /// The entry to append.
    pub entry: Entry,
    /// Points not taken back because they were already spent.
    pub short: i64,
}

/// Why a ledger operation was refused. The message says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    /// A reward the shop's rules lack.
    #[error("redeem: `reward` \"{0}\" is not one of the shop's rewards")]
    UnknownReward(String),
    /// Fewer points than the reward costs.
    #[error("redeem: \"{reward}\" costs {cost} points and the balance is {balance}; {} more are needed", .cost - .balance)]
    NotEnoughPoints {
        /// The reward's id.
        reward: String,
        /// Its cost.
        cost: i64,
        /// The points held.
        balance: i64,
    },
    /// No redemption under that key.
    #[error("release: no redemption with the key \"{0}\" in this ledger")]
    UnknownRedemption(String),
    /// The redemption was given back already.
    #[error("release: redemption \"{0}\" was already released")]
    AlreadyReleased(String),
    /// No order under that id.
    #[error("refund: order \"{0}\" earned nothing in this ledger")]
    UnknownOrder(String),
    /// A refund whose qualifying amount is zero.
    #[error("refund: the refunded qualifying amount must be above 0, got {0}; check `subtotal`, `discount` and `tax`")]
    NothingRefunded(i64),
    /// The order was refunded in full already.
    #[error("refund: order \"{order}\" has nothing left to refund; {refunded} of its qualifying {amount} was refunded already")]
    FullyRefunded {
        /// The order's id.
        order: String,
        /// Its qualifying amount.
        amount: i64,
        /// How much of it was refunded.
        refunded: i64,
    },
    /// A bonus the rules switch off.
    #[error("bonus: `{}` earns 0 points in the shop's rules, so it is switched off", .0.name())]
    BonusOff(Action),
    /// A second signup bonus.
    #[error("bonus: `signup` is granted once, and was granted on {}", time::iso8601(*.at_ms))]
    SignupGranted {
        /// When it was granted.
        at_ms: u64,
    },
    /// A second birthday bonus in one calendar year.
    #[error("bonus: `birthday` is granted once a calendar year, and was granted in {year} on {}", time::iso8601(*.at_ms))]
    BirthdayGranted {
        /// The year.
        year: i64,
        /// When it was granted.
        at_ms: u64,
    },
    /// An adjustment without a reason.
    #[error("adjustment: `reason` is required, for the customer's record")]
    MissingReason,
    /// An adjustment of no points.
    #[error("adjustment: `points` must not be 0")]
    ZeroAdjustment,
    /// An adjustment that would take the balance below zero.
    #[error("adjustment: `points` {points} would take the balance of {balance} below zero")]
    AdjustmentBelowZero {
        /// The adjustment.
        points: i64,
        /// The points held.
        balance: i64,
    },
    /// A stored ledger whose balance goes below zero.
    #[error("ledger: entry \"{key}\" takes the balance to {balance}; it can never go below zero")]
    NegativeBalance {
        /// The entry's key.
        key: String,
        /// The balance after it.
        balance: i64,
    },
}

/// The reversal for a refund of order `order_id` at `at_ms`, whose refunded lines
/// are `refunded`, under the idempotency key `key`. The points follow the refund rule
/// in the module's documentation; the entry records the qualifying amount refunded,
/// capped at what was left of the order.
pub fn refund(
    entries: &[Entry],
    order_id: &str,
    refunded: &OrderAmounts,
    key: &str,
    at_ms: u64,
) -> Result<Reversal, LoyaltyError> {
    let this = refunded.qualifying();
    if this <= 0 {
        return Err(LoyaltyError::NothingRefunded(this));
    }
    let (mut found, mut earned, mut amount, mut before, mut reversed) =
        (false, 0i64, 0i64, 0i64, 0i64);
    for entry in entries
        .iter()
        .filter(|e| e.order_id.as_deref() == Some(order_id))
    {
        match entry.kind {
            Kind::Order => {
                found = true;
                earned = earned.saturating_add(entry.points.max(0));
                amount = amount.saturating_add(entry.qualifying.max(0));
            }
            Kind::Refund => {
                before = before.saturating_add(entry.qualifying.max(0));
                reversed = reversed.saturating_add(entry.points.min(0).saturating_neg());
            }
            _ => {}
        }
    }
    if !found {
        return Err(LoyaltyError::UnknownOrder(order_id.to_owned()));
    }
    let left = amount.saturating_sub(before);
    if left <= 0 {
        return Err(LoyaltyError::FullyRefunded {
            order: order_id.to_owned(),
            amount,
            refunded: before,
        });
    }
    let applied = this.min(left);
    let due = mul_div(earned, before + applied, amount)
        .saturating_sub(reversed)
        .max(0);
    let taken = due.min(sum(entries).max(0));
    Ok(Reversal {
        entry: Entry {
            kind: Kind::Refund,
            points: -taken,
            qualifying: applied,
            order_id: Some(order_id.to_owned()),
            key: key.to_owned(),
            at_ms,
        },
        short: due - taken,
    })
}

/// The entry giving back the points of the redemption keyed `redemption_key`, whose
/// reward was cancelled, at `at_ms`. Its key is `release:` and the redemption's key.
pub fn release(entries: &[Entry], redemption_key: &str, at_ms: u64) -> Result<Entry, LoyaltyError> {
    let redemption = entries
        .iter()
        .find(|e| matches!(e.kind, Kind::Redemption { .. }) && e.key == redemption_key)
        .ok_or_else(|| LoyaltyError::UnknownRedemption(redemption_key.to_owned()))?;
    let released = entries
        .iter()
        .any(|e| matches!(&e.kind, Kind::Release { redemption } if redemption == redemption_key));
    if released {
        return Err(LoyaltyError::AlreadyReleased(redemption_key.to_owned()));
    }
    Ok(Entry {
        kind: Kind::Release {
            redemption: redemption_key.to_owned(),
        },
        points: redemption.points.saturating_neg().max(0),
        qualifying: 0,
        order_id: redemption.order_id.clone(),
        key: ["release:", redemption_key].concat(),
        at_ms,
    })
}

/// The entry for a merchant adding (positive) or taking away (negative) `points` by
/// hand at `at_ms`, for `reason`, under the idempotency key `key`. Refused without a
/// reason, for 0 points, and when it would take the balance below zero.
pub fn adjust(
    entries: &[Entry],
    points: i64,
    reason: &str,
    key: &str,
    at_ms: u64,
) -> Result<Entry, LoyaltyError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LoyaltyError::MissingReason);
    }
    if points == 0 {
        return Err(LoyaltyError::ZeroAdjustment);
    }
    let balance = sum(entries).max(0);
    if balance.saturating_add(points) < 0 {
        return Err(LoyaltyError::AdjustmentBelowZero { points, balance });
    }
    Ok(Entry {
        kind: Kind::Adjustment {
            reason: reason.to_owned(),
        },
        points,
        qualifying: 0,
        order_id: None,
        key: key.to_owned(),
        at_ms,
    })
}

/// Checks that `entries`, in the order they were appended, never take the balance
/// below zero; the error names the first entry that does.
pub fn check_ledger(entries: &[Entry]) -> Result<(), LoyaltyError> {
    let mut balance = 0i64;
    for entry in entries {
        balance = balance.saturating_add(entry.points);
        if balance < 0 {
            return Err(LoyaltyError::NegativeBalance {
                key: entry.key.clone(),
                balance,
            });
        }
    }
    Ok(())
}

/// When the points held lapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The points that lapse.
    pub points: i64,
    /// When, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Whether that time has come: the points are no longer spendable, and
    /// [`Account::expiry_entry`] records their lapse.
    pub due: bool,
}

/// The next tier up, and the spend still needed to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Its index into [`Rules::tiers`].
    pub tier: usize,
    /// The qualifying spend still needed over the window, in minor units.
    pub needed: i64,
}

/// A tier kept only by the grace period: spend over the window fell below its
/// threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace {
    /// The tier the spend reaches now: the one held from `until_ms` on, if spend
    /// stays as it is.
    pub qualified: usize,
    /// When the tier goes down unless spend reaches its threshold again.
    pub until_ms: u64,
    /// The qualifying spend that keeps it, in minor units.
    pub needed: i64,
}

/// What a customer's ledger adds up to at one moment: what the server answers and
/// the widget shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The points that can be spent now: never below zero, lapsed points left out.
    pub balance: i64,
    /// The tier held, as an index into [`Rules::tiers`].
    pub tier: usize,
    /// Qualifying spend over the tier window, net of refunds, in minor units.
    pub spend: i64,
    /// The next tier up; `None` at the top.
    pub next: Option<Progress>,
    /// Set while the tier is held only by grace.
    pub grace: Option<Grace>,
    /// When the points held lapse; `None` when there are none or they never do.
    pub expiry: Option<Expiry>,
    /// The rewards the balance buys now, as indices into [`Rules::rewards`].
    pub affordable: Vec<usize>,
}

impl Account {
    /// The account `entries` add up to at `now_ms` under `rules`. Every entry counts
    /// toward the balance; tiers count what happened by `now_ms`.
    pub fn from_ledger(rules: &Rules, entries: &[Entry], now_ms: u64) -> Account {
        let (balance, expiry) = rules.points_held(entries, now_ms);
        let standing = rules.standing(entries, now_ms);
        let (tier, spend) = (standing.held, standing.spend);
        let next = rules.tiers.get(tier + 1).map(|next| Progress {
            tier: tier + 1,
            needed: next.threshold.saturating_sub(spend).max(0),
        });
        let grace = standing.until_ms.map(|until_ms| Grace {
            qualified: standing.qualified,
            until_ms,
            needed: rules.tiers[tier].threshold.saturating_sub(spend).max(0),
        });
        let affordable = (0..rules.rewards.len())
            .filter(|&i| rules.rewards[i].cost <= balance)
            .collect();
        Account {
            balance,
            tier,
            spend,
            next,
            grace,
            expiry,
            affordable,
        }
    }

    /// The entry recording that the points lapsed, once their expiry is due. Dated at
    /// the expiry, under the key `expiry:` and its time in ms.
    pub fn expiry_entry(&self) -> Option<Entry> {
        let expiry = self.expiry.filter(|e| e.due)?;
        Some(Entry {
            kind: Kind::Expiry,
            points: -expiry.points,
            qualifying: 0,
            order_id: None,
            key: ["expiry:", &expiry.at_ms.to_string()].concat(),
            at_ms: expiry.at_ms,
        })
    }
}

/// The sum of the entries' points.
fn sum(entries: &[Entry]) -> i64 {
    entries
        .iter()
        .map(|e| e.points)
        .fold(0, i64::saturating_add)
}

/// When the expiry clock last started: the last activity, or the first entry.
fn last_activity(entries: &[Entry]) -> Option<u64> {
    let activity = entries
        .iter()
        .filter(|e| e.kind.is_activity())
        .map(|e| e.at_ms)
        .max();
    activity.or_else(|| entries.iter().map(|e| e.at_ms).min())
}

/// `floor(value × numerator ÷ denominator)` without overflow; 0 for a zero denominator.
fn mul_div(value: i64, numerator: i64, denominator: i64) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let exact = i128::from(value) * i128::from(numerator);
    clamp_i64(exact.div_euclid(i128::from(denominator)))
}

fn clamp_i64(value: i128) -> i64 {
    value.clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

fn range(field: &str, got: i64, min: i64, max: i64) -> Result<(), RulesError> {
    range_with(|| field.to_owned(), got, min, max)
}

fn range_with(
    field: impl FnOnce() -> String,
    got: i64,
    min: i64,
    max: i64,
) -> Result<(), RulesError> {
    if (min..=max).contains(&got) {
        return Ok(());
    }
    Err(RulesError::OutOfRange {
        field: field(),
        min,
        max,
        got,
    })
}

/// `list[i].name`.
fn indexed(list: &str, i: usize, name: &str) -> String {
    [list, "[", &i.to_string(), "].", name].concat()
}

fn check_id(field: impl FnOnce() -> String, id: &str) -> Result<(), RulesError> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
    if (1..=40).contains(&id.len()) && id.bytes().all(allowed) {
        return Ok(());
    }
    Err(RulesError::BadId {
        field: field(),
        got: id.to_owned(),
    })
}

fn check_label(field: impl Fn(&str) -> String, label: &Label) -> Result<(), RulesError> {
    for (lang, text) in [("name.en", &label.en), ("name.ar", &label.ar)] {
        let length = text.trim().chars().count();
        if !(1..=80).contains(&length) || text.chars().any(char::is_control) {
            return Err(RulesError::BadName {
                field: field(lang),
                got: text.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-01-15T00:00:00Z.
    const T0: u64 = 1_736_899_200_000;
    const BRONZE: usize = 0;
    const SILVER: usize = 1;
    const GOLD: usize = 2;

    fn goods(subtotal: i64) -> OrderAmounts {
        OrderAmounts {
            subtotal,
            ..OrderAmounts::default()
        }
    }

    /// Appends order `id` for `qualifying` at `at` the way the server does, and
    /// returns the points it earned.
    fn place(rules: &Rules, ledger: &mut Vec<Entry>, id: &str, qualifying: i64, at: u64) -> i64 {
        let entry = rules.earn(ledger, id, &goods(qualifying), at);
        let points = entry.points;
        ledger.push(entry);
        points
    }

    fn refund_of(
        ledger: &mut Vec<Entry>,
        id: &str,
        qualifying: i64,
        key: &str,
        at: u64,
    ) -> Reversal {
        let reversal = refund(ledger, id, &goods(qualifying), key, at).unwrap();
        ledger.push(reversal.entry.clone());
        reversal
    }

    fn bonus(points: i64, at: u64) -> Entry {
        Entry {
            kind: Kind::Bonus(Action::Review),
            points,
            qualifying: 0,
            order_id: None,
            key: ["review-", &at.to_string()].concat(),
            at_ms: at,
        }
    }

    #[test]
    fn the_default_rules_pass_their_own_check() {
        let rules = Rules::default();
        assert_eq!(rules.check(), Ok(()));
        assert_eq!(rules.tiers[GOLD].name.get(Lang::Ar), "ذهبي");
        assert_eq!(rules.rewards[2].name.get(Lang::En), "Free shipping");
    }

    #[test]
    fn a_wrong_setting_is_refused_by_name() {
        let refused = |change: fn(&mut Rules)| {
            let mut rules = Rules::default();
            change(&mut rules);
            rules.check().unwrap_err().to_string()
        };
        assert_eq!(
            refused(|r| r.earn.per = 0),
            "loyalty rules: `earn.per` must be from 1 to 1000000, got 0"
        );
        assert_eq!(
            refused(|r| r.bonuses.birthday = -5),
            "loyalty rules: `bonuses.birthday` must be from 0 to 1000000, got -5"
        );
        assert_eq!(
            refused(|r| r.tiers[0].threshold = 100),
            "loyalty rules: `tiers[0].threshold` must be 0, so that every customer holds a tier, got 100"
        );
        assert_eq!(
            refused(|r| r.tiers[2].threshold = 50_000),
            "loyalty rules: `tiers[2].threshold` must be above the tier before it (50000), got 50000"
        );
        assert_eq!(
            refused(|r| r.tiers[2].multiplier_permille = 1100),
            "loyalty rules: `tiers[2].multiplier_permille` must be at least the tier before it (1250), got 1100"
        );
        assert_eq!(
            refused(|r| r.tiers[1].name.ar = " ".into()),
            "loyalty rules: `tiers[1].name.ar` must be 1 to 80 printable characters, got \" \""
        );
        assert_eq!(
            refused(|r| r.rewards[1].id = "five-off".into()),
            "loyalty rules: `rewards[1].id` repeats the id \"five-off\"; each must be unique"
        );
        assert_eq!(
            refused(|r| r.rewards[0].id = "Five Off".into()),
            "loyalty rules: `rewards[0].id` must be 1 to 40 lowercase letters, digits, `_` or `-`, got \"Five Off\""
        );
        assert_eq!(
            refused(|r| r.rewards[1].kind = RewardKind::PercentDiscount {
                percent: 101,
                cap: None
            }),
            "loyalty rules: `rewards[1].percent` must be from 1 to 100, got 101"
        );
        assert_eq!(
            refused(|r| r.expiry_months = Some(0)),
            "loyalty rules: `expiry_months` must be from 1 to 120, got 0"
        );
        assert_eq!(
            refused(|r| r.tiers.clear()),
            RulesError::NoTiers.to_string()
        );
        let never = Rules {
            expiry_months: None,
            tier_grace_days: 0,
            ..Rules::default()
        };
        assert_eq!(never.check(), Ok(()), "no expiry and no grace are allowed");
    }

    #[test]
    fn qualifying_amount_leaves_out_tax_shipping_and_discounts() {
        let lines = [
            Line {
                unit_price: 7_500,
                quantity: 2,
            },
            Line {
                unit_price: 5_000,
                quantity: 1,
            },
        ];
        assert_eq!(subtotal(&lines), 20_000);
        let tax_on_top = OrderAmounts {
            subtotal: subtotal(&lines),
            discount: 2_000,
            tax: 900,
            tax_in_prices: false,
            shipping: 1_500,
        };
        assert_eq!(tax_on_top.qualifying(), 18_000);
        assert_eq!(tax_on_top.total(), 20_400, "what the shopper paid");
        let vat_in_prices = OrderAmounts {
            subtotal: 21_000,
            discount: 2_100,
            tax: 900,
            tax_in_prices: true,
            shipping: 1_500,
        };
        assert_eq!(vat_in_prices.qualifying(), 18_000);
        assert_eq!(vat_in_prices.total(), 20_400);

        let rules = Rules::default();
        let bare = goods(18_000);
        for amounts in [tax_on_top, vat_in_prices, bare] {
            let entry = rules.earn(&[], "o1", &amounts, T0);
            assert_eq!((entry.points, entry.qualifying), (180, 18_000));
        }
        let free_shipping_and_more_tax = OrderAmounts {
            tax: 5_000,
            shipping: 0,
            ..tax_on_top
        };
        assert_eq!(free_shipping_and_more_tax.qualifying(), 18_000);

        let over_discounted = OrderAmounts {
            discount: 30_000,
            ..tax_on_top
        };
        assert_eq!(over_discounted.qualifying(), 0, "never negative");
        let nonsense = OrderAmounts {
            subtotal: 1_000,
            discount: -500,
            tax: -100,
            tax_in_prices: true,
            shipping: -1,
        };
        assert_eq!(
            nonsense.qualifying(),
            1_000,
            "negative figures count as zero"
        );
        assert_eq!(rules.earn(&[], "o2", &over_discounted, T0).points, 0);
    }

    #[test]
    fn earning_rounds_down_once_and_the_tier_multiplies() {
        let rules = Rules::default();
        assert_eq!(rules.points(12_399, BRONZE), 123, "123.99 rounds down");
        assert_eq!(
            rules.points(12_399, SILVER),
            154,
            "154.9875, not 123 × 1.25 = 153"
        );
        assert_eq!(rules.points(10_000, GOLD), 150);
        assert_eq!(rules.points(99, BRONZE), 0);
        assert_eq!(rules.points(-5_000, GOLD), 0);
        let fils = Rules {
            earn: EarnRate {
                points: 1,
                per: 1000,
            },
            ..Rules::default()
        };
        assert_eq!(fils.points(12_399, BRONZE), 12, "one point per whole dinar");

        // A silver customer's next order earns ×1.25.
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 60_000, T0);
        assert_eq!(rules.tier_at(&ledger, T0 + DAY_MS), SILVER);
        assert_eq!(place(&rules, &mut ledger, "o2", 10_000, T0 + DAY_MS), 125);
    }

    #[test]
    fn the_tier_rises_the_moment_spend_reaches_the_threshold() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 49_999, T0);
        let account = Account::from_ledger(&rules, &ledger, T0 + DAY_MS);
        assert_eq!((account.tier, account.spend), (BRONZE, 49_999));
        assert_eq!(
            account.next,
            Some(Progress {
                tier: SILVER,
                needed: 1
            })
        );

        let crossing = T0 + 2 * DAY_MS;
        let earned = place(&rules, &mut ledger, "o2", 1, crossing);
        assert_eq!(
            earned, 0,
            "the crossing order earns at the tier held before it"
        );
        assert_eq!(rules.tier_at(&ledger, crossing - 1), BRONZE);
        assert_eq!(rules.tier_at(&ledger, crossing), SILVER, "at once");
        let account = Account::from_ledger(&rules, &ledger, crossing);
        assert_eq!(
            account.next,
            Some(Progress {
                tier: GOLD,
                needed: 150_000
            })
        );
        assert_eq!(account.grace, None);

        place(&rules, &mut ledger, "o3", 150_000, crossing + DAY_MS);
        let account = Account::from_ledger(&rules, &ledger, crossing + DAY_MS);
        assert_eq!(
            (account.tier, account.next),
            (GOLD, None),
            "gold is the top"
        );
    }

    #[test]
    fn a_lower_tier_comes_only_after_the_grace_period() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 60_000, T0);
        let year = T0 + 365 * DAY_MS;
        let grace_end = year + 30 * DAY_MS;
        assert_eq!(Account::from_ledger(&rules, &ledger, year - 1).grace, None);

        // The order left the window: spend is 0, and silver is kept for 30 days.
        let account = Account::from_ledger(&rules, &ledger, year);
        assert_eq!((account.tier, account.spend), (SILVER, 0));
        let grace = Grace {
            qualified: BRONZE,
            until_ms: grace_end,
            needed: 50_000,
        };
        assert_eq!(account.grace, Some(grace));
        assert_eq!(rules.tier_at(&ledger, grace_end - 1), SILVER);
        let after = Account::from_ledger(&rules, &ledger, grace_end);
        assert_eq!((after.tier, after.grace), (BRONZE, None));

        // Reaching the threshold again within the grace keeps the tier for good.
        let mut kept = ledger.clone();
        place(&rules, &mut kept, "o2", 50_000, year + 20 * DAY_MS);
        let account = Account::from_ledger(&rules, &kept, grace_end + 100 * DAY_MS);
        assert_eq!((account.tier, account.grace), (SILVER, None));

        // With no grace the tier goes with the spend.
        let mut strict = rules.clone();
        strict.tier_grace_days = 0;
        assert_eq!(strict.tier_at(&ledger, year - 1), SILVER);
        assert_eq!(strict.tier_at(&ledger, year), BRONZE);
    }

    #[test]
    fn a_refund_lowers_tier_spend_and_starts_the_grace() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 60_000, T0);
        let refunded_at = T0 + 10 * DAY_MS;
        refund_of(&mut ledger, "o1", 20_000, "r1", refunded_at);
        let account = Account::from_ledger(&rules, &ledger, refunded_at);
        assert_eq!((account.tier, account.spend), (SILVER, 40_000));
        let grace = account.grace.unwrap();
        assert_eq!(
            (grace.until_ms, grace.needed),
            (refunded_at + 30 * DAY_MS, 10_000)
        );
        assert_eq!(rules.tier_at(&ledger, refunded_at + 30 * DAY_MS), BRONZE);
        assert_eq!(
            rules.tier_at(&ledger, refunded_at - 1),
            SILVER,
            "spend counts refunds made by then"
        );
    }

    #[test]
    fn partial_refunds_add_up_to_what_the_order_earned() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        assert_eq!(place(&rules, &mut ledger, "o1", 10_000, T0), 100);
        let taken: Vec<i64> = [(3_333, "r1"), (3_333, "r2"), (3_334, "r3")]
            .into_iter()
            .map(|(amount, key)| {
                -refund_of(&mut ledger, "o1", amount, key, T0 + DAY_MS)
                    .entry
                    .points
            })
            .collect();
        assert_eq!(
            taken,
            [33, 33, 34],
            "each refund's share of the running total"
        );
        assert_eq!(sum(&ledger), 0);
        assert_eq!(
            refund(&ledger, "o1", &goods(1), "r4", T0).unwrap_err().to_string(),
            "refund: order \"o1\" has nothing left to refund; 10000 of its qualifying 10000 was refunded already"
        );

        // One refund of more than was left takes back what the order earned, at its tier.
        let mut silver = Vec::new();
        place(&rules, &mut silver, "o1", 60_000, T0);
        assert_eq!(place(&rules, &mut silver, "o2", 10_000, T0 + 1), 125);
        let whole = refund_of(&mut silver, "o2", 99_999, "r1", T0 + 2);
        assert_eq!(
            (whole.entry.points, whole.entry.qualifying, whole.short),
            (-125, 10_000, 0)
        );
        assert_eq!(whole.entry.order_id.as_deref(), Some("o2"));

        assert_eq!(
            refund(&silver, "o9", &goods(100), "r9", T0).unwrap_err(),
            LoyaltyError::UnknownOrder("o9".into())
        );
        let shipping_only = OrderAmounts {
            shipping: 1_500,
            ..OrderAmounts::default()
        };
        assert_eq!(
            refund(&silver, "o1", &shipping_only, "r9", T0).unwrap_err(),
            LoyaltyError::NothingRefunded(0)
        );
    }

    #[test]
    fn an_order_applied_twice_is_never_reversed_beyond_what_it_earned() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        // The caller failed to keep the order once: it earned twice.
        place(&rules, &mut ledger, "o1", 10_000, T0);
        ledger.push(rules.earn(&[], "o1", &goods(10_000), T0));
        assert_eq!(sum(&ledger), 200);
        let mut reversed = 0;
        for key in ["r1", "r2", "r3"] {
            match refund(&ledger, "o1", &goods(10_000), key, T0 + DAY_MS) {
                Ok(reversal) => {
                    reversed -= reversal.entry.points;
                    ledger.push(reversal.entry);
                }
                Err(err) => assert!(matches!(err, LoyaltyError::FullyRefunded { .. })),
            }
        }
        assert_eq!(reversed, 200, "all it earned, and no more");
        assert_eq!(sum(&ledger), 0);
    }

    #[test]
    fn a_refund_of_spent_points_stops_at_zero_and_catches_up_later() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 60_000, T0);
        ledger.push(rules.redeem(&ledger, "five-off", "x1", T0 + 1).unwrap());
        assert_eq!(sum(&ledger), 100);
        let half = refund_of(&mut ledger, "o1", 30_000, "r1", T0 + 2);
        assert_eq!((half.entry.points, half.short), (-100, 200));
        assert_eq!(check_ledger(&ledger), Ok(()));
        assert_eq!(Account::from_ledger(&rules, &ledger, T0 + 2).balance, 0);

        let earned = place(&rules, &mut ledger, "o2", 40_000, T0 + 3);
        assert_eq!(earned, 500, "silver, kept by grace");
        let rest = refund_of(&mut ledger, "o1", 30_000, "r2", T0 + 4);
        assert_eq!(
            (rest.entry.points, rest.short),
            (-500, 0),
            "its own 300 and the 200 owed"
        );
        assert_eq!(sum(&ledger), 0);
    }

    #[test]
    fn points_expire_after_months_without_activity_and_not_before() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 20_000, T0);
        let lapse = time::add_months(T0, 12);
        assert_eq!(time::iso8601(lapse), "2026-01-15T00:00:00.000Z");

        let before = Account::from_ledger(&rules, &ledger, lapse - 1);
        assert_eq!(before.balance, 200);
        assert_eq!(
            before.expiry,
            Some(Expiry {
                points: 200,
                at_ms: lapse,
                due: false
            })
        );
        assert_eq!(before.expiry_entry(), None);

        let after = Account::from_ledger(&rules, &ledger, lapse);
        assert_eq!(after.balance, 0, "lapsed points cannot be spent");
        assert_eq!(after.affordable, Vec::<usize>::new());
        let entry = after.expiry_entry().unwrap();
        assert_eq!(
            (entry.kind.clone(), entry.points, entry.at_ms),
            (Kind::Expiry, -200, lapse)
        );
        assert_eq!(entry.key, ["expiry:", &lapse.to_string()].concat());
        ledger.push(entry);
        let swept = Account::from_ledger(&rules, &ledger, lapse + DAY_MS);
        assert_eq!((swept.balance, swept.expiry), (0, None));
        assert_eq!(
            rules
                .redeem(&ledger[..1], "free-shipping", "x1", lapse)
                .unwrap_err(),
            LoyaltyError::NotEnoughPoints {
                reward: "free-shipping".into(),
                cost: 300,
                balance: 0
            }
        );
    }

    #[test]
    fn only_the_shoppers_own_activity_restarts_the_expiry_clock() {
        let rules = Rules::default();
        let mut ledger = Vec::new();
        place(&rules, &mut ledger, "o1", 90_000, T0);
        let half_year = time::add_months(T0, 6);
        ledger.push(adjust(&ledger, 50, "goodwill", "a1", half_year).unwrap());
        ledger.push(refund_of(&mut ledger.clone(), "o1", 10_000, "r1", half_year).entry);
        let expiry = Account::from_ledger(&rules, &ledger, half_year)
            .expiry
            .unwrap();
        assert_eq!(
            expiry.at_ms,
            time::add_months(T0, 12),
            "adjustments and refunds are not activity"
        );

        ledger.push(rules.redeem(&ledger, "five-off", "x1", half_year).unwrap());
        let expiry = Account::from_ledger(&rules, &ledger, half_year)
            .expiry
            .unwrap();
        assert_eq!(time::iso8601(expiry.at_ms), "2026-07-15T00:00:00.000Z");
        assert!(Account::from_ledger(&rules, &ledger, time::add_months(T0, 12)).balance > 0);

        // The last day of a month moves to the last day of a shorter one.
        let jan_31 = T0 + 16 * DAY_MS;
        let mut monthly = rules.clone();
        monthly.expiry_months = Some(1);
        let ledger = [bonus(20, jan_31)];
        let expiry = Account::from_ledger(&monthly, &ledger, jan_31)
            .expiry
            .unwrap();
        assert_eq!(time::iso8601(expiry.at_ms), "2025-02-28T00:00:00.000Z");
        let mut never = rules;
        never.expiry_months = None;
        let forever = Account::from_ledger(&never, &ledger, u64::MAX / 2);
        assert_eq!((forever.balance, forever.expiry), (20, None));
    }

    #[test]
    fn a_redemption_needs_the_points_and_a_known_reward() {
        let rules = Rules::default();
        let ledger = [bonus(320, T0)];
        let short = rules.redeem(&ledger, "five-off", "x1", T0).unwrap_err();
        assert_eq!(
            short.to_string(),
            "redeem: \"five-off\" costs 500 points and the balance is 320; 180 more are needed"
        );
        assert_eq!(
            rules
                .redeem(&ledger, "free-car", "x1", T0)
                .unwrap_err()
                .to_string(),
            "redeem: `reward` \"free-car\" is not one of the shop's rewards"
        );
        let account = Account::from_ledger(&rules, &ledger, T0);
        assert_eq!(account.affordable, [2], "only free shipping");

        let ledger = [bonus(320, T0), bonus(500, T0 + 1)];
        assert_eq!(
            Account::from_ledger(&rules, &ledger, T0).affordable,
            [0, 1, 2]
        );
        let entry = rules.redeem(&ledger, "ten-percent", "x1", T0 + 2).unwrap();
        assert_eq!(
            entry.kind,
            Kind::Redemption {
                reward: "ten-percent".into()
            }
        );
        assert_eq!((entry.points, entry.key.as_str()), (-800, "x1"));
    }

    #[test]
    fn a_cancelled_redemption_gives_the_points_back_once() {
        let rules = Rules::default();
        let mut ledger = vec![bonus(600, T0)];
        ledger.push(rules.redeem(&ledger, "five-off", "x1", T0 + 1).unwrap());
        let back = release(&ledger, "x1", T0 + 2).unwrap();
        assert_eq!((back.points, back.key.as_str()), (500, "release:x1"));
        ledger.push(back);
        assert_eq!(Account::from_ledger(&rules, &ledger, T0 + 3).balance, 600);
        assert_eq!(
            release(&ledger, "x1", T0 + 4),
            Err(LoyaltyError::AlreadyReleased("x1".into()))
        );
        assert_eq!(
            release(&ledger, "x9", T0 + 4).unwrap_err().to_string(),
            "release: no redemption with the key \"x9\" in this ledger"
        );
    }

    #[test]
    fn the_balance_never_goes_below_zero() {
        let rules = Rules::default();
        let spent_twice = [
            bonus(100, T0),
            Entry {
                kind: Kind::Redemption {
                    reward: "free-shipping".into(),
                },
                points: -150,
                qualifying: 0,
                order_id: None,
                key: "x1".into(),
                at_ms: T0 + 1,
            },
        ];
        assert_eq!(
            check_ledger(&spent_twice).unwrap_err().to_string(),
            "ledger: entry \"x1\" takes the balance to -50; it can never go below zero"
        );
        assert_eq!(check_ledger(&spent_twice[..1]), Ok(()));
        assert_eq!(
            Account::from_ledger(&rules, &spent_twice, T0 + 2).balance,
            0
        );

        let ledger = [bonus(100, T0)];
        assert_eq!(
            adjust(&ledger, -150, "fraud", "a1", T0)
                .unwrap_err()
                .to_string(),
            "adjustment: `points` -150 would take the balance of 100 below zero"
        );
        let taken = adjust(&ledger, -100, " fraud ", "a1", T0).unwrap();
        assert_eq!(
            taken.kind,
            Kind::Adjustment {
                reason: "fraud".into()
            }
        );
        assert_eq!(
            adjust(&ledger, 10, "  ", "a2", T0),
            Err(LoyaltyError::MissingReason)
        );
        assert_eq!(
            adjust(&ledger, 0, "oops", "a2", T0),
            Err(LoyaltyError::ZeroAdjustment)
        );
    }

    #[test]
    fn the_birthday_bonus_comes_once_a_calendar_year() {
        let rules = Rules::default();
        let march_2025 = T0 + 45 * DAY_MS;
        let new_years_eve = 1_767_225_599_999; // 2025-12-31T23:59:59.999Z
        let mut ledger = Vec::new();
        let first = rules
            .bonus(&ledger, Action::Birthday, "b2025", march_2025)
            .unwrap();
        assert_eq!(first.points, 200);
        ledger.push(first);
        assert_eq!(
            rules.bonus(&ledger, Action::Birthday, "b2025-again", new_years_eve).unwrap_err().to_string(),
            "bonus: `birthday` is granted once a calendar year, and was granted in 2025 on 2025-03-01T00:00:00.000Z"
        );
        assert!(rules
            .bonus(&ledger, Action::Birthday, "b2026", new_years_eve + 1)
            .is_ok());
    }

    #[test]
    fn signup_is_once_reviews_are_many_and_zero_switches_a_bonus_off() {
        let mut rules = Rules::default();
        let mut ledger = vec![rules.bonus(&[], Action::Signup, "signup", T0).unwrap()];
        assert!(matches!(
            rules.bonus(&ledger, Action::Signup, "signup-2", T0 + 1),
            Err(LoyaltyError::SignupGranted { at_ms: T0 })
        ));
        for key in ["review-p1", "review-p2"] {
            ledger.push(rules.bonus(&ledger, Action::Review, key, T0 + 2).unwrap());
        }
        assert_eq!(sum(&ledger), 140);
        rules.bonuses.review = 0;
        assert_eq!(
            rules
                .bonus(&ledger, Action::Review, "review-p3", T0 + 3)
                .unwrap_err()
                .to_string(),
            "bonus: `review` earns 0 points in the shop's rules, so it is switched off"
        );
        assert_eq!(Action::parse("referral"), Some(Action::Referral));
        assert_eq!(Action::parse("tweet"), None);
    }

    #[test]
    fn rewards_take_off_what_they_say_and_no_more() {
        let five = RewardKind::FixedDiscount { amount: 500 };
        assert_eq!(five.discount(12_000, 1_500), 500);
        assert_eq!(five.discount(300, 1_500), 300, "never more than the goods");
        let ten = RewardKind::PercentDiscount {
            percent: 10,
            cap: Some(5_000),
        };
        assert_eq!(ten.discount(12_345, 0), 1_234, "rounded down");
        assert_eq!(ten.discount(90_000, 0), 5_000, "capped");
        let uncapped = RewardKind::PercentDiscount {
            percent: 10,
            cap: None,
        };
        assert_eq!(uncapped.discount(90_000, 0), 9_000);
        assert_eq!(RewardKind::FreeShipping.discount(12_000, 1_500), 1_500);
    }
}
