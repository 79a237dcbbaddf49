//! souk: on-device digital CRM for online shops.
//!
//! [`core`] is pure Rust and runs anywhere; the browser glue in `web` exists only
//! on `wasm32` (feature `web`, on by default) and adapts the browser to the core's
//! ports.
#![deny(missing_docs)]

pub mod core;

#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod web;
