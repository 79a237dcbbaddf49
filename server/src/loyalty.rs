//! The loyalty ledger: orders, refunds, adjustments and redemptions appended to each
//! customer's points ledger, and the coupons that redemptions issue.
//!
//! Every rule comes from [`souk::core::loyalty`]; this module only reads requests,
//! finds the customer, loads the ledger and stores what the rules return. A customer
//! is a profile's `user_id` in the identity graph ([`identity`]). Each operation runs
//! in one [`Store::write`](crate::store::Store::write) job, so two operations on one
//! ledger never interleave: concurrent redemptions cannot overspend.
//!
//! Before it appends anything for a customer, an operation appends the ledger's due
//! [`Account::expiry_entry`], so lapsed points are never spent nor revived. A resent
//! order, refund or adjustment (same idempotency key) appends nothing and answers what
//! the first one stored.

use axum::http::StatusCode;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};
use souk::core::loyalty::{self, Account, Action, Entry, Kind, LoyaltyError, OrderAmounts, Rules};
use souk::core::time::iso8601;

use crate::fields::{quote, Fields, Invalid};
use crate::http::ApiError;
use crate::identity::{self, normalize_email, normalize_phone, EMAIL, PHONE};
use crate::rules::{reward_from_json, reward_json};

/// The largest body of a loyalty request.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The longest order, refund, adjustment and user id.
pub const MAX_ID_CHARS: usize = 100;

/// The longest adjustment reason.
pub const MAX_REASON_CHARS: usize = 500;

/// The largest amount in minor units, and the most points one adjustment moves.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// How many of the latest entries and coupons the shopper's view lists.
pub const RECENT: usize = 20;

/// Why an operation did not happen.
#[derive(Debug)]
pub enum Failure {
    /// The database failed; the job is rolled back.
    Db(rusqlite::Error),
    /// The request was refused; what the job wrote before (a due expiry) stands.
    Refused(ApiError),
    /// A stored ledger broke an invariant; the job is rolled back.
    Broken(String),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<Invalid> for Failure {
    fn from(invalid: Invalid) -> Self {
        Failure::Refused(invalid.into())
    }
}

fn refused(status: StatusCode, message: impl Into<String>) -> Failure {
    Failure::Refused(ApiError::new(status, message))
}

/// What an operation answers, or why not.
pub type Outcome<T> = Result<T, Failure>;

/// How a merchant request names the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    /// By the shop's userId: a customer the graph does not know yet gets a profile.
    UserId(String),
    /// By an email the graph links to a userId.
    Email(String),
    /// By a phone the graph links to a userId.
    Phone(String),
}

impl CustomerRef {
    /// `userId`, else `email`, else `phone` of `f`: at least one is required.
    pub fn parse(f: &Fields<'_>) -> Result<CustomerRef, Invalid> {
        if let Some(user_id) = f.optional_str("userId", MAX_ID_CHARS)? {
            return Ok(CustomerRef::UserId(user_id.to_owned()));
        }
        if let Some(email) = f.optional_str("email", identity::MAX_EMAIL_CHARS)? {
            let email = normalize_email(email).ok_or_else(|| {
                f.invalid_field(
                    "email",
                    format!("must be an email address, got {}", quote(&json!(email))),
                )
            })?;
            return Ok(CustomerRef::Email(email));
        }
        if let Some(phone) = f.optional_str("phone", 40)? {
            let phone = normalize_phone(phone).ok_or_else(|| {
                f.invalid_field(
                    "phone",
                    format!("must be a phone number, got {}", quote(&json!(phone))),
                )
            })?;
            return Ok(CustomerRef::Phone(phone));
        }
        Err(f.invalid_field(
            "userId",
            "is required: name the customer by userId, email or phone",
        ))
    }

    /// The customer's key (their userId). With `create`, a userId the graph does not
    /// know yet is added to it, seen at `seen_at`.
    fn resolve(&self, conn: &Connection, create: bool, seen_at: &str) -> Outcome<String> {
        let (kind, value) = match self {
            CustomerRef::UserId(user_id) => {
                if create {
                    identity::ensure_user(conn, user_id, seen_at)?;
                }
                return Ok(user_id.clone());
            }
            CustomerRef::Email(email) => (EMAIL, email),
            CustomerRef::Phone(phone) => (PHONE, phone),
        };
        identity::user_of(conn, kind, value)?.ok_or_else(|| {
            refused(
                StatusCode::NOT_FOUND,
                format!(
                    "{kind}: no customer with this {kind} has a userId yet; name the customer by userId"
                ),
            )
        })
    }
}

/// A customer's ledger, in the order it was appended, with each entry's row id.
#[derive(Debug, Default)]
pub struct Ledger {
    customer: String,
    ids: Vec<i64>,
    entries: Vec<Entry>,
}

