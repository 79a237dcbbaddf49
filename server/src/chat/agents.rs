//! The shop's agents: `souk-server agent add`, signing in and out of the console, and
//! [`SignedIn`], the proof of a session that every other agent endpoint takes.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, two
//! passes) and stored as PHC strings. A session is a random 256-bit token in an
//! `HttpOnly; SameSite=Strict` cookie; the database keeps only its SHA-256. The agent
//! endpoints have no CORS, and refuse requests a browser marks as cross-site.

use std::io::{self, BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{COOKIE, HOST, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::conversation::AgentRef;
use super::limit::{self, LOGINS};
use super::Refusal;
use crate::body::JsonBody;
use crate::fields::Fields;
use crate::http::{ApiError, AppState};
use crate::identity::{normalize_email, MAX_EMAIL_CHARS};
use crate::store::{self, Store};
use crate::{datetime, Error};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "souk_agent";

/// How long a session lasts: a working day.
pub const SESSION_SECONDS: u64 = 12 * 60 * 60;

/// The environment variable `agent add` reads the password from without
/// `--password-stdin`.
pub const PASSWORD_ENV: &str = "SOUK_AGENT_PASSWORD";

/// The shortest password `agent add` takes.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The longest password taken (argon2 would take more; nobody types more).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The longest agent name.
pub const MAX_NAME_CHARS: usize = 100;

/// Options of `souk-server agent`.
#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AgentCommand,
}

/// The `agent` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AgentCommand {
    /// Add an agent who signs in to the chat console at /agent. The password comes
    /// from standard input (`--password-stdin`) or SOUK_AGENT_PASSWORD, never a flag.
    Add(AgentAddArgs),
    /// List the agents.
    List(AgentListArgs),
}

/// Options of `souk-server agent add`.
#[derive(Debug, clap::Args)]
pub struct AgentAddArgs {
    /// SQLite database file; created if missing. `serve` may be running on it.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The agent's email, which they sign in with.
    #[arg(long)]
    pub email: String,
    /// The agent's name, which shoppers see on their replies.
    #[arg(long)]
    pub name: String,
    /// Read the password from the first line of standard input [default: the
    /// SOUK_AGENT_PASSWORD environment variable].
    #[arg(long)]
    pub password_stdin: bool,
    /// `agent` answers chats at /agent; `merchant` also reads the CRM at /v1/crm.
    #[arg(long, default_value = "agent", value_parser = crate::crm::ROLES)]
    pub role: String,
}

/// Options of `souk-server agent list`.
#[derive(Debug, clap::Args)]
pub struct AgentListArgs {
    /// SQLite database file of a souk-server.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
}

/// Why `souk-server agent` failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No password was given.
    #[error("no password: pipe it in with --password-stdin, or set {PASSWORD_ENV} (a password is never a command-line flag)")]
    NoPassword,
    /// Standard input could not be read.
    #[error("cannot read the password from standard input: {0}")]
    Stdin(io::Error),
    /// The password is too short or too long.
    #[error(
        "the password is {0} characters long; use {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS}"
    )]
    PasswordLength(usize),
    /// The email is not an email address.
    #[error("--email {0:?} is not an email address")]
    Email(String),
    /// The name is empty or too long.
    #[error("--name must be 1 to {MAX_NAME_CHARS} characters")]
    Name,
    /// An agent already has the email.
    #[error("an agent with email {0} already exists")]
    Exists(String),
    /// argon2 refused to hash.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Runs `souk-server agent …`.
pub async fn run(args: AgentArgs) -> Result<(), Error> {
    match args.command {
        AgentCommand::Add(args) => add(args).await,
        AgentCommand::List(args) => list_agents(&args),
    }
}

