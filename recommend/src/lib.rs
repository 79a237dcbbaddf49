//! souk's recommendation scorer, its own small wasm module: the page loads it (with
//! the `<souk-recommendations>` widget) only where recommendations show, so a page
//! without them pays nothing for the model and the scoring.
//!
//! It keeps the model in wasm memory and answers with the cards to show. What it
//! scores from (the cart, and the profile only with `personalization` consent)
//! comes from the main module, which owns consent and storage.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
mod web {
    use js_sys::{Array, Object, Reflect};
    use souk::core::i18n::Lang;
    use souk::core::model::Model;
    use souk::core::profile::Profile;
    use souk::core::recommend::{for_surface, Rules, Surface, MAX_RESULTS};
    use wasm_bindgen::prelude::*;

    /// A loaded model, ready to score.
    #[wasm_bindgen]
    pub struct Recommender {
        model: Model,
    }

    #[wasm_bindgen]
    impl Recommender {
        /// Reads the model (the bytes of `GET /v1/model`). A bad file is an `Error`
        /// named `SoukModelError` that says what is wrong with it.
        #[wasm_bindgen(constructor)]
        pub fn new(bytes: &[u8]) -> Result<Recommender, JsValue> {
            let model = Model::decode(bytes).map_err(|err| {
                let error = js_sys::Error::new(&err.to_string());
                error.set_name("SoukModelError");
                JsValue::from(error)
            })?;
            Ok(Recommender { model })
        }

        /// How many products the model has.
        #[wasm_bindgen(getter)]
        pub fn products(&self) -> usize {
            self.model.len()
        }

        /// The top `limit` of `surface` (`similar`, `cart` or `for-you`) for `subject`
        /// (the product on show; for `cart`, an array of ids, or nothing for the
        /// device's `cart`), never what is in `cart`, scoring `profile` (the main
        /// module's `profileText()`) at `now_ms`, with the shop's `rules` (`pinned`,
        /// `excluded`, `categories`: arrays of ids or names). Cards come in `lang`: an
        /// array of `{id, name, price, currency, url, image, position}`, prices in
        /// minor units.
        #[allow(clippy::too_many_arguments)]
        pub fn recommend(
            &self,
            surface: &str,
            subject: &JsValue,
            cart: &JsValue,
            profile: Option<String>,
            now_ms: f64,
            limit: usize,
            lang: &str,
            rules: &JsValue,
        ) -> Array {
            let model = &self.model;
            let product = subject.as_string().unwrap_or_default();
            let given = strings(subject);
            let given: Vec<&str> = given.iter().map(String::as_str).collect();
            let surface = match surface {
                "cart" if Array::is_array(subject) => Surface::Cart(Some(&given)),
                "cart" => Surface::Cart(None),
                "for-you" => Surface::ForYou,
                _ => Surface::Similar(&product),
            };
            let cart = strings(cart);
            let cart: Vec<&str> = cart.iter().map(String::as_str).collect();
            let profile = profile.as_deref().and_then(Profile::decode);
            let categories = strings(&field(rules, "categories"));
            let rules = Rules {
                pinned: strings(&field(rules, "pinned")),
                excluded: strings(&field(rules, "excluded")),
                categories: (!categories.is_empty()).then_some(categories),
                ..Rules::default()
            };
            let now_ms = if now_ms > 0.0 { now_ms as u64 } else { 0 };
            let picks = for_surface(
                model,
                surface,
                &cart,
                profile.as_ref(),
                now_ms,
                limit.min(MAX_RESULTS),
                &rules,
            );
            let lang = Lang::from_tag(lang);
            let cards = picks.iter().filter_map(|pick| model.product(pick.product));
            cards
                .enumerate()
                .map(|(i, product)| {
                    let card = Object::new();
                    let set = |key: &str, value: JsValue| {
                        let _ = Reflect::set(&card, &JsValue::from_str(key), &value);
                    };
                    set("id", product.id.into());
                    set("name", product.name(lang).into());
                    set("price", (product.price_minor as f64).into());
                    set("currency", product.currency.into());
                    set("url", product.url.into());
                    set("image", product.image_url.into());
                    set("position", (i as u32 + 1).into());
                    JsValue::from(card)
                })
                .collect()
        }
    }

    fn field(object: &JsValue, key: &str) -> JsValue {
        if !object.is_object() {
            return JsValue::UNDEFINED;
        }
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    /// The strings of a JS array; nothing for anything else.
    fn strings(value: &JsValue) -> Vec<String> {
        if !Array::is_array(value) {
            return Vec::new();
        }
        let items = Array::from(value);
        items.iter().filter_map(|item| item.as_string()).collect()
    }
}
