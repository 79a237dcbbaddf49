//! The agents' endpoints, for the console at `/agent`: the inbox, a conversation with
//! the shopper's context, replies, assignment, closing, canned responses, the
//! agents' stream and the chat's numbers. Each takes a [`SignedIn`] session.

use std::time::Instant;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};

use super::agents::SignedIn;
use super::context::{self, Shopper};
use super::conversation::{self, AgentRef, Audience, Found};
use super::limit::NOTICES;
use super::shopper::{id_field, message_text, up_to_seq, MAX_BODY_BYTES};
use super::{stream, Published, Refusal};
use crate::body::JsonBody;
use crate::datetime;
use crate::fields::{quote, Fields};
use crate::http::{created_or_ok, ApiError, AppState};

/// How long a last-message preview is, in characters.
const PREVIEW_CHARS: usize = 140;

/// How many conversations the inbox lists by default, and at most.
const LIST_DEFAULT: i64 = 50;
const LIST_MAX: i64 = 200;

/// How many of a conversation's latest messages its view holds.
const MESSAGES: i64 = 1000;

/// `text` cut to [`PREVIEW_CHARS`], with `…` when cut.
pub(super) fn preview(text: &str) -> String {
    if text.chars().count() <= PREVIEW_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(PREVIEW_CHARS - 1).collect();
    short.push('…');
    short
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|e| bad_request(e.body_text()))
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|e| bad_request(e.body_text()))
}

/// The columns [`summary_json`] reads.
const SUMMARY: &str = "SELECT c.id, c.anonymous_id, c.user_id, c.email, c.status, c.assigned_agent,
        a.name, c.context, c.context_at, c.created_at, c.updated_at, c.closed_at, c.csat,
        c.csat_comment, c.last_seq, c.follows,
        (SELECT COUNT(*) FROM chat_messages u
         WHERE u.conversation_id = c.id AND u.author = 'shopper'
           AND u.seq > COALESCE((SELECT r.up_to_seq FROM chat_reads r
                                 WHERE r.conversation_id = c.id AND r.reader = 'agent'), 0)),
        m.seq, m.author, m.text, m.received_at
    FROM chat_conversations c
    LEFT JOIN agents a ON a.id = c.assigned_agent
    LEFT JOIN chat_messages m ON m.seq = c.last_seq";

/// A conversation as the inbox lists it.
fn summary_json(row: &Row<'_>) -> rusqlite::Result<Value> {
    let anonymous_id: String = row.get(1)?;
    let user_id: Option<String> = row.get(2)?;
    let label = match &user_id {
        Some(user) => user.clone(),
        None => format!(
            "visitor {}",
            anonymous_id.chars().take(8).collect::<String>()
        ),
    };
    let context = row
        .get::<_, Option<String>>(7)?
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let assigned = row
        .get::<_, Option<i64>>(5)?
        .map(|id| -> rusqlite::Result<Value> {
            Ok(json!({ "id": id, "name": row.get::<_, Option<String>>(6)? }))
        })
        .transpose()?;
    let rating = row
        .get::<_, Option<i64>>(12)?
        .map(|score| -> rusqlite::Result<Value> {
            Ok(json!({ "score": score, "comment": row.get::<_, Option<String>>(13)? }))
        })
        .transpose()?;
    let last = row
        .get::<_, Option<i64>>(17)?
        .map(|seq| -> rusqlite::Result<Value> {
            Ok(json!({
                "seq": seq,
                "author": row.get::<_, String>(18)?,
                "text": preview(&row.get::<_, String>(19)?),
                "receivedAt": row.get::<_, String>(20)?,
            }))
        })
        .transpose()?;
    Ok(json!({
        "id": row.get::<_, String>(0)?,
        "status": row.get::<_, String>(4)?,
        "shopper": {
            "label": label,
            "anonymousId": anonymous_id,
            "userId": user_id,
            "email": row.get::<_, Option<String>>(3)?,
        },
        "assignedAgent": assigned,
        "context": context,
        "contextAt": row.get::<_, Option<String>>(8)?,
        "createdAt": row.get::<_, String>(9)?,
        "updatedAt": row.get::<_, String>(10)?,
        "closedAt": row.get::<_, Option<String>>(11)?,
        "rating": rating,
        "lastSeq": row.get::<_, i64>(14)?,
        "follows": row.get::<_, Option<String>>(15)?,
        "unread": row.get::<_, i64>(16)?,
        "lastMessage": last,
    }))
}

