//! The ledger code against a real (in-memory) SQLite database with the real schema,
//! and a property test against a reference model of the balance.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use souk::core::loyalty::{Label, Reward, RewardKind, Tier};
use souk::core::time::{add_months, DAY_MS};

use super::*;

/// 1 January 2024, 00:00 UTC.
const START: u64 = 1_704_067_200_000;

fn db() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::store::migrations().to_latest(&mut conn).unwrap();
    conn
}

/// One tier (×1), a point per 100 minor units, one reward of 300 points, points lapse
/// after 12 months: rules whose balance a short model can follow.
fn plain_rules() -> Rules {
    Rules {
        tiers: vec![Tier {
            id: "member".into(),
            name: Label::new("Member", "عضو"),
            threshold: 0,
            multiplier_permille: 1000,
        }],
        rewards: vec![Reward {
            id: "free-shipping".into(),
            name: Label::new("Free shipping", "شحن مجاني"),
            cost: 300,
            kind: RewardKind::FreeShipping,
        }],
        expiry_months: Some(12),
        ..Rules::default()
    }
}

fn order(id: &str, user: &str, subtotal: i64) -> Order {
    Order {
        order_id: id.into(),
        customer: CustomerRef::UserId(user.into()),
        amounts: OrderAmounts {
            subtotal,
            ..OrderAmounts::default()
        },
        currency: "SAR".into(),
        at_ms: None,
    }
}

fn refund(order_id: &str, refund_id: &str, subtotal: i64) -> Refund {
    Refund {
        order_id: order_id.into(),
        refund_id: refund_id.into(),
        amounts: OrderAmounts {
            subtotal,
            ..OrderAmounts::default()
        },
        at_ms: None,
    }
}

fn balance(conn: &Connection, rules: &Rules, user: &str, now: u64) -> i64 {
    let ledger = Ledger::load(conn, user).unwrap();
    loyalty::check_ledger(ledger.entries()).unwrap();
    Account::from_ledger(rules, ledger.entries(), now).balance
}