impl Ledger {
    /// Loads `customer`'s ledger.
    pub fn load(conn: &Connection, customer: &str) -> rusqlite::Result<Ledger> {
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM loyalty_ledger WHERE customer = ?1 ORDER BY id"
        ))?;
        let mut ledger = Ledger {
            customer: customer.to_owned(),
            ..Ledger::default()
        };
        for row in statement.query_map([customer], entry_of)? {
            let (_, id, entry) = row?;
            ledger.ids.push(id);
            ledger.entries.push(entry);
        }
        Ok(ledger)
    }

    /// Every customer's ledger in one pass, each handed to `each`: for the
    /// shop-wide reads (members per tier, segments by tier) that would otherwise
    /// load thousands of ledgers one by one.
    pub fn each(
        conn: &Connection,
        mut each: impl FnMut(Ledger) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let mut statement = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM loyalty_ledger ORDER BY customer, id"
        ))?;
        let mut ledger = Ledger::default();
        for row in statement.query_map([], entry_of)? {
            let (customer, id, entry) = row?;
            if customer != ledger.customer {
                let done = std::mem::take(&mut ledger);
                if !done.entries.is_empty() {
                    each(done)?;
                }
                ledger.customer = customer;
            }
            ledger.ids.push(id);
            ledger.entries.push(entry);
        }
        if !ledger.entries.is_empty() {
            each(ledger)?;
        }
        Ok(())
    }

    /// Whose ledger this is.
    pub fn customer(&self) -> &str {
        &self.customer
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry under idempotency key `key`.
    fn find(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Appends `entry`, checking that the balance stays at or above zero; returns its
    /// row id.
    fn append(&mut self, conn: &Connection, entry: Entry, currency: Option<&str>) -> Outcome<i64> {
        let (detail, reason) = match &entry.kind {
            Kind::Bonus(action) => (Some(action.name()), None),
            Kind::Redemption { reward } => (Some(reward.as_str()), None),
            Kind::Release { redemption } => (Some(redemption.as_str()), None),
            Kind::Adjustment { reason } => (None, Some(reason.as_str())),
            Kind::Order | Kind::Refund | Kind::Expiry => (None, None),
        };
        let at_ms = i64::try_from(entry.at_ms).map_err(|_| {
            Failure::Broken(format!("entry {:?} is dated too far ahead", entry.key))
        })?;
        conn.prepare_cached(
            "INSERT INTO loyalty_ledger
                 (customer, kind, points, qualifying, order_id, key, detail, reason, currency,
                  at, at_ms, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(rusqlite::params![
            self.customer,
            entry.kind.name(),
            entry.points,
            entry.qualifying,
            entry.order_id,
            entry.key,
            detail,
            reason,
            currency,
            iso8601(entry.at_ms),
            at_ms,
            crate::datetime::now(),
        ])?;
        let id = conn.last_insert_rowid();
        self.ids.push(id);
        self.entries.push(entry);
        loyalty::check_ledger(&self.entries)
            .map_err(|e| Failure::Broken(format!("customer {:?}: {e}", self.customer)))?;
        Ok(id)
    }

    /// Appends the lapse of the points held, if it is due at `now_ms`.
    fn expire(&mut self, conn: &Connection, rules: &Rules, now_ms: u64) -> Outcome<()> {
        let account = Account::from_ledger(rules, &self.entries, now_ms);
        if let Some(expiry) = account.expiry_entry() {
            if self.find(&expiry.key).is_none() {
                self.append(conn, expiry, None)?;
            }
        }
        Ok(())
    }

    fn account(&self, rules: &Rules, now_ms: u64) -> Account {
        Account::from_ledger(rules, &self.entries, now_ms)
    }
}

/// The columns [`entry_of`] reads.
const COLUMNS: &str =
    "customer, id, kind, points, qualifying, order_id, key, detail, reason, at_ms";

/// A ledger row: its customer, row id and entry.
fn entry_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, Entry)> {
    let kind: String = row.get(2)?;
    let kind = kind_of(&kind, row.get(7)?, row.get(8)?).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("a ledger entry of kind {kind:?} lacks its detail").into(),
        )
    })?;
    Ok((
        row.get(0)?,
        row.get(1)?,
        Entry {
            kind,
            points: row.get(3)?,
            qualifying: row.get(4)?,
            order_id: row.get(5)?,
            key: row.get(6)?,
            at_ms: row.get::<_, i64>(9)?.max(0) as u64,
        },
    ))
}