/// `GET /v1/agent/conversations?status=open|closed|any&assigned=me|none|any&q=…&limit=N`:
/// `{conversations: [...]}`, latest activity first.
pub(super) async fn conversations(
    State(state): State<AppState>,
    agent: SignedIn,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let pairs = query_pairs(query)?;
    let status = match param(&pairs, "status").unwrap_or("any") {
        "any" => None,
        s @ ("open" | "closed") => Some(s.to_owned()),
        other => {
            return Err(bad_request(format!(
                "status: must be open, closed or any, got {other:?}"
            ))
            .into())
        }
    };
    let assigned = match param(&pairs, "assigned").unwrap_or("any") {
        "any" => None,
        "me" => Some(Some(agent.agent.id)),
        "none" => Some(None),
        other => {
            return Err(
                bad_request(format!("assigned: must be me, none or any, got {other:?}")).into(),
            )
        }
    };
    let limit = match param(&pairs, "limit") {
        None => LIST_DEFAULT,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=LIST_MAX).contains(n))
            .ok_or_else(|| {
                bad_request(format!(
                    "limit: must be a whole number from 1 to {LIST_MAX}, got {text:?}"
                ))
            })?,
    };
    let search = param(&pairs, "q").map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let listed = state
        .store
        .read(move |conn| {
            let mut sql = format!("{SUMMARY} WHERE 1 = 1");
            let mut values: Vec<(&str, &dyn ToSql)> = Vec::new();
            if let Some(status) = &status {
                sql.push_str(" AND c.status = :status");
                values.push((":status", status));
            }
            match &assigned {
                Some(Some(id)) => {
                    sql.push_str(" AND c.assigned_agent = :agent");
                    values.push((":agent", id));
                }
                Some(None) => sql.push_str(" AND c.assigned_agent IS NULL"),
                None => {}
            }
            if let Some(pattern) = &search {
                sql.push_str(
                    " AND (c.user_id LIKE :q ESCAPE '\\' OR c.anonymous_id LIKE :q ESCAPE '\\'
                           OR c.email LIKE :q ESCAPE '\\' OR c.id LIKE :q ESCAPE '\\'
                           OR EXISTS (SELECT 1 FROM chat_messages s
                                      WHERE s.conversation_id = c.id AND s.text LIKE :q ESCAPE '\\'))",
                );
                values.push((":q", pattern));
            }
            sql.push_str(" ORDER BY c.last_seq DESC LIMIT :limit");
            values.push((":limit", &limit));
            Ok(conn
                .prepare_cached(&sql)?
                .query_map(values.as_slice(), summary_json)?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    Ok(Json(json!({ "conversations": listed })))
}

/// `GET /v1/agent/conversations/{id}`: `{conversation, messages, shopper}`, where
/// `shopper` is `{page, cart, recentlyViewed, loyalty, earlier}` (see [`context`]).
pub(super) async fn conversation(
    State(state): State<AppState>,
    _: SignedIn,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, Refusal> {
    let id = path_id(id)?;
    let rules = state.rules.clone();
    let view = state
        .store
        .read(move |conn| {
            // No snapshot of our own: the loyalty account takes its own.
            let summary = conn
                .prepare_cached(&format!("{SUMMARY} WHERE c.id = ?1"))?
                .query_row([&id], summary_json)
                .optional()?;
            let Some(summary) = summary else {
                return Ok(None);
            };
            let messages = conversation::messages_of(conn, &id, true, MESSAGES)?;
            let shopper = context::of(
                conn,
                &rules,
                &Shopper {
                    conversation: &id,
                    anonymous_id: summary["shopper"]["anonymousId"]
                        .as_str()
                        .unwrap_or_default(),
                    user_id: summary["shopper"]["userId"].as_str(),
                    context: Some(summary["context"].clone()).filter(|c| !c.is_null()),
                    context_at: summary["contextAt"].as_str(),
                },
            )?;
            Ok(Some(json!({
                "conversation": summary,
                "messages": messages,
                "shopper": shopper,
            })))
        })
        .await?;
    view.map(Json)
        .ok_or_else(|| conversation::no_conversation().into())
}

/// `POST /v1/agent/conversations/{id}/messages` `{id, text}`: the agent's reply, once
/// per `id`: 201 `{conversationId, seq, id}`, 200 for a resend, 409 once closed.
pub(super) async fn post_message(
    State(state): State<AppState>,
    agent: SignedIn,
    conversation_id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<MAX_BODY_BYTES>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let conversation_id = path_id(conversation_id)?;
    let f = Fields::of(&body, "")?;
    let id = id_field(&f, "id", true)?
        .expect("a required field is read")
        .to_owned();
    let text = message_text(&f)?;
    let (by, into, message_id) = (agent.agent.clone(), conversation_id.clone(), id.clone());
    let posted = state
        .store
        .write(move |conn| {
            Ok(conversation::post_agent(
                conn,
                &by,
                &into,
                &message_id,
                &text,
                &datetime::now(),
            )?)
        })
        .await??;
    if posted.created {
        state.chat.publish(Published::Message {
            seq: posted.seq,
            owner: posted.owner.clone(),
        });
    }
    if let Some(assigned) = &posted.assigned {
        state.chat.publish(Published::Assigned {
            owner: posted.owner.clone(),
            data: json!({ "conversationId": conversation_id, "agent": assigned }),
        });
    }
    Ok(created_or_ok((
        posted.created,
        json!({ "conversationId": conversation_id, "seq": posted.seq, "id": id }),
    )))
}

/// The conversation `id`, or the agents' 404.
fn existing(conn: &Connection, id: &str) -> rusqlite::Result<Result<Found, ApiError>> {
    Ok(conversation::find(conn, id)?.ok_or_else(conversation::no_conversation))
}

/// `POST /v1/agent/conversations/{id}/assign` `{agentId: id | "me" | null}`:
/// `{conversationId, assignedAgent: {id, name} | null}`.
pub(super) async fn assign(
    State(state): State<AppState>,
    agent: SignedIn,
    conversation_id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<4096>,
) -> Result<Json<Value>, Refusal> {
    let conversation_id = path_id(conversation_id)?;
    let how = "an agent's id, \"me\", or null to unassign";
    let wanted =
        match body.get("agentId") {
            None => return Err(bad_request(format!("agentId: is required: {how}")).into()),
            Some(Value::Null) => None,
            Some(Value::String(me)) if me == "me" => Some(agent.agent.id),
            Some(value) => Some(value.as_i64().ok_or_else(|| {
                bad_request(format!("agentId: must be {how}, got {}", quote(value)))
            })?),
        };
    let id = conversation_id.clone();
    let (owner, assigned) = state
        .store
        .write(move |conn| {
            let found = match existing(conn, &id)? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let assigned = match wanted {
                None => None,
                Some(agent_id) => {
                    let name: Option<String> = conn
                        .prepare_cached("SELECT name FROM agents WHERE id = ?1")?
                        .query_row([agent_id], |row| row.get(0))
                        .optional()?;
                    match name {
                        Some(name) => Some(AgentRef { id: agent_id, name }),
                        None => {
                            return Ok(Err(ApiError::new(
                                StatusCode::NOT_FOUND,
                                format!("agentId: no agent has id {agent_id}"),
                            )))
                        }
                    }
                }
            };
            conn.prepare_cached("UPDATE chat_conversations SET assigned_agent = ?2 WHERE id = ?1")?
                .execute(params![id, assigned.as_ref().map(|a| a.id)])?;
            Ok(Ok((found.owner, assigned)))
        })
        .await??;
    let assigned = assigned.map(|a| a.to_json());
    state.chat.publish(Published::Assigned {
        owner,
        data: json!({ "conversationId": conversation_id, "agent": assigned }),
    });
    Ok(Json(
        json!({ "conversationId": conversation_id, "assignedAgent": assigned }),
    ))
}

/// `POST /v1/agent/conversations/{id}/close`: `{conversationId, status: "closed",
/// closedAt}`; closing a closed conversation changes nothing.
pub(super) async fn close(
    State(state): State<AppState>,
    _: SignedIn,
    conversation_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, Refusal> {
    let conversation_id = path_id(conversation_id)?;
    let id = conversation_id.clone();
    let (owner, closed_at, now_closed) = state
        .store
        .write(move |conn| {
            let found = match existing(conn, &id)? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if found.open {
                let seq = conversation::max_seq(conn)?;
                conn.prepare_cached(
                    "UPDATE chat_conversations SET status = 'closed', closed_at = ?2, close_seq = ?3
                     WHERE id = ?1",
                )?
                .execute(params![id, datetime::now(), seq])?;
            }
            let closed_at: String = conn
                .prepare_cached("SELECT closed_at FROM chat_conversations WHERE id = ?1")?
                .query_row([&id], |row| row.get(0))?;
            Ok(Ok((found.owner, closed_at, found.open)))
        })
        .await??;
    if now_closed {
        state.chat.publish(Published::Closed {
            owner,
            data: json!({ "conversationId": conversation_id, "closedAt": closed_at }),
        });
    }
    Ok(Json(json!({
        "conversationId": conversation_id,
        "status": "closed",
        "closedAt": closed_at,
    })))
}

/// `POST /v1/agent/conversations/{id}/typing`: tells the shopper (and the other
/// agents) that this agent is typing; 202 `{conversationId}`.
pub(super) async fn typing(
    State(state): State<AppState>,
    agent: SignedIn,
    conversation_id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let conversation_id = path_id(conversation_id)?;
    let key = format!("notice:agent:{}", agent.agent.id);
    state
        .chat
        .inner
        .limits
        .take(&[(key.as_str(), NOTICES)], Instant::now())
        .map_err(Refusal::Limited)?;
    let id = conversation_id.clone();
    let found = state
        .store
        .read(move |conn| Ok(existing(conn, &id)?))
        .await??;
    state.chat.publish(Published::Typing {
        owner: found.owner,
        data: json!({
            "conversationId": conversation_id,
            "author": "agent",
            "agentId": agent.agent.id,
            "agentName": agent.agent.name,
        }),
        from_agent: true,
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "conversationId": conversation_id })),
    ))
}

