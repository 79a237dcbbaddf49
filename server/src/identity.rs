//! The identity graph: one customer, one profile, across sessions, devices and channels.
//!
//! Every identifier a stored message names is an *identity*: its `anonymousId`, its
//! `userId`, an alias's `previousId`, and the `email` and `phone` in its traits. A
//! *link* joins two identities and keeps the message that joined them and why:
//! - a message with both ids links its anonymousId to its userId (reason `identify`
//!   for an identify call, `same message` for the others);
//! - an alias links its `previousId` to its userId (`alias`);
//! - an email or phone in an identify call's `traits`, or in any message's
//!   `context.traits`, links to the message's userId, or to its anonymousId when it has
//!   none (`traits.email`, `context.traits.phone`, ...). A group call's `traits`
//!   describe the company, so they link nothing.
//!
//! A *profile* is a connected set of identities. Each identity row carries its
//! profile's id, so finding a customer's profile is one query; when a link joins two
//! profiles, the smaller one is relabelled into the larger and the merge is recorded.
//!
//! One profile holds at most one `user_id`, as in real CDPs: a link between two
//! profiles that each have one (a shared family computer, an email two accounts typed,
//! an alias from one account to another sent from a browser) is kept with status
//! `conflict` and merges nothing, so two customers are never fused.
//!
//! The graph is updated in the write job that stores the message, and only for a
//! message stored for the first time; a pair already linked is never linked again.
//! So a resend, or the same link made by a later message, changes nothing.

use std::fmt;

use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::fields::{quote, Invalid};
use crate::ingest::{self, Event};

/// A device's Segment `anonymousId`.
pub const ANONYMOUS_ID: &str = "anonymous_id";
/// The shop's `userId`.
pub const USER_ID: &str = "user_id";
/// An email address, normalised by [`normalize_email`].
pub const EMAIL: &str = "email";
/// A phone number, normalised by [`normalize_phone`].
pub const PHONE: &str = "phone";

/// The kinds `GET /v1/profiles` finds a profile by; each is a query parameter.
pub const LOOKUP_KINDS: &[&str] = &[USER_ID, ANONYMOUS_ID, EMAIL, PHONE];

/// The longest email address kept, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;

/// The fewest digits of a phone number.
pub const MIN_PHONE_DIGITS: usize = 6;

/// The most digits of a phone number (E.164's limit).
pub const MAX_PHONE_DIGITS: usize = 15;

/// An email address, trimmed and lowercased; `None` unless it has one `@` with text on
/// both sides, no spaces or control characters, and at most [`MAX_EMAIL_CHARS`].
pub fn normalize_email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

/// A phone number as its digits, with the leading `+` kept if it has one:
/// `+966 (50) 123-4567` becomes `+966501234567`, and `050.123.4567` becomes
/// `0501234567`. Arabic-Indic digits (`٠٥٠…`, and the Persian forms) count as the
/// same digits. Between the digits only spaces and `-` `.` `(` `)` `/` may appear;
/// `None` for anything else (letters, an extension, a `+` further in) and for fewer
/// than [`MIN_PHONE_DIGITS`] or more than [`MAX_PHONE_DIGITS`] digits. A national number
/// is not rewritten to international form, so `0501234567` and `+966501234567` are two
/// phones.
pub fn normalize_phone(text: &str) -> Option<String> {
    let text = text.trim();
    let (mut phone, rest) = match text.strip_prefix('+') {
        Some(rest) => (String::from("+"), rest),
        None => (String::new(), text),
    };
    let mut digits = 0;
    for c in rest.chars() {
        if let Some(digit) = digit_of(c) {
            phone.push(digit);
            digits += 1;
        } else if !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')' | '/')) {
            return None;
        }
    }
    (MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS)
        .contains(&digits)
        .then_some(phone)
}

/// `c` as an ASCII digit, if it is a digit in ASCII, Arabic-Indic or Persian form.
fn digit_of(c: char) -> Option<char> {
    let zero = match c {
        '0'..='9' => return Some(c),
        '\u{660}'..='\u{669}' => '\u{660}',
        '\u{6f0}'..='\u{6f9}' => '\u{6f0}',
        _ => return None,
    };
    char::from_digit(u32::from(c) - u32::from(zero), 10)
}

