//! `souk-server events`: the stored events as JSON Lines or CSV, in the order received
//! (then by messageId), read beside a running server.

mod common;

use std::fs;
use std::thread;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Posts `body` to `path` and waits a little, so that the next post is received at a
/// later millisecond.
fn post(server: &Server, path: &str, body: &Value) {
    let reply = server.post_json(path, body);
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    thread::sleep(Duration::from_millis(5));
}

#[test]
fn jsonl_is_each_message_as_sent_in_received_order_while_serve_runs() {
    let site = Site::new();
    let server = site.start();
    let identify = json!({
        "type": "identify", "userId": "user-7", "messageId": "a-identify",
        "timestamp": "2024-05-01T10:01:00+03:00", "traits": { "name": "نور" },
        "zField": 1, "aField": [true, null]
    });
    // Received in this order; within one batch, by messageId.
    post(
        &server,
        "/v1/batch",
        &json!({ "batch": [track("z2"), track("z1")] }),
    );
    post(&server, "/v1/identify", &identify);
    post(
        &server,
        "/v1/batch",
        &json!({ "batch": [track("b1"), track("z1")] }),
    );

    // The server is still running, with the rows in its WAL.
    let (status, stdout, stderr) = run_with_output(site.events_command(&["--format", "jsonl"]));
    assert!(status.success(), "{stderr}");
    assert_no_panic(&stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    let expected = [
        track("z1").to_string(),
        track("z2").to_string(),
        identify.to_string(),
        track("b1").to_string(),
    ];
    // Compact, with the fields in the order they were sent.
    assert_eq!(lines, expected);
    let ids: Vec<String> = lines
        .iter()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["messageId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["z1", "z2", "a-identify", "b1"]);
    assert!(stdout.ends_with('\n'));

    // The export changed nothing, and the server goes on.
    post(&server, "/v1/batch", &json!({ "batch": [track("c1")] }));
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");
    assert_eq!(site.events(), 5);
}

#[test]
fn csv_has_a_header_and_quotes_commas_and_quotes() {
    let site = Site::new();
    let server = site.start();
    let mut tricky = track("m,1");
    tricky["event"] = json!(r#"Coffee, "Arabic" 250g"#);
    tricky["userId"] = json!("line\nbreak");
    let page = json!({
        "type": "page", "messageId": "m2", "anonymousId": "anon-2",
        "timestamp": "2024-05-02T00:00:00Z"
    });
    post(&server, "/v1/batch", &json!({ "batch": [tricky, page] }));

    let out = site.dir.path().join("events.csv");
    let (status, stdout, stderr) =
        run_with_output(site.events_command(&["--format", "csv", "--out", out.to_str().unwrap()]));
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "", "--out writes nothing to stdout");
    let text = fs::read_to_string(&out).unwrap();
    let received_at: Vec<String> = site
        .rows("SELECT received_at FROM events ORDER BY message_id")
        .into_iter()
        .map(|row| row["received_at"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        text,
        format!(
            "message_id,type,event,anonymous_id,user_id,timestamp,received_at\n\
             \"m,1\",track,\"Coffee, \"\"Arabic\"\" 250g\",anon-1,\"line\nbreak\",2024-05-01T10:00:00.250Z,{}\n\
             m2,page,,anon-2,,2024-05-02T00:00:00.000Z,{}\n",
            received_at[0], received_at[1]
        )
    );
    // A CSV reader gets the fields back.
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let first = reader.records().next().unwrap().unwrap();
    assert_eq!(&first[0], "m,1");
    assert_eq!(&first[2], r#"Coffee, "Arabic" 250g"#);
    assert_eq!(&first[4], "line\nbreak");

    // --out replaces the file; stdout gets the same text.
    fs::write(&out, "old").unwrap();
    let (_, stdout, _) = run_with_output(site.events_command(&["--format", "csv"]));
    run_with_output(site.events_command(&["--format", "csv", "--out", out.to_str().unwrap()]));
    assert_eq!(fs::read_to_string(&out).unwrap(), text);
    assert_eq!(stdout, text);
}

#[test]
fn an_empty_database_exports_only_the_csv_header() {
    let site = Site::new();
    let (status, _) = site.start().stop(libc::SIGTERM);
    assert!(status.success());
    let (status, stdout, stderr) = run_with_output(site.events_command(&["--format", "csv"]));
    assert!(status.success(), "{stderr}");
    assert_eq!(
        stdout,
        "message_id,type,event,anonymous_id,user_id,timestamp,received_at\n"
    );
    let (status, stdout, _) = run_with_output(site.events_command(&["--format", "jsonl"]));
    assert!(status.success());
    assert_eq!(stdout, "");
}

#[test]
fn errors_are_one_clear_line_and_a_failure_exit() {
    let site = Site::new();
    let error_line = |stderr: &str| -> String {
        assert_no_panic(stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        lines[0].to_owned()
    };

    // No database file.
    let (status, stdout, stderr) = run_with_output(site.events_command(&["--format", "csv"]));
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "");
    assert_eq!(
        error_line(&stderr),
        format!(
            "error: the database {} does not exist (check --db)",
            site.db().display()
        )
    );
    assert!(!site.db().exists(), "the export created the database");

    // A SQLite file that is not souk-server's, and a file that is not SQLite.
    rusqlite::Connection::open(site.db())
        .unwrap()
        .execute_batch("CREATE TABLE other (x)")
        .unwrap();
    let (status, _, stderr) = run_with_output(site.events_command(&["--format", "jsonl"]));
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        error_line(&stderr),
        format!(
            "error: {} is not a souk-server database (its schema version is 0); point --db at the file `souk-server serve` uses",
            site.db().display()
        )
    );
    fs::write(
        site.db(),
        "not a database at all, just some text that is long enough",
    )
    .unwrap();
    let (status, _, stderr) = run_with_output(site.events_command(&["--format", "jsonl"]));
    assert_eq!(status.code(), Some(1));
    let line = error_line(&stderr);
    assert!(
        line.starts_with("error: cannot open the database"),
        "{line}"
    );
    assert!(line.contains("file is not a database"), "{line}");

    // An output file that cannot be created.
    fs::remove_file(site.db()).unwrap();
    site.start().stop(libc::SIGTERM);
    let out = site.dir.path().join("no/such/dir/events.csv");
    let (status, _, stderr) =
        run_with_output(site.events_command(&["--format", "csv", "--out", out.to_str().unwrap()]));
    assert_eq!(status.code(), Some(1));
    let line = error_line(&stderr);
    assert!(
        line.starts_with(&format!(
            "error: cannot write the events to {}: ",
            out.display()
        )),
        "{line}"
    );

    // An unknown format is a usage error.
    let (status, _, stderr) = run_with_output(site.events_command(&["--format", "xml"]));
    assert_eq!(status.code(), Some(2));
    assert_no_panic(&stderr);
    assert!(
        stderr.starts_with(
            "error: invalid value 'xml' for '--format <FORMAT>'\n  [possible values: jsonl, csv]"
        ),
        "{stderr}"
    );
}
