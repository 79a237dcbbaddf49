//! Consent: the categories, what the shopper granted, and the record that proves it.
//!
//! Before a decision only [`Category::Necessary`] works. The queue and the storage
//! ask [`Grants::allows`] before they keep anything, so no caller can forget it.

use super::i18n::{self, Lang};
use super::json;
use super::time;

/// What a piece of data or a feature is for. The order is the banner's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// The consent record, and the cart and session state the shop needs. Always on.
    Necessary,
    /// The chat and loyalty widgets.
    Functional,
    /// Sending behaviour events to the merchant's backend.
    Analytics,
    /// Keeping a behaviour profile on the device and scoring with it.
    Personalization,
    /// Ad signals, such as Google Consent Mode `ad_*`.
    Marketing,
}

impl Category {
    /// Every category, in the banner's order.
    pub const ALL: [Category; 5] = [
        Category::Necessary,
        Category::Functional,
        Category::Analytics,
        Category::Personalization,
        Category::Marketing,
    ];

    /// The name used in the API, in storage keys and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Category::Necessary => "necessary",
            Category::Functional => "functional",
            Category::Analytics => "analytics",
            Category::Personalization => "personalization",
            Category::Marketing => "marketing",
        }
    }

    /// The category called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|category| category.name() == name)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The set of granted categories. `necessary` is always in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants(u8);

impl Grants {
    /// Only `necessary`: the state before a decision, and after "reject all".
    pub const NECESSARY: Grants = Grants(1);
    /// Every category: "accept all".
    pub const ALL: Grants = Grants(0b1_1111);

    /// Whether `category` may store or send.
    pub fn allows(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }

    /// These grants with `category` switched `on` or off; `necessary` stays on.
    pub fn with(self, category: Category, on: bool) -> Grants {
        let bits = if on {
            self.0 | category.bit()
        } else {
            self.0 & !category.bit()
        };
        Grants(bits | Category::Necessary.bit())
    }

    /// The categories granted here and not in `now`: what a change withdrew.
    pub fn withdrawn_in(self, now: Grants) -> impl Iterator<Item = Category> {
        Category::ALL
            .into_iter()
            .filter(move |c| self.allows(*c) && !now.allows(*c))
    }
}

/// A choice `souk.consent.set()` could not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    /// A category name souk does not know.
    #[error("consent: unknown category `{0}`; the categories are necessary, functional, analytics, personalization and marketing")]
    UnknownCategory(String),
    /// `necessary` cannot be refused.
    #[error("consent: `necessary` is always granted and cannot be set to false")]
    NecessaryRefused,
}

impl Grants {
    /// The grants that switch each named category on or off, starting from `base`.
    /// Categories not named keep their state in `base`.
    pub fn from_choices<'a>(
        base: Grants,
        choices: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> Result<Grants, ChoiceError> {
        choices
            .into_iter()
            .try_fold(base, |grants, (name, on)| match Category::parse(name) {
                Some(Category::Necessary) if !on => Err(ChoiceError::NecessaryRefused),
                Some(category) => Ok(grants.with(category, on)),
                None => Err(ChoiceError::UnknownCategory(name.to_owned())),
            })
    }

    /// The Google Consent Mode v2 state these grants mean, as a JSON object for
    /// `gtag("consent", "default" | "update", …)`.
    pub fn google_consent_mode(self) -> String {
        let state = |category| {
            if self.allows(category) {
                "granted"
            } else {
                "denied"
            }
        };
        let mut out = json::Object::new();
        out.text("ad_storage", state(Category::Marketing));
        out.text("ad_user_data", state(Category::Marketing));
        out.text("ad_personalization", state(Category::Marketing));
        out.text("analytics_storage", state(Category::Analytics));
        out.text("functionality_storage", state(Category::Functional));
        out.text("personalization_storage", state(Category::Personalization));
        out.text("security_storage", "granted");
        out.finish()
    }

