//! `souk-server import-pos` against the real binary and a real SQLite file: POS sales
//! earn like online orders, once each, and a customer known online by email spends
//! in the shop what they earned in store.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{json, Value};
use souk_server::auth::user_hash;

const SERVER_KEY: &str = "merchant-secret-key";
const IDENTITY_SECRET: &str = "shop-identity-secret";
const HEADER: &str =
    "sale_id,sold_at,customer_id,email,phone,subtotal,discount,tax,tax_in_prices,shipping,currency";

/// Writes `text` as a sales file in the site's directory.
fn sales_file(site: &Site, name: &str, text: &str) -> PathBuf {
    let path = site.dir.path().join(name);
    fs::write(&path, text).unwrap();
    path
}

/// `souk-server import-pos` of `file` into the site's database, with `args` after it.
fn import(site: &Site, file: &PathBuf, args: &[&str]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
    cmd.arg("import-pos")
        .arg("--db")
        .arg(site.db())
        .arg("--file")
        .arg(file)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("SOUK_LOYALTY_RULES");
    let (status, stdout, stderr) = run_with_output(cmd);
    assert_no_panic(&stderr);
    (status, stdout, stderr)
}

/// An hour ago, ISO 8601: recent enough that no points lapse.
fn an_hour_ago() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    souk::core::time::iso8601(now.as_millis() as u64 - 3_600_000)
}

fn ledger(site: &Site) -> Vec<Value> {
    site.rows(
        "SELECT customer, kind, points, order_id, key, currency FROM loyalty_ledger ORDER BY id",
    )
}

fn entry(customer: &str, sale: &str, points: i64) -> Value {
    json!({
        "customer": customer, "kind": "order", "points": points,
        "order_id": format!("pos:{sale}"), "key": format!("order:pos:{sale}"),
        "currency": "SAR",
    })
}

#[test]
fn good_rows_import_bad_rows_are_reported_by_line_and_a_reimport_changes_nothing() {
    let site = Site::new();
    let at = an_hour_ago();
    let text = format!(
        "{HEADER}\n\
         S-1,{at},noor,,,11500,500,1500,true,2000,SAR\n\
         S-2,,noor,,,10000,,,,,SAR\n\
         S-1,{at},noor,,,11500,500,1500,true,2000,SAR\n\
         S-3,,omar,,,12.50,,,,,SAR\n\
         S-4,,,who@example.com,,5000,,,,,SAR\n\
         \"S-5\",,layla,,,3000,,,,,SAR\n\
         S-6,,omar,,,5000,,500,,,SAR\n\
         S-7,,omar,,,5000\n\
         S-8,,omar,,,5000,,,,,sar\n\
         ,,omar,,,5000,,,,,SAR\n"
    );
    let file = sales_file(&site, "sales.csv", &text);
    let (status, stdout, stderr) = import(&site, &file, &[]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.starts_with("imported 3, duplicates 1, refused 6 "),
        "{stdout}"
    );
    let problems: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split_once("sales.csv "))
        .map(|(_, p)| p)
        .collect();
    let expected = [
        "line 5: subtotal: must be a whole number of minor units",
        "line 6: email: no customer with this email has a userId yet",
        "line 8: tax_in_prices: is required when tax is above 0",
        "line 9: has 6 cells, the header has 11",
        "line 10: currency: must be an ISO 4217 code",
        "line 11: sale_id: is required",
    ];
    assert_eq!(problems.len(), expected.len(), "{stderr}");
    for (problem, start) in problems.iter().zip(expected) {
        assert!(problem.starts_with(start), "{problem:?} vs {start:?}");
    }

    // 115.00 with VAT inside, 20.00 shipping, 5.00 off: 95.00 of goods; as online.
    let want = vec![
        entry("noor", "S-1", 95),
        entry("noor", "S-2", 100),
        entry("layla", "S-5", 30),
    ];
    assert_eq!(ledger(&site), want);
    let at_ms: String = site
        .conn()
        .query_row(
            "SELECT at FROM loyalty_ledger WHERE key = 'order:pos:S-1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(at_ms, at);
    // The customers named by customer_id are in the identity graph now.
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM identities WHERE kind = 'user_id' AND value IN ('noor', 'layla')"
        ),
        2
    );

    // The same file again: everything is a duplicate or refused, nothing appended.
    let (status, stdout, _) = import(&site, &file, &[]);
    assert!(status.success());
    assert!(
        stdout.starts_with("imported 0, duplicates 4, refused 6 "),
        "{stdout}"
    );
    assert_eq!(ledger(&site), want);
}

