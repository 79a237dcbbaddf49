//! The shopper's chat endpoints, called by the `<souk-chat>` widget from the shop's
//! pages with the write key (HTTP Basic, `writeKey` in the body, or `writeKey` in the
//! query of a GET, since `EventSource` cannot set headers). The shopper is their
//! `anonymousId`, and their `userId` once its `userHash` checks out.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use rusqlite::{named_params, params, Connection};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::conversation::{self, Audience, ShopperPost, VISIBLE};
use super::limit::{self, MESSAGES, MESSAGES_PER_ADDRESS, NOTICES};
use super::{stream, Owner, Published, Refusal, Visitor, MAX_TEXT_CHARS};
use crate::auth::{Keys, WriteAuth};
use crate::body::JsonBody;
use crate::datetime;
use crate::fields::{quote, Fields, Invalid};
use crate::http::{created_or_ok, ApiError, AppState};
use crate::identity::{normalize_email, MAX_EMAIL_CHARS};

/// The largest body of a chat request: a message at the limit in escaped JSON,
/// and its page context.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// The longest anonymousId, userId, message id and conversation id.
pub const MAX_ID_CHARS: usize = 100;

/// The longest rating comment.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// How many of the visitor's latest conversations `GET /v1/chat/conversations` lists.
const CONVERSATIONS: i64 = 20;

/// How many of a conversation's latest messages a listing holds.
const MESSAGES_PER_CONVERSATION: i64 = 500;

/// An id field: 1 to [`MAX_ID_CHARS`] characters, no control characters.
pub(super) fn id_field<'a>(
    f: &Fields<'a>,
    name: &str,
    required: bool,
) -> Result<Option<&'a str>, Invalid> {
    let id = if required {
        Some(f.required_str(name, MAX_ID_CHARS)?)
    } else {
        f.optional_str(name, MAX_ID_CHARS)?
    };
    if id.is_some_and(|id| id.chars().any(char::is_control)) {
        return Err(f.invalid_field(name, "must not hold control characters"));
    }
    Ok(id)
}

