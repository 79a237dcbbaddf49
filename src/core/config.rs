//! The shop's configuration, as given to `souk.init(config)`.

use super::consent::Policy;

/// Validated settings for one souk instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The shop's public write key, which identifies the shop to the backend.
    pub write_key: String,
    /// Base URL of the merchant's backend; `None` means the page's own origin.
    pub api_host: Option<String>,
    /// The shop's consent policy: its revision and how long a decision lasts.
    pub policy: Policy,
    /// How long a cart with items may sit idle before it counts as abandoned.
    pub cart_idle_ms: u64,
}

/// Thirty minutes: the idle time after which web analytics usually ends a session.
pub const CART_IDLE_MINUTES: u32 = 30;

/// Why `init` refused a configuration. The message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No write key was given.
    #[error("init: `writeKey` is required; copy it from your souk-server settings")]
    MissingWriteKey,
    /// The write key has characters a key never has.
    #[error("init: `writeKey` may only contain letters, digits, `_` and `-`, got \"{0}\"")]
    BadWriteKey(String),
    /// The API host is not an http(s) URL.
    #[error("init: `apiHost` must start with https:// or http://, got \"{0}\"")]
    BadApiHost(String),
    /// The policy revision is empty, too long or has control characters.
    #[error("init: `consent.revision` must be 1 to 100 printable characters, got \"{0}\"")]
    BadRevision(String),
    /// The consent lifetime is out of range.
    #[error("init: `consent.maxAgeDays` must be a whole number from 1 to 395, got {0}")]
    BadMaxAge(String),
    /// The cart's idle time is out of range.
    #[error("init: `cart.idleMinutes` must be a whole number from 1 to 1440, got {0}")]
    BadCartIdle(String),
}

impl Config {
    /// Checks the raw values given to `init` and builds a `Config`.
    pub fn new(write_key: Option<&str>, api_host: Option<&str>) -> Result<Self, ConfigError> {
        let write_key = write_key.map(str::trim).filter(|key| !key.is_empty());
        let write_key = write_key.ok_or(ConfigError::MissingWriteKey)?;
        if !write_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ConfigError::BadWriteKey(write_key.to_owned()));
        }
        let api_host = match api_host.map(str::trim).filter(|host| !host.is_empty()) {
            None => None,
            Some(host) if host.starts_with("https://") || host.starts_with("http://") => {
                Some(host.trim_end_matches('/').to_owned())
            }
            Some(host) => return Err(ConfigError::BadApiHost(host.to_owned())),
        };
        Ok(Self {
            write_key: write_key.to_owned(),
            api_host,
            policy: Policy::default(),
            cart_idle_ms: u64::from(CART_IDLE_MINUTES) * 60_000,
        })
    }

    /// Sets `cart.idleMinutes`, after which an idle cart with items is abandoned;
    /// `None` keeps [`CART_IDLE_MINUTES`].
    pub fn with_cart_idle(mut self, minutes: Option<f64>) -> Result<Self, ConfigError> {
        if let Some(minutes) = minutes {
            if minutes.fract() != 0.0 || !(1.0..=1440.0).contains(&minutes) {
                return Err(ConfigError::BadCartIdle(super::json::number(minutes)));
            }
            self.cart_idle_ms = minutes as u64 * 60_000;
        }
        Ok(self)
    }

    /// Sets the consent policy from `consent.revision`, `consent.maxAgeDays` and
    /// `consent.bufferBeforeDecision`; `None` keeps the default (revision "1", 182
    /// days, no buffering).
    pub fn with_policy(
        mut self,
        revision: Option<&str>,
        max_age_days: Option<f64>,
        buffer_before_decision: bool,
    ) -> Result<Self, ConfigError> {
        self.policy.buffer_before_decision = buffer_before_decision;
        if let Some(revision) = revision {
            let printable = !revision.is_empty() && revision.chars().count() <= 100;
            if !printable || revision.chars().any(char::is_control) {
                return Err(ConfigError::BadRevision(revision.to_owned()));
            }
            self.policy.revision = revision.to_owned();
        }
        if let Some(days) = max_age_days {
            if days.fract() != 0.0 || !(1.0..=395.0).contains(&days) {
                return Err(ConfigError::BadMaxAge(super::json::number(days)));
            }
            self.policy.max_age_days = days as u32;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_shop_config_and_normalises_the_host() {
        let config = Config::new(Some(" shop_123 "), Some("https://api.shop.example/"));
        assert_eq!(
            config,
            Ok(Config {
                write_key: "shop_123".into(),
                api_host: Some("https://api.shop.example".into()),
                policy: Policy::default(),
                cart_idle_ms: 30 * 60_000,
            })
        );
    }

    #[test]
    fn the_cart_idle_time_is_checked() {
        let config = Config::new(Some("k"), None).unwrap();
        let hour = config.clone().with_cart_idle(Some(60.0)).unwrap();
        assert_eq!(hour.cart_idle_ms, 3_600_000);
        assert_eq!(
            config
                .clone()
                .with_cart_idle(Some(0.0))
                .unwrap_err()
                .to_string(),
            "init: `cart.idleMinutes` must be a whole number from 1 to 1440, got 0"
        );
        assert!(config.with_cart_idle(Some(2.5)).is_err());
    }

    #[test]
    fn the_consent_policy_is_checked() {
        let config = Config::new(Some("k"), None).unwrap();
        let policy = config
            .clone()
            .with_policy(Some("2026-11"), Some(90.0), true)
            .unwrap()
            .policy;
        let expected = Policy {
            revision: "2026-11".into(),
            max_age_days: 90,
            buffer_before_decision: true,
        };
        assert_eq!(policy, expected);
        assert_eq!(
            config
                .clone()
                .with_policy(None, None, false)
                .unwrap()
                .policy,
            Policy::default()
        );
        let tab = config.clone().with_policy(Some("a\tb"), None, false);
        assert_eq!(tab, Err(ConfigError::BadRevision("a\tb".into())));
        let half_day = config.clone().with_policy(None, Some(0.5), false);
        assert_eq!(half_day, Err(ConfigError::BadMaxAge("0.5".into())));
        assert_eq!(
            config.with_policy(None, Some(400.0), false),
            Err(ConfigError::BadMaxAge("400".into()))
        );
    }

    #[test]
    fn refuses_what_a_merchant_must_fix() {
        assert_eq!(Config::new(None, None), Err(ConfigError::MissingWriteKey));
        assert_eq!(
            Config::new(Some(""), None),
            Err(ConfigError::MissingWriteKey)
        );
        assert_eq!(
            Config::new(Some("key with space"), None),
            Err(ConfigError::BadWriteKey("key with space".into()))
        );
        let err = Config::new(Some("k"), Some("ftp://x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "init: `apiHost` must start with https:// or http://, got \"ftp://x\""
        );
    }
}
