//! Alerts over time: pending until a rule's `for`, firing, resolved; and
//! Alertmanager's grouping per receiver (`group_by`, `group_wait`,
//! `group_interval`, `repeat_interval`) deciding when a group is sent.
//! Pure: the model and the time in, the alerts and the notifications due
//! out.

use std::collections::BTreeMap;

use super::config::{AlertsConfig, Receiver};
use super::rules::{fill, holds};
use crate::api::{Alert, AlertState, UnixMillis};
use crate::tui::model::Model;

/// How long a resolved alert stays listed, at least (longer when a
/// receiver's group interval is: until it can be told).
const KEEP_RESOLVED: i64 = 15 * 60_000;
/// Alerts held at most; past it the newest label sets are not tracked
/// (and `dropped` counts them).
pub const MAX_ALERTS: usize = 2_000;

/// A group's notification, due now.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub receiver: usize,
    pub group_key: String,
    pub group_labels: BTreeMap<String, String>,
    /// Firing alerts of the group, and those resolved since the last send.
    pub alerts: Vec<Alert>,
}

impl Notification {
    pub fn firing(&self) -> bool {
        self.alerts.iter().any(|a| a.state == AlertState::Firing)
    }
}

#[derive(Debug, Default)]
struct Group {
    labels: BTreeMap<String, String>,
    first: UnixMillis,
    last_sent: Option<UnixMillis>,
    /// What the last notification said, by fingerprint.
    told: BTreeMap<String, AlertState>,
}

#[derive(Debug, Default)]
pub struct Engine {
    pub alerts: BTreeMap<String, Alert>,
    groups: BTreeMap<(usize, String), Group>,
    /// Label sets not tracked for want of room.
    pub dropped: u64,
}

/// A stable fingerprint of a label set (FNV-1a, as hex).
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            hash ^= b as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

