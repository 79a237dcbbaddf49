//! `souk-server import-pos`: point-of-sale sales from a CSV file, earned like online
//! orders.
//!
//! Each row becomes the body of a `POST /v1/orders` with `orderId` `pos:<sale_id>`,
//! is read by [`loyalty::Order::parse`] and earned by [`loyalty::post_order`] in one
//! write job of its own, exactly as the endpoint does: the same rules, the same
//! customer resolution through the identity graph, the same idempotency (key
//! `order:pos:<sale_id>`), so importing a file twice changes nothing.
//!
//! # The file
//!
//! UTF-8 CSV, comma-separated, with a header naming its columns in any order; cells
//! are trimmed, empty cells count as absent.
//!
//! | column | required | what |
//! |---|---|---|
//! | `sale_id` | yes | the POS sale id, ≤ 96 characters; the ledger keeps it as order `pos:<sale_id>` |
//! | `sold_at` | no | when, ISO 8601 with an offset (`2024-05-01T10:00:00Z`); the import time when empty |
//! | `customer_id` | one of these three | the shop's userId |
//! | `email` | | an email the identity graph links to a userId |
//! | `phone` | | a phone number the identity graph links to a userId |
//! | `subtotal` | yes | whole minor units (cents, fils) |
//! | `discount`, `tax`, `shipping` | no | whole minor units; 0 when empty |
//! | `tax_in_prices` | when `tax` is above 0 | `true`/`false` (also `1`/`0`, `yes`/`no`) |
//! | `currency` | yes | ISO 4217, such as `SAR` |
//!
//! The customer is the row's `customer_id` when given (a userId the graph does not
//! know yet gets a profile), else the userId the graph links to its `email`, else to
//! its `phone`. An email or phone no identified customer has is refused: the row does
//! not earn.
//!
//! A header without `sale_id`, `subtotal`, `currency` and at least one of
//! `customer_id`, `email` and `phone`, or with an unknown or repeated column, stops
//! the import before any row. A bad row is reported with its line number and skipped;
//! the other rows still import.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use souk::core::loyalty::Rules;

use crate::cli::ImportPosArgs;
use crate::fields::Invalid;
use crate::loyalty::{self, Failure};
use crate::store::{self, Store};
use crate::{datetime, Error};

/// Every column the file may have, and the `/v1/orders` field each one fills.
pub const COLUMNS: [(&str, &str); 11] = [
    ("sale_id", "orderId"),
    ("sold_at", "at"),
    ("customer_id", "userId"),
    ("email", "email"),
    ("phone", "phone"),
    ("subtotal", "subtotal"),
    ("discount", "discount"),
    ("tax", "tax"),
    ("tax_in_prices", "taxInPrices"),
    ("shipping", "shipping"),
    ("currency", "currency"),
];

/// What the ledger's order ids start with for POS sales.
pub const ORDER_PREFIX: &str = "pos:";

/// The longest sale id: with [`ORDER_PREFIX`] it fits an order id.
pub const MAX_SALE_ID_CHARS: usize = loyalty::MAX_ID_CHARS - ORDER_PREFIX.len();

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum PosError {
    /// The file could not be read.
    #[error("cannot read the sales file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The header is missing or wrong.
    #[error("the sales file {path} has a wrong header: {problem}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// A row that did not import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    /// What is wrong, naming the column: `subtotal: must be …`.
    pub problem: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Sales that earned now.
    pub imported: usize,
    /// Sales already in the ledger (an earlier import, or the same sale id twice).
    pub duplicates: usize,
    /// Rows skipped, in file order.
    pub refused: Vec<Refusal>,
}

