//! Browser glue: the core's ports on the browser (feature `browser`) and the
//! exported `Souk` handle (feature `web`).
//!
//! It only converts between JavaScript values and the core's types; every rule lives
//! in [`crate::core`].

mod ports;

pub use ports::{BrowserClock, BrowserRng, BrowserStorage};

#[cfg(feature = "web")]
mod handle;

#[cfg(feature = "web")]
pub use handle::Handle;
