//! The outgoing queue, kept in storage so that it survives reloads and crashes and
//! is shared by the shop's tabs: one key per message under `souk:analytics:q:`, so
//! adding an event writes one small entry, and withdrawing `analytics` purges the
//! queue with the rest of the category.
//!
//! Keys sort by time (`q:<ms, 13 digits>:<this page's sequence, 6 digits>:<size>:<messageId>`),
//! so batches go oldest first, and in call order within a millisecond. The message's
//! size is in its key, so the queue's bytes are known from the keys alone.
//! A batch leaves storage only once the backend confirmed it. A tab may send a
//! message another tab is also sending; the backend keeps each `messageId` once.
//!
//! When the queue is full (by count or by bytes) it refuses the new event and keeps
//! the ones it has: those are older, and may already be on their way to the backend,
//! so dropping them could not be undone. Every refusal is counted.

use super::ports::Storage;

/// Prefix of every queued message's key.
pub const PREFIX: &str = "souk:analytics:q:";
/// How many messages the queue holds before it refuses more.
pub const CAPACITY: usize = 1000;
/// How many bytes of messages the queue holds before it refuses more: a fifth of the
/// 5 MB a browser gives an origin's `localStorage`, which the shop shares.
pub const CAPACITY_BYTES: usize = 1_000_000;
/// Most messages in one batch.
pub const BATCH_SIZE: usize = 100;
/// Most bytes of messages in one batch: under the browser's 64 KB for requests that
/// outlive the page (`keepalive`, `sendBeacon`).
pub const BATCH_BYTES: usize = 60_000;

/// The queue is full; the message was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event queue is full ({CAPACITY} messages or {CAPACITY_BYTES} bytes waiting); the event was not recorded")]
pub struct QueueFull;

/// This tab's view of the queue: which batch it is delivering, and how big the
/// queue was when it last counted, plus what it added since.
///
/// Counting means listing every key in storage, which costs more the more the shop
/// keeps, so `track()` does not count each time: it trusts its own tally for a few
/// dozen events, as long as the queue is far from full. Other tabs may have added
/// events meanwhile, so near the limits it always counts.
#[derive(Debug, Default)]
pub struct Queue {
    in_flight: Option<(u32, Vec<String>)>,
    sequence: u32,
    tally: Option<Tally>,
}

/// Messages and bytes in the queue, as last counted plus this tab's additions.
#[derive(Debug, Clone, Copy)]
struct Tally {
    count: usize,
    bytes: usize,
    added: usize,
}

/// How many events a tab adds on its own tally before it counts again.
const RECOUNT_AFTER: usize = 50;

/// A queued message's key, with the size it records.
struct Entry {
    key: String,
    bytes: usize,
}

impl Queue {
    /// The storage key for `message`, recorded at `timestamp_ms` with id `message_id`.
    pub fn key(&mut self, timestamp_ms: u64, message_id: &str, message: &str) -> String {
        self.sequence = (self.sequence + 1) % 1_000_000;
        let mut key = String::with_capacity(PREFIX.len() + 30 + message_id.len());
        key.push_str(PREFIX);
        push_padded(&mut key, timestamp_ms, 13);
        key.push(':');
        push_padded(&mut key, u64::from(self.sequence), 6);
        key.push(':');
        push_padded(&mut key, message.len() as u64, 1);
        key.push(':');
        key.push_str(message_id);
        key
    }

    /// Whether a message of `bytes` fits, by count and by bytes; if it does, whether
    /// a full batch waits once it is in.
    pub fn admit(&mut self, storage: &impl Storage, bytes: usize) -> Result<bool, QueueFull> {
        let tally = match self.tally {
            Some(tally) if !tally.needs_recount() => tally,
            _ => Self::count(storage),
        };
        if tally.count >= CAPACITY || tally.bytes + bytes > CAPACITY_BYTES {
            self.tally = Some(tally);
            return Err(QueueFull);
        }
        let tally = Tally {
            count: tally.count + 1,
            bytes: tally.bytes + bytes,
            added: tally.added + 1,
        };
        self.tally = Some(tally);
        Ok(tally.count >= BATCH_SIZE || tally.bytes >= BATCH_BYTES)
    }