/// The [`Kind`] stored as `kind` with its `detail` and `reason`.
fn kind_of(kind: &str, detail: Option<String>, reason: Option<String>) -> Option<Kind> {
    Some(match kind {
        "order" => Kind::Order,
        "refund" => Kind::Refund,
        "bonus" => Kind::Bonus(Action::parse(detail.as_deref()?)?),
        "redemption" => Kind::Redemption { reward: detail? },
        "release" => Kind::Release {
            redemption: detail?,
        },
        "adjustment" => Kind::Adjustment { reason: reason? },
        "expiry" => Kind::Expiry,
        _ => return None,
    })
}

/// An entry as the API shows it; the merchant also sees its idempotency key.
pub fn entry_json(entry: &Entry, merchant: bool) -> Value {
    let mut value = json!({
        "kind": entry.kind.name(),
        "points": entry.points,
        "at": iso8601(entry.at_ms),
    });
    if let Some(order_id) = &entry.order_id {
        value["orderId"] = json!(order_id);
    }
    match &entry.kind {
        Kind::Order | Kind::Refund => value["qualifying"] = json!(entry.qualifying),
        Kind::Bonus(action) => value["action"] = json!(action.name()),
        Kind::Redemption { reward } => value["reward"] = json!(reward),
        Kind::Release { redemption } if merchant => value["redemption"] = json!(redemption),
        Kind::Adjustment { reason } => value["reason"] = json!(reason),
        Kind::Release { .. } | Kind::Expiry => {}
    }
    if merchant {
        value["key"] = json!(entry.key);
    }
    value
}

/// A whole number of minor units in field `name`: 0 when absent unless `required`.
fn minor_units(f: &Fields<'_>, name: &str, required: bool) -> Result<i64, Invalid> {
    let Some(value) = f.get(name) else {
        return if required {
            Err(f.invalid_field(name, "is required, in minor units (cents, fils)"))
        } else {
            Ok(0)
        };
    };
    value
        .as_i64()
        .filter(|n| (0..=MAX_AMOUNT).contains(n))
        .ok_or_else(|| {
            f.invalid_field(
                name,
                format!(
                    "must be a whole number of minor units (cents, fils) from 0 to {MAX_AMOUNT}, got {}",
                    quote(value)
                ),
            )
        })
}

/// `subtotal`, `discount`, `tax`, `taxInPrices` and `shipping` of `f`.
fn amounts(f: &Fields<'_>) -> Result<OrderAmounts, Invalid> {
    let subtotal = minor_units(f, "subtotal", true)?;
    let discount = minor_units(f, "discount", false)?;
    let tax = minor_units(f, "tax", false)?;
    let shipping = minor_units(f, "shipping", false)?;
    let tax_in_prices = match f.get("taxInPrices") {
        Some(_) => f.bool("taxInPrices")?,
        None if tax > 0 => {
            return Err(f.invalid_field(
                "taxInPrices",
                "is required when tax is above 0: true if the prices already hold the tax, false if it was added on top",
            ))
        }
        None => false,
    };
    Ok(OrderAmounts {
        subtotal,
        discount,
        tax,
        tax_in_prices,
        shipping,
    })
}

/// Optional date-time field `name` in ms since the Unix epoch.
fn optional_ms(f: &Fields<'_>, name: &str) -> Result<Option<u64>, Invalid> {
    let Some(text) = f.optional_date_time(name)? else {
        return Ok(None);
    };
    crate::datetime::to_ms(&text)
        .map(Some)
        .ok_or_else(|| f.invalid_field(name, "must not be before 1970"))
}

/// An id field: 1 to [`MAX_ID_CHARS`] characters without control characters.
fn id_field<'a>(f: &Fields<'a>, name: &str) -> Result<&'a str, Invalid> {
    let id = f.required_str(name, MAX_ID_CHARS)?;
    if id.chars().any(char::is_control) {
        return Err(f.invalid_field(name, "must not hold control characters"));
    }
    Ok(id)
}

/// `POST /v1/orders`: an order placed by a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The shop's order id: `order:<id>` is the idempotency key.
    pub order_id: String,
    /// Who placed it.
    pub customer: CustomerRef,
    /// Its money.
    pub amounts: OrderAmounts,
    /// ISO 4217 code, such as SAR.
    pub currency: String,
    /// When it was placed; now when not given.
    pub at_ms: Option<u64>,
}

impl Order {
    /// Reads `{orderId, userId | email | phone, subtotal, discount?, tax?,
    /// taxInPrices?, shipping?, currency, at?}`.
    pub fn parse(body: &Value) -> Result<Order, Invalid> {
        let f = Fields::of(body, "")?;
        let order_id = id_field(&f, "orderId")?.to_owned();
        let customer = CustomerRef::parse(&f)?;
        let amounts = amounts(&f)?;
        let currency = f.required_str("currency", 3)?;
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(f.invalid_field(
                "currency",
                format!(
                    "must be an ISO 4217 code such as \"SAR\", got {}",
                    quote(&json!(currency))
                ),
            ));
        }
        Ok(Order {
            order_id,
            customer,
            amounts,
            currency: currency.to_owned(),
            at_ms: optional_ms(&f, "at")?,
        })
    }
}

