//! One souk instance on one page: configuration, consent, the device's ids and the
//! queue, with storage and delivery through the ports.

use super::cart::{Cart, Change};
use super::config::Config;
use super::consent::{self, Category, Grants, Record, Source};
use super::delivery::{Answer, Backoff};
use super::event::{self, EventError, Kind, Message, Properties};
use super::i18n::Lang;
use super::json;
use super::ports::{Clock, Request, Rng, Storage, Transport};
use super::profile::{self, Profile};
use super::queue::{Queue, QueueFull};
use super::spec;
use super::time::iso8601;

/// Why a `track` or `page` call was not recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    /// The call itself was invalid.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The queue had no room.
    #[error(transparent)]
    QueueFull(#[from] QueueFull),
    /// The browser refused to keep the event (its storage is full or blocked).
    #[error("the browser refused to keep the event (its storage is full or blocked); it was not recorded")]
    NotKept,
}

/// What became of a valid call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Queued for delivery.
    Queued,
    /// Dropped: the shopper has not granted `analytics`.
    NotConsented,
    /// Held in memory until the first decision, as the shop asked
    /// (`consent.bufferBeforeDecision`).
    Buffered,
}

/// Where the consent record is kept; the record itself is `necessary`.
const CONSENT_KEY: &str = "souk:necessary:consent";
/// Proofs not yet confirmed by the backend, one JSON object a line: a proof must
/// survive the page closing before it was sent. Part of the record, so `necessary`.
const UNSENT_PROOFS_KEY: &str = "souk:necessary:unsent_proofs";
/// The anonymous id outlives the page only while `analytics` is granted.
const ANONYMOUS_ID_KEY: &str = "souk:analytics:anonymous_id";
/// So does the user id from `identify`.
const USER_ID_KEY: &str = "souk:analytics:user_id";
/// The cart, for noticing its abandonment: behaviour, so `analytics`.
const CART_KEY: &str = "souk:analytics:cart";
/// How many events the full queue refused, over the shop's tabs and reloads.
const DROPPED_KEY: &str = "souk:analytics:dropped";
/// The event recorded for an abandoned cart.
pub const CART_ABANDONED: &str = "Cart Abandoned";

/// A consent proof waiting for delivery.
#[derive(Debug)]
struct Proof {
    in_flight: Option<u32>,
    body: String,
}

/// The plugin's state on one page, independent of the browser.
#[derive(Debug)]
pub struct Souk<C, R, S> {
    config: Config,
    clock: C,
    rng: R,
    storage: S,
    anonymous_id: String,
    user_id: Option<String>,
    consent: Option<Record>,
    grants: Grants,
    gpc: bool,
    proofs: Vec<Proof>,
    queue: Queue,
    before_decision: Vec<Message>,
    next_request: u32,
    backoff: Backoff,
    batch_due: bool,
}

impl<C: Clock, R: Rng, S: Storage> Souk<C, R, S> {
    /// Starts an instance for `config`, reading a standing decision from `storage`.
    /// A decision that expired or predates the policy revision counts as none, and
    /// whatever it allowed to be stored is purged. `gpc` is the browser's Global
    /// Privacy Control signal.
    pub fn new(config: Config, clock: C, mut rng: R, storage: S, gpc: bool) -> Self {
        let now = clock.now_ms();
        let consent = storage
            .get(CONSENT_KEY)
            .and_then(|text| Record::decode(&text))
            .filter(|record| record.is_current(&config.policy, now));
        let grants = consent
            .as_ref()
            .map_or(Grants::NECESSARY, |record| record.grants);
        let stored_id = grants
            .allows(Category::Analytics)
            .then(|| storage.get(ANONYMOUS_ID_KEY));
        let anonymous_id = stored_id
            .flatten()
            .unwrap_or_else(|| event::new_id(&mut rng));
        let user_id = grants
            .allows(Category::Analytics)
            .then(|| storage.get(USER_ID_KEY))
            .flatten();
        let mut souk = Souk {
            config,
            clock,
            rng,
            storage,
            anonymous_id,
            user_id,
            consent,
            grants,
            gpc,
            proofs: Vec::new(),
            queue: Queue::default(),
            before_decision: Vec::new(),
            next_request: 0,
            backoff: Backoff::default(),
            batch_due: false,
        };
        for category in Grants::ALL.withdrawn_in(grants) {
            souk.purge(category);
        }
        let unsent = souk.storage.get(UNSENT_PROOFS_KEY).unwrap_or_default();
        souk.proofs = unsent
            .lines()
            .map(|body| Proof {
                in_flight: None,
                body: body.to_owned(),
            })
            .collect();
        if grants.allows(Category::Analytics) {
            souk.keep(ANONYMOUS_ID_KEY, &souk.anonymous_id.clone());
        }
        souk
    }

    /// Records the named action `name` with its `properties`.
    pub fn track(&mut self, name: &str, properties: Properties) -> Result<Outcome, Refused> {
        event::check_name(name)?;
        let name = name.trim();
        event::check_properties(name, &properties)?;
        spec::check(name, &properties)?;
        self.note_profile(name, &properties);
        self.record(Kind::Track, Some(name.to_owned()), properties)
    }

    /// Learns from `event` in the on-device profile, which exists only while
    /// `personalization` is granted and never leaves the device.
    fn note_profile(&mut self, event: &str, properties: &Properties) {
        if !self.grants.allows(Category::Personalization) {
            return;
        }
        let mut profile = self.profile().unwrap_or_default();
        if profile.observe(event, properties, self.clock.now_ms()) {
            self.keep(profile::STORAGE_KEY, &profile.encode());
        }
    }

