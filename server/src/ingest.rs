//! Segment HTTP tracking API messages, checked and stored exactly once.
//!
//! `POST /v1/batch` takes `{"batch": [message, ...], "sentAt"?: date-time, "writeKey"?:
//! key}`. Each message is checked on its own: the valid ones are stored and the invalid
//! ones reported back with their index, so that a client drops them instead of
//! retrying them forever. `POST /v1/track` and the other single-message calls take
//! one message as the body. A message whose `messageId` is already stored is counted
//! as a duplicate and left as it was; a new one also updates the identity graph
//! ([`identity`]) in the same transaction.

use rusqlite::Connection;
use serde_json::{json, Value};
use souk::core::event::{Properties, Value as CoreValue};

use crate::fields::{quote, Fields, Invalid};
use crate::identity::{self, Clues};

/// The largest batch body, after decompression: Segment's 500 KB.
pub const MAX_BODY_BYTES: usize = 500 * 1024;

/// The largest message, as compact JSON: Segment's 32 KB.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// The largest single-message body, after decompression: room for a message at
/// [`MAX_MESSAGE_BYTES`] sent with indentation.
pub const MAX_MESSAGE_BODY_BYTES: usize = 64 * 1024;

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
    /// What it says about who sent it, for the identity graph.
    pub clues: Clues,
}

/// A checked batch: the messages to store, and the ones refused.
#[derive(Debug, Default)]
pub struct Batch {
    /// The valid messages, in batch order.
    pub events: Vec<Event>,
    /// The invalid messages, in batch order.
    pub rejected: Vec<Rejected>,
}

/// A message of a batch that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its position in the batch, from 0.
    pub index: usize,
    /// Its `messageId`, if it has a string one.
    pub message_id: Option<String>,
    /// What is wrong with it; field paths are relative to the message.
    pub error: Invalid,
}

impl Rejected {
    /// `{"index": i, "messageId"?: id, "error": message}`, as the batch answer lists it.
    pub fn to_json(&self) -> Value {
        let mut entry = serde_json::Map::new();
        entry.insert("index".to_owned(), json!(self.index));
        if let Some(id) = &self.message_id {
            entry.insert("messageId".to_owned(), json!(id));
        }
        entry.insert("error".to_owned(), json!(self.error.to_string()));
        Value::Object(entry)
    }
}

/// Checks a batch body. A problem with the body itself refuses the whole request; a
/// problem with a message only refuses that message.
pub fn parse_batch(body: &Value) -> Result<Batch, Invalid> {
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
    let mut checked = Batch::default();
    for (index, message) in messages.iter().enumerate() {
        match parse_message(message, "message") {
            Ok(event) => checked.events.push(event),
            Err(error) => checked.rejected.push(Rejected {
                index,
                message_id: message
                    .get("messageId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                error,
            }),
        }
    }
    Ok(checked)
}

/// Checks the body of a single-message call such as `POST /v1/track`, whose path gives
/// the `type` (a `type` in the body must agree). What is stored is the body with its
/// `type` filled in and its `writeKey` taken out.
pub fn parse_single(body: &Value, kind: &'static str) -> Result<Event, Invalid> {
    let mut object = body.as_object().cloned().ok_or_else(|| {
        Invalid::new(
            "body",
            format!("must be a JSON object, got {}", quote(body)),
        )
    })?;
    object.shift_remove("writeKey");
    match object.get("type") {
        None | Some(Value::Null) => {
            object.shift_insert(0, "type".to_owned(), json!(kind));
        }
        Some(Value::String(given)) if given == kind => {}
        Some(other) => {
            return Err(Invalid::new(
                "type",
                format!(
                    "must be \"{kind}\" (or left out) at /v1/{kind}, got {}",
                    quote(other)
                ),
            ))
        }
    }
    parse_message(&Value::Object(object), "body")
}

/// The kind of device a browser's `User-Agent` names: `mobile`, `tablet` or
/// `desktop`; `None` for what is not a browser (a shop's backend, a script).
pub fn device_class(user_agent: &str) -> Option<&'static str> {
    if !user_agent.starts_with("Mozilla/") {
        return None;
    }
    Some(
        if user_agent.contains("iPad") || user_agent.contains("Tablet") {
            "tablet"
        } else if user_agent.contains("Mobi") || user_agent.contains("Android") {
            "mobile"
        } else {
            "desktop"
        },
    )
}

/// Records `class` as `context.device.type` in each message of `messages` that does
/// not say its device: the funnel's split by device. Only the class is kept, never
/// the `User-Agent` it came from.
pub fn add_device(messages: &mut [Value], class: &str) {
    for message in messages {
        let Some(object) = message.as_object_mut() else {
            continue;
        };
        let context = object.entry("context").or_insert_with(|| json!({}));
        let Some(context) = context.as_object_mut() else {
            continue;
        };
        let device = context.entry("device").or_insert_with(|| json!({}));
        if let Some(device) = device.as_object_mut() {
            device.entry("type").or_insert_with(|| json!(class));
        }
    }
}

