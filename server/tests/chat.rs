//! Live chat over real HTTP against the real binary and a real SQLite file: shoppers
//! post with the write key and follow their Server-Sent Events stream, agents sign in
//! with a password set by `souk-server agent add`, reply, assign, close, and read
//! the numbers.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use souk_server::auth::user_hash;

const IDENTITY_SECRET: &str = "shop-identity-secret";
const SERVER_KEY: &str = "merchant-secret-key";
const PASSWORD: &str = "a long agent password";

fn command(site: &Site) -> Command {
    let mut cmd = site.command();
    cmd.arg("--identity-secret")
        .arg(IDENTITY_SECRET)
        .arg("--server-key")
        .arg(SERVER_KEY)
        .env_remove("SOUK_CHAT_HOURS");
    cmd
}

fn start(site: &Site) -> Server {
    Server::start(command(site))
}

fn hash(user: &str) -> String {
    user_hash(IDENTITY_SECRET, user)
}

/// A shopper's message body.
fn message(anon: &str, id: &str, text: &str) -> Value {
    json!({ "anonymousId": anon, "id": id, "text": text })
}

fn post(server: &Server, path: &str, body: &Value) -> Reply {
    server.post_json(path, body)
}

/// Posts a shopper message that must be stored for the first time.
fn say(server: &Server, body: &Value) -> Value {
    let reply = post(server, "/v1/chat/messages", body);
    let answer = reply.json();
    assert_eq!(reply.status, 201, "{answer}");
    answer
}

fn get(server: &Server, path: &str) -> Reply {
    server.get_with(path, &[("authorization", &basic(DEMO_KEY))])
}

/// `souk-server agent add` with the password on standard input.
fn add_agent(site: &Site, email: &str, name: &str, password: &str) -> (bool, String) {
    add_staff(site, &["--email", email, "--name", name], password)
}

fn login(server: &Server, email: &str, password: &str) -> Reply {
    server.post(
        "/v1/agent/login",
        &[("content-type", "application/json")],
        json!({ "email": email, "password": password }).to_string(),
    )
}

/// Signs in and answers the `Cookie` header value of the session.
fn sign_in(server: &Server, email: &str) -> String {
    staff_cookie(server, email, PASSWORD)
}

/// An agent signed in to a fresh server: (site, server, cookie).
fn with_agent() -> (Site, Server, String) {
    let site = Site::new();
    let (ok, stderr) = add_agent(&site, "noor@shop.example", "Noor", PASSWORD);
    assert!(ok, "{stderr}");
    let server = start(&site);
    let cookie = sign_in(&server, "noor@shop.example");
    (site, server, cookie)
}

fn agent_post(server: &Server, cookie: &str, path: &str, body: &Value) -> Reply {
    server.post(
        path,
        &[("content-type", "application/json"), ("cookie", cookie)],
        body.to_string(),
    )
}

fn agent_get(server: &Server, cookie: &str, path: &str) -> Reply {
    server.get_with(path, &[("cookie", cookie)])
}

/// An agent's reply that must be stored for the first time.
fn reply(server: &Server, cookie: &str, conversation: &str, id: &str, text: &str) -> Value {
    let reply = agent_post(
        server,
        cookie,
        &format!("/v1/agent/conversations/{conversation}/messages"),
        &json!({ "id": id, "text": text }),
    );
    let answer = reply.json();
    assert_eq!(reply.status, 201, "{answer}");
    answer
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    id: Option<String>,
    event: String,
    data: Value,
}

/// An open event stream, read on its own thread.
struct Stream {
    events: mpsc::Receiver<Sse>,
}

impl Stream {
    /// Opens `path` with `headers`; panics unless it answers 200 `text/event-stream`.
    fn open(server: &Server, path: &str, headers: &[(&str, &str)]) -> Stream {
        let (status, stream) = Stream::try_open(server, path, headers);
        assert_eq!(status, 200, "{path}");
        stream.unwrap()
    }

    fn try_open(server: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, Option<Stream>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .proxy(None)
            .build()
            .into();
        let mut request = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", server.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = agent.run(request.body(()).unwrap()).unwrap();
        let status = response.status().as_u16();
        if status != 200 {
            return (status, None);
        }
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert_eq!(content_type, "text/event-stream");
        assert!(response.headers().get("content-encoding").is_none());
        let reader = BufReader::new(response.into_body().into_reader());
        let (sender, events) = mpsc::channel();
        thread::spawn(move || {
            let (mut id, mut event, mut data) = (None, String::from("message"), String::new());
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if line.is_empty() {
                    if !data.is_empty() {
                        let sse = Sse {
                            id: id.take(),
                            event: std::mem::replace(&mut event, "message".into()),
                            data: serde_json::from_str(&data).unwrap(),
                        };
                        if sender.send(sse).is_err() {
                            break;
                        }
                    }
                    (id, event, data) = (None, "message".into(), String::new());
                } else if let Some(value) = line.strip_prefix("id:") {
                    id = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("event:") {
                    event = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
            }
        });
        (status, Some(Stream { events }))
    }

    /// The next event, within [`LIMIT`].
    fn next(&self) -> Sse {
        self.events
            .recv_timeout(LIMIT)
            .expect("no event within the time limit")
    }

    /// The next event named `name`, skipping others.
    fn next_named(&self, name: &str) -> Sse {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self
                .events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {name} event within the time limit"));
            if event.event == name {
                return event;
            }
        }
    }

    /// The seqs of the next `n` message events.
    fn seqs(&self, n: usize) -> Vec<i64> {
        (0..n)
            .map(|_| seq_of(&self.next_named("message")))
            .collect()
    }

    /// Nothing arrives for `wait`.
    fn quiet_for(&self, wait: Duration) -> Option<Sse> {
        self.events.recv_timeout(wait).ok()
    }
}

