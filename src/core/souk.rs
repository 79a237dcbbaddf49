//! One souk instance on one page: the configuration, the device's ids and the queue.

use super::config::Config;
use super::event::{self, EventError, Kind, Message, Properties};
use super::ports::{Clock, Rng};
use super::queue::{Queue, QueueFull};

/// Why a `track` or `page` call was not recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    /// The call itself was invalid.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The queue had no room.
    #[error(transparent)]
    QueueFull(#[from] QueueFull),
}

/// The plugin's state on one page, independent of the browser.
///
/// Until consent exists, recorded messages stay in memory: nothing is stored or sent.
#[derive(Debug)]
pub struct Souk<C, R> {
    config: Config,
    clock: C,
    rng: R,
    anonymous_id: String,
    queue: Queue,
}

impl<C: Clock, R: Rng> Souk<C, R> {
    /// Starts an instance for `config`, with a fresh anonymous id drawn from `rng`.
    pub fn new(config: Config, clock: C, mut rng: R) -> Self {
        let anonymous_id = event::new_id(&mut rng);
        Self { config, clock, rng, anonymous_id, queue: Queue::default() }
    }

    /// Records the named action `name` with its `properties`.
    pub fn track(&mut self, name: &str, properties: Properties) -> Result<(), Refused> {
        event::check_name(name)?;
        let name = name.trim();
        event::check_properties(name, &properties)?;
        self.record(Kind::Track, Some(name.to_owned()), properties)
    }

    /// Records a page view, optionally named (such as "Product").
    pub fn page(&mut self, name: Option<&str>, properties: Properties) -> Result<(), Refused> {
        let name = name.map(str::trim).filter(|name| !name.is_empty());
        event::check_properties(name.unwrap_or("page"), &properties)?;
        self.record(Kind::Page, name.map(str::to_owned), properties)
    }

    fn record(&mut self, kind: Kind, event: Option<String>, properties: Properties) -> Result<(), Refused> {
        let message = Message {
            kind,
            event,
            properties,
            message_id: event::new_id(&mut self.rng),
            anonymous_id: self.anonymous_id.clone(),
            timestamp_ms: self.clock.now_ms(),
        };
        Ok(self.queue.push(message)?)
    }

    /// The configuration this instance runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Messages recorded and waiting for delivery.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Value;
    use crate::core::ports::{ManualClock, SeededRng};
    use crate::core::queue::CAPACITY;

    fn souk() -> Souk<ManualClock, SeededRng> {
        let config = Config::new(Some("demo"), None, false).unwrap();
        Souk::new(config, ManualClock { now_ms: 1_700_000_000_000 }, SeededRng::new(1))
    }

    #[test]
    fn records_calls_in_order_with_ids_and_time() {
        let mut souk = souk();
        souk.page(Some(" Home "), Properties::default()).unwrap();
        let props = Properties(vec![("product_id".into(), Value::Text("p001".into()))]);
        souk.track("Product Viewed", props.clone()).unwrap();

        let recorded: Vec<_> = souk.queue().iter().collect();
        assert_eq!(recorded.len(), 2);
        assert_eq!((recorded[0].kind, recorded[0].event.as_deref()), (Kind::Page, Some("Home")));
        assert_eq!(recorded[1].event.as_deref(), Some("Product Viewed"));
        assert_eq!(recorded[1].properties, props);
        assert_eq!(recorded[1].timestamp_ms, 1_700_000_000_000);
        assert_ne!(recorded[0].message_id, recorded[1].message_id);
        assert_eq!(recorded[0].anonymous_id, recorded[1].anonymous_id);
    }

    #[test]
    fn refuses_invalid_calls_without_recording_them() {
        let mut souk = souk();
        assert_eq!(souk.track("", Properties::default()), Err(EventError::MissingName.into()));
        let bad = Properties(vec![("price".into(), Value::Number(f64::INFINITY))]);
        let err = souk.track("Product Added", bad).unwrap_err();
        assert_eq!(err.to_string(), "Product Added: property `price` must be a finite number");
        assert!(souk.queue().is_empty());
    }

    #[test]
    fn a_full_queue_refuses_instead_of_dropping() {
        let mut souk = souk();
        for _ in 0..CAPACITY {
            souk.track("Product Viewed", Properties::default()).unwrap();
        }
        assert_eq!(souk.track("Order Completed", Properties::default()), Err(QueueFull.into()));
        assert_eq!(souk.queue().len(), CAPACITY);
        assert!(souk.queue().iter().all(|m| m.event.as_deref() == Some("Product Viewed")));
    }
}
