//! `souk-server serve` tested from outside: the real binary, a real SQLite file in a
//! temporary directory, and plain HTTP on 127.0.0.1.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use rusqlite::Connection;
use serde_json::json;

#[test]
fn health_reports_ok_and_the_schema_version() {
    let site = Site::new();
    let server = site.start();
    let reply = server.get("/health");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({ "status": "ok", "schema_version": souk_server::store::SCHEMA_VERSION })
    );
}

#[test]
fn the_database_is_a_wal_file_with_the_events_table() {
    let site = Site::new();
    let server = site.start();
    assert_eq!(server.get("/health").status, 200);
    assert!(site.db().is_file());

    let conn = Connection::open(site.db()).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut names = conn
        .prepare("SELECT name FROM sqlite_schema WHERE tbl_name = 'events' ORDER BY name")
        .unwrap();
    let names: Vec<String> = names
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        names,
        [
            "events",
            "events_anonymous_id",
            "events_identify",
            "events_track",
            "events_user_id",
            "sqlite_autoindex_events_1"
        ]
    );
}

#[test]
fn a_restart_keeps_the_data_and_does_not_rerun_migrations() {
    let site = Site::new();
    let (status, _) = site.start().stop(libc::SIGTERM);
    assert!(status.success());

    // A row written between the runs, while no server holds the file.
    Connection::open(site.db())
        .unwrap()
        .execute(
            "INSERT INTO events (message_id, type, event, timestamp, received_at, body)
             VALUES ('m1', 'track', 'Product Viewed', '2024-05-01T10:00:00Z', '2024-05-01T10:00:01Z', '{}')",
            [],
        )
        .unwrap();

    // Running the migrations again would fail on the existing tables, or drop the row.
    let server = site.start();
    assert_eq!(
        server.get("/health").json()["schema_version"],
        souk_server::store::SCHEMA_VERSION
    );
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "second run failed:\n{stderr}");

    let conn = Connection::open(site.db()).unwrap();
    let event: String = conn
        .query_row(
            "SELECT event FROM events WHERE message_id = 'm1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(event, "Product Viewed");
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, souk_server::store::SCHEMA_VERSION);
}

#[test]
fn static_files_have_their_content_types_and_no_cache() {
    let site = Site::new();
    let server = site.start();

    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.body, INDEX_HTML.as_bytes());

    let nested = server.get("/shop/");
    assert_eq!(nested.status, 200);
    assert_eq!(nested.body, SHOP_HTML.as_bytes());

    let wasm = server.get("/dist/souk_bg.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.header("cache-control"), Some("no-cache"));
    assert_eq!(wasm.body, wasm_bytes());

    assert_eq!(server.get("/missing.html").status, 404);
}

#[test]
fn static_files_are_compressed_when_asked() {
    let site = Site::new();
    let server = site.start();

    let plain = server.get("/");
    assert_eq!(plain.header("content-encoding"), None);

    let page = server.get_with("/", &[("accept-encoding", "gzip")]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&page.body), INDEX_HTML.as_bytes());

    let wasm = server.get_with("/dist/souk_bg.wasm", &[("accept-encoding", "gzip")]);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&wasm.body), wasm_bytes());

    let brotli = server.get_with("/", &[("accept-encoding", "br")]);
    assert_eq!(brotli.header("content-encoding"), Some("br"));
}

#[test]
fn an_unknown_api_path_is_a_json_404() {
    let site = Site::new();
    let server = site.start();
    for path in ["/v1/nope", "/v1/nope/deeper", "/v1"] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            reply.json(),
            json!({ "error": format!("no API endpoint at {path}") })
        );
    }
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let site = Site::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, stderr) = run_to_exit(site.command_on(&addr, &site.db()));
    assert!(!status.success());
    assert_no_panic(&stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("no error line");
    assert!(
        error.contains(&addr) && error.contains("already in use"),
        "{error}"
    );
}

#[test]
fn an_unopenable_database_is_a_clear_error() {
    let site = Site::new();
    let db = site.dir.path().join("no/such/dir/souk.db");
    let (status, stderr) = run_to_exit(site.command_on("127.0.0.1:0", &db));
    assert!(!status.success());
    assert_no_panic(&stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("no error line");
    assert!(
        error.contains("cannot open the database") && error.contains(db.to_str().unwrap()),
        "{error}"
    );
}

#[test]
fn a_bad_argument_is_a_clear_error() {
    let site = Site::new();
    let (status, stderr) = run_to_exit(site.command_on("not-an-address", &site.db()));
    assert_eq!(status.code(), Some(2));
    assert_no_panic(&stderr);
    assert!(
        stderr.contains("invalid value 'not-an-address' for '--addr <ADDR>'"),
        "{stderr}"
    );
}

#[test]
fn sigint_and_sigterm_stop_it_cleanly() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let site = Site::new();
        let server = site.start();
        assert_eq!(server.get("/health").status, 200);

        let asked = Instant::now();
        let (status, stderr) = server.stop(signal);
        assert!(status.success(), "signal {signal}: {status}\n{stderr}");
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "took {:?}",
            asked.elapsed()
        );
        // The writer closed the database last, folding the WAL back into the file.
        assert!(
            !site.dir.path().join("souk.db-wal").exists(),
            "the WAL was left behind"
        );
    }
}

#[test]
fn the_demo_write_key_is_announced_only_when_no_key_is_set() {
    let site = Site::new();
    let (_, stderr) = site.start().stop(libc::SIGTERM);
    assert!(
        stderr.contains("demo write key `souk_demo_write_key`"),
        "{stderr}"
    );
    assert!(stderr.contains("a real shop must set its own"), "{stderr}");

    let mut cmd = site.command();
    cmd.env("SOUK_WRITE_KEY", "shop_write_key");
    let (_, stderr) = Server::start(cmd).stop(libc::SIGTERM);
    assert!(!stderr.contains("demo write key"), "{stderr}");
}

#[test]
fn a_database_of_schema_version_1_is_migrated_and_keeps_its_events() {
    let site = Site::new();
    // What the first souk-server release left behind: the events table at version 1.
    let conn = Connection::open(site.db()).unwrap();
    conn.execute_batch(include_str!("../migrations/0001_events.sql"))
        .unwrap();
    conn.execute(
        "INSERT INTO events (message_id, type, timestamp, received_at, body)
         VALUES ('old', 'page', '2024-05-01T10:00:00Z', '2024-05-01T10:00:01Z', '{}')",
        [],
    )
    .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);

    let server = site.start();
    assert_eq!(
        server.get("/health").json()["schema_version"],
        souk_server::store::SCHEMA_VERSION
    );
    assert_eq!(site.consents(), 0);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM events WHERE message_id = 'old'"),
        1
    );
}