/// `POST /v1/agent/conversations/{id}/read` `{upToSeq}`: the agents have read up to
/// that seq; `{conversationId, upToSeq}` with the mark kept (never lowered).
pub(super) async fn read(
    State(state): State<AppState>,
    agent: SignedIn,
    conversation_id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<4096>,
) -> Result<Json<Value>, Refusal> {
    let conversation_id = path_id(conversation_id)?;
    let up_to = up_to_seq(&Fields::of(&body, "")?)?;
    let id = conversation_id.clone();
    let (owner, kept) = state
        .store
        .write(move |conn| {
            let found = match existing(conn, &id)? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let kept = conversation::mark_read(conn, &id, "agent", up_to, &datetime::now())?;
            Ok(Ok((found.owner, kept)))
        })
        .await??;
    state.chat.publish(Published::Read {
        owner,
        data: json!({
            "conversationId": conversation_id,
            "reader": "agent",
            "upToSeq": kept,
            "agentId": agent.agent.id,
        }),
        by_agent: true,
    });
    Ok(Json(
        json!({ "conversationId": conversation_id, "upToSeq": kept }),
    ))
}

/// `GET /v1/agent/stream[?lastEventId=N]`: every conversation's events as
/// Server-Sent Events, resumable with `Last-Event-ID`.
pub(super) async fn stream(
    State(state): State<AppState>,
    _: SignedIn,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Refusal> {
    let pairs = query_pairs(query)?;
    let resume = stream::last_event_id(&headers, param(&pairs, "lastEventId"))?;
    Ok(stream::open(&state.chat, state.store.clone(), Audience::Agents, resume).await?)
}

fn canned_json(row: &Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "id": row.get::<_, i64>(0)?,
        "title": row.get::<_, String>(1)?,
        "text": row.get::<_, String>(2)?,
        "lang": row.get::<_, Option<String>>(3)?,
    }))
}