    /// Whether a full batch waits (by count or bytes), so delivery should not wait
    /// for the batching interval.
    pub fn due(&mut self, storage: &impl Storage) -> bool {
        let tally = Self::count(storage);
        self.tally = Some(tally);
        tally.count >= BATCH_SIZE || tally.bytes >= BATCH_BYTES
    }

    /// Counts the queue in storage.
    fn count(storage: &impl Storage) -> Tally {
        let entries = Self::entries(storage);
        let bytes = entries.iter().map(|entry| entry.bytes).sum();
        Tally {
            count: entries.len(),
            bytes,
            added: 0,
        }
    }

    /// The next batch to deliver, as attempt `id`: the oldest messages not already in
    /// flight from this tab, within [`BATCH_SIZE`] and [`BATCH_BYTES`] (but at least
    /// one). `None` while a batch is in flight or nothing waits.
    pub fn take_batch(&mut self, storage: &impl Storage, id: u32) -> Option<Vec<String>> {
        if self.in_flight.is_some() {
            return None;
        }
        let (mut keys, mut messages, mut bytes) = (Vec::new(), Vec::new(), 0);
        for Entry { key, .. } in Self::entries(storage) {
            let Some(message) = storage.get(&key) else {
                continue;
            };
            let full = keys.len() == BATCH_SIZE
                || (!keys.is_empty() && bytes + message.len() > BATCH_BYTES);
            if full {
                break;
            }
            bytes += message.len() + 1;
            keys.push(key);
            messages.push(message);
        }
        if keys.is_empty() {
            return None;
        }
        self.in_flight = Some((id, keys));
        Some(messages)
    }

    /// Ends delivery attempt `id`: `delivered` removes its messages from storage;
    /// otherwise they wait for the next attempt. A stale id changes nothing.
    pub fn settle(&mut self, storage: &mut impl Storage, id: u32, delivered: bool) -> bool {
        match self.in_flight.take() {
            Some((in_flight, keys)) if in_flight == id => {
                if delivered {
                    keys.iter().for_each(|key| storage.remove(key));
                }
                true
            }
            other => {
                self.in_flight = other;
                false
            }
        }
    }

    /// Forgets the batch in flight and the tally: the messages were purged.
    pub fn clear(&mut self) {
        self.in_flight = None;
        self.tally = None;
    }

    /// Messages waiting in storage, from every tab.
    pub fn len(&self, storage: &impl Storage) -> usize {
        Self::entries(storage).len()
    }

    /// The queued messages' keys, oldest first, with their sizes.
    fn entries(storage: &impl Storage) -> Vec<Entry> {
        let mut entries: Vec<Entry> = storage
            .keys()
            .into_iter()
            .filter_map(|key| {
                let size = key.strip_prefix(PREFIX)?.split(':').nth(2);
                let bytes = size.and_then(|size| size.parse().ok()).unwrap_or(0);
                Some(Entry { key, bytes })
            })
            .collect();
        entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        entries
    }
}