/// The header's columns: for each known column, its index in a row.
fn read_header(header: &csv::StringRecord) -> Result<HashMap<&'static str, usize>, String> {
    if header.iter().all(str::is_empty) {
        return Err(format!(
            "the file is empty; its first line must name the columns, such as {}",
            COLUMNS.map(|(c, _)| c).join(",")
        ));
    }
    let mut index = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        let Some((column, _)) = COLUMNS.iter().find(|(c, _)| *c == name) else {
            return Err(format!(
                "unknown column {name:?}; the columns are {}",
                COLUMNS.map(|(c, _)| c).join(", ")
            ));
        };
        if index.insert(*column, i).is_some() {
            return Err(format!("column {name:?} appears twice"));
        }
    }
    for required in ["sale_id", "subtotal", "currency"] {
        if !index.contains_key(required) {
            return Err(format!("column {required:?} is missing"));
        }
    }
    if !["customer_id", "email", "phone"]
        .iter()
        .any(|c| index.contains_key(c))
    {
        return Err("name the customer: one of the columns \"customer_id\", \"email\" or \"phone\" is required".to_owned());
    }
    Ok(index)
}

/// `problem` (which names a `/v1/orders` field first, as `field: …`) naming the
/// CSV column instead.
fn in_columns(problem: &str) -> String {
    if let Some((field, rest)) = problem.split_once(':') {
        if let Some((column, _)) = COLUMNS.iter().find(|(_, f)| *f == field) {
            return format!("{column}:{rest}");
        }
    }
    problem.to_owned()
}

/// A cell as the JSON value `/v1/orders` would get: amounts as numbers when they
/// are whole numbers, `tax_in_prices` as a boolean when it reads as one, anything
/// else as the text, for [`loyalty::Order::parse`] to judge.
fn cell_value(column: &str, cell: &str) -> Value {
    match column {
        "subtotal" | "discount" | "tax" | "shipping" => match cell.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(cell),
        },
        "tax_in_prices" => match cell.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" => Value::Bool(false),
            _ => Value::from(cell),
        },
        "sale_id" => Value::from([ORDER_PREFIX, cell].concat()),
        _ => Value::from(cell),
    }
}

/// The order a row stands for, or what is wrong with it.
fn row_order(
    index: &HashMap<&'static str, usize>,
    record: &csv::StringRecord,
) -> Result<loyalty::Order, String> {
    let mut body = Map::new();
    for (column, field) in COLUMNS {
        let Some(cell) = index.get(column).and_then(|&i| record.get(i)) else {
            continue;
        };
        if cell.is_empty() {
            continue;
        }
        if column == "sale_id" && cell.chars().count() > MAX_SALE_ID_CHARS {
            return Err(format!(
                "sale_id: must be at most {MAX_SALE_ID_CHARS} characters"
            ));
        }
        body.insert(field.to_owned(), cell_value(column, cell));
    }
    if !body.contains_key("orderId") {
        return Err("sale_id: is required".to_owned());
    }
    loyalty::Order::parse(&Value::Object(body))
        .map_err(|Invalid { path, problem }| in_columns(&format!("{path}: {problem}")))
}

