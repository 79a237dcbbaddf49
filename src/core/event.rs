//! The event model: the messages souk records, in the Segment tracking API shape.

use super::json;
use super::ports::Rng;
use super::time::iso8601;

/// A property value, as JSON can carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` (and JavaScript's `undefined`).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A finite number.
    Number(f64),
    /// A string.
    Text(String),
    /// An array.
    List(Vec<Value>),
    /// A nested object.
    Object(Properties),
}

/// An event's properties, in the order the shop gave them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Properties(pub Vec<(String, Value)>);

impl Properties {
    /// The value of property `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

impl<const N: usize> From<[(&str, Value); N]> for Properties {
    fn from(entries: [(&str, Value); N]) -> Self {
        Properties(
            entries
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
        )
    }
}

/// Which Segment call a [`Message`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A page view.
    Page,
    /// A named action, such as "Product Added".
    Track,
    /// Who the shopper is, once they log in: ties the anonymous id to the user id.
    Identify,
    /// A new user id for someone known by another (`event` holds the previous id).
    Alias,
}

/// One recorded call: what happened, to whom, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Which call it records.
    pub kind: Kind,
    /// The event name of a track call, the optional page name, or an alias's
    /// previous id.
    pub event: Option<String>,
    /// What the shop said about it (an identify call's traits).
    pub properties: Properties,
    /// The shop's id for the customer, once identified.
    pub user_id: Option<String>,
    /// A random id that lets the backend drop duplicates.
    pub message_id: String,
    /// The device's anonymous id.
    pub anonymous_id: String,
    /// When it happened, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

/// The `context.library` every message carries.
const LIBRARY: &str = concat!(
    r#"{"library":{"name":"souk","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""}}"#
);

impl Message {
    /// The message in the Segment tracking API shape.
    pub fn to_json(&self) -> String {
        let mut out = json::Object::new();
        let (kind, name_key, properties_key) = match self.kind {
            Kind::Track => ("track", "event", Some("properties")),
            Kind::Page => ("page", "name", Some("properties")),
            Kind::Identify => ("identify", "name", Some("traits")),
            Kind::Alias => ("alias", "previousId", None),
        };
        out.text("type", kind);
        if let Some(name) = &self.event {
            out.text(name_key, name);
        }
        if let Some(key) = properties_key {
            out.raw(key, &json::properties(&self.properties));
        }
        if let Some(user_id) = &self.user_id {
            out.text("userId", user_id);
        }
        out.text("messageId", &self.message_id);
        out.text("anonymousId", &self.anonymous_id);
        out.text("timestamp", &iso8601(self.timestamp_ms));
        out.raw("context", LIBRARY);
        out.finish()
    }
}

/// Longest accepted event name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Why a call was refused. The message names the event, the field and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    /// `track` was called without a name.
    #[error("track: the event name must be a non-empty string")]
    MissingName,
    /// The event name is longer than [`MAX_NAME_CHARS`].
    #[error("track: the event name is {chars} characters long; the limit is {MAX_NAME_CHARS}")]
    NameTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// A Segment e-commerce spec property holds the wrong kind of value.
    #[error("{event}: {property} must be {wanted}, got {got}")]
    Spec {
        /// The event.
        event: String,
        /// The property's path, such as `products.1.quantity`.
        property: String,
        /// What the spec wants there.
        wanted: &'static str,
        /// The value given, as JSON.
        got: String,
    },
    /// A user id is empty or too long.
    #[error("{call}: the user id must be 1 to 100 characters, got {chars}")]
    BadUserId {
        /// `identify` or `alias`.
        call: String,
        /// Its length in characters.
        chars: usize,
    },
    /// The properties argument is not an object.
    #[error("{event}: properties must be an object")]
    PropertiesNotObject {
        /// The event (or "page") they were given to.
        event: String,
    },
    /// A property has a value JSON cannot carry.
    #[error("{event}: property `{path}` {problem}")]
    BadProperty {
        /// The event (or "page") the property belongs to.
        event: String,
        /// The property's path, such as `products.0.price`.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Longest accepted user id, in characters (the backend's limit too).
pub const MAX_ID_CHARS: usize = 100;

/// Checks a user id given to `identify` or `alias`.
pub fn check_user_id(call: &str, user_id: &str) -> Result<(), EventError> {
    let chars = user_id.trim().chars().count();
    if chars == 0 || chars > MAX_ID_CHARS {
        return Err(EventError::BadUserId {
            call: call.to_owned(),
            chars,
        });
    }
    Ok(())
}

/// Checks an event name given to `track`.
pub fn check_name(name: &str) -> Result<(), EventError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(EventError::MissingName);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(EventError::NameTooLong { chars });
    }
    Ok(())
}

/// Deepest nesting accepted in properties: deeper usually means a cycle or a DOM node.
pub const MAX_DEPTH: usize = 8;

