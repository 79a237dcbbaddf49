//! Auto-capture: what souk reads from the page without shop code, mapped to the
//! Segment e-commerce spec v2 names and properties.
//!
//! - the GA4 `dataLayer` e-commerce events a shop already sends to Google Analytics;
//! - schema.org `Product` JSON-LD on product pages.

use super::event::{Properties, Value};
use super::json::decimal;

/// GA4 e-commerce event names and their Segment e-commerce spec v2 names.
const GA4_EVENTS: [(&str, &str); 11] = [
    ("view_item", "Product Viewed"),
    ("view_item_list", "Product List Viewed"),
    ("select_item", "Product Clicked"),
    ("add_to_cart", "Product Added"),
    ("remove_from_cart", "Product Removed"),
    ("view_cart", "Cart Viewed"),
    ("begin_checkout", "Checkout Started"),
    ("add_payment_info", "Payment Info Entered"),
    ("purchase", "Order Completed"),
    ("refund", "Order Refunded"),
    ("search", "Products Searched"),
];

/// GA4 parameter names and their spec property names, for events and for items.
const GA4_PARAMS: [(&str, &str); 10] = [
    ("transaction_id", "order_id"),
    ("value", "total"),
    ("currency", "currency"),
    ("coupon", "coupon"),
    ("shipping", "shipping"),
    ("tax", "tax"),
    ("search_term", "query"),
    ("item_list_id", "list_id"),
    ("item_list_name", "category"),
    ("payment_type", "payment_method"),
];
const GA4_ITEM: [(&str, &str); 9] = [
    ("item_id", "product_id"),
    ("item_name", "name"),
    ("item_brand", "brand"),
    ("item_category", "category"),
    ("item_variant", "variant"),
    ("price", "price"),
    ("quantity", "quantity"),
    ("index", "position"),
    ("coupon", "coupon"),
];

/// The spec event for GA4 event `name` with its `params` (the `ecommerce` object),
/// or `None` for events souk does not map. Events about one product carry its fields
/// at the top level; events about many carry `products`.
pub fn from_ga4(name: &str, params: &Properties) -> Option<(&'static str, Properties)> {
    let (_, spec) = GA4_EVENTS.iter().find(|(ga4, _)| *ga4 == name)?;
    let mut out = rename(params, &GA4_PARAMS);
    let items: Vec<&Properties> = match params.get("items") {
        Some(Value::List(items)) => items.iter().filter_map(object).collect(),
        _ => Vec::new(),
    };
    let single = matches!(
        name,
        "view_item" | "select_item" | "add_to_cart" | "remove_from_cart"
    );
    match items.as_slice() {
        [item] if single => out.0.extend(rename(item, &GA4_ITEM).0),
        _ if !items.is_empty() => {
            let products = items
                .iter()
                .map(|item| Value::Object(rename(item, &GA4_ITEM)))
                .collect();
            out.0.push(("products".to_owned(), Value::List(products)));
        }
        _ => {}
    }
    if name == "purchase" {
        if let Some(total) = out.get("total").cloned() {
            out.0.push(("revenue".to_owned(), total));
        }
    }
    Some((spec, out))
}

/// The "Product Viewed" properties of a schema.org `Product` in JSON-LD, looking
/// into `@graph` and arrays; `None` when the document describes no product.
pub fn product_from_json_ld(document: &Value) -> Option<Properties> {
    let product = find_product(document, 0)?;
    let text = |key: &str| match product.get(key) {
        Some(Value::Text(text)) if !text.is_empty() => Some(text.clone()),
        Some(Value::Object(named)) => match named.get("name") {
            Some(Value::Text(name)) => Some(name.clone()),
            _ => None,
        },
        _ => None,
    };
    let offer = match product.get("offers") {
        Some(Value::Object(offer)) => Some(offer),
        Some(Value::List(offers)) => offers.iter().find_map(object),
        _ => None,
    };
    let mut out = Vec::new();
    let id = text("productID").or_else(|| text("sku"))?;
    out.push(("product_id".to_owned(), Value::Text(id)));
    for (from, to) in [
        ("sku", "sku"),
        ("name", "name"),
        ("brand", "brand"),
        ("category", "category"),
        ("url", "url"),
    ] {
        if let Some(value) = text(from) {
            out.push((to.to_owned(), Value::Text(value)));
        }
    }
    if let Some(Value::Text(image)) = product.get("image") {
        out.push(("image_url".to_owned(), Value::Text(image.clone())));
    }
    if let Some(offer) = offer {
        let price = match offer.get("price") {
            Some(Value::Number(price)) => Some(*price),
            Some(Value::Text(price)) => decimal(price.trim()),
            _ => None,
        };
        if let Some(price) = price {
            out.push(("price".to_owned(), Value::Number(price)));
        }
        if let Some(Value::Text(currency)) = offer.get("priceCurrency") {
            out.push(("currency".to_owned(), Value::Text(currency.clone())));
        }
    }
    Some(Properties(out))
}

