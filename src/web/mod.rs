//! Browser glue: the exported `Souk` handle and the ports on `Date` and `crypto`.
//!
//! It only converts between JavaScript values and the core's types; every rule lives
//! in [`crate::core`].

use std::fmt::Display;

use js_sys::{Array, Date, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::event::{EventError, Properties, Value, MAX_DEPTH};
use crate::core::ports::{Clock, Rng};
use crate::core::{self, Config, Refused};

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

/// The souk instance behind the page's `souk` object. Errors are JS `Error`s with a
/// stable `name`: `SoukConfigError`, `SoukEventError` or `SoukQueueFull`.
#[wasm_bindgen(js_name = Souk)]
pub struct Handle {
    souk: core::Souk<BrowserClock, BrowserRng>,
}

#[wasm_bindgen(js_class = Souk)]
impl Handle {
    /// Starts souk with the object given to `souk.init(config)`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &JsValue) -> Result<Handle, JsValue> {
        let write_key = text(config, "writeKey");
        let api_host = text(config, "apiHost");
        let debug = field(config, "debug").is_truthy();
        let config = Config::new(write_key.as_deref(), api_host.as_deref(), debug)
            .map_err(|err| js_error("SoukConfigError", &err))?;
        Ok(Handle { souk: core::Souk::new(config, BrowserClock, BrowserRng) })
    }

    /// Records `souk.track(name, properties)`.
    pub fn track(&mut self, name: &JsValue, properties: &JsValue) -> Result<(), JsValue> {
        let name = name.as_string().unwrap_or_default();
        let properties = convert_properties(&name, properties).map_err(Refused::from);
        let result = properties.and_then(|properties| self.souk.track(&name, properties));
        result.map_err(refused)
    }

    /// Records `souk.page(name, properties)`.
    pub fn page(&mut self, name: Option<String>, properties: &JsValue) -> Result<(), JsValue> {
        let properties = convert_properties("page", properties).map_err(Refused::from);
        let result = properties.and_then(|properties| self.souk.page(name.as_deref(), properties));
        result.map_err(refused)
    }

    /// Number of recorded messages waiting for delivery.
    #[wasm_bindgen(getter)]
    pub fn queued(&self) -> usize {
        self.souk.queue().len()
    }

    /// Deliberately kills the module, as a bug would: the loader must contain it.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __panic)]
    pub fn panic(&self) {
        panic!("souk: deliberate crash requested by a test");
    }
}

fn field(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text(object: &JsValue, key: &str) -> Option<String> {
    field(object, key).as_string()
}

fn js_error(name: &str, err: &impl Display) -> JsValue {
    let error = js_sys::Error::new(&err.to_string());
    error.set_name(name);
    error.into()
}

fn refused(err: Refused) -> JsValue {
    let name = match err {
        Refused::Event(_) => "SoukEventError",
        Refused::QueueFull(_) => "SoukQueueFull",
    };
    js_error(name, &err)
}

/// Reads the properties object of `event`; `undefined` and `null` mean none.
fn convert_properties(event: &str, value: &JsValue) -> Result<Properties, EventError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Properties::default());
    }
    let not_object = || EventError::PropertiesNotObject { event: event.to_owned() };
    if Array::is_array(value) {
        return Err(not_object());
    }
    match convert(value, 0) {
        Ok(Value::Object(properties)) => Ok(properties),
        Ok(_) => Err(not_object()),
        Err((path, problem)) => Err(EventError::BadProperty { event: event.to_owned(), path, problem }),
    }
}

/// Converts one JS value, or says which path is wrong and why. Containers at the
/// depth limit come back empty, without recursing (a cycle would never end); the core
/// then refuses them by its own rule.
fn convert(value: &JsValue, depth: usize) -> Result<Value, (String, String)> {
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(number) = value.as_f64() {
        return Ok(Value::Number(number));
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::Text(text));
    }
    if let Some(date) = value.dyn_ref::<Date>() {
        return Ok(Value::Text(date.to_iso_string().into()));
    }
    if !value.is_object() || value.is_function() {
        let kind = value.js_typeof().as_string().unwrap_or_default();
        let problem = format!("is a {kind}; only strings, numbers, booleans, null, arrays and plain objects can be recorded");
        return Err((String::new(), problem));
    }
    let deep = depth >= MAX_DEPTH;
    let inside = |key: &str, item: &JsValue| {
        convert(item, depth + 1).map_err(|(path, problem)| {
            let path = if path.is_empty() { key.to_owned() } else { format!("{key}.{path}") };
            (path, problem)
        })
    };
    if Array::is_array(value) {
        let items = if deep { Vec::new() } else { Array::from(value).to_vec() };
        let items = items.iter().enumerate().map(|(i, item)| inside(&i.to_string(), item));
        return items.collect::<Result<_, _>>().map(Value::List);
    }
    let keys = if deep { Vec::new() } else { Object::keys(value.unchecked_ref()).to_vec() };
    let mut properties = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key.as_string().unwrap_or_default();
        let item = Reflect::get(value, &JsValue::from_str(&key)).unwrap_or(JsValue::UNDEFINED);
        let item = inside(&key, &item)?;
        properties.push((key, item));
    }
    Ok(Value::Object(Properties(properties)))
}