    /// The on-device profile; `None` unless `personalization` is granted.
    pub fn profile(&self) -> Option<Profile> {
        if !self.grants.allows(Category::Personalization) {
            return None;
        }
        let stored = self.storage.get(profile::STORAGE_KEY);
        Some(
            stored
                .and_then(|text| Profile::decode(&text))
                .unwrap_or_default(),
        )
    }

    /// The products in the shopper's cart, as the device followed it (only while
    /// `analytics` is granted), oldest first.
    pub fn cart_products(&self) -> Vec<String> {
        let stored = self
            .storage
            .get(CART_KEY)
            .and_then(|text| Cart::decode(&text));
        let items = stored.map(|cart| cart.items).unwrap_or_default();
        items.into_iter().map(|item| item.product_id).collect()
    }

    /// Records a page view, optionally named (such as "Product").
    pub fn page(&mut self, name: Option<&str>, properties: Properties) -> Result<Outcome, Refused> {
        let name = name.map(str::trim).filter(|name| !name.is_empty());
        event::check_properties(name.unwrap_or("page"), &properties)?;
        self.record(Kind::Page, name.map(str::to_owned), properties)
    }

    fn record(
        &mut self,
        kind: Kind,
        event: Option<String>,
        properties: Properties,
    ) -> Result<Outcome, Refused> {
        let message = Message {
            kind,
            event,
            properties,
            user_id: self.user_id.clone(),
            message_id: event::new_id(&mut self.rng),
            anonymous_id: self.anonymous_id.clone(),
            timestamp_ms: self.clock.now_ms(),
        };
        self.admit(message)
    }

    /// Queues `message` if `analytics` allows it, or holds it until the first
    /// decision if the shop asked for that.
    fn admit(&mut self, message: Message) -> Result<Outcome, Refused> {
        let allowed = self.grants.allows(Category::Analytics);
        let buffer =
            !allowed && self.consent.is_none() && self.config.policy.buffer_before_decision;
        if !allowed && !buffer {
            return Ok(Outcome::NotConsented);
        }
        if buffer {
            if self.before_decision.len() >= super::queue::CAPACITY {
                return Err(QueueFull.into());
            }
            self.before_decision.push(message);
            return Ok(Outcome::Buffered);
        }
        self.enqueue(&message)?;
        self.note_cart(&message);
        Ok(Outcome::Queued)
    }

    /// Puts `message` in the stored queue, where it waits until the backend has it.
    /// A refusal for want of room is counted.
    fn enqueue(&mut self, message: &Message) -> Result<(), Refused> {
        let json = message.to_json();
        match self.queue.admit(&self.storage, json.len()) {
            Ok(due) => self.batch_due = due,
            Err(full) => {
                let dropped = self.dropped().saturating_add(1);
                self.keep(DROPPED_KEY, &dropped.to_string());
                return Err(full.into());
            }
        }
        let key = self
            .queue
            .key(message.timestamp_ms, &message.message_id, &json);
        if self.keep(&key, &json) {
            Ok(())
        } else {
            Err(Refused::NotKept)
        }
    }

    /// Follows the cart through a recorded message: cart events change it, and any
    /// other activity keeps it from counting as idle. A cart that was already idle is
    /// recorded as abandoned first: the shopper is back after leaving it.
    fn note_cart(&mut self, message: &Message) {
        let mut stored = self
            .storage
            .get(CART_KEY)
            .and_then(|text| Cart::decode(&text));
        if let Some(cart) = stored.as_mut() {
            self.report_abandoned(cart);
        }
        let now = message.timestamp_ms;
        let known = stored.is_some();
        let mut cart = match stored {
            Some(cart) => cart,
            None if message.kind == Kind::Track => Cart::new(String::new(), now),
            None => return,
        };
        let change = match (message.kind, &message.event) {
            (Kind::Track, Some(event)) => cart.apply(event, &message.properties, now),
            _ => Change::None,
        };
        match change {
            Change::Kept if !cart.items.is_empty() => {
                if cart.id.is_empty() {
                    cart.id = event::new_id(&mut self.rng);
                }
                self.keep(CART_KEY, &cart.encode());
            }
            Change::Kept | Change::Ordered => self.storage.remove(CART_KEY),
            Change::None if known && !cart.reported => {
                cart.active_ms = now;
                self.keep(CART_KEY, &cart.encode());
            }
            Change::None => {}
        }
    }

    /// Records "Cart Abandoned" if the cart holds items and has sat idle for the
    /// configured time; `true` if it did.
    pub fn check_cart(&mut self) -> bool {
        let stored = self
            .storage
            .get(CART_KEY)
            .and_then(|text| Cart::decode(&text));
        stored.is_some_and(|mut cart| self.report_abandoned(&mut cart))
    }

    /// Records `cart`'s abandonment if it is due, and marks it reported. Dated when the
    /// cart went idle, with a `messageId` made from the cart, so tabs that notice it
    /// at once count once.
    fn report_abandoned(&mut self, cart: &mut Cart) -> bool {
        let now = self.clock.now_ms();
        let Some((properties, idle_since)) = cart.abandoned(now, self.config.cart_idle_ms) else {
            return false;
        };
        cart.reported = true;
        self.keep(CART_KEY, &cart.encode());
        let message = Message {
            kind: Kind::Track,
            event: Some(CART_ABANDONED.to_owned()),
            properties,
            user_id: self.user_id.clone(),
            message_id: format!("cart-{}-{idle_since}", fnv1a(&cart.id)),
            anonymous_id: self.anonymous_id.clone(),
            timestamp_ms: idle_since,
        };
        self.admit(message).is_ok()
    }