    /// The grants as `{"necessary":true,…}`.
    pub fn to_json(self) -> String {
        let mut out = json::Object::new();
        for category in Category::ALL {
            out.boolean(category.name(), self.allows(category));
        }
        out.finish()
    }
}

/// What an IAB TCF v2.2 decision means for souk's categories, given whether each
/// TCF purpose (1 to 11) has consent. Every category also needs purpose 1 (store
/// and access information on a device):
/// - `analytics`: purpose 8, measure content performance;
/// - `personalization`: purposes 5 and 6, build and use a personalised-content profile;
/// - `marketing`: purposes 3 and 4, build and use a personalised-ads profile.
///
/// TCF has no purpose for `functional`, which keeps its state.
pub fn tcf_choices(purpose: impl Fn(u8) -> bool) -> [(&'static str, bool); 3] {
    let device = purpose(1);
    [
        (Category::Analytics.name(), device && purpose(8)),
        (
            Category::Personalization.name(),
            device && purpose(5) && purpose(6),
        ),
        (
            Category::Marketing.name(),
            device && purpose(3) && purpose(4),
        ),
    ]
}

/// The banner's view-model as JSON, for the `<souk-consent>` element to paint: the
/// words in `lang`, and each category switched as `grants` has it. Before a
/// decision every optional category starts off, marketing included under GPC.
pub fn banner_view(lang: Lang, grants: Grants, gpc: bool) -> String {
    let text = i18n::banner(lang);
    let mut words = json::Object::new();
    for (key, value) in [
        ("region", text.region),
        ("title", text.title),
        ("body", text.body),
        ("acceptAll", text.accept_all),
        ("rejectAll", text.reject_all),
        ("choose", text.choose),
        ("choicesTitle", text.choices_title),
        ("save", text.save),
        ("alwaysOn", text.always_on),
        ("gpcHonoured", text.gpc_honoured),
    ] {
        words.text(key, value);
    }
    let categories =
        Category::ALL
            .into_iter()
            .zip(text.categories)
            .map(|(category, (label, description))| {
                let mut item = json::Object::new();
                item.text("id", category.name());
                item.text("label", label);
                item.text("description", description);
                item.boolean("granted", grants.allows(category));
                item.boolean("locked", category == Category::Necessary);
                item.finish()
            });
    let mut view = json::Object::new();
    view.text("lang", lang.tag());
    view.text("dir", lang.dir());
    view.boolean("gpc", gpc);
    view.raw("text", &words.finish());
    view.raw("categories", &json::array(categories));
    view.finish()
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The shopper used souk's banner.
    Banner,
    /// The shop called `souk.consent.set()`, usually from its own consent manager.
    Api,
    /// An IAB TCF v2.2 consent management platform on the page.
    Tcf,
}

impl Source {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Source::Banner => "banner",
            Source::Api => "api",
            Source::Tcf => "tcf",
        }
    }

    /// The source called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Source> {
        [Source::Banner, Source::Api, Source::Tcf]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// How the shop runs consent: its policy revision, how long a decision lasts, and
/// whether events from before a decision wait in memory for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The shop's privacy policy revision; a new one asks the shopper again.
    pub revision: String,
    /// Days a decision lasts before the shopper is asked again.
    pub max_age_days: u32,
    /// Keep events from before the first decision in memory (never in storage), to be
    /// sent if `analytics` is granted and dropped otherwise. Off unless the shop asks.
    pub buffer_before_decision: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            revision: "1".to_owned(),
            max_age_days: 182,
            buffer_before_decision: false,
        }
    }
}

/// The shopper's decision, kept on the device and sent to the backend as proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// A random id that ties every version of this decision together.
    pub consent_id: String,
    /// When the shopper first decided, in ms since the Unix epoch.
    pub first_ms: u64,
    /// When this version was made.
    pub updated_ms: u64,
    /// The policy revision the shopper saw.
    pub revision: String,
    /// The language the banner was in, such as `en` or `ar`.
    pub language: String,
    /// What was granted.
    pub grants: Grants,
    /// Where the decision came from.
    pub source: Source,
    /// Whether the browser sent Global Privacy Control at the time.
    pub gpc: bool,
}

