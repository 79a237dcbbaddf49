//! `souk-server eval` end to end on a tiny synthetic shop
//! (`tests/data/online-retail-synthetic.csv`, made up for this test: twelve
//! customers who each buy tea things or candle things, once before 1 February
//! 2011 and once after, plus a cancellation, a guest sale, postage and a discount).

use std::path::Path;
use std::process::Command;

fn data() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/online-retail-synthetic.csv")
        .display()
        .to_string()
}

fn eval(extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_souk-server"))
        .args(["eval", "--data", &data(), "--no-implicit"])
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .expect("souk-server runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The table's cells for `method` and `task`.
fn cells<'a>(table: &'a str, method: &str, task: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("| {method}")) && l.contains(task))
        .unwrap_or_else(|| panic!("no row for {method} / {task} in\n{table}"));
    line.split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn eval_prints_the_comparison_table() {
    // auto is EASE on eight products; knn forces item-kNN for a second souk row.
    let (ok, table, log) = eval(&["--cutoff", "2011-02-01", "--algorithm", "auto,knn"]);
    assert!(ok, "{log}");
    assert!(
        log.contains("1 of cancellation or adjustment invoices"),
        "{log}"
    );
    assert!(log.contains("1 not products"), "{log}");
    assert!(log.contains("2 sales without a customer"), "{log}");
    assert!(log.contains("8 products"), "{log}");
    assert!(
        log.contains("stored 12 orders before 2011-02-01 through the batch path (0 refused)"),
        "{log}"
    );
    assert!(table
        .contains("| method | task | cases | hit-rate@10 | NDCG@10 | MRR@10 | coverage | build |"));
    assert!(
        log.contains("similarities: 8 of 8 products have neighbours (EASE, k = 20)"),
        "{log}"
    );
    for method in [
        "popularity",
        "item-kNN (raw counts)",
        "EASE (λ=100)",
        "souk EASE (K=20, half-life 30d, λ=50)",
        "souk item-kNN (K=20, half-life 30d, shrink 5)",
    ] {
        for task in ["picked for you", "with the cart"] {
            let row = cells(&table, method, task);
            assert_eq!(row.len(), 8, "{row:?}");
            assert_eq!(row[2], "12", "every customer is a case: {row:?}");
            for metric in &row[3..6] {
                let value: f64 = metric.parse().unwrap();
                assert!((0.0..=1.0).contains(&value), "{row:?}");
            }
        }
    }
    let mrr = |method| {
        cells(&table, method, "with the cart")[5]
            .parse::<f64>()
            .unwrap()
    };
    for souk in ["souk EASE", "souk item-kNN"] {
        // Eight products: every hidden cart item is somewhere in a top 10.
        assert_eq!(cells(&table, souk, "with the cart")[3], "1.0000");
        // souk ranks the hidden tea thing above the candles; popularity cannot know.
        assert!(mrr(souk) > mrr("popularity"), "{table}");
    }
}

#[test]
fn a_cutoff_with_nothing_after_it_is_explained() {
    let (ok, _, log) = eval(&["--cutoff", "2012-01-01"]);
    assert!(!ok);
    assert!(log.contains("choose another --cutoff"), "{log}");
    let (ok, _, log) = eval(&["--cutoff", "1 Sept"]);
    assert!(!ok);
    assert!(log.contains("is not a date such as 2011-09-01"), "{log}");
}
