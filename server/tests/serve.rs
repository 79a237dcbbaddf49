//! `souk-server serve` tested from outside: the real binary, a real SQLite file in a
//! temporary directory, and plain HTTP on 127.0.0.1.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::{json, Value};
use tempfile::TempDir;

/// How long the server may take to start or to stop.
const LIMIT: Duration = Duration::from_secs(10);

const INDEX_HTML: &str = "<!doctype html><html><head><title>Demo shop</title></head><body><h1>Demo shop</h1><p>Fresh dates and coffee.</p></body></html>\n";
const SHOP_HTML: &str = "<!doctype html><title>Shop</title>\n";

/// A minimal valid wasm module (magic, version) followed by a custom section, long
/// enough for the server to bother compressing it.
fn wasm_bytes() -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    let payload = [b"\x04demo".as_slice(), &[0u8; 64]].concat();
    bytes.push(0); // custom section
    bytes.push(payload.len() as u8);
    bytes.extend(payload);
    bytes
}

/// A temporary shop: a `www` and a `dist` directory and a database path.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("www/shop")).unwrap();
        fs::create_dir_all(dir.path().join("dist")).unwrap();
        fs::write(dir.path().join("www/index.html"), INDEX_HTML).unwrap();
        fs::write(dir.path().join("www/shop/index.html"), SHOP_HTML).unwrap();
        fs::write(dir.path().join("dist/souk_bg.wasm"), wasm_bytes()).unwrap();
        Site { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("souk.db")
    }

    /// `souk-server serve` on a free port with this site's files and database.
    fn command(&self) -> Command {
        self.command_on("127.0.0.1:0", &self.db())
    }

    /// `souk-server serve` with this site's files on the given address and database.
    fn command_on(&self, addr: &str, db: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
        cmd.arg("serve")
            .arg("--addr")
            .arg(addr)
            .arg("--db")
            .arg(db)
            .arg("--www")
            .arg(self.dir.path().join("www"))
            .arg("--dist")
            .arg(self.dir.path().join("dist"))
            .env_remove("RUST_LOG")
            .env_remove("SOUK_WRITE_KEY");
        cmd
    }

    fn start(&self) -> Server {
        Server::start(self.command())
    }
}

/// A running souk-server, killed if a test fails before stopping it.
struct Server {
    child: Child,
    url: String,
    stderr: Option<JoinHandle<String>>,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = collect(child.stderr.take().unwrap());
        let (lines_tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
            stderr: Some(stderr),
        };
        let deadline = Instant::now() + LIMIT;
        loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        server.url = url.to_owned();
                        return server;
                    }
                }
                Err(e) => {
                    let _ = server.child.kill();
                    let _ = server.child.wait();
                    panic!(
                        "no `listening on` line ({e}); stderr:\n{}",
                        server.take_stderr()
                    );
                }
            }
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = agent().get(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.call().unwrap())
    }

    /// Sends `signal` and waits for the process to exit.
    fn stop(mut self, signal: libc::c_int) -> (ExitStatus, String) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) only sends a signal, to the child this test started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill failed");
        let status = wait_exit(&mut self.child);
        (status, self.take_stderr())
    }

    fn take_stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a pipe to its end on another thread.
fn collect(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Waits up to [`LIMIT`] for `child` to exit, killing it and failing past that.
fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("souk-server did not exit within {LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command that is expected to exit by itself; returns its status and stderr.
fn run_to_exit(mut cmd: Command) -> (ExitStatus, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child);
    (status, stderr.join().unwrap())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(LIMIT))
        .proxy(None)
        .build()
        .into()
}

/// The parts of a response the tests look at.
struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl From<ureq::http::Response<ureq::Body>> for Reply {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Reply {
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.body_mut().read_to_vec().unwrap(),
        }
    }
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn json(&self) -> Value {
        assert_eq!(self.header("content-type"), Some("application/json"));
        serde_json::from_slice(&self.body).unwrap()
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked"),
        "souk-server panicked:\n{stderr}"
    );
}

#[test]
fn health_reports_ok_and_the_schema_version() {
    let site = Site::new();
    let server = site.start();
    let reply = server.get("/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({ "status": "ok", "schema_version": 1 }));
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

    // Running migration 1 again would fail on the existing table, or drop the row.
    let server = site.start();
    assert_eq!(server.get("/health").json()["schema_version"], 1);
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
    assert_eq!(version, 1);
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
