//! `POST /v1/batch`: Segment HTTP tracking API batches, checked and stored exactly once.
//!
//! A batch is `{"batch": [message, ...], "sentAt"?: date-time, "writeKey"?: key}`. Every
//! message is checked before any is stored, so a batch is stored whole or not at all;
//! a message whose `messageId` is already stored is counted as a duplicate and left as
//! it was.

use rusqlite::Connection;
use serde_json::Value;

use crate::fields::{quote, Fields, Invalid};

/// The largest batch body, after decompression: Segment's 500 KB.
pub const MAX_BODY_BYTES: usize = 500 * 1024;

/// The largest message, as compact JSON: Segment's 32 KB.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// The most messages in one batch.
pub const MAX_MESSAGES: usize = 1000;

/// The longest `messageId`, `anonymousId`, `userId`, `previousId` and `groupId`.
pub const MAX_ID_CHARS: usize = 100;

/// The longest event or page name, as the plugin's core allows.
pub const MAX_NAME_CHARS: usize = souk::core::event::MAX_NAME_CHARS;

/// The Segment calls a message can record.
pub const TYPES: &[&str] = &["track", "page", "identify", "alias", "screen", "group"];

/// One checked message, ready for the `events` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The client's `messageId`, the key that makes a retry harmless.
    pub message_id: String,
    /// One of [`TYPES`].
    pub kind: &'static str,
    /// The `event` of a track call, or the `name` of a page or screen call.
    pub event: Option<String>,
    /// The device's `anonymousId`.
    pub anonymous_id: Option<String>,
    /// The shop's `userId`.
    pub user_id: Option<String>,
    /// The message's `timestamp`, in the stored UTC form.
    pub timestamp: String,
    /// The whole message as compact JSON, unknown fields included.
    pub body: String,
}

/// Checks a batch body. The first problem found refuses the whole batch.
pub fn parse_batch(body: &Value) -> Result<Vec<Event>, Invalid> {
    let top = Fields::of(body, "")?;
    top.optional_date_time("sentAt")?;
    let batch = top.required("batch")?;
    let Value::Array(messages) = batch else {
        return Err(Invalid::new(
            "batch",
            format!("must be an array of messages, got {}", quote(batch)),
        ));
    };
    if messages.len() > MAX_MESSAGES {
        return Err(Invalid::new(
            "batch",
            format!(
                "has {} messages; the limit is {MAX_MESSAGES}",
                messages.len()
            ),
        ));
    }
    messages
        .iter()
        .enumerate()
        .map(|(i, message)| parse_message(message, &format!("batch[{i}]")))
        .collect()
}

/// Checks one message found at `path`.
pub fn parse_message(message: &Value, path: &str) -> Result<Event, Invalid> {
    let fields = Fields::of(message, path)?;
    let body = message.to_string();
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(fields.invalid(format!(
            "is {} bytes as JSON; the limit is {MAX_MESSAGE_BYTES}",
            body.len()
        )));
    }
    let kind = fields.one_of("type", TYPES)?;
    let message_id = fields.required_str("messageId", MAX_ID_CHARS)?;
    let timestamp = fields.date_time("timestamp")?;
    let anonymous_id = fields.optional_str("anonymousId", MAX_ID_CHARS)?;
    let user_id = fields.optional_str("userId", MAX_ID_CHARS)?;
    if anonymous_id.is_none() && user_id.is_none() {
        return Err(fields.invalid("needs an anonymousId or a userId"));
    }
    let event = match kind {
        "track" => Some(required_for(&fields, kind, "event", MAX_NAME_CHARS)?),
        "page" | "screen" => fields.optional_str("name", MAX_NAME_CHARS)?,
        "alias" => {
            required_for(&fields, kind, "userId", MAX_ID_CHARS)?;
            required_for(&fields, kind, "previousId", MAX_ID_CHARS)?;
            None
        }
        "group" => {
            required_for(&fields, kind, "groupId", MAX_ID_CHARS)?;
            None
        }
        _ => None,
    };
    for name in ["properties", "traits", "context"] {
        fields.optional_object(name)?;
    }
    Ok(Event {
        message_id: message_id.to_owned(),
        kind,
        event: event.map(str::to_owned),
        anonymous_id: anonymous_id.map(str::to_owned),
        user_id: user_id.map(str::to_owned),
        timestamp,
        body,
    })
}

