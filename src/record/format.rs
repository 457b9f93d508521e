//! The recording file: what a console received from its gateway, as the
//! wire messages themselves, so a replay runs the real console over them.
//!
//! A file is a run of gzip members, each a chunk of JSON lines, written
//! as it goes (a chunk a second at most). Every member can be read on its
//! own, so a file cut short (the recorder was killed) reads up to its last
//! whole chunk. The first line of the first member is the [`Header`]; a
//! chunk that begins with a keyframe is where a seek can start.

use serde::{Deserialize, Serialize};

use crate::api::{ServerMsg, Topic, UnixMillis};

/// The format this build writes, and the newest it reads.
pub const VERSION: u32 = 1;
/// What the header's `format` says, so another file is told apart.
pub const MAGIC: &str = "day2top-recording";

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`MAGIC`].
    pub format: String,
    /// The format's version: a reader refuses a newer one.
    pub version: u32,
    /// The day2top that wrote it.
    pub written_by: String,
    /// The gateway, as its address (never its token), or what the data
    /// came from (`embedded demo`, `this host`).
    pub gateway: String,
    /// The context's name, if one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The subscriptions recorded: their names, topics and filters.
    pub subscriptions: Vec<RecordedSub>,
    /// What was hidden before anything was written: `none`, or `share`.
    pub redaction: String,
    /// When recording began; entries from the gateway's buffers may be
    /// older (a recording `--since`).
    pub started: UnixMillis,
    /// Where the recording reaches back to, from the gateway's history
    /// (`record --since`): what comes before `started` was read, not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<UnixMillis>,
    /// The part of a rotated recording this file is, from 1.
    #[serde(default = "first_part")]
    pub part: u32,
}

/// `redaction` of a recording made in share mode: every message passed
/// the share redactor before it was written.
pub const SHARE_REDACTION: &str = "share";

/// Where the presenter went: the breadcrumbs they saw, and the console's
/// route stack as it writes it (opaque here), which a replay following
/// the presenter puts on screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewChange {
    pub crumbs: String,
    #[serde(default)]
    pub routes: serde_json::Value,
}

impl Header {
    /// Made in share mode: the messages were redacted, and the gateway's
    /// address is not kept either (it may name an internal host).
    pub fn shared(&mut self) {
        self.redaction = SHARE_REDACTION.into();
        self.gateway = "(hidden: share mode)".into();
    }

    /// The header of a recording begun `now` of these subscriptions, from
    /// `gateway` (an address, never a token).
    pub fn new(
        gateway: String,
        context: Option<String>,
        subscriptions: &[crate::client::Subscription],
        now: UnixMillis,
    ) -> Header {
        Header {
            format: MAGIC.into(),
            version: VERSION,
            written_by: format!("day2top {}", env!("CARGO_PKG_VERSION")),
            gateway,
            context,
            subscriptions: subscriptions
                .iter()
                .map(|s| RecordedSub {
                    sub: s.sub.clone(),
                    topic: s.topic,
                    filter: s.filter.clone(),
                })
                .collect(),
            redaction: "none".into(),
            started: now,
            since: None,
            part: 1,
        }
    }
}

fn first_part() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedSub {
    pub sub: String,
    pub topic: Topic,
    pub filter: crate::api::Filter,
}

/// One line after the header, at its time `t`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub t: UnixMillis,
    #[serde(flatten)]
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// A message from the gateway, as it came.
    Msg(ServerMsg),
    /// The whole state of every subscription at `t`, as snapshots: a
    /// replay seeks from the keyframe before the time it wants.
    Keyframe(Vec<ServerMsg>),
    /// A marker the presenter set, with its label.
    Mark(String),
    /// The presenter's view changed to this one.
    View(ViewChange),
    /// The connection: `connected`, or what cut it.
    Link(String),
}