/// Line numbers of records' byte offsets, counted from `\n` alone (the csv crate's
/// own count is off for CRLF files, which POS exports often are). Offsets must not
/// go back.
struct Lines<'a> {
    data: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(data: &'a [u8]) -> Lines<'a> {
        Lines {
            data,
            byte: 0,
            line: 1,
        }
    }

    /// The line holding byte `offset`.
    fn at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .clamp(self.byte, self.data.len());
        // A record never starts with a line end, but the csv crate may place its
        // start before the end of the line (or the blank lines) in front of it.
        while matches!(self.data.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        let newlines = self.data[self.byte..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines as u64;
        self.byte = offset;
        self.line
    }
}

/// Imports the sales in `data` (the file's bytes) into `store`, each row in one write
/// job, earning by `rules` as of `now_ms`.
pub async fn import(
    store: &Store,
    rules: Arc<Rules>,
    data: &[u8],
    now_ms: u64,
) -> Result<Result<Report, String>, store::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let header = match reader.headers() {
        Ok(header) => header.clone(),
        Err(e) => return Ok(Err(e.to_string())),
    };
    let index = match read_header(&header) {
        Ok(index) => index,
        Err(problem) => return Ok(Err(problem)),
    };
    let mut report = Report::default();
    let mut record = csv::StringRecord::new();
    let mut lines = Lines::new(data);
    loop {
        let start = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.at(e.position().map_or(start, csv::Position::byte));
                let problem = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
                    _ => e.to_string(),
                };
                report.refused.push(Refusal { line, problem });
                continue;
            }
        }
        let line = lines.at(record.position().map_or(start, csv::Position::byte));
        if record.len() != header.len() {
            report.refused.push(Refusal {
                line,
                problem: format!(
                    "has {} cells, the header has {}",
                    record.len(),
                    header.len()
                ),
            });
            continue;
        }
        let order = match row_order(&index, &record) {
            Ok(order) => order,
            Err(problem) => {
                report.refused.push(Refusal { line, problem });
                continue;
            }
        };
        let rules = Arc::clone(&rules);
        // The same job as `POST /v1/orders`: a refusal commits what was written
        // before it (a due expiry), a failure rolls the job back.
        let posted = store
            .write(
                move |conn| match loyalty::post_order(conn, &rules, &order, now_ms) {
                    Ok((created, _)) => Ok(Ok(created)),
                    Err(Failure::Refused(refusal)) => Ok(Err(refusal.message().to_owned())),
                    Err(Failure::Db(e)) => Err(e.into()),
                    Err(Failure::Broken(problem)) => Err(store::Error::Invariant(problem)),
                },
            )
            .await?;
        match posted {
            Ok(true) => report.imported += 1,
            Ok(false) => report.duplicates += 1,
            Err(problem) => report.refused.push(Refusal {
                line,
                problem: in_columns(&problem),
            }),
        }
    }
    Ok(Ok(report))
}

/// Reads the file at `path`; the loyalty rules at `rules` (the default programme
/// when `None`).
fn inputs(path: &Path, rules: Option<&Path>) -> Result<(Vec<u8>, Rules), Error> {
    let data = std::fs::read(path).map_err(|source| PosError::Read {
        path: path.to_owned(),
        source,
    })?;
    let rules = match rules {
        Some(file) => crate::rules::load(file)?,
        None => Rules::default(),
    };
    Ok((data, rules))
}

/// `souk-server import-pos`: imports, reports each refused row on stderr and prints
/// the summary on stdout.
pub async fn run(args: &ImportPosArgs) -> Result<(), Error> {
    let (data, rules) = inputs(&args.file, args.loyalty_rules.as_deref())?;
    let store = Store::open(&args.db)?;
    let result = import(&store, Arc::new(rules), &data, datetime::now_ms()).await;
    store.close().await;
    let report = result?.map_err(|problem| PosError::Header {
        path: args.file.clone(),
        problem,
    })?;
    for refusal in &report.refused {
        eprintln!(
            "{} line {}: {}",
            args.file.display(),
            refusal.line,
            refusal.problem
        );
    }
    println!(
        "imported {}, duplicates {}, refused {} (from {} into {})",
        report.imported,
        report.duplicates,
        report.refused.len(),
        args.file.display(),
        args.db.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> Result<HashMap<&'static str, usize>, String> {
        read_header(&line.split(',').collect::<csv::StringRecord>())
    }

    #[test]
    fn the_header_needs_the_sale_the_money_and_a_customer() {
        assert!(header("sale_id,subtotal,currency,email").is_ok());
        assert!(header("SALE_ID,Subtotal,currency,phone").is_ok());
        let missing = header("sale_id,subtotal,email").unwrap_err();
        assert!(missing.contains("\"currency\" is missing"), "{missing}");
        let nobody = header("sale_id,subtotal,currency").unwrap_err();
        assert!(nobody.contains("customer_id"), "{nobody}");
        let typo = header("sale_id,subtotl,currency,email").unwrap_err();
        assert!(typo.contains("unknown column \"subtotl\""), "{typo}");
        let twice = header("sale_id,subtotal,currency,email,email").unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
    }

    #[test]
    fn problems_name_the_csv_column() {
        assert_eq!(
            in_columns("taxInPrices: is required"),
            "tax_in_prices: is required"
        );
        assert_eq!(in_columns("orderId: taken"), "sale_id: taken");
        assert_eq!(in_columns("email: unknown"), "email: unknown");
        assert_eq!(in_columns("no colon"), "no colon");
    }
}