/// Checks one message. Its fields are named bare in errors; `name` is what errors about
/// the message as a whole call it.
pub fn parse_message(message: &Value, name: &str) -> Result<Event, Invalid> {
    let fields = Fields::top(message, name)?;
    let body = message.to_string();
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(fields.invalid(format!(
            "is {} bytes as JSON; the limit is {MAX_MESSAGE_BYTES}",
            body.len()
        )));
    }
    let kind = fields.one_of("type", TYPES)?;
    if fields.get("messageId").is_none() {
        return Err(fields.invalid_field(
            "messageId",
            "is required: souk stores each message exactly once by its messageId, so give every message a unique one (Segment's libraries do)",
        ));
    }
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
        clues: Clues::of(message, kind),
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
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Messages newly stored.
    pub accepted: usize,
    /// Messages whose `messageId` was already stored (or came earlier in the batch).
    pub duplicates: usize,
}

/// Inserts `events`, skipping the `messageId`s already stored, and adds what each new
/// one says about who sent it to the identity graph. Run it in one
/// A stored message's `properties`, as the core reads them (empty if they are not
/// an object), for the core's rules (profile, cart) to run on stored events.
pub fn properties(message: &Value) -> Properties {
    match core_value(&message["properties"]) {
        CoreValue::Object(properties) => properties,
        _ => Properties::default(),
    }
}

fn core_value(value: &Value) -> CoreValue {
    match value {
        Value::Null => CoreValue::Null,
        Value::Bool(b) => CoreValue::Bool(*b),
        Value::Number(n) => CoreValue::Number(n.as_f64().unwrap_or_default()),
        Value::String(s) => CoreValue::Text(s.clone()),
        Value::Array(list) => CoreValue::List(list.iter().map(core_value).collect()),
        Value::Object(map) => CoreValue::Object(Properties(
            map.iter()
                .map(|(k, v)| (k.clone(), core_value(v)))
                .collect(),
        )),
    }
}
/// [`Store::write`](crate::store::Store::write) job so the batch commits as a whole.
pub fn insert(conn: &Connection, events: &[Event], received_at: &str) -> rusqlite::Result<Stored> {
    let mut statement = conn.prepare_cached(
        "INSERT OR IGNORE INTO events
             (message_id, type, event, anonymous_id, user_id, timestamp, received_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut accepted = 0;
    for e in events {
        let inserted = statement.execute((
            &e.message_id,
            e.kind,
            &e.event,
            &e.anonymous_id,
            &e.user_id,
            &e.timestamp,
            received_at,
            &e.body,
        ))?;
        if inserted == 1 {
            identity::record(conn, e)?;
        }
        accepted += inserted;
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
        let event = parse_message(&track(), "message").unwrap();
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
    fn each_message_is_checked_on_its_own() {
        let mut bad = track();
        bad["messageId"] = json!("m2");
        bad["timestamp"] = json!("yesterday");
        let batch = parse_batch(&json!({"batch": [track(), bad, 7]})).unwrap();
        assert_eq!(batch.events.len(), 1);
        assert_eq!(
            batch
                .rejected
                .iter()
                .map(Rejected::to_json)
                .collect::<Vec<_>>(),
            [
                json!({"index": 1, "messageId": "m2",
                       "error": r#"timestamp: must be an RFC 3339 date-time, got "yesterday""#}),
                json!({"index": 2, "error": "message: must be a JSON object, got 7"}),
            ]
        );
        let err = parse_batch(&json!({"batch": [track()], "sentAt": 1})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sentAt: must be an RFC 3339 date-time, got 1"
        );
    }

    #[test]
    fn a_single_message_takes_its_type_from_the_path() {
        let mut body = track();
        body.as_object_mut().unwrap().shift_remove("type");
        body["writeKey"] = json!("wk");
        let event = parse_single(&body, "track").unwrap();
        let stored: Value = serde_json::from_str(&event.body).unwrap();
        assert_eq!(stored, track());
        assert_eq!(parse_single(&track(), "track").unwrap(), event);
        assert_eq!(
            parse_single(&track(), "page").unwrap_err().to_string(),
            r#"type: must be "page" (or left out) at /v1/page, got "track""#
        );
        body.as_object_mut().unwrap().shift_remove("messageId");
        let err = parse_single(&body, "track").unwrap_err().to_string();
        assert!(
            err.starts_with("messageId: is required: souk stores each message exactly once"),
            "{err}"
        );
        assert_eq!(
            parse_single(&json!([]), "track").unwrap_err().to_string(),
            "body: must be a JSON object, got []"
        );
    }

    #[test]
    fn duplicates_are_counted_not_stored_twice() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("../migrations/0001_events.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../migrations/0003_identities.sql"))
            .unwrap();
        let events = parse_batch(&json!({"batch": [track(), track()]}))
            .unwrap()
            .events;
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
