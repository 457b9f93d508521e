//! Kubernetes events (events.k8s.io/v1) as log entries of the
//! `kube-events` source, warnings at priority 4, and as lines in the
//! history of the pod they are about.

use std::collections::BTreeMap;

use k8s_openapi::api::events::v1::Event;

use super::map::task_id;
use crate::api::{FieldValue, LogEntry, UnixMillis};

/// The log source's name, and every entry's `identifier`.
pub const SOURCE: &str = "kube-events";

/// When the event last happened: its series' last time, else its time.
pub fn when(event: &Event) -> UnixMillis {
    event
        .series
        .as_ref()
        .map(|s| s.last_observed_time.0.as_millisecond())
        .or(event.event_time.as_ref().map(|t| t.0.as_millisecond()))
        .or(event
            .deprecated_last_timestamp
            .as_ref()
            .map(|t| t.0.as_millisecond()))
        .or(event
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_millisecond()))
        .unwrap_or(0)
}

/// The task an event is about, when it is about a pod.
pub fn pod_of(event: &Event) -> Option<String> {
    let regarding = event.regarding.as_ref()?;
    (regarding.kind.as_deref() == Some("Pod")).then(|| {
        task_id(
            regarding.namespace.as_deref().unwrap_or("default"),
            regarding.name.as_deref().unwrap_or_default(),
        )
    })
}

/// `Reason: note`, what `kubectl describe` lists under Events.
pub fn summary(event: &Event) -> String {
    let reason = event.reason.as_deref().unwrap_or("Event");
    match event.note.as_deref().map(str::trim) {
        Some(note) if !note.is_empty() => format!("{reason}: {note}"),
        _ => reason.to_string(),
    }
}

/// An event as a log entry; `node` is where it happened, where known.
pub fn entry(event: &Event, node: String) -> LogEntry {
    let meta = &event.metadata;
    let regarding = event.regarding.as_ref();
    let kind = regarding.and_then(|r| r.kind.clone()).unwrap_or_default();
    let name = regarding.and_then(|r| r.name.clone()).unwrap_or_default();
    let mut fields = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            fields.insert(key.to_string(), FieldValue::Text(v));
        }
    };
    put("KIND", Some(kind.clone()));
    put("NAME", Some(name.clone()));
    put("NAMESPACE", regarding.and_then(|r| r.namespace.clone()));
    put("REASON", event.reason.clone());
    put("TYPE", event.type_.clone());
    put("REPORTER", event.reporting_controller.clone());
    put("COUNT", event.series.as_ref().map(|s| s.count.to_string()));
    LogEntry {
        cursor: format!(
            "k:e:{}:{}",
            meta.uid.as_deref().unwrap_or_default(),
            meta.resource_version.as_deref().unwrap_or_default()
        ),
        ts: when(event),
        node,
        unit: None,
        task: pod_of(event),
        file: None,
        identifier: Some(SOURCE.into()),
        stream: None,
        priority: if event.type_.as_deref() == Some("Warning") {
            4
        } else {
            6
        },
        message: format!("{kind}/{name}: {}", summary(event)),
        message_base64: None,
        fields,
    }
}

/// An entry in the events' place saying how many were dropped.
pub fn dropped(count: u64, now: UnixMillis) -> LogEntry {
    LogEntry {
        cursor: format!("k:e:dropped:{now}"),
        ts: now,
        node: String::new(),
        unit: None,
        task: None,
        file: None,
        identifier: Some(SOURCE.into()),
        stream: None,
        priority: 4,
        message: format!(
            "{count} Kubernetes events were dropped: more came between two reads than the {} held",
            super::MAX_EVENTS_QUEUED
        ),
        message_base64: None,
        fields: BTreeMap::new(),
    }
}
