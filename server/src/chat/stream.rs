//! The Server-Sent Events stream of a shopper's conversations, or of every
//! conversation for the agents.
//!
//! A stream keeps a cursor: the highest seq it has sent. It subscribes to the chat's
//! broadcast channel first, then sends what it must replay (the messages past the
//! client's `Last-Event-ID`), then waits. A `Message` wake-up past the cursor makes it
//! read the committed messages past the cursor from the database, in seq order.
//! Committed seqs always form a prefix (one writer, AUTOINCREMENT, commits in order),
//! so reading from the database, rather than forwarding what was published, cannot
//! skip a message whose wake-up comes late, nor repeat one: seq order, no gap, no
//! duplicate, across replay and live. Typing, read, closed and assigned events carry
//! no id and go through as published.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::HeaderName;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::conversation::{self, Audience};
use super::{Chat, Published};
use crate::http::ApiError;
use crate::store::{self, Store};

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long a browser waits before it reconnects a dropped stream.
const RECONNECT: Duration = Duration::from_secs(3);

/// How many messages one database read takes.
const PAGE: i64 = 200;

/// The client's resume point: the `Last-Event-ID` header, else the `lastEventId`
/// query parameter. A whole number of at least 0.
pub(super) fn last_event_id(
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Option<i64>, ApiError> {
    let header = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").trim())
        .filter(|v| !v.is_empty());
    let (name, text) = match (header, query.map(str::trim).filter(|v| !v.is_empty())) {
        (Some(text), _) => ("Last-Event-ID", text),
        (None, Some(text)) => ("lastEventId", text),
        (None, None) => return Ok(None),
    };
    match text.parse::<i64>() {
        Ok(seq) if seq >= 0 => Ok(Some(seq)),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "{name}: must be the seq of the last message received (a whole number), got {:?}",
                text.chars().take(40).collect::<String>()
            ),
        )),
    }
}

/// What a stream remembers between events.
struct Follow {
    store: Arc<Store>,
    audience: Audience,
    events: broadcast::Receiver<Published>,
    closing: watch::Receiver<bool>,
    cursor: i64,
    /// The conversations whose `closed` the replay sent, not to send them twice.
    replayed_closes: HashSet<String>,
    pending: VecDeque<Event>,
}