/// An email or phone that a message's traits carry, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// [`EMAIL`] or [`PHONE`].
    pub kind: &'static str,
    /// The normalised value.
    pub value: String,
    /// Where it was found, such as `traits.email`: the reason of its link.
    pub reason: &'static str,
}

/// What a message says about who sent it, besides its anonymousId and userId.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clues {
    /// An alias call's `previousId`.
    pub previous_id: Option<String>,
    /// The valid emails and phones in its traits, each once.
    pub contacts: Vec<Contact>,
}

impl Clues {
    /// The clues of `message`, a message of type `kind`. Values that are not strings,
    /// emails or phones are ignored.
    pub fn of(message: &Value, kind: &str) -> Clues {
        let previous_id = match kind {
            "alias" => message.get("previousId").and_then(Value::as_str),
            _ => None,
        };
        let mut clues = Clues {
            previous_id: previous_id.map(str::to_owned),
            contacts: Vec::new(),
        };
        if kind == "identify" {
            clues.read(message.get("traits"), "traits.email", "traits.phone");
        }
        let context_traits = message.get("context").and_then(|c| c.get("traits"));
        clues.read(
            context_traits,
            "context.traits.email",
            "context.traits.phone",
        );
        clues
    }

    fn read(&mut self, traits: Option<&Value>, email: &'static str, phone: &'static str) {
        let Some(traits) = traits else {
            return;
        };
        let found = |name: &str, normalize: fn(&str) -> Option<String>| {
            traits.get(name).and_then(Value::as_str).and_then(normalize)
        };
        let contacts = [
            (EMAIL, found("email", normalize_email), email),
            (PHONE, found("phone", normalize_phone), phone),
        ];
        for (kind, value, reason) in contacts {
            let Some(value) = value else { continue };
            if !self
                .contacts
                .iter()
                .any(|c| c.kind == kind && c.value == value)
            {
                self.contacts.push(Contact {
                    kind,
                    value,
                    reason,
                });
            }
        }
    }
}

/// Adds what `event` says about who sent it to the graph. Run it in the write job that
/// stored `event`, and only when it was stored for the first time.
pub fn record(conn: &Connection, event: &Event) -> rusqlite::Result<()> {
    let seen = |kind: &str, value: &str| identity(conn, kind, value, &event.timestamp);
    let link = |from, to, reason: &str| join(conn, from, to, reason, event);
    let anonymous = event
        .anonymous_id
        .as_deref()
        .map(|id| seen(ANONYMOUS_ID, id))
        .transpose()?;
    let user = event
        .user_id
        .as_deref()
        .map(|id| seen(USER_ID, id))
        .transpose()?;
    // The alias first: an alias whose previousId is its own anonymousId is explained
    // as an alias.
    if let (Some(previous), Some(user)) = (&event.clues.previous_id, user) {
        link(
            seen(previous_kind(conn, previous)?, previous)?,
            user,
            "alias",
        )?;
    }
    if let (Some(anonymous), Some(user)) = (anonymous, user) {
        let reason = match event.kind {
            "identify" => "identify",
            _ => "same message",
        };
        link(anonymous, user, reason)?;
    }
    // A checked message has an anonymousId or a userId.
    let Some(owner) = user.or(anonymous) else {
        return Ok(());
    };
    for contact in &event.clues.contacts {
        link(seen(contact.kind, &contact.value)?, owner, contact.reason)?;
    }
    Ok(())
}

/// Makes sure the graph knows customer `user_id`, adding it as a profile of its own if
/// it is new (a customer the merchant's backend names before any message did).
pub fn ensure_user(conn: &Connection, user_id: &str, seen_at: &str) -> rusqlite::Result<()> {
    identity(conn, USER_ID, user_id, seen_at).map(|_| ())
}

/// The user_id of the profile that identity (`kind`, `value`) belongs to, if the graph
/// knows it and its profile has one.
pub fn user_of(conn: &Connection, kind: &str, value: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT u.value FROM identities i
         JOIN identities u ON u.profile_id = i.profile_id AND u.kind = ?3
         WHERE i.kind = ?1 AND i.value = ?2",
    )?
    .query_row((kind, value, USER_ID), |row| row.get(0))
    .optional()
}