    /// Records who the shopper is, as the shop knows them (at login), with their
    /// `traits`. Later messages carry the user id, which the device keeps while
    /// `analytics` is granted; the backend links the anonymous history to it.
    pub fn identify(&mut self, user_id: &str, traits: Properties) -> Result<Outcome, Refused> {
        event::check_user_id("identify", user_id)?;
        event::check_properties("identify", &traits)?;
        self.become_user(user_id);
        self.record(Kind::Identify, None, traits)
    }

    /// Records that the customer known as `previous_id` (by default the current user
    /// id, or the anonymous id) is now `user_id`.
    pub fn alias(&mut self, user_id: &str, previous_id: Option<&str>) -> Result<Outcome, Refused> {
        event::check_user_id("alias", user_id)?;
        let previous = match previous_id.map(str::trim).filter(|id| !id.is_empty()) {
            Some(id) => id.to_owned(),
            None => self
                .user_id
                .clone()
                .unwrap_or_else(|| self.anonymous_id.clone()),
        };
        self.become_user(user_id);
        self.record(Kind::Alias, Some(previous), Properties::default())
    }

    /// Forgets who the shopper is (at logout): no user id, and a fresh anonymous id
    /// that cannot be linked to the last one.
    pub fn reset(&mut self) {
        self.user_id = None;
        self.storage.remove(USER_ID_KEY);
        self.anonymous_id = event::new_id(&mut self.rng);
        self.keep(ANONYMOUS_ID_KEY, &self.anonymous_id.clone());
    }

    fn become_user(&mut self, user_id: &str) {
        let user_id = user_id.trim().to_owned();
        self.keep(USER_ID_KEY, &user_id);
        self.user_id = Some(user_id);
    }

    /// Whether the shopper must be asked: no decision yet, or it expired, or the
    /// policy revision changed.
    pub fn needs_decision(&self) -> bool {
        self.consent.is_none()
    }

    /// What is granted now.
    pub fn grants(&self) -> Grants {
        self.grants
    }

    /// The standing decision, if any.
    pub fn consent(&self) -> Option<&Record> {
        self.consent.as_ref()
    }

    /// The banner's view-model in `lang`, starting from what is granted now.
    pub fn banner_view(&self, lang: Lang) -> String {
        consent::banner_view(lang, self.grants, self.gpc)
    }

    /// The consent state for `souk.consent.get()`, as JSON: the categories, and the
    /// standing record's id, source and time, if there is one.
    pub fn consent_json(&self) -> String {
        let mut out = json::Object::new();
        out.raw("categories", &self.grants.to_json());
        out.boolean("decided", self.consent.is_some());
        if let Some(record) = &self.consent {
            out.text("consentId", &record.consent_id);
            out.text("source", record.source.name());
            out.text("revision", &record.revision);
            out.text("updatedAt", &iso8601(record.updated_ms));
        }
        out.boolean("gpc", self.gpc);
        out.finish()
    }

    /// Applies the shopper's decision: keeps the record (a new version of it), queues
    /// its proof for the backend, starts what was granted and purges what was
    /// withdrawn. An explicit decision stands over Global Privacy Control.
    ///
    /// A consent manager (`api`, `tcf`) repeats its standing decision on every page;
    /// where that changes nothing, no new version is made and this returns `false`.
    /// A shopper's own choice in the banner is always a new version.
    pub fn decide(&mut self, grants: Grants, source: Source, language: &str) -> bool {
        let unchanged = self
            .consent
            .as_ref()
            .is_some_and(|r| r.grants == grants && r.source == source);
        if unchanged && source != Source::Banner {
            return false;
        }
        let now = self.clock.now_ms();
        let previous = self.grants;
        let record = match self.consent.take() {
            Some(record) => Record {
                updated_ms: now,
                grants,
                source,
                language: language.to_owned(),
                gpc: self.gpc,
                ..record
            },
            None => Record {
                consent_id: event::new_id(&mut self.rng),
                first_ms: now,
                updated_ms: now,
                revision: self.config.policy.revision.clone(),
                language: language.to_owned(),
                grants,
                source,
                gpc: self.gpc,
            },
        };
        // Best effort: if the browser refuses to keep it, the decision still holds
        // for this page and its proof still goes out.
        let _ = self.storage.set(CONSENT_KEY, &record.encode());
        self.proofs.push(Proof {
            in_flight: None,
            body: record.proof_json(&self.anonymous_id, &self.config.write_key),
        });
        self.keep_unsent_proofs();
        self.consent = Some(record);
        self.grants = grants;
        for category in previous.withdrawn_in(grants) {
            self.purge(category);
        }
        if grants.allows(Category::Analytics) && !previous.allows(Category::Analytics) {
            self.keep(ANONYMOUS_ID_KEY, &self.anonymous_id.clone());
        }
        // What waited for the first decision goes out with a yes, and is gone with a no.
        let waited = std::mem::take(&mut self.before_decision);
        if grants.allows(Category::Analytics) {
            for message in waited {
                // At most CAPACITY waited; what storage refuses now is lost either way.
                let _ = self.enqueue(&message);
            }
        }
        true
    }

