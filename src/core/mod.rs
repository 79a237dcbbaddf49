//! The pure core: every decision souk makes, with no browser in sight.
//!
//! It reaches the outside world only through the traits in [`ports`], so it runs and
//! is tested natively; the browser glue adapts `localStorage`, `fetch`, `Date` and
//! `crypto` to those traits.

pub mod capture;
pub mod cart;
pub mod chat;
pub mod config;
pub mod consent;
pub mod delivery;
pub mod event;
pub mod faq;
pub mod i18n;
pub mod json;
pub mod loyalty;
pub mod model;
pub mod ports;
pub mod profile;
pub mod queue;
pub mod recommend;
pub mod souk;
pub mod spec;
pub mod time;

pub use config::{Config, ConfigError};
pub use souk::{Refused, Souk};