/// An alias's `previousId` is "the id the shopper was known by before": a user_id if
/// one of that value is known, otherwise an anonymous_id.
fn previous_kind(conn: &Connection, previous_id: &str) -> rusqlite::Result<&'static str> {
    let known = conn
        .prepare_cached("SELECT 1 FROM identities WHERE kind = ?1 AND value = ?2")?
        .exists((USER_ID, previous_id))?;
    Ok(if known { USER_ID } else { ANONYMOUS_ID })
}

/// The id of identity (`kind`, `value`), added as a profile of its own if it is new;
/// its `first_seen` moves back to `seen_at` if that is earlier.
fn identity(conn: &Connection, kind: &str, value: &str, seen_at: &str) -> rusqlite::Result<i64> {
    let found: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, first_seen FROM identities WHERE kind = ?1 AND value = ?2")?
        .query_row((kind, value), |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    if let Some((id, first_seen)) = found {
        // Stored timestamps have one width, so text order is time order.
        if seen_at < first_seen.as_str() {
            conn.prepare_cached("UPDATE identities SET first_seen = ?2 WHERE id = ?1")?
                .execute((id, seen_at))?;
        }
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO identities (kind, value, profile_id, first_seen) VALUES (?1, ?2, 0, ?3)",
    )?
    .execute((kind, value, seen_at))?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached("UPDATE identities SET profile_id = ?1 WHERE id = ?1")?
        .execute([id])?;
    Ok(id)
}

/// Links identities `from` and `to` because of `event`, unless they are already
/// linked, and merges their profiles unless each has a user_id.
fn join(
    conn: &Connection,
    from: i64,
    to: i64,
    reason: &str,
    event: &Event,
) -> rusqlite::Result<()> {
    if from == to {
        return Ok(());
    }
    let linked = conn
        .prepare_cached(
            "SELECT 1 FROM identity_links
             WHERE min(from_id, to_id) = min(?1, ?2) AND max(from_id, to_id) = max(?1, ?2)",
        )?
        .exists((from, to))?;
    if linked {
        return Ok(());
    }
    let profile_of = |id: i64| {
        conn.prepare_cached("SELECT profile_id FROM identities WHERE id = ?1")?
            .query_row([id], |row| row.get::<_, i64>(0))
    };
    let (from_profile, to_profile) = (profile_of(from)?, profile_of(to)?);
    let merging = from_profile != to_profile;
    let conflict = merging && has_user_id(conn, from_profile)? && has_user_id(conn, to_profile)?;
    conn.prepare_cached(
        "INSERT INTO identity_links (from_id, to_id, reason, message_id, at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((
        from,
        to,
        reason,
        &event.message_id,
        &event.timestamp,
        if conflict { "conflict" } else { "merged" },
    ))?;
    if merging && !conflict {
        merge(conn, from_profile, to_profile, conn.last_insert_rowid())?;
    }
    Ok(())
}

fn has_user_id(conn: &Connection, profile_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM identities WHERE profile_id = ?1 AND kind = ?2")?
        .exists((profile_id, USER_ID))
}

