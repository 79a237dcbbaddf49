//! souk: on-device digital CRM for online shops.
//!
//! [`core`] is pure Rust and runs anywhere; the browser glue in `web` exists only
//! on `wasm32` and adapts the browser to the core's ports (feature `browser`), with
//! the plugin's exported handle (feature `web`, on by default).
#![deny(missing_docs)]

pub mod core;

#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub mod web;