async fn add(args: AgentAddArgs) -> Result<(), Error> {
    let email =
        normalize_email(&args.email).ok_or_else(|| AgentError::Email(args.email.clone()))?;
    let name = args.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AgentError::Name.into());
    }
    let password = if args.password_stdin {
        read_stdin_password()?
    } else {
        std::env::var(PASSWORD_ENV).map_err(|_| AgentError::NoPassword)?
    };
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(AgentError::PasswordLength(chars).into());
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AgentError::Hash(e.to_string()))??;
    let store = Store::open(&args.db)?;
    let (row_email, row_name, role) = (email.clone(), name.clone(), args.role.clone());
    let added = store
        .write(move |conn| {
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO agents (email, name, password_hash, created_at, role)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (email) DO NOTHING",
                )?
                .execute(params![row_email, row_name, hash, datetime::now(), role])?;
            Ok((inserted == 1).then(|| conn.last_insert_rowid()))
        })
        .await;
    store.close().await;
    let id = added?.ok_or_else(|| AgentError::Exists(email.clone()))?;
    eprintln!(
        "added {} {id}, {name} <{email}>, to {}",
        args.role,
        args.db.display()
    );
    Ok(())
}

fn read_stdin_password() -> Result<String, AgentError> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("password (one line):");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(AgentError::Stdin)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(AgentError::NoPassword);
    }
    Ok(password.to_owned())
}

fn list_agents(args: &AgentListArgs) -> Result<(), Error> {
    let conn = store::open_read_only(&args.db)?;
    let rows = conn
        .prepare("SELECT id, name, email, created_at, role FROM agents ORDER BY id")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| {
                    Ok(format!(
                        "{}\t{}\t{}\t{}\t{}",
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(store::Error::Sqlite)?;
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// The argon2id PHC string of `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, AgentError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AgentError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash of no one's password, to verify against when the email is unknown, so that
/// a wrong email takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 16];
        getrandom::fill(&mut secret).expect("the operating system's random source works");
        hash_password(&format!("{secret:?}")).expect("argon2 hashes with its defaults")
    })
}

/// The hex SHA-256 of a session token, as `agent_sessions` keeps it.
pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Refuses what a browser marks as sent from another site (`Sec-Fetch-Site`): the
/// agent endpoints serve the console's own pages only.
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the agent API only answers the console's own pages (same origin)",
        ));
    }
    Ok(())
}

/// The session token in the request's cookies.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE_NAME && !value.is_empty()).then(|| value.to_owned())
        })
}

/// The session cookie; `Secure` unless the console is on this machine over plain
/// HTTP (`localhost`, `127.0.0.1`, `[::1]`).
fn cookie(headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let local = name == "localhost" || name == "[::1]" || name.starts_with("127.");
    let secure = if local { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("a hex token is a header value")
}

/// A signed-in agent: the proof every agent endpoint but login takes.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub(super) agent: AgentRef,
    pub(super) email: String,
}

impl SignedIn {
    fn to_json(&self) -> Value {
        json!({ "id": self.agent.id, "name": self.agent.name, "email": self.email })
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        same_origin(&parts.headers)?;
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: POST /v1/agent/login (the souk_agent session cookie is missing, expired or signed out)",
            )
        };
        let token = session_token(&parts.headers).ok_or_else(unauthorized)?;
        let hash = token_hash(&token);
        let found = state
            .store
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT a.id, a.name, a.email FROM agent_sessions s
                         JOIN agents a ON a.id = s.agent_id
                         WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                    )?
                    .query_row(params![hash, datetime::now()], |row| {
                        Ok(SignedIn {
                            agent: AgentRef {
                                id: row.get(0)?,
                                name: row.get(1)?,
                            },
                            email: row.get(2)?,
                        })
                    })
                    .optional()?)
            })
            .await?;
        found.ok_or_else(unauthorized)
    }
}

