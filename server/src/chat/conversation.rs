//! Conversations and their messages in the database: storing a message once per
//! client id, who may see what, and the messages a stream has not sent yet.

use axum::http::StatusCode;
use rusqlite::{named_params, params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};

use super::{random_id, Owner, Visitor};
use crate::http::ApiError;

/// The SQL condition that conversation `c` is visible to the visitor bound as
/// `:anon` and `:user` (NULL when not identified): see [`Owner::visible_to`].
pub(super) const VISIBLE: &str =
    "((c.user_id IS NULL AND c.anonymous_id = :anon) OR c.user_id = :user)";

/// The columns [`message_json`] reads, from `chat_messages m LEFT JOIN agents a`.
pub(super) const MESSAGE_COLUMNS: &str = "m.seq, m.id, m.conversation_id, m.author, m.agent_id, a.name, m.text, m.automatic, m.faq_id, m.sent_at, m.received_at";

/// The tables [`MESSAGE_COLUMNS`] come from.
pub(super) const MESSAGES_FROM: &str = "chat_messages m LEFT JOIN agents a ON a.id = m.agent_id";

/// A message as the API shows it: `{seq, id, conversationId, author, text, automatic,
/// sentAt, receivedAt, agentName?, faqId?}`, and `agentId` for agents.
pub(super) fn message_json(row: &Row<'_>, for_agent: bool) -> rusqlite::Result<Value> {
    let mut message = json!({
        "seq": row.get::<_, i64>(0)?,
        "id": row.get::<_, String>(1)?,
        "conversationId": row.get::<_, String>(2)?,
        "author": row.get::<_, String>(3)?,
        "text": row.get::<_, String>(6)?,
        "automatic": row.get::<_, bool>(7)?,
        "sentAt": row.get::<_, String>(9)?,
        "receivedAt": row.get::<_, String>(10)?,
    });
    if let Some(name) = row.get::<_, Option<String>>(5)? {
        message["agentName"] = json!(name);
    }
    if for_agent {
        if let Some(id) = row.get::<_, Option<i64>>(4)? {
            message["agentId"] = json!(id);
        }
    }
    if let Some(faq) = row.get::<_, Option<String>>(8)? {
        message["faqId"] = json!(faq);
    }
    Ok(message)
}

/// A stored conversation's row, the parts the checks need.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub id: String,
    pub owner: Owner,
    pub open: bool,
    pub rated: bool,
    pub assigned: Option<i64>,
}

/// The conversation `id`, if stored.
pub(super) fn find(conn: &Connection, id: &str) -> rusqlite::Result<Option<Found>> {
    conn.prepare_cached(
        "SELECT id, anonymous_id, user_id, status, csat, assigned_agent
         FROM chat_conversations WHERE id = ?1",
    )?
    .query_row([id], |row| {
        Ok(Found {
            id: row.get(0)?,
            owner: Owner {
                anonymous_id: row.get(1)?,
                user_id: row.get(2)?,
            },
            open: row.get::<_, String>(3)? == "open",
            rated: row.get::<_, Option<i64>>(4)?.is_some(),
            assigned: row.get(5)?,
        })
    })
    .optional()
}

/// The same 404 for a conversation that does not exist and one of someone else.
pub(super) fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "conversationId: no conversation with this id for this shopper",
    )
}

/// The conversation `id` if `visitor` may see it, else the 404 of [`not_found`].
pub(super) fn find_visible(
    conn: &Connection,
    visitor: &Visitor,
    id: &str,
) -> rusqlite::Result<Result<Found, ApiError>> {
    Ok(match find(conn, id)? {
        Some(found) if found.owner.visible_to(visitor) => Ok(found),
        _ => Err(not_found()),
    })
}

/// A shopper's message, checked.
#[derive(Debug, Clone)]
pub(super) struct ShopperPost {
    pub conversation_id: Option<String>,
    pub id: String,
    pub text: String,
    pub sent_at: Option<String>,
    pub context: Option<Value>,
    pub email: Option<String>,
}

/// What storing a message did.
#[derive(Debug, Clone)]
pub(super) struct Posted {
    /// False for a resend of a stored message, which changed nothing.
    pub created: bool,
    pub conversation_id: String,
    pub seq: i64,
    pub owner: Owner,
    /// The seq of the automatic answer stored right after it.
    pub answer_seq: Option<i64>,
    /// The agent the conversation was just assigned to (an agent's first reply).
    pub assigned: Option<Value>,
}

