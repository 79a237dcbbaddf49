//! Live chat: the [`Message`] both sides of the wire share, the text rules both
//! apply, the shopper's [`Outbox`] of unsent messages, and the [`Thread`] the widget
//! shows.
//!
//! # How a message travels
//!
//! The widget makes a [`Message`] with a fresh id ([`new_message_id`]) and no
//! sequence number, keeps it in the [`Outbox`], shows it in the [`Thread`] as
//! pending, and POSTs it. The server stores it once per id, gives it the next
//! sequence number (one sequence for all conversations), and sends it back on the
//! stream. The POST's answer lets the outbox go of it; the echo replaces the
//! pending copy in the thread. Until the answer, a reload finds it in the outbox and
//! sends it again; the id makes the resend harmless.
//!
//! # Storage
//!
//! The outbox keeps one key per message, so tabs never overwrite each other's:
//!
//! ```text
//! souk:functional:chat:out:<sent at, ms, 13 digits>:<this tab's count, 6 digits>:<message id>
//! ```
//!
//! The value is the message as JSON ([`Message::to_json`]). Keys sort oldest first.
//! The keys are in the `functional` category, so withdrawing it purges the outbox
//! with the rest; the caller only hands the outbox a storage while `functional` is
//! granted.
//!
//! # JSON
//!
//! The wire form is souk-server's: `{"seq","id","conversationId","author","text",
//! "automatic","sentAt","agentName","faqId"}`, `seq` left out while unsent,
//! `conversationId` empty before the first message opens a conversation, `sentAt`
//! RFC 3339. The core's writer and reader ([`super::json`]) write and read it,
//! without serde in the wasm build.

use super::json;
use super::ports::{Rng, Storage, StorageError};
use super::time;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Author {
    /// The shopper, in the widget.
    Shopper,
    /// A person answering for the shop, in the agent console.
    Agent,
    /// An automatic answer from the shop's FAQ.
    Bot,
}

impl Author {
    /// The name on the wire: `shopper`, `agent` or `bot`.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Shopper => "shopper",
            Author::Agent => "agent",
            Author::Bot => "bot",
        }
    }

    /// The author called `name` on the wire, if there is one.
    pub fn parse(name: &str) -> Option<Author> {
        [Author::Shopper, Author::Agent, Author::Bot]
            .into_iter()
            .find(|author| author.as_str() == name)
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Made by the writer's side ([`new_message_id`]), so a resend is recognised.
    pub id: String,
    /// The conversation it belongs to; empty for a shopper's first message, until the
    /// server opens the conversation.
    pub conversation: String,
    /// Who wrote it.
    pub author: Author,
    /// What it says, as [`check_text`] left it.
    pub text: String,
    /// When it was written, in ms since the Unix epoch, by the writer's clock.
    pub sent_at_ms: u64,
    /// The server's sequence number, shared by all conversations; `None` until the
    /// server's copy arrives.
    pub seq: Option<u64>,
    /// The agent who wrote it, for an agent's message.
    pub agent_name: Option<String>,
    /// The FAQ entry that answered, for an automatic (bot) message.
    pub faq_id: Option<String>,
}

/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Why a message's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing but spaces and control characters.
    #[error("chat: the message is empty; write something before sending")]
    Empty,
    /// Longer than [`MAX_TEXT_CHARS`] once trimmed.
    #[error("chat: the message is {chars} characters long; the limit is {MAX_TEXT_CHARS}")]
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
}

/// The text as it is sent and shown: control characters removed (except newline
/// and tab), then trimmed. Refuses text that is empty once cleaned, or longer than
/// [`MAX_TEXT_CHARS`]. Applying it twice changes nothing.
pub fn check_text(text: &str) -> Result<String, TextError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    let chars = trimmed.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(TextError::TooLong { chars });
    }
    Ok(trimmed.to_owned())
}