impl Tally {
    /// Whether the tally may be off by too much to trust: it has added many events,
    /// or the queue is near a limit.
    fn needs_recount(&self) -> bool {
        self.added >= RECOUNT_AFTER
            || self.count + RECOUNT_AFTER >= CAPACITY
            || self.bytes + BATCH_BYTES >= CAPACITY_BYTES
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, n: u64, width: usize) {
    let digits = n.to_string();
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(&digits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ports::MemoryStorage;

    fn storage_with(messages: &[(u64, &str, usize)]) -> MemoryStorage {
        let mut storage = MemoryStorage::default();
        let mut queue = Queue::default();
        for (ms, id, size) in messages {
            let message = "x".repeat(*size);
            storage
                .set(&queue.key(*ms, id, &message), &message)
                .unwrap();
        }
        storage
    }

    #[test]
    fn keys_sort_by_time_then_call_order_and_carry_the_size() {
        let mut queue = Queue::default();
        assert_eq!(
            queue.key(42, "m", "{}"),
            "souk:analytics:q:0000000000042:000001:2:m"
        );
        assert!(queue.key(999, "z", "") < queue.key(1000, "a", ""));
        assert!(
            queue.key(1000, "z", "") < queue.key(1000, "a", ""),
            "same millisecond: the order of the calls"
        );
    }

    #[test]
    fn batches_go_oldest_first_within_count_and_bytes() {
        let mut storage = storage_with(&[(3, "c", 10), (1, "a", 10), (2, "b", 10)]);
        let mut queue = Queue::default();
        storage
            .set(&Queue::default().key(0, "first", "first"), "first")
            .unwrap();
        let batch = queue.take_batch(&storage, 1).unwrap();
        assert_eq!(batch[0], "first");
        assert_eq!(batch.len(), 4);
        assert!(
            queue.take_batch(&storage, 2).is_none(),
            "one batch in flight at a time"
        );
        assert!(
            !queue.settle(&mut storage, 2, true),
            "a stale id changes nothing"
        );
        assert!(queue.settle(&mut storage, 1, true));
        assert_eq!(queue.len(&storage), 0);

        let big = BATCH_BYTES / 2;
        let mut storage = storage_with(&[(1, "a", big), (2, "b", big), (3, "c", 10)]);
        assert_eq!(
            queue.take_batch(&storage, 3).unwrap().len(),
            1,
            "bytes bound the batch"
        );
        queue.settle(&mut storage, 3, false);
        assert_eq!(queue.len(&storage), 3, "a failed batch stays");
        let huge = storage_with(&[(1, "a", BATCH_BYTES * 2)]);
        assert_eq!(
            queue.take_batch(&huge, 4).unwrap().len(),
            1,
            "an oversized message still goes alone"
        );
    }

    #[test]
    fn a_batch_is_due_at_a_full_count_or_a_full_request() {
        let mut queue = Queue::default();
        let few: Vec<(u64, String, usize)> = (0..BATCH_SIZE as u64 - 1)
            .map(|i| (i, format!("m{i}"), 10))
            .collect();
        let mut storage = storage_with(&as_refs(&few));
        assert!(!queue.due(&storage), "one short of a batch waits");
        assert_eq!(queue.admit(&storage, 1), Ok(true), "the next one fills it");
        storage
            .set(&Queue::default().key(500, "last", "x"), "x")
            .unwrap();
        assert!(queue.due(&storage));
        assert!(queue.due(&storage_with(&[(1, "a", BATCH_BYTES)])));
        assert!(!queue.due(&storage_with(&[(1, "a", BATCH_BYTES - 1)])));
    }

    #[test]
    fn a_full_queue_refuses_by_count_and_by_bytes_and_keeps_what_it_has() {
        let entries: Vec<(u64, String, usize)> = (0..CAPACITY as u64)
            .map(|i| (i, format!("m{i}"), 1))
            .collect();
        let storage = storage_with(&as_refs(&entries));
        let mut queue = Queue::default();
        assert_eq!(queue.admit(&storage, 1), Err(QueueFull));
        assert_eq!(queue.len(&storage), CAPACITY, "nothing queued was dropped");
        let batch = queue.take_batch(&storage, 1).unwrap();
        assert_eq!(batch.len(), BATCH_SIZE);

        let half = CAPACITY_BYTES / 2;
        let storage = storage_with(&[(1, "a", half), (2, "b", half - 10)]);
        assert_eq!(
            queue.admit(&storage, 10),
            Ok(true),
            "and it is a full batch"
        );
        assert_eq!(queue.admit(&storage, 11), Err(QueueFull));
    }

    #[test]
    fn near_the_limit_another_tabs_events_are_counted() {
        let entries: Vec<(u64, String, usize)> = (0..CAPACITY as u64 - 45)
            .map(|i| (i, format!("m{i}"), 1))
            .collect();
        let mut storage = storage_with(&as_refs(&entries));
        let mut this_tab = Queue::default();
        this_tab.admit(&storage, 1).unwrap();
        // Meanwhile another tab fills the queue.
        let mut other_tab = Queue::default();
        for i in 0..45 {
            storage
                .set(&other_tab.key(5_000, &format!("o{i}"), "x"), "x")
                .unwrap();
        }
        assert_eq!(this_tab.admit(&storage, 1), Err(QueueFull));
    }

    fn as_refs(entries: &[(u64, String, usize)]) -> Vec<(u64, &str, usize)> {
        entries
            .iter()
            .map(|(ms, id, n)| (*ms, id.as_str(), *n))
            .collect()
    }
}
