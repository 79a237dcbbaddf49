//! The harness shared by the integration tests: the real `souk-server` binary on a free
//! port of 127.0.0.1, a real SQLite file in a temporary directory, and plain HTTP.

#![allow(dead_code)] // Each test file uses its own part of the harness.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::{json, Value};
use tempfile::TempDir;

/// How long the server may take to start, stop, or answer one request.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The write key the server uses when none is given.
pub const DEMO_KEY: &str = "souk_demo_write_key";

pub const INDEX_HTML: &str = "<!doctype html><html><head><title>Demo shop</title></head><body><h1>Demo shop</h1><p>Fresh dates and coffee.</p></body></html>\n";
pub const SHOP_HTML: &str = "<!doctype html><title>Shop</title>\n";

/// A minimal valid wasm module (magic, version) followed by a custom section, long
/// enough for the server to bother compressing it.
pub fn wasm_bytes() -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    let payload = [b"\x04demo".as_slice(), &[0u8; 64]].concat();
    bytes.push(0); // custom section
    bytes.push(payload.len() as u8);
    bytes.extend(payload);
    bytes
}

/// A temporary shop: a `www` and a `dist` directory and a database path.
pub struct Site {
    pub dir: TempDir,
}

impl Site {
    pub fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("www/shop")).unwrap();
        fs::create_dir_all(dir.path().join("dist")).unwrap();
        fs::write(dir.path().join("www/index.html"), INDEX_HTML).unwrap();
        fs::write(dir.path().join("www/shop/index.html"), SHOP_HTML).unwrap();
        fs::write(dir.path().join("dist/souk_bg.wasm"), wasm_bytes()).unwrap();
        Site { dir }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("souk.db")
    }

    /// `souk-server serve` on a free port with this site's files and database.
    pub fn command(&self) -> Command {
        self.command_on("127.0.0.1:0", &self.db())
    }

    /// `souk-server serve` with this site's files on the given address and database.
    pub fn command_on(&self, addr: &str, db: &Path) -> Command {
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
            .env_remove("SOUK_WRITE_KEY")
            .env_remove("SOUK_SERVER_KEY")
            .env_remove("SOUK_ALLOWED_ORIGINS")
            .env_remove("SOUK_IDENTITY_SECRET")
            .env_remove("SOUK_LOYALTY_RULES");
        cmd
    }

    /// `souk-server events` on this site's database, with `args` after it.
    pub fn events_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
        cmd.arg("events")
            .arg("--db")
            .arg(self.db())
            .args(args)
            .env_remove("RUST_LOG");
        cmd
    }

    pub fn start(&self) -> Server {
        Server::start(self.command())
    }

    /// Opens the database file directly, beside the running server.
    pub fn conn(&self) -> Connection {
        Connection::open(self.db()).unwrap()
    }

    /// The single integer that `sql` selects.
    pub fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// The rows `sql` selects, each as a JSON object keyed by column name (integers,
    /// text and nulls only).
    pub fn rows(&self, sql: &str) -> Vec<Value> {
        let conn = self.conn();
        let mut statement = conn.prepare(sql).unwrap();
        let names: Vec<String> = statement
            .column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        statement
            .query_map([], |row| {
                let mut object = serde_json::Map::new();
                for (i, name) in names.iter().enumerate() {
                    let value = match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => json!(n),
                        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        other => panic!("column {name} holds {other:?}"),
                    };
                    object.insert(name.clone(), value);
                }
                Ok(Value::Object(object))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// How many rows the `events` table holds.
    pub fn events(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM events")
    }

    /// How many rows the `consents` table holds.
    pub fn consents(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM consents")
    }
}

/// A running souk-server, killed if a test fails before stopping it.
pub struct Server {
    child: Child,
    pub url: String,
    stderr: Option<JoinHandle<String>>,
}

impl Server {
    pub fn start(mut cmd: Command) -> Server {
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

    pub fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers, None)
    }

    /// Any request; `body` is sent as is.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = match body {
            Some(body) => agent().run(request.body(body.to_vec()).unwrap()),
            None => agent().run(request.body(()).unwrap()),
        };
        Reply::from(response.unwrap())
    }

    /// POSTs `body` with the given headers.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Reply {
        self.send("POST", path, headers, Some(body.as_ref()))
    }

    /// POSTs `body` as `application/json` with the demo write key in Basic auth.
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        let auth = basic(DEMO_KEY);
        self.post(
            path,
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            body.to_string(),
        )
    }

    /// Sends `signal` and waits for the process to exit.
    pub fn stop(mut self, signal: libc::c_int) -> (ExitStatus, String) {
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

/// `Basic base64(key + ":")`, Segment's way to send the write key.
pub fn basic(key: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:")))
}

/// A valid track message with the given `messageId`.
pub fn track(message_id: &str) -> Value {
    json!({
        "type": "track",
        "event": "Product Viewed",
        "messageId": message_id,
        "anonymousId": "anon-1",
        "timestamp": "2024-05-01T12:00:00.250+02:00",
        "properties": { "product_id": "dates-500g", "price": 12.5, "currency": "SAR" },
        "context": { "locale": "ar-SA" }
    })
}

/// Reads a pipe to its end on another thread.
pub fn collect(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Waits up to [`LIMIT`] for `child` to exit, killing it and failing past that.
pub fn wait_exit(child: &mut Child) -> ExitStatus {
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
pub fn run_to_exit(mut cmd: Command) -> (ExitStatus, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child);
    (status, stderr.join().unwrap())
}

/// Runs a command that is expected to exit by itself; returns its status, stdout and
/// stderr.
pub fn run_with_output(mut cmd: Command) -> (ExitStatus, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child);
    (status, stdout.join().unwrap(), stderr.join().unwrap())
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(LIMIT))
        .proxy(None)
        .build()
        .into()
}

/// The parts of a response the tests look at.
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
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
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The body as JSON; the content type must say so.
    pub fn json(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "status {}, body {:?}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The `error` message of a JSON error answer with `status`.
    pub fn error(&self, status: u16) -> String {
        let json = self.json();
        assert_eq!(self.status, status, "{json}");
        json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {json}"))
            .to_owned()
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

pub fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked"),
        "souk-server panicked:\n{stderr}"
    );
}

/// `souk-server agent add` on the site's database with `args` (`--email`, `--name`,
/// `--role`…) and `password` on standard input: whether it succeeded, and its stderr.
pub fn add_staff(site: &Site, args: &[&str], password: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_souk-server"))
        .args(["agent", "add", "--db"])
        .arg(site.db())
        .args(args)
        .arg("--password-stdin")
        .env_remove("SOUK_AGENT_PASSWORD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child);
    (status.success(), stderr.join().unwrap())
}

/// Signs in to the staff API with `email` and `password`, which must succeed, and
/// answers the session's `Cookie` header value.
pub fn staff_cookie(server: &Server, email: &str, password: &str) -> String {
    let reply = server.post(
        "/v1/agent/login",
        &[("content-type", "application/json")],
        serde_json::json!({ "email": email, "password": password }).to_string(),
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let cookie = reply.header("set-cookie").unwrap();
    cookie.split(';').next().unwrap().to_owned()
}