/// Checks what JSON cannot carry in `properties` of `event`: non-finite numbers, and
/// nesting deeper than [`MAX_DEPTH`].
pub fn check_properties(event: &str, properties: &Properties) -> Result<(), EventError> {
    fn walk(event: &str, path: &mut String, value: &Value, depth: usize) -> Result<(), EventError> {
        let bad = |path: &String, problem: &str| EventError::BadProperty {
            event: event.to_owned(),
            path: path.clone(),
            problem: problem.to_owned(),
        };
        match value {
            Value::Number(n) if !n.is_finite() => Err(bad(path, "must be a finite number")),
            Value::List(_) | Value::Object(_) if depth >= MAX_DEPTH => {
                Err(bad(path, "is nested too deeply (more than 8 levels)"))
            }
            Value::List(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                with_segment(path, &i.to_string(), |path| {
                    walk(event, path, item, depth + 1)
                })
            }),
            Value::Object(props) => props.0.iter().try_for_each(|(key, item)| {
                with_segment(path, key, |path| walk(event, path, item, depth + 1))
            }),
            _ => Ok(()),
        }
    }
    let mut path = String::new();
    properties.0.iter().try_for_each(|(key, value)| {
        with_segment(&mut path, key, |path| walk(event, path, value, 1))
    })
}

/// Runs `f` with `segment` appended to the dotted `path`, then restores `path`.
fn with_segment<T>(path: &mut String, segment: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    if len > 0 {
        path.push('.');
    }
    path.push_str(segment);
    let out = f(path);
    path.truncate(len);
    out
}

/// A random RFC 4122 version-4 UUID, as used for message and anonymous ids.
pub fn new_id(rng: &mut impl Rng) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut id = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(HEX[usize::from(byte >> 4)] as char);
        id.push(HEX[usize::from(byte & 0xf)] as char);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ports::SeededRng;

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("  "), Err(EventError::MissingName));
        assert!(check_name("Product Added").is_ok());
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            check_name(&long).unwrap_err().to_string(),
            "track: the event name is 201 characters long; the limit is 200"
        );
    }

    #[test]
    fn properties_name_the_bad_field() {
        let props = Properties(vec![
            ("price".into(), Value::Number(9.5)),
            (
                "products".into(),
                Value::List(vec![Value::Object(Properties(vec![(
                    "price".into(),
                    Value::Number(f64::NAN),
                )]))]),
            ),
        ]);
        assert_eq!(
            check_properties("Order Completed", &props)
                .unwrap_err()
                .to_string(),
            "Order Completed: property `products.0.price` must be a finite number"
        );
        let mut deep = Value::Null;
        for _ in 0..MAX_DEPTH {
            deep = Value::List(vec![deep]);
        }
        let props = Properties(vec![("a".into(), deep)]);
        assert!(matches!(
            check_properties("x", &props),
            Err(EventError::BadProperty { problem, .. }) if problem.contains("nested too deeply")
        ));
        let ok = Properties(vec![(
            "q".into(),
            Value::List(vec![Value::Text("mug".into())]),
        )]);
        assert_eq!(check_properties("Products Searched", &ok), Ok(()));
    }

    #[test]
    fn messages_take_the_segment_shape() {
        let message = Message {
            kind: Kind::Track,
            event: Some("Product Added".into()),
            properties: Properties(vec![("price".into(), Value::Number(24.0))]),
            user_id: None,
            message_id: "m-1".into(),
            anonymous_id: "a-1".into(),
            timestamp_ms: 0,
        };
        let expected = concat!(
            r#"{"type":"track","event":"Product Added","properties":{"price":24},"messageId":"m-1","#,
            r#""anonymousId":"a-1","timestamp":"1970-01-01T00:00:00.000Z","#,
            r#""context":{"library":{"name":"souk","version":""#,
            env!("CARGO_PKG_VERSION"),
            r#""}}}"#
        );
        assert_eq!(message.to_json(), expected);
        let identify = Message {
            kind: Kind::Identify,
            event: None,
            user_id: Some("u-7".into()),
            ..message.clone()
        };
        assert!(identify
            .to_json()
            .starts_with(r#"{"type":"identify","traits":{"price":24},"userId":"u-7","#));
        let alias = Message {
            kind: Kind::Alias,
            event: Some("u-old".into()),
            user_id: Some("u-new".into()),
            ..message.clone()
        };
        assert!(alias
            .to_json()
            .starts_with(r#"{"type":"alias","previousId":"u-old","userId":"u-new","messageId""#));
        let page = Message {
            kind: Kind::Page,
            event: None,
            ..message
        };
        assert!(page
            .to_json()
            .starts_with(r#"{"type":"page","properties":{"price":24},"#));
    }

    #[test]
    fn ids_are_uuid_v4_and_distinct() {
        let mut rng = SeededRng::new(42);
        let (a, b) = (new_id(&mut rng), new_id(&mut rng));
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.len(), 36);
            let groups: Vec<_> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12]);
            assert_eq!(&id[14..15], "4", "version nibble in {id}");
            assert!(
                matches!(&id[19..20], "8" | "9" | "a" | "b"),
                "variant in {id}"
            );
        }
    }
}