/// What posting an order, refund or adjustment answers.
fn posted(customer: &str, entry: &Entry, duplicate: bool, balance: i64) -> Value {
    json!({
        "userId": customer,
        "duplicate": duplicate,
        "entry": entry_json(entry, true),
        "balance": balance,
    })
}

/// Earns the points of `order` (once per order id); answers `(created, answer)`.
pub fn post_order(
    conn: &Connection,
    rules: &Rules,
    order: &Order,
    now_ms: u64,
) -> Outcome<(bool, Value)> {
    let key = ["order:", &order.order_id].concat();
    let owner: Option<String> = conn
        .prepare_cached(
            "SELECT customer FROM loyalty_ledger WHERE kind = 'order' AND order_id = ?1 LIMIT 1",
        )?
        .query_row([&order.order_id], |row| row.get(0))
        .optional()?;
    if let Some(owner) = owner {
        if matches!(&order.customer, CustomerRef::UserId(u) if *u != owner) {
            return Err(refused(
                StatusCode::CONFLICT,
                format!(
                    "orderId: order {} was already posted for another customer",
                    quote(&json!(order.order_id))
                ),
            ));
        }
        let ledger = Ledger::load(conn, &owner)?;
        let entry = ledger
            .find(&key)
            .ok_or_else(|| Failure::Broken(format!("order {key:?} lost its entry")))?;
        let balance = ledger.account(rules, now_ms).balance;
        return Ok((false, posted(&owner, entry, true, balance)));
    }
    let at_ms = order.at_ms.unwrap_or(now_ms);
    let customer = order.customer.resolve(conn, true, &iso8601(at_ms))?;
    let mut ledger = Ledger::load(conn, &customer)?;
    ledger.expire(conn, rules, now_ms)?;
    let entry = rules.earn(ledger.entries(), &order.order_id, &order.amounts, at_ms);
    ledger.append(conn, entry.clone(), Some(&order.currency))?;
    let balance = ledger.account(rules, now_ms).balance;
    Ok((true, posted(&customer, &entry, false, balance)))
}

/// `POST /v1/refunds`: part or all of an order given back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The order refunded.
    pub order_id: String,
    /// The shop's refund id: `refund:<orderId>:<refundId>` is the idempotency key.
    pub refund_id: String,
    /// What was refunded.
    pub amounts: OrderAmounts,
    /// When; now when not given.
    pub at_ms: Option<u64>,
}

impl Refund {
    /// Reads `{orderId, refundId, subtotal, discount?, tax?, taxInPrices?, shipping?,
    /// at?}`.
    pub fn parse(body: &Value) -> Result<Refund, Invalid> {
        let f = Fields::of(body, "")?;
        Ok(Refund {
            order_id: id_field(&f, "orderId")?.to_owned(),
            refund_id: id_field(&f, "refundId")?.to_owned(),
            amounts: amounts(&f)?,
            at_ms: optional_ms(&f, "at")?,
        })
    }
}

/// Takes back what `refund` reverses of its order's points (once per refund id);
/// answers `(created, answer)`.
pub fn post_refund(
    conn: &Connection,
    rules: &Rules,
    refund: &Refund,
    now_ms: u64,
) -> Outcome<(bool, Value)> {
    let customer: Option<String> = conn
        .prepare_cached(
            "SELECT customer FROM loyalty_ledger WHERE kind = 'order' AND order_id = ?1 LIMIT 1",
        )?
        .query_row([&refund.order_id], |row| row.get(0))
        .optional()?;
    let customer = customer.ok_or_else(|| {
        refused(
            StatusCode::NOT_FOUND,
            format!(
                "orderId: no order {} was posted to /v1/orders",
                quote(&json!(refund.order_id))
            ),
        )
    })?;
    let key = ["refund:", &refund.order_id, ":", &refund.refund_id].concat();
    let mut ledger = Ledger::load(conn, &customer)?;
    if let Some(entry) = ledger.find(&key) {
        let balance = ledger.account(rules, now_ms).balance;
        let mut answer = posted(&customer, entry, true, balance);
        answer["short"] = json!(0);
        return Ok((false, answer));
    }
    ledger.expire(conn, rules, now_ms)?;
    let at_ms = refund.at_ms.unwrap_or(now_ms);
    let reversal = loyalty::refund(
        ledger.entries(),
        &refund.order_id,
        &refund.amounts,
        &key,
        at_ms,
    )
    .map_err(|e| match e {
        LoyaltyError::NothingRefunded(_) => {
            refused(StatusCode::BAD_REQUEST, format!("subtotal: {e}"))
        }
        LoyaltyError::UnknownOrder(_) => refused(StatusCode::NOT_FOUND, format!("orderId: {e}")),
        _ => refused(StatusCode::CONFLICT, format!("orderId: {e}")),
    })?;
    ledger.append(conn, reversal.entry.clone(), None)?;
    let balance = ledger.account(rules, now_ms).balance;
    let mut answer = posted(&customer, &reversal.entry, false, balance);
    answer["short"] = json!(reversal.short);
    Ok((true, answer))
}