/// A fresh message id: `m-`, the time `now_ms` in base 36, `-`, then 10 random
/// base-36 digits (about 51 bits). Ids made later sort later, to the millisecond
/// (for any time between 1973 and 5188, whose base-36 form is 8 digits).
pub fn new_message_id(now_ms: u64, rng: &mut impl Rng) -> String {
    let mut bytes = [0u8; 8];
    rng.fill(&mut bytes);
    let mut random = u64::from_le_bytes(bytes);
    let mut id = String::with_capacity(24);
    id.push_str("m-");
    push_base36(&mut id, now_ms);
    id.push('-');
    for _ in 0..10 {
        id.push(BASE36[(random % 36) as usize] as char);
        random /= 36;
    }
    id
}

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn push_base36(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 13];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = BASE36[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits[i..].iter().for_each(|&d| out.push(d as char));
}

/// Why a chat message in JSON was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not JSON.
    #[error("chat message: {0}")]
    Json(#[from] json::JsonError),
    /// A field is missing or of the wrong kind.
    #[error("chat message: `{field}` {problem}")]
    Field {
        /// The field's name on the wire.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The text breaks the text rules.
    #[error(transparent)]
    Text(#[from] TextError),
}

impl Message {
    /// The message as JSON, in the wire form (see the module's docs).
    pub fn to_json(&self) -> String {
        let mut out = json::Object::new();
        if let Some(seq) = self.seq {
            out.raw("seq", &json::integer(seq as i64));
        }
        out.text("id", &self.id);
        out.text("conversationId", &self.conversation);
        out.text("author", self.author.as_str());
        out.text("text", &self.text);
        out.raw(
            "automatic",
            if self.author == Author::Bot {
                "true"
            } else {
                "false"
            },
        );
        out.text("sentAt", &time::iso8601(self.sent_at_ms));
        if let Some(name) = &self.agent_name {
            out.text("agentName", name);
        }
        if let Some(id) = &self.faq_id {
            out.text("faqId", id);
        }
        out.finish()
    }

    /// Reads a message in the wire form. `seq` may be missing or `null`; the text
    /// must pass [`check_text`], and comes back as it leaves it. Unknown fields are
    /// ignored.
    pub fn from_json(text: &str) -> Result<Message, MessageError> {
        let value = json::parse(text)?;
        let field = |field: &'static str| value.get(field);
        let text_field = |name: &'static str| match field(name) {
            Some(json::Json::Text(text)) if !text.is_empty() => Ok(text.clone()),
            _ => Err(MessageError::Field {
                field: name,
                problem: "must be a non-empty string",
            }),
        };
        let whole = |name: &'static str, value: Option<&json::Json>| {
            value
                .and_then(json::Json::as_u64)
                .ok_or(MessageError::Field {
                    field: name,
                    problem: "must be a whole number from 0 to 2^53",
                })
        };
        if !matches!(value, json::Json::Object(_)) {
            return Err(MessageError::Field {
                field: "(message)",
                problem: "must be a JSON object",
            });
        }
        let author = match field("author") {
            Some(json::Json::Text(name)) => Author::parse(name),
            _ => None,
        }
        .ok_or(MessageError::Field {
            field: "author",
            problem: "must be \"shopper\", \"agent\" or \"bot\"",
        })?;
        let seq = match field("seq") {
            None | Some(json::Json::Null) => None,
            value => Some(whole("seq", value)?),
        };
        let optional = |name| field(name).and_then(json::Json::as_str).map(str::to_owned);
        let sent_at_ms = field("sentAt")
            .and_then(json::Json::as_str)
            .and_then(time::parse_iso8601)
            .ok_or(MessageError::Field {
                field: "sentAt",
                problem: "must be an RFC 3339 date-time such as 2026-11-25T09:30:00.000Z",
            })?;
        Ok(Message {
            id: text_field("id")?,
            conversation: optional("conversationId").unwrap_or_default(),
            author,
            text: check_text(&text_field("text")?)?,
            sent_at_ms,
            seq,
            agent_name: optional("agentName"),
            faq_id: optional("faqId"),
        })
    }
}

/// Prefix of every outbox key.
pub const OUTBOX_PREFIX: &str = "souk:functional:chat:out:";
/// Most messages the outbox holds.
pub const OUTBOX_CAPACITY: usize = 50;
/// Most bytes of messages (as JSON) the outbox holds.
pub const OUTBOX_CAPACITY_BYTES: usize = 64_000;

