//! A connection's queue of outgoing frames, bounded in frames and bytes.

use std::sync::Arc;

use axum::extract::ws::Message;
use tokio::sync::mpsc;

use crate::api::ServerMsg;

/// Bytes waiting in one connection's queue at most (in KiB, a frame
/// counting at least one): with frames of up to 1,024 events, a queue
/// bounded by frames alone could hold tens of megabytes per console.
pub const QUEUE_KIB: usize = 4096;

/// A frame's payload in bytes.
pub fn frame_len(frame: &Message) -> usize {
    match frame {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}

/// What a frame takes of a queue's byte budget.
pub fn kib(frame: &Message) -> u32 {
    (frame_len(frame) / 1024 + 1).min(QUEUE_KIB) as u32
}

/// A connection's queue of outgoing frames, bounded in frames and in bytes
/// (`room`: KiB left; the writer gives a frame's back once it is written).
pub struct Outbox {
    pub tx: mpsc::Sender<Message>,
    pub room: Arc<tokio::sync::Semaphore>,
}

impl Outbox {
    /// Waits for room: this is where a slow client holds up its forwarders.
    pub async fn send(&self, frame: impl Into<Message>) -> Result<(), ()> {
        let frame = frame.into();
        let permit = self.room.acquire_many(kib(&frame)).await.map_err(|_| ())?;
        self.tx.send(frame).await.map_err(|_| ())?;
        permit.forget();
        Ok(())
    }

    /// For heartbeats and replies: dropped if the queue is full, as a
    /// client that far behind will be cut off anyway.
    pub fn try_send(&self, frame: String) {
        let frame = Message::Text(frame.into());
        if let Ok(permit) = self.room.try_acquire_many(kib(&frame))
            && self.tx.try_send(frame).is_ok()
        {
            permit.forget();
        }
    }

    pub async fn send_msg(&self, msg: &ServerMsg) -> Result<(), ()> {
        self.send(encode(msg)).await
    }
}

pub fn encode(msg: &ServerMsg) -> String {
    serde_json::to_string(msg).expect("server messages always serialize")
}
