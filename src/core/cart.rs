//! The shopper's cart as the device sees it, from the shop's own cart events, so
//! that an abandoned cart is noticed on the device: items were in it, and the
//! shopper went idle or the session ended without an order.
//!
//! A session that ended (the tab closed) can only be noticed when the shopper comes
//! back, so the event is then dated when the cart went idle. Tabs share the cart
//! through storage, and every tab that notices the same abandonment records it under
//! the same `messageId`, which the backend keeps once.

use super::event::{Properties, Value};

/// What "Product Added", "Product Removed", "Cart Viewed", "Checkout Started" and
/// "Order Completed" told about the cart.
#[derive(Debug, Clone, PartialEq)]
pub struct Cart {
    /// The shop's `cart_id`, or one souk made when the first product went in.
    pub id: String,
    /// The last time the shopper did anything while the cart held items.
    pub active_ms: u64,
    /// Whether checkout was started.
    pub checkout: bool,
    /// Whether this spell of inactivity was already recorded as abandonment.
    pub reported: bool,
    /// The currency of the latest priced product.
    pub currency: Option<String>,
    /// What is in the cart, in the order it went in.
    pub items: Vec<Item>,
}

/// One line of the cart.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The product's `product_id` (or `sku`).
    pub product_id: String,
    /// Its name, when the shop gave it.
    pub name: Option<String>,
    /// Unit price, when the shop gave it.
    pub price: Option<f64>,
    /// How many.
    pub quantity: u32,
}

/// What a cart event does to the cart.
pub enum Change {
    /// Nothing: not a cart event, or one without a product.
    None,
    /// The cart was changed, and is kept as it is now.
    Kept,
    /// The order was placed: the cart is gone.
    Ordered,
}

impl Cart {
    /// An empty cart named `id`, active at `now_ms`.
    pub fn new(id: String, now_ms: u64) -> Self {
        Cart {
            id,
            active_ms: now_ms,
            checkout: false,
            reported: false,
            currency: None,
            items: Vec::new(),
        }
    }

    /// Applies track event `event` at `now_ms`.
    pub fn apply(&mut self, event: &str, properties: &Properties, now_ms: u64) -> Change {
        match event {
            "Product Added" => {
                let Some(item) = Item::from_properties(properties) else {
                    return Change::None;
                };
                self.note_currency(properties);
                match self.line(&item.product_id) {
                    Some(line) => line.quantity = line.quantity.saturating_add(item.quantity),
                    None => self.items.push(item),
                }
            }
            "Product Removed" => {
                let Some(id) = product_id(properties) else {
                    return Change::None;
                };
                // Without a quantity the whole line goes.
                let removed = properties.get("quantity").map_or(u32::MAX, count);
                if let Some(line) = self.line(&id) {
                    line.quantity = line.quantity.saturating_sub(removed);
                }
                self.items.retain(|line| line.quantity > 0);
            }
            // The shop's own view of the cart is the truth, when it lists the products.
            "Cart Viewed" => {
                let Some(Value::List(products)) = properties.get("products") else {
                    return Change::None;
                };
                self.items = products
                    .iter()
                    .filter_map(|product| match product {
                        Value::Object(product) => Item::from_properties(product),
                        _ => None,
                    })
                    .collect();
                self.note_currency(properties);
            }
            "Checkout Started" => self.checkout = true,
            "Order Completed" => return Change::Ordered,
            _ => return Change::None,
        }
        if let Some(Value::Text(id)) = properties.get("cart_id") {
            self.id.clone_from(id);
        }
        self.active_ms = now_ms;
        self.reported = false;
        Change::Kept
    }

    /// The "Cart Abandoned" properties and the time it was abandoned, if at `now_ms`
    /// the cart holds items and has been idle for `idle_ms`, and that was not yet
    /// recorded.
    pub fn abandoned(&self, now_ms: u64, idle_ms: u64) -> Option<(Properties, u64)> {
        let since = self.active_ms.saturating_add(idle_ms);
        if self.items.is_empty() || self.reported || now_ms < since {
            return None;
        }
        let value: f64 = self
            .items
            .iter()
            .map(|item| item.price.unwrap_or(0.0) * f64::from(item.quantity))
            .sum();
        let products = self.items.iter().map(Item::to_value).collect();
        let mut properties = vec![
            ("cart_id".to_owned(), Value::Text(self.id.clone())),
            (
                "value".to_owned(),
                Value::Number((value * 100.0).round() / 100.0),
            ),
        ];
        if let Some(currency) = &self.currency {
            properties.push(("currency".to_owned(), Value::Text(currency.clone())));
        }
        properties.push(("checkout_started".to_owned(), Value::Bool(self.checkout)));
        properties.push(("products".to_owned(), Value::List(products)));
        Some((Properties(properties), since))
    }