/// Why the outbox did not keep a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// It holds [`OUTBOX_CAPACITY`] messages or [`OUTBOX_CAPACITY_BYTES`] already.
    #[error("chat: {OUTBOX_CAPACITY} messages (or {OUTBOX_CAPACITY_BYTES} bytes) are waiting to be sent; wait for the connection before writing more")]
    Full,
    /// Storage refused the write.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The shopper's messages the server has not acknowledged yet, kept in storage so
/// they survive a reload and are shared by the shop's tabs (see the module's docs
/// for the keys). The value holds only this tab's count, which orders two messages
/// written in the same millisecond.
#[derive(Debug, Default)]
pub struct Outbox {
    count: u32,
}

impl Outbox {
    /// Keeps `message` until [`Outbox::acknowledge`]. A message already kept (same
    /// id) is kept once. Refuses it when full, keeping the older ones: they may be
    /// on their way already.
    pub fn push(
        &mut self,
        storage: &mut impl Storage,
        message: &Message,
    ) -> Result<(), OutboxError> {
        let keys = Self::keys(storage);
        if keys.iter().any(|key| id_of(key) == Some(&message.id)) {
            return Ok(());
        }
        let value = message.to_json();
        let bytes: usize = keys
            .iter()
            .filter_map(|key| storage.get(key))
            .map(|v| v.len())
            .sum();
        if keys.len() >= OUTBOX_CAPACITY || bytes + value.len() > OUTBOX_CAPACITY_BYTES {
            return Err(OutboxError::Full);
        }
        self.count = (self.count + 1) % 1_000_000;
        let mut key = String::with_capacity(OUTBOX_PREFIX.len() + 22 + message.id.len());
        key.push_str(OUTBOX_PREFIX);
        push_padded(&mut key, message.sent_at_ms, 13);
        key.push(':');
        push_padded(&mut key, u64::from(self.count), 6);
        key.push(':');
        key.push_str(&message.id);
        storage.set(&key, &value)?;
        Ok(())
    }

    /// The waiting messages from every tab, oldest first. A stored value that is not
    /// a message, or not the one its key names, is removed and skipped.
    pub fn pending(&self, storage: &mut impl Storage) -> Vec<Message> {
        let mut messages = Vec::new();
        for key in Self::keys(storage) {
            let message = storage
                .get(&key)
                .and_then(|value| Message::from_json(&value).ok())
                .filter(|message| id_of(&key) == Some(&message.id));
            match message {
                Some(message) => messages.push(message),
                None => storage.remove(&key),
            }
        }
        messages
    }

    /// Lets go of message `id`, now that the server has it; `false` if it was not
    /// waiting.
    pub fn acknowledge(&mut self, storage: &mut impl Storage, id: &str) -> bool {
        let keys = Self::keys(storage);
        let mut found = false;
        for key in keys.iter().filter(|key| id_of(key) == Some(id)) {
            storage.remove(key);
            found = true;
        }
        found
    }

    /// The outbox's keys, oldest first.
    fn keys(storage: &impl Storage) -> Vec<String> {
        let mut keys: Vec<String> = storage
            .keys()
            .into_iter()
            .filter(|key| key.starts_with(OUTBOX_PREFIX))
            .collect();
        keys.sort_unstable();
        keys
    }
}

/// The message id an outbox key names.
fn id_of(key: &str) -> Option<&str> {
    key.strip_prefix(OUTBOX_PREFIX)?.splitn(3, ':').nth(2)
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, n: u64, width: usize) {
    let digits = json::integer(n as i64);
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(&digits);
}

/// The shopper's view of their chat, across their conversations (a closed one is
/// followed by the next): the server's messages in sequence order, then the
/// shopper's pending ones in the order written. Each id appears once: a
/// replay or a resend is dropped, and the server's echo of a pending message takes
/// its place. So however the deliveries are ordered or repeated, the same messages
/// give the same thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    messages: Vec<Message>,
    read: u64,
}

