//! The core's ports on the browser: `Date`, `crypto` and `localStorage`.

use js_sys::{Date, Object};
use wasm_bindgen::prelude::*;

use crate::core::ports::{Clock, MemoryStorage, Rng, Storage, StorageError};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// [`Clock`] on `Date.now()`.
pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_ms(&self) -> u64 {
        Date::now() as u64
    }
}

/// [`Rng`] on `crypto.getRandomValues`.
pub struct BrowserRng;

impl Rng for BrowserRng {
    fn fill(&mut self, buf: &mut [u8]) {
        get_random_values(buf);
    }
}

/// [`Storage`] on `localStorage`. Where the browser refuses it (privacy settings,
/// sandboxed frames), it keeps entries in memory, so nothing outlives the page.
pub struct BrowserStorage {
    local: Option<web_sys::Storage>,
    memory: MemoryStorage,
}

impl BrowserStorage {
    /// `localStorage`, or memory where the browser refuses it.
    pub fn open() -> Self {
        let local = web_sys::window().and_then(|window| window.local_storage().ok().flatten());
        Self {
            local,
            memory: MemoryStorage::default(),
        }
    }
}

impl Storage for BrowserStorage {
    fn get(&self, key: &str) -> Option<String> {
        match &self.local {
            Some(local) => local.get_item(key).ok().flatten(),
            None => self.memory.get(key),
        }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        let Some(local) = &self.local else {
            return self.memory.set(key, value);
        };
        local.set_item(key, value).map_err(|_| StorageError {
            key: key.to_owned(),
            reason: "the browser refused the write (quota or privacy settings)".to_owned(),
        })
    }

    fn remove(&mut self, key: &str) {
        match &self.local {
            Some(local) => drop(local.remove_item(key)),
            None => self.memory.remove(key),
        }
    }

    fn keys(&self) -> Vec<String> {
        let Some(local) = &self.local else {
            return self.memory.keys();
        };
        // All keys in one crossing (a call per key made `track()` slower the more the
        // queue and the shop kept). No key souk writes has a newline.
        let keys = Object::keys(local.unchecked_ref()).join("\n");
        let keys = String::from(keys);
        keys.split('\n')
            .filter(|key| !key.is_empty())
            .map(str::to_owned)
            .collect()
    }
}