const RECORD_VERSION: &str = "c1";

impl Record {
    /// Whether this record still stands under `policy` at `now_ms`: not expired, and
    /// made for the current revision.
    pub fn is_current(&self, policy: &Policy, now_ms: u64) -> bool {
        let max_age_ms = u64::from(policy.max_age_days) * 86_400_000;
        self.revision == policy.revision && now_ms.saturating_sub(self.updated_ms) < max_age_ms
    }

    /// The compact form kept in storage (one line of tab-separated fields).
    pub fn encode(&self) -> String {
        let fields = [
            RECORD_VERSION,
            &self.consent_id,
            &self.first_ms.to_string(),
            &self.updated_ms.to_string(),
            &self.revision,
            &self.language,
            &self.grants.0.to_string(),
            self.source.name(),
            if self.gpc { "1" } else { "0" },
        ];
        fields.join("\t")
    }

    /// Reads what [`Record::encode`] wrote; anything else (an older format, a damaged
    /// value) gives `None`, and the shopper is simply asked again.
    pub fn decode(text: &str) -> Option<Record> {
        let mut fields = text.split('\t');
        let mut next = || fields.next();
        (next()? == RECORD_VERSION).then_some(())?;
        let record = Record {
            consent_id: next()?.to_owned(),
            first_ms: next()?.parse().ok()?,
            updated_ms: next()?.parse().ok()?,
            revision: next()?.to_owned(),
            language: next()?.to_owned(),
            grants: Grants(next()?.parse::<u8>().ok()? & Grants::ALL.0 | 1),
            source: Source::parse(next()?)?,
            gpc: next()? == "1",
        };
        next().is_none().then_some(record)
    }