impl Thread {
    /// The current conversation: that of the latest message the server has; empty
    /// before the first.
    pub fn conversation(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.seq.is_some())
            .map_or("", |m| m.conversation.as_str())
    }

    /// The messages, in order.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Takes in `message`, from the server (with `seq`) or written here (without);
    /// `true` if the thread changed. A message already held changes nothing; if the
    /// same id comes with two sequence numbers, the lower stands.
    pub fn receive(&mut self, message: Message) -> bool {
        if let Some(i) = self.messages.iter().position(|m| m.id == message.id) {
            let better = match (self.messages[i].seq, message.seq) {
                (None, Some(_)) => true,
                (Some(held), Some(new)) => new < held,
                _ => false,
            };
            if !better {
                return false;
            }
            self.messages.remove(i);
        }
        let place = rank(&message);
        let at = self
            .messages
            .iter()
            .position(|m| place < rank(m))
            .unwrap_or(self.messages.len());
        self.messages.insert(at, message);
        true
    }

    /// The highest sequence number held, for resuming the stream (`Last-Event-ID`).
    /// Only the stream and the conversation list may give messages their sequence
    /// numbers: a POST's answer may come before the stream delivered a lower one.
    pub fn last_seq(&self) -> Option<u64> {
        self.messages.iter().filter_map(|m| m.seq).max()
    }

    /// Marks everything up to sequence number `seq` as read; it never goes back.
    pub fn mark_read(&mut self, seq: u64) {
        self.read = self.read.max(seq);
    }

    /// How many messages from the shop (agent or bot) came after the last read.
    pub fn unread(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.author != Author::Shopper && m.seq.is_some_and(|seq| seq > self.read))
            .count()
    }
}

