//! The shop's loyalty rules file (`serve --loyalty-rules FILE`): JSON mapped onto
//! [`souk::core::loyalty::Rules`], which stays the one definition of the rules.
//!
//! Field names are those of `Rules` (snake_case), so the errors of
//! [`Rules::check`] name the setting as the file spells it. Every top-level field is
//! optional and defaults to [`Rules::default`]'s; an object that is given must be
//! complete. Unknown fields are refused, so a typo is an error instead of a silent
//! default.
//!
//! ```json
//! {
//!   "earn": { "points": 1, "per": 100 },
//!   "bonuses": { "signup": 100, "birthday": 200, "review": 20, "referral": 300 },
//!   "tiers": [
//!     { "id": "bronze", "name": { "en": "Bronze", "ar": "برونزي" }, "threshold": 0, "multiplier_permille": 1000 },
//!     { "id": "silver", "name": { "en": "Silver", "ar": "فضي" }, "threshold": 50000, "multiplier_permille": 1250 }
//!   ],
//!   "tier_window_days": 365,
//!   "tier_grace_days": 30,
//!   "rewards": [
//!     { "id": "five-off", "name": { "en": "5.00 off", "ar": "خصم 5.00" }, "cost": 500, "type": "fixed_discount", "amount": 500 },
//!     { "id": "ten-percent", "name": { "en": "10% off", "ar": "خصم 10٪" }, "cost": 800, "type": "percent_discount", "percent": 10, "cap": 5000 },
//!     { "id": "free-shipping", "name": { "en": "Free shipping", "ar": "شحن مجاني" }, "cost": 300, "type": "free_shipping" }
//!   ],
//!   "expiry_months": 12
//! }
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use souk::core::loyalty::{Bonuses, EarnRate, Label, Reward, RewardKind, Rules, Tier};

/// Why a rules file was refused.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the loyalty rules in {path}: {problem}")]
pub struct RulesFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, naming the field.
    pub problem: String,
}

/// Reads, maps and checks the rules in `path`.
pub fn load(path: &Path) -> Result<Rules, RulesFileError> {
    let error = |problem: String| RulesFileError {
        path: path.to_owned(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    parse(&text).map_err(error)
}

/// Maps and checks the rules in JSON `text`; the error names the field.
pub fn parse(text: &str) -> Result<Rules, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    let file: RulesFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            inner.to_string()
        } else {
            format!("`{path}`: {inner}")
        }
    })?;
    let rules = file.into_rules()?;
    rules.check().map_err(|e| e.to_string())?;
    Ok(rules)
}

/// `rules` in the file's own format: [`parse`] reads it back unchanged.
pub fn to_json(rules: &Rules) -> Value {
    json!({
        "earn": { "points": rules.earn.points, "per": rules.earn.per },
        "bonuses": {
            "signup": rules.bonuses.signup,
            "birthday": rules.bonuses.birthday,
            "review": rules.bonuses.review,
            "referral": rules.bonuses.referral,
        },
        "tiers": rules.tiers.iter().map(|t| json!({
            "id": t.id,
            "name": { "en": t.name.en, "ar": t.name.ar },
            "threshold": t.threshold,
            "multiplier_permille": t.multiplier_permille,
        })).collect::<Vec<_>>(),
        "tier_window_days": rules.tier_window_days,
        "tier_grace_days": rules.tier_grace_days,
        "rewards": rules.rewards.iter().map(reward_json).collect::<Vec<_>>(),
        "expiry_months": rules.expiry_months,
    })
}

/// The reward `reward` as JSON, as the API shows it and a coupon keeps it.
pub fn reward_json(reward: &Reward) -> Value {
    let mut value = json!({
        "id": reward.id,
        "name": { "en": reward.name.en, "ar": reward.name.ar },
        "cost": reward.cost,
    });
    match reward.kind {
        RewardKind::FixedDiscount { amount } => {
            value["type"] = json!("fixed_discount");
            value["amount"] = json!(amount);
        }
        RewardKind::PercentDiscount { percent, cap } => {
            value["type"] = json!("percent_discount");
            value["percent"] = json!(percent);
            if let Some(cap) = cap {
                value["cap"] = json!(cap);
            }
        }
        RewardKind::FreeShipping => value["type"] = json!("free_shipping"),
    }
    value
}

/// Reads back a reward written by [`reward_json`].
pub fn reward_from_json(value: &Value) -> Option<Reward> {
    let file: RewardFile = serde_json::from_value(value.clone()).ok()?;
    file.into_reward(0).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    earn: Option<EarnFile>,
    bonuses: Option<BonusesFile>,
    tiers: Option<Vec<TierFile>>,
    tier_window_days: Option<u32>,
    tier_grace_days: Option<u32>,
    rewards: Option<Vec<RewardFile>>,
    /// Absent: the default; `null`: points never lapse.
    #[serde(default, deserialize_with = "present")]
    expiry_months: Option<Option<u32>>,
}

