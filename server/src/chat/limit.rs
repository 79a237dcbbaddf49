//! Rate limits, in memory: token buckets per visitor and per client address.
//!
//! Kept in memory, not in SQLite: a limit is only worth anything if checking it is
//! cheap, and a refused request must not cost a write on the single database writer
//! (that would let a flood slow everyone's chat down). Losing the buckets on a restart
//! only forgives a few messages.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bucket of `burst` tokens that refills at `burst` per `per`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// How many requests may come at once.
    pub burst: u32,
    /// How long the bucket takes to refill from empty.
    pub per: Duration,
}

/// A shopper's messages: 20 at once, 20 a minute.
pub const MESSAGES: Rate = Rate {
    burst: 20,
    per: Duration::from_secs(60),
};

/// Messages from one client address (many shoppers may share one): 120 a minute.
pub const MESSAGES_PER_ADDRESS: Rate = Rate {
    burst: 120,
    per: Duration::from_secs(60),
};

/// Typing and read notices of one visitor or agent: 60 a minute.
pub const NOTICES: Rate = Rate {
    burst: 60,
    per: Duration::from_secs(60),
};

/// Agent sign-in attempts per email and per address: 10 a minute.
pub const LOGINS: Rate = Rate {
    burst: 10,
    per: Duration::from_secs(60),
};

/// Past this many buckets, full ones are dropped (at most once a second).
const PRUNE_ABOVE: usize = 50_000;

/// The longest refill time of the rates above: a bucket untouched for this long is full.
const REFILLED: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every bucket, by key (such as `msg:anon:<anonymousId>`).
#[derive(Debug)]
pub struct Limits {
    buckets: Mutex<(HashMap<String, Bucket>, Instant)>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            buckets: Mutex::new((HashMap::new(), Instant::now())),
        }
    }
}

impl Limits {
    /// Takes a token from each of `keys`' buckets at `rate`, or none of them: `Err`
    /// with how long to wait when one is empty.
    pub fn take(&self, keys: &[(&str, Rate)], now: Instant) -> Result<(), Duration> {
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (buckets, pruned) = &mut *guard;
        if buckets.len() > PRUNE_ABOVE && now.duration_since(*pruned) > Duration::from_secs(1) {
            // Every rate refills within a minute: an older bucket is full, as good as new.
            buckets.retain(|_, bucket| now.saturating_duration_since(bucket.at) < REFILLED);
            *pruned = now;
        }
        let mut wait = Duration::ZERO;
        let mut refilled = Vec::with_capacity(keys.len());
        for &(key, rate) in keys {
            let burst = f64::from(rate.burst);
            let per_second = burst / rate.per.as_secs_f64();
            let bucket = buckets.get(key).copied().unwrap_or(Bucket {
                tokens: burst,
                at: now,
            });
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            let tokens = (bucket.tokens + elapsed * per_second).min(burst);
            if tokens < 1.0 {
                wait = wait.max(Duration::from_secs_f64((1.0 - tokens) / per_second));
            }
            refilled.push((key, tokens));
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for (key, tokens) in refilled {
            buckets.insert(
                key.to_owned(),
                Bucket {
                    tokens: tokens - 1.0,
                    at: now,
                },
            );
        }
        Ok(())
    }
}

/// Whether requests from `ip` get a per-address limit: not from the loopback, which
/// is the developer's machine or a reverse proxy on it (behind which every shopper
/// would share one address).
pub fn limits_address(ip: IpAddr) -> bool {
    !ip.is_loopback() && !ip.to_canonical().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_over_time() {
        let limits = Limits::default();
        let start = Instant::now();
        let rate = Rate {
            burst: 3,
            per: Duration::from_secs(3),
        };
        for _ in 0..3 {
            assert!(limits.take(&[("a", rate)], start).is_ok());
        }
        let wait = limits.take(&[("a", rate)], start).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another key has its own bucket.
        assert!(limits.take(&[("b", rate)], start).is_ok());
        assert!(limits
            .take(&[("a", rate)], start + Duration::from_secs(1))
            .is_ok());
        assert!(limits
            .take(&[("a", rate)], start + Duration::from_secs(1))
            .is_err());
    }

    #[test]
    fn a_refusal_takes_from_no_bucket() {
        let limits = Limits::default();
        let now = Instant::now();
        let one = Rate {
            burst: 1,
            per: Duration::from_secs(60),
        };
        let many = Rate {
            burst: 100,
            per: Duration::from_secs(60),
        };
        assert!(limits.take(&[("visitor", one), ("ip", many)], now).is_ok());
        for _ in 0..10 {
            assert!(limits.take(&[("visitor", one), ("ip", many)], now).is_err());
        }
        // The address's bucket lost only the one accepted request.
        for _ in 0..99 {
            assert!(limits.take(&[("ip", many)], now).is_ok());
        }
        assert!(limits.take(&[("ip", many)], now).is_err());
    }

    #[test]
    fn only_remote_addresses_are_limited() {
        assert!(!limits_address("127.0.0.1".parse().unwrap()));
        assert!(!limits_address("::1".parse().unwrap()));
        assert!(!limits_address("::ffff:127.0.0.1".parse().unwrap()));
        assert!(limits_address("203.0.113.7".parse().unwrap()));
        assert!(limits_address("2001:db8::1".parse().unwrap()));
    }
}