/// The message text: trimmed, not empty, at most [`MAX_TEXT_CHARS`] characters.
pub(super) fn message_text(f: &Fields<'_>) -> Result<String, Invalid> {
    let value = f
        .get("text")
        .ok_or_else(|| f.invalid_field("text", "is required: the message to send"))?;
    let text = value.as_str().ok_or_else(|| {
        f.invalid_field("text", format!("must be a string, got {}", quote(value)))
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(f.invalid_field("text", "is empty; write a message"));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(f.invalid_field(
            "text",
            format!("is {chars} characters long; a message holds at most {MAX_TEXT_CHARS}"),
        ));
    }
    Ok(text.to_owned())
}

/// The shopper the request names; 401 for a userId whose userHash does not check out.
fn visitor(keys: &Keys, f: &Fields<'_>) -> Result<Visitor, ApiError> {
    let anonymous_id = id_field(f, "anonymousId", true)?
        .expect("a required field is read")
        .to_owned();
    let user_id = match id_field(f, "userId", false)? {
        Some(user_id) => {
            let hash = f.get("userHash").and_then(Value::as_str);
            keys.check_user_hash(user_id, hash)?;
            Some(user_id.to_owned())
        }
        None => None,
    };
    Ok(Visitor {
        anonymous_id,
        user_id,
    })
}

/// A GET's query as a JSON object of strings, read like a body.
fn query_object(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Value, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let object: Map<String, Value> = pairs
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect();
    Ok(Value::Object(object))
}

/// The write key and the shopper of a GET.
fn shopper_of_query(state: &AppState, auth: WriteAuth, query: &Value) -> Result<Visitor, ApiError> {
    auth.confirm(query)?;
    visitor(&state.keys, &Fields::of(query, "")?)
}

/// The optional `context` of a message: `{url?, title?, lang?}`.
fn page_context(f: &Fields<'_>) -> Result<Option<Value>, Invalid> {
    let Some(context) = f.optional_object("context")? else {
        return Ok(None);
    };
    let mut kept = Map::new();
    for (name, max) in [("url", 2048), ("title", 300), ("lang", 35)] {
        if let Some(value) = context.optional_str(name, max)? {
            kept.insert(name.to_owned(), json!(value));
        }
    }
    Ok((!kept.is_empty()).then_some(Value::Object(kept)))
}

fn parse_post(f: &Fields<'_>) -> Result<ShopperPost, Invalid> {
    let email = match f.optional_str("email", MAX_EMAIL_CHARS)? {
        Some(email) => Some(normalize_email(email).ok_or_else(|| {
            f.invalid_field(
                "email",
                format!("must be an email address, got {}", quote(&json!(email))),
            )
        })?),
        None => None,
    };
    Ok(ShopperPost {
        conversation_id: id_field(f, "conversationId", false)?.map(str::to_owned),
        id: id_field(f, "id", true)?
            .expect("a required field is read")
            .to_owned(),
        text: message_text(f)?,
        sent_at: f.optional_date_time("sentAt")?,
        context: page_context(f)?,
        email,
    })
}

/// Takes a token from the visitor's bucket (and their address's, if not local).
fn limit(
    state: &AppState,
    kind: &str,
    visitor: &Visitor,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<(), Refusal> {
    let (visitor_rate, address_rate) = if kind == "msg" {
        (MESSAGES, MESSAGES_PER_ADDRESS)
    } else {
        (NOTICES, NOTICES)
    };
    let by_visitor = format!("{kind}:anon:{}", visitor.anonymous_id);
    let by_address = peer
        .map(|Extension(ConnectInfo(addr))| addr.ip())
        .filter(|ip| limit::limits_address(*ip))
        .map(|ip| format!("{kind}:ip:{ip}"));
    let mut keys = vec![(by_visitor.as_str(), visitor_rate)];
    if let Some(key) = &by_address {
        keys.push((key.as_str(), address_rate));
    }
    state
        .chat
        .inner
        .limits
        .take(&keys, Instant::now())
        .map_err(Refusal::Limited)
}

/// `POST /v1/chat/messages`: stores the shopper's message once per `id` and answers
/// `{conversationId, seq, id, open}`: 201 the first time, 200 for a resend.
pub(super) async fn post_message(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    auth: WriteAuth,
    JsonBody(body): JsonBody<MAX_BODY_BYTES>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    auth.confirm(&body)?;
    let f = Fields::of(&body, "")?;
    let visitor = visitor(&state.keys, &f)?;
    let post = parse_post(&f)?;
    limit(&state, "msg", &visitor, peer)?;
    let open = state.chat.is_open(OffsetDateTime::now_utc());
    let answer = state.chat.auto_answer(&post.text);
    let id = post.id.clone();
    let who = visitor.clone();
    let posted = state
        .store
        .write(move |conn| {
            Ok(conversation::post_shopper(
                conn,
                &who,
                &post,
                answer.as_ref(),
                &datetime::now(),
            )?)
        })
        .await??;
    if posted.created {
        state.chat.publish(Published::Message {
            seq: posted.answer_seq.unwrap_or(posted.seq),
            owner: posted.owner.clone(),
        });
    }
    Ok(created_or_ok((
        posted.created,
        json!({
            "conversationId": posted.conversation_id,
            "seq": posted.seq,
            "id": id,
            "open": open,
        }),
    )))
}

/// `GET /v1/chat/stream?writeKey&anonymousId[&userId&userHash][&lastEventId]`: the
/// visitor's events as Server-Sent Events.
pub(super) async fn stream(
    State(state): State<AppState>,
    auth: WriteAuth,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Refusal> {
    let query = query_object(query)?;
    let visitor = shopper_of_query(&state, auth, &query)?;
    let resume = stream::last_event_id(&headers, query["lastEventId"].as_str())?;
    Ok(stream::open(
        &state.chat,
        state.store.clone(),
        Audience::Shopper(visitor),
        resume,
    )
    .await?)
}

/// A conversation as the shopper sees it, with its messages.
fn shopper_conversation(conn: &Connection, row: &ConversationRow) -> rusqlite::Result<Value> {
    let (shopper_read, agent_read) = conversation::read_marks(conn, &row.id)?;
    let messages = conversation::messages_of(conn, &row.id, false, MESSAGES_PER_CONVERSATION)?;
    Ok(json!({
        "id": row.id,
        "status": row.status,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "closedAt": row.closed_at,
        "agent": row.agent_name.as_ref().map(|name| json!({ "name": name })),
        "rating": row.csat.map(|score| json!({ "score": score, "comment": row.csat_comment })),
        "readUpToSeq": shopper_read,
        "agentReadUpToSeq": agent_read,
        "messages": messages,
    }))
}

struct ConversationRow {
    id: String,
    status: String,
    created_at: String,
    updated_at: String,
    closed_at: Option<String>,
    agent_name: Option<String>,
    csat: Option<i64>,
    csat_comment: Option<String>,
}

/// `GET /v1/chat/conversations?writeKey&anonymousId[&userId&userHash]`: the visitor's
/// latest conversations, oldest first, with their messages; `lastSeq` to resume the
/// stream from; and the team's `status`.
pub(super) async fn conversations(
    State(state): State<AppState>,
    auth: WriteAuth,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let query = query_object(query)?;
    let visitor = shopper_of_query(&state, auth, &query)?;
    let (conversations, last_seq) = state
        .store
        .read(move |conn| {
            let snapshot = conn.unchecked_transaction()?;
            let last_seq = conversation::max_seq(conn)?;
            let rows: Vec<ConversationRow> = conn
                .prepare_cached(&format!(
                    "SELECT c.id, c.status, c.created_at, c.updated_at, c.closed_at, a.name,
                            c.csat, c.csat_comment
                     FROM chat_conversations c LEFT JOIN agents a ON a.id = c.assigned_agent
                     WHERE {VISIBLE} ORDER BY c.last_seq DESC LIMIT :limit"
                ))?
                .query_map(
                    named_params! {
                        ":anon": visitor.anonymous_id,
                        ":user": visitor.user_id,
                        ":limit": CONVERSATIONS,
                    },
                    |row| {
                        Ok(ConversationRow {
                            id: row.get(0)?,
                            status: row.get(1)?,
                            created_at: row.get(2)?,
                            updated_at: row.get(3)?,
                            closed_at: row.get(4)?,
                            agent_name: row.get(5)?,
                            csat: row.get(6)?,
                            csat_comment: row.get(7)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<_>>()?;
            let mut conversations = rows
                .iter()
                .map(|row| shopper_conversation(conn, row))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            conversations.reverse();
            snapshot.finish()?;
            Ok((conversations, last_seq))
        })
        .await?;
    Ok(Json(json!({
        "conversations": conversations,
        "lastSeq": last_seq,
        "status": state.chat.status(OffsetDateTime::now_utc()),
    })))
}

/// The conversationId of a shopper's notice, which they must be able to see.
async fn visible_conversation(
    state: &AppState,
    visitor: &Visitor,
    f: &Fields<'_>,
) -> Result<(String, Owner), Refusal> {
    let id = id_field(f, "conversationId", true)?
        .expect("a required field is read")
        .to_owned();
    let (who, wanted) = (visitor.clone(), id.clone());
    let found = state
        .store
        .read(move |conn| Ok(conversation::find_visible(conn, &who, &wanted)?))
        .await??;
    Ok((id, found.owner))
}

/// `POST /v1/chat/typing` `{conversationId}`: tells the agents the shopper is typing;
/// 202 `{conversationId}`.
pub(super) async fn typing(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    auth: WriteAuth,
    JsonBody(body): JsonBody<4096>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    auth.confirm(&body)?;
    let f = Fields::of(&body, "")?;
    let visitor = visitor(&state.keys, &f)?;
    limit(&state, "notice", &visitor, peer)?;
    let (id, owner) = visible_conversation(&state, &visitor, &f).await?;
    state.chat.publish(Published::Typing {
        owner,
        data: json!({ "conversationId": id, "author": "shopper" }),
        from_agent: false,
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "conversationId": id }))))
}

/// `upToSeq`: a whole number of at least 0.
pub(super) fn up_to_seq(f: &Fields<'_>) -> Result<i64, Invalid> {
    let value = f.required("upToSeq")?;
    value.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
        f.invalid_field(
            "upToSeq",
            format!(
                "must be the seq of the last message read, got {}",
                quote(value)
            ),
        )
    })
}

/// `POST /v1/chat/read` `{conversationId, upToSeq}`: the shopper has read up to that
/// seq; answers `{conversationId, upToSeq}` with the mark kept (never lowered).
pub(super) async fn read(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    auth: WriteAuth,
    JsonBody(body): JsonBody<4096>,
) -> Result<Json<Value>, Refusal> {
    auth.confirm(&body)?;
    let f = Fields::of(&body, "")?;
    let visitor = visitor(&state.keys, &f)?;
    let id = id_field(&f, "conversationId", true)?
        .expect("a required field is read")
        .to_owned();
    let up_to = up_to_seq(&f)?;
    limit(&state, "notice", &visitor, peer)?;
    let wanted = id.clone();
    let (owner, kept) = state
        .store
        .write(move |conn| {
            let found = match conversation::find_visible(conn, &visitor, &wanted)? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let kept = conversation::mark_read(conn, &wanted, "shopper", up_to, &datetime::now())?;
            Ok(Ok((found.owner, kept)))
        })
        .await??;
    let data = json!({ "conversationId": id, "reader": "shopper", "upToSeq": kept });
    state.chat.publish(Published::Read {
        owner,
        data: data.clone(),
        by_agent: false,
    });
    Ok(Json(json!({ "conversationId": id, "upToSeq": kept })))
}

/// `POST /v1/chat/rating` `{conversationId, score, comment?}`: rates a closed
/// conversation from 1 to 5, once; 201 `{conversationId, score, comment}`, 409 for
/// an open or already rated one.
pub(super) async fn rating(
    State(state): State<AppState>,
    auth: WriteAuth,
    JsonBody(body): JsonBody<MAX_BODY_BYTES>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    auth.confirm(&body)?;
    let f = Fields::of(&body, "")?;
    let visitor = visitor(&state.keys, &f)?;
    let id = id_field(&f, "conversationId", true)?
        .expect("a required field is read")
        .to_owned();
    let score_value = f.required("score")?;
    let score = score_value
        .as_i64()
        .filter(|n| (1..=5).contains(n))
        .ok_or_else(|| {
            f.invalid_field(
                "score",
                format!(
                    "must be a whole number from 1 to 5, got {}",
                    quote(score_value)
                ),
            )
        })?;
    let comment = f
        .optional_str("comment", MAX_COMMENT_CHARS)?
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let (wanted, note) = (id.clone(), comment.clone());
    state
        .store
        .write(move |conn| {
            let found = match conversation::find_visible(conn, &visitor, &wanted)? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if found.open {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "the conversation is still open; rate it once it is closed",
                )));
            }
            if found.rated {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "this conversation is already rated; a conversation is rated once",
                )));
            }
            conn.prepare_cached(
                "UPDATE chat_conversations SET csat = ?2, csat_comment = ?3, rated_at = ?4
                 WHERE id = ?1 AND csat IS NULL",
            )?
            .execute(params![wanted, score, note, datetime::now()])?;
            Ok(Ok(()))
        })
        .await??;
    let answer = json!({ "conversationId": id, "score": score, "comment": comment });
    state.chat.publish(Published::Rated {
        data: answer.clone(),
    });
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `GET /v1/chat/status?writeKey`: `{open, closesAt?, opensAt?, hours?}`.
pub(super) async fn status(
    State(state): State<AppState>,
    auth: WriteAuth,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    auth.confirm(&query_object(query)?)?;
    Ok(Json(state.chat.status(OffsetDateTime::now_utc())))
}