fn seq_of(event: &Sse) -> i64 {
    let seq = event.data["seq"].as_i64().unwrap();
    assert_eq!(
        event.id.as_deref(),
        Some(seq.to_string().as_str()),
        "{event:?}"
    );
    seq
}

fn stream_path(anon: &str) -> String {
    format!("/v1/chat/stream?writeKey={DEMO_KEY}&anonymousId={anon}")
}

#[test]
fn a_resent_message_is_stored_once_and_messages_keep_their_order() {
    let site = Site::new();
    let server = start(&site);
    let first = say(
        &server,
        &message("anon-a", "m-1", "  Salam! Is the coffee pot in stock?  "),
    );
    let conversation = first["conversationId"].as_str().unwrap().to_owned();
    assert!(conversation.starts_with("c_"), "{first}");
    assert_eq!(first["id"], "m-1");
    assert_eq!(first["open"], true);

    // The same id again (a retry after a lost answer): 200, the same seq, nothing new.
    let again = post(
        &server,
        "/v1/chat/messages",
        &message("anon-a", "m-1", "Salam!"),
    );
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["seq"], first["seq"]);
    assert_eq!(again.json()["conversationId"], conversation.as_str());

    // Without a conversationId, the next message joins the latest open conversation.
    let second = say(&server, &message("anon-a", "m-2", "And in blue?"));
    assert_eq!(second["conversationId"], conversation.as_str());
    assert!(second["seq"].as_i64() > first["seq"].as_i64());
    assert_eq!(site.count("SELECT COUNT(*) FROM chat_messages"), 2);

    let listing = get(&server, "/v1/chat/conversations?anonymousId=anon-a").json();
    let conversations = listing["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1, "{listing}");
    let messages = conversations[0]["messages"].as_array().unwrap();
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Salam! Is the coffee pot in stock?", "And in blue?"],
        "trimmed, in order"
    );
    assert_eq!(messages[0]["author"], "shopper");
    assert_eq!(messages[0]["automatic"], false);
    assert!(messages[0]["sentAt"].is_string() && messages[0]["receivedAt"].is_string());
    assert_eq!(listing["lastSeq"], second["seq"]);
    assert_eq!(listing["status"]["open"], true);

    // A client may name a new conversation itself.
    let named = json!({ "anonymousId": "anon-a", "conversationId": "conv-from-client", "id": "m-3", "text": "Another question", "sentAt": "2026-01-01T10:00:00+04:00" });
    assert_eq!(say(&server, &named)["conversationId"], "conv-from-client");
    let stored = site.rows("SELECT sent_at FROM chat_messages WHERE id = 'm-3'");
    assert_eq!(stored[0]["sent_at"], "2026-01-01T06:00:00.000Z");
}

#[test]
fn empty_oversized_and_malformed_messages_are_refused_clearly() {
    let site = Site::new();
    let server = start(&site);
    let error = |body: &Value, status| post(&server, "/v1/chat/messages", body).error(status);
    assert_eq!(
        error(&message("a", "m", "   \n "), 400),
        "text: is empty; write a message"
    );
    assert_eq!(
        error(&message("a", "m", &"ب".repeat(2001)), 400),
        "text: is 2001 characters long; a message holds at most 2000"
    );
    assert_eq!(
        error(&json!({ "anonymousId": "a", "id": "m" }), 400),
        "text: is required: the message to send"
    );
    assert_eq!(
        error(&json!({ "anonymousId": "a", "text": "hi" }), 400),
        "id: is required"
    );
    assert_eq!(
        error(&json!({ "id": "m", "text": "hi" }), 400),
        "anonymousId: is required"
    );
    let bad_email = json!({ "anonymousId": "a", "id": "m", "text": "hi", "email": "nope" });
    assert!(error(&bad_email, 400).starts_with("email: must be an email address"));
    // 2000 characters after trimming is the limit, not over it.
    let longest = format!("  {}  ", "x".repeat(2000));
    say(&server, &message("a", "m-long", &longest));
    // A body far over the limit is refused before it is read whole.
    let huge = message("a", "m-huge", &"x".repeat(100_000));
    assert_eq!(post(&server, "/v1/chat/messages", &huge).status, 413);
    // Without the write key: 401.
    let keyless = server.post(
        "/v1/chat/messages",
        &[("content-type", "application/json")],
        message("a", "m-2", "hi").to_string(),
    );
    keyless.error(401);
    assert_eq!(site.count("SELECT COUNT(*) FROM chat_messages"), 1);
}