/// `GET /v1/agent/canned[?lang=ar]`: `{canned: [{id, title, text, lang}]}` by title;
/// with `lang`, those in that language and those for any.
pub(super) async fn canned(
    State(state): State<AppState>,
    _: SignedIn,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let pairs = query_pairs(query)?;
    let lang = param(&pairs, "lang").map(str::to_owned);
    let canned = state
        .store
        .read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, title, text, lang FROM chat_canned_responses
                     WHERE ?1 IS NULL OR lang IS NULL OR lang = ?1
                     ORDER BY title COLLATE NOCASE, id",
                )?
                .query_map([lang], canned_json)?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    Ok(Json(json!({ "canned": canned })))
}

/// `POST /v1/agent/canned` `{title, text, lang?}`: 201 `{id, title, text, lang}`.
pub(super) async fn add_canned(
    State(state): State<AppState>,
    agent: SignedIn,
    JsonBody(body): JsonBody<MAX_BODY_BYTES>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let f = Fields::of(&body, "")?;
    let title = f.required_str("title", 100)?.trim().to_owned();
    let text = message_text(&f)?;
    let lang = f.optional_str("lang", 35)?.map(str::to_owned);
    let by = agent.agent.id;
    let answer = state
        .store
        .write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO chat_canned_responses (title, text, lang, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![title, text, lang, by, datetime::now()])?;
            Ok(json!({ "id": conn.last_insert_rowid(), "title": title, "text": text, "lang": lang }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `DELETE /v1/agent/canned/{id}`: `{deleted: id}`, or 404.
pub(super) async fn delete_canned(
    State(state): State<AppState>,
    _: SignedIn,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, Refusal> {
    let Path(id) = id.map_err(|e| bad_request(e.body_text()))?;
    let deleted = state
        .store
        .write(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM chat_canned_responses WHERE id = ?1")?
                .execute([id])?)
        })
        .await?;
    if deleted == 0 {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no canned response with this id").into());
    }
    Ok(Json(json!({ "deleted": id })))
}

/// The median of sorted `values`.
fn median(values: &[f64]) -> Option<f64> {
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// `GET /v1/agent/stats[?since=date-time]`: over the conversations started since
/// then (all without), `{conversations: {open, closed, total}, csat: {count,
/// average}, firstResponse: {count, medianSeconds, averageSeconds}}`. A first
/// response is the time from a conversation's first shopper message to its first
/// agent message (bots do not count), by the server's clock.
pub(super) async fn stats(
    State(state): State<AppState>,
    _: SignedIn,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let pairs = query_pairs(query)?;
    let since = match param(&pairs, "since") {
        None => None,
        Some(text) => Some(datetime::normalize(text).ok_or_else(|| {
            bad_request(format!(
                "since: must be an RFC 3339 date-time, got {text:?}"
            ))
        })?),
    };
    let rows = state
        .store
        .read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT c.status, c.csat,
                        (SELECT MIN(received_at) FROM chat_messages m
                         WHERE m.conversation_id = c.id AND m.author = 'shopper'),
                        (SELECT MIN(received_at) FROM chat_messages m
                         WHERE m.conversation_id = c.id AND m.author = 'agent')
                     FROM chat_conversations c WHERE ?1 IS NULL OR c.created_at >= ?1",
                )?
                .query_map([since], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, Option<String>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    let open = rows.iter().filter(|r| r.0 == "open").count();
    let scores: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    let mut waits: Vec<f64> = rows
        .iter()
        .filter_map(|(_, _, shopper, agent)| {
            let shopper = datetime::to_ms(shopper.as_deref()?)?;
            let agent = datetime::to_ms(agent.as_deref()?)?;
            Some(agent.saturating_sub(shopper) as f64 / 1000.0)
        })
        .collect();
    waits.sort_by(f64::total_cmp);
    let average = |sum: f64, n: usize| (n > 0).then(|| sum / n as f64);
    Ok(Json(json!({
        "conversations": { "open": open, "closed": rows.len() - open, "total": rows.len() },
        "csat": {
            "count": scores.len(),
            "average": average(scores.iter().sum::<i64>() as f64, scores.len()).map(|a| round(a, 2)),
        },
        "firstResponse": {
            "count": waits.len(),
            "medianSeconds": median(&waits).map(|m| round(m, 3)),
            "averageSeconds": average(waits.iter().sum(), waits.len()).map(|a| round(a, 3)),
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_previews() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
        assert_eq!(preview("short"), "short");
        let long = preview(&"x".repeat(500));
        assert_eq!(long.chars().count(), PREVIEW_CHARS);
        assert!(long.ends_with('…'));
    }
}
