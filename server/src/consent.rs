//! Proof of consent: every version of a shopper's consent record, kept append-only.
//!
//! The plugin posts the record each time the shopper decides (`POST /v1/consent`); a
//! version is identified by its `consentId` and `updatedAt`, so a resend stores
//! nothing. The merchant reads the whole history back with the server key
//! (`GET /v1/consent/{consentId}`).

use rusqlite::Connection;
use serde_json::{json, Value};

use crate::fields::{quote, Fields, Invalid};

/// The largest consent body, after decompression.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// The longest `consentId`, `anonymousId`, `userId` and `revision`.
pub const MAX_ID_CHARS: usize = 100;

/// The longest `language` tag.
pub const MAX_LANGUAGE_CHARS: usize = 35;

/// Where a decision came from.
pub const SOURCES: &[&str] = &["banner", "api", "gpc", "tcf", "cmp"];

/// The consent categories, `necessary` first; see `docs/ARCHITECTURE.md`.
pub const CATEGORIES: &[&str] = &[
    "necessary",
    "functional",
    "analytics",
    "personalization",
    "marketing",
];

/// The categories a shopper chooses: all but `necessary`, which is always on.
pub fn choices() -> &'static [&'static str] {
    &CATEGORIES[1..]
}

/// One checked version of a consent record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id, chosen by the device.
    pub consent_id: String,
    /// The device's anonymous id.
    pub anonymous_id: String,
    /// The shop's user id, once known.
    pub user_id: Option<String>,
    /// The revision of the shop's consent policy that was shown.
    pub revision: String,
    /// The BCP 47 language the banner was shown in.
    pub language: String,
    /// One of [`SOURCES`].
    pub source: &'static str,
    /// The choices for the categories after `necessary`, in [`CATEGORIES`] order.
    pub choices: [bool; 4],
    /// Whether the browser sent Global Privacy Control.
    pub gpc: bool,
    /// When the record was first made, in the stored UTC form.
    pub first_at: String,
    /// When this version was made, in the stored UTC form.
    pub updated_at: String,
    /// The record as sent, compact, without the `writeKey`.
    pub body: String,
}

/// Checks a consent body.
pub fn parse(body: &Value) -> Result<Record, Invalid> {
    let f = Fields::of(body, "")?;
    let consent_id = f.required_str("consentId", MAX_ID_CHARS)?;
    check_consent_id(consent_id)?;
    let anonymous_id = f.required_str("anonymousId", MAX_ID_CHARS)?;
    let user_id = f.optional_str("userId", MAX_ID_CHARS)?;
    let revision = f.required_str("revision", MAX_ID_CHARS)?;
    let language = f.required_str("language", MAX_LANGUAGE_CHARS)?;
    if !is_language_tag(language) {
        return Err(f.invalid_field(
            "language",
            format!(
                "must be a BCP 47 language tag such as \"en\" or \"ar-SA\", got {}",
                quote(&json!(language))
            ),
        ));
    }
    let source = f.one_of("source", SOURCES)?;
    let choices = parse_categories(&f.object("categories")?)?;
    let first_at = f.date_time("firstAt")?;
    let updated_at = f.date_time("updatedAt")?;
    if updated_at < first_at {
        return Err(f.invalid_field("updatedAt", "must not be before firstAt"));
    }
    let gpc = f.bool("gpc")?;

    let mut kept = body.clone();
    if let Some(object) = kept.as_object_mut() {
        object.shift_remove("writeKey");
    }
    Ok(Record {
        consent_id: consent_id.to_owned(),
        anonymous_id: anonymous_id.to_owned(),
        user_id: user_id.map(str::to_owned),
        revision: revision.to_owned(),
        language: language.to_owned(),
        source,
        choices,
        gpc,
        first_at,
        updated_at,
        body: kept.to_string(),
    })
}

/// A `consentId` is also a URL path segment, so it is kept to letters, digits, `-`,
/// `_` and `.` (a UUID fits).
pub fn check_consent_id(id: &str) -> Result<(), Invalid> {
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            "consentId",
            format!(
                "must be 1 to {MAX_ID_CHARS} letters, digits, '-', '_' or '.', got {}",
                quote(&json!(id))
            ),
        ))
    }
}

/// The shape of a BCP 47 tag: a 2–8 letter language subtag, then subtags of 1–8
/// letters or digits, joined by `-`.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let language = subtags.next().unwrap_or("");
    (2..=8).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// All five categories, as booleans, with `necessary` true. Returns the other four.
fn parse_categories(categories: &Fields<'_>) -> Result<[bool; 4], Invalid> {
    if let Some(unknown) = categories.names().find(|name| !CATEGORIES.contains(name)) {
        return Err(categories.invalid_field(
            unknown,
            format!(
                "is not a consent category; the categories are {}",
                CATEGORIES.join(", ")
            ),
        ));
    }
    if !categories.bool("necessary")? {
        return Err(categories.invalid_field(
            "necessary",
            "must be true: necessary storage is not optional",
        ));
    }
    let mut choices = [false; 4];
    for (choice, name) in choices.iter_mut().zip(&CATEGORIES[1..]) {
        *choice = categories.bool(name)?;
    }
    Ok(choices)
}

/// What saving a version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    /// False when this version (same `consentId` and `updatedAt`) was already stored.
    pub stored: bool,
    /// The version's 1-based place in its record's history, ordered by `updatedAt`.
    pub version: i64,
}