#[test]
fn shoppers_reach_only_their_own_conversations() {
    let site = Site::new();
    let server = start(&site);
    let a = say(&server, &message("anon-a", "a-1", "I am A"));
    let a_conversation = a["conversationId"].as_str().unwrap().to_owned();

    // B sees none of A's conversations, and cannot write into A's.
    let b_listing = get(&server, "/v1/chat/conversations?anonymousId=anon-b").json();
    assert_eq!(b_listing["conversations"], json!([]));
    let intrude = json!({ "anonymousId": "anon-b", "conversationId": a_conversation, "id": "b-1", "text": "hi" });
    let hidden = post(&server, "/v1/chat/messages", &intrude).error(404);
    let unknown = post(
        &server,
        "/v1/chat/typing",
        &json!({ "anonymousId": "anon-b", "conversationId": "no-such-conversation" }),
    )
    .error(404);
    assert_eq!(
        hidden, unknown,
        "someone else's conversation looks like no conversation"
    );
    for (path, body) in [
        (
            "/v1/chat/typing",
            json!({ "anonymousId": "anon-b", "conversationId": a_conversation }),
        ),
        (
            "/v1/chat/read",
            json!({ "anonymousId": "anon-b", "conversationId": a_conversation, "upToSeq": 1 }),
        ),
        (
            "/v1/chat/rating",
            json!({ "anonymousId": "anon-b", "conversationId": a_conversation, "score": 1 }),
        ),
    ] {
        assert_eq!(post(&server, path, &body).error(404), hidden, "{path}");
    }
    // Reusing A's message id does not reveal or change A's message.
    let stolen_id = post(
        &server,
        "/v1/chat/messages",
        &message("anon-b", "a-1", "mine?"),
    );
    assert_eq!(stolen_id.status, 409);

    // B's stream carries B's messages and none of A's.
    let b_stream = Stream::open(&server, &stream_path("anon-b"), &[]);
    say(&server, &message("anon-a", "a-2", "A again"));
    let b = say(&server, &message("anon-b", "b-2", "I am B"));
    let first = b_stream.next_named("message");
    assert_eq!(first.data["id"], "b-2");
    assert_eq!(seq_of(&first), b["seq"].as_i64().unwrap());

    // A forged or missing userHash: 401 on every shopper endpoint.
    let forged = hash("someone-else");
    let as_sara = format!("anonymousId=anon-b&userId=sara&userHash={forged}");
    get(&server, &format!("/v1/chat/conversations?{as_sara}")).error(401);
    let (status, _) = Stream::try_open(
        &server,
        &format!("/v1/chat/stream?writeKey={DEMO_KEY}&{as_sara}"),
        &[],
    );
    assert_eq!(status, 401);
    let forged_post = json!({ "anonymousId": "anon-b", "userId": "sara", "userHash": forged, "id": "b-3", "text": "hi" });
    post(&server, "/v1/chat/messages", &forged_post).error(401);
    let no_hash = json!({ "anonymousId": "anon-b", "userId": "sara", "id": "b-4", "text": "hi" });
    post(&server, "/v1/chat/messages", &no_hash).error(401);

    // An identified shopper's conversation follows them to another device, and is no
    // longer shown to the anonymous device.
    let sara = json!({ "anonymousId": "phone", "userId": "sara", "userHash": hash("sara"), "id": "s-1", "text": "From my phone" });
    let sara_conversation = say(&server, &sara)["conversationId"].clone();
    let laptop = get(
        &server,
        &format!(
            "/v1/chat/conversations?anonymousId=laptop&userId=sara&userHash={}",
            hash("sara")
        ),
    )
    .json();
    assert_eq!(laptop["conversations"][0]["id"], sara_conversation);
    let anonymous_phone = get(&server, "/v1/chat/conversations?anonymousId=phone").json();
    assert_eq!(anonymous_phone["conversations"], json!([]));
}

#[test]
fn the_stream_replays_exactly_the_missed_messages_then_goes_live() {
    let (_site, server, cookie) = with_agent();
    let first = say(&server, &message("anon-a", "m-1", "one"));
    let conversation = first["conversationId"].as_str().unwrap().to_owned();
    let seen = first["seq"].as_i64().unwrap();
    let two = say(&server, &message("anon-a", "m-2", "two"))["seq"]
        .as_i64()
        .unwrap();
    // Someone else's message in between is not replayed.
    say(&server, &message("anon-b", "b-1", "not yours"));
    let three = reply(&server, &cookie, &conversation, "r-1", "three")["seq"]
        .as_i64()
        .unwrap();

    let stream = Stream::open(
        &server,
        &stream_path("anon-a"),
        &[("last-event-id", &seen.to_string())],
    );
    let replayed = stream.next_named("message");
    assert_eq!(replayed.data["text"], "two");
    assert_eq!(seq_of(&replayed), two);
    let agent_message = stream.next_named("message");
    assert_eq!(seq_of(&agent_message), three);
    assert_eq!(agent_message.data["author"], "agent");
    assert_eq!(agent_message.data["agentName"], "Noor");
    assert_eq!(agent_message.data["conversationId"], conversation.as_str());

    // Then live, with no repeat of what was replayed.
    let four = say(&server, &message("anon-a", "m-4", "four"))["seq"]
        .as_i64()
        .unwrap();
    assert_eq!(stream.seqs(1), [four]);
    assert!(stream.quiet_for(Duration::from_millis(300)).is_none());

    // The lastEventId query parameter does the same where headers cannot be set.
    let by_query = Stream::open(
        &server,
        &format!("{}&lastEventId={two}", stream_path("anon-a")),
        &[],
    );
    assert_eq!(by_query.seqs(2), [three, four]);
    // The header wins over the query.
    let both = Stream::open(
        &server,
        &format!("{}&lastEventId=0", stream_path("anon-a")),
        &[("last-event-id", &three.to_string())],
    );
    assert_eq!(both.seqs(1), [four]);
    let (status, _) = Stream::try_open(
        &server,
        &stream_path("anon-a"),
        &[("last-event-id", "soon")],
    );
    assert_eq!(status, 400);
}

