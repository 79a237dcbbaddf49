//! Compatibility with an official Segment library, for real: segment-analytics-python,
//! installed from PyPI into a virtualenv, sends its calls to souk-server unchanged
//! (gzip bodies, `Authorization: Basic`, its own `context.library`), and they land
//! with the library's messageIds.
//!
//! The virtualenv lives under Cargo's target directory and is reused by later runs.
//! The test is skipped, saying why, only where `python3 -m venv` cannot make one.

mod common;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// The library release tested.
const LIBRARY_VERSION: &str = "2.4.0";

/// How long making the virtualenv and installing the library may take.
const INSTALL_LIMIT: Duration = Duration::from_secs(240);

/// How long the Python script may take.
const SCRIPT_LIMIT: Duration = Duration::from_secs(60);

/// Sends a track, an identify, a page and an alias one request each (blocking mode,
/// gzip), then a screen and a group queued and flushed as one batch by the library's
/// background thread; prints the messageIds by type.
const SCRIPT: &str = r#"
import json, sys
import segment.analytics as analytics

host, write_key = sys.argv[1], sys.argv[2]
ids = {}

analytics.write_key = write_key
analytics.host = host
analytics.sync_mode = True
analytics.gzip = True
ids["track"] = analytics.track("user-7", "Order Completed",
    {"order_id": "o-1", "revenue": 12.5, "currency": "SAR"})[1]["messageId"]
ids["identify"] = analytics.identify("user-7", {"name": "Noor"})[1]["messageId"]
ids["page"] = analytics.page("user-7", category="Shop", name="Home",
    properties={"url": "https://shop.example/"})[1]["messageId"]
ids["alias"] = analytics.alias("anon-1", "user-7")[1]["messageId"]

errors = []
client = analytics.Client(write_key, host=host, max_retries=1,
    on_error=lambda error, batch: errors.append(repr(error)))
ids["screen"] = client.screen(anonymous_id="anon-2", name="Cart")[1]["messageId"]
ids["group"] = client.group("user-7", "shop-1", {"plan": "gold"})[1]["messageId"]
client.flush()
client.join()
if errors:
    sys.exit("the queued batch failed: " + "; ".join(errors))
print(json.dumps(ids))
"#;

#[test]
fn segment_analytics_python_sends_every_call_type_and_they_are_stored() {
    let Some(python) = library_python() else {
        return;
    };
    let site = Site::new();
    let server = site.start();
    let mut script = Command::new(&python);
    script
        .args(["-c", SCRIPT, &server.url, DEMO_KEY])
        // The library's HTTP client would send loopback traffic to a configured proxy.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    let output = run_bounded(script, SCRIPT_LIMIT);
    assert!(
        output.status.success(),
        "the script failed: {}",
        describe(&output)
    );
    let ids: Value = serde_json::from_slice(&output.stdout).unwrap();

    let rows = site.rows(
        "SELECT message_id, type, event, anonymous_id, user_id, body FROM events ORDER BY rowid",
    );
    assert_eq!(rows.len(), 6, "{rows:#?}");
    let row = |kind: &str| -> &Value {
        let id = ids[kind].as_str().unwrap();
        assert_eq!(id.len(), 36, "not a UUID: {id}");
        rows.iter()
            .find(|row| row["message_id"] == id)
            .unwrap_or_else(|| panic!("no row for the {kind} call's messageId {id}"))
    };
    for kind in ["track", "identify", "page", "alias", "screen", "group"] {
        let row = row(kind);
        assert_eq!(row["type"], kind);
        let body: Value = serde_json::from_str(row["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body["context"]["library"],
            json!({ "name": "analytics-python", "version": LIBRARY_VERSION }),
            "{kind}"
        );
        assert_eq!(body["messageId"], ids[kind]);
    }
    let track = row("track");
    assert_eq!(
        (&track["event"], &track["user_id"], &track["anonymous_id"]),
        (&json!("Order Completed"), &json!("user-7"), &Value::Null)
    );
    let body: Value = serde_json::from_str(track["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["properties"]["revenue"], 12.5);
    assert_eq!(row("page")["event"], "Home");
    assert_eq!(row("screen")["event"], "Cart");
    assert_eq!(row("screen")["anonymous_id"], "anon-2");
    assert_eq!(row("alias")["user_id"], "user-7");
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");
    assert_no_panic(&stderr);
}

/// The Python of a virtualenv that has the library, made on first use; `None`, after
/// saying why, if `python3 -m venv` is unavailable.
fn library_python() -> Option<PathBuf> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("segment-analytics-python-{LIBRARY_VERSION}"));
    let venv = base.join("venv");
    let ready = |venv: &Path| venv.join("souk-ready").is_file();
    if ready(&venv) {
        return Some(venv.join("bin/python"));
    }

    // Built beside, then renamed into place, so a half-made one is never reused.
    let staging = base.join(format!("staging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&base).unwrap();
    let mut make = Command::new("python3");
    make.args(["-m", "venv"]).arg(&staging);
    let made = match spawn_bounded(make, INSTALL_LIMIT) {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            eprintln!(
                "SKIPPED: `python3 -m venv` is unavailable here, so segment-analytics-python cannot be installed: {}",
                describe(&output)
            );
            false
        }
        Err(e) => {
            eprintln!("SKIPPED: python3 cannot be run ({e}), so segment-analytics-python cannot be installed");
            false
        }
    };
    if !made {
        let _ = fs::remove_dir_all(&staging);
        return None;
    }

    let mut install = Command::new(staging.join("bin/python"));
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input", "--timeout", "30", "--retries", "2"])
        .arg(format!("segment-analytics-python=={LIBRARY_VERSION}"));
    let output = run_bounded(install, INSTALL_LIMIT);
    assert!(
        output.status.success(),
        "installing segment-analytics-python {LIBRARY_VERSION} from PyPI failed: {}",
        describe(&output)
    );
    fs::write(staging.join("souk-ready"), "").unwrap();
    if fs::rename(&staging, &venv).is_err() {
        // Another run got there first.
        let _ = fs::remove_dir_all(&staging);
        assert!(
            ready(&venv),
            "cannot move the virtualenv into {}",
            venv.display()
        );
    }
    Some(venv.join("bin/python"))
}

/// Runs `cmd` to its end within `limit`, failing the test if it cannot be started or
/// takes longer.
fn run_bounded(cmd: Command, limit: Duration) -> Output {
    let program = format!("{cmd:?}");
    spawn_bounded(cmd, limit).unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs `cmd` to its end, killing it and failing the test after `limit`.
fn spawn_bounded(mut cmd: Command, limit: Duration) -> io::Result<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} took more than {limit:?}; stderr:\n{}",
                stderr.join().unwrap()
            );
        }
        thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap().into_bytes(),
        stderr: stderr.join().unwrap().into_bytes(),
    })
}

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