#[test]
fn an_unreadable_file_or_a_wrong_header_stops_the_import_before_any_row() {
    let site = Site::new();
    let missing = site.dir.path().join("nowhere.csv");
    let (status, _, stderr) = import(&site, &missing, &[]);
    assert!(!status.success());
    assert!(stderr.contains("cannot read the sales file"), "{stderr}");

    let empty = sales_file(&site, "empty.csv", "");
    let (status, _, stderr) = import(&site, &empty, &[]);
    assert!(!status.success());
    assert!(stderr.contains("the file is empty"), "{stderr}");

    for (header, problem) in [
        (
            "sale_id,customer_id,subtotl,currency",
            "unknown column \"subtotl\"",
        ),
        (
            "sale_id,customer_id,subtotal",
            "column \"currency\" is missing",
        ),
        ("sale_id,subtotal,currency", "one of the columns"),
    ] {
        let file = sales_file(&site, "bad.csv", &format!("{header}\nS-1,noor,5000,SAR\n"));
        let (status, stdout, stderr) = import(&site, &file, &[]);
        assert!(!status.success(), "{header}: {stdout}");
        assert!(stderr.contains("has a wrong header"), "{stderr}");
        assert!(stderr.contains(problem), "{problem}: {stderr}");
    }
    assert_eq!(site.count("SELECT COUNT(*) FROM loyalty_ledger"), 0);
}

#[test]
fn the_shops_loyalty_rules_apply_to_pos_sales() {
    let site = Site::new();
    let rules = sales_file(
        &site,
        "rules.json",
        r#"{ "earn": { "points": 3, "per": 100 } }"#,
    );
    let file = sales_file(
        &site,
        "sales.csv",
        "sale_id,customer_id,subtotal,currency\nS-1,noor,5000,SAR\n",
    );
    let rules = rules.to_str().unwrap();
    let (status, stdout, stderr) = import(&site, &file, &["--loyalty-rules", rules]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("imported 1, duplicates 0, refused 0 "));
    assert_eq!(
        site.count("SELECT points FROM loyalty_ledger WHERE key = 'order:pos:S-1'"),
        150
    );
}

#[test]
fn a_customer_identified_online_by_email_redeems_online_what_they_earned_in_store() {
    let site = Site::new();
    let mut cmd = site.command();
    cmd.arg("--server-key")
        .arg(SERVER_KEY)
        .arg("--identity-secret")
        .arg(IDENTITY_SECRET);
    let server = Server::start(cmd);

    // Online: the shop identifies Sara, with her email.
    let identify = json!({
        "type": "identify", "messageId": "m-1", "userId": "sara", "anonymousId": "a-1",
        "timestamp": an_hour_ago(), "traits": { "email": "Sara@Example.com" }
    });
    let reply = server.post_json("/v1/batch", &json!({ "batch": [identify] }));
    assert_eq!(reply.status, 200);

    // In store: a 1,000.00 sale, with only her email on the receipt; imported while
    // the server runs on the same file.
    let file = sales_file(
        &site,
        "branch.csv",
        &format!("{HEADER}\nB-17,,, sara@example.com ,,100000,,,,,SAR\n"),
    );
    let (status, stdout, stderr) = import(&site, &file, &[]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.starts_with("imported 1, duplicates 0, refused 0 "),
        "{stdout} {stderr}"
    );

    // Online again: she sees the points and spends them with her userHash.
    let user_hash = user_hash(IDENTITY_SECRET, "sara");
    let view = server.get(&format!("/v1/loyalty?userId=sara&userHash={user_hash}"));
    let view = view.json();
    assert_eq!(view["balance"], 1_000, "{view}");
    assert_eq!(view["history"][0]["orderId"], "pos:B-17");

    let forged = server.post(
        "/v1/loyalty/redeem",
        &[("content-type", "application/json")],
        json!({ "userId": "sara", "userHash": "0".repeat(64), "reward": "ten-percent" })
            .to_string(),
    );
    assert_eq!(forged.status, 401);

    let reply = server.post(
        "/v1/loyalty/redeem",
        &[("content-type", "application/json")],
        json!({ "userId": "sara", "userHash": user_hash, "reward": "ten-percent" }).to_string(),
    );
    let redeemed = reply.json();
    assert_eq!(reply.status, 201, "{redeemed}");
    assert_eq!(redeemed["entry"]["points"], -800);
    assert_eq!(redeemed["balance"], 200);

    // The checkout accepts the code.
    let bearer = format!("Bearer {SERVER_KEY}");
    let check = server.post(
        "/v1/coupons/validate",
        &[
            ("content-type", "application/json"),
            ("authorization", &bearer),
        ],
        json!({ "code": redeemed["code"] }).to_string(),
    );
    let check = check.json();
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(check["userId"], "sara");

    // Re-importing the branch's file does not earn again.
    let (status, stdout, _) = import(&site, &file, &[]);
    assert!(status.success());
    assert!(
        stdout.starts_with("imported 0, duplicates 1, refused 0 "),
        "{stdout}"
    );
    let view = server.get(&format!("/v1/loyalty?userId=sara&userHash={user_hash}"));
    assert_eq!(view.json()["balance"], 200);
}

#[test]
fn windows_line_ends_blank_lines_and_a_bom_keep_the_line_numbers_right() {
    let site = Site::new();
    let file = sales_file(
        &site,
        "till.csv",
        "\u{feff}sale_id,customer_id,subtotal,currency\r\nA-1,noor,5000,SAR\r\n\r\n\"A-2\",noor,abc,SAR\r\nA-3,noor,1000,SAR\r\n",
    );
    let (status, stdout, stderr) = import(&site, &file, &[]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.starts_with("imported 2, duplicates 0, refused 1 "),
        "{stdout}"
    );
    assert!(stderr.contains("till.csv line 4: subtotal:"), "{stderr}");
}