fn find_product(value: &Value, depth: usize) -> Option<&Properties> {
    if depth > 4 {
        return None;
    }
    match value {
        Value::List(items) => items.iter().find_map(|item| find_product(item, depth + 1)),
        Value::Object(props) => {
            let is_product = match props.get("@type") {
                Some(Value::Text(kind)) => kind == "Product",
                Some(Value::List(kinds)) => kinds
                    .iter()
                    .any(|k| matches!(k, Value::Text(t) if t == "Product")),
                _ => false,
            };
            if is_product {
                return Some(props);
            }
            props
                .get("@graph")
                .and_then(|graph| find_product(graph, depth + 1))
        }
        _ => None,
    }
}

fn object(value: &Value) -> Option<&Properties> {
    match value {
        Value::Object(props) => Some(props),
        _ => None,
    }
}

/// The entries of `props` named in `names`, renamed; the rest are left out.
fn rename(props: &Properties, names: &[(&str, &str)]) -> Properties {
    let renamed = names
        .iter()
        .filter_map(|(from, to)| Some(((*to).to_owned(), props.get(from)?.clone())));
    Properties(renamed.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn ga4_add_to_cart_becomes_product_added_with_the_item_on_top() {
        let item = Value::Object(Properties::from([
            ("item_id", text("p001")),
            ("item_name", text("Enamel Pot")),
            ("price", Value::Number(89.0)),
            ("quantity", Value::Number(2.0)),
            ("google_only", text("x")),
        ]));
        let params = Properties::from([
            ("currency", text("AED")),
            ("value", Value::Number(178.0)),
            ("items", Value::List(vec![item])),
        ]);
        let (name, out) = from_ga4("add_to_cart", &params).unwrap();
        assert_eq!(name, "Product Added");
        assert_eq!(out.get("product_id"), Some(&text("p001")));
        assert_eq!(out.get("quantity"), Some(&Value::Number(2.0)));
        assert_eq!(out.get("currency"), Some(&text("AED")));
        assert_eq!(
            out.get("google_only"),
            None,
            "unknown GA4 fields are not passed on"
        );
    }

    #[test]
    fn ga4_purchase_becomes_order_completed_with_products_and_revenue() {
        let items = Value::List(vec![
            Value::Object(Properties::from([
                ("item_id", text("p001")),
                ("price", Value::Number(10.0)),
            ])),
            Value::Object(Properties::from([
                ("item_id", text("p002")),
                ("price", Value::Number(5.5)),
            ])),
        ]);
        let params = Properties::from([
            ("transaction_id", text("DN-1")),
            ("value", Value::Number(15.5)),
            ("items", items),
        ]);
        let (name, out) = from_ga4("purchase", &params).unwrap();
        assert_eq!(name, "Order Completed");
        assert_eq!(out.get("order_id"), Some(&text("DN-1")));
        assert_eq!(out.get("revenue"), Some(&Value::Number(15.5)));
        match out.get("products") {
            Some(Value::List(products)) => assert_eq!(products.len(), 2),
            other => panic!("products: {other:?}"),
        }
        assert!(
            from_ga4("page_view", &params).is_none(),
            "not an e-commerce event"
        );
        assert_eq!(GA4_EVENTS.len(), 11);
    }

    #[test]
    fn json_ld_products_are_found_and_read() {
        let offer = Value::Object(Properties::from([
            ("price", text("89.00")),
            ("priceCurrency", text("AED")),
        ]));
        let product = Value::Object(Properties::from([
            ("@type", text("Product")),
            ("sku", text("DN-KIT-001")),
            ("productID", text("p001")),
            ("name", text("Enamel Pot")),
            (
                "brand",
                Value::Object(Properties::from([
                    ("@type", text("Brand")),
                    ("name", text("Ember")),
                ])),
            ),
            ("offers", offer),
        ]));
        let graph = Value::Object(Properties::from([(
            "@graph",
            Value::List(vec![
                Value::Object(Properties::from([("@type", text("WebPage"))])),
                product,
            ]),
        )]));
        let out = product_from_json_ld(&graph).unwrap();
        assert_eq!(out.get("product_id"), Some(&text("p001")));
        assert_eq!(out.get("brand"), Some(&text("Ember")));
        assert_eq!(out.get("price"), Some(&Value::Number(89.0)));
        assert_eq!(out.get("currency"), Some(&text("AED")));
        assert_eq!(decimal("12.5"), Some(12.5));
        assert_eq!(decimal("7"), Some(7.0));
        assert_eq!(
            (decimal("1e3"), decimal("-1"), decimal(".5"), decimal("")),
            (None, None, None, None)
        );
        let page = Value::Object(Properties::from([("@type", text("WebPage"))]));
        assert!(product_from_json_ld(&page).is_none());
        let no_id = Value::Object(Properties::from([
            ("@type", text("Product")),
            ("name", text("?")),
        ]));
        assert!(
            product_from_json_ld(&no_id).is_none(),
            "a product without an id cannot be tracked"
        );
    }
}