#[test]
fn replay_and_live_delivery_have_no_gap_and_no_duplicate_under_concurrent_writes() {
    let (site, server, cookie) = with_agent();
    let first = say(&server, &message("anon-a", "m-0", "start"));
    let conversation = first["conversationId"].as_str().unwrap().to_owned();
    for i in 1..=5 {
        reply(
            &server,
            &cookie,
            &conversation,
            &format!("early-{i}"),
            "before",
        );
    }
    let resume_from = first["seq"].as_i64().unwrap();

    // Four agents' worth of replies (and the shopper's messages) race with the stream
    // opening and replaying, so group commits hold several requests at once.
    let url = server.url.clone();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, cookie, conversation) = (url.clone(), cookie.clone(), conversation.clone());
            thread::spawn(move || {
                for i in 0..12 {
                    let body =
                        json!({ "id": format!("w{w}-{i}"), "text": format!("reply {w}/{i}") });
                    let status = agent()
                        .post(format!(
                            "{url}/v1/agent/conversations/{conversation}/messages"
                        ))
                        .header("cookie", &cookie)
                        .header("content-type", "application/json")
                        .send(body.to_string())
                        .unwrap()
                        .status();
                    assert_eq!(status, 201);
                }
            })
        })
        .collect();
    let shopper = {
        let url = url.clone();
        thread::spawn(move || {
            for i in 0..8 {
                let status = agent()
                    .post(format!("{url}/v1/chat/messages"))
                    .header("authorization", &basic(DEMO_KEY))
                    .header("content-type", "application/json")
                    .send(message("anon-a", &format!("s-{i}"), "more").to_string())
                    .unwrap()
                    .status();
                assert_eq!(status, 201);
            }
        })
    };
    let stream = Stream::open(
        &server,
        &stream_path("anon-a"),
        &[("last-event-id", &resume_from.to_string())],
    );
    for writer in writers {
        writer.join().unwrap();
    }
    shopper.join().unwrap();

    let expected: Vec<i64> = site
        .rows(&format!(
            "SELECT seq FROM chat_messages WHERE seq > {resume_from} ORDER BY seq"
        ))
        .iter()
        .map(|row| row["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(expected.len(), 5 + 48 + 8);
    let received = stream.seqs(expected.len());
    assert_eq!(received, expected, "every message once, in seq order");
    let unique: HashSet<i64> = received.iter().copied().collect();
    assert_eq!(unique.len(), received.len());
    assert!(stream.quiet_for(Duration::from_millis(300)).is_none());
}

#[test]
fn agents_sign_in_with_their_password_and_nothing_else() {
    let site = Site::new();
    let (ok, stderr) = add_agent(&site, "Noor@Shop.Example", "Noor", PASSWORD);
    assert!(ok, "{stderr}");
    // The stored hash is an argon2id PHC string, not the password, and verifies.
    let stored = site.rows("SELECT email, password_hash FROM agents");
    assert_eq!(stored[0]["email"], "noor@shop.example");
    let phc = stored[0]["password_hash"].as_str().unwrap();
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(!phc.contains(PASSWORD));
    assert!(souk_server::chat::agents::verify_password(PASSWORD, phc));
    assert!(!souk_server::chat::agents::verify_password(
        "a long agent passwore",
        phc
    ));

    // The same email twice, no password, a short password: refused.
    let (ok, stderr) = add_agent(&site, "noor@shop.example", "Noor 2", PASSWORD);
    assert!(!ok && stderr.contains("already exists"), "{stderr}");
    let (ok, stderr) = add_agent(&site, "sara@shop.example", "Sara", "short");
    assert!(!ok && stderr.contains("characters long"), "{stderr}");
    let (status, stderr) = run_to_exit({
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
        cmd.args(["agent", "add", "--db"])
            .arg(site.db())
            .args(["--email", "sara@shop.example", "--name", "Sara"])
            .env_remove("SOUK_AGENT_PASSWORD")
            .stdin(Stdio::null());
        cmd
    });
    assert!(
        !status.success() && stderr.contains("--password-stdin"),
        "{stderr}"
    );
    // From the environment variable instead.
    let (status, stderr) = run_to_exit({
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk-server"));
        cmd.args(["agent", "add", "--db"])
            .arg(site.db())
            .args(["--email", "sara@shop.example", "--name", "Sara"])
            .env("SOUK_AGENT_PASSWORD", "sara's long password");
        cmd
    });
    assert!(status.success(), "{stderr}");

    let server = start(&site);
    // The agent endpoints need the session.
    let no_cookie = server.get("/v1/agent/conversations");
    assert!(no_cookie.error(401).contains("sign in"));
    let forged = agent_get(&server, "souk_agent=00ff", "/v1/agent/me");
    forged.error(401);
    let stream_without = server.get("/v1/agent/stream");
    stream_without.error(401);

    // A wrong password and an unknown email get the same answer.
    let wrong = login(&server, "noor@shop.example", "not the password");
    let unknown = login(&server, "who@shop.example", PASSWORD);
    assert_eq!(wrong.error(401), "wrong email or password");
    assert_eq!(unknown.error(401), "wrong email or password");
    assert!(wrong.header("set-cookie").is_none());

    let good = login(&server, "NOOR@shop.example", PASSWORD);
    assert_eq!(good.status, 200);
    assert_eq!(
        good.json()["agent"],
        json!({ "id": 1, "name": "Noor", "email": "noor@shop.example" })
    );
    let set_cookie = good.header("set-cookie").unwrap();
    assert!(set_cookie.starts_with("souk_agent="), "{set_cookie}");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    assert!(
        good.header("access-control-allow-origin").is_none(),
        "same origin only"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let token = cookie.strip_prefix("souk_agent=").unwrap();
    // Only the token's hash is stored.
    let sessions = site.rows("SELECT token_hash FROM agent_sessions");
    assert_eq!(sessions.len(), 1);
    assert_ne!(sessions[0]["token_hash"], token);
    assert_eq!(
        agent_get(&server, &cookie, "/v1/agent/me").json()["agent"]["name"],
        "Noor"
    );
    let agents = agent_get(&server, &cookie, "/v1/agent/agents").json();
    assert_eq!(agents["agents"].as_array().unwrap().len(), 2);

    // A page of another site cannot use the session.
    let cross = server.get_with(
        "/v1/agent/me",
        &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
    );
    cross.error(403);

    let out = agent_post(&server, &cookie, "/v1/agent/logout", &json!({}));
    assert_eq!(out.status, 200);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    agent_get(&server, &cookie, "/v1/agent/me").error(401);
}

#[test]
fn an_agent_reply_typing_and_read_reach_the_shopper_live() {
    let (site, server, cookie) = with_agent();
    // A browser asks for gzip; a stream must still come through event by event.
    let stream = Stream::open(
        &server,
        &stream_path("anon-a"),
        &[("accept-encoding", "gzip, br")],
    );
    let agents_stream = Stream::open(&server, "/v1/agent/stream", &[("cookie", &cookie)]);
    let asked = say(
        &server,
        &message("anon-a", "m-1", "Do you deliver to Dammam?"),
    );
    let conversation = asked["conversationId"].as_str().unwrap().to_owned();
    let mine = stream.next_named("message");
    assert_eq!(mine.data["id"], "m-1");
    let seen_by_agents = agents_stream.next_named("message");
    assert_eq!(seen_by_agents.data["text"], "Do you deliver to Dammam?");

    // The shopper types: the agents hear it, the shopper's own stream does not.
    let typing = post(
        &server,
        "/v1/chat/typing",
        &json!({ "anonymousId": "anon-a", "conversationId": conversation }),
    );
    assert_eq!(typing.status, 202);
    let heard = agents_stream.next_named("typing");
    assert_eq!(
        heard.data,
        json!({ "conversationId": conversation, "author": "shopper" })
    );
    assert!(heard.id.is_none());

    let typing = agent_post(
        &server,
        &cookie,
        &format!("/v1/agent/conversations/{conversation}/typing"),
        &json!({}),
    );
    assert_eq!(typing.status, 202);
    let typing = stream.next();
    assert_eq!(typing.event, "typing");
    assert_eq!(typing.data["agentName"], "Noor");

    let answered = reply(&server, &cookie, &conversation, "r-1", "Yes, in two days.");
    // The first reply assigns the conversation to its agent, and the shopper hears it.
    let assigned = stream.next();
    let (assigned, answer) = if assigned.event == "assigned" {
        (assigned, stream.next_named("message"))
    } else {
        let answer = assigned;
        (stream.next_named("assigned"), answer)
    };
    assert_eq!(assigned.data["agent"]["name"], "Noor");
    assert_eq!(answer.data["text"], "Yes, in two days.");
    assert_eq!(answer.data["agentName"], "Noor");
    assert_eq!(seq_of(&answer), answered["seq"].as_i64().unwrap());
    // Resending the reply stores nothing and sends nothing.
    let resent = agent_post(
        &server,
        &cookie,
        &format!("/v1/agent/conversations/{conversation}/messages"),
        &json!({ "id": "r-1", "text": "Yes, in two days." }),
    );
    assert_eq!(resent.status, 200);
    assert_eq!(resent.json()["seq"], answered["seq"]);

    // The agents read it: the shopper sees the mark; the shopper reads too.
    let upto = asked["seq"].as_i64().unwrap();
    let read = agent_post(
        &server,
        &cookie,
        &format!("/v1/agent/conversations/{conversation}/read"),
        &json!({ "upToSeq": upto }),
    );
    assert_eq!(read.json()["upToSeq"], upto);
    let read = stream.next_named("read");
    assert_eq!(read.data["reader"], "agent");
    assert_eq!(read.data["upToSeq"], upto);
    let shopper_read = post(
        &server,
        "/v1/chat/read",
        &json!({ "anonymousId": "anon-a", "conversationId": conversation, "upToSeq": 1_000_000 }),
    );
    // A mark never passes the conversation's last message.
    assert_eq!(shopper_read.json()["upToSeq"], answered["seq"]);
    assert_eq!(agents_stream.next_named("read").data["reader"], "agent");
    assert_eq!(agents_stream.next_named("read").data["reader"], "shopper");
    let listing = get(&server, "/v1/chat/conversations?anonymousId=anon-a").json();
    assert_eq!(listing["conversations"][0]["agentReadUpToSeq"], upto);
    assert_eq!(listing["conversations"][0]["agent"]["name"], "Noor");
    assert_eq!(
        site.count("SELECT assigned_agent FROM chat_conversations"),
        1
    );
}

#[test]
fn assigning_closing_and_rating_once() {
    let (site, server, cookie) = with_agent();
    let (ok, stderr) = add_agent(&site, "sara@shop.example", "Sara", PASSWORD);
    assert!(ok, "{stderr}");
    let asked = say(&server, &message("anon-a", "m-1", "Where is my order?"));
    let conversation = asked["conversationId"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/v1/agent/conversations/{conversation}/{action}");

    let me = agent_post(
        &server,
        &cookie,
        &path("assign"),
        &json!({ "agentId": "me" }),
    )
    .json();
    assert_eq!(me["assignedAgent"], json!({ "id": 1, "name": "Noor" }));
    let sara = agent_post(&server, &cookie, &path("assign"), &json!({ "agentId": 2 })).json();
    assert_eq!(sara["assignedAgent"]["name"], "Sara");
    let mine = agent_get(&server, &cookie, "/v1/agent/conversations?assigned=me").json();
    assert_eq!(mine["conversations"], json!([]));
    agent_post(&server, &cookie, &path("assign"), &json!({ "agentId": 99 })).error(404);
    agent_post(&server, &cookie, &path("assign"), &json!({})).error(400);
    let nobody = agent_post(
        &server,
        &cookie,
        &path("assign"),
        &json!({ "agentId": null }),
    )
    .json();
    assert_eq!(nobody["assignedAgent"], Value::Null);
    let unassigned = agent_get(&server, &cookie, "/v1/agent/conversations?assigned=none").json();
    assert_eq!(unassigned["conversations"][0]["id"], conversation.as_str());
    agent_post(
        &server,
        &cookie,
        "/v1/agent/conversations/nope/close",
        &json!({}),
    )
    .error(404);

    // Rating waits for the close.
    let rate = |score: i64| {
        post(
            &server,
            "/v1/chat/rating",
            &json!({ "anonymousId": "anon-a", "conversationId": conversation, "score": score, "comment": " Quick and kind " }),
        )
    };
    assert!(rate(5).error(409).contains("still open"));

    let stream = Stream::open(&server, &stream_path("anon-a"), &[]);
    let closed = agent_post(&server, &cookie, &path("close"), &json!({})).json();
    assert_eq!(closed["status"], "closed");
    let event = stream.next_named("closed");
    assert_eq!(event.data["conversationId"], conversation.as_str());
    assert_eq!(event.data["closedAt"], closed["closedAt"]);
    // Closing again changes nothing.
    let again = agent_post(&server, &cookie, &path("close"), &json!({})).json();
    assert_eq!(again["closedAt"], closed["closedAt"]);
    assert!(stream.quiet_for(Duration::from_millis(300)).is_none());
    // No more replies in a closed conversation.
    let late = agent_post(
        &server,
        &cookie,
        &path("messages"),
        &json!({ "id": "r-late", "text": "hello?" }),
    );
    assert!(late.error(409).contains("closed"));

    // A shopper who reconnects before rating is asked again.
    let resumed = Stream::open(
        &server,
        &stream_path("anon-a"),
        &[("last-event-id", &asked["seq"].to_string())],
    );
    assert_eq!(
        resumed.next_named("closed").data["conversationId"],
        conversation.as_str()
    );

    assert_eq!(
        rate(0).error(400),
        "score: must be a whole number from 1 to 5, got 0"
    );
    let rated = rate(5);
    assert_eq!(rated.status, 201);
    assert_eq!(rated.json()["comment"], "Quick and kind");
    assert!(rate(4).error(409).contains("already rated"));
    let stored = site.rows("SELECT csat, csat_comment FROM chat_conversations");
    assert_eq!(
        stored[0],
        json!({ "csat": 5, "csat_comment": "Quick and kind" })
    );

    // Writing again to the closed conversation starts a new one that follows it.
    let follow_up = json!({ "anonymousId": "anon-a", "conversationId": conversation, "id": "m-2", "text": "One more thing" });
    let next = say(&server, &follow_up);
    assert_ne!(next["conversationId"], conversation.as_str());
    let inbox = agent_get(&server, &cookie, "/v1/agent/conversations?status=open").json();
    assert_eq!(inbox["conversations"][0]["id"], next["conversationId"]);
    assert_eq!(inbox["conversations"][0]["follows"], conversation.as_str());
}

#[test]
fn a_flood_of_messages_gets_429_with_retry_after() {
    let site = Site::new();
    let server = start(&site);
    for i in 0..20 {
        say(&server, &message("anon-flood", &format!("m-{i}"), "spam"));
    }
    let refused = post(
        &server,
        "/v1/chat/messages",
        &message("anon-flood", "m-20", "spam"),
    );
    let error = refused.error(429);
    assert!(error.contains("too many chat messages"), "{error}");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&wait), "{wait}");
    // Another visitor is not held back.
    say(&server, &message("anon-calm", "c-1", "hello"));
    assert_eq!(site.count("SELECT COUNT(*) FROM chat_messages"), 21);
}

#[test]
fn the_inbox_shows_unread_counts_and_the_shoppers_context() {
    let (_site, server, cookie) = with_agent();
    // What the shopper did before writing: pages, views, a cart, an earlier order.
    let at = |minute: u32| format!("2026-01-01T10:{minute:02}:00Z");
    let track = |id: &str, event: &str, minute: u32, properties: Value| {
        json!({ "type": "track", "event": event, "messageId": id, "anonymousId": "anon-a",
                "userId": "sara", "timestamp": at(minute), "properties": properties })
    };
    let batch = json!({ "batch": [
        { "type": "page", "messageId": "p-1", "anonymousId": "anon-a", "timestamp": at(1),
          "properties": { "url": "https://shop.example/coffee", "title": "Coffee" } },
        track("v-1", "Product Viewed", 2, json!({ "product_id": "p001", "name": "Coffee Pot", "price": 89 })),
        track("v-2", "Product Viewed", 3, json!({ "product_id": "p002", "name": "Dates", "price": 25 })),
        track("v-3", "Product Viewed", 4, json!({ "product_id": "p001", "name": "Coffee Pot", "price": 89 })),
        track("a-0", "Product Added", 5, json!({ "product_id": "p009", "name": "Old", "price": 5 })),
        track("o-1", "Order Completed", 6, json!({ "order_id": "o-1" })),
        track("a-1", "Product Added", 7, json!({ "product_id": "p001", "name": "Coffee Pot", "price": 89, "quantity": 2 })),
        track("a-2", "Product Added", 8, json!({ "product_id": "p002", "name": "Dates", "price": 25 })),
        track("r-1", "Product Removed", 9, json!({ "product_id": "p002" })),
    ]});
    assert_eq!(post(&server, "/v1/batch", &batch).json()["accepted"], 9);
    let bearer = format!("Bearer {SERVER_KEY}");
    let order =
        json!({ "orderId": "o-1", "userId": "sara", "subtotal": 20_000, "currency": "SAR" });
    let earned = server.post(
        "/v1/orders",
        &[
            ("content-type", "application/json"),
            ("authorization", &bearer),
        ],
        order.to_string(),
    );
    assert_eq!(earned.status, 201);

    let identified = |id: &str, text: &str, extra: Value| {
        let mut body = json!({ "anonymousId": "anon-a", "userId": "sara", "userHash": hash("sara"), "id": id, "text": text });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let old = say(&server, &identified("m-0", "An old question", json!({})));
    let old_conversation = old["conversationId"].as_str().unwrap().to_owned();
    agent_post(
        &server,
        &cookie,
        &format!("/v1/agent/conversations/{old_conversation}/close"),
        &json!({}),
    );
    let context = json!({ "context": { "url": "https://shop.example/cart", "title": "Your cart", "lang": "ar" } });
    let asked = say(
        &server,
        &identified("m-1", "Can I pay on delivery?", context),
    );
    say(&server, &identified("m-2", "For the coffee pot", json!({})));
    let conversation = asked["conversationId"].as_str().unwrap().to_owned();
    say(&server, &message("anon-z", "z-1", "Unrelated shopper"));

    let inbox = agent_get(&server, &cookie, "/v1/agent/conversations?status=open").json();
    let listed = inbox["conversations"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{inbox}");
    assert_eq!(
        listed[0]["shopper"]["label"], "visitor anon-z",
        "latest activity first"
    );
    let ours = &listed[1];
    assert_eq!(ours["id"], conversation.as_str());
    assert_eq!(ours["unread"], 2);
    assert_eq!(ours["shopper"]["label"], "sara");
    assert_eq!(ours["lastMessage"]["text"], "For the coffee pot");
    assert_eq!(ours["context"]["lang"], "ar");
    assert_eq!(ours["assignedAgent"], Value::Null);
    let found = agent_get(&server, &cookie, "/v1/agent/conversations?q=DELIVERY").json();
    assert_eq!(found["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(found["conversations"][0]["id"], conversation.as_str());
    let none = agent_get(&server, &cookie, "/v1/agent/conversations?q=100%25").json();
    assert_eq!(none["conversations"], json!([]));
    agent_get(&server, &cookie, "/v1/agent/conversations?status=maybe").error(400);

    agent_post(
        &server,
        &cookie,
        &format!("/v1/agent/conversations/{conversation}/read"),
        &json!({ "upToSeq": asked["seq"] }),
    );
    let inbox = agent_get(&server, &cookie, "/v1/agent/conversations?status=open").json();
    assert_eq!(inbox["conversations"][1]["unread"], 1);

    let view = agent_get(
        &server,
        &cookie,
        &format!("/v1/agent/conversations/{conversation}"),
    )
    .json();
    assert_eq!(view["messages"].as_array().unwrap().len(), 2);
    let shopper = &view["shopper"];
    // The widget's context is newer than the page event.
    assert_eq!(shopper["page"]["url"], "https://shop.example/cart");
    assert_eq!(shopper["page"]["source"], "chat");
    let cart = &shopper["cart"];
    assert_eq!(
        cart["items"],
        json!([{ "productId": "p001", "name": "Coffee Pot", "price": 89.0, "quantity": 2 }]),
        "the order emptied the old cart, the removal took the dates out"
    );
    let viewed: Vec<&str> = shopper["recentlyViewed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["productId"].as_str().unwrap())
        .collect();
    assert_eq!(viewed, ["p001", "p002"]);
    assert_eq!(shopper["loyalty"]["balance"], 200);
    assert_eq!(shopper["loyalty"]["tier"]["id"], "bronze");
    assert_eq!(shopper["earlier"][0]["id"], old_conversation.as_str());
    assert_eq!(shopper["earlier"][0]["status"], "closed");
    agent_get(&server, &cookie, "/v1/agent/conversations/nope").error(404);

    // Canned responses.
    let added = agent_post(
        &server,
        &cookie,
        "/v1/agent/canned",
        &json!({ "title": "Cash on delivery", "text": "نعم، الدفع عند الاستلام متاح", "lang": "ar" }),
    );
    assert_eq!(added.status, 201);
    let id = added.json()["id"].as_i64().unwrap();
    agent_post(
        &server,
        &cookie,
        "/v1/agent/canned",
        &json!({ "title": "Hello", "text": "Hello!", "lang": "en" }),
    );
    let arabic = agent_get(&server, &cookie, "/v1/agent/canned?lang=ar").json();
    assert_eq!(arabic["canned"].as_array().unwrap().len(), 1);
    let all = agent_get(&server, &cookie, "/v1/agent/canned").json();
    assert_eq!(all["canned"].as_array().unwrap().len(), 2);
    let gone = server.send(
        "DELETE",
        &format!("/v1/agent/canned/{id}"),
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(gone.json()["deleted"], id);
    let again = server.send(
        "DELETE",
        &format!("/v1/agent/canned/{id}"),
        &[("cookie", &cookie)],
        None,
    );
    again.error(404);
}

#[test]
fn the_stats_on_a_small_known_scenario() {
    let (site, server, cookie) = with_agent();
    let open_one = |anon: &str| {
        say(&server, &message(anon, &format!("{anon}-1"), "hello"))["conversationId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = open_one("anon-1");
    let second = open_one("anon-2");
    let _third = open_one("anon-3");
    thread::sleep(Duration::from_millis(250));
    reply(&server, &cookie, &first, "r-1", "hi 1");
    thread::sleep(Duration::from_millis(250));
    reply(&server, &cookie, &second, "r-2", "hi 2");
    reply(
        &server,
        &cookie,
        &second,
        "r-3",
        "a second reply does not count",
    );
    for (conversation, anon, score) in [(&first, "anon-1", 5), (&second, "anon-2", 2)] {
        agent_post(
            &server,
            &cookie,
            &format!("/v1/agent/conversations/{conversation}/close"),
            &json!({}),
        );
        let rated = post(
            &server,
            "/v1/chat/rating",
            &json!({ "anonymousId": anon, "conversationId": conversation, "score": score }),
        );
        assert_eq!(rated.status, 201);
    }

    let stats = agent_get(&server, &cookie, "/v1/agent/stats").json();
    assert_eq!(
        stats["conversations"],
        json!({ "open": 1, "closed": 2, "total": 3 })
    );
    assert_eq!(stats["csat"], json!({ "count": 2, "average": 3.5 }));
    // The waits, from the stored server times.
    let ms = |conversation: &str, author: &str| {
        let rows = site.rows(&format!(
            "SELECT MIN(received_at) AS at FROM chat_messages WHERE conversation_id = '{conversation}' AND author = '{author}'"
        ));
        souk_server::datetime::to_ms(rows[0]["at"].as_str().unwrap()).unwrap() as f64
    };
    let waits = [
        (ms(&first, "agent") - ms(&first, "shopper")) / 1000.0,
        (ms(&second, "agent") - ms(&second, "shopper")) / 1000.0,
    ];
    assert!(waits[0] >= 0.25 && waits[1] >= 0.5, "{waits:?}");
    let response = &stats["firstResponse"];
    assert_eq!(response["count"], 2);
    let average = (waits[0] + waits[1]) / 2.0;
    assert!(
        (response["averageSeconds"].as_f64().unwrap() - average).abs() < 0.0011,
        "{stats}"
    );
    assert!(
        (response["medianSeconds"].as_f64().unwrap() - average).abs() < 0.0011,
        "{stats}"
    );

    let later = agent_get(
        &server,
        &cookie,
        "/v1/agent/stats?since=2999-01-01T00:00:00Z",
    )
    .json();
    assert_eq!(later["conversations"]["total"], 0);
    assert_eq!(later["csat"]["average"], Value::Null);
    agent_get(&server, &cookie, "/v1/agent/stats?since=yesterday").error(400);
}

#[test]
fn business_hours_say_when_the_team_is_back_and_messages_still_arrive() {
    use time::OffsetDateTime;
    let site = Site::new();
    // Only on the day after tomorrow (UTC), from 09:00: closed now.
    let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let today = OffsetDateTime::now_utc();
    let later = today + time::Duration::days(2);
    let day = days[usize::from(later.weekday().number_days_from_sunday())];
    let mut cmd = command(&site);
    cmd.arg("--chat-hours").arg(format!("{day} 09:00-17:00 Z"));
    let server = Server::start(cmd);

    let status = get(&server, "/v1/chat/status").json();
    assert_eq!(status["open"], false, "{status}");
    let expected = format!(
        "{:04}-{:02}-{:02}T09:00:00.000Z",
        later.year(),
        u8::from(later.month()),
        later.day()
    );
    assert_eq!(status["opensAt"], expected);
    server.get("/v1/chat/status").error(401);

    // Outside the hours a message is still stored, with an email for the answer.
    let mut body = message("anon-a", "m-1", "Are you there?");
    body["email"] = json!(" Sara@Example.com ");
    let stored = say(&server, &body);
    assert_eq!(stored["open"], false);
    let rows = site.rows("SELECT email FROM chat_conversations");
    assert_eq!(rows[0]["email"], "sara@example.com");
    let listing = get(&server, "/v1/chat/conversations?anonymousId=anon-a").json();
    assert_eq!(listing["status"]["opensAt"], expected);

    // Always open: closes at the end of the week's last span.
    let site = Site::new();
    let mut cmd = command(&site);
    cmd.arg("--chat-hours").arg("sun-sat 00:00-24:00");
    let server = Server::start(cmd);
    let status = get(&server, "/v1/chat/status").json();
    assert_eq!(status["open"], true, "{status}");
    assert!(status["closesAt"].is_string());

    // A mistake in the flag stops serve with the part named.
    let site = Site::new();
    let mut cmd = command(&site);
    cmd.arg("--chat-hours").arg("sun-thu 9-18");
    let (status, stderr) = run_to_exit(cmd);
    assert!(!status.success());
    assert!(stderr.contains("\"9-18\" is not HH:MM-HH:MM"), "{stderr}");
}

#[test]
fn an_open_stream_does_not_hold_up_shutdown() {
    let (_site, server, cookie) = with_agent();
    let shopper = Stream::open(&server, &stream_path("anon-a"), &[]);
    let agents = Stream::open(&server, "/v1/agent/stream", &[("cookie", &cookie)]);
    let started = Instant::now();
    let (status, stderr) = server.stop(libc::SIGTERM);
    assert!(status.success(), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!stderr.contains("still running"), "{stderr}");
    assert_no_panic(&stderr);
    drop((shopper, agents));
}

#[test]
fn a_clear_faq_question_is_answered_at_once_and_the_rest_waits_for_a_person() {
    let site = Site::new();
    let faq = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/shop/faq.json");
    let mut cmd = command(&site);
    cmd.arg("--faq").arg(faq);
    let server = Server::start(cmd);
    let conversation = |anon: &str| {
        let answer = get(
            &server,
            &format!("/v1/chat/conversations?anonymousId={anon}"),
        )
        .json();
        answer["conversations"][0]["messages"]
            .as_array()
            .unwrap()
            .clone()
    };

    say(
        &server,
        &message("a-1", "m-1", "how many days does delivery take?"),
    );
    let messages = conversation("a-1");
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["author"], "bot");
    assert_eq!(messages[1]["automatic"], true);
    assert_eq!(messages[1]["faqId"], "shipping-time");
    // In Arabic, with diacritics and a tatweel, the answer is in Arabic.
    say(&server, &message("a-2", "m-2", "كَم تستغرق مدة التوصيــل؟"));
    let messages = conversation("a-2");
    assert_eq!(messages[1]["faqId"], "shipping-time");
    assert!(messages[1]["text"]
        .as_str()
        .unwrap()
        .chars()
        .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)));
    // A resend gets no second answer; a complaint gets none at all.
    assert_eq!(
        post(
            &server,
            "/v1/chat/messages",
            &message("a-1", "m-1", "how many days does delivery take?")
        )
        .status,
        200
    );
    assert_eq!(conversation("a-1").len(), 2);
    say(
        &server,
        &message(
            "a-3",
            "m-3",
            "my parcel arrived broken, I want to speak to someone",
        ),
    );
    assert_eq!(conversation("a-3").len(), 1);

    let broken = site.dir.path().join("faq.json");
    std::fs::write(
        &broken,
        r#"{"entries": [{"id": "x", "questions": {"en": "not a list"}}]}"#,
    )
    .unwrap();
    let mut cmd = command(&site);
    cmd.arg("--faq").arg(&broken);
    let (status, stderr) = run_to_exit(cmd);
    assert!(!status.success());
    assert!(
        stderr.contains("FAQ") && stderr.contains("questions.en"),
        "{stderr}"
    );
}