    fn line(&mut self, product_id: &str) -> Option<&mut Item> {
        self.items
            .iter_mut()
            .find(|item| item.product_id == product_id)
    }

    fn note_currency(&mut self, properties: &Properties) {
        if let Some(Value::Text(currency)) = properties.get("currency") {
            self.currency = Some(currency.clone());
        }
    }

    /// The stored form: a header line, then a line per item, tab-separated.
    pub fn encode(&self) -> String {
        let flags = match (self.checkout, self.reported) {
            (true, true) => "cr",
            (true, false) => "c",
            (false, true) => "r",
            (false, false) => "-",
        };
        let mut out = format!(
            "k1\t{}\t{}\t{flags}\t{}",
            clean(&self.id),
            self.active_ms,
            self.currency.as_deref().map(clean).unwrap_or_default()
        );
        for item in &self.items {
            let price = item.price.map(super::json::number).unwrap_or_default();
            out.push_str(&format!(
                "\n{}\t{price}\t{}\t{}",
                item.quantity,
                clean(&item.product_id),
                item.name.as_deref().map(clean).unwrap_or_default()
            ));
        }
        out
    }

    /// Reads [`Cart::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next()?.split('\t').collect();
        let [version, id, active_ms, flags, currency] = header[..] else {
            return None;
        };
        if version != "k1" {
            return None;
        }
        let mut cart = Cart::new(id.to_owned(), active_ms.parse().ok()?);
        cart.checkout = flags.contains('c');
        cart.reported = flags.contains('r');
        cart.currency = (!currency.is_empty()).then(|| currency.to_owned());
        for line in lines {
            let [quantity, price, product_id, name] = line.split('\t').collect::<Vec<_>>()[..]
            else {
                return None;
            };
            cart.items.push(Item {
                product_id: product_id.to_owned(),
                name: (!name.is_empty()).then(|| name.to_owned()),
                price: super::json::decimal(price),
                quantity: quantity.parse().ok()?,
            });
        }
        Some(cart)
    }
}

impl Item {
    fn from_properties(properties: &Properties) -> Option<Self> {
        Some(Item {
            product_id: product_id(properties)?,
            name: match properties.get("name") {
                Some(Value::Text(name)) => Some(name.clone()),
                _ => None,
            },
            price: match properties.get("price") {
                Some(Value::Number(price)) => Some(*price),
                _ => None,
            },
            quantity: properties.get("quantity").map_or(1, count).max(1),
        })
    }

    fn to_value(&self) -> Value {
        let mut product = vec![(
            "product_id".to_owned(),
            Value::Text(self.product_id.clone()),
        )];
        if let Some(name) = &self.name {
            product.push(("name".to_owned(), Value::Text(name.clone())));
        }
        if let Some(price) = self.price {
            product.push(("price".to_owned(), Value::Number(price)));
        }
        product.push((
            "quantity".to_owned(),
            Value::Number(f64::from(self.quantity)),
        ));
        Value::Object(Properties(product))
    }
}

/// The product's id: `product_id`, else `sku`, as text.
fn product_id(properties: &Properties) -> Option<String> {
    ["product_id", "sku"]
        .iter()
        .find_map(|key| match properties.get(key) {
            Some(Value::Text(id)) if !id.trim().is_empty() => Some(id.trim().to_owned()),
            Some(Value::Number(id)) => Some(super::json::number(*id)),
            _ => None,
        })
}

/// A quantity as a whole count; the spec checks already refused anything else.
fn count(value: &Value) -> u32 {
    match value {
        Value::Number(n) if *n >= 0.0 => n.min(f64::from(u32::MAX)) as u32,
        _ => 1,
    }
}

