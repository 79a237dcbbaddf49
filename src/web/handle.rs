//! The exported `Souk` handle behind the page's `souk` object.

use std::fmt::Display;

use js_sys::{Array, Date, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::{BrowserClock, BrowserRng, BrowserStorage};
use crate::core::capture;
use crate::core::consent::{self, ChoiceError, Grants, Source};
use crate::core::delivery::Answer;
use crate::core::event::{EventError, Properties, Value, MAX_DEPTH};
use crate::core::i18n::Lang;
use crate::core::ports::{Request, Transport};
use crate::core::souk::Outcome;
use crate::core::{self, Config, Refused};

/// [`Transport`] that hands requests to the JS client, which posts them.
#[derive(Default)]
struct Outgoing(Vec<Request>);

impl Transport for Outgoing {
    fn send(&mut self, request: Request) {
        self.0.push(request);
    }
}

/// The souk instance behind the page's `souk` object. Errors are JS `Error`s with a
/// stable `name`: `SoukConfigError`, `SoukEventError`, `SoukQueueFull` or
/// `SoukConsentError`.
#[wasm_bindgen(js_name = Souk)]
pub struct Handle {
    souk: core::Souk<BrowserClock, BrowserRng, BrowserStorage>,
}

#[wasm_bindgen(js_class = Souk)]
impl Handle {
    /// Starts souk with the object given to `souk.init(config)`.
    #[wasm_bindgen(constructor)]
    pub fn new(config_js: &JsValue) -> Result<Handle, JsValue> {
        let write_key = text(config_js, "writeKey");
        let api_host = text(config_js, "apiHost");
        let consent = field(config_js, "consent");
        let config_error = |err| js_error("SoukConfigError", &err);
        let config = Config::new(write_key.as_deref(), api_host.as_deref())
            .and_then(|config| {
                let revision = text(&consent, "revision");
                let buffer = field(&consent, "bufferBeforeDecision") == JsValue::TRUE;
                config.with_policy(
                    revision.as_deref(),
                    field(&consent, "maxAgeDays").as_f64(),
                    buffer,
                )
            })
            .and_then(|config| {
                config.with_cart_idle(field(&field(config_js, "cart"), "idleMinutes").as_f64())
            })
            .map_err(config_error)?;
        let navigator = field(&js_sys::global(), "navigator");
        let gpc = field(&navigator, "globalPrivacyControl") == JsValue::TRUE;
        let souk = core::Souk::new(
            config,
            BrowserClock,
            BrowserRng,
            BrowserStorage::open(),
            gpc,
        );
        Ok(Handle { souk })
    }

    /// Records `souk.track(name, properties)`; `true` if queued, `false` if dropped
    /// for want of `analytics` consent.
    pub fn track(&mut self, name: &JsValue, properties: &JsValue) -> Result<bool, JsValue> {
        let name = name.as_string().unwrap_or_default();
        let properties = convert_properties(&name, properties).map_err(Refused::from);
        let result = properties.and_then(|properties| self.souk.track(&name, properties));
        result
            .map(|outcome| outcome == Outcome::Queued)
            .map_err(refused)
    }

    /// Records `souk.page(name, properties)`, answering as [`Handle::track`] does.
    pub fn page(&mut self, name: Option<String>, properties: &JsValue) -> Result<bool, JsValue> {
        let properties = convert_properties("page", properties).map_err(Refused::from);
        let result = properties.and_then(|properties| self.souk.page(name.as_deref(), properties));
        result
            .map(|outcome| outcome == Outcome::Queued)
            .map_err(refused)
    }

    /// Records `souk.identify(userId, traits)`, answering as [`Handle::track`] does.
    pub fn identify(&mut self, user_id: &JsValue, traits: &JsValue) -> Result<bool, JsValue> {
        let user_id = user_id.as_string().unwrap_or_default();
        let traits = convert_properties("identify", traits).map_err(Refused::from);
        let result = traits.and_then(|traits| self.souk.identify(&user_id, traits));
        result
            .map(|outcome| outcome == Outcome::Queued)
            .map_err(refused)
    }

    /// Records `souk.alias(userId, previousId)`, answering as [`Handle::track`] does.
    pub fn alias(
        &mut self,
        user_id: &JsValue,
        previous_id: Option<String>,
    ) -> Result<bool, JsValue> {
        let user_id = user_id.as_string().unwrap_or_default();
        let result = self.souk.alias(&user_id, previous_id.as_deref());
        result
            .map(|outcome| outcome == Outcome::Queued)
            .map_err(refused)
    }

    /// `souk.reset()`: forgets the user and starts a new anonymous id.
    pub fn reset(&mut self) {
        self.souk.reset();
    }

    /// Records a GA4 `dataLayer` e-commerce event under its spec name, which it
    /// returns; `undefined` for events souk does not map or may not keep.
    #[wasm_bindgen(js_name = captureGa4)]
    pub fn capture_ga4(&mut self, name: &str, params: &JsValue) -> Result<Option<String>, JsValue> {
        let params = convert_properties(name, params).map_err(|err| refused(err.into()))?;
        let Some((spec, properties)) = capture::from_ga4(name, &params) else {
            return Ok(None);
        };
        let outcome = self.souk.track(spec, properties).map_err(refused)?;
        Ok((outcome == Outcome::Queued).then(|| spec.to_owned()))
    }

    /// Records "Product Viewed" from a parsed JSON-LD document; `true` if it
    /// described a product and the event was queued.
    #[wasm_bindgen(js_name = captureJsonLd)]
    pub fn capture_json_ld(&mut self, document: &JsValue) -> Result<bool, JsValue> {
        let Ok(document) = convert(document, 0) else {
            return Ok(false);
        };
        let Some(properties) = capture::product_from_json_ld(&document) else {
            return Ok(false);
        };
        let outcome = self
            .souk
            .track("Product Viewed", properties)
            .map_err(refused)?;
        Ok(outcome == Outcome::Queued)
    }

    /// Whether the shopper must be asked for consent.
    #[wasm_bindgen(js_name = needsDecision)]
    pub fn needs_decision(&self) -> bool {
        self.souk.needs_decision()
    }

    /// The banner's view-model (JSON) in the language of BCP 47 tag `lang`.
    #[wasm_bindgen(js_name = bannerView)]
    pub fn banner_view(&self, lang: &str) -> String {
        self.souk.banner_view(Lang::from_tag(lang))
    }

    /// The consent state for `souk.consent.get()` (JSON).
    #[wasm_bindgen(js_name = consentState)]
    pub fn consent_state(&self) -> String {
        self.souk.consent_json()
    }

    /// The Google Consent Mode v2 state (JSON) for what is granted now.
    #[wasm_bindgen(js_name = googleConsent)]
    pub fn google_consent(&self) -> String {
        self.souk.grants().google_consent_mode()
    }

    /// Applies a decision: `choices` maps category names to booleans, on top of
    /// `base` (`"all"`, `"none"` or `"current"`), from `source` (`"banner"` or `"api"`).
    /// `false` when it changed nothing.
    pub fn decide(
        &mut self,
        base: &str,
        choices: &JsValue,
        source: &str,
        lang: &str,
    ) -> Result<bool, JsValue> {
        let base = match base {
            "all" => Grants::ALL,
            "current" => self.souk.grants(),
            _ => Grants::NECESSARY,
        };
        let consent_error = |message: String| js_error("SoukConsentError", &message);
        let mut pairs = Vec::new();
        if choices.is_object() {
            for key in Object::keys(choices.unchecked_ref()).to_vec() {
                let name = key.as_string().unwrap_or_default();
                let value = field(choices, &name).as_bool().ok_or_else(|| {
                    consent_error(format!("consent: `{name}` must be true or false"))
                })?;
                pairs.push((name, value));
            }
        }
        let grants =
            Grants::from_choices(base, pairs.iter().map(|(name, on)| (name.as_str(), *on)))
                .map_err(|err: ChoiceError| consent_error(err.to_string()))?;
        let source = Source::parse(source).unwrap_or(Source::Api);
        Ok(self.souk.decide(grants, source, Lang::from_tag(lang).tag()))
    }

    /// Applies an IAB TCF v2.2 decision: `purposes` is the CMP's
    /// `tcData.purpose.consents`, an object from purpose number to boolean.
    /// `false` when it changed nothing.
    #[wasm_bindgen(js_name = decideTcf)]
    pub fn decide_tcf(&mut self, purposes: &JsValue, lang: &str) -> bool {
        let choices =
            consent::tcf_choices(|purpose| field(purposes, &purpose.to_string()) == JsValue::TRUE);
        let grants =
            Grants::from_choices(self.souk.grants(), choices).unwrap_or(self.souk.grants());
        self.souk
            .decide(grants, Source::Tcf, Lang::from_tag(lang).tag())
    }

    /// What is due for delivery: an array of `{id, path, body}` for the client to post.
    pub fn flush(&mut self) -> Array {
        let mut outgoing = Outgoing::default();
        self.souk.flush(&mut outgoing);
        outgoing
            .0
            .into_iter()
            .map(|request| {
                let object = Object::new();
                let _ = Reflect::set(&object, &"id".into(), &request.id.into());
                let _ = Reflect::set(&object, &"path".into(), &request.path.into());
                let _ = Reflect::set(&object, &"body".into(), &request.body.into());
                JsValue::from(object)
            })
            .collect()
    }

    /// Reports the answer to request `id` from [`Handle::flush`]: its HTTP `status`
    /// (0 for none; -1 for a beacon, whose fate is unknown) and `Retry-After` seconds.
    /// Returns the milliseconds to wait before retrying a failure, or -1.
    pub fn settle(&mut self, id: u32, status: i32, retry_after: Option<f64>) -> f64 {
        let answer = match u16::try_from(status) {
            Ok(status) => Answer::from_status(status, retry_after),
            Err(_) => Answer::Unknown,
        };
        self.souk
            .settle(id, answer)
            .map_or(-1.0, |wait| wait as f64)
    }

    /// The browser came back online.
    pub fn online(&mut self) {
        self.souk.online();
    }

    /// The base URL requests go to; empty for the page's own origin.
    #[wasm_bindgen(getter, js_name = apiHost)]
    pub fn api_host(&self) -> String {
        self.souk.config().api_host.clone().unwrap_or_default()
    }

    /// The device's anonymous id, which the chat's conversations belong to.
    #[wasm_bindgen(getter, js_name = anonymousId)]
    pub fn anonymous_id(&self) -> String {
        self.souk.anonymous_id().to_owned()
    }

    /// Number of recorded messages waiting for delivery.
    #[wasm_bindgen(getter)]
    pub fn queued(&self) -> usize {
        self.souk.queued()
    }

    /// Whether a full batch waits, so delivery should not wait for the interval.
    #[wasm_bindgen(getter)]
    pub fn due(&self) -> bool {
        self.souk.batch_due()
    }

    /// Events the full queue refused, over the shop's tabs and reloads.
    #[wasm_bindgen(getter)]
    pub fn dropped(&self) -> u32 {
        self.souk.dropped()
    }

    /// Records "Cart Abandoned" if the cart has sat idle too long; `true` if it did.
    #[wasm_bindgen(js_name = checkCart)]
    pub fn check_cart(&mut self) -> bool {
        self.souk.check_cart()
    }

    /// The on-device profile's stored text, for the recommendations scorer; only
    /// while `personalization` is granted.
    #[wasm_bindgen(js_name = profileText)]
    pub fn profile_text(&self) -> Option<String> {
        self.souk.profile().map(|profile| profile.encode())
    }

    /// The product ids in the shopper's cart, as the device followed it.
    #[wasm_bindgen(js_name = cartProducts)]
    pub fn cart_products(&self) -> Array {
        let products = self.souk.cart_products();
        products.iter().map(|id| JsValue::from_str(id)).collect()
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
        Refused::QueueFull(_) | Refused::NotKept => "SoukQueueFull",
    };
    js_error(name, &err)
}

/// Reads the properties object of `event`; `undefined` and `null` mean none.
fn convert_properties(event: &str, value: &JsValue) -> Result<Properties, EventError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Properties::default());
    }
    let not_object = || EventError::PropertiesNotObject {
        event: event.to_owned(),
    };
    if Array::is_array(value) {
        return Err(not_object());
    }
    match convert(value, 0) {
        Ok(Value::Object(properties)) => Ok(properties),
        Ok(_) => Err(not_object()),
        Err((path, problem)) => Err(EventError::BadProperty {
            event: event.to_owned(),
            path,
            problem,
        }),
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
            let path = if path.is_empty() {
                key.to_owned()
            } else {
                format!("{key}.{path}")
            };
            (path, problem)
        })
    };
    if Array::is_array(value) {
        let items = if deep {
            Vec::new()
        } else {
            Array::from(value).to_vec()
        };
        let items = items
            .iter()
            .enumerate()
            .map(|(i, item)| inside(&i.to_string(), item));
        return items.collect::<Result<_, _>>().map(Value::List);
    }
    let keys = if deep {
        Vec::new()
    } else {
        Object::keys(value.unchecked_ref()).to_vec()
    };
    let mut properties = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key.as_string().unwrap_or_default();
        let item = Reflect::get(value, &JsValue::from_str(&key)).unwrap_or(JsValue::UNDEFINED);
        let item = inside(&key, &item)?;
        properties.push((key, item));
    }
    Ok(Value::Object(Properties(properties)))
}