/// `POST /v1/loyalty/adjustments`: points added or taken away by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// Whose points.
    pub customer: CustomerRef,
    /// Added (positive) or taken away (negative).
    pub points: i64,
    /// Why, for the customer's record.
    pub reason: String,
    /// The merchant's id for it, making a resend harmless; a fresh one when absent.
    pub adjustment_id: Option<String>,
}

impl Adjustment {
    /// Reads `{userId | email | phone, points, reason, adjustmentId?}`.
    pub fn parse(body: &Value) -> Result<Adjustment, Invalid> {
        let f = Fields::of(body, "")?;
        let customer = CustomerRef::parse(&f)?;
        let value = f.required("points")?;
        let points = value
            .as_i64()
            .filter(|p| *p != 0 && p.abs() <= MAX_AMOUNT)
            .ok_or_else(|| {
                f.invalid_field(
                    "points",
                    format!(
                        "must be a whole number of points other than 0, from -{MAX_AMOUNT} to {MAX_AMOUNT}, got {}",
                        quote(value)
                    ),
                )
            })?;
        let reason = f.required_str("reason", MAX_REASON_CHARS)?;
        if reason.trim().is_empty() {
            return Err(f.invalid_field("reason", "must say why, for the customer's record"));
        }
        let adjustment_id = match f.get("adjustmentId") {
            Some(_) => Some(id_field(&f, "adjustmentId")?.to_owned()),
            None => None,
        };
        Ok(Adjustment {
            customer,
            points,
            reason: reason.to_owned(),
            adjustment_id,
        })
    }
}

/// Appends `adjustment`; answers `(created, answer)`.
pub fn post_adjustment(
    conn: &Connection,
    rules: &Rules,
    adjustment: &Adjustment,
    now_ms: u64,
) -> Outcome<(bool, Value)> {
    let customer = adjustment.customer.resolve(conn, true, &iso8601(now_ms))?;
    let mut ledger = Ledger::load(conn, &customer)?;
    let key = match &adjustment.adjustment_id {
        Some(id) => ["adjustment:", id].concat(),
        None => ["adjustment:", &random_code()].concat(),
    };
    if let Some(entry) = ledger.find(&key) {
        let balance = ledger.account(rules, now_ms).balance;
        return Ok((false, posted(&customer, entry, true, balance)));
    }
    ledger.expire(conn, rules, now_ms)?;
    let entry = loyalty::adjust(
        ledger.entries(),
        adjustment.points,
        &adjustment.reason,
        &key,
        now_ms,
    )
    .map_err(|e| match e {
        LoyaltyError::MissingReason => refused(StatusCode::BAD_REQUEST, format!("reason: {e}")),
        LoyaltyError::AdjustmentBelowZero { .. } => {
            refused(StatusCode::CONFLICT, format!("points: {e}"))
        }
        _ => refused(StatusCode::BAD_REQUEST, format!("points: {e}")),
    })?;
    ledger.append(conn, entry.clone(), None)?;
    let balance = ledger.account(rules, now_ms).balance;
    Ok((true, posted(&customer, &entry, false, balance)))
}

/// `POST /v1/loyalty/bonuses`: a bonus action the shop saw a customer take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BonusGrant {
    /// Whose points.
    pub customer: CustomerRef,
    /// Signup, birthday, review or referral.
    pub action: Action,
    /// The review or the referred customer, for the once-each actions.
    pub bonus_id: Option<String>,
    /// When it happened; now when not given.
    pub at_ms: Option<u64>,
}

