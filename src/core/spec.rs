//! The Segment e-commerce spec v2: the properties its events carry, checked so that
//! a merchant's numbers add up. Unknown events and properties pass untouched; a
//! known property of the wrong kind is refused with its name and value.

use super::event::{EventError, Properties, Value};
use super::json;

/// What a spec property must hold.
#[derive(Clone, Copy)]
enum Kind {
    /// A number ≥ 0: prices and money.
    Amount,
    /// A whole number ≥ 0: quantities and positions.
    Count,
    /// A non-empty string, or a number (ids that shops keep numeric).
    Id,
    /// A three-letter ISO 4217 code.
    Currency,
}

const PROPERTIES: [(&str, Kind); 17] = [
    ("price", Kind::Amount),
    ("revenue", Kind::Amount),
    ("total", Kind::Amount),
    ("subtotal", Kind::Amount),
    ("discount", Kind::Amount),
    ("shipping", Kind::Amount),
    ("tax", Kind::Amount),
    ("value", Kind::Amount),
    ("quantity", Kind::Count),
    ("position", Kind::Count),
    ("product_id", Kind::Id),
    ("sku", Kind::Id),
    ("order_id", Kind::Id),
    ("cart_id", Kind::Id),
    ("list_id", Kind::Id),
    ("checkout_id", Kind::Id),
    ("currency", Kind::Currency),
];

/// The spec's e-commerce events, whose properties are checked.
const EVENTS: [&str; 20] = [
    "Products Searched",
    "Product List Viewed",
    "Product List Filtered",
    "Product Clicked",
    "Product Viewed",
    "Product Added",
    "Product Removed",
    "Cart Viewed",
    "Checkout Started",
    "Checkout Step Viewed",
    "Checkout Step Completed",
    "Payment Info Entered",
    "Order Completed",
    "Order Updated",
    "Order Refunded",
    "Order Cancelled",
    "Coupon Applied",
    "Product Added to Wishlist",
    "Promotion Viewed",
    "Promotion Clicked",
];

/// Checks the spec properties of e-commerce event `event`, and of each entry of its
/// `products`; other events pass.
pub fn check(event: &str, properties: &Properties) -> Result<(), EventError> {
    if !EVENTS.contains(&event) {
        return Ok(());
    }
    check_fields(event, "", properties)?;
    if let Some(Value::List(products)) = properties.get("products") {
        for (i, product) in products.iter().enumerate() {
            if let Value::Object(product) = product {
                check_fields(event, &format!("products.{i}."), product)?;
            }
        }
    }
    Ok(())
}

fn check_fields(event: &str, prefix: &str, properties: &Properties) -> Result<(), EventError> {
    for (key, value) in &properties.0 {
        let Some((_, kind)) = PROPERTIES.iter().find(|(name, _)| name == key) else {
            continue;
        };
        let fits = match (kind, value) {
            (_, Value::Null) => true,
            (Kind::Amount, Value::Number(n)) => *n >= 0.0,
            (Kind::Count, Value::Number(n)) => *n >= 0.0 && n.fract() == 0.0,
            (Kind::Id, Value::Text(text)) => !text.trim().is_empty(),
            (Kind::Id, Value::Number(_)) => true,
            (Kind::Currency, Value::Text(code)) => {
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic())
            }
            _ => false,
        };
        if !fits {
            let wanted = match kind {
                Kind::Amount => "a non-negative number",
                Kind::Count => "a whole number of at least 0",
                Kind::Id => "a non-empty string",
                Kind::Currency => "a three-letter ISO 4217 code such as \"AED\"",
            };
            return Err(EventError::Spec {
                event: event.to_owned(),
                property: format!("{prefix}{key}"),
                wanted,
                got: json::value(value),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_price_is_refused_with_its_name_and_value() {
        let bad = Properties::from([("price", Value::Text("abc".into()))]);
        assert_eq!(
            check("Product Added", &bad).unwrap_err().to_string(),
            r#"Product Added: price must be a non-negative number, got "abc""#
        );
        let ok = Properties::from([
            ("price", Value::Number(24.5)),
            ("quantity", Value::Number(2.0)),
            ("product_id", Value::Number(1001.0)),
            ("currency", Value::Text("AED".into())),
            ("shop_note", Value::Text("anything".into())),
        ]);
        assert_eq!(check("Product Added", &ok), Ok(()));
        assert_eq!(
            check("Newsletter Signed Up", &bad),
            Ok(()),
            "not a spec event"
        );
    }

    #[test]
    fn products_in_an_order_are_checked_by_position() {
        let line = |quantity: f64| {
            Value::Object(Properties::from([
                ("product_id", Value::Text("p1".into())),
                ("quantity", Value::Number(quantity)),
            ]))
        };
        let order = Properties::from([
            ("order_id", Value::Text("DN-1".into())),
            ("products", Value::List(vec![line(1.0), line(1.5)])),
        ]);
        assert_eq!(
            check("Order Completed", &order).unwrap_err().to_string(),
            "Order Completed: products.1.quantity must be a whole number of at least 0, got 1.5"
        );
        let currency = Properties::from([("currency", Value::Text("dirham".into()))]);
        assert!(check("Checkout Started", &currency)
            .unwrap_err()
            .to_string()
            .contains("ISO 4217"));
        let empty_id = Properties::from([("product_id", Value::Text(" ".into()))]);
        assert!(check("Product Viewed", &empty_id).is_err());
    }
}