/// A string field that a call of type `kind` must have.
fn required_for<'a>(
    fields: &Fields<'a>,
    kind: &str,
    name: &str,
    max_chars: usize,
) -> Result<&'a str, Invalid> {
    if fields.get(name).is_none() {
        return Err(fields.invalid_field(name, format!("is required for {kind} calls")));
    }
    fields.required_str(name, max_chars)
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Messages newly stored.
    pub accepted: usize,
    /// Messages whose `messageId` was already stored (or came earlier in the batch).
    pub duplicates: usize,
}

/// Inserts `events`, skipping the `messageId`s already stored. Run it in one
/// [`Store::write`](crate::store::Store::write) job so the batch commits as a whole.
pub fn insert(conn: &Connection, events: &[Event], received_at: &str) -> rusqlite::Result<Stored> {
    let mut statement = conn.prepare_cached(
        "INSERT OR IGNORE INTO events
             (message_id, type, event, anonymous_id, user_id, timestamp, received_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut accepted = 0;
    for e in events {
        accepted += statement.execute((
            &e.message_id,
            e.kind,
            &e.event,
            &e.anonymous_id,
            &e.user_id,
            &e.timestamp,
            received_at,
            &e.body,
        ))?;
    }
    Ok(Stored {
        accepted,
        duplicates: events.len() - accepted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn track() -> Value {
        json!({
            "type": "track", "event": "Product Viewed", "messageId": "m1",
            "anonymousId": "a1", "timestamp": "2024-05-01T12:00:00+02:00",
            "properties": {"product_id": "p1"}, "extra": [1]
        })
    }

    #[test]
    fn a_track_message_is_read_with_its_unknown_fields() {
        let event = parse_message(&track(), "batch[0]").unwrap();
        assert_eq!(event.kind, "track");
        assert_eq!(event.event.as_deref(), Some("Product Viewed"));
        assert_eq!(event.timestamp, "2024-05-01T10:00:00.000Z");
        assert_eq!(event.user_id, None);
        let body: Value = serde_json::from_str(&event.body).unwrap();
        assert_eq!(body, track());
    }

    #[test]
    fn page_names_and_other_types() {
        let mut page = track();
        page["type"] = json!("page");
        page["name"] = json!("Home");
        assert_eq!(
            parse_message(&page, "m").unwrap().event.as_deref(),
            Some("Home")
        );
        page["type"] = json!("identify");
        assert_eq!(parse_message(&page, "m").unwrap().event, None);
        let alias = json!({"type": "alias", "messageId": "m", "timestamp": "2024-05-01T10:00:00Z",
                           "userId": "u1", "previousId": "a1"});
        assert!(parse_message(&alias, "m").is_ok());
    }

    #[test]
    fn the_first_problem_names_its_message() {
        let mut bad = track();
        bad["timestamp"] = json!("yesterday");
        let err = parse_batch(&json!({"batch": [track(), bad]})).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"batch[1].timestamp: must be an RFC 3339 date-time, got "yesterday""#
        );
    }

    #[test]
    fn duplicates_are_counted_not_stored_twice() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("../migrations/0001_events.sql"))
            .unwrap();
        let events = parse_batch(&json!({"batch": [track(), track()]})).unwrap();
        let stored = insert(&conn, &events, "2024-05-01T10:00:01.000Z").unwrap();
        assert_eq!(
            stored,
            Stored {
                accepted: 1,
                duplicates: 1
            }
        );
        let stored = insert(&conn, &events[..1], "2024-05-01T10:00:02.000Z").unwrap();
        assert_eq!(
            stored,
            Stored {
                accepted: 0,
                duplicates: 1
            }
        );
    }
}
