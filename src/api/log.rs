//! Log entries as the gateway serves them, from journald, files or the demo.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UnixMillis;

/// A journald field value: text, several values (a repeated field), or
/// bytes that are not UTF-8 (kept, as base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Many(Vec<FieldValue>),
    Bytes { base64: String },
}

/// syslog priorities, 0 (emerg) to 7 (debug).
pub const PRIORITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Where this entry is in its source: a journald cursor (`j:…`), a
    /// file's identity and offset (`f:…`), or a demo sequence (`d:…`).
    pub cursor: String,
    pub ts: UnixMillis,
    pub node: String,
    /// The systemd unit, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The task the entry belongs to, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The log file, for file sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `SYSLOG_IDENTIFIER`, or the process name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// `stdout` or `stderr` where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    pub priority: u8,
    /// The text; where the source sent bytes that are not UTF-8, a lossy
    /// rendering of them, with the bytes themselves in `message_base64`.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_base64: Option<String>,
    /// Every other field the source gave (journald's `_PID`, `_COMM`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldValue>,
}

impl LogEntry {
    /// A short name of where the entry came from, for a source column.
    pub fn source(&self) -> &str {
        self.unit
            .as_deref()
            .or(self.identifier.as_deref())
            .or(self.file.as_deref())
            .or(self.task.as_deref())
            .unwrap_or("-")
    }

    /// Bytes of the entry's strings and fields.
    fn text_bytes(&self) -> usize {
        let fields: usize = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + field_weight(v))
            .sum();
        self.cursor.len()
            + self.node.len()
            + self.message.len()
            + self.message_base64.as_ref().map_or(0, String::len)
            + [
                &self.unit,
                &self.task,
                &self.file,
                &self.identifier,
                &self.stream,
            ]
            .iter()
            .map(|s| s.as_ref().map_or(0, |s| s.len()))
            .sum::<usize>()
            + fields
    }

    /// What the entry costs in memory held as it is (the console's log
    /// buffer): the struct and its Arc, its strings, malloc's rounding.
    pub fn memory(&self) -> usize {
        const FIXED: usize = 400;
        FIXED + self.text_bytes()
    }

    /// What it costs where the gateway keeps it for serving: as held, plus
    /// its JSON beside it (every string again, the field names, the event
    /// around it). Byte-bounded rings use it, so their bound is close to
    /// the memory they really take.
    pub fn weight(&self) -> usize {
        const JSON_FIXED: usize = 350;
        self.memory() + JSON_FIXED + self.text_bytes()
    }
}

fn field_weight(v: &FieldValue) -> usize {
    match v {
        FieldValue::Text(s) => s.len() + 24,
        FieldValue::Bytes { base64 } => base64.len() + 24,
        FieldValue::Many(vs) => vs.iter().map(field_weight).sum::<usize>() + 24,
    }
}

/// On an older page of `GET /api/v1/logs`: the `before` that reads the
/// page before it (absent when there is nothing older).
pub const OLDER_HEADER: &str = "x-day2top-older";
/// On an older page with nothing before it, why: `start` (the sources'
/// first entries), `since` (the range's start), `kept` (the oldest entry
/// the gateway kept; older ones are gone).
pub const HISTORY_HEADER: &str = "x-day2top-history";
