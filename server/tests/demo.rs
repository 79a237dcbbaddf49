//! The demo shop's checkout backend (`serve --demo-shop`) over real HTTP: it prices
//! orders from the catalogue, spends a shopper's own loyalty code once, and earns
//! points once per order.

mod common;

use common::*;
use serde_json::{json, Value};
use souk_server::auth::user_hash;

const SECRET: &str = "demo-identity-secret";

fn start(site: &Site, demo_shop: bool) -> Server {
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/shop/catalog.json");
    let mut cmd = site.command();
    cmd.args(["--identity-secret", SECRET, "--catalog", catalog])
        .env_remove("SOUK_LOYALTY_RULES");
    if demo_shop {
        cmd.arg("--demo-shop");
    }
    Server::start(cmd)
}

/// A checkout of `lines` (product id, quantity) by `user` (signed) or a guest.
fn checkout(
    server: &Server,
    order: &str,
    user: Option<&str>,
    lines: &[(&str, i64)],
    coupon: Option<&str>,
) -> Reply {
    let mut body = json!({
        "orderId": order,
        "deliveryMethod": "standard",
        "lines": lines.iter().map(|(id, qty)| json!({ "productId": id, "quantity": qty })).collect::<Vec<_>>(),
    });
    if let Some(user) = user {
        body["userId"] = json!(user);
        body["userHash"] = json!(user_hash(SECRET, user));
    }
    if let Some(code) = coupon {
        body["coupon"] = json!(code);
    }
    server.post_json("/demo/checkout", &body)
}

fn redeem(server: &Server, user: &str) -> String {
    let reply = server.post_json(
        "/v1/loyalty/redeem",
        &json!({ "userId": user, "userHash": user_hash(SECRET, user), "reward": "five-off" }),
    );
    assert_eq!(reply.status, 201, "{}", reply.json());
    reply.json()["code"].as_str().unwrap().to_owned()
}

#[test]
fn prices_come_from_the_catalogue_and_points_are_earned_once() {
    let site = Site::new();
    let server = start(&site, true);
    // 3 × 185.00 AED: free standard delivery from 200.00.
    let reply = checkout(&server, "DN-1", Some("huda"), &[("p006", 3)], None);
    assert_eq!(reply.status, 200, "{}", reply.json());
    let answer = reply.json();
    assert_eq!(answer["subtotal"], 55_500);
    assert_eq!(answer["shipping"], 0);
    assert_eq!(answer["total"], 55_500);
    assert_eq!(answer["points"]["earned"], 555);
    assert_eq!(answer["points"]["balance"], 555);

    // A resend (say, the answer was lost) books nothing twice.
    let again = checkout(&server, "DN-1", Some("huda"), &[("p006", 3)], None).json();
    assert_eq!(again["points"]["balance"], 555);

    // A price in the body is ignored; an unknown product is refused, naming it.
    let reply = server.post_json(
        "/demo/checkout",
        &json!({ "orderId": "DN-2", "deliveryMethod": "standard", "lines": [{ "productId": "p007", "quantity": 1, "price": 1 }] }),
    );
    assert_eq!(
        reply.json()["total"],
        4_500 + 2_000,
        "45.00 and 20.00 delivery"
    );
    assert!(
        reply.json().get("points").is_none(),
        "a guest earns nothing"
    );
    let refused = checkout(&server, "DN-3", None, &[("nope", 1)], None).error(400);
    assert!(
        refused.contains("lines[0].productId") && refused.contains("\"nope\""),
        "{refused}"
    );
    let refused = checkout(&server, "DN-3", None, &[("p007", 0)], None).error(400);
    assert!(refused.contains("lines[0].quantity"), "{refused}");
}

#[test]
fn a_loyalty_code_comes_off_once_and_only_for_its_owner() {
    let site = Site::new();
    let server = start(&site, true);
    checkout(&server, "DN-1", Some("huda"), &[("p006", 3)], None);
    let code = redeem(&server, "huda");

    // Someone else cannot spend Huda's code, signed in or not.
    let refused = checkout(&server, "DN-2", Some("sami"), &[("p007", 1)], Some(&code)).error(403);
    assert!(refused.starts_with("coupon:"), "{refused}");
    checkout(&server, "DN-2", None, &[("p007", 1)], Some(&code)).error(403);

    let answer = checkout(
        &server,
        "DN-3",
        Some("huda"),
        &[("p007", 1)],
        Some(&code.to_lowercase()),
    )
    .json();
    assert_eq!(answer["discount"], 500);
    assert_eq!(answer["total"], 4_500 - 500 + 2_000);
    assert_eq!(answer["coupon"], json!(code));
    // A resend of the same order keeps its discount; another order cannot reuse it.
    let again = checkout(&server, "DN-3", Some("huda"), &[("p007", 1)], Some(&code)).json();
    assert_eq!(again["discount"], 500);
    let refused = checkout(&server, "DN-4", Some("huda"), &[("p007", 1)], Some(&code)).error(409);
    assert!(refused.contains("already consumed"), "{refused}");
    // The refused order booked nothing.
    let balance = |answer: &Value| answer["points"]["balance"].as_i64().unwrap();
    let last = checkout(&server, "DN-5", Some("huda"), &[("p007", 1)], None).json();
    assert_eq!(
        balance(&last),
        balance(&again) + last["points"]["earned"].as_i64().unwrap()
    );

    let refused = checkout(
        &server,
        "DN-6",
        Some("huda"),
        &[("p007", 1)],
        Some("NOPE-NOPE-NOPE"),
    )
    .error(404);
    assert!(refused.starts_with("code:"), "{refused}");
}

#[test]
fn a_forged_user_hash_or_a_server_without_the_flag_takes_no_order() {
    let site = Site::new();
    let server = start(&site, true);
    let mut body = json!({ "orderId": "DN-1", "deliveryMethod": "standard", "lines": [{ "productId": "p007", "quantity": 1 }] });
    body["userId"] = json!("huda");
    body["userHash"] = json!(user_hash(SECRET, "sami"));
    server.post_json("/demo/checkout", &body).error(401);

    // Without --demo-shop the path is only the static site's, which takes no POST.
    let plain = start(&Site::new(), false);
    let status = checkout(&plain, "DN-1", None, &[("p007", 1)], None).status;
    assert_eq!(status, 405);
}