impl BonusGrant {
    /// Reads `{userId | email | phone, action, bonusId?, at?}`; `bonusId` (the review,
    /// or the customer referred) is required for review and referral.
    pub fn parse(body: &Value) -> Result<BonusGrant, Invalid> {
        let f = Fields::of(body, "")?;
        let customer = CustomerRef::parse(&f)?;
        let names: Vec<&'static str> = Action::ALL.iter().map(|a| a.name()).collect();
        let action = Action::parse(f.one_of("action", &names)?)
            .ok_or_else(|| f.invalid_field("action", "is not a bonus action"))?;
        let bonus_id = match (f.get("bonusId"), action) {
            (Some(_), _) => Some(id_field(&f, "bonusId")?.to_owned()),
            (None, Action::Review | Action::Referral) => {
                return Err(f.invalid_field(
                    "bonusId",
                    format!(
                    "is required for {}: the review or the referred customer, so each earns once",
                    action.name()
                ),
                ))
            }
            (None, _) => None,
        };
        Ok(BonusGrant {
            customer,
            action,
            bonus_id,
            at_ms: optional_ms(&f, "at")?,
        })
    }
}

/// Grants `grant`'s bonus points, once: signup once ever, birthday once a calendar
/// year, review and referral once per `bonusId`. Answers `(created, answer)`.
pub fn post_bonus(
    conn: &Connection,
    rules: &Rules,
    grant: &BonusGrant,
    now_ms: u64,
) -> Outcome<(bool, Value)> {
    let at_ms = grant.at_ms.unwrap_or(now_ms);
    let customer = grant.customer.resolve(conn, true, &iso8601(at_ms))?;
    let mut ledger = Ledger::load(conn, &customer)?;
    let key = match (grant.action, &grant.bonus_id) {
        (Action::Birthday, _) => format!("bonus:birthday:{}", souk::core::time::date(at_ms).0),
        (action, Some(id)) => format!("bonus:{}:{id}", action.name()),
        (action, None) => format!("bonus:{}", action.name()),
    };
    if let Some(entry) = ledger.find(&key) {
        let balance = ledger.account(rules, now_ms).balance;
        return Ok((false, posted(&customer, entry, true, balance)));
    }
    ledger.expire(conn, rules, now_ms)?;
    let entry = rules
        .bonus(ledger.entries(), grant.action, &key, at_ms)
        .map_err(|e| refused(StatusCode::CONFLICT, format!("action: {e}")))?;
    ledger.append(conn, entry.clone(), None)?;
    let balance = ledger.account(rules, now_ms).balance;
    Ok((true, posted(&customer, &entry, false, balance)))
}

/// `POST /v1/coupons/release` `{code}`: cancels an unused code and gives its points
/// back, once. A consumed code is refused (409); a second release answers the first.
pub fn release(
    conn: &Connection,
    rules: &Rules,
    code: &str,
    now_ms: u64,
) -> Outcome<(bool, Value)> {
    let found: Option<(String, String)> = conn
        .prepare_cached("SELECT customer, state FROM loyalty_coupons WHERE code = ?1")?
        .query_row([code], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((customer, state)) = found else {
        return Err(refused(
            StatusCode::NOT_FOUND,
            "code: no loyalty coupon has this code",
        ));
    };
    let mut ledger = Ledger::load(conn, &customer)?;
    let redemption = ["redemption:", code].concat();
    let key = ["release:", &redemption].concat();
    if let Some(entry) = ledger.find(&key) {
        let balance = ledger.account(rules, now_ms).balance;
        return Ok((false, posted(&customer, entry, true, balance)));
    }
    if state != "issued" {
        return Err(refused(
            StatusCode::CONFLICT,
            "code: this coupon was already used at checkout, so its points stay spent",
        ));
    }
    ledger.expire(conn, rules, now_ms)?;
    let entry = loyalty::release(ledger.entries(), &redemption, now_ms)
        .map_err(|e| Failure::Broken(format!("coupon {code}: {e}")))?;
    ledger.append(conn, entry.clone(), None)?;
    let balance = ledger.account(rules, now_ms).balance;
    Ok((true, posted(&customer, &entry, false, balance)))
}

/// Whether the coupon `code` was released, its points given back.
fn released(conn: &Connection, customer: &str, code: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM loyalty_ledger WHERE customer = ?1 AND key = ?2")?
        .exists(rusqlite::params![
            customer,
            ["release:redemption:", code].concat()
        ])
}

/// The characters of coupon codes: no 0/O or 1/I to misread.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A fresh random code such as `K7QX-M2PA-9RTE` (60 bits).
pub fn random_code() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let mut code = String::with_capacity(14);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(char::from(CODE_ALPHABET[usize::from(b & 31)]));
    }
    code
}

