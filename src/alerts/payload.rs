//! A notification as each receiver takes it: Alertmanager's webhook
//! payload (version 4), PagerDuty Events API v2 (one event an alert:
//! trigger or resolve, deduplicated by the alert's fingerprint), and a
//! Slack incoming webhook's message. Every one carries the top triage
//! findings as its evidence.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::config::{Kind, Receiver};
use super::engine::{Notification, render};
use crate::api::{Alert, AlertState, UnixMillis};

/// RFC 3339 in UTC, as all three APIs take times.
fn rfc3339(ms: UnixMillis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map_or_else(|_| "0001-01-01T00:00:00Z".into(), |t| t.to_string())
}

fn status(alert: &Alert) -> &'static str {
    match alert.state {
        AlertState::Resolved => "resolved",
        _ => "firing",
    }
}

/// The labels every alert of the notification shares.
fn common<'a>(
    maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut maps = maps.peekable();
    let Some(first) = maps.peek().map(|m| (*m).clone()) else {
        return BTreeMap::new();
    };
    maps.fold(first, |mut common, m| {
        common.retain(|k, v| m.get(k) == Some(v));
        common
    })
}

/// What the alert is, in one line: its summary annotation, else its name
/// and labels.
pub fn summary(alert: &Alert) -> String {
    alert
        .annotations
        .get("summary")
        .cloned()
        .unwrap_or_else(|| {
            let mut labels = alert.labels.clone();
            labels.remove("alertname");
            format!("{} {}", alert.rule, render(&labels))
        })
}

/// The bodies to POST for a notification: one for a webhook or Slack, one
/// per alert for PagerDuty. `url` is the gateway's, for links back.
pub fn bodies(receiver: &Receiver, n: &Notification, url: &str) -> Vec<Value> {
    match receiver.kind {
        Kind::Webhook => vec![alertmanager(receiver, n, url)],
        Kind::Slack => vec![slack(n)],
        Kind::Pagerduty => n
            .alerts
            .iter()
            .map(|a| pagerduty(receiver, a, url))
            .collect(),
    }
}

fn alertmanager(receiver: &Receiver, n: &Notification, url: &str) -> Value {
    let alerts: Vec<Value> = n
        .alerts
        .iter()
        .map(|a| {
            let mut annotations = a.annotations.clone();
            if !a.evidence.is_empty() {
                annotations.insert("evidence".into(), a.evidence.join("\n"));
            }
            json!({
                "status": status(a),
                "labels": a.labels,
                "annotations": annotations,
                "startsAt": rfc3339(a.fired_at.unwrap_or(a.since)),
                "endsAt": a.resolved_at.map_or("0001-01-01T00:00:00Z".to_string(), rfc3339),
                "generatorURL": format!("{url}/api/v1/alerts"),
                "fingerprint": a.fingerprint,
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": 0,
        "status": if n.firing() { "firing" } else { "resolved" },
        "receiver": receiver.name,
        "groupLabels": n.group_labels,
        "commonLabels": common(n.alerts.iter().map(|a| &a.labels)),
        "commonAnnotations": common(n.alerts.iter().map(|a| &a.annotations)),
        "externalURL": url,
        "alerts": alerts,
    })
}

/// PagerDuty's severities: critical, error, warning, info; from the
/// alert's `severity` label (`page` is critical), error when it has none.
fn severity(alert: &Alert) -> &'static str {
    match alert
        .labels
        .get("severity")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("critical" | "page") => "critical",
        Some("warning" | "warn") => "warning",
        Some("info" | "none") => "info",
        _ => "error",
    }
}

fn pagerduty(receiver: &Receiver, alert: &Alert, url: &str) -> Value {
    let key = receiver.routing_key.clone().unwrap_or_default();
    if alert.state == AlertState::Resolved {
        return json!({
            "routing_key": key,
            "event_action": "resolve",
            "dedup_key": alert.fingerprint,
        });
    }
    let source = ["node", "task", "source", "group", "target"]
        .iter()
        .find_map(|k| alert.labels.get(*k))
        .cloned()
        .unwrap_or_else(|| url.to_string());
    let mut summary = summary(alert);
    if summary.len() > 1024 {
        let mut cut = 1021;
        while !summary.is_char_boundary(cut) {
            cut -= 1;
        }
        summary = format!("{}...", &summary[..cut]);
    }
    let mut event = json!({
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": alert.fingerprint,
        "client": "day2top",
        "client_url": format!("{url}/api/v1/alerts"),
        "payload": {
            "summary": summary,
            "source": source,
            "severity": severity(alert),
            "timestamp": rfc3339(alert.fired_at.unwrap_or(alert.since)),
            "component": alert.labels.get("task").or(alert.labels.get("check")),
            "group": alert.labels.get("group"),
            "class": alert.rule,
            "custom_details": {
                "labels": alert.labels,
                "annotations": alert.annotations,
                "value": alert.value,
                "evidence": alert.evidence,
            },
        },
    });
    // The optional fields are strings when present, never null.
    if let Some(payload) = event["payload"].as_object_mut() {
        payload.retain(|_, v| !v.is_null());
    }
    event
}

fn slack(n: &Notification) -> Value {
    let firing = n
        .alerts
        .iter()
        .filter(|a| a.state == AlertState::Firing)
        .count();
    let resolved = n.alerts.len() - firing;
    let mut text = match (firing, resolved) {
        (0, r) => format!("*RESOLVED* {r} alert(s) {}", render(&n.group_labels)),
        (f, 0) => format!("*FIRING* {f} alert(s) {}", render(&n.group_labels)),
        (f, r) => format!("*FIRING* {f}, resolved {r} {}", render(&n.group_labels)),
    };
    for a in &n.alerts {
        text.push_str(&format!("\n• [{}] {}", status(a), summary(a)));
    }
    let evidence: Vec<&String> = n.alerts.iter().flat_map(|a| &a.evidence).collect();
    if !evidence.is_empty() {
        text.push_str("\n*What changed* (day2top triage):");
        let mut shown = Vec::new();
        for e in evidence {
            if !shown.contains(&e) && shown.len() < 5 {
                text.push_str(&format!("\n{}. {e}", shown.len() + 1));
                shown.push(e);
            }
        }
    }
    json!({ "text": text })
}