/// A stored message with client id `id`: its seq, conversation and author.
fn message_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<(i64, String, String)>> {
    conn.prepare_cached("SELECT seq, conversation_id, author FROM chat_messages WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()
}

fn id_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "id: another message already has this id; give every new message its own id (a UUID)",
    )
}

/// The latest open conversation `visitor` may see.
fn latest_open(conn: &Connection, visitor: &Visitor) -> rusqlite::Result<Option<Found>> {
    let id: Option<String> = conn
        .prepare_cached(&format!(
            "SELECT c.id FROM chat_conversations c
             WHERE c.status = 'open' AND {VISIBLE}
             ORDER BY c.last_seq DESC LIMIT 1"
        ))?
        .query_row(
            named_params! { ":anon": visitor.anonymous_id, ":user": visitor.user_id },
            |row| row.get(0),
        )
        .optional()?;
    match id {
        Some(id) => find(conn, &id),
        None => Ok(None),
    }
}

fn create(
    conn: &Connection,
    id: &str,
    visitor: &Visitor,
    follows: Option<&str>,
    now: &str,
) -> rusqlite::Result<Found> {
    conn.prepare_cached(
        "INSERT INTO chat_conversations
             (id, anonymous_id, user_id, follows, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        id,
        visitor.anonymous_id,
        visitor.user_id,
        follows,
        now
    ])?;
    Ok(Found {
        id: id.to_owned(),
        owner: Owner {
            anonymous_id: visitor.anonymous_id.clone(),
            user_id: visitor.user_id.clone(),
        },
        open: true,
        rated: false,
        assigned: None,
    })
}

/// Appends a message to `conversation` and makes it the conversation's last
/// activity; returns its seq.
#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &Connection,
    conversation: &str,
    id: &str,
    author: &str,
    agent_id: Option<i64>,
    text: &str,
    faq_id: Option<&str>,
    sent_at: &str,
    now: &str,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO chat_messages
             (id, conversation_id, author, agent_id, text, automatic, faq_id, sent_at, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        conversation,
        author,
        agent_id,
        text,
        author == "bot",
        faq_id,
        sent_at,
        now
    ])?;
    let seq = conn.last_insert_rowid();
    conn.prepare_cached(
        "UPDATE chat_conversations SET last_seq = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![conversation, seq, now])?;
    Ok(seq)
}