/// A field that may be `null`: `Some(None)` when it is, `None` (by default) when absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EarnFile {
    points: i64,
    per: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BonusesFile {
    signup: i64,
    birthday: i64,
    review: i64,
    referral: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    en: String,
    ar: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    id: String,
    name: LabelFile,
    threshold: i64,
    multiplier_permille: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RewardFile {
    id: String,
    name: LabelFile,
    cost: i64,
    #[serde(rename = "type")]
    kind: String,
    amount: Option<i64>,
    percent: Option<i64>,
    cap: Option<i64>,
}

impl RewardFile {
    fn into_reward(self, i: usize) -> Result<Reward, String> {
        let field = |name: &str| format!("`rewards[{i}].{name}`");
        let unexpected = |name: &str| {
            format!(
                "{} is not a setting of a {:?} reward; remove it",
                field(name),
                self.kind
            )
        };
        let kind = match self.kind.as_str() {
            "fixed_discount" => {
                if self.percent.is_some() {
                    return Err(unexpected("percent"));
                }
                if self.cap.is_some() {
                    return Err(unexpected("cap"));
                }
                let amount = self.amount.ok_or_else(|| {
                    format!(
                        "{} is required for a fixed_discount reward",
                        field("amount")
                    )
                })?;
                RewardKind::FixedDiscount { amount }
            }
            "percent_discount" => {
                if self.amount.is_some() {
                    return Err(unexpected("amount"));
                }
                let percent = self.percent.ok_or_else(|| {
                    format!(
                        "{} is required for a percent_discount reward",
                        field("percent")
                    )
                })?;
                RewardKind::PercentDiscount {
                    percent,
                    cap: self.cap,
                }
            }
            "free_shipping" => {
                for (name, set) in [
                    ("amount", self.amount.is_some()),
                    ("percent", self.percent.is_some()),
                    ("cap", self.cap.is_some()),
                ] {
                    if set {
                        return Err(unexpected(name));
                    }
                }
                RewardKind::FreeShipping
            }
            other => {
                return Err(format!(
                    "{} must be fixed_discount, percent_discount or free_shipping, got {other:?}",
                    field("type")
                ))
            }
        };
        Ok(Reward {
            id: self.id,
            name: Label {
                en: self.name.en,
                ar: self.name.ar,
            },
            cost: self.cost,
            kind,
        })
    }
}

impl RulesFile {
    fn into_rules(self) -> Result<Rules, String> {
        let mut rules = Rules::default();
        if let Some(earn) = self.earn {
            rules.earn = EarnRate {
                points: earn.points,
                per: earn.per,
            };
        }
        if let Some(b) = self.bonuses {
            rules.bonuses = Bonuses {
                signup: b.signup,
                birthday: b.birthday,
                review: b.review,
                referral: b.referral,
            };
        }
        if let Some(tiers) = self.tiers {
            rules.tiers = tiers
                .into_iter()
                .map(|t| Tier {
                    id: t.id,
                    name: Label {
                        en: t.name.en,
                        ar: t.name.ar,
                    },
                    threshold: t.threshold,
                    multiplier_permille: t.multiplier_permille,
                })
                .collect();
        }
        if let Some(days) = self.tier_window_days {
            rules.tier_window_days = days;
        }
        if let Some(days) = self.tier_grace_days {
            rules.tier_grace_days = days;
        }
        if let Some(rewards) = self.rewards {
            rules.rewards = rewards
                .into_iter()
                .enumerate()
                .map(|(i, r)| r.into_reward(i))
                .collect::<Result<_, _>>()?;
        }
        if let Some(months) = self.expiry_months {
            rules.expiry_months = months;
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_read_back_from_their_json() {
        let rules = Rules::default();
        assert_eq!(parse(&to_json(&rules).to_string()).unwrap(), rules);
        let never = parse(r#"{"expiry_months": null, "tiers": [{"id": "all", "name": {"en": "All", "ar": "الكل"}, "threshold": 0, "multiplier_permille": 1000}]}"#).unwrap();
        assert_eq!(parse(&to_json(&never).to_string()).unwrap(), never);
    }

    #[test]
    fn an_empty_file_is_the_default_programme() {
        assert_eq!(parse("{}").unwrap(), Rules::default());
        let never = parse(r#"{"expiry_months": null}"#).unwrap();
        assert_eq!(never.expiry_months, None);
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("rules.rs");
        let start = doc.find("//! ```json\n").unwrap() + 12;
        let end = start + doc[start..].find("//! ```").unwrap();
        let json: String = doc[start..end]
            .lines()
            .map(|l| l.trim_start_matches("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let rules = parse(&json).unwrap();
        assert_eq!(rules.tiers.len(), 2);
        assert_eq!(rules.rewards[1].kind, Rules::default().rewards[1].kind);
        // The default rewards survive a round trip through the coupon form.
        for reward in &Rules::default().rewards {
            assert_eq!(
                reward_from_json(&reward_json(reward)).as_ref(),
                Some(reward)
            );
        }
    }

    #[test]
    fn errors_name_the_field() {
        for (text, field) in [
            (r#"{"earn": {"points": 0, "per": 100}}"#, "earn.points"),
            (r#"{"earn": {"points": 1}}"#, "earn"),
            (r#"{"tier_windows_days": 3}"#, "tier_windows_days"),
            (
                r#"{"tiers": [{"id": "a", "name": {"en": "A", "ar": "أ"}, "threshold": 5, "multiplier_permille": 1000}]}"#,
                "tiers[0].threshold",
            ),
            (
                r#"{"rewards": [{"id": "x", "name": {"en": "X", "ar": "س"}, "cost": 1, "type": "gift"}]}"#,
                "rewards[0].type",
            ),
            (
                r#"{"rewards": [{"id": "x", "name": {"en": "X", "ar": "س"}, "cost": "1", "type": "free_shipping"}]}"#,
                "rewards[0].cost",
            ),
            (r#"{"expiry_months": 0}"#, "expiry_months"),
            ("[", "EOF"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(field), "{text}: {err}");
        }
    }
}