/// Where a message goes in a thread: sequenced ones by `(seq, id)`, then pending
/// ones by time written (and, for equal times, in arrival order).
fn rank(message: &Message) -> (bool, u64, &str) {
    match message.seq {
        Some(seq) => (false, seq, message.id.as_str()),
        None => (true, message.sent_at_ms, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ports::{MemoryStorage, SeededRng};

    fn message(id: &str, author: Author, seq: Option<u64>, sent_at_ms: u64) -> Message {
        Message {
            id: id.to_owned(),
            conversation: "c1".to_owned(),
            author,
            text: format!("text of {id}"),
            sent_at_ms,
            seq,
            agent_name: None,
            faq_id: None,
        }
    }

    fn ids(thread: &Thread) -> Vec<&str> {
        thread.messages().iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn authors_round_trip_their_names() {
        for author in [Author::Shopper, Author::Agent, Author::Bot] {
            assert_eq!(Author::parse(author.as_str()), Some(author));
        }
        assert_eq!(Author::parse("Agent"), None);
    }

    #[test]
    fn text_is_cleaned_trimmed_and_bounded() {
        assert_eq!(
            check_text("  hi\u{0}\r\n\tthere\u{7f}\u{9b} "),
            Ok("hi\n\tthere".into())
        );
        assert_eq!(check_text(" \n\t\u{1} "), Err(TextError::Empty));
        assert_eq!(check_text(""), Err(TextError::Empty));
        let long = "ب".repeat(MAX_TEXT_CHARS);
        assert_eq!(check_text(&format!("  {long}  ")), Ok(long.clone()));
        assert_eq!(
            check_text(&format!("{long}x")),
            Err(TextError::TooLong {
                chars: MAX_TEXT_CHARS + 1
            })
        );
        assert!(TextError::TooLong { chars: 2001 }
            .to_string()
            .contains("2001 characters long; the limit is 2000"));
        let once = check_text(" a\u{0}b ").unwrap();
        assert_eq!(check_text(&once), Ok(once.clone()), "idempotent");
    }

    #[test]
    fn ids_are_prefixed_time_ordered_and_random() {
        let mut rng = SeededRng::new(1);
        let a = new_message_id(1_700_000_000_000, &mut rng);
        let b = new_message_id(1_700_000_000_000, &mut rng);
        let later = new_message_id(1_700_000_000_001, &mut rng);
        assert!(a.starts_with("m-loyw3v28-") && a.len() == 21, "{a}");
        assert_ne!(a, b);
        assert!(a[..11] == b[..11] && later[..11] > a[..11]);
        assert!(a[2..]
            .bytes()
            .all(|c| c == b'-' || c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert_eq!(new_message_id(0, &mut rng).len(), 14);
    }

    #[test]
    fn messages_round_trip_through_json() {
        let mut sent = message("m-1", Author::Bot, Some(7), 1_700_000_000_123);
        sent.text = "شكراً \"Noor\"\nline 2 😀".into();
        let json = sent.to_json();
        assert_eq!(Message::from_json(&json), Ok(sent.clone()), "{json}");
        sent.seq = None;
        assert!(!sent.to_json().contains("seq"));
        assert_eq!(Message::from_json(&sent.to_json()), Ok(sent));
        let escaped = r#"{"id":"m\u002d2","conversationId":"c","author":"agent","text":"\ud83d\ude00 hi","sentAt":"1970-01-01T00:00:00.005Z","seq":null,"agentName":"Noor","extra":[1,{"a":-1.5e3}]}"#;
        let read = Message::from_json(escaped).unwrap();
        assert_eq!(
            (
                read.id.as_str(),
                read.text.as_str(),
                read.seq,
                read.sent_at_ms
            ),
            ("m-2", "😀 hi", None, 5)
        );
        assert_eq!(read.agent_name.as_deref(), Some("Noor"));
        // A shopper's first message has no conversation yet.
        let first =
            r#"{"id":"m-3","author":"shopper","text":"hi","sentAt":"2026-11-25T09:30:00Z"}"#;
        assert_eq!(
            Message::from_json(first).map(|m| m.conversation),
            Ok(String::new())
        );
    }

    #[test]
    fn bad_message_json_names_the_field() {
        let field = |json: &str| match Message::from_json(json) {
            Err(MessageError::Field { field, .. }) => field,
            other => panic!("{json}: {other:?}"),
        };
        let good = r#""id":"m","conversationId":"c","author":"shopper","text":"hi","sentAt":"2026-11-25T09:30:00Z""#;
        let object = |fields: &str| format!("{{{fields}}}");
        assert!(Message::from_json(&object(good)).is_ok());
        assert_eq!(field("[]"), "(message)");
        assert_eq!(field(&object(&format!("{good},\"seq\":1.5"))), "seq");
        assert_eq!(field(&object(&format!("{good},\"seq\":-1"))), "seq");
        assert_eq!(
            field(&object(&format!("{good},\"seq\":9007199254740993"))),
            "seq"
        );
        assert_eq!(field(&object(&good.replace("shopper", "robot"))), "author");
        assert_eq!(field(&object(&good.replace(r#""id":"m","#, ""))), "id");
        assert_eq!(
            field(&object(&good.replace("2026-11-25T09:30:00Z", "yesterday"))),
            "sentAt"
        );
        assert_eq!(
            Message::from_json(&object(&good.replace(r#""hi""#, r#"" \u0000 ""#))),
            Err(MessageError::Text(TextError::Empty))
        );
        assert!(matches!(
            Message::from_json("{\"id\":"),
            Err(MessageError::Json(_))
        ));
        let error = Message::from_json(&object(&good.replace("\"m\"", "\"\""))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "chat message: `id` must be a non-empty string"
        );
    }

    #[test]
    fn outbox_survives_a_reload_and_keeps_order() {
        let mut storage = MemoryStorage::default();
        let mut outbox = Outbox::default();
        let first = message("m-a", Author::Shopper, None, 2_000);
        let second = message("m-b", Author::Shopper, None, 2_000);
        let earlier = message("m-z", Author::Shopper, None, 1_000);
        outbox.push(&mut storage, &first).unwrap();
        outbox.push(&mut storage, &second).unwrap();
        outbox.push(&mut storage, &first).unwrap();
        outbox.push(&mut storage, &earlier).unwrap();
        assert!(storage
            .keys()
            .contains(&"souk:functional:chat:out:0000000002000:000001:m-a".to_owned()));

        let reloaded = Outbox::default();
        let pending = reloaded.pending(&mut storage);
        assert_eq!(pending, vec![earlier, first.clone(), second.clone()]);

        let mut other_tab = Outbox::default();
        assert!(other_tab.acknowledge(&mut storage, "m-z"));
        assert!(!other_tab.acknowledge(&mut storage, "m-z"));
        assert_eq!(outbox.pending(&mut storage), vec![first, second]);
    }

    #[test]
    fn outbox_is_bounded_by_count_and_bytes() {
        let mut storage = MemoryStorage::default();
        let mut outbox = Outbox::default();
        for i in 0..OUTBOX_CAPACITY {
            let m = message(&format!("m-{i}"), Author::Shopper, None, i as u64);
            outbox.push(&mut storage, &m).unwrap();
        }
        let one_more = message("m-x", Author::Shopper, None, 99);
        assert_eq!(outbox.push(&mut storage, &one_more), Err(OutboxError::Full));
        assert_eq!(outbox.pending(&mut storage).len(), OUTBOX_CAPACITY);

        let mut storage = MemoryStorage::default();
        let mut big = message("m-big", Author::Shopper, None, 1);
        big.text = "x".repeat(MAX_TEXT_CHARS);
        let mut n = 0;
        let refused = loop {
            big.id = format!("m-{n}");
            if let Err(error) = outbox.push(&mut storage, &big) {
                break error;
            }
            n += 1;
        };
        assert_eq!(refused, OutboxError::Full);
        assert_eq!(n, OUTBOX_CAPACITY_BYTES / big.to_json().len());
    }

    #[test]
    fn corrupt_outbox_entries_are_skipped_and_removed() {
        let mut storage = MemoryStorage::default();
        let mut outbox = Outbox::default();
        let good = message("m-good", Author::Shopper, None, 5);
        outbox.push(&mut storage, &good).unwrap();
        let broken = "souk:functional:chat:out:0000000000001:000001:m-broken";
        let misnamed = "souk:functional:chat:out:0000000000002:000001:m-other";
        storage.set(broken, "{\"id\":").unwrap();
        storage.set(misnamed, &good.to_json()).unwrap();
        storage.set("souk:functional:chat:other", "kept").unwrap();
        assert_eq!(outbox.pending(&mut storage), vec![good]);
        assert_eq!(storage.get(broken), None);
        assert_eq!(storage.get(misnamed), None);
        assert_eq!(storage.keys().len(), 2);
    }

    #[test]
    fn storage_refusal_is_an_error() {
        #[derive(Default)]
        struct Refusing(MemoryStorage);
        impl Storage for Refusing {
            fn get(&self, key: &str) -> Option<String> {
                self.0.get(key)
            }
            fn set(&mut self, key: &str, _: &str) -> Result<(), StorageError> {
                Err(StorageError {
                    key: key.into(),
                    reason: "quota".into(),
                })
            }
            fn remove(&mut self, key: &str) {
                self.0.remove(key)
            }
            fn keys(&self) -> Vec<String> {
                self.0.keys()
            }
        }
        let mut storage = Refusing::default();
        let error = Outbox::default()
            .push(&mut storage, &message("m", Author::Shopper, None, 1))
            .unwrap_err();
        assert!(matches!(error, OutboxError::Storage(_)));
        assert!(error.to_string().contains("quota"));
    }

    #[test]
    fn resends_and_replays_appear_once() {
        let mut thread = Thread::default();
        let sent = message("m-1", Author::Agent, Some(1), 10);
        assert!(thread.receive(sent.clone()));
        assert!(!thread.receive(sent.clone()), "SSE replay");
        let mut copy = sent.clone();
        copy.seq = None;
        assert!(
            !thread.receive(copy),
            "a late local copy of an echoed message"
        );
        let mut next = message("m-2", Author::Shopper, Some(2), 20);
        next.conversation = "c2".into();
        assert!(
            thread.receive(next),
            "the conversation that follows a closed one"
        );
        assert_eq!(ids(&thread), ["m-1", "m-2"]);
        assert_eq!(thread.conversation(), "c2");
    }

    #[test]
    fn out_of_order_arrivals_sort_by_seq_and_pending_go_last() {
        let mut thread = Thread::default();
        thread.receive(message("p-1", Author::Shopper, None, 50));
        thread.receive(message("s-3", Author::Agent, Some(3), 30));
        thread.receive(message("p-2", Author::Shopper, None, 60));
        thread.receive(message("s-1", Author::Shopper, Some(1), 10));
        thread.receive(message("s-2", Author::Bot, Some(2), 20));
        assert_eq!(ids(&thread), ["s-1", "s-2", "s-3", "p-1", "p-2"]);
        assert_eq!(thread.last_seq(), Some(3));
    }

    #[test]
    fn the_echo_replaces_the_pending_copy() {
        let mut thread = Thread::default();
        thread.receive(message("s-1", Author::Agent, Some(1), 10));
        thread.receive(message("p-1", Author::Shopper, None, 50));
        thread.receive(message("p-2", Author::Shopper, None, 60));
        let echo = message("p-1", Author::Shopper, Some(2), 50);
        assert!(thread.receive(echo.clone()));
        assert_eq!(ids(&thread), ["s-1", "p-1", "p-2"]);
        assert_eq!(thread.messages()[1], echo);
        assert!(!thread.receive(message("p-1", Author::Shopper, None, 50)));
        assert!(!thread.receive(message("p-1", Author::Shopper, Some(9), 50)));
        assert!(thread.receive(message("p-1", Author::Shopper, Some(1), 50)));
        assert_eq!(thread.messages().len(), 3);
    }

    #[test]
    fn unread_counts_the_shops_messages_after_the_last_read() {
        let mut thread = Thread::default();
        assert_eq!((thread.unread(), thread.last_seq()), (0, None));
        thread.receive(message("a", Author::Shopper, Some(1), 1));
        thread.receive(message("b", Author::Bot, Some(2), 2));
        thread.receive(message("c", Author::Agent, Some(3), 3));
        thread.receive(message("d", Author::Shopper, None, 4));
        assert_eq!(thread.unread(), 2);
        thread.mark_read(2);
        assert_eq!(thread.unread(), 1);
        thread.mark_read(1);
        assert_eq!(thread.unread(), 1, "reading never goes back");
        thread.mark_read(thread.last_seq().unwrap());
        assert_eq!(thread.unread(), 0);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Outside input never panics the reader, and what the writer wrote reads back.
            #[test]
            fn any_text_reads_without_panic(
                text in prop_oneof!["\\PC{0,40}", "[\\[\\]{}\",:0-9.eE+\\-\\\\u a-f]{0,40}"],
                body in "\\PC{1,40}",
            ) {
                let _ = json::parse(&text);
                let _ = Message::from_json(&text);
                let mut written = message("m-1", Author::Shopper, Some(3), 9);
                written.text = body;
                if let Ok(text) = check_text(&written.text) {
                    written.text = text;
                    prop_assert_eq!(Message::from_json(&written.to_json()), Ok(written));
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any order of deliveries, with any repeats, of the same messages, gives the
            /// same thread: the sequenced ones by seq, then the pending ones as written.
            #[test]
            fn any_delivery_order_gives_the_same_thread(
                n in 1usize..12,
                echoed in proptest::collection::vec(any::<bool>(), 12),
                order in proptest::collection::vec(0usize..12, 0..12)
                    .prop_map(|extra| (0..24).map(|i| i % 12).chain(extra).collect::<Vec<_>>())
                    .prop_shuffle(),
            ) {
                // Message i: seq 10 - i if the server has it (so arrival order is not
                // seq order), else pending, written at time i.
                let make = |i: usize, server: bool| {
                    let author = if i % 3 == 0 { Author::Agent } else { Author::Shopper };
                    let seq = server.then_some(10 + 100 - i as u64);
                    message(&format!("m-{i}"), author, seq, i as u64)
                };
                let mut thread = Thread::default();
                // The shopper's own messages were shown as pending first, as written.
                for i in (0..n).filter(|i| i % 3 != 0) {
                    thread.receive(make(i, false));
                }
                for &i in order.iter().filter(|&&i| i < n) {
                    thread.receive(make(i, echoed[i] || i % 3 == 0));
                }
                let mut expected: Vec<Message> =
                    (0..n).map(|i| make(i, echoed[i] || i % 3 == 0)).collect();
                expected.sort_by_key(|m| (m.seq.is_none(), m.seq.unwrap_or(m.sent_at_ms)));
                prop_assert_eq!(thread.messages(), &expected[..]);
            }
        }
    }
}
