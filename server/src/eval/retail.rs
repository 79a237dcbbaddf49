//! Reading a shop's invoice lines (the UCI "Online Retail" layout) into what souk
//! takes from a live shop: a catalogue feed and `Order Completed` events.
//!
//! # The rules
//!
//! Columns: `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,
//! CustomerID,Country`, gzip or plain CSV.
//!
//! - A line is a *sale* when its invoice number is all digits (a `C` invoice is a
//!   cancellation, an `A` one a bad-debt adjustment), its quantity and unit price
//!   are above 0, and its stock code is a product.
//! - A stock code is a *product* when it starts with five digits (`85123A`,
//!   `22423`); `POST`, `DOT`, `M`, `D`, `C2`, `S`, `BANK CHARGES`, `AMAZONFEE`,
//!   `CRUK`, `PADS`, `B`, `gift_0001_*`, `DCGS*` and the like are postage, fees,
//!   discounts and manual entries.
//! - The catalogue holds every product with a sale, with or without a customer:
//!   its name is its most frequent description (trimmed; the code when it has
//!   none), its price the unit price of its latest sale in pence (GBP), and its
//!   category [`category_of`] its name.
//! - An *order* is an invoice of a known customer (`CustomerID`, `.0` dropped),
//!   with its sale lines; a product on several lines is one entry with the
//!   quantities summed. Guest invoices teach the catalogue but no one's taste.
//! - `InvoiceDate` is UK local time without a zone; it is read as UTC (an hour off
//!   in summer, the same for every line).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde_json::{json, Value};

/// Words that describe a product rather than say what it is: sizes, counts,
/// colours and styles. [`category_of`] skips them.
const NOT_A_KIND: &[&str] = &[
    "SET",
    "OF",
    "PACK",
    "SMALL",
    "LARGE",
    "MEDIUM",
    "MINI",
    "JUMBO",
    "BIG",
    "GIANT",
    "TINY",
    "WHITE",
    "BLACK",
    "RED",
    "PINK",
    "BLUE",
    "GREEN",
    "YELLOW",
    "ORANGE",
    "PURPLE",
    "IVORY",
    "CREAM",
    "GOLD",
    "SILVER",
    "GREY",
    "BROWN",
    "NATURAL",
    "CLEAR",
    "ASSORTED",
    "VINTAGE",
    "RETRO",
    "THE",
    "AND",
    "WITH",
    "NEW",
    "SWEETHEART",
    "COLOUR",
    "COLOURED",
    "SCANDINAVIAN",
];

/// One order: an invoice of a known customer, reduced to its sale lines.
#[derive(Debug, Clone)]
pub struct Order {
    /// The invoice number.
    pub invoice: String,
    /// The customer id.
    pub customer: String,
    /// When it was placed, RFC 3339 UTC.
    pub timestamp: String,
    /// The same, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Its products in first-line order: (stock code, quantity summed).
    pub lines: Vec<(String, u64)>,
}

/// What a file holds, read by the rules of the module's docs.
#[derive(Debug, Default)]
pub struct Shop {
    /// The catalogue feed (souk's JSON product feed shape), one product per code.
    pub feed: Vec<Value>,
    /// Each product's category, by stock code.
    pub categories: HashMap<String, String>,
    /// Each product's latest unit price in pence, by stock code.
    pub prices: HashMap<String, u64>,
    /// The orders, in file (time) order.
    pub orders: Vec<Order>,
    /// Lines read.
    pub rows: usize,
    /// Lines of cancellation and adjustment invoices.
    pub cancelled: usize,
    /// Other lines with a quantity or price of 0 or less.
    pub not_positive: usize,
    /// Lines whose stock code is not a product.
    pub not_products: usize,
    /// Sale lines without a customer.
    pub guests: usize,
}

/// Why the file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RetailError {
    /// It could not be opened or decompressed.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A line is not CSV of the expected columns.
    #[error("{file}, line {line}: {problem} (expected the columns InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country)")]
    Line {
        /// The file.
        file: String,
        /// The line, from 1 (the header).
        line: u64,
        /// What is wrong.
        problem: String,
    },
}

/// The category of a product named `name`: its first word of at least three
/// letters that is not a size, count, colour or style ([`NOT_A_KIND`]), in lower
/// case; `other` when it has none. `WHITE HANGING HEART T-LIGHT HOLDER` is
/// `hanging`, `JUMBO BAG RED RETROSPOT` is `bag`, `SET OF 3 CAKE TINS` is `cake`.
pub fn category_of(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphabetic())
        .find(|word| word.len() >= 3 && !NOT_A_KIND.contains(&word.to_ascii_uppercase().as_str()))
        .map_or_else(|| "other".to_owned(), str::to_ascii_lowercase)
}

/// Whether `code` is a product's stock code: five digits, then anything.
pub fn is_product(code: &str) -> bool {
    code.len() >= 5 && code.as_bytes()[..5].iter().all(u8::is_ascii_digit)
}

/// `2010-12-01 08:26:00` (or with `T`, or without seconds) as RFC 3339 UTC.
pub fn timestamp(local: &str) -> Option<String> {
    let text = local.trim().replace(' ', "T");
    let text = if text.len() == 16 {
        format!("{text}:00")
    } else {
        text
    };
    crate::datetime::normalize(&format!("{text}Z"))
}

