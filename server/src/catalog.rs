//! The shop's catalogue: read from a JSON product feed, kept in `catalog_products`,
//! and read back by `build-model` for the model file's product table.
//!
//! # The feed
//!
//! A JSON array of products, or an object with a `products` array (the demo shop's
//! `www/shop/catalog.json`). An object may also give a default currency as
//! `shop.currency` or `currency`. Each product:
//!
//! | field | required | what it is |
//! |---|---|---|
//! | `id` | yes | the shop's product id, as events send it in `product_id` (≤ 100 characters) |
//! | `name` | yes | a string (English), or `{"en": …, "ar": …}` with `en` required; `name_ar` is also read |
//! | `price` | yes | a non-negative number in major units (`89`, `38.5`), or a string such as `"89.00"` or `"89.00 AED"` (Google Merchant) |
//! | `currency` | yes, unless the feed's default or the price string gives it | ISO 4217, such as `AED` |
//! | `category` | no | the category id (a slug such as `kitchen`); none by default |
//! | `url` (or `link`) | no | the product page |
//! | `image` (or `image_url`, `image_link`) | no | the product's image |
//! | `availability` | no | `in_stock` (default), `out_of_stock`, `preorder` or `backorder` (Google Merchant; spaces for underscores also do); or `in_stock: true/false`, or `stock`: a count, in stock above 0 |
//! | `description` | no | a string, or `{"en": …, "ar": …}` |
//! | `brand`, `sku` | no | strings |
//!
//! Other fields are ignored. Prices are kept in minor units: two decimals for most
//! currencies, none for `JPY`, `KRW` and the like, three for `BHD`, `KWD`, `OMR`,
//! `JOD`, `IQD`, `LYD` and `TND`; a price with more decimals is rounded. A feed
//! with no products, or with one id twice, is refused, and every error names the
//! field: `products[3].price: must be a non-negative number, got "abc"`.
//!
//! An import replaces the whole catalogue in one transaction, so readers see the old
//! catalogue or the new one, never a mix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};
use serde_json::Value;

use crate::cli::ImportCatalogArgs;
use crate::fields::{quote, Fields, Invalid};
use crate::store::Store;
use crate::{datetime, Error};

/// The longest product id, as in events.
pub const MAX_ID_CHARS: usize = crate::ingest::MAX_ID_CHARS;

/// The longest name, category, brand or sku, in characters.
pub const MAX_NAME_CHARS: usize = 300;

/// The longest description, url or image url, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// The largest price in minor units: beyond it a JSON number loses whole units.
const MAX_PRICE_MINOR: f64 = 9_007_199_254_740_991.0;

/// One product of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogProduct {
    /// The shop's product id (`product_id` in events).
    pub id: String,
    /// The name in English.
    pub name_en: String,
    /// The name in Arabic; empty when the feed has none.
    pub name_ar: String,
    /// The description in English, if any.
    pub description_en: Option<String>,
    /// The description in Arabic, if any.
    pub description_ar: Option<String>,
    /// The price in minor units of `currency`.
    pub price_minor: u64,
    /// The ISO 4217 code, in capitals.
    pub currency: String,
    /// The category id; empty for none.
    pub category: String,
    /// The product page; empty for none.
    pub url: String,
    /// The image; empty for none.
    pub image_url: String,
    /// Whether it can be bought now.
    pub in_stock: bool,
    /// The brand, if any.
    pub brand: Option<String>,
    /// The shop's stock-keeping unit, if any.
    pub sku: Option<String>,
}

/// Why a catalogue file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read the catalogue {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("the catalogue {file} is not valid JSON: {source}")]
    Json {
        /// The file.
        file: PathBuf,
        /// Where and why parsing stopped.
        source: serde_json::Error,
    },
    /// A field is missing or wrong.
    #[error("the catalogue {file} was refused: {invalid}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The field and the problem.
        invalid: Invalid,
    },
}

