//! Ports: everything the core needs from the outside world, as traits.
//!
//! The browser glue implements them on `localStorage`, `fetch`, `Date` and
//! `crypto`; the in-memory implementations here drive the native tests.

/// Key-value storage that outlives the page (the browser's `localStorage`).
pub trait Storage {
    /// The value stored under `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`. Fails when the backend refuses (quota, private mode).
    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError>;
    /// Removes `key`; removing a missing key is not an error.
    fn remove(&mut self, key: &str);
    /// Every key stored, so a withdrawal can purge a category's keys.
    fn keys(&self) -> Vec<String>;
}

/// The storage backend refused a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage refused to keep `{key}`: {reason}")]
pub struct StorageError {
    /// The key that could not be written.
    pub key: String,
    /// What the backend said.
    pub reason: String,
}

/// Wall-clock time.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// A source of unpredictable bytes, for ids.
pub trait Rng {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// One request the core wants delivered to the merchant's backend. The core learns
/// the outcome through `Souk::settle(id, delivered)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Names this delivery attempt when its outcome is reported.
    pub id: u32,
    /// Path on the API host, such as `/v1/batch`.
    pub path: String,
    /// The JSON body.
    pub body: String,
}

/// Delivery to the merchant's backend (`fetch` or `sendBeacon` in the browser).
pub trait Transport {
    /// Hands `request` over for delivery.
    fn send(&mut self, request: Request);
}

/// [`Storage`] in memory: for tests, and for browsers that refuse `localStorage`.
/// A plain list, since it holds a handful of keys and a map would cost wasm bytes.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    entries: Vec<(String, String)>,
}

impl Storage for MemoryStorage {
    fn get(&self, key: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        self.remove(key);
        self.entries.push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k != key);
    }

    fn keys(&self) -> Vec<String> {
        self.entries.iter().map(|(key, _)| key.clone()).collect()
    }
}

/// A [`Clock`] that stands still until the test moves it.
#[derive(Debug, Default, Clone, Copy)]
pub struct ManualClock {
    /// The current time in milliseconds since the Unix epoch.
    pub now_ms: u64,
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

/// A deterministic [`Rng`] (xorshift64*), for tests.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// A generator that yields the same bytes for the same `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
}

impl Rng for SeededRng {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// A [`Transport`] that keeps what it was given, for tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryTransport {
    /// Requests in the order they were sent.
    pub sent: Vec<Request>,
}

impl Transport for MemoryTransport {
    fn send(&mut self, request: Request) {
        self.sent.push(request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_storage_round_trips_and_removes() {
        let mut storage = MemoryStorage::default();
        storage.set("souk.consent", "v1").unwrap();
        assert_eq!(storage.get("souk.consent").as_deref(), Some("v1"));
        storage.remove("souk.consent");
        storage.remove("never-set");
        assert_eq!(storage.get("souk.consent"), None);
        assert!(storage.keys().is_empty());
    }

    #[test]
    fn seeded_rng_is_repeatable_and_not_constant() {
        let (mut a, mut b) = (SeededRng::new(7), SeededRng::new(7));
        let (mut x, mut y) = ([0u8; 19], [0u8; 19]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        a.fill(&mut y);
        assert_ne!(x, y);
    }
}