/// Spends `customer`'s points on reward `reward_id` and issues its single-use code:
/// `{code, reward, entry, balance}`.
pub fn redeem(
    conn: &Connection,
    rules: &Rules,
    customer: &str,
    reward_id: &str,
    now_ms: u64,
) -> Outcome<Value> {
    let mut ledger = Ledger::load(conn, customer)?;
    ledger.expire(conn, rules, now_ms)?;
    let mut code = random_code();
    let taken = |code: &str| -> rusqlite::Result<bool> {
        conn.prepare_cached("SELECT 1 FROM loyalty_coupons WHERE code = ?1")?
            .exists([code])
    };
    while taken(&code)? {
        code = random_code();
    }
    let key = ["redemption:", &code].concat();
    let entry = rules
        .redeem(ledger.entries(), reward_id, &key, now_ms)
        .map_err(|e| match e {
            LoyaltyError::UnknownReward(_) => {
                refused(StatusCode::BAD_REQUEST, format!("reward: {e}"))
            }
            _ => refused(StatusCode::CONFLICT, format!("reward: {e}")),
        })?;
    let reward = rules
        .rewards
        .iter()
        .find(|r| r.id == reward_id)
        .ok_or_else(|| Failure::Broken(format!("reward {reward_id:?} vanished")))?;
    let entry_id = ledger.append(conn, entry.clone(), None)?;
    conn.prepare_cached(
        "INSERT INTO loyalty_coupons (code, customer, reward_id, reward, entry_id, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![
        code,
        customer,
        reward.id,
        reward_json(reward).to_string(),
        entry_id,
        iso8601(now_ms),
    ])?;
    let balance = ledger.account(rules, now_ms).balance;
    Ok(json!({
        "code": code,
        "reward": reward_json(reward),
        "entry": entry_json(&entry, false),
        "balance": balance,
    }))
}

/// `POST /v1/coupons/validate`: a code to check, and to consume for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The code, upper-cased.
    pub code: String,
    /// The order it is used on; required to consume.
    pub order_id: Option<String>,
    /// Whether to consume it.
    pub consume: bool,
    /// The basket to price the reward on.
    pub basket: Option<OrderAmounts>,
}

impl Validation {
    /// Reads `{code, orderId?, consume?, basket?: {subtotal, discount?, tax?,
    /// taxInPrices?, shipping?}}`.
    pub fn parse(body: &Value) -> Result<Validation, Invalid> {
        let f = Fields::of(body, "")?;
        let code = f.required_str("code", 40)?.trim().to_ascii_uppercase();
        let consume = match f.get("consume") {
            Some(_) => f.bool("consume")?,
            None => false,
        };
        let order_id = match f.get("orderId") {
            Some(_) => Some(id_field(&f, "orderId")?.to_owned()),
            None if consume => {
                return Err(f.invalid_field("orderId", "is required to consume a code"))
            }
            None => None,
        };
        let basket = f
            .optional_object("basket")?
            .map(|b| amounts(&b))
            .transpose()?;
        Ok(Validation {
            code,
            order_id,
            consume,
            basket,
        })
    }
}

/// Checks a code and, if asked, consumes it: `{code, valid, state, userId, reward,
/// issuedAt, consumedAt?, orderId?, discount?}`. Consuming a consumed code is refused
/// (409). Without `consume` it only reads, so it may run on a read connection.
pub fn validate(conn: &Connection, validation: &Validation, now_ms: u64) -> Outcome<Value> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let found: Option<Row> = conn
        .prepare_cached(
            "SELECT customer, reward, issued_at, state, consumed_at, order_id
             FROM loyalty_coupons WHERE code = ?1",
        )?
        .query_row([&validation.code], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        })
        .optional()?;
    let Some((customer, reward, issued_at, mut state, mut consumed_at, mut order_id)) = found
    else {
        return Err(refused(
            StatusCode::NOT_FOUND,
            "code: no loyalty coupon has this code",
        ));
    };
    let reward_value: Value = serde_json::from_str(&reward)
        .map_err(|e| Failure::Broken(format!("coupon reward is not JSON: {e}")))?;
    let reward = reward_from_json(&reward_value)
        .ok_or_else(|| Failure::Broken("coupon reward cannot be read".to_owned()))?;
    if state == "issued" && released(conn, &customer, &validation.code)? {
        state = "released".to_owned();
    }
    let mut consumed = false;
    if validation.consume {
        if state == "released" {
            return Err(refused(
                StatusCode::CONFLICT,
                "code: this coupon was cancelled and its points given back",
            ));
        }
        if state != "issued" {
            return Err(refused(
                StatusCode::CONFLICT,
                format!(
                    "code: this coupon was already consumed at {} for order {}",
                    consumed_at.as_deref().unwrap_or("?"),
                    quote(&json!(order_id))
                ),
            ));
        }
        let at = iso8601(now_ms);
        conn.prepare_cached(
            "UPDATE loyalty_coupons SET state = 'consumed', consumed_at = ?2, order_id = ?3
             WHERE code = ?1 AND state = 'issued'",
        )?
        .execute(rusqlite::params![validation.code, at, validation.order_id])?;
        state = "consumed".to_owned();
        consumed_at = Some(at);
        order_id = validation.order_id.clone();
        consumed = true;
    }
    let mut answer = json!({
        "code": validation.code,
        "valid": consumed || state == "issued",
        "consumed": consumed,
        "state": state,
        "userId": customer,
        "reward": reward_value,
        "issuedAt": issued_at,
    });
    if let Some(at) = consumed_at {
        answer["consumedAt"] = json!(at);
        answer["orderId"] = json!(order_id);
    }
    if let Some(basket) = &validation.basket {
        answer["discount"] = json!(reward.kind.discount(basket.qualifying(), basket.shipping));
    }
    Ok(answer)
}