/// Opens the stream for `audience`, resuming after seq `resume` when given (else
/// from now on).
pub(super) async fn open(
    chat: &Chat,
    store: Arc<Store>,
    audience: Audience,
    resume: Option<i64>,
) -> Result<Response, ApiError> {
    // Subscribe before reading, so nothing committed from now on is missed.
    let (events, closing) = chat.subscribe();
    let replay_audience = audience.clone();
    let (cursor, pending, replayed_closes) = store
        .read(move |conn| {
            let snapshot = conn.unchecked_transaction()?;
            let max = conversation::max_seq(conn)?;
            let Some(from) = resume else {
                return Ok((max, VecDeque::new(), HashSet::new()));
            };
            // An id from the future (another database) resumes from now.
            let from = from.min(max);
            let mut items: Vec<(i64, u8, Event)> = Vec::new();
            let mut cursor = from;
            loop {
                let page = conversation::messages_after(conn, &replay_audience, cursor, PAGE)?;
                let full = page.len() as i64 == PAGE;
                for (seq, message) in page {
                    cursor = seq;
                    items.push((seq, 0, message_event(seq, &message)));
                }
                if !full {
                    break;
                }
            }
            let mut closes = HashSet::new();
            if let Audience::Shopper(visitor) = &replay_audience {
                for (seq, id, data) in conversation::unrated_closes_since(conn, visitor, from)? {
                    items.push((seq, 1, named("closed", &data)));
                    closes.insert(id);
                }
            }
            snapshot.finish()?;
            items.sort_by_key(|(seq, order, _)| (*seq, *order));
            let pending = items.into_iter().map(|(_, _, event)| event).collect();
            Ok((cursor, pending, closes))
        })
        .await?;
    let mut pending = pending;
    // The first event sets how soon a dropped stream reconnects, and sends the
    // headers at once.
    pending.push_front(Event::default().retry(RECONNECT));
    let follow = Follow {
        store,
        audience,
        events,
        closing,
        cursor,
        replayed_closes,
        pending,
    };
    let sse = Sse::new(stream::unfold(follow, next))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"));
    let mut response = sse.into_response();
    // Tells nginx not to buffer the stream.
    response.headers_mut().insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// The next event of the stream; `None` ends it (shutdown, or a database failure,
/// after which the client reconnects with `Last-Event-ID`).
async fn next(mut follow: Follow) -> Option<(Result<Event, Infallible>, Follow)> {
    loop {
        if let Some(event) = follow.pending.pop_front() {
            return Some((Ok(event), follow));
        }
        let published = tokio::select! {
            _ = follow.closing.wait_for(|closing| *closing) => return None,
            published = follow.events.recv() => published,
        };
        match published {
            Ok(Published::Message { seq, owner }) => {
                let concerns = match &follow.audience {
                    Audience::Agents => true,
                    Audience::Shopper(visitor) => owner.visible_to(visitor),
                };
                if seq > follow.cursor && concerns && !catch_up(&mut follow).await {
                    return None;
                }
            }
            Ok(other) => {
                if let Some(event) = pass_on(&mut follow, other) {
                    follow.pending.push_back(event);
                }
            }
            // Fell behind: the messages are in the database; the hints are lost.
            Err(RecvError::Lagged(_)) => {
                if !catch_up(&mut follow).await {
                    return None;
                }
            }
            Err(RecvError::Closed) => return None,
        }
    }
}

/// Reads the messages past the cursor into `pending`; false if the database failed.
async fn catch_up(follow: &mut Follow) -> bool {
    let audience = follow.audience.clone();
    let cursor = follow.cursor;
    let read = follow
        .store
        .read(move |conn| -> store::Result<Vec<(i64, Value)>> {
            let mut all = Vec::new();
            let mut cursor = cursor;
            loop {
                let page = conversation::messages_after(conn, &audience, cursor, PAGE)?;
                let full = page.len() as i64 == PAGE;
                if let Some((seq, _)) = page.last() {
                    cursor = *seq;
                }
                all.extend(page);
                if !full {
                    return Ok(all);
                }
            }
        })
        .await;
    match read {
        Ok(messages) => {
            for (seq, message) in messages {
                follow.cursor = seq;
                follow.pending.push_back(message_event(seq, &message));
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "a chat stream could not read its messages; ending it");
            false
        }
    }
}

/// The event for a published hint, if this stream's audience gets it.
fn pass_on(follow: &mut Follow, published: Published) -> Option<Event> {
    match (&follow.audience, published) {
        (_, Published::Message { .. }) => None,
        (Audience::Agents, Published::Typing { data, .. }) => Some(named("typing", &data)),
        (Audience::Agents, Published::Read { data, .. }) => Some(named("read", &data)),
        (Audience::Agents, Published::Closed { data, .. }) => Some(named("closed", &data)),
        (Audience::Agents, Published::Assigned { data, .. }) => Some(named("assigned", &data)),
        (Audience::Agents, Published::Rated { data }) => Some(named("rated", &data)),
        (Audience::Shopper(visitor), published) => {
            let (name, owner, data) = match published {
                Published::Typing {
                    owner,
                    data,
                    from_agent: true,
                } => ("typing", owner, data),
                Published::Read {
                    owner,
                    data,
                    by_agent: true,
                } => ("read", owner, data),
                Published::Assigned { owner, data } => ("assigned", owner, data),
                Published::Closed { owner, data } => {
                    let id = data["conversationId"].as_str().unwrap_or_default();
                    if follow.replayed_closes.remove(id) {
                        return None;
                    }
                    ("closed", owner, data)
                }
                _ => return None,
            };
            owner.visible_to(visitor).then(|| named(name, &data))
        }
    }
}

fn message_event(seq: i64, message: &Value) -> Event {
    named("message", message).id(seq.to_string())
}

fn named(name: &str, data: &Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_wins_over_the_query_and_must_be_a_seq() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_event_id(&headers, None).unwrap(), None);
        assert_eq!(last_event_id(&headers, Some("7")).unwrap(), Some(7));
        headers.insert("last-event-id", HeaderValue::from_static("12"));
        assert_eq!(last_event_id(&headers, Some("7")).unwrap(), Some(12));
        headers.insert("last-event-id", HeaderValue::from_static("x"));
        let err = last_event_id(&headers, None).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(
            err.message().starts_with("Last-Event-ID:"),
            "{}",
            err.message()
        );
        assert!(last_event_id(&HeaderMap::new(), Some("-1")).is_err());
    }
}
