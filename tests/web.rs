//! The browser glue in real headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Date, Error, Object, Reflect};
use souk::web::Handle;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

/// A fresh instance on a device where no decision was made yet.
fn handle() -> Handle {
    local_storage().clear().unwrap();
    Handle::new(&object(&[("writeKey", "souk_demo_write_key".into())])).unwrap()
}

/// A fresh instance whose shopper accepted everything.
fn consented() -> Handle {
    let mut souk = handle();
    souk.decide("all", &JsValue::UNDEFINED, "banner", "en")
        .unwrap();
    souk
}

fn error(value: JsValue) -> (String, String) {
    let error: Error = value.dyn_into().expect("souk throws real Error objects");
    (error.name().into(), error.message().into())
}

#[wasm_bindgen_test]
fn init_refuses_a_config_without_write_key_with_a_named_error() {
    let (name, message) = error(Handle::new(&JsValue::UNDEFINED).err().unwrap());
    assert_eq!(name, "SoukConfigError");
    assert!(message.contains("`writeKey` is required"), "{message}");
    let bad_host = object(&[("writeKey", "k".into()), ("apiHost", "ftp://x".into())]);
    let (name, _) = error(Handle::new(&bad_host).err().unwrap());
    assert_eq!(name, "SoukConfigError");
}

#[wasm_bindgen_test]
fn track_records_js_properties_of_every_kind() {
    let mut souk = consented();
    let products = Array::of2(&object(&[("product_id", "p001".into())]), &JsValue::NULL);
    let props = object(&[
        ("price", 24.5.into()),
        ("in_stock", true.into()),
        ("at", Date::new_0().into()),
        ("products", products.into()),
    ]);
    assert_eq!(souk.track(&"Product Added".into(), &props), Ok(true));
    assert_eq!(souk.page(None, &JsValue::UNDEFINED), Ok(true));
    assert_eq!(souk.queued(), 2);
}

#[wasm_bindgen_test]
fn before_consent_nothing_is_queued_or_written_to_local_storage() {
    let mut souk = handle();
    assert!(souk.needs_decision());
    assert_eq!(
        souk.track(&"Product Viewed".into(), &JsValue::UNDEFINED),
        Ok(false)
    );
    assert_eq!(souk.queued(), 0);
    assert_eq!(souk.flush().length(), 0, "nothing to send");
    assert_eq!(local_storage().length().unwrap(), 0);
}

#[wasm_bindgen_test]
fn a_decision_is_kept_in_local_storage_and_survives_a_reload() {
    let mut souk = handle();
    let choices = object(&[("analytics", true.into())]);
    souk.decide("none", &choices, "banner", "ar-AE").unwrap();
    assert!(local_storage()
        .get_item("souk:necessary:consent")
        .unwrap()
        .is_some());
    assert!(local_storage()
        .get_item("souk:analytics:anonymous_id")
        .unwrap()
        .is_some());
    let reloaded = Handle::new(&object(&[("writeKey", "k".into())])).unwrap();
    assert!(!reloaded.needs_decision());
    let state = reloaded.consent_state();
    assert!(
        state.contains(r#""analytics":true"#) && state.contains(r#""marketing":false"#),
        "{state}"
    );

    let requests = souk.flush();
    assert_eq!(requests.length(), 1, "the proof of consent");
    let proof = Reflect::get(&requests.get(0), &"body".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(proof.contains(r#""language":"ar""#), "{proof}");
}

#[wasm_bindgen_test]
fn withdrawing_analytics_purges_local_storage() {
    let mut souk = consented();
    souk.track(&"Product Viewed".into(), &JsValue::UNDEFINED)
        .unwrap();
    souk.decide(
        "current",
        &object(&[("analytics", false.into())]),
        "api",
        "en",
    )
    .unwrap();
    assert_eq!(souk.queued(), 0);
    assert!(local_storage()
        .get_item("souk:analytics:anonymous_id")
        .unwrap()
        .is_none());
    assert!(local_storage()
        .get_item("souk:necessary:consent")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
fn unknown_categories_and_non_boolean_choices_are_refused_by_name() {
    let mut souk = handle();
    let (name, message) = error(
        souk.decide("none", &object(&[("ads", true.into())]), "api", "en")
            .unwrap_err(),
    );
    assert_eq!(name, "SoukConsentError");
    assert!(
        message.starts_with("consent: unknown category `ads`"),
        "{message}"
    );
    let (_, message) = error(
        souk.decide("none", &object(&[("analytics", "yes".into())]), "api", "en")
            .unwrap_err(),
    );
    assert_eq!(message, "consent: `analytics` must be true or false");
    assert!(souk.needs_decision(), "a refused choice decides nothing");
}

#[wasm_bindgen_test]
fn the_banner_view_follows_the_page_language() {
    let souk = handle();
    let view = souk.banner_view("ar-AE");
    assert!(view.starts_with(r#"{"lang":"ar","dir":"rtl""#), "{view}");
    assert!(souk
        .banner_view("en-GB")
        .contains(r#""acceptAll":"Accept all""#));
}

#[wasm_bindgen_test]
fn refused_calls_name_the_field_and_record_nothing() {
    let mut souk = consented();
    let nested = object(&[("price", f64::NAN.into())]);
    let props = object(&[("products", Array::of1(&nested).into())]);
    let (name, message) = error(souk.track(&"Order Completed".into(), &props).unwrap_err());
    assert_eq!(name, "SoukEventError");
    assert_eq!(
        message,
        "Order Completed: property `products.0.price` must be a finite number"
    );

    let with_function = object(&[("callback", js_sys::Function::new_no_args("").into())]);
    let (_, message) = error(
        souk.track(&"Cart Viewed".into(), &with_function)
            .unwrap_err(),
    );
    assert!(
        message.starts_with("Cart Viewed: property `callback` is a function"),
        "{message}"
    );

    let (_, message) = error(souk.track(&42.into(), &JsValue::UNDEFINED).unwrap_err());
    assert_eq!(message, "track: the event name must be a non-empty string");

    let (_, message) = error(
        souk.track(&"Cart Viewed".into(), &"cart".into())
            .unwrap_err(),
    );
    assert_eq!(message, "Cart Viewed: properties must be an object");
    assert_eq!(souk.queued(), 0);
}

#[wasm_bindgen_test]
fn a_cyclic_object_is_refused_instead_of_hanging() {
    let mut souk = consented();
    let cart = Object::new();
    Reflect::set(&cart, &"self".into(), &cart).unwrap();
    let (_, message) = error(souk.track(&"Cart Viewed".into(), &cart.into()).unwrap_err());
    assert!(message.contains("nested too deeply"), "{message}");
    assert_eq!(souk.queued(), 0);
}
