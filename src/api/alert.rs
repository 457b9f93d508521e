//! Alerts as the gateway evaluates them (`GET /api/v1/alerts`): each rule's
//! instances by label set, their state, and how notifications went.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UnixMillis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds, for less than the rule's `for`.
    Pending,
    Firing,
    /// It held and no longer does (kept a while so the console can say so).
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's name (also the `alertname` label).
    pub rule: String,
    pub state: AlertState,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// When the condition began to hold.
    pub since: UnixMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_at: Option<UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<UnixMillis>,
    /// The figure the condition compared, as last evaluated.
    pub value: f64,
    /// Stable for the rule and label set: the dedup key of its notifications.
    pub fingerprint: String,
    /// The top triage findings when it last changed, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// One receiver's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiverStatus {
    pub name: String,
    pub kind: String,
    pub sent: u64,
    /// Attempts that failed (each is retried).
    pub failed: u64,
    /// Notifications waiting in the queue on disk.
    pub queued: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertsReport {
    /// When the rules were last evaluated.
    pub evaluated: UnixMillis,
    pub rules: usize,
    pub alerts: Vec<Alert>,
    pub receivers: Vec<ReceiverStatus>,
    /// Notifications dropped because the queue was full.
    pub dropped: u64,
    /// Why the engine is not evaluating, if it is not (no data yet, the
    /// stream is down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