/// Stores a shopper's message once per id, in the conversation it names, else in
/// their latest open one, else in a new one. A message to a closed conversation
/// starts a new one that `follows` it. `answer` is the automatic answer to store
/// right after a new message, unless an agent has the conversation.
pub(super) fn post_shopper(
    conn: &Connection,
    visitor: &Visitor,
    post: &ShopperPost,
    answer: Option<&(String, String)>,
    now: &str,
) -> rusqlite::Result<Result<Posted, ApiError>> {
    if let Some((seq, conversation_id, author)) = message_by_id(conn, &post.id)? {
        let found = find(conn, &conversation_id)?;
        return Ok(match found {
            Some(found) if author == "shopper" && found.owner.visible_to(visitor) => Ok(Posted {
                created: false,
                conversation_id,
                seq,
                owner: found.owner,
                answer_seq: None,
                assigned: None,
            }),
            _ => Err(id_taken()),
        });
    }
    let conversation = match &post.conversation_id {
        Some(id) => match find(conn, id)? {
            Some(found) if !found.owner.visible_to(visitor) => return Ok(Err(not_found())),
            Some(found) if !found.open => {
                create(conn, &random_id("c_"), visitor, Some(&found.id), now)?
            }
            Some(found) => found,
            None => create(conn, id, visitor, None, now)?,
        },
        None => match latest_open(conn, visitor)? {
            Some(found) => found,
            None => create(conn, &random_id("c_"), visitor, None, now)?,
        },
    };
    let mut owner = conversation.owner.clone();
    if owner.user_id.is_none() && visitor.user_id.is_some() {
        conn.prepare_cached(
            "UPDATE chat_conversations SET user_id = ?2 WHERE id = ?1 AND user_id IS NULL",
        )?
        .execute(params![conversation.id, visitor.user_id])?;
        owner.user_id.clone_from(&visitor.user_id);
    }
    if let Some(context) = &post.context {
        conn.prepare_cached(
            "UPDATE chat_conversations SET context = ?2, context_at = ?3 WHERE id = ?1",
        )?
        .execute(params![conversation.id, context.to_string(), now])?;
    }
    if let Some(email) = &post.email {
        conn.prepare_cached("UPDATE chat_conversations SET email = ?2 WHERE id = ?1")?
            .execute(params![conversation.id, email])?;
    }
    let sent_at = post.sent_at.as_deref().unwrap_or(now);
    let seq = insert(
        conn,
        &conversation.id,
        &post.id,
        "shopper",
        None,
        &post.text,
        None,
        sent_at,
        now,
    )?;
    // Once a person has the conversation (assigned, or has replied), the bot stays
    // quiet: the shopper is talking to them.
    let person = conn
        .prepare_cached(
            "SELECT 1 FROM chat_conversations c WHERE c.id = ?1 AND (c.assigned_agent IS NOT NULL
                 OR EXISTS (SELECT 1 FROM chat_messages m WHERE m.conversation_id = c.id AND m.author = 'agent'))",
        )?
        .exists([&conversation.id])?;
    let answer_seq = match answer.filter(|_| !person) {
        Some((faq_id, text)) => Some(insert(
            conn,
            &conversation.id,
            &format!("{}:auto", post.id),
            "bot",
            None,
            text,
            Some(faq_id),
            now,
            now,
        )?),
        None => None,
    };
    Ok(Ok(Posted {
        created: true,
        conversation_id: conversation.id,
        seq,
        owner,
        answer_seq,
        assigned: None,
    }))
}

/// An agent as messages and assignments name them.
#[derive(Debug, Clone)]
pub(super) struct AgentRef {
    pub id: i64,
    pub name: String,
}

impl AgentRef {
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "name": self.name })
    }
}

/// Stores an agent's reply once per id. A closed conversation takes no more
/// replies (409); an unassigned one is assigned to the agent who replies first.
pub(super) fn post_agent(
    conn: &Connection,
    agent: &AgentRef,
    conversation_id: &str,
    id: &str,
    text: &str,
    now: &str,
) -> rusqlite::Result<Result<Posted, ApiError>> {
    let Some(conversation) = find(conn, conversation_id)? else {
        return Ok(Err(no_conversation()));
    };
    if let Some((seq, stored_in, author)) = message_by_id(conn, id)? {
        return Ok(if author == "agent" && stored_in == conversation_id {
            Ok(Posted {
                created: false,
                conversation_id: stored_in,
                seq,
                owner: conversation.owner,
                answer_seq: None,
                assigned: None,
            })
        } else {
            Err(id_taken())
        });
    }
    if !conversation.open {
        return Ok(Err(ApiError::new(
            StatusCode::CONFLICT,
            "the conversation is closed; the shopper's next message starts a new one",
        )));
    }
    let mut assigned = None;
    if conversation.assigned.is_none() {
        conn.prepare_cached(
            "UPDATE chat_conversations SET assigned_agent = ?2 WHERE id = ?1 AND assigned_agent IS NULL",
        )?
        .execute(params![conversation_id, agent.id])?;
        assigned = Some(agent.to_json());
    }
    let seq = insert(
        conn,
        conversation_id,
        id,
        "agent",
        Some(agent.id),
        text,
        None,
        now,
        now,
    )?;
    Ok(Ok(Posted {
        created: true,
        conversation_id: conversation_id.to_owned(),
        seq,
        owner: conversation.owner,
        answer_seq: None,
        assigned,
    }))
}

/// The agents' 404 for an unknown conversation.
pub(super) fn no_conversation() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no conversation with this id")
}

/// The highest seq stored, 0 before the first message.
pub(super) fn max_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM chat_messages")?
        .query_row([], |row| row.get(0))
}

/// Who a stream is for.
#[derive(Debug, Clone)]
pub(super) enum Audience {
    /// One shopper: their visible conversations.
    Shopper(Visitor),
    /// The agents: every conversation.
    Agents,
}