/// Text as it can sit in one tab-separated field.
fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;

    fn added(id: &str, price: f64, quantity: f64) -> Properties {
        Properties::from([
            ("product_id", Value::Text(id.into())),
            ("name", Value::Text(format!("Item {id}"))),
            ("price", Value::Number(price)),
            ("quantity", Value::Number(quantity)),
            ("currency", Value::Text("AED".into())),
        ])
    }

    fn cart_with_two_lines() -> Cart {
        let mut cart = Cart::new("c1".into(), 0);
        cart.apply("Product Added", &added("p1", 24.5, 2.0), 0);
        cart.apply("Product Added", &added("p2", 10.0, 1.0), MINUTE);
        cart
    }

    #[test]
    fn an_idle_cart_with_items_is_abandoned_once_with_its_value() {
        let cart = cart_with_two_lines();
        assert!(
            cart.abandoned(30 * MINUTE, 30 * MINUTE).is_none(),
            "not yet idle"
        );
        let (properties, at) = cart.abandoned(90 * MINUTE, 30 * MINUTE).unwrap();
        assert_eq!(at, 31 * MINUTE, "dated when it went idle, not when noticed");
        assert_eq!(properties.get("value"), Some(&Value::Number(59.0)));
        assert_eq!(properties.get("currency"), Some(&Value::Text("AED".into())));
        let Some(Value::List(products)) = properties.get("products") else {
            panic!("products");
        };
        assert_eq!(products.len(), 2);

        let mut reported = cart.clone();
        reported.reported = true;
        assert!(reported.abandoned(90 * MINUTE, 30 * MINUTE).is_none());
        let mut back = reported;
        back.apply("Product Added", &added("p3", 5.0, 1.0), 100 * MINUTE);
        assert!(
            back.abandoned(131 * MINUTE, 30 * MINUTE).is_some(),
            "a changed cart left idle again counts again"
        );
    }

    #[test]
    fn removing_and_ordering_empty_the_cart() {
        let mut cart = cart_with_two_lines();
        let one = Properties::from([
            ("product_id", Value::Text("p1".into())),
            ("quantity", Value::Number(1.0)),
        ]);
        cart.apply("Product Removed", &one, 2 * MINUTE);
        assert_eq!(cart.items[0].quantity, 1);
        let all = Properties::from([("product_id", Value::Text("p2".into()))]);
        cart.apply("Product Removed", &all, 2 * MINUTE);
        cart.apply("Product Removed", &one, 2 * MINUTE);
        assert!(cart.items.is_empty());
        assert!(
            cart.abandoned(u64::MAX, 1).is_none(),
            "an empty cart is not abandoned"
        );
        assert!(matches!(
            cart_with_two_lines().apply("Order Completed", &Properties::default(), 0),
            Change::Ordered
        ));
    }

    #[test]
    fn the_shops_cart_view_and_ids_win() {
        let mut cart = cart_with_two_lines();
        let viewed = Properties::from([
            ("cart_id", Value::Text("shop-cart-9".into())),
            (
                "products",
                Value::List(vec![Value::Object(added("p9", 3.0, 4.0))]),
            ),
        ]);
        cart.apply("Cart Viewed", &viewed, 5 * MINUTE);
        assert_eq!(cart.id, "shop-cart-9");
        assert_eq!(cart.items.len(), 1);
        assert_eq!(cart.items[0].quantity, 4);
        assert!(matches!(
            cart.apply("Product Viewed", &added("p1", 1.0, 1.0), 6 * MINUTE),
            Change::None
        ));
        assert_eq!(
            cart.active_ms,
            5 * MINUTE,
            "other events are not cart changes"
        );
    }

    #[test]
    fn the_stored_form_round_trips_and_refuses_garbage() {
        let mut cart = cart_with_two_lines();
        cart.checkout = true;
        cart.items[0].name = Some("tab\there".into());
        let decoded = Cart::decode(&cart.encode()).unwrap();
        assert_eq!(decoded.items[0].name.as_deref(), Some("tab here"));
        assert_eq!(decoded.items[1], cart.items[1]);
        assert!(decoded.checkout && !decoded.reported);
        assert_eq!(Cart::decode("k2\tc\t0\t-\t"), None);
        assert_eq!(Cart::decode("k1\tc\tnot-a-time\t-\t"), None);
        assert_eq!(Cart::decode("k1\tc\t0\t-\t\nbroken line"), None);
    }
}