/// A tier as the API shows it.
fn tier_json(rules: &Rules, index: usize) -> Value {
    rules.tiers.get(index).map_or(Value::Null, |tier| {
        json!({
            "id": tier.id,
            "name": { "en": tier.name.en, "ar": tier.name.ar },
            "threshold": tier.threshold,
            "multiplierPermille": tier.multiplier_permille,
        })
    })
}

/// `customer`'s account at `now_ms`: `{userId, balance, tier, spend, next, grace,
/// expiry, rewards, history, coupons}`, history and coupons newest first. The shopper
/// (`merchant` false) gets the [`RECENT`] latest of each and no idempotency keys.
pub fn account(
    conn: &Connection,
    rules: &Rules,
    customer: &str,
    now_ms: u64,
    merchant: bool,
) -> rusqlite::Result<Value> {
    // One snapshot, so a write committed meanwhile cannot tear the answer.
    let snapshot = conn.unchecked_transaction()?;
    let ledger = Ledger::load(conn, customer)?;
    let account = ledger.account(rules, now_ms);
    let limit = if merchant { i64::MAX } else { RECENT as i64 };
    let coupons = conn
        .prepare_cached(
            "SELECT code, reward_id, state, issued_at, consumed_at, order_id
             FROM loyalty_coupons WHERE customer = ?1 ORDER BY rowid DESC LIMIT ?2",
        )?
        .query_map(rusqlite::params![customer, limit], |row| {
            Ok(json!({
                "code": row.get::<_, String>(0)?,
                "reward": row.get::<_, String>(1)?,
                "state": row.get::<_, String>(2)?,
                "issuedAt": row.get::<_, String>(3)?,
                "consumedAt": row.get::<_, Option<String>>(4)?,
                "orderId": row.get::<_, Option<String>>(5)?,
            }))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    snapshot.finish()?;
    let mut coupons = coupons;
    for coupon in &mut coupons {
        let release = ["release:redemption:", coupon["code"].as_str().unwrap_or("")].concat();
        if coupon["state"] == "issued" && ledger.find(&release).is_some() {
            coupon["state"] = json!("released");
        }
    }

    let history: Vec<Value> = ledger
        .entries()
        .iter()
        .rev()
        .take(if merchant { usize::MAX } else { RECENT })
        .map(|e| entry_json(e, merchant))
        .collect();
    let rewards: Vec<Value> = rules
        .rewards
        .iter()
        .enumerate()
        .map(|(i, reward)| {
            let mut value = reward_json(reward);
            value["affordable"] = json!(account.affordable.contains(&i));
            value
        })
        .collect();
    Ok(json!({
        "userId": customer,
        "balance": account.balance,
        "tier": tier_json(rules, account.tier),
        "spend": account.spend,
        "next": account.next.map(|next| json!({
            "tier": tier_json(rules, next.tier),
            "needed": next.needed,
        })),
        "grace": account.grace.map(|grace| json!({
            "qualified": tier_json(rules, grace.qualified),
            "until": iso8601(grace.until_ms),
            "needed": grace.needed,
        })),
        "expiry": account.expiry.map(|expiry| json!({
            "points": expiry.points,
            "at": iso8601(expiry.at_ms),
            "due": expiry.due,
        })),
        "rewards": rewards,
        "history": history,
        "coupons": coupons,
        // How to earn, for the widget: points per `per` minor units, and the bonuses.
        "earn": { "points": rules.earn.points, "per": rules.earn.per },
        "bonuses": {
            "signup": rules.bonuses.signup,
            "birthday": rules.bonuses.birthday,
            "review": rules.bonuses.review,
            "referral": rules.bonuses.referral,
        },
    }))
}

/// Whether the graph or the ledger knows customer `user_id`.
pub fn known(conn: &Connection, user_id: &str) -> rusqlite::Result<bool> {
    let in_ledger = conn
        .prepare_cached("SELECT 1 FROM loyalty_ledger WHERE customer = ?1 LIMIT 1")?
        .exists([user_id])?;
    Ok(in_ledger || identity::user_of(conn, identity::USER_ID, user_id)?.is_some())
}

#[cfg(test)]
mod tests;
