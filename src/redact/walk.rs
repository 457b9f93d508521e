//! Every string of a message: log entries (most of the bytes) field by
//! field, anything else through its JSON form, so a field added to the API
//! later is redacted without anyone remembering to.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Redactor;
use crate::api::{Event, FieldValue, LogEntry, Record, ServerMsg};

/// Fields that are the protocol's, not data: where a stream resumes, its
/// names and kinds, and PagerDuty's key for an alert. Redacting them would
/// break the exchange, and they hold nothing a source wrote.
const PROTOCOL: [&str; 6] = ["cursor", "epoch", "sub", "type", "op", "routing_key"];

impl Redactor {
    /// Every string in a JSON value. A string under a key is tried as
    /// `key=value` first, so a rule on the key (a label `DB_PASSWORD`)
    /// hides its value.
    pub fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) => self.string(s),
            Value::Array(items) => items.iter_mut().for_each(|x| self.value(x)),
            Value::Object(map) => {
                // The bytes of a message that was not UTF-8: the redacted
                // text stands for them.
                map.remove("message_base64");
                for (key, x) in map.iter_mut() {
                    if PROTOCOL.contains(&key.as_str()) {
                        continue;
                    }
                    match x {
                        Value::String(s) => self.keyed(key, s),
                        _ => self.value(x),
                    }
                }
            }
            _ => {}
        }
    }

    /// A value under a key: hidden when `key=value` or the value alone
    /// holds a secret.
    fn keyed(&self, key: &str, s: &mut String) {
        let joined = format!("{key}={s}");
        if let std::borrow::Cow::Owned(new) = self.text(&joined)
            && let Some(rest) = new.strip_prefix(&joined[..key.len() + 1])
        {
            *s = rest.to_string();
            return;
        }
        self.string(s);
    }

    /// Anything serializable, through its JSON form.
    pub fn typed<T: Serialize + DeserializeOwned>(&self, item: T) -> T {
        let Ok(mut v) = serde_json::to_value(&item) else {
            return item;
        };
        self.value(&mut v);
        serde_json::from_value(v).unwrap_or(item)
    }

    /// A log entry, field by field (the hot path: no JSON detour).
    pub fn log_entry(&self, e: &mut LogEntry) {
        self.string(&mut e.message);
        e.message_base64 = None;
        self.repeated(&mut e.node);
        for s in [
            &mut e.unit,
            &mut e.task,
            &mut e.file,
            &mut e.identifier,
            &mut e.stream,
        ]
        .into_iter()
        .flatten()
        {
            self.repeated(s);
        }
        for (key, value) in e.fields.iter_mut() {
            self.field(key, value);
        }
    }

    fn field(&self, key: &str, value: &mut FieldValue) {
        match value {
            FieldValue::Text(s) => self.keyed(key, s),
            FieldValue::Many(items) => items.iter_mut().for_each(|v| self.field(key, v)),
            // Bytes that were not text cannot be read for secrets: hidden.
            FieldValue::Bytes { base64 } => *base64 = String::new(),
        }
    }

    fn record(&self, record: Record) -> Record {
        match record {
            Record::Log(mut e) => {
                self.log_entry(&mut e);
                Record::Log(e)
            }
            other => self.typed(other),
        }
    }

    /// A stream message, every string of it.
    pub fn message(&self, msg: ServerMsg) -> ServerMsg {
        match msg {
            ServerMsg::Event { sub, events } => ServerMsg::Event {
                sub,
                events: events
                    .into_iter()
                    .map(|e| Event {
                        seq: e.seq,
                        op: e.op,
                        data: self.record(e.data),
                    })
                    .collect(),
            },
            ServerMsg::Snapshot {
                sub,
                seq,
                epoch,
                items,
                more,
            } => ServerMsg::Snapshot {
                sub,
                seq,
                epoch,
                items: items.into_iter().map(|r| self.record(r)).collect(),
                more,
            },
            ServerMsg::Gap {
                sub,
                dropped,
                mut reason,
            } => {
                self.string(&mut reason);
                ServerMsg::Gap {
                    sub,
                    dropped,
                    reason,
                }
            }
            ServerMsg::Error { sub, mut error } => {
                self.string(&mut error.error.message);
                ServerMsg::Error { sub, error }
            }
            other => other,
        }
    }
}
