//! Live chat between shoppers and the shop's agents: plain POSTs for messages and a
//! Server-Sent Events stream for everything that happens, resumable with
//! `Last-Event-ID`.
//!
//! - Shopper endpoints (`/v1/chat/...`, [`shopper`]) are browser routes: CORS, the
//!   public write key, and the visitor named by `anonymousId` (plus `userId` with its
//!   `userHash` once the shopper is identified).
//! - Agent endpoints (`/v1/agent/...`, [`console`]) are same-origin only and need the
//!   session cookie that `POST /v1/agent/login` sets ([`agents`]).
//!
//! Every message gets a global sequence number, `seq`, from SQLite
//! (`INTEGER PRIMARY KEY AUTOINCREMENT`): it orders messages and is the SSE event id.
//! Writers publish a wake-up on [`Chat`]'s broadcast channel after their commit, and
//! each stream reads the committed messages past its cursor from the database. So
//! streams deliver in `seq` order with no gap and no duplicate even when one group
//! commit holds several requests' messages and their tasks publish out of order
//! ([`stream`]).
//!
//! Who may see a conversation: once it is tied to a userId, only that verified
//! shopper (from any device); before that, the device's anonymousId.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use serde_json::{json, Value};
use souk::core::faq::Faq;
use tokio::sync::{broadcast, watch};

use crate::cors::AllowedOrigins;
use crate::fields::Invalid;
use crate::http::{ApiError, AppState};
use crate::store;

pub mod agents;
mod console;
mod context;
mod conversation;
pub mod hours;
mod limit;
mod page;
mod shopper;
mod stream;

pub use agents::{AgentArgs, AgentError};
pub use hours::Hours;

/// The longest message text, in characters, after trimming.
pub const MAX_TEXT_CHARS: usize = 2000;

/// How many events a slow stream may fall behind before it re-reads from the
/// database (messages) or misses them (typing and read hints).
const BROADCAST_CAPACITY: usize = 1024;

/// What answers a shopper message automatically, such as a FAQ matcher. It is asked
/// about every shopper message (off the database writer, before the message is
/// stored); when it answers, the answer is stored as a `bot` message with
/// `automatic: true` right after the shopper's (the next seq, in the same
/// transaction) and streamed like any message. A resent message gets no second
/// answer.
pub trait Answerer: Send + Sync {
    /// The FAQ entry id and the answer for a shopper's message `text`, if one fits.
    fn auto_answer(&self, text: &str) -> Option<(String, String)>;
}

/// The FAQ answers a message when it clearly asks one of its questions.
impl Answerer for Faq {
    fn auto_answer(&self, text: &str) -> Option<(String, String)> {
        self.best(text)
            .map(|found| (found.id.to_owned(), found.answer.to_owned()))
    }
}

/// A FAQ file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FaqFileError {
    /// It could not be read.
    #[error("cannot read the FAQ file {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// It was read but refused.
    #[error("the FAQ file {file}: {source}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong in it.
        source: souk::core::faq::FaqError,
    },
}

/// Reads and checks the FAQ file `path`.
pub fn load_faq(path: &std::path::Path) -> Result<Faq, FaqFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FaqFileError::Read {
        file: file.clone(),
        source,
    })?;
    Faq::from_json(&text).map_err(|source| FaqFileError::Invalid { file, source })
}

/// The chat's shared state: the live event channel, the business hours, the rate
/// limits and the automatic answerer. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    inner: Arc<Inner>,
}

struct Inner {
    events: broadcast::Sender<Published>,
    hours: Option<Hours>,
    answerer: Option<Arc<dyn Answerer>>,
    limits: limit::Limits,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("hours", &self.inner.hours)
            .field("answerer", &self.inner.answerer.is_some())
            .finish_non_exhaustive()
    }
}

impl Chat {
    /// The chat with the team's business `hours` (always open without) and no
    /// automatic answerer.
    pub fn new(hours: Option<Hours>) -> Chat {
        Chat::build(hours, None)
    }

    /// The same chat with `answerer` answering shopper messages automatically. Set it
    /// before the chat goes into the router's state: this makes a new chat, with its
    /// own event channel.
    pub fn with_answerer(self, answerer: Arc<dyn Answerer>) -> Chat {
        Chat::build(self.inner.hours.clone(), Some(answerer))
    }

    fn build(hours: Option<Hours>, answerer: Option<Arc<dyn Answerer>>) -> Chat {
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (closing, _) = watch::channel(false);
        Chat {
            inner: Arc::new(Inner {
                events,
                hours,
                answerer,
                limits: limit::Limits::default(),
                closing,
            }),
        }
    }

    /// Ends every open stream, so that a graceful shutdown does not wait for them.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// The automatic answer to a shopper's `text`, if an answerer is set and fits.
    fn auto_answer(&self, text: &str) -> Option<(String, String)> {
        self.inner.answerer.as_ref()?.auto_answer(text)
    }

    /// Tells the open streams about something committed (nobody listening is fine).
    fn publish(&self, event: Published) {
        let _ = self.inner.events.send(event);
    }

    fn subscribe(&self) -> (broadcast::Receiver<Published>, watch::Receiver<bool>) {
        (
            self.inner.events.subscribe(),
            self.inner.closing.subscribe(),
        )
    }

    /// Whether the team is in now, and when it opens or closes next.
    pub fn status(&self, now: time::OffsetDateTime) -> Value {
        match &self.inner.hours {
            None => json!({ "open": true }),
            Some(hours) => hours.status(now),
        }
    }