/// Up to `limit` messages after `cursor` that `audience` may see, in seq order.
pub(super) fn messages_after(
    conn: &Connection,
    audience: &Audience,
    cursor: i64,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, Value)>> {
    let read =
        |row: &Row<'_>, for_agent| Ok((row.get::<_, i64>(0)?, message_json(row, for_agent)?));
    match audience {
        Audience::Agents => conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_FROM}
                 WHERE m.seq > ?1 ORDER BY m.seq LIMIT ?2"
            ))?
            .query_map(params![cursor, limit], |row| read(row, true))?
            .collect(),
        Audience::Shopper(visitor) => conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_FROM}
                 WHERE m.conversation_id IN (SELECT c.id FROM chat_conversations c WHERE {VISIBLE})
                   AND m.seq > :cursor
                 ORDER BY m.seq LIMIT :limit"
            ))?
            .query_map(
                named_params! {
                    ":anon": visitor.anonymous_id,
                    ":user": visitor.user_id,
                    ":cursor": cursor,
                    ":limit": limit,
                },
                |row| read(row, false),
            )?
            .collect(),
    }
}

/// The visitor's conversations closed, not yet rated, at or after seq `cursor`:
/// `(close_seq, closed event data)`, for a stream that resumes.
pub(super) fn unrated_closes_since(
    conn: &Connection,
    visitor: &Visitor,
    cursor: i64,
) -> rusqlite::Result<Vec<(i64, String, Value)>> {
    conn.prepare_cached(&format!(
        "SELECT c.close_seq, c.id, c.closed_at FROM chat_conversations c
         WHERE c.status = 'closed' AND c.csat IS NULL AND c.close_seq >= :cursor AND {VISIBLE}
         ORDER BY c.close_seq"
    ))?
    .query_map(
        named_params! { ":anon": visitor.anonymous_id, ":user": visitor.user_id, ":cursor": cursor },
        |row| {
            let id: String = row.get(1)?;
            let data = json!({ "conversationId": id, "closedAt": row.get::<_, String>(2)? });
            Ok((row.get(0)?, id, data))
        },
    )?
    .collect()
}

/// Marks `conversation` read by `reader` up to `up_to` (never back, never past its
/// last message); answers the mark kept.
pub(super) fn mark_read(
    conn: &Connection,
    conversation: &str,
    reader: &str,
    up_to: i64,
    now: &str,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO chat_reads (conversation_id, reader, up_to_seq, updated_at)
         VALUES (?1, ?2, MIN(?3, (SELECT last_seq FROM chat_conversations WHERE id = ?1)), ?4)
         ON CONFLICT (conversation_id, reader) DO UPDATE
         SET up_to_seq = MAX(up_to_seq, excluded.up_to_seq), updated_at = excluded.updated_at",
    )?
    .execute(params![conversation, reader, up_to, now])?;
    conn.prepare_cached(
        "SELECT up_to_seq FROM chat_reads WHERE conversation_id = ?1 AND reader = ?2",
    )?
    .query_row(params![conversation, reader], |row| row.get(0))
}

/// The read marks of `conversation`: (the shopper's, the agents').
pub(super) fn read_marks(conn: &Connection, conversation: &str) -> rusqlite::Result<(i64, i64)> {
    let mark = |reader: &str| -> rusqlite::Result<i64> {
        Ok(conn
            .prepare_cached(
                "SELECT up_to_seq FROM chat_reads WHERE conversation_id = ?1 AND reader = ?2",
            )?
            .query_row(params![conversation, reader], |row| row.get(0))
            .optional()?
            .unwrap_or(0))
    };
    Ok((mark("shopper")?, mark("agent")?))
}