    /// Stores `value` under `key` only if the key's category (`souk:<category>:…`) is
    /// granted: the one way into storage.
    fn keep(&mut self, key: &str, value: &str) -> bool {
        let category = key.split(':').nth(1).and_then(Category::parse);
        let allowed = category.is_some_and(|category| self.grants.allows(category));
        allowed && self.storage.set(key, value).is_ok()
    }

    /// Removes what `category` kept: its stored keys, and for `analytics` the queued
    /// events and the anonymous id (a fresh one follows, unlinkable to the old).
    fn purge(&mut self, category: Category) {
        let prefix = format!("souk:{}:", category.name());
        for key in self
            .storage
            .keys()
            .into_iter()
            .filter(|key| key.starts_with(&prefix))
        {
            self.storage.remove(&key);
        }
        if category == Category::Analytics {
            self.queue.clear();
            self.user_id = None;
            self.anonymous_id = event::new_id(&mut self.rng);
        }
    }

    /// Hands what is due to `transport`: consent proofs, then a batch of events if
    /// `analytics` is granted. Each stays pending until [`Souk::settle`] says it was
    /// delivered.
    pub fn flush(&mut self, transport: &mut impl Transport) {
        for proof in self
            .proofs
            .iter_mut()
            .filter(|proof| proof.in_flight.is_none())
        {
            self.next_request = self.next_request.wrapping_add(1);
            proof.in_flight = Some(self.next_request);
            transport.send(Request {
                id: self.next_request,
                path: "/v1/consent".into(),
                body: proof.body.clone(),
            });
        }
        if !self.grants.allows(Category::Analytics) {
            return;
        }
        self.next_request = self.next_request.wrapping_add(1);
        let id = self.next_request;
        let Some(batch) = self.queue.take_batch(&self.storage, id) else {
            return;
        };
        let mut body = json::Object::new();
        body.raw("batch", &json::array(batch));
        body.text("sentAt", &iso8601(self.clock.now_ms()));
        body.text("writeKey", &self.config.write_key);
        transport.send(Request {
            id,
            path: "/v1/batch".into(),
            body: body.finish(),
        });
    }

    /// Reports the `answer` to request `id`: delivered and refused requests are done;
    /// the others go out again on a later flush. For a failure, returns how many
    /// milliseconds to wait before that flush (backoff with jitter, or `Retry-After`).
    pub fn settle(&mut self, id: u32, answer: Answer) -> Option<u64> {
        let done = answer.is_final();
        match self
            .proofs
            .iter()
            .position(|proof| proof.in_flight == Some(id))
        {
            Some(at) if done => {
                self.proofs.remove(at);
                self.keep_unsent_proofs();
            }
            Some(at) => self.proofs[at].in_flight = None,
            None => {
                self.queue.settle(&mut self.storage, id, done);
            }
        }
        self.batch_due = self.queue.due(&self.storage);
        self.backoff.after(answer, &mut self.rng)
    }

    /// The browser is back online: the next failure waits the shortest time again.
    pub fn online(&mut self) {
        self.backoff.reset();
    }

    /// Mirrors the proofs awaiting confirmation into storage. The backend keeps a
    /// version once however often it arrives, so a resend after a reload is harmless.
    fn keep_unsent_proofs(&mut self) {
        let lines: Vec<&str> = self
            .proofs
            .iter()
            .map(|proof| proof.body.as_str())
            .collect();
        if lines.is_empty() {
            self.storage.remove(UNSENT_PROOFS_KEY);
        } else {
            self.keep(UNSENT_PROOFS_KEY, &lines.join("\n"));
        }
    }

    /// The configuration this instance runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Messages waiting for delivery, from every tab of the shop.
    pub fn queued(&self) -> usize {
        self.queue.len(&self.storage)
    }

    /// Whether a full batch waited when the last event was queued or the last
    /// request settled, so delivery should not wait for the interval.
    pub fn batch_due(&self) -> bool {
        self.batch_due
    }

    /// Events the full queue refused, over the shop's tabs and reloads, since
    /// `analytics` was granted.
    pub fn dropped(&self) -> u32 {
        let stored = self.storage.get(DROPPED_KEY);
        stored.and_then(|count| count.parse().ok()).unwrap_or(0)
    }

    /// The device's anonymous id.
    pub fn anonymous_id(&self) -> &str {
        &self.anonymous_id
    }
}