/// Reads the invoice lines at `path` (gzip when it ends in `.gz`).
pub fn load(path: &Path) -> Result<Shop, RetailError> {
    let file = path.display().to_string();
    let opened = File::open(path).map_err(|source| RetailError::Read {
        file: file.clone(),
        source,
    })?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(opened)))
    } else {
        Box::new(BufReader::new(opened))
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let mut shop = Shop::default();
    // Per code: description counts, latest price.
    let mut names: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut order_of: HashMap<String, usize> = HashMap::new();
    let mut codes: Vec<String> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line();
        let more = csv.read_record(&mut record).map_err(|e| match e.kind() {
            csv::ErrorKind::Io(_) => RetailError::Read {
                file: file.clone(),
                source: std::io::Error::other(e.to_string()),
            },
            _ => RetailError::Line {
                file: file.clone(),
                line,
                problem: e.to_string(),
            },
        })?;
        if !more {
            break;
        }
        shop.rows += 1;
        let bad = |problem: &str| RetailError::Line {
            file: file.clone(),
            line,
            problem: problem.to_owned(),
        };
        if record.len() < 7 {
            return Err(bad("fewer than 7 fields"));
        }
        let invoice = record[0].trim();
        let code = record[1].trim();
        if invoice.is_empty() || !invoice.bytes().all(|b| b.is_ascii_digit()) {
            shop.cancelled += 1;
            continue;
        }
        let quantity: f64 = record[3]
            .trim()
            .parse()
            .map_err(|_| bad("Quantity is not a number"))?;
        let price: f64 = record[5]
            .trim()
            .parse()
            .map_err(|_| bad("UnitPrice is not a number"))?;
        if !(quantity > 0.0 && price > 0.0) {
            shop.not_positive += 1;
            continue;
        }
        if !is_product(code) {
            shop.not_products += 1;
            continue;
        }
        let Some(at) = timestamp(&record[4]) else {
            return Err(bad(
                "InvoiceDate is not a date and time such as 2010-12-01 08:26:00",
            ));
        };
        let description = record[2].trim();
        let counts = names.entry(code.to_owned()).or_insert_with(|| {
            codes.push(code.to_owned());
            HashMap::new()
        });
        if !description.is_empty() {
            *counts.entry(description.to_owned()).or_default() += 1;
        }
        shop.prices
            .insert(code.to_owned(), (price * 100.0).round() as u64);

        let customer = record[6].trim();
        let customer = customer.strip_suffix(".0").unwrap_or(customer);
        if customer.is_empty() {
            shop.guests += 1;
            continue;
        }
        let at_ms = crate::datetime::to_ms(&at).unwrap_or_default();
        let at_order = *order_of.entry(invoice.to_owned()).or_insert_with(|| {
            shop.orders.push(Order {
                invoice: invoice.to_owned(),
                customer: customer.to_owned(),
                timestamp: at,
                at_ms,
                lines: Vec::new(),
            });
            shop.orders.len() - 1
        });
        let order = &mut shop.orders[at_order];
        let quantity = quantity as u64;
        match order.lines.iter_mut().find(|(c, _)| c == code) {
            Some((_, q)) => *q += quantity,
            None => order.lines.push((code.to_owned(), quantity)),
        }
    }
    for code in codes {
        let counts = &names[&code];
        let name = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(code.as_str(), |(name, _)| name.as_str());
        let category = category_of(name);
        let price = shop.prices[&code];
        shop.feed.push(json!({
            "id": code,
            "name": name,
            "price": format!("{}.{:02}", price / 100, price % 100),
            "currency": "GBP",
            "category": category,
        }));
        shop.categories.insert(code, category);
    }
    Ok(shop)
}

/// `order` as the Segment `Order Completed` message a shop's backend (or the
/// plugin) would send for it.
pub fn order_completed(order: &Order, shop: &Shop) -> Value {
    let products: Vec<Value> = order
        .lines
        .iter()
        .map(|(code, quantity)| {
            let price = shop.prices.get(code).copied().unwrap_or_default();
            json!({
                "product_id": code,
                "category": shop.categories.get(code).map_or("other", String::as_str),
                "price": price as f64 / 100.0,
                "quantity": quantity,
            })
        })
        .collect();
    json!({
        "type": "track",
        "event": "Order Completed",
        "messageId": format!("retail-invoice-{}", order.invoice),
        "userId": order.customer,
        "timestamp": order.timestamp,
        "properties": {
            "order_id": order.invoice,
            "currency": "GBP",
            "products": products,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_skip_sizes_colours_and_counts() {
        assert_eq!(category_of("WHITE HANGING HEART T-LIGHT HOLDER"), "hanging");
        assert_eq!(category_of("JUMBO BAG RED RETROSPOT"), "bag");
        assert_eq!(category_of("SET OF 3 CAKE TINS PANTRY DESIGN"), "cake");
        assert_eq!(category_of("3 X 4"), "other");
    }

    #[test]
    fn product_codes_start_with_five_digits() {
        for code in ["85123A", "22423", "15056BL"] {
            assert!(is_product(code), "{code}");
        }
        for code in [
            "POST",
            "DOT",
            "M",
            "D",
            "C2",
            "BANK CHARGES",
            "gift_0001_10",
            "DCGS0003",
        ] {
            assert!(!is_product(code), "{code}");
        }
    }

    #[test]
    fn invoice_dates_become_utc() {
        assert_eq!(
            timestamp("2010-12-01 08:26:00").as_deref(),
            Some("2010-12-01T08:26:00.000Z")
        );
        assert_eq!(timestamp("nope"), None);
    }
}
