//! The shop's configuration, as given to `souk.init(config)`.

/// Validated settings for one souk instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The shop's public write key, which identifies the shop to the backend.
    pub write_key: String,
    /// Base URL of the merchant's backend; `None` means the page's own origin.
    pub api_host: Option<String>,
    /// Report refused calls on the console as well as to `error` listeners.
    pub debug: bool,
}

/// Why `init` refused a configuration. The message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No write key was given.
    #[error("init: `writeKey` is required; copy it from your souk-server settings")]
    MissingWriteKey,
    /// The write key has characters a key never has.
    #[error("init: `writeKey` may only contain letters, digits, `_` and `-`, got {0:?}")]
    BadWriteKey(String),
    /// The API host is not an http(s) URL.
    #[error("init: `apiHost` must start with https:// or http://, got {0:?}")]
    BadApiHost(String),
}

impl Config {
    /// Checks the raw values given to `init` and builds a `Config`.
    pub fn new(
        write_key: Option<&str>,
        api_host: Option<&str>,
        debug: bool,
    ) -> Result<Self, ConfigError> {
        let write_key = write_key.map(str::trim).filter(|key| !key.is_empty());
        let write_key = write_key.ok_or(ConfigError::MissingWriteKey)?;
        if !write_key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(ConfigError::BadWriteKey(write_key.to_owned()));
        }
        let api_host = match api_host.map(str::trim).filter(|host| !host.is_empty()) {
            None => None,
            Some(host) if host.starts_with("https://") || host.starts_with("http://") => {
                Some(host.trim_end_matches('/').to_owned())
            }
            Some(host) => return Err(ConfigError::BadApiHost(host.to_owned())),
        };
        Ok(Self { write_key: write_key.to_owned(), api_host, debug })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_shop_config_and_normalises_the_host() {
        let config = Config::new(Some(" shop_123 "), Some("https://api.shop.example/"), true);
        assert_eq!(
            config,
            Ok(Config {
                write_key: "shop_123".into(),
                api_host: Some("https://api.shop.example".into()),
                debug: true,
            })
        );
    }

    #[test]
    fn refuses_what_a_merchant_must_fix() {
        assert_eq!(Config::new(None, None, false), Err(ConfigError::MissingWriteKey));
        assert_eq!(Config::new(Some(""), None, false), Err(ConfigError::MissingWriteKey));
        assert_eq!(
            Config::new(Some("key with space"), None, false),
            Err(ConfigError::BadWriteKey("key with space".into()))
        );
        let err = Config::new(Some("k"), Some("ftp://x"), false).unwrap_err();
        assert_eq!(err.to_string(), "init: `apiHost` must start with https:// or http://, got \"ftp://x\"");
    }
}