/// `POST /v1/agent/login` `{email, password}`: sets the session cookie and answers
/// `{agent: {id, name, email}}`; 401 for a wrong email or password alike.
pub(super) async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<4096>,
) -> Result<Response, Refusal> {
    same_origin(&headers)?;
    let f = Fields::of(&body, "")?;
    let email = f.required_str("email", MAX_EMAIL_CHARS)?;
    let password = f.required_str("password", MAX_PASSWORD_CHARS)?.to_owned();
    let email = normalize_email(email).unwrap_or_else(|| email.trim().to_lowercase());
    let by_email = format!("login:email:{email}");
    let by_address = peer
        .map(|Extension(ConnectInfo(addr))| addr.ip())
        .filter(|ip| limit::limits_address(*ip))
        .map(|ip| format!("login:ip:{ip}"));
    let mut keys = vec![(by_email.as_str(), LOGINS)];
    if let Some(key) = &by_address {
        keys.push((key.as_str(), LOGINS));
    }
    state
        .chat
        .inner
        .limits
        .take(&keys, Instant::now())
        .map_err(Refusal::Limited)?;

    let lookup = email.clone();
    let agent = state
        .store
        .read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, name, email, password_hash FROM agents WHERE email = ?1",
                )?
                .query_row([lookup], |row| {
                    Ok((
                        SignedIn {
                            agent: AgentRef {
                                id: row.get(0)?,
                                name: row.get(1)?,
                            },
                            email: row.get(2)?,
                        },
                        row.get::<_, String>(3)?,
                    ))
                })
                .optional()?)
        })
        .await?;
    let (agent, hash) = match agent {
        Some((agent, hash)) => (Some(agent), hash),
        None => (None, String::new()),
    };
    let verified = tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() { dummy_hash() } else { &hash };
        verify_password(&password, hash)
    })
    .await
    .unwrap_or(false);
    let agent = match agent {
        Some(agent) if verified => agent,
        _ => return Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong email or password").into()),
    };

    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (hash, agent_id) = (token_hash(&token), agent.agent.id);
    let now_ms = datetime::now_ms();
    let expires = souk::core::time::iso8601(now_ms + SESSION_SECONDS * 1000);
    state
        .store
        .write(move |conn| {
            let now = datetime::now();
            conn.prepare_cached("DELETE FROM agent_sessions WHERE expires_at <= ?1")?
                .execute([&now])?;
            conn.prepare_cached(
                "INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![hash, agent_id, now, expires])?;
            Ok(())
        })
        .await?;
    let mut response = Json(json!({ "agent": agent.to_json() })).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&headers, &token, SESSION_SECONDS));
    Ok(response)
}

/// `POST /v1/agent/logout`: ends the session (if any) and clears the cookie.
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    same_origin(&headers)?;
    if let Some(token) = session_token(&headers) {
        let hash = token_hash(&token);
        state
            .store
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM agent_sessions WHERE token_hash = ?1")?
                    .execute([hash])?;
                Ok(())
            })
            .await?;
    }
    let mut response = Json(json!({ "signedOut": true })).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&headers, "", 0));
    Ok(response)
}

/// `GET /v1/agent/me`: `{agent: {id, name, email}}` of the session.
pub(super) async fn me(agent: SignedIn) -> Json<Value> {
    Json(json!({ "agent": agent.to_json() }))
}

/// `GET /v1/agent/agents`: `{agents: [{id, name, email}]}`, to assign conversations.
pub(super) async fn list(
    State(state): State<AppState>,
    _: SignedIn,
) -> Result<Json<Value>, Refusal> {
    let agents = state
        .store
        .read(|conn| {
            Ok(conn
                .prepare_cached("SELECT id, name, email FROM agents ORDER BY name, id")?
                .query_map([], |row| {
                    Ok(json!({
                        "id": row.get::<_, i64>(0)?,
                        "name": row.get::<_, String>(1)?,
                        "email": row.get::<_, String>(2)?,
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    Ok(Json(json!({ "agents": agents })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_is_argon2id_and_verifies_only_its_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batter", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; souk_agent=abc; b=2"));
        assert_eq!(session_token(&headers).as_deref(), Some("abc"));
        headers.insert(COOKIE, HeaderValue::from_static("souk_agent="));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn the_cookie_is_secure_except_on_this_machine() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        let local = cookie(&headers, "t", 60);
        assert_eq!(
            local,
            "souk_agent=t; HttpOnly; SameSite=Strict; Path=/; Max-Age=60"
        );
        headers.insert(HOST, HeaderValue::from_static("shop.example"));
        assert!(cookie(&headers, "t", 60)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
