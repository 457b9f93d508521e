//! Frames off the stream: decoded (`event` frames, most of the bytes, on
//! a fast path), and a snapshot that comes in parts joined into one.

use std::collections::HashMap;

use crate::api::{Record, ServerMsg};

/// Items of a snapshot that comes in parts, held at most: a gateway that
/// never ends one cannot take the console's memory.
const MAX_SNAPSHOT_ITEMS: usize = 4 << 20;

/// Parts of large snapshots, by subscription, held until their last part.
#[derive(Default)]
pub(super) struct SnapshotParts(HashMap<String, Vec<Record>>);

impl SnapshotParts {
    /// What to pass on: a snapshot whole once its last part came, any other
    /// message as it is; `None` while parts are still coming.
    pub(super) fn join(&mut self, msg: ServerMsg) -> Option<ServerMsg> {
        let ServerMsg::Snapshot {
            sub,
            seq,
            epoch,
            items,
            more,
        } = msg
        else {
            return Some(msg);
        };
        let mut held = self.0.remove(&sub).unwrap_or_default();
        held.extend(items);
        if more {
            if held.len() > MAX_SNAPSHOT_ITEMS {
                tracing::warn!(
                    "snapshot of {sub} past {MAX_SNAPSHOT_ITEMS} items; its parts are dropped"
                );
                held = Vec::new();
            }
            self.0.insert(sub, held);
            return None;
        }
        Some(ServerMsg::Snapshot {
            sub,
            seq,
            epoch,
            items: held,
            more: false,
        })
    }

    /// Forgets a subscription's parts (it was changed or dropped).
    pub(super) fn forget(&mut self, sub: &str) {
        self.0.remove(sub);
    }
}

/// An `event` frame, decoded without the detour serde takes for tagged
/// enums (buffering the whole frame first): events are most of the bytes.
#[derive(serde::Deserialize)]
struct EventFrame {
    sub: String,
    events: Vec<crate::api::Event>,
}

/// Decodes a server frame; `event` frames take the fast path.
pub fn decode(text: &str) -> Result<ServerMsg, serde_json::Error> {
    if text.starts_with(r#"{"type":"event","#) {
        let frame: EventFrame = serde_json::from_str(text)?;
        return Ok(ServerMsg::Event {
            sub: frame.sub,
            events: frame.events,
        });
    }
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_in_parts_is_passed_on_whole() {
        let part = |items: std::ops::Range<i64>, more| ServerMsg::Snapshot {
            sub: "t".into(),
            seq: 7,
            epoch: "e".into(),
            items: items
                .map(|ts| {
                    Record::Sample(crate::api::Sample {
                        name: "x".into(),
                        tags: Default::default(),
                        ts,
                        value: 0.0,
                        unit: String::new(),
                    })
                })
                .collect(),
            more,
        };
        let mut parts = SnapshotParts::default();
        assert_eq!(parts.join(part(0..2, true)), None);
        assert_eq!(parts.join(part(2..3, true)), None);
        assert_eq!(parts.join(part(3..5, false)), Some(part(0..5, false)));
        // A new subscription's snapshot starts afresh.
        assert_eq!(parts.join(part(0..1, false)), Some(part(0..1, false)));
    }

    #[test]
    fn the_fast_path_decodes_what_the_slow_one_does() {
        let event = r#"{"type":"event","sub":"l","events":[{"seq":3,"op":"added","data":{"sample":{"name":"x","tags":{},"ts":1,"value":2.5}}}]}"#;
        assert_eq!(
            decode(event).unwrap(),
            serde_json::from_str::<ServerMsg>(event).unwrap()
        );
        let gap = r#"{"type":"gap","sub":"l","dropped":4,"reason":"slow"}"#;
        assert_eq!(
            decode(gap).unwrap(),
            serde_json::from_str::<ServerMsg>(gap).unwrap()
        );
        assert!(
            decode(r#"{"type":"event","sub":"l"}"#).is_err(),
            "an event frame without events"
        );
    }
}
