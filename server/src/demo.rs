//! The demo shop's own backend, on with `serve --demo-shop`: what a real shop's server
//! does at checkout, which Dar Noor, a static site, cannot do itself.
//!
//! `POST /demo/checkout` prices the cart from the stored catalogue (never from the
//! browser), consumes a loyalty code the shopper redeemed, and earns the order's
//! points, all in one transaction and through the same functions as the merchant
//! endpoints `POST /v1/coupons/validate` and `POST /v1/orders`. A real shop makes
//! those two calls from its server with the server key; the key never reaches a page.
//!
//! It lets any page that knows a shopper's userHash place orders that earn points,
//! which is why it is off unless asked for: the demo signs userHashes in the page with
//! a public secret.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};
use souk::core::loyalty::{OrderAmounts, RewardKind, Rules};

use crate::body::JsonBody;
use crate::fields::{quote, Fields, Invalid};
use crate::http::{ledger_write, shopper, ApiError, AppState};
use crate::loyalty::{self, CustomerRef, Failure, Order, Outcome, Validation};
use crate::{datetime, rules};

/// The largest checkout body: a cart of a few hundred lines.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most lines in one order.
const MAX_LINES: usize = 100;
/// The demo shop's currency, delivery prices and free-delivery threshold, in fils, as
/// `www/shop/shop.js` shows them.
const CURRENCY: &str = "AED";
const FREE_DELIVERY_FROM: i64 = 20_000;
const STANDARD_DELIVERY: i64 = 2_000;
const EXPRESS_DELIVERY: i64 = 3_500;

/// A checkout: `{orderId, userId?, userHash?, lines: [{productId, quantity}],
/// deliveryMethod: "standard" | "express", coupon?}`.
#[derive(Debug)]
struct Checkout {
    order_id: String,
    lines: Vec<(String, i64)>,
    express: bool,
    coupon: Option<String>,
}

impl Checkout {
    fn parse(body: &Value) -> Result<Checkout, Invalid> {
        let f = Fields::of(body, "")?;
        let order_id = f.required_str("orderId", 64)?.to_owned();
        let express = f.one_of("deliveryMethod", &["standard", "express"])? == "express";
        let coupon = f
            .optional_str("coupon", 40)?
            .map(|code| code.trim().to_ascii_uppercase())
            .filter(|code| !code.is_empty());
        let Some(items) = f.required("lines")?.as_array() else {
            return Err(f.invalid_field("lines", "must be an array of {productId, quantity}"));
        };
        if items.is_empty() || items.len() > MAX_LINES {
            return Err(f.invalid_field(
                "lines",
                format!("must hold 1 to {MAX_LINES} lines, got {}", items.len()),
            ));
        }
        let mut lines = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let line = Fields::of(item, format!("lines[{i}]"))?;
            let product = line.required_str("productId", 64)?.to_owned();
            let quantity = line
                .required("quantity")?
                .as_i64()
                .filter(|q| (1..=99).contains(q))
                .ok_or_else(|| {
                    line.invalid_field("quantity", "must be a whole number from 1 to 99")
                })?;
            lines.push((product, quantity));
        }
        Ok(Checkout {
            order_id,
            lines,
            express,
            coupon,
        })
    }
}

/// `POST /demo/checkout`: places a demo order and answers `{orderId, subtotal,
/// discount, shipping, total, currency, coupon?, points?: {earned, balance}}`
/// (amounts in fils). A guest's order earns nothing; a signed-in shopper's earns
/// points once per orderId, so a resend changes nothing.
pub async fn checkout(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<MAX_BODY_BYTES>,
) -> Result<Json<Value>, ApiError> {
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let user_id = match text("userId") {
        Some(_) => Some(shopper(&state.keys, text("userId"), text("userHash"))?),
        None => None,
    };
    let checkout = Checkout::parse(&body)?;
    let rules = Arc::clone(&state.rules);
    let answer = ledger_write(&state.store, move |conn| {
        place(
            conn,
            &rules,
            &checkout,
            user_id.as_deref(),
            datetime::now_ms(),
        )
    })
    .await?;
    Ok(Json(answer))
}

