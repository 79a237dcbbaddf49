//! The outgoing queue: messages waiting for delivery, oldest first.

use std::collections::VecDeque;

use super::event::Message;

/// How many messages the queue holds before it refuses more.
pub const CAPACITY: usize = 1000;

/// A bounded FIFO of messages. It refuses rather than drops: losing an event
/// silently is the one thing souk must never do.
#[derive(Debug, Default)]
pub struct Queue {
    messages: VecDeque<Message>,
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

    /// Number of messages waiting.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The waiting messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter()
    }
}