impl Engine {
    /// Evaluates every rule at `now`; `evidence` (the top triage findings)
    /// is attached to what changed. Returns the notifications due.
    pub fn evaluate(
        &mut self,
        config: &AlertsConfig,
        model: &Model,
        now: UnixMillis,
        evidence: impl Fn() -> Vec<String>,
    ) -> Vec<Notification> {
        let mut seen = std::collections::BTreeSet::new();
        let mut evidence_now: Option<Vec<String>> = None;
        let mut evidence = || evidence_now.get_or_insert_with(&evidence).clone();
        for rule in &config.rules {
            for h in holds(rule, model, now) {
                let fp = fingerprint(&h.labels);
                seen.insert(fp.clone());
                if !self.alerts.contains_key(&fp) && self.alerts.len() >= MAX_ALERTS {
                    self.dropped += 1;
                    continue;
                }
                let annotations: BTreeMap<String, String> = rule
                    .annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), fill(v, &h)))
                    .collect();
                let alert = self.alerts.entry(fp.clone()).or_insert_with(|| Alert {
                    rule: rule.name.clone(),
                    state: AlertState::Pending,
                    labels: h.labels.clone(),
                    annotations: annotations.clone(),
                    since: now,
                    fired_at: None,
                    resolved_at: None,
                    value: h.value,
                    fingerprint: fp.clone(),
                    evidence: vec![],
                });
                if alert.state == AlertState::Resolved {
                    // It holds again: a new episode.
                    (alert.state, alert.since, alert.fired_at, alert.resolved_at) =
                        (AlertState::Pending, now, None, None);
                }
                alert.value = h.value;
                alert.annotations = annotations;
                if alert.state == AlertState::Pending && now - alert.since >= rule.hold {
                    alert.state = AlertState::Firing;
                    alert.fired_at = Some(now);
                    alert.evidence = evidence();
                }
            }
        }
        // What no longer holds: pending goes, firing resolves.
        let longest = config.receivers.iter().map(|r| r.group_interval).max();
        let keep = longest
            .unwrap_or(0)
            .saturating_add(60_000)
            .max(KEEP_RESOLVED);
        self.alerts.retain(|fp, a| {
            if seen.contains(fp) {
                return true;
            }
            match a.state {
                AlertState::Pending => false,
                AlertState::Firing => {
                    a.state = AlertState::Resolved;
                    a.resolved_at = Some(now);
                    true
                }
                AlertState::Resolved => a.resolved_at.is_some_and(|r| now - r < keep),
            }
        });
        self.due(config, now)
    }

    /// The groups whose notification is due at `now`.
    fn due(&mut self, config: &AlertsConfig, now: UnixMillis) -> Vec<Notification> {
        // A firing alert opens its group at each receiver it goes to
        // (a resolved one only ever leaves a group that was told of it).
        for alert in self
            .alerts
            .values()
            .filter(|a| a.state == AlertState::Firing)
        {
            for (i, receiver) in config.receivers.iter().enumerate() {
                if !routed(config, alert, receiver) {
                    continue;
                }
                let labels = group_labels(receiver, alert);
                let key = format!("{}:{}", receiver.name, render(&labels));
                self.groups.entry((i, key)).or_insert_with(|| Group {
                    labels,
                    first: now,
                    ..Default::default()
                });
            }
        }
        let mut out = Vec::new();
        let alerts = &self.alerts;
        self.groups.retain(|(i, key), group| {
            let receiver = &config.receivers[*i];
            let members: Vec<&Alert> = alerts
                .values()
                .filter(|a| a.state != AlertState::Pending && routed(config, a, receiver))
                .filter(|a| group_labels(receiver, a) == group.labels)
                .filter(|a| {
                    a.state == AlertState::Firing
                        || group.told.get(&a.fingerprint) == Some(&AlertState::Firing)
                })
                .collect();
            let firing: BTreeMap<String, AlertState> = members
                .iter()
                .filter(|a| a.state == AlertState::Firing)
                .map(|a| (a.fingerprint.clone(), AlertState::Firing))
                .collect();
            let changed = firing != group.told;
            let send_at = match group.last_sent {
                None => group.first + receiver.group_wait,
                Some(last) if changed => last + receiver.group_interval,
                Some(last) => last + receiver.repeat_interval,
            };
            let worth = changed || !firing.is_empty();
            if worth && now >= send_at && !members.is_empty() {
                out.push(Notification {
                    receiver: *i,
                    group_key: key.clone(),
                    group_labels: group.labels.clone(),
                    alerts: members.iter().map(|a| (*a).clone()).collect(),
                });
                group.last_sent = Some(now);
                group.told = firing.clone();
            }
            // A group with nothing firing goes once nothing is left to
            // tell (told, or the resolved alerts no longer held).
            !firing.is_empty() || !group.told.is_empty() && !members.is_empty()
        });
        out
    }

    /// Groups held, over all receivers.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Every alert, firing first, then pending, then resolved; newest first.
    pub fn listed(&self) -> Vec<Alert> {
        let mut alerts: Vec<Alert> = self.alerts.values().cloned().collect();
        let rank = |s: AlertState| match s {
            AlertState::Firing => 0,
            AlertState::Pending => 1,
            AlertState::Resolved => 2,
        };
        alerts.sort_by(|a, b| {
            (rank(a.state), -a.since, &a.fingerprint).cmp(&(
                rank(b.state),
                -b.since,
                &b.fingerprint,
            ))
        });
        alerts
    }
}

/// Whether the alert's rule sends to this receiver (all, unless it names some).
fn routed(config: &AlertsConfig, alert: &Alert, receiver: &Receiver) -> bool {
    let rule = config.rules.iter().find(|r| r.name == alert.rule);
    rule.and_then(|r| r.to.as_ref())
        .is_none_or(|to| to.contains(&receiver.name))
}

fn group_labels(receiver: &Receiver, alert: &Alert) -> BTreeMap<String, String> {
    receiver
        .group_by
        .iter()
        .filter_map(|k| Some((k.clone(), alert.labels.get(k)?.clone())))
        .collect()
}

/// Labels as Alertmanager writes a group key: `{a="1", b="2"}`.
pub fn render(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}
