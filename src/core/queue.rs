//! The outgoing queue: messages waiting for delivery, oldest first, with at most one
//! batch in flight. A batch leaves the queue only once the backend confirmed it.

use std::collections::VecDeque;

use super::event::Message;

/// How many messages the queue holds before it refuses more.
pub const CAPACITY: usize = 1000;
/// How many messages go in one batch.
pub const BATCH_SIZE: usize = 100;

/// A bounded FIFO of messages. It refuses rather than drops: losing an event
/// silently is the one thing souk must never do.
#[derive(Debug, Default)]
pub struct Queue {
    messages: VecDeque<Message>,
    /// The id and length of the batch at the front that is being delivered.
    in_flight: Option<(u32, usize)>,
}

/// The queue is full; the message was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event queue is full ({CAPACITY} messages waiting); the event was not recorded")]
pub struct QueueFull;

impl Queue {
    /// Appends `message`, or refuses it when [`CAPACITY`] messages are waiting.
    pub fn push(&mut self, message: Message) -> Result<(), QueueFull> {
        if self.messages.len() >= CAPACITY {
            return Err(QueueFull);
        }
        self.messages.push_back(message);
        Ok(())
    }

    /// The next batch to deliver, as attempt `id`, unless one is already in flight.
    pub fn take_batch(&mut self, id: u32) -> Option<&[Message]> {
        if self.in_flight.is_some() || self.messages.is_empty() {
            return None;
        }
        let len = self.messages.len().min(BATCH_SIZE);
        self.in_flight = Some((id, len));
        Some(&self.messages.make_contiguous()[..len])
    }

    /// Ends delivery of batch `id`: `delivered` removes it, otherwise it waits for
    /// the next attempt. An unknown or stale id changes nothing.
    pub fn settle(&mut self, id: u32, delivered: bool) {
        if let Some((in_flight, len)) = self.in_flight {
            if in_flight == id {
                self.in_flight = None;
                if delivered {
                    self.messages.drain(..len);
                }
            }
        }
    }

    /// Drops everything, in flight or not: consent for sending was withdrawn.
    pub fn clear(&mut self) {
        self.messages.clear();
        self.in_flight = None;
    }

    /// Number of messages waiting, including a batch in flight.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}
