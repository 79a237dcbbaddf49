//! The pure core: every decision souk makes, with no browser in sight.
//!
//! It reaches the outside world only through the traits in [`ports`], so it runs and
//! is tested natively; the browser glue adapts `localStorage`, `fetch`, `Date` and
//! `crypto` to those traits.

pub mod config;
pub mod event;
pub mod ports;
pub mod queue;
mod souk;

pub use config::{Config, ConfigError};
pub use souk::{Refused, Souk};