/// Reads and checks the catalogue file at `path`.
pub fn load(path: &Path) -> Result<Vec<CatalogProduct>, CatalogError> {
    let text = std::fs::read(path).map_err(|source| CatalogError::Read {
        file: path.to_owned(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&text).map_err(|source| CatalogError::Json {
        file: path.to_owned(),
        source,
    })?;
    parse(&value).map_err(|invalid| CatalogError::Invalid {
        file: path.to_owned(),
        invalid,
    })
}

/// The products of a feed, checked, in the feed's order.
pub fn parse(feed: &Value) -> Result<Vec<CatalogProduct>, Invalid> {
    let (list, path, default_currency) = match feed {
        Value::Array(list) => (list, "products", None),
        Value::Object(_) => {
            let top = Fields::top(feed, "catalogue")?;
            let shop_currency = match top.optional_object("shop")? {
                Some(shop) => shop
                    .get("currency")
                    .map(|v| currency(&shop, "currency", v))
                    .transpose()?,
                None => None,
            };
            let currency = match shop_currency {
                Some(c) => Some(c),
                None => top
                    .get("currency")
                    .map(|v| currency(&top, "currency", v))
                    .transpose()?,
            };
            let list = top
                .required("products")?
                .as_array()
                .ok_or_else(|| top.invalid_field("products", "must be an array of products"))?;
            (list, "products", currency)
        }
        other => {
            return Err(Invalid::new(
                "catalogue",
                format!(
                    "must be an array of products or an object with `products`, got {}",
                    quote(other)
                ),
            ))
        }
    };
    if list.is_empty() {
        return Err(Invalid::new(
            path,
            "has no products; a catalogue needs at least one",
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(list.len());
    let mut products = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let product = parse_product(value, &at, default_currency.as_deref())?;
        if let Some(first) = seen.get(product.id.as_str()) {
            return Err(Invalid::new(
                format!("{at}.id"),
                format!(
                    "{} appears twice (first at {path}[{first}]); ids must be unique",
                    quote(&Value::String(product.id.clone()))
                ),
            ));
        }
        seen.insert(value["id"].as_str().unwrap_or_default(), i);
        products.push(product);
    }
    Ok(products)
}

fn parse_product(
    value: &Value,
    at: &str,
    default_currency: Option<&str>,
) -> Result<CatalogProduct, Invalid> {
    let fields = Fields::of(value, at)?;
    let id = fields.required_str("id", MAX_ID_CHARS)?.to_owned();
    let (name_en, mut name_ar) = texts(&fields, "name", MAX_NAME_CHARS)?;
    let name_en = name_en.ok_or_else(|| match fields.get("name") {
        Some(Value::Object(_)) => Invalid::new(format!("{at}.name.en"), "is required"),
        _ => fields.invalid_field("name", "is required"),
    })?;
    if name_ar.is_none() {
        name_ar = fields
            .optional_str("name_ar", MAX_NAME_CHARS)?
            .map(str::to_owned);
    }
    let (description_en, description_ar) = texts(&fields, "description", MAX_TEXT_CHARS)?;

    let price_value = fields.required("price")?;
    let (amount, price_currency) = price(&fields, price_value)?;
    let currency = match fields.get("currency") {
        Some(v) => currency(&fields, "currency", v)?,
        None => price_currency
            .or_else(|| default_currency.map(str::to_owned))
            .ok_or_else(|| {
                fields.invalid_field(
                    "currency",
                    "is required (on the product, in the price as \"89.00 AED\", or as the feed's shop.currency)",
                )
            })?,
    };
    let minor = (amount * 10f64.powi(minor_digits(&currency))).round();
    if minor > MAX_PRICE_MINOR {
        return Err(
            fields.invalid_field("price", format!("is too large, got {}", quote(price_value)))
        );
    }

    let text = |names: &[&str], max| -> Result<String, Invalid> {
        for name in names {
            if let Some(found) = fields.optional_str(name, max)? {
                return Ok(found.to_owned());
            }
        }
        Ok(String::new())
    };
    Ok(CatalogProduct {
        name_en,
        name_ar: name_ar.unwrap_or_default(),
        description_en,
        description_ar,
        // Checked non-negative and at most 2^53 above.
        price_minor: minor as u64,
        currency,
        category: text(&["category"], MAX_NAME_CHARS)?,
        url: text(&["url", "link"], MAX_TEXT_CHARS)?,
        image_url: text(&["image", "image_url", "image_link"], MAX_TEXT_CHARS)?,
        in_stock: in_stock(&fields)?,
        brand: fields
            .optional_str("brand", MAX_NAME_CHARS)?
            .map(str::to_owned),
        sku: fields
            .optional_str("sku", MAX_NAME_CHARS)?
            .map(str::to_owned),
        id,
    })
}

/// A text that is a string (English) or `{"en", "ar"}`.
fn texts(
    fields: &Fields<'_>,
    name: &str,
    max: usize,
) -> Result<(Option<String>, Option<String>), Invalid> {
    match fields.get(name) {
        None => Ok((None, None)),
        Some(Value::String(_)) => Ok((fields.optional_str(name, max)?.map(str::to_owned), None)),
        Some(Value::Object(_)) => {
            let inner = fields.object(name)?;
            Ok((
                inner.optional_str("en", max)?.map(str::to_owned),
                inner.optional_str("ar", max)?.map(str::to_owned),
            ))
        }
        Some(other) => Err(fields.invalid_field(
            name,
            format!(
                "must be a string or an object {{\"en\": …, \"ar\": …}}, got {}",
                quote(other)
            ),
        )),
    }
}

/// A price in major units, and the currency a `"89.00 AED"` string names.
fn price(fields: &Fields<'_>, value: &Value) -> Result<(f64, Option<String>), Invalid> {
    let refuse = || {
        fields.invalid_field(
            "price",
            format!(
                "must be a non-negative number (or a string such as \"89.00 AED\"), got {}",
                quote(value)
            ),
        )
    };
    let (amount, code) = match value {
        Value::Number(n) => (n.as_f64().ok_or_else(refuse)?, None),
        Value::String(text) => {
            let mut parts = text.split_whitespace();
            let number = parts.next().ok_or_else(refuse)?;
            let code = parts.next();
            if parts.next().is_some() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(refuse());
            }
            let amount: f64 = number.parse().map_err(|_| refuse())?;
            let code = code
                .map(|c| currency(fields, "price", &Value::String(c.to_owned())))
                .transpose()?;
            (amount, code)
        }
        _ => return Err(refuse()),
    };
    if !amount.is_finite() || amount < 0.0 {
        return Err(refuse());
    }
    Ok((amount, code))
}

/// A three-letter currency code, in capitals.
fn currency(fields: &Fields<'_>, name: &str, value: &Value) -> Result<String, Invalid> {
    match value.as_str() {
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(code.to_ascii_uppercase())
        }
        _ => Err(fields.invalid_field(
            name,
            format!(
                "must name a three-letter ISO 4217 currency such as \"AED\", got {}",
                quote(value)
            ),
        )),
    }
}

/// How many decimals the currency's minor unit has (ISO 4217).
pub fn minor_digits(currency: &str) -> i32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn in_stock(fields: &Fields<'_>) -> Result<bool, Invalid> {
    if let Some(value) = fields.get("availability") {
        let text = value
            .as_str()
            .map(|t| t.trim().to_ascii_lowercase().replace(' ', "_"));
        return match text.as_deref() {
            Some("in_stock" | "preorder" | "backorder") => Ok(true),
            Some("out_of_stock") => Ok(false),
            _ => Err(fields.invalid_field(
                "availability",
                format!(
                    "must be one of in_stock, out_of_stock, preorder, backorder, got {}",
                    quote(value)
                ),
            )),
        };
    }
    if fields.get("in_stock").is_some() {
        return fields.bool("in_stock");
    }
    match fields.get("stock") {
        None => Ok(true),
        Some(value) => match value.as_f64() {
            Some(count) if count.is_finite() => Ok(count > 0.0),
            _ => Err(fields.invalid_field(
                "stock",
                format!("must be a number of items, got {}", quote(value)),
            )),
        },
    }
}

/// Replaces the stored catalogue with `products`; the caller's transaction makes it
/// atomic. Returns how many products were stored.
pub fn replace(
    conn: &Connection,
    products: &[CatalogProduct],
    imported_at: &str,
) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM catalog_products", [])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO catalog_products (id, name_en, name_ar, description_en, description_ar,
             price_minor, currency, category, url, image_url, in_stock, brand, sku, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for p in products {
        insert.execute(params![
            p.id,
            p.name_en,
            p.name_ar,
            p.description_en,
            p.description_ar,
            // At most 2^53, so it fits.
            p.price_minor as i64,
            p.currency,
            p.category,
            p.url,
            p.image_url,
            p.in_stock,
            p.brand,
            p.sku,
            imported_at,
        ])?;
    }
    Ok(products.len())
}

/// The stored catalogue, in ascending byte order of id (the model's order).
pub fn read_all(conn: &Connection) -> rusqlite::Result<Vec<CatalogProduct>> {
    let mut select = conn.prepare(
        "SELECT id, name_en, name_ar, description_en, description_ar, price_minor, currency,
                category, url, image_url, in_stock, brand, sku
         FROM catalog_products ORDER BY id",
    )?;
    let rows = select.query_map([], |row| {
        Ok(CatalogProduct {
            id: row.get(0)?,
            name_en: row.get(1)?,
            name_ar: row.get(2)?,
            description_en: row.get(3)?,
            description_ar: row.get(4)?,
            price_minor: row.get::<_, i64>(5)?.max(0) as u64,
            currency: row.get(6)?,
            category: row.get(7)?,
            url: row.get(8)?,
            image_url: row.get(9)?,
            in_stock: row.get(10)?,
            brand: row.get(11)?,
            sku: row.get(12)?,
        })
    })?;
    rows.collect()
}

/// Stores `products` as the whole catalogue, in one write job.
pub async fn import(store: &Store, products: Vec<CatalogProduct>) -> Result<usize, Error> {
    let imported_at = datetime::now();
    Ok(store
        .write(move |conn| Ok(replace(conn, &products, &imported_at)?))
        .await?)
}

/// `souk-server import-catalog`: reads the feed, then replaces the stored catalogue.
pub async fn run(args: &ImportCatalogArgs) -> Result<(), Error> {
    let products = load(&args.file)?;
    let store = Store::open(&args.db)?;
    let stored = import(&store, products).await;
    store.close().await;
    let stored = stored?;
    eprintln!(
        "imported {stored} products from {} into {}",
        args.file.display(),
        args.db.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(feed: Value) -> String {
        parse(&feed).unwrap_err().to_string()
    }

    #[test]
    fn the_demo_shops_feed_is_read_whole() {
        let text = include_str!("../../www/shop/catalog.json");
        let products = parse(&serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(products.len(), 64);
        let pot = &products[0];
        assert_eq!(pot.id, "p001");
        assert_eq!(pot.name_en, "Speckled Enamel Coffee Pot");
        assert!(pot.name_ar.starts_with("إبريق"));
        assert_eq!((pot.price_minor, pot.currency.as_str()), (8900, "AED"));
        assert_eq!(pot.category, "kitchen");
        assert_eq!(pot.url, "/product.html?id=p001");
        assert_eq!(pot.image_url, "/shop/img/p001.svg");
        assert_eq!(pot.sku.as_deref(), Some("DN-KIT-001"));
        assert!(pot.in_stock);
        assert_eq!(products.iter().filter(|p| !p.in_stock).count(), 5);
        let mug = products.iter().find(|p| p.id == "p011").unwrap();
        assert_eq!(mug.price_minor, 3850);
    }

    #[test]
    fn a_minimal_generic_feed_is_enough() {
        let products = parse(&json!([
            {"id": "tea", "name": "Mint tea", "price": "12.50 SAR"},
            {"id": "cup", "name": "Cup", "price": 3, "currency": "kwd", "stock": 0,
             "link": "/cup", "image_link": "/cup.jpg"},
        ]))
        .unwrap();
        assert_eq!(products[0].price_minor, 1250);
        assert_eq!(products[0].currency, "SAR");
        assert_eq!(products[0].category, "");
        assert!(products[0].in_stock);
        assert_eq!(
            (products[1].price_minor, products[1].currency.as_str()),
            (3000, "KWD")
        );
        assert!(!products[1].in_stock);
        assert_eq!(
            (products[1].url.as_str(), products[1].image_url.as_str()),
            ("/cup", "/cup.jpg")
        );
    }

    #[test]
    fn errors_name_the_field() {
        let feed = |product: Value| json!({"shop": {"currency": "AED"}, "products": [product]});
        assert_eq!(
            error(feed(json!({"id": "a", "name": "A", "price": "abc"}))),
            r#"products[0].price: must be a non-negative number (or a string such as "89.00 AED"), got "abc""#
        );
        assert_eq!(
            error(feed(json!({"id": "a", "name": {"ar": "أ"}, "price": 1}))),
            "products[0].name.en: is required"
        );
        assert_eq!(
            error(feed(json!({"name": "A", "price": 1}))),
            "products[0].id: is required"
        );
        assert!(error(json!([{"id": "a", "name": "A", "price": 1}]))
            .starts_with("products[0].currency: is required"));
        assert!(error(feed(
            json!({"id": "a", "name": "A", "price": 1, "availability": "soon"})
        ))
        .starts_with("products[0].availability: must be one of"));
        assert!(error(json!({"products": []})).contains("has no products"));
        let twice = json!({"currency": "AED", "products": [
            {"id": "a", "name": "A", "price": 1}, {"id": "a", "name": "B", "price": 2}]});
        assert_eq!(
            error(twice),
            r#"products[1].id: "a" appears twice (first at products[0]); ids must be unique"#
        );
    }
}