/// Prices, discounts and books `checkout` in the caller's transaction.
fn place(
    conn: &Connection,
    rules: &Rules,
    checkout: &Checkout,
    user_id: Option<&str>,
    now_ms: u64,
) -> Outcome<Value> {
    let mut subtotal = 0;
    for (i, (product, quantity)) in checkout.lines.iter().enumerate() {
        let price: Option<i64> = conn
            .prepare_cached(
                "SELECT price_minor FROM catalog_products WHERE id = ?1 AND currency = ?2",
            )?
            .query_row([product, CURRENCY], |row| row.get(0))
            .optional()?;
        let price = price.ok_or_else(|| {
            refused(
                StatusCode::BAD_REQUEST,
                format!(
                    "lines[{i}].productId: the catalogue has no product {} priced in {CURRENCY}",
                    quote(&json!(product))
                ),
            )
        })?;
        subtotal += price * quantity;
    }
    let mut amounts = OrderAmounts {
        subtotal,
        discount: 0,
        tax: 0,
        tax_in_prices: true,
        shipping: match (checkout.express, subtotal >= FREE_DELIVERY_FROM) {
            (true, _) => EXPRESS_DELIVERY,
            (false, true) => 0,
            (false, false) => STANDARD_DELIVERY,
        },
    };
    let coupon = match &checkout.coupon {
        Some(code) => Some(redeem_code(
            conn,
            checkout,
            code,
            user_id,
            &mut amounts,
            now_ms,
        )?),
        None => None,
    };
    let mut answer = json!({
        "orderId": checkout.order_id,
        "subtotal": amounts.subtotal,
        "discount": amounts.discount,
        "shipping": amounts.shipping,
        "total": amounts.subtotal - amounts.discount + amounts.shipping,
        "currency": CURRENCY,
        "coupon": coupon,
    });
    if let Some(user_id) = user_id {
        let order = Order {
            order_id: checkout.order_id.clone(),
            customer: CustomerRef::UserId(user_id.to_owned()),
            amounts,
            currency: CURRENCY.to_owned(),
            at_ms: None,
        };
        let (_, posted) = loyalty::post_order(conn, rules, &order, now_ms)?;
        answer["points"] = json!({
            "earned": posted["entry"]["points"],
            "balance": posted["balance"],
        });
    }
    Ok(answer)
}

/// Consumes the shopper's loyalty code `code` for this order and takes its reward off
/// `amounts`: off the goods, or off shipping for free shipping. A resend of the same
/// order finds the code already consumed for it and takes the same reward off.
fn redeem_code(
    conn: &Connection,
    checkout: &Checkout,
    code: &str,
    user_id: Option<&str>,
    amounts: &mut OrderAmounts,
    now_ms: u64,
) -> Outcome<String> {
    let mut validation = Validation {
        code: code.to_owned(),
        order_id: Some(checkout.order_id.clone()),
        consume: false,
        basket: None,
    };
    let found = loyalty::validate(conn, &validation, now_ms)?;
    if user_id.is_none() || found["userId"].as_str() != user_id {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "coupon: this code belongs to another customer's account: sign in as them to use it",
        ));
    }
    let resend = found["orderId"].as_str() == Some(checkout.order_id.as_str());
    if !resend {
        validation.consume = true;
        loyalty::validate(conn, &validation, now_ms)?;
    }
    let reward = rules::reward_from_json(&found["reward"])
        .ok_or_else(|| Failure::Broken("coupon reward cannot be read".to_owned()))?;
    let off = reward.kind.discount(amounts.qualifying(), amounts.shipping);
    if matches!(reward.kind, RewardKind::FreeShipping) {
        amounts.shipping -= off;
    } else {
        amounts.discount += off;
    }
    Ok(code.to_owned())
}

/// A checkout the demo backend refuses, with what was wrong.
fn refused(status: StatusCode, message: impl Into<String>) -> Failure {
    Failure::Refused(ApiError::new(status, message))
}