fn refused_status<T: std::fmt::Debug>(outcome: Outcome<T>) -> StatusCode {
    match outcome {
        Err(Failure::Refused(e)) => e.status(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_order_earns_once_and_names_its_customer_by_email() {
    let conn = db();
    let rules = Rules::default();
    let (created, first) = post_order(&conn, &rules, &order("o1", "u1", 12_345), START).unwrap();
    assert!(created);
    assert_eq!(first["entry"]["points"], 123);
    let (created, again) = post_order(&conn, &rules, &order("o1", "u1", 99_999), START).unwrap();
    assert!(!created);
    assert_eq!(again["entry"], first["entry"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        refused_status(post_order(&conn, &rules, &order("o1", "u2", 1), START)),
        StatusCode::CONFLICT
    );
    // The graph now knows u1; an email it does not know is refused, naming the field.
    let mut by_email = order("o2", "u1", 100);
    by_email.customer = CustomerRef::Email("noor@example.com".into());
    match post_order(&conn, &rules, &by_email, START) {
        Err(Failure::Refused(e)) => {
            assert_eq!(e.status(), StatusCode::NOT_FOUND);
            assert!(e.message().starts_with("email:"), "{}", e.message());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(balance(&conn, &rules, "u1", START), 123);
}

#[test]
fn the_ledger_and_the_coupons_refuse_changes() {
    let conn = db();
    let rules = plain_rules();
    post_order(&conn, &rules, &order("o1", "u1", 50_000), START).unwrap();
    let code = redeem(&conn, &rules, "u1", "free-shipping", START).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for sql in [
        "UPDATE loyalty_ledger SET points = 1000000",
        "DELETE FROM loyalty_ledger",
        "DELETE FROM loyalty_coupons",
        "UPDATE loyalty_coupons SET reward_id = 'five-off'",
        "UPDATE loyalty_coupons SET state = 'issued'",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(
            err.contains("append-only") || err.contains("coupon"),
            "{sql}: {err}"
        );
    }
    let consume = Validation {
        code: code.clone(),
        order_id: Some("o9".into()),
        consume: true,
        basket: None,
    };
    assert_eq!(validate(&conn, &consume, START).unwrap()["consumed"], true);
    assert_eq!(
        refused_status(validate(&conn, &consume, START)),
        StatusCode::CONFLICT
    );
    let err = conn
        .execute(
            "UPDATE loyalty_coupons SET state = 'issued', consumed_at = NULL",
            [],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("once"), "{err}");
}

#[test]
fn lapsed_points_are_recorded_before_anything_else() {
    let conn = db();
    let rules = plain_rules();
    post_order(&conn, &rules, &order("o1", "u1", 50_000), START).unwrap();
    let later = add_months(START, 12);
    assert_eq!(balance(&conn, &rules, "u1", later - 1), 500);
    assert_eq!(balance(&conn, &rules, "u1", later), 0);
    assert_eq!(
        refused_status(redeem(&conn, &rules, "u1", "free-shipping", later)),
        StatusCode::CONFLICT
    );
    let ledger = Ledger::load(&conn, "u1").unwrap();
    let kinds: Vec<&str> = ledger.entries().iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["order", "expiry"]);
    // New activity does not revive them.
    post_order(&conn, &rules, &order("o2", "u1", 10_000), later).unwrap();
    assert_eq!(balance(&conn, &rules, "u1", later), 100);
}

/// What the model and the server are asked to do, in order.
#[derive(Debug, Clone)]
enum Op {
    Order { id: u8, amount: i64 },
    Refund { order: u8, refund: u8, amount: i64 },
    Redeem,
    Advance { days: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 0i64..200_000).prop_map(|(id, amount)| Op::Order { id, amount }),
        3 => (0u8..6, 0u8..3, 1i64..120_000)
            .prop_map(|(order, refund, amount)| Op::Refund { order, refund, amount }),
        2 => Just(Op::Redeem),
        2 => (0u64..200).prop_map(|days| Op::Advance { days }),
    ]
}

/// The balance, kept the simple way.
#[derive(Debug, Default)]
struct Model {
    balance: i64,
    last_activity: Option<u64>,
    /// Per order: (points earned, qualifying, qualifying refunded, points taken back).
    orders: HashMap<u8, (i64, i64, i64, i64)>,
    refunds: HashSet<(u8, u8)>,
}

impl Model {
    fn lapsed(&self, now: u64) -> bool {
        self.balance > 0
            && self
                .last_activity
                .is_some_and(|at| now >= add_months(at, 12))
    }

    fn expire(&mut self, now: u64) {
        if self.lapsed(now) {
            self.balance = 0;
        }
    }

    fn shown(&self, now: u64) -> i64 {
        if self.lapsed(now) {
            0
        } else {
            self.balance
        }
    }

    fn apply(&mut self, op: &Op, now: u64) {
        match *op {
            Op::Order { id, amount } => {
                if self.orders.contains_key(&id) {
                    return;
                }
                self.expire(now);
                let earned = amount / 100;
                self.balance += earned;
                self.last_activity = Some(now);
                self.orders.insert(id, (earned, amount, 0, 0));
            }
            Op::Refund {
                order,
                refund,
                amount,
            } => {
                if !self.orders.contains_key(&order) || self.refunds.contains(&(order, refund)) {
                    return;
                }
                self.expire(now);
                let balance = self.balance;
                let (earned, qualifying, refunded, taken_back) =
                    self.orders.get_mut(&order).unwrap();
                let left = *qualifying - *refunded;
                if left <= 0 {
                    return;
                }
                let applied = amount.min(left);
                let due = (*earned * (*refunded + applied) / *qualifying - *taken_back).max(0);
                let taken = due.min(balance.max(0));
                *refunded += applied;
                *taken_back += taken;
                self.balance -= taken;
                self.refunds.insert((order, refund));
            }
            Op::Redeem => {
                self.expire(now);
                if self.balance >= 300 {
                    self.balance -= 300;
                    self.last_activity = Some(now);
                }
            }
            Op::Advance { .. } => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Orders, refunds (partial, repeated, of unknown orders), resends, redemptions
    /// and long pauses (expiry) through the server's ledger code give the balance the
    /// model gives, and the stored ledger never goes below zero.
    #[test]
    fn the_ledger_matches_a_reference_model(ops in prop::collection::vec(op(), 1..40)) {
        let conn = db();
        let rules = plain_rules();
        let mut model = Model::default();
        let mut now = START;
        for op in &ops {
            match *op {
                Op::Order { id, amount } => {
                    let _ = post_order(&conn, &rules, &order(&format!("o{id}"), "u1", amount), now);
                }
                Op::Refund { order, refund: r, amount } => {
                    let _ = post_refund(&conn, &rules, &refund(&format!("o{order}"), &format!("r{r}"), amount), now);
                }
                Op::Redeem => {
                    let _ = redeem(&conn, &rules, "u1", "free-shipping", now);
                }
                Op::Advance { days } => now += days * DAY_MS,
            }
            model.apply(op, now);
            prop_assert_eq!(balance(&conn, &rules, "u1", now), model.shown(now), "after {:?}", op);
        }
    }
}