    /// The proof sent to `POST /v1/consent`, carrying the shop's public write key.
    pub fn proof_json(&self, anonymous_id: &str, write_key: &str) -> String {
        let mut json = json::Object::new();
        json.text("writeKey", write_key);
        json.text("consentId", &self.consent_id);
        json.text("anonymousId", anonymous_id);
        json.text("revision", &self.revision);
        json.text("language", &self.language);
        json.text("source", self.source.name());
        json.raw("categories", &self.grants.to_json());
        json.text("firstAt", &time::iso8601(self.first_ms));
        json.text("updatedAt", &time::iso8601(self.updated_ms));
        json.boolean("gpc", self.gpc);
        json.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            consent_id: "c-1".into(),
            first_ms: 1_700_000_000_000,
            updated_ms: 1_700_000_000_000,
            revision: "2026-01".into(),
            language: "ar".into(),
            grants: Grants::NECESSARY.with(Category::Analytics, true),
            source: Source::Banner,
            gpc: true,
        }
    }

    #[test]
    fn necessary_cannot_be_withdrawn() {
        let grants = Grants::ALL.with(Category::Necessary, false);
        assert!(grants.allows(Category::Necessary));
        assert!(!Grants::NECESSARY.allows(Category::Analytics));
        let withdrawn: Vec<_> = Grants::ALL.withdrawn_in(Grants::NECESSARY).collect();
        assert_eq!(withdrawn, Category::ALL[1..]);
    }

    #[test]
    fn a_record_round_trips_through_storage_and_damage_is_refused() {
        let record = record();
        assert_eq!(Record::decode(&record.encode()), Some(record.clone()));
        let encoded = record.encode();
        assert_eq!(Record::decode(&encoded.replace("c1\t", "c0\t")), None);
        assert_eq!(Record::decode(&encoded[..encoded.len() - 2]), None);
        assert_eq!(Record::decode(&format!("{encoded}\textra")), None);
        assert_eq!(Record::decode(""), None);
    }

    #[test]
    fn a_record_expires_and_a_new_revision_asks_again() {
        let record = record();
        let policy = Policy {
            revision: "2026-01".into(),
            ..Policy::default()
        };
        let day = 86_400_000;
        assert!(record.is_current(&policy, record.updated_ms + 181 * day));
        assert!(!record.is_current(&policy, record.updated_ms + 182 * day));
        let revised = Policy {
            revision: "2026-06".into(),
            ..policy
        };
        assert!(!record.is_current(&revised, record.updated_ms));
    }

    #[test]
    fn choices_switch_named_categories_and_refuse_unknown_ones() {
        let grants = Grants::from_choices(
            Grants::NECESSARY,
            [("analytics", true), ("marketing", false)],
        );
        assert_eq!(
            grants,
            Ok(Grants::NECESSARY.with(Category::Analytics, true))
        );
        let kept = Grants::from_choices(Grants::ALL, [("marketing", false)]).unwrap();
        assert!(kept.allows(Category::Functional) && !kept.allows(Category::Marketing));
        let unknown = Grants::from_choices(Grants::NECESSARY, [("ads", true)]).unwrap_err();
        assert_eq!(unknown, ChoiceError::UnknownCategory("ads".into()));
        assert!(unknown
            .to_string()
            .contains("the categories are necessary, functional"));
        let refused = Grants::from_choices(Grants::ALL, [("necessary", false)]);
        assert_eq!(refused, Err(ChoiceError::NecessaryRefused));
    }

    #[test]
    fn tcf_purposes_map_to_categories_only_with_device_access() {
        let all = tcf_choices(|_| true);
        assert_eq!(
            all,
            [
                ("analytics", true),
                ("personalization", true),
                ("marketing", true)
            ]
        );
        assert!(
            tcf_choices(|p| p != 1).iter().all(|(_, on)| !on),
            "purpose 1 is needed for all"
        );
        let measure_only = tcf_choices(|p| matches!(p, 1 | 8));
        assert_eq!(
            measure_only,
            [
                ("analytics", true),
                ("personalization", false),
                ("marketing", false)
            ]
        );
        let half_ads = tcf_choices(|p| matches!(p, 1 | 3));
        assert_eq!(
            half_ads[2],
            ("marketing", false),
            "a profile that may not be used is no consent"
        );
    }

    #[test]
    fn google_consent_mode_follows_the_grants() {
        let none = Grants::NECESSARY.google_consent_mode();
        assert_eq!(none.matches("denied").count(), 6);
        let analytics = Grants::NECESSARY
            .with(Category::Analytics, true)
            .google_consent_mode();
        assert!(analytics.contains(r#""analytics_storage":"granted""#));
        assert!(analytics.contains(r#""ad_user_data":"denied""#));
        assert_eq!(
            Grants::ALL.google_consent_mode().matches("denied").count(),
            0
        );
    }

    #[test]
    fn the_banner_view_carries_the_words_and_the_switches() {
        let view = banner_view(
            Lang::Ar,
            Grants::NECESSARY.with(Category::Functional, true),
            true,
        );
        assert!(view.starts_with(
            r#"{"lang":"ar","dir":"rtl","gpc":true,"text":{"region":"خيارات الخصوصية""#
        ));
        assert!(view.contains(r#""acceptAll":"قبول الكل","rejectAll":"رفض الكل""#));
        assert!(view.contains(r#"{"id":"necessary","label":"ضروري للغاية""#));
        assert!(view.contains(r#""granted":true,"locked":true}"#));
        assert!(
            view.contains(r#""id":"functional""#) && view.matches(r#""granted":true"#).count() == 2
        );
    }

    #[test]
    fn the_proof_names_every_category() {
        assert_eq!(
            record().proof_json("anon-1", "key"),
            r#"{"writeKey":"key","consentId":"c-1","anonymousId":"anon-1","revision":"2026-01","language":"ar","source":"banner","categories":{"necessary":true,"functional":false,"analytics":true,"personalization":false,"marketing":false},"firstAt":"2023-11-14T22:13:20.000Z","updatedAt":"2023-11-14T22:13:20.000Z","gpc":true}"#
        );
    }
}
