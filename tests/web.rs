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

fn handle() -> Handle {
    Handle::new(&object(&[("writeKey", "souk_demo_write_key".into())])).unwrap()
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
    let mut souk = handle();
    let products = Array::of2(&object(&[("product_id", "p001".into())]), &JsValue::NULL);
    let props = object(&[
        ("price", 24.5.into()),
        ("in_stock", true.into()),
        ("at", Date::new_0().into()),
        ("products", products.into()),
    ]);
    souk.track(&"Product Added".into(), &props).unwrap();
    souk.page(None, &JsValue::UNDEFINED).unwrap();
    assert_eq!(souk.queued(), 2);
}

#[wasm_bindgen_test]
fn refused_calls_name_the_field_and_record_nothing() {
    let mut souk = handle();
    let nested = object(&[("price", f64::NAN.into())]);
    let props = object(&[("products", Array::of1(&nested).into())]);
    let (name, message) = error(souk.track(&"Order Completed".into(), &props).unwrap_err());
    assert_eq!(name, "SoukEventError");
    assert_eq!(message, "Order Completed: property `products.0.price` must be a finite number");

    let with_function = object(&[("callback", js_sys::Function::new_no_args("").into())]);
    let (_, message) = error(souk.track(&"Cart Viewed".into(), &with_function).unwrap_err());
    assert!(message.starts_with("Cart Viewed: property `callback` is a function"), "{message}");

    let (_, message) = error(souk.track(&42.into(), &JsValue::UNDEFINED).unwrap_err());
    assert_eq!(message, "track: the event name must be a non-empty string");

    let (_, message) = error(souk.track(&"Cart Viewed".into(), &"cart".into()).unwrap_err());
    assert_eq!(message, "Cart Viewed: properties must be an object");
    assert_eq!(souk.queued(), 0);
}

#[wasm_bindgen_test]
fn a_cyclic_object_is_refused_instead_of_hanging() {
    let mut souk = handle();
    let cart = Object::new();
    Reflect::set(&cart, &"self".into(), &cart).unwrap();
    let (_, message) = error(souk.track(&"Cart Viewed".into(), &cart.into()).unwrap_err());
    assert!(message.contains("nested too deeply"), "{message}");
    assert_eq!(souk.queued(), 0);
}