/// The messages of `conversation`, oldest first (the latest `limit`).
pub(super) fn messages_of(
    conn: &Connection,
    conversation: &str,
    for_agent: bool,
    limit: i64,
) -> rusqlite::Result<Vec<Value>> {
    let mut messages: Vec<Value> = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_FROM}
             WHERE m.conversation_id = ?1 ORDER BY m.seq DESC LIMIT ?2"
        ))?
        .query_map(params![conversation, limit], |row| {
            message_json(row, for_agent)
        })?
        .collect::<rusqlite::Result<_>>()?;
    messages.reverse();
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn post(id: &str, conversation_id: Option<&str>) -> ShopperPost {
        ShopperPost {
            conversation_id: conversation_id.map(str::to_owned),
            id: id.to_owned(),
            text: "when do you ship to Jeddah?".to_owned(),
            sent_at: None,
            context: None,
            email: None,
        }
    }

    #[tokio::test]
    async fn an_automatic_answer_is_stored_right_after_a_new_message_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chat.db")).unwrap();
        let visitor = Visitor {
            anonymous_id: "anon-1".to_owned(),
            user_id: None,
        };
        let answer = ("shipping".to_owned(), "We ship within two days.".to_owned());
        let (first, again, messages) = store
            .write(move |conn| {
                let now = "2026-01-01T10:00:00.000Z";
                let first =
                    post_shopper(conn, &visitor, &post("m-1", None), Some(&answer), now)?.unwrap();
                let again =
                    post_shopper(conn, &visitor, &post("m-1", None), Some(&answer), now)?.unwrap();
                let messages = messages_of(conn, &first.conversation_id, false, 10)?;
                Ok((first, again, messages))
            })
            .await
            .unwrap();
        assert!(first.created);
        assert_eq!(first.answer_seq, Some(first.seq + 1));
        assert!(!again.created, "a resend stores nothing, answer included");
        assert_eq!(again.seq, first.seq);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[1]["author"], "bot");
        assert_eq!(messages[1]["automatic"], true);
        assert_eq!(messages[1]["faqId"], "shipping");
        assert_eq!(messages[1]["text"], "We ship within two days.");
        assert_eq!(messages[0]["automatic"], false);
        store.close().await;
    }

    #[tokio::test]
    async fn the_bot_stays_quiet_once_an_agent_replied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chat.db")).unwrap();
        let visitor = Visitor {
            anonymous_id: "anon-1".to_owned(),
            user_id: None,
        };
        let answer = ("shipping".to_owned(), "We ship within two days.".to_owned());
        let (first, after_agent) = store
            .write(move |conn| {
                let now = "2026-01-01T10:00:00.000Z";
                let first =
                    post_shopper(conn, &visitor, &post("m-1", None), Some(&answer), now)?.unwrap();
                conn.execute(
                    "INSERT INTO agents (id, email, name, password_hash, created_at)
                     VALUES (7, 'sara@shop.example', 'Sara', 'x', ?1)",
                    [now],
                )?;
                insert(
                    conn,
                    &first.conversation_id,
                    "a-1",
                    "agent",
                    Some(7),
                    "Hello, I am here",
                    None,
                    now,
                    now,
                )?;
                let id = first.conversation_id.clone();
                let after_agent =
                    post_shopper(conn, &visitor, &post("m-2", Some(&id)), Some(&answer), now)?
                        .unwrap();
                Ok((first, after_agent))
            })
            .await
            .unwrap();
        assert!(
            first.answer_seq.is_some(),
            "the bot answers a new conversation"
        );
        assert_eq!(after_agent.answer_seq, None, "not once a person replied");
        store.close().await;
    }

    #[tokio::test]
    async fn a_message_to_a_closed_conversation_starts_one_that_follows_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chat.db")).unwrap();
        let visitor = Visitor {
            anonymous_id: "anon-1".to_owned(),
            user_id: None,
        };
        let (first, next, follows) = store
            .write(move |conn| {
                let now = "2026-01-01T10:00:00.000Z";
                let first =
                    post_shopper(conn, &visitor, &post("m-1", Some("c-1")), None, now)?.unwrap();
                conn.execute(
                    "UPDATE chat_conversations SET status = 'closed', closed_at = ?1",
                    [now],
                )?;
                let next =
                    post_shopper(conn, &visitor, &post("m-2", Some("c-1")), None, now)?.unwrap();
                let follows: Option<String> = conn.query_row(
                    "SELECT follows FROM chat_conversations WHERE id = ?1",
                    [&next.conversation_id],
                    |row| row.get(0),
                )?;
                Ok((first, next, follows))
            })
            .await
            .unwrap();
        assert_eq!(first.conversation_id, "c-1");
        assert_ne!(next.conversation_id, "c-1");
        assert!(next.conversation_id.starts_with("c_"));
        assert_eq!(follows.as_deref(), Some("c-1"));
        store.close().await;
    }
}