/// Appends `record` unless its version is already stored. Run it in one
/// [`Store::write`](crate::store::Store::write) job.
pub fn save(conn: &Connection, record: &Record, received_at: &str) -> rusqlite::Result<Saved> {
    let [functional, analytics, personalization, marketing] = record.choices;
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO consents
                 (consent_id, anonymous_id, user_id, revision, language, source,
                  functional, analytics, personalization, marketing, gpc,
                  first_at, updated_at, received_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(rusqlite::params![
            record.consent_id,
            record.anonymous_id,
            record.user_id,
            record.revision,
            record.language,
            record.source,
            functional,
            analytics,
            personalization,
            marketing,
            record.gpc,
            record.first_at,
            record.updated_at,
            received_at,
            record.body,
        ])?;
    let version = conn
        .prepare_cached("SELECT COUNT(*) FROM consents WHERE consent_id = ?1 AND updated_at <= ?2")?
        .query_row((&record.consent_id, &record.updated_at), |row| row.get(0))?;
    Ok(Saved {
        stored: inserted == 1,
        version,
    })
}

/// Every stored version of record `consent_id`, oldest first, or `None` if there is
/// none. Each version is
/// `{version, anonymousId, userId, revision, language, source, categories, gpc,
/// firstAt, updatedAt, receivedAt, record}`, where `record` is the body as sent.
pub fn history(conn: &Connection, consent_id: &str) -> rusqlite::Result<Option<Value>> {
    let mut statement = conn.prepare_cached(
        "SELECT anonymous_id, user_id, revision, language, source, functional, analytics,
                personalization, marketing, gpc, first_at, updated_at, received_at, body
         FROM consents WHERE consent_id = ?1 ORDER BY updated_at, id",
    )?;
    let versions = statement
        .query_map([consent_id], |row| {
            let body: String = row.get(13)?;
            Ok(json!({
                "anonymousId": row.get::<_, String>(0)?,
                "userId": row.get::<_, Option<String>>(1)?,
                "revision": row.get::<_, String>(2)?,
                "language": row.get::<_, String>(3)?,
                "source": row.get::<_, String>(4)?,
                "categories": {
                    "necessary": true,
                    "functional": row.get::<_, bool>(5)?,
                    "analytics": row.get::<_, bool>(6)?,
                    "personalization": row.get::<_, bool>(7)?,
                    "marketing": row.get::<_, bool>(8)?,
                },
                "gpc": row.get::<_, bool>(9)?,
                "firstAt": row.get::<_, String>(10)?,
                "updatedAt": row.get::<_, String>(11)?,
                "receivedAt": row.get::<_, String>(12)?,
                // Stored by `save` from a parsed body, so it parses back.
                "record": serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body)),
            }))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if versions.is_empty() {
        return Ok(None);
    }
    let versions: Vec<Value> = versions
        .into_iter()
        .zip(1u64..)
        .map(|(mut v, n)| {
            v["version"] = json!(n);
            v
        })
        .collect();
    Ok(Some(
        json!({ "consentId": consent_id, "versions": versions }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Value {
        json!({
            "consentId": "c-1", "anonymousId": "a1", "revision": "2024-05",
            "language": "ar-SA", "source": "banner",
            "categories": {"necessary": true, "functional": true, "analytics": false,
                           "personalization": true, "marketing": false},
            "firstAt": "2024-05-01T10:00:00Z", "updatedAt": "2024-05-01T10:00:00Z",
            "gpc": false, "writeKey": "wk"
        })
    }

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("../migrations/0002_consents.sql"))
            .unwrap();
        conn
    }

    #[test]
    fn a_record_is_read_without_its_write_key() {
        let r = parse(&record()).unwrap();
        assert_eq!(r.choices, [true, false, true, false]);
        assert_eq!(r.updated_at, "2024-05-01T10:00:00.000Z");
        assert!(!r.body.contains("writeKey"));
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "ar", "ar-SA", "zh-Hant-TW", "de-CH-1996"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "e", "en_US", "en-", "1a", "en-toolongsubtag", "ar SA"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn versions_count_up_and_resends_change_nothing() {
        let conn = db();
        let v1 = parse(&record()).unwrap();
        let mut second = record();
        second["updatedAt"] = json!("2024-05-02T10:00:00Z");
        let v2 = parse(&second).unwrap();
        let now = "2024-05-03T00:00:00.000Z";
        assert_eq!(
            save(&conn, &v1, now).unwrap(),
            Saved {
                stored: true,
                version: 1
            }
        );
        assert_eq!(
            save(&conn, &v2, now).unwrap(),
            Saved {
                stored: true,
                version: 2
            }
        );
        assert_eq!(
            save(&conn, &v1, now).unwrap(),
            Saved {
                stored: false,
                version: 1
            }
        );
        let found = history(&conn, "c-1").unwrap().unwrap();
        assert_eq!(found["versions"].as_array().unwrap().len(), 2);
        assert_eq!(found["versions"][1]["version"], 2);
        assert_eq!(history(&conn, "c-2").unwrap(), None);
    }

    #[test]
    fn stored_versions_cannot_be_changed() {
        let conn = db();
        save(
            &conn,
            &parse(&record()).unwrap(),
            "2024-05-03T00:00:00.000Z",
        )
        .unwrap();
        let update = conn.execute("UPDATE consents SET analytics = 1", []);
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = conn.execute("DELETE FROM consents", []);
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }
}
