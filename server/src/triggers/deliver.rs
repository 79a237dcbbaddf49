//! Delivering what the triggers fired: signed POSTs, retried with backoff, every
//! attempt logged.
//!
//! A delivery is *claimed* in a write job before it is sent: its trigger must still
//! be switched on and its customer's latest consent must still grant the trigger's
//! category (else it is marked failed, unsent), and a lease keeps another
//! souk-server on the same file from sending the same attempt meanwhile. The POST
//! runs on a blocking thread with no hold on the database, so requests and shutdown
//! never wait for a slow receiver. Its outcome is then recorded in another write job.
//!
//! The receiver verifies `Souk-Signature: t=<unix seconds>,v1=<hex>`: the hex
//! HMAC-SHA256, keyed with the trigger's secret (the whole `whsec_…` text), of the
//! decimal `t`, a `.`, and the body exactly as received. Every attempt of one
//! delivery sends the same body and the same `Idempotency-Key`; only `t` changes.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{params, Connection, OptionalExtension};
use souk::core::time::iso8601;
use tokio::sync::Notify;

use super::evaluate;
use crate::store::{self, Store};
use crate::{crm, datetime};

/// The most attempts one delivery gets.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long one attempt may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How long a claim keeps other souk-servers off a delivery.
const LEASE_MS: u64 = 60_000;

/// The longest backoff, and the longest `Retry-After` obeyed.
pub const MAX_DELAY: Duration = Duration::from_secs(6 * 3600);

/// The most deliveries one round claims.
const BATCH: usize = 32;

/// How many POSTs run at once.
const PARALLEL: usize = 4;

/// The `Souk-Signature` header value of `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: u64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// What an HTTP status means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: the receiver has it.
    Delivered,
    /// 429 or 5xx (or no answer): try again later.
    Retry,
    /// Anything else: the receiver refuses it, and will again.
    Refused,
}

/// The verdict of `status`.
pub fn verdict(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Refused,
    }
}

