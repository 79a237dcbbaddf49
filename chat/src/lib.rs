//! souk's chat client, its own small wasm module: the page loads it with the chat
//! panel on the shopper's first click, so a page where nobody chats pays nothing.
//!
//! It holds the shopper's view of the chat ([`Thread`]) and the messages the server
//! has not acknowledged ([`Outbox`]): in `localStorage` while `functional` consent
//! is granted, so they survive a reload and another tab can send them, and in
//! memory otherwise. The runtime (`src/js/chat.js`) does the network.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
mod web {
    use souk::core::chat::{self, Author, Message, Outbox, Thread};
    use souk::core::json;
    use souk::core::ports::{Clock, MemoryStorage, Storage};
    use souk::web::{BrowserClock, BrowserRng, BrowserStorage};
    use wasm_bindgen::prelude::*;

    /// Where the chat keeps the id its conversations belong to, while `functional`
    /// is granted: the device's anonymous id when the first message was written.
    const VISITOR_KEY: &str = "souk:functional:chat:visitor";

    /// The shopper's chat on this page.
    #[wasm_bindgen]
    pub struct ChatClient {
        thread: Thread,
        outbox: Outbox,
        /// Written by this page and not yet acknowledged, oldest first.
        unsent: Vec<Message>,
        browser: BrowserStorage,
        memory: MemoryStorage,
        keep: bool,
    }

    #[wasm_bindgen]
    impl ChatClient {
        /// A chat that keeps its outbox in `localStorage` if `keep` (`functional`
        /// consent), in memory otherwise; a kept outbox's messages show at once.
        #[wasm_bindgen(constructor)]
        pub fn new(keep: bool) -> ChatClient {
            let mut client = ChatClient {
                thread: Thread::default(),
                outbox: Outbox::default(),
                unsent: Vec::new(),
                browser: BrowserStorage::open(),
                memory: MemoryStorage::default(),
                keep,
            };
            for message in client.waiting() {
                client.thread.receive(message);
            }
            client
        }

        /// Follows the shopper's `functional` choice: granting it keeps this page's
        /// unsent messages in `localStorage` from now on.
        #[wasm_bindgen(setter)]
        pub fn set_keep(&mut self, keep: bool) {
            if keep && !self.keep {
                for message in &self.unsent {
                    let _ = self.outbox.push(&mut self.browser, message);
                }
            }
            self.keep = keep;
        }

        /// The id the shopper's conversations belong to: the one kept from an earlier
        /// visit, else `anonymous_id` (kept from now on while `functional` holds).
        pub fn visitor(&mut self, anonymous_id: &str) -> String {
            if !self.keep {
                return anonymous_id.to_owned();
            }
            match self.browser.get(VISITOR_KEY) {
                Some(kept) if !kept.is_empty() => kept,
                _ => {
                    let _ = self.browser.set(VISITOR_KEY, anonymous_id);
                    anonymous_id.to_owned()
                }
            }
        }

        /// Forgets the shopper (at logout): the kept id, the outbox and the thread.
        pub fn forget(&mut self) {
            self.browser.remove(VISITOR_KEY);
            for message in self.waiting() {
                self.outbox.acknowledge(&mut self.browser, &message.id);
            }
            self.unsent.clear();
            self.thread = Thread::default();
            self.memory = MemoryStorage::default();
        }

        /// A message the shopper wrote: checked ([`chat::check_text`]), shown as
        /// pending and kept until [`ChatClient::stored`]. Answers it as JSON (the
        /// server's form, without `seq`); a refused text or a full outbox is an
        /// `Error` named `SoukChatError` saying why.
        pub fn write(&mut self, text: &str) -> Result<String, JsValue> {
            let text = chat::check_text(text).map_err(refusal)?;
            let message = Message {
                id: chat::new_message_id(BrowserClock.now_ms(), &mut BrowserRng),
                conversation: self.thread.conversation().to_owned(),
                author: Author::Shopper,
                text,
                sent_at_ms: BrowserClock.now_ms(),
                seq: None,
                agent_name: None,
                faq_id: None,
            };
            if self.keep {
                self.outbox
                    .push(&mut self.browser, &message)
                    .map_err(refusal)?;
            } else {
                self.outbox
                    .push(&mut self.memory, &message)
                    .map_err(refusal)?;
            }
            self.unsent.push(message.clone());
            self.thread.receive(message.clone());
            Ok(message.to_json())
        }

        /// What to send: this page's unsent messages and, while kept, those other
        /// tabs or an earlier visit left, oldest first, as a JSON array.
        pub fn unsent(&mut self) -> String {
            json::array(self.waiting().iter().map(Message::to_json))
        }

        /// The server has message `id` (its POST answered): it leaves the outbox.
        pub fn stored(&mut self, id: &str) {
            self.unsent.retain(|m| m.id != id);
            self.outbox.acknowledge(&mut self.memory, id);
            self.outbox.acknowledge(&mut self.browser, id);
        }

        /// A message from the server (the stream's `message` event, or the
        /// conversation list), as JSON; `true` if the thread changed. What cannot be
        /// read is ignored.
        pub fn receive(&mut self, message: &str) -> bool {
            Message::from_json(message).is_ok_and(|m| self.thread.receive(m))
        }

        /// The thread, in order, as a JSON array of messages (pending ones without
        /// `seq`).
        pub fn messages(&self) -> String {
            json::array(self.thread.messages().iter().map(Message::to_json))
        }

        /// The current conversation's id; empty before the first message.
        pub fn conversation(&self) -> String {
            self.thread.conversation().to_owned()
        }

        /// Messages from the shop after the last read.
        pub fn unread(&self) -> usize {
            self.thread.unread()
        }

        /// The shopper has seen everything up to `seq`.
        #[wasm_bindgen(js_name = markRead)]
        pub fn mark_read(&mut self, seq: f64) {
            self.thread.mark_read(seq as u64);
        }

        /// Where to resume the stream (`Last-Event-ID`): the highest sequence number
        /// received, or -1 for none.
        #[wasm_bindgen(js_name = lastSeq)]
        pub fn last_seq(&self) -> f64 {
            self.thread.last_seq().map_or(-1.0, |seq| seq as f64)
        }

        fn waiting(&mut self) -> Vec<Message> {
            let mut waiting = self.unsent.clone();
            if self.keep {
                for message in self.outbox.pending(&mut self.browser) {
                    if !waiting.iter().any(|m| m.id == message.id) {
                        waiting.push(message);
                    }
                }
            }
            waiting.sort_unstable_by_key(|m| m.sent_at_ms);
            waiting
        }
    }

    fn refusal(error: impl std::fmt::Display) -> JsValue {
        let error = js_sys::Error::new(&error.to_string());
        error.set_name("SoukChatError");
        error.into()
    }
}