/// A stable 64-bit FNV-1a hash of `text`, in hex: short ids derived from long ones.
fn fnv1a(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Value;
    use crate::core::ports::{ManualClock, MemoryStorage, MemoryTransport, SeededRng};
    use crate::core::queue::CAPACITY;

    type TestSouk = Souk<ManualClock, SeededRng, MemoryStorage>;
    const FAILED: Answer = Answer::Failed {
        retry_after_ms: None,
    };
    const NOW: u64 = 1_700_000_000_000;
    const DAY: u64 = 86_400_000;

    fn config() -> Config {
        Config::new(Some("demo"), None).unwrap()
    }

    fn souk_with(storage: MemoryStorage, now_ms: u64) -> TestSouk {
        Souk::new(
            config(),
            ManualClock { now_ms },
            SeededRng::new(now_ms),
            storage,
            false,
        )
    }

    fn consented() -> TestSouk {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        souk.decide(Grants::ALL, Source::Banner, "en");
        souk
    }

    fn sent(souk: &mut TestSouk) -> Vec<Request> {
        let mut transport = MemoryTransport::default();
        souk.flush(&mut transport);
        transport.sent
    }

    #[test]
    fn before_a_decision_nothing_is_stored_queued_or_sent() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        assert!(souk.needs_decision());
        assert_eq!(
            souk.track("Product Viewed", Properties::default()),
            Ok(Outcome::NotConsented)
        );
        assert_eq!(
            souk.page(None, Properties::default()),
            Ok(Outcome::NotConsented)
        );
        assert!(souk.queued() == 0);
        assert!(sent(&mut souk).is_empty());
        assert!(souk.storage.keys().is_empty(), "{:?}", souk.storage.keys());
    }

    #[test]
    fn invalid_calls_are_refused_even_before_consent() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        assert_eq!(
            souk.track("", Properties::default()),
            Err(EventError::MissingName.into())
        );
        let bad = Properties(vec![("price".into(), Value::Number(f64::INFINITY))]);
        let err = souk.track("Product Added", bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Product Added: property `price` must be a finite number"
        );
    }

    #[test]
    fn reject_all_keeps_only_the_record_and_sends_only_its_proof() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        souk.decide(Grants::NECESSARY, Source::Banner, "ar");
        assert_eq!(
            souk.track("Product Viewed", Properties::default()),
            Ok(Outcome::NotConsented)
        );
        assert_eq!(
            souk.storage.keys(),
            [CONSENT_KEY, UNSENT_PROOFS_KEY],
            "the record and its proof, until sent"
        );
        let requests = sent(&mut souk);
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].path, "/v1/consent");
        assert!(requests[0].body.contains(r#""analytics":false"#));
        assert!(requests[0].body.contains(r#""language":"ar""#));
    }

    #[test]
    fn accept_all_records_in_order_and_delivers_in_batches() {
        let mut souk = consented();
        souk.page(Some(" Home "), Properties::default()).unwrap();
        let props = Properties(vec![("product_id".into(), Value::Text("p001".into()))]);
        assert_eq!(souk.track("Product Viewed", props), Ok(Outcome::Queued));

        let requests = sent(&mut souk);
        assert_eq!(
            requests.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
            ["/v1/consent", "/v1/batch"]
        );
        let batch = &requests[1].body;
        let home = batch.find(r#""name":"Home""#).expect("page in batch");
        let viewed = batch
            .find(r#""event":"Product Viewed""#)
            .expect("track in batch");
        assert!(home < viewed, "oldest first: {batch}");
        assert!(batch.contains(r#""writeKey":"demo""#));
        assert!(batch.contains(&format!(r#""anonymousId":"{}""#, souk.anonymous_id())));

        assert!(
            sent(&mut souk).is_empty(),
            "nothing new while both are in flight"
        );
        souk.settle(requests[1].id, FAILED);
        let retry = sent(&mut souk);
        let messages = |body: &str| body[..body.find(r#""sentAt""#).unwrap()].to_owned();
        assert_eq!(retry.len(), 1, "a failed batch goes out again");
        assert_eq!(
            messages(&retry[0].body),
            messages(batch),
            "with the same messages and ids"
        );
        souk.settle(retry[0].id, Answer::Delivered);
        souk.settle(requests[0].id, Answer::Delivered);
        assert!(souk.queued() == 0);
        assert!(sent(&mut souk).is_empty());
    }

    #[test]
    fn a_proof_not_yet_confirmed_is_sent_again_after_a_reload() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        souk.decide(Grants::NECESSARY, Source::Banner, "en");
        let first = sent(&mut souk);
        assert_eq!(first.len(), 1);
        // The page closes before the backend answered.
        let mut reloaded = souk_with(souk.storage.clone(), NOW + 1000);
        let again = sent(&mut reloaded);
        assert_eq!(again.len(), 1);
        assert_eq!(
            again[0].body, first[0].body,
            "the same version, which the backend keeps once"
        );
        reloaded.settle(again[0].id, Answer::Delivered);
        assert_eq!(
            reloaded.storage.keys(),
            [CONSENT_KEY],
            "confirmed proofs leave storage"
        );
        assert!(sent(&mut souk_with(reloaded.storage.clone(), NOW + 2000)).is_empty());
    }

    #[test]
    fn queued_events_survive_a_reload_and_go_out_once_confirmed() {
        let mut souk = consented();
        souk.track("Product Added", Properties::default()).unwrap();
        let first = sent(&mut souk);
        let batch = first
            .iter()
            .find(|r| r.path == "/v1/batch")
            .expect("a batch")
            .clone();
        // The tab closes mid-flight; the next page finds the event still queued.
        let mut next = souk_with(souk.storage.clone(), NOW + 1000);
        assert_eq!(next.queued(), 1);
        let again = sent(&mut next)
            .into_iter()
            .find(|r| r.path == "/v1/batch")
            .expect("resent");
        assert!(again.body.contains(r#""event":"Product Added""#));
        let id = |body: &str| body[body.find("messageId").unwrap()..][..50].to_owned();
        assert_eq!(
            id(&again.body),
            id(&batch.body),
            "the same messageId, which the backend keeps once"
        );
        next.settle(again.id, Answer::Delivered);
        assert_eq!(next.queued(), 0);
    }

    #[test]
    fn identify_links_later_events_to_the_user_until_reset() {
        let mut souk = consented();
        let anonymous = souk.anonymous_id().to_owned();
        assert_eq!(
            souk.identify(" u-42 ", Properties::default()),
            Ok(Outcome::Queued)
        );
        souk.track("Product Added", Properties::default()).unwrap();
        let reloaded = souk_with(souk.storage.clone(), NOW + 1);
        assert_eq!(
            reloaded.user_id.as_deref(),
            Some("u-42"),
            "kept across pages with analytics"
        );
        souk.alias("u-43", None).unwrap();
        souk.reset();
        assert_ne!(souk.anonymous_id(), anonymous);
        souk.track("Cart Viewed", Properties::default()).unwrap();

        let batch = sent(&mut souk)
            .into_iter()
            .find(|r| r.path == "/v1/batch")
            .unwrap()
            .body;
        let identify = &batch[batch.find(r#""type":"identify""#).unwrap()..];
        assert!(identify.contains(r#""userId":"u-42""#) && identify.contains(&anonymous));
        assert!(batch.contains(r#""type":"alias","previousId":"u-42","userId":"u-43""#));
        let after_reset = &batch[batch.find(r#""event":"Cart Viewed""#).unwrap()..];
        assert!(
            !after_reset.contains("userId"),
            "no user after reset: {after_reset}"
        );
        assert_eq!(
            souk.identify("", Properties::default())
                .unwrap_err()
                .to_string(),
            "identify: the user id must be 1 to 100 characters, got 0"
        );
    }

    #[test]
    fn identify_without_consent_keeps_and_sends_nothing() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        assert_eq!(
            souk.identify("u-1", Properties::default()),
            Ok(Outcome::NotConsented)
        );
        assert!(souk.storage.keys().is_empty());
    }

    #[test]
    fn a_decision_and_the_anonymous_id_survive_a_reload() {
        let mut souk = consented();
        let id = souk.anonymous_id().to_owned();
        let reloaded = souk_with(std::mem::take(&mut souk.storage), NOW + DAY);
        assert!(!reloaded.needs_decision());
        assert_eq!(reloaded.grants(), Grants::ALL);
        assert_eq!(reloaded.anonymous_id(), id);
    }

    #[test]
    fn withdrawing_analytics_stops_sending_and_purges_what_it_kept() {
        let mut souk = consented();
        souk.track("Product Viewed", Properties::default()).unwrap();
        let old_id = souk.anonymous_id().to_owned();
        souk.decide(
            Grants::ALL.with(Category::Analytics, false),
            Source::Api,
            "en",
        );

        assert!(souk.queued() == 0);
        assert_ne!(
            souk.anonymous_id(),
            old_id,
            "the old id cannot be linked to what follows"
        );
        assert_eq!(
            souk.storage.keys(),
            [CONSENT_KEY, UNSENT_PROOFS_KEY],
            "analytics kept nothing"
        );
        assert_eq!(
            souk.track("Cart Viewed", Properties::default()),
            Ok(Outcome::NotConsented)
        );
        let paths: Vec<_> = sent(&mut souk).into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            ["/v1/consent", "/v1/consent"],
            "two proofs: the grant and the withdrawal"
        );
        assert_eq!(souk.consent().unwrap().source, Source::Api);
    }

    #[test]
    fn a_consent_manager_repeating_itself_makes_no_new_version() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        assert!(souk.decide(Grants::ALL, Source::Tcf, "en"));
        assert!(
            !souk.decide(Grants::ALL, Source::Tcf, "en"),
            "the same TCF state on the next page"
        );
        assert!(
            souk.decide(Grants::NECESSARY, Source::Tcf, "en"),
            "a change is a new version"
        );
        assert!(souk.decide(Grants::NECESSARY, Source::Banner, "en"));
        assert!(
            souk.decide(Grants::NECESSARY, Source::Banner, "en"),
            "the shopper confirming is a version"
        );
        let proofs = sent(&mut souk)
            .into_iter()
            .filter(|r| r.path == "/v1/consent")
            .count();
        assert_eq!(proofs, 4);
    }

    #[test]
    fn a_new_version_keeps_the_consent_id_and_first_time() {
        let mut souk = consented();
        let first = souk.consent().unwrap().clone();
        souk.clock.now_ms += DAY;
        souk.decide(Grants::NECESSARY, Source::Banner, "en");
        let second = souk.consent().unwrap();
        assert_eq!(
            (&second.consent_id, second.first_ms),
            (&first.consent_id, first.first_ms)
        );
        assert_eq!(second.updated_ms, NOW + DAY);
    }

    #[test]
    fn an_expired_decision_or_a_new_revision_asks_again_and_purges() {
        let mut souk = consented();
        let storage = std::mem::take(&mut souk.storage);
        let expired = souk_with(storage.clone(), NOW + 182 * DAY);
        assert!(expired.needs_decision());
        assert_eq!(expired.grants(), Grants::NECESSARY);
        assert!(!expired
            .storage
            .keys()
            .iter()
            .any(|key| key == ANONYMOUS_ID_KEY));

        let revised = config().with_policy(Some("2"), None, false).unwrap();
        let souk = Souk::new(
            revised,
            ManualClock { now_ms: NOW },
            SeededRng::new(3),
            storage,
            false,
        );
        assert!(souk.needs_decision());
    }

    #[test]
    fn events_wait_for_the_first_decision_only_when_the_shop_asks() {
        let config = config().with_policy(None, None, true).unwrap();
        let souk = |seed| {
            Souk::new(
                config.clone(),
                ManualClock { now_ms: NOW },
                SeededRng::new(seed),
                MemoryStorage::default(),
                false,
            )
        };

        let mut yes = souk(1);
        assert_eq!(
            yes.track("Product Viewed", Properties::default()),
            Ok(Outcome::Buffered)
        );
        assert!(
            sent(&mut yes).is_empty() && yes.storage.keys().is_empty(),
            "held in memory only"
        );
        yes.decide(Grants::ALL, Source::Banner, "en");
        let batch = sent(&mut yes)
            .into_iter()
            .find(|r| r.path == "/v1/batch")
            .expect("a batch");
        assert!(batch.body.contains(r#""event":"Product Viewed""#));

        let mut no = souk(2);
        no.track("Product Viewed", Properties::default()).unwrap();
        no.decide(Grants::NECESSARY, Source::Banner, "en");
        no.decide(Grants::ALL, Source::Api, "en");
        assert!(
            no.queued() == 0,
            "a no drops what waited, and a later yes does not bring it back"
        );

        let mut default = souk_with(MemoryStorage::default(), NOW);
        assert_eq!(
            default.track("Product Viewed", Properties::default()),
            Ok(Outcome::NotConsented)
        );
        default.decide(Grants::ALL, Source::Banner, "en");
        assert!(default.queued() == 0, "no buffering unless the shop asks");
    }

    #[test]
    fn a_full_queue_refuses_new_events_keeps_the_old_and_counts_the_drops() {
        let mut souk = consented();
        for _ in 0..CAPACITY {
            souk.track("Product Viewed", Properties::default()).unwrap();
        }
        assert!(
            souk.batch_due(),
            "a full batch does not wait for the interval"
        );
        for _ in 0..3 {
            assert_eq!(
                souk.track("Order Completed", Properties::default()),
                Err(QueueFull.into())
            );
        }
        assert_eq!(souk.queued(), CAPACITY);
        let other_tab = souk_with(souk.storage.clone(), NOW);
        assert_eq!(
            other_tab.dropped(),
            3,
            "the count is the shop's, not the tab's"
        );
        souk.decide(Grants::NECESSARY, Source::Banner, "en");
        assert_eq!(souk.dropped(), 0, "withdrawn with the rest of analytics");
    }

    #[test]
    fn a_backend_down_for_ten_minutes_is_retried_a_bounded_number_of_times_then_drained() {
        let mut souk = consented();
        for _ in 0..250 {
            souk.track("Product Viewed", Properties::default()).unwrap();
        }
        let back_at = NOW + 10 * MINUTE;
        let mut attempts = 0;
        while souk.queued() > 0 {
            assert!(
                souk.clock.now_ms < back_at + 5 * MINUTE,
                "drained soon after"
            );
            let requests = sent(&mut souk);
            assert!(!requests.is_empty(), "something goes out on each flush");
            let mut wait = 0;
            attempts += 1;
            for request in requests {
                let answer = if souk.clock.now_ms < back_at {
                    Answer::from_status(503, None)
                } else {
                    Answer::from_status(200, None)
                };
                wait = wait.max(souk.settle(request.id, answer).unwrap_or(0));
            }
            souk.clock.now_ms += wait.max(1);
        }
        // 1 + 2 + 5 + 15 s, then about a minute each: some 13 tries in 10 minutes,
        // not thousands; then the 3 batches.
        assert!((10..=20).contains(&attempts), "{attempts} attempts");
    }

    #[test]
    fn a_refused_batch_is_dropped_and_a_beacon_keeps_its_batch_without_backoff() {
        let mut souk = consented();
        souk.track("Product Viewed", Properties::default()).unwrap();
        let batch = sent(&mut souk).pop().unwrap();
        assert_eq!(souk.settle(batch.id, Answer::Unknown), None);
        assert_eq!(souk.queued(), 1, "a beacon's fate is unknown: still queued");
        let again = sent(&mut souk).pop().unwrap();
        assert_eq!(again.body, batch.body);
        assert_eq!(souk.settle(again.id, Answer::from_status(400, None)), None);
        assert_eq!(souk.queued(), 0, "a 400 cannot be fixed by retrying");
    }

    #[test]
    fn the_profile_exists_only_while_personalization_is_granted() {
        let viewed = || Properties::from([("product_id", Value::Text("p1".into()))]);
        let mut souk = consented();
        souk.track("Product Viewed", viewed()).unwrap();
        assert_eq!(souk.profile().unwrap().viewed()[0].product_id, "p1");
        assert!(souk.storage.get(profile::STORAGE_KEY).is_some());

        let analytics_only = Grants::from_choices(Grants::NECESSARY, [("analytics", true)]);
        souk.decide(analytics_only.unwrap(), Source::Api, "en");
        assert!(
            souk.storage.get(profile::STORAGE_KEY).is_none(),
            "withdrawal purges it"
        );
        souk.track("Product Viewed", viewed()).unwrap();
        assert!(souk.profile().is_none());
        assert!(
            souk.storage.get(profile::STORAGE_KEY).is_none(),
            "and nothing grows back"
        );
    }

    fn three_product_model() -> crate::core::model::Model {
        use crate::core::model::{Model, Neighbour, Parts, Product};
        let product = |id, category| Product {
            id,
            name_en: id,
            name_ar: "",
            price_minor: 1000,
            currency: "AED",
            url: "/p",
            image_url: "/i.svg",
            category,
            in_stock: true,
        };
        Model::new(&Parts {
            created_at_ms: NOW,
            k: 2,
            categories: vec!["kitchen", "garden"],
            products: vec![product("p1", 0), product("p2", 0), product("p3", 1)],
            neighbours: vec![
                vec![Neighbour::new(1, 0.9), Neighbour::new(2, 0.5)],
                vec![Neighbour::new(0, 0.9)],
                vec![Neighbour::new(0, 0.5)],
            ],
            popular: vec![vec![0, 1], vec![2]],
            trending: vec![2, 0, 1],
        })
        .unwrap()
    }

    #[test]
    fn recommendations_leave_out_the_cart_and_personal_picks_need_consent() {
        use crate::core::recommend::{for_surface, Pick, Rules, Surface};
        let model = three_product_model();
        let ids =
            |picks: Vec<Pick>| -> Vec<u32> { picks.iter().map(|pick| pick.product).collect() };
        let mut souk = consented();
        let rules = Rules::default();
        let recommend = |souk: &TestSouk, surface, n, rules: &Rules| {
            let cart = souk.cart_products();
            let cart: Vec<&str> = cart.iter().map(String::as_str).collect();
            let profile = souk.profile();
            for_surface(
                &model,
                surface,
                &cart,
                profile.as_ref(),
                souk.clock.now_ms,
                n,
                rules,
            )
        };
        assert_eq!(
            ids(recommend(&souk, Surface::Similar("p1"), 2, &rules)),
            [1, 2]
        );
        souk.track("Product Added", added("p2", 10.0)).unwrap();
        assert_eq!(
            ids(recommend(&souk, Surface::Similar("p1"), 2, &rules)),
            [2],
            "p2 is in the cart"
        );
        assert_eq!(
            ids(recommend(&souk, Surface::Cart(None), 2, &rules)),
            [0, 2]
        );
        souk.track(
            "Product Viewed",
            Properties::from([("product_id", Value::Text("p3".into()))]),
        )
        .unwrap();
        assert_eq!(
            ids(recommend(&souk, Surface::ForYou, 1, &rules)),
            [0],
            "p3's neighbour"
        );

        let no_personalization = Grants::from_choices(Grants::ALL, [("personalization", false)]);
        souk.decide(no_personalization.unwrap(), Source::Api, "en");
        assert_eq!(
            ids(recommend(&souk, Surface::ForYou, 1, &rules)),
            [2],
            "without a profile: what is trending"
        );
    }

    const MINUTE: u64 = 60_000;

    fn added(id: &str, price: f64) -> Properties {
        Properties::from([
            ("product_id", Value::Text(id.into())),
            ("price", Value::Number(price)),
            ("currency", Value::Text("AED".into())),
        ])
    }

    fn queued_events(souk: &mut TestSouk) -> Vec<String> {
        let requests = sent(souk);
        let batch = requests.iter().find(|r| r.path == "/v1/batch");
        batch.map_or_else(Vec::new, |batch| {
            batch
                .body
                .split(r#""event":""#)
                .skip(1)
                .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
                .collect()
        })
    }

    #[test]
    fn a_cart_left_idle_is_recorded_as_abandoned_once_dated_when_it_went_idle() {
        let mut souk = consented();
        souk.track("Product Added", added("p1", 24.0)).unwrap();
        souk.clock.now_ms += 10 * MINUTE;
        souk.page(None, Properties::default()).unwrap();
        assert!(!souk.check_cart(), "browsing keeps the cart alive");

        // The shopper closed the tab and comes back two hours later, in two tabs.
        let storage = souk.storage.clone();
        let mut first = souk_with(storage, NOW + 130 * MINUTE);
        first.page(None, Properties::default()).unwrap();
        let mut second = souk_with(first.storage.clone(), NOW + 130 * MINUTE);
        assert!(!second.check_cart(), "noticed once across tabs");

        let batch = sent(&mut first).pop().unwrap().body;
        let abandoned = batch.find(r#""event":"Cart Abandoned""#).expect("recorded");
        assert!(
            abandoned < batch.rfind(r#""type":"page""#).unwrap(),
            "before the visit that noticed it"
        );
        assert!(batch.contains(r#""value":24"#) && batch.contains(r#""product_id":"p1""#));
        let idle_since = iso8601(NOW + 40 * MINUTE);
        assert!(
            batch.contains(&format!(r#""timestamp":"{idle_since}""#)),
            "{batch}"
        );
        assert_eq!(batch.matches(r#""messageId":"cart-"#).count(), 1);
    }

    #[test]
    fn an_order_or_an_emptied_cart_is_not_abandoned() {
        let mut souk = consented();
        souk.track("Product Added", added("p1", 24.0)).unwrap();
        souk.track("Order Completed", Properties::default())
            .unwrap();
        souk.clock.now_ms += 120 * MINUTE;
        assert!(!souk.check_cart());
        souk.track("Product Added", added("p2", 5.0)).unwrap();
        souk.track(
            "Product Removed",
            Properties::from([("product_id", Value::Text("p2".into()))]),
        )
        .unwrap();
        souk.clock.now_ms += 120 * MINUTE;
        assert!(!souk.check_cart());
        assert!(!queued_events(&mut souk).contains(&CART_ABANDONED.to_owned()));
    }

    #[test]
    fn without_analytics_consent_the_cart_is_not_kept() {
        let mut souk = souk_with(MemoryStorage::default(), NOW);
        souk.decide(Grants::NECESSARY, Source::Banner, "en");
        souk.track("Product Added", added("p1", 24.0)).unwrap();
        souk.clock.now_ms += 120 * MINUTE;
        assert!(!souk.check_cart());
        assert!(souk.storage.get(CART_KEY).is_none());
    }
}