    fn is_open(&self, now: time::OffsetDateTime) -> bool {
        self.inner.hours.as_ref().is_none_or(|h| h.is_open(now))
    }
}

impl FromRef<AppState> for Chat {
    fn from_ref(state: &AppState) -> Self {
        state.chat.clone()
    }
}

/// Whose conversation an event is about, as the streams filter it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    anonymous_id: String,
    user_id: Option<String>,
}

impl Owner {
    /// Whether `visitor` may see the conversation: its userId's verified shopper once
    /// it has one, else the device that started it.
    fn visible_to(&self, visitor: &Visitor) -> bool {
        match &self.user_id {
            Some(user) => visitor.user_id.as_ref() == Some(user),
            None => self.anonymous_id == visitor.anonymous_id,
        }
    }
}

/// A shopper as the chat endpoints know them: the device's anonymousId and, once
/// their userHash is checked, their userId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Visitor {
    anonymous_id: String,
    user_id: Option<String>,
}

/// Something committed that the streams pass on.
#[derive(Debug, Clone)]
pub(crate) enum Published {
    /// A message was stored with this `seq`: streams that may see it read it (and
    /// every message before it that they missed) from the database.
    Message { seq: i64, owner: Owner },
    /// Someone is typing.
    Typing {
        owner: Owner,
        data: Value,
        from_agent: bool,
    },
    /// Someone read the conversation up to a seq.
    Read {
        owner: Owner,
        data: Value,
        by_agent: bool,
    },
    /// An agent closed the conversation.
    Closed { owner: Owner, data: Value },
    /// The conversation's agent changed.
    Assigned { owner: Owner, data: Value },
    /// The shopper rated a closed conversation (agents only).
    Rated { data: Value },
}

/// Why a chat request was refused: an [`ApiError`], or a rate limit (429 with
/// `Retry-After`).
#[derive(Debug)]
pub enum Refusal {
    /// Answered as `{"error": message}` with its status.
    Api(ApiError),
    /// Too many requests: try again after this long.
    Limited(Duration),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(error) => error.into_response(),
            Refusal::Limited(wait) => {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let seconds = seconds.max(1);
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many chat messages; wait {seconds} s and send again (the Retry-After header says when)"),
                )
                .into_response();
                response.headers_mut().insert(
                    RETRY_AFTER,
                    HeaderValue::from_str(&seconds.to_string()).expect("digits are a header value"),
                );
                response
            }
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<Invalid> for Refusal {
    fn from(e: Invalid) -> Self {
        Refusal::Api(e.into())
    }
}

impl From<store::Error> for Refusal {
    fn from(e: store::Error) -> Self {
        Refusal::Api(e.into())
    }
}

/// The chat's routes, to merge into the application's router: the shopper routes
/// with CORS for `origins`, and the agent routes same-origin only.
pub fn routes(origins: &AllowedOrigins) -> Router<AppState> {
    let browser = |route| crate::http::browser_route(route, origins);
    let console = |route: MethodRouter<AppState>| route.fallback(crate::http::method_not_allowed);
    Router::new()
        .route("/v1/chat/messages", browser(post(shopper::post_message)))
        .route("/v1/chat/stream", browser(get(shopper::stream)))
        .route(
            "/v1/chat/conversations",
            browser(get(shopper::conversations)),
        )
        .route("/v1/chat/typing", browser(post(shopper::typing)))
        .route("/v1/chat/read", browser(post(shopper::read)))
        .route("/v1/chat/rating", browser(post(shopper::rating)))
        .route("/v1/chat/status", browser(get(shopper::status)))
        .route("/v1/agent/login", console(post(agents::login)))
        .route("/v1/agent/logout", console(post(agents::logout)))
        .route("/v1/agent/me", console(get(agents::me)))
        .route("/v1/agent/agents", console(get(agents::list)))
        .route("/v1/agent/stream", console(get(console::stream)))
        .route(
            "/v1/agent/conversations",
            console(get(console::conversations)),
        )
        .route(
            "/v1/agent/conversations/{id}",
            console(get(console::conversation)),
        )
        .route(
            "/v1/agent/conversations/{id}/messages",
            console(post(console::post_message)),
        )
        .route(
            "/v1/agent/conversations/{id}/assign",
            console(post(console::assign)),
        )
        .route(
            "/v1/agent/conversations/{id}/close",
            console(post(console::close)),
        )
        .route(
            "/v1/agent/conversations/{id}/typing",
            console(post(console::typing)),
        )
        .route(
            "/v1/agent/conversations/{id}/read",
            console(post(console::read)),
        )
        .route(
            "/v1/agent/canned",
            console(get(console::canned).post(console::add_canned)),
        )
        .route(
            "/v1/agent/canned/{id}",
            console(delete(console::delete_canned)),
        )
        .route("/v1/agent/stats", console(get(console::stats)))
        .merge(page::routes())
}

/// A random id: `prefix` and 32 hex digits.
fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Shipping;

    impl Answerer for Shipping {
        fn auto_answer(&self, text: &str) -> Option<(String, String)> {
            text.contains("ship")
                .then(|| ("shipping".to_owned(), "Within two days.".to_owned()))
        }
    }

    #[test]
    fn the_answerer_is_asked_only_once_set() {
        let chat = Chat::new(None);
        assert_eq!(chat.auto_answer("do you ship?"), None);
        let chat = chat.with_answerer(Arc::new(Shipping));
        assert_eq!(
            chat.auto_answer("do you ship?"),
            Some(("shipping".to_owned(), "Within two days.".to_owned()))
        );
        assert_eq!(chat.auto_answer("hello"), None);
    }
}