/// Relabels the smaller of profiles `a` and `b` into the larger (on a tie, into the
/// older) and records the merge, caused by link `link_id`.
fn merge(conn: &Connection, a: i64, b: i64, link_id: i64) -> rusqlite::Result<()> {
    let size = |profile_id: i64| {
        conn.prepare_cached("SELECT COUNT(*) FROM identities WHERE profile_id = ?1")?
            .query_row([profile_id], |row| row.get::<_, i64>(0))
    };
    let (a_size, b_size) = (size(a)?, size(b)?);
    let (from, into) = if a_size > b_size || (a_size == b_size && a < b) {
        (b, a)
    } else {
        (a, b)
    };
    let moved = conn
        .prepare_cached("UPDATE identities SET profile_id = ?2 WHERE profile_id = ?1")?
        .execute((from, into))?;
    conn.prepare_cached(
        "INSERT INTO profile_merges (from_profile, into_profile, identities, link_id)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute((from, into, moved as i64, link_id))?;
    Ok(())
}

/// Builds the graph from the events stored before it existed, in the order they were
/// received, and returns how many were read. The migration that adds the graph runs it
/// in its own transaction. A stored message that no longer passes the checks is left
/// out, with a warning.
pub fn backfill(conn: &Connection) -> rusqlite::Result<usize> {
    let mut statement =
        conn.prepare("SELECT message_id, body FROM events ORDER BY received_at, message_id")?;
    let mut rows = statement.query([])?;
    let mut read = 0;
    while let Some(row) = rows.next()? {
        let message_id: String = row.get(0)?;
        let body: String = row.get(1)?;
        let parsed = serde_json::from_str(&body)
            .map_err(|e| e.to_string())
            .and_then(|message| {
                ingest::parse_message(&message, "message").map_err(|e| e.to_string())
            });
        match parsed {
            Ok(event) => record(conn, &event)?,
            Err(error) => {
                tracing::warn!(message_id, %error, "a stored event was left out of the identity graph")
            }
        }
        read += 1;
    }
    if read > 0 {
        tracing::info!(
            events = read,
            "built the identity graph from the stored events"
        );
    }
    Ok(read)
}

/// An identifier to find a profile by: the query of `GET /v1/profiles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// One of [`LOOKUP_KINDS`].
    pub kind: &'static str,
    /// The value, normalised like the graph's.
    pub value: String,
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, quote(&json!(self.value)))
    }
}

impl Lookup {
    /// Reads the query parameters, which must be exactly one of [`LOOKUP_KINDS`] with
    /// a non-empty value (a valid one, for an email or a phone).
    pub fn parse(query: &[(String, String)]) -> Result<Lookup, Invalid> {
        let how = "give exactly one of user_id, anonymous_id, email or phone, such as /v1/profiles?email=noor%40example.com";
        let mut named = Vec::with_capacity(query.len());
        for (name, value) in query {
            let Some(kind) = LOOKUP_KINDS.iter().copied().find(|kind| kind == name) else {
                return Err(Invalid::new(
                    "query",
                    format!("has the unknown parameter {}: {how}", quote(&json!(name))),
                ));
            };
            named.push((kind, value));
        }
        let (kind, value) = match named[..] {
            [one] => one,
            [] => return Err(Invalid::new("query", format!("is empty: {how}"))),
            ref several => {
                let kinds: Vec<&str> = several.iter().map(|(kind, _)| *kind).collect();
                return Err(Invalid::new(
                    "query",
                    format!(
                        "names {} identifiers ({}): {how}",
                        kinds.len(),
                        kinds.join(", ")
                    ),
                ));
            }
        };
        if value.is_empty() {
            return Err(Invalid::new(kind, "must not be empty"));
        }
        let value = match kind {
            EMAIL => normalize_email(value).ok_or_else(|| {
                Invalid::new(
                    kind,
                    format!("must be an email address, got {}", quote(&json!(value))),
                )
            })?,
            PHONE => normalize_phone(value).ok_or_else(|| {
                Invalid::new(
                    kind,
                    format!(
                        "must be a phone number ({MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, perhaps after a + written %2B, with spaces, -, ., ( or ) between them), got {}",
                        quote(&json!(value))
                    ),
                )
            })?,
            _ => value.clone(),
        };
        Ok(Lookup { kind, value })
    }
}