/// The wait after failed attempt `attempt` (1-based): `base` × 2^(attempt − 1), at
/// most [`MAX_DELAY`], stretched by up to half again by `jitter` (0 to 1), and at
/// least what the receiver's `Retry-After` asked (itself at most [`MAX_DELAY`]).
pub fn backoff(
    attempt: i64,
    base: Duration,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let delay = base.saturating_mul(1 << doublings).min(MAX_DELAY);
    let delay = delay.mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 2.0);
    match retry_after {
        Some(asked) => delay.max(asked.min(MAX_DELAY)),
        None => delay,
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (how long until it, at `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// A random number from 0 to 1.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

/// A delivery claimed for one attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    id: i64,
    key: String,
    kind: String,
    url: String,
    body: String,
    secret: String,
    /// The attempt about to be made, 1-based.
    attempt: i64,
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Attempt {
    at: String,
    status: Option<u16>,
    error: Option<String>,
    duration_ms: i64,
    retry_after: Option<Duration>,
    /// For an error without an answer: whether trying again may help.
    retryable: bool,
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// A 2xx came back.
    Delivered,
    /// It will be tried again.
    Retry,
    /// No more attempts: refused, out of attempts, or cancelled before sending.
    Failed,
}

/// What happened to one delivery in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Its idempotency key.
    pub key: String,
    /// The attempt made (0 when it was cancelled unsent).
    pub attempt: i64,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Where it stands now.
    pub state: State,
    /// When it will be tried again.
    pub next_at: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answer = match (self.status, &self.error) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".to_owned(),
        };
        match self.state {
            State::Delivered => write!(
                f,
                "delivered {}: {answer} on attempt {}",
                self.key, self.attempt
            ),
            State::Retry => write!(
                f,
                "retry {} at {}: {answer} on attempt {} of {MAX_ATTEMPTS}",
                self.key,
                self.next_at.as_deref().unwrap_or("?"),
                self.attempt
            ),
            State::Failed => write!(f, "failed {}: {answer}", self.key),
        }
    }
}

/// Marks delivery `id` failed without an attempt.
fn cancel(conn: &Connection, id: i64, why: &str, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE trigger_deliveries SET state = 'failed', next_attempt_at = NULL,
             lease_until = NULL, finished_at = ?2, last_error = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, now, why])?;
    Ok(())
}

/// Claims up to `limit` deliveries due by `due` (stored form) for an attempt, leased
/// from `now_ms`; those whose trigger was switched off or whose customer no longer
/// consents are cancelled instead, and reported.
fn claim(
    conn: &Connection,
    due: &str,
    now_ms: u64,
    limit: usize,
) -> rusqlite::Result<(Vec<Claimed>, Vec<Report>)> {
    let now = iso8601(now_ms);
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        i64,
        bool,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT d.id, d.key, d.kind, d.url, d.body, d.attempts, d.profile_id, t.enabled,
                    t.consent, t.secret
             FROM trigger_deliveries d JOIN triggers t ON t.kind = d.kind
             WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
               AND (d.lease_until IS NULL OR d.lease_until <= ?2)
             ORDER BY d.next_attempt_at, d.id LIMIT ?3",
        )?
        .query_map(params![due, now, limit as i64], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
                row.get(8)?,
                row.get(9)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let lease = iso8601(now_ms + LEASE_MS);
    let (mut claimed, mut cancelled) = (Vec::new(), Vec::new());
    for (id, key, kind, url, body, attempts, profile, enabled, consent, secret) in rows {
        let profile = crm::customer::profile_id(conn, profile)?;
        let granted = match profile {
            Some(profile) => evaluate::consent(conn, profile, &consent)?.is_some(),
            None => false,
        };
        let why = match (enabled, granted, secret) {
            (false, _, _) => Err("the trigger was switched off before this webhook was delivered"),
            (_, false, _) => Err("the customer's latest consent no longer grants this trigger's category, so it was not sent"),
            (_, _, None) => Err("the trigger has no secret to sign with"),
            (true, true, Some(secret)) => Ok(secret),
        };
        match why {
            Ok(secret) => {
                conn.prepare_cached(
                    "UPDATE trigger_deliveries SET lease_until = ?2 WHERE id = ?1",
                )?
                .execute(params![id, lease])?;
                claimed.push(Claimed {
                    id,
                    key,
                    kind,
                    url,
                    body,
                    secret,
                    attempt: attempts + 1,
                });
            }
            Err(why) => {
                cancel(conn, id, why, &now)?;
                cancelled.push(Report {
                    key,
                    attempt: 0,
                    status: None,
                    error: Some(why.to_owned()),
                    state: State::Failed,
                    next_at: None,
                });
            }
        }
    }
    Ok((claimed, cancelled))
}

/// The client: no redirects followed, [`TIMEOUT`] per attempt, any status answered.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!(
            "souk-server/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ))
        .build()
        .into()
}

/// Sends one attempt of `claimed`; blocks.
fn send(agent: &ureq::Agent, claimed: &Claimed) -> Attempt {
    let now = SystemTime::now();
    let t = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let at = datetime::now();
    let started = Instant::now();
    let result = agent
        .post(&claimed.url)
        .header("content-type", "application/json")
        .header(
            "souk-signature",
            signature(&claimed.secret, t, &claimed.body),
        )
        .header("idempotency-key", &claimed.key)
        .header("souk-event", &claimed.kind)
        .send(claimed.body.as_str());
    let duration_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let error = (300..400).contains(&status).then(|| {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?");
                format!("redirected to {location}; webhooks follow no redirects: set the final URL")
            });
            Attempt {
                at,
                status: Some(status),
                error,
                duration_ms,
                retry_after,
                retryable: false,
            }
        }
        Err(e) => {
            let retryable = !matches!(
                e,
                ureq::Error::BadUri(_)
                    | ureq::Error::Http(_)
                    | ureq::Error::RequireHttpsOnly(_)
                    | ureq::Error::InvalidProxyUrl
            );
            let error = match e {
                ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
                other => other.to_string(),
            };
            Attempt {
                at,
                status: None,
                error: Some(error),
                duration_ms,
                retry_after: None,
                retryable,
            }
        }
    }
}

/// Logs `attempt` of `claimed` and moves the delivery on: delivered, retried after
/// [`backoff`] from `base`, or failed.
fn record(
    conn: &Connection,
    claimed: &Claimed,
    attempt: &Attempt,
    base: Duration,
) -> rusqlite::Result<Report> {
    let n = claimed.attempt;
    let verdict = match attempt.status {
        Some(status) => verdict(status),
        None if attempt.retryable => Verdict::Retry,
        None => Verdict::Refused,
    };
    let state = match verdict {
        Verdict::Delivered => State::Delivered,
        Verdict::Retry if n < MAX_ATTEMPTS => State::Retry,
        Verdict::Retry | Verdict::Refused => State::Failed,
    };
    let now_ms = datetime::now_ms();
    let now = iso8601(now_ms);
    let next_at = (state == State::Retry).then(|| {
        let wait = backoff(n, base, attempt.retry_after, jitter());
        iso8601(now_ms.saturating_add(wait.as_millis() as u64))
    });
    conn.prepare_cached(
        "INSERT OR IGNORE INTO trigger_attempts
             (delivery_id, attempt, at, status, error, duration_ms, next_retry_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        claimed.id,
        n,
        attempt.at,
        attempt.status,
        attempt.error,
        attempt.duration_ms,
        next_at,
    ])?;
    let last_error = match (state, attempt.status, &attempt.error) {
        (State::Delivered, _, _) => None,
        (_, _, Some(error)) => Some(error.clone()),
        (State::Failed, Some(status), None) if verdict == Verdict::Refused => Some(format!(
            "HTTP {status}: refused, so not retried (only network errors, timeouts, 429 and 5xx are)"
        )),
        (State::Failed, Some(status), None) => Some(format!(
            "HTTP {status} on the last of {MAX_ATTEMPTS} attempts"
        )),
        (_, Some(status), None) => Some(format!("HTTP {status}")),
        (_, None, None) => None,
    };
    let state_name = match state {
        State::Delivered => "delivered",
        State::Retry => "pending",
        State::Failed => "failed",
    };
    conn.prepare_cached(
        "UPDATE trigger_deliveries SET state = ?2, attempts = ?3, next_attempt_at = ?4,
             lease_until = NULL, finished_at = ?5, last_error = ?6
         WHERE id = ?1 AND state = 'pending'",
    )?
    .execute(params![
        claimed.id,
        state_name,
        n,
        next_at,
        (state != State::Retry).then_some(&now),
        last_error,
    ])?;
    Ok(Report {
        key: claimed.key.clone(),
        attempt: n,
        status: attempt.status,
        error: attempt.error.clone().or(last_error),
        state,
        next_at,
    })
}

/// Claims what is due now, in one write job.
async fn claim_due(store: &Store) -> store::Result<(Vec<Claimed>, Vec<Report>)> {
    let now_ms = datetime::now_ms();
    let due = iso8601(now_ms);
    store
        .write(move |conn| Ok(claim(conn, &due, now_ms, BATCH)?))
        .await
}

/// Sends `claimed`, [`PARALLEL`] at a time, off the async threads.
async fn send_all(claimed: Vec<Claimed>) -> Vec<(Claimed, Attempt)> {
    let agent = agent();
    let mut done = Vec::with_capacity(claimed.len());
    let mut claimed = claimed.into_iter().peekable();
    while claimed.peek().is_some() {
        let handles: Vec<_> = claimed
            .by_ref()
            .take(PARALLEL)
            .map(|c| {
                let agent = agent.clone();
                tokio::task::spawn_blocking(move || {
                    let attempt = send(&agent, &c);
                    (c, attempt)
                })
            })
            .collect();
        for handle in handles {
            if let Ok(result) = handle.await {
                done.push(result);
            }
        }
    }
    done
}

/// Records every attempt in one write job.
async fn record_all(
    store: &Store,
    sent: Vec<(Claimed, Attempt)>,
    base: Duration,
) -> store::Result<Vec<Report>> {
    store
        .write(move |conn| {
            sent.iter()
                .map(|(claimed, attempt)| Ok(record(conn, claimed, attempt, base)?))
                .collect()
        })
        .await
}

/// One round: an attempt for every delivery due now (a delivery retried in this
/// round is not due again before it ends).
pub async fn deliver_due(store: &Store, base: Duration) -> store::Result<Vec<Report>> {
    let mut reports = Vec::new();
    loop {
        let (claimed, cancelled) = claim_due(store).await?;
        reports.extend(cancelled);
        if claimed.is_empty() {
            return Ok(reports);
        }
        let full = claimed.len() == BATCH;
        let sent = send_all(claimed).await;
        reports.extend(record_all(store, sent, base).await?);
        if !full {
            return Ok(reports);
        }
    }
}

/// When the next pending delivery is due (its lease included), ms since the epoch.
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<u64>> {
    let next: Option<String> = conn
        .prepare_cached(
            "SELECT MIN(max(next_attempt_at, coalesce(lease_until, next_attempt_at)))
             FROM trigger_deliveries WHERE state = 'pending'",
        )?
        .query_row([], |row| row.get(0))
        .optional()?
        .flatten();
    Ok(next.as_deref().and_then(datetime::to_ms))
}

/// Runs in `serve`: delivers what is due, then sleeps until the next delivery is
/// due, `fired` wakes it, or `idle` passes (to see what `souk-server triggers run`
/// fired). Holds the store only while it claims and records.
pub async fn courier(store: Weak<Store>, base: Duration, idle: Duration, fired: Arc<Notify>) {
    loop {
        let Some(open) = store.upgrade() else { break };
        let claimed = match claim_due(&open).await {
            Ok((claimed, cancelled)) => {
                for report in cancelled {
                    tracing::warn!(key = %report.key, "{report}");
                }
                claimed
            }
            Err(store::Error::Closed) => break,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim the due webhooks");
                Vec::new()
            }
        };
        let full = claimed.len() == BATCH;
        if !claimed.is_empty() {
            drop(open);
            let sent = send_all(claimed).await;
            let Some(open) = store.upgrade() else { break };
            match record_all(&open, sent, base).await {
                Ok(reports) => {
                    for report in reports {
                        match report.state {
                            State::Failed => tracing::warn!(key = %report.key, "{report}"),
                            _ => tracing::info!(key = %report.key, "{report}"),
                        }
                    }
                }
                Err(store::Error::Closed) => break,
                Err(e) => tracing::error!(error = %e, "cannot log the webhook attempts"),
            }
            if full {
                continue;
            }
        } else {
            drop(open);
        }
        let Some(open) = store.upgrade() else { break };
        let next = open.read(|conn| Ok(next_due(conn)?)).await.ok().flatten();
        drop(open);
        let wait = next.map_or(idle, |next| {
            Duration::from_millis(next.saturating_sub(datetime::now_ms())).min(idle)
        });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = fired.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_the_time_and_body() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(
            signature("whsec_test", 1_700_000_000, "{}"),
            signature("whsec_test", 1_700_000_001, "{}")
        );
    }

    #[test]
    fn statuses_decide_retries() {
        assert_eq!(verdict(200), Verdict::Delivered);
        assert_eq!(verdict(204), Verdict::Delivered);
        for retry in [429, 500, 502, 503, 599] {
            assert_eq!(verdict(retry), Verdict::Retry, "{retry}");
        }
        for refused in [301, 400, 401, 404, 410, 422] {
            assert_eq!(verdict(refused), Verdict::Refused, "{refused}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_obeys_retry_after() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(1, base, None, 0.0), Duration::from_secs(30));
        assert_eq!(backoff(2, base, None, 0.0), Duration::from_secs(60));
        assert_eq!(backoff(4, base, None, 1.0), Duration::from_secs(360));
        assert_eq!(backoff(60, base, None, 0.0), MAX_DELAY);
        let asked = Some(Duration::from_secs(600));
        assert_eq!(backoff(1, base, asked, 0.0), Duration::from_secs(600));
        assert_eq!(backoff(1, base, Some(Duration::from_secs(1)), 0.0), base);
        let forever = Some(Duration::from_secs(86_400 * 30));
        assert_eq!(backoff(1, base, forever, 0.0), MAX_DELAY);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(0))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