/// The profile that `lookup` belongs to, or `None` if the graph does not know it:
/// `{profileId, identities: [{kind, value, firstSeen}], links: [{from: {kind, value},
/// to: {kind, value}, reason, messageId, at, status}], events: {count, firstSeen,
/// lastSeen}}`. Identities are oldest first, and links in the order of their messages'
/// timestamps. An event counts for the profile of its userId, or of its anonymousId
/// when it has none, so on a shared computer each customer keeps their own events.
pub fn profile(conn: &Connection, lookup: &Lookup) -> rusqlite::Result<Option<Value>> {
    // One snapshot, so a merge committed meanwhile cannot tear the answer.
    let snapshot = conn.unchecked_transaction()?;
    let profile_id: Option<i64> = conn
        .prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?
        .query_row((lookup.kind, &lookup.value), |row| row.get(0))
        .optional()?;
    let Some(profile_id) = profile_id else {
        return Ok(None);
    };

    let identities = conn
        .prepare_cached(
            "SELECT kind, value, first_seen FROM identities
             WHERE profile_id = ?1 ORDER BY first_seen, id",
        )?
        .query_map([profile_id], |row| {
            Ok(json!({
                "kind": row.get::<_, String>(0)?,
                "value": row.get::<_, String>(1)?,
                "firstSeen": row.get::<_, String>(2)?,
            }))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let links = conn
        .prepare_cached(
            "SELECT f.kind, f.value, t.kind, t.value, l.reason, l.message_id, l.at, l.status
             FROM identity_links l
             JOIN identities f ON f.id = l.from_id
             JOIN identities t ON t.id = l.to_id
             WHERE l.from_id IN (SELECT id FROM identities WHERE profile_id = ?1)
                OR l.to_id IN (SELECT id FROM identities WHERE profile_id = ?1)
             ORDER BY l.at, l.id",
        )?
        .query_map([profile_id], |row| {
            Ok(json!({
                "from": { "kind": row.get::<_, String>(0)?, "value": row.get::<_, String>(1)? },
                "to": { "kind": row.get::<_, String>(2)?, "value": row.get::<_, String>(3)? },
                "reason": row.get::<_, String>(4)?,
                "messageId": row.get::<_, String>(5)?,
                "at": row.get::<_, String>(6)?,
                "status": row.get::<_, String>(7)?,
            }))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    // `+user_id` keeps SQLite from reading every anonymous event through the user_id
    // index; the anonymous_id index is the one to use there.
    let events = conn
        .prepare_cached(
            "SELECT COUNT(*), MIN(timestamp), MAX(timestamp) FROM events
             WHERE user_id IN (SELECT value FROM identities WHERE profile_id = ?1 AND kind = ?2)
                OR (anonymous_id IN
                        (SELECT value FROM identities WHERE profile_id = ?1 AND kind = ?3)
                    AND +user_id IS NULL)",
        )?
        .query_row((profile_id, USER_ID, ANONYMOUS_ID), |row| {
            Ok(json!({
                "count": row.get::<_, i64>(0)?,
                "firstSeen": row.get::<_, Option<String>>(1)?,
                "lastSeen": row.get::<_, Option<String>>(2)?,
            }))
        })?;
    snapshot.finish()?;

    Ok(Some(json!({
        "profileId": profile_id,
        "identities": identities,
        "links": links,
        "events": events,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in [
            include_str!("../migrations/0001_events.sql"),
            include_str!("../migrations/0003_identities.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn
    }

    /// Stores `messages` as one batch, as `POST /v1/batch` does.
    fn store(conn: &Connection, messages: &[Value]) {
        let events: Vec<Event> = messages
            .iter()
            .map(|m| ingest::parse_message(m, "message").unwrap())
            .collect();
        ingest::insert(conn, &events, "2024-05-01T00:00:00.000Z").unwrap();
    }

    fn message(kind: &str, id: &str, anonymous: Option<&str>, user: Option<&str>) -> Value {
        let mut m = json!({"type": kind, "messageId": id, "timestamp": "2024-05-01T10:00:00Z"});
        if kind == "track" {
            m["event"] = json!("Product Viewed");
        }
        if let Some(a) = anonymous {
            m["anonymousId"] = json!(a);
        }
        if let Some(u) = user {
            m["userId"] = json!(u);
        }
        m
    }

    fn profile_of(conn: &Connection, kind: &str, value: &str) -> i64 {
        conn.query_row(
            "SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2",
            (kind, value),
            |row| row.get(0),
        )
        .unwrap()
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            normalize_email("  Noor.Ali@Example.COM ").as_deref(),
            Some("noor.ali@example.com")
        );
        assert_eq!(
            normalize_email("نور@مثال.السعودية").as_deref(),
            Some("نور@مثال.السعودية")
        );
        for bad in [
            "",
            "   ",
            "noor",
            "@example.com",
            "noor@",
            "a@b@c",
            "noor ali@example.com",
            "noor@exa\tmple.com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        let long = format!("{}@example.com", "n".repeat(250));
        assert_eq!(normalize_email(&long), None);
    }

    #[test]
    fn phones_keep_their_digits_and_a_leading_plus() {
        for (given, kept) in [
            ("+966 (50) 123-4567", "+966501234567"),
            (" 050.123.4567 ", "0501234567"),
            ("+1 202/555 0146", "+12025550146"),
            ("123456", "123456"),
            ("+966\u{a0}50 123 4567", "+966501234567"),
            ("٠٥٠١٢٣٤٥٦٧", "0501234567"),
            ("+۹۶۶ ۵۰ ۱۲۳ ۴۵۶۷", "+966501234567"),
        ] {
            assert_eq!(normalize_phone(given).as_deref(), Some(kept), "{given:?}");
        }
        for bad in [
            "",
            "+",
            "12345",
            "1234567890123456",
            "+1 202 555 0146 ext 12",
            "966+501234567",
            "++966501234567",
            "call me",
            "٥٠١٢٣٤٥٦٧x",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn clues_come_from_identify_traits_and_any_context_traits() {
        let identify = json!({
            "traits": {"email": "Noor@Example.com", "phone": 966501234567_u64},
            "context": {"traits": {"email": "noor@example.com", "phone": "+966 50 123 4567"}}
        });
        assert_eq!(
            Clues::of(&identify, "identify").contacts,
            [
                Contact {
                    kind: EMAIL,
                    value: "noor@example.com".into(),
                    reason: "traits.email"
                },
                Contact {
                    kind: PHONE,
                    value: "+966501234567".into(),
                    reason: "context.traits.phone"
                },
            ]
        );
        // A group call's traits are the company's.
        let group = json!({"traits": {"email": "sales@company.example"}});
        assert_eq!(Clues::of(&group, "group"), Clues::default());
        let track = json!({"traits": {"email": "a@b.example"}, "context": {"traits": "x"}});
        assert_eq!(Clues::of(&track, "track"), Clues::default());
        let alias = json!({"previousId": "anon-1", "userId": "u-1"});
        assert_eq!(
            Clues::of(&alias, "alias").previous_id.as_deref(),
            Some("anon-1")
        );
    }

    #[test]
    fn a_merge_relabels_the_smaller_profile_and_is_recorded() {
        let conn = db();
        // An anonymous visitor first, then a customer with three identities.
        store(&conn, &[message("track", "m1", Some("anon-b"), None)]);
        let mut identify = message("identify", "m2", Some("anon-a"), Some("u-1"));
        identify["traits"] = json!({"email": "noor@example.com"});
        store(&conn, &[identify]);
        let customer = profile_of(&conn, USER_ID, "u-1");
        assert_eq!(profile_of(&conn, ANONYMOUS_ID, "anon-a"), customer);
        assert_eq!(profile_of(&conn, EMAIL, "noor@example.com"), customer);
        let visitor = profile_of(&conn, ANONYMOUS_ID, "anon-b");
        assert!(visitor < customer, "the visitor's profile is older");

        store(&conn, &[message("page", "m3", Some("anon-b"), Some("u-1"))]);
        assert_eq!(profile_of(&conn, ANONYMOUS_ID, "anon-b"), customer);
        let merges: (i64, i64, i64, String) = conn
            .query_row(
                "SELECT m.from_profile, m.into_profile, m.identities, l.message_id
                 FROM profile_merges m JOIN identity_links l ON l.id = m.link_id
                 WHERE m.from_profile = ?1",
                [visitor],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(merges, (visitor, customer, 1, "m3".to_owned()));
    }

    #[test]
    fn two_user_ids_never_share_a_profile() {
        let conn = db();
        store(
            &conn,
            &[
                message("identify", "m1", Some("family-pc"), Some("u-1")),
                message("identify", "m2", Some("family-pc"), Some("u-2")),
                // From a browser, anyone could send this alias.
                json!({"type": "alias", "messageId": "m3", "timestamp": "2024-05-01T10:00:00Z",
                       "previousId": "u-1", "userId": "u-2"}),
            ],
        );
        assert_ne!(
            profile_of(&conn, USER_ID, "u-1"),
            profile_of(&conn, USER_ID, "u-2")
        );
        assert_eq!(
            profile_of(&conn, ANONYMOUS_ID, "family-pc"),
            profile_of(&conn, USER_ID, "u-1")
        );
        let statuses: Vec<String> = conn
            .prepare("SELECT status FROM identity_links ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(statuses, ["merged", "conflict", "conflict"]);
    }
}
