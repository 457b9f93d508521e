//! Pod logs, read from the API server when someone asks (a task, a node's
//! pods, a namespace), one follow per container, merged with the events of
//! what is followed.
//!
//! Kubernetes logs have no cursor, and `sinceTime` is whole seconds. A
//! line's position is its own nanosecond timestamp (`timestamps=true`)
//! and how many lines of its container had that same timestamp before it;
//! a resume asks from the second the position is in and skips what is not
//! after it. So a resume is exactly once, unless the kubelet rotated the
//! container's log file in between (the lines of the rotated-out file are
//! gone from the API) or the container wrote two lines with one timestamp
//! and the API cut between them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

mod container;

use container::{Container, Fed, Feed, Position, Start, open};

use super::Kube;
use crate::api::{FieldValue, Filter, FleetCursor, From, LogEntry, StartPoint, Task};
use crate::collect::follow::{FollowEvent, LogFollow, merged_tail};

/// Lines a fresh subscription starts with, unless it says.
const DEFAULT_TAIL: usize = 1000;
/// Containers one subscription follows at most.
const MAX_CONTAINERS: usize = 50;
/// The place events have in a subscription's cursor.
const EVENTS: &str = "events";
/// How often the pods a subscription matches are looked at again.
const MEMBERSHIP_EVERY: Duration = Duration::from_secs(2);

/// The namespace a filter names (`NAMESPACE=…` among its matches).
fn namespace_of(filter: &Filter) -> Option<&str> {
    filter.matches.iter().find_map(|m| {
        m.strip_prefix("NAMESPACE=")
            .or_else(|| m.strip_prefix("namespace="))
    })
}

/// Whether a filter picks out pods at all: a task, a node or a namespace.
fn selects_pods(filter: &Filter) -> bool {
    filter.task.is_some() || filter.node.is_some() || namespace_of(filter).is_some()
}

fn task_matches(filter: &Filter, task: &Task) -> bool {
    filter.task.as_ref().is_none_or(|t| *t == task.id)
        && filter.node.as_ref().is_none_or(|n| *n == task.node_id)
        && namespace_of(filter)
            .is_none_or(|ns| task.labels.get("namespace").map(String::as_str) == Some(ns))
}

/// The containers of the pods a filter picks out, by key.
fn containers(kube: &Kube, filter: &Filter) -> (Vec<Container>, usize) {
    if !selects_pods(filter) {
        return (Vec::new(), 0);
    }
    let held = kube.held();
    let mut all: Vec<Container> = held
        .tasks
        .values()
        .filter(|t| task_matches(filter, t))
        .flat_map(|task| {
            let (namespace, pod) = super::map::split_task_id(&task.id).unwrap_or_default();
            let restarted: Vec<&str> = task
                .labels
                .get("restarted")
                .map(|r| r.split(',').collect())
                .unwrap_or_default();
            task.labels
                .get("containers")
                .map(String::as_str)
                .unwrap_or_default()
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|name| Container {
                    key: format!("{}/{name}", task.id),
                    namespace: namespace.to_string(),
                    pod: pod.to_string(),
                    name: name.to_string(),
                    node: task.node_id.clone(),
                    restarted: restarted.contains(&name),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    let matched = all.len();
    all.truncate(MAX_CONTAINERS);
    (all, matched)
}

/// What an event's entry must be to go with a filter's pods.
fn event_matches(filter: &Filter, entry: &LogEntry) -> bool {
    let namespace = match entry.fields.get("NAMESPACE") {
        Some(FieldValue::Text(ns)) => Some(ns.as_str()),
        _ => None,
    };
    filter
        .task
        .as_ref()
        .is_none_or(|t| entry.task.as_ref() == Some(t))
        && filter.node.as_ref().is_none_or(|n| *n == entry.node)
        && namespace_of(filter).is_none_or(|ns| namespace == Some(ns))
}

impl Kube {
    /// Follows the pod logs and events `filter` picks out, from `from`.
    pub fn follow_logs(self: &Arc<Self>, filter: Filter, from: From) -> LogFollow {
        let (tx, events) = mpsc::channel(64);
        LogFollow::new(events, tokio::spawn(merge(self.clone(), filter, from, tx)))
    }

    /// A REST read of the newest `tail` lines and events of the pods
    /// `filter` picks out, with what kept any of them away; `None` when
    /// it picks out no pods (the events alone are in the gateway's store).
    pub async fn read_logs(
        self: &Arc<Self>,
        filter: &Filter,
        tail: usize,
    ) -> Option<(Vec<LogEntry>, Vec<String>)> {
        if !selects_pods(filter) {
            return None;
        }
        let mut follow = self.follow_logs(filter.clone(), From::Tail { tail });
        let mut missing = Vec::new();
        while let Some(event) = follow.events.recv().await {
            match event {
                FollowEvent::Snapshot(entries) => return Some((entries, missing)),
                FollowEvent::Gap { reason, .. } => missing.push(reason),
                FollowEvent::Entries(_) => {}
            }
        }
        Some((Vec::new(), missing))
    }
}

async fn merge(kube: Arc<Kube>, filter: Filter, from: From, out: mpsc::Sender<FollowEvent>) {
    let (tx, mut rx) = mpsc::channel::<(String, Fed)>(64);
    let mut told = kube.events_told.subscribe();
    let resumed = match &from {
        From::Cursor { cursor } => FleetCursor::parse(cursor),
        _ => None,
    };
    let tail = match (&from, &resumed) {
        (_, Some(_)) => None,
        (From::Tail { tail }, None) => Some(*tail),
        (From::Named(StartPoint::Now), None) => None,
        _ => Some(DEFAULT_TAIL),
    };
    let now_second = || jiff::Timestamp::now().as_second();
    // A container the cursor does not name had nothing the client saw:
    // from the newest second the cursor knows of, or now.
    let since_resumed = resumed
        .as_ref()
        .and_then(|c| {
            c.positions
                .values()
                .filter_map(|p| Position::parse(p))
                .map(|p| (p.nanos / 1_000_000_000) as i64)
                .max()
        })
        .unwrap_or_else(now_second);
    let start_of = |container: &Container| match (&resumed, tail) {
        (Some(cursor), _) => match cursor
            .positions
            .get(&container.key)
            .and_then(|p| Position::parse(p))
        {
            Some(at) => Start::After(at),
            None => Start::Since(since_resumed),
        },
        (None, Some(tail)) => Start::Tail(tail),
        (None, None) => Start::Since(now_second()),
    };
    let (chosen, matched) = containers(&kube, &filter);
    if let Some(notice) = notice(&filter, chosen.len(), matched)
        && out.send(notice).await.is_err()
    {
        return;
    }
    let mut feeds: HashMap<String, Feed> = HashMap::new();
    for container in chosen {
        let start = start_of(&container);
        feeds.insert(
            container.key.clone(),
            open(&kube, container, start, tx.clone()),
        );
    }

    // A fresh subscription: every container's tail, and the events', merged.
    if let Some(tail) = tail {
        let mut places: Vec<Vec<LogEntry>> = Vec::new();
        let events: Vec<LogEntry> = {
            let held = kube.held();
            let mut matching: Vec<LogEntry> = held
                .recent_events
                .iter()
                .rev()
                .filter(|e| event_matches(&filter, e))
                .take(tail)
                .map(|e| as_event(e.clone()))
                .collect();
            matching.reverse();
            matching
        };
        places.push(events);
        let mut waiting = feeds.len();
        let deadline = tokio::time::Instant::now() + TAIL_WAIT;
        let mut early: Vec<LogEntry> = Vec::new();
        while waiting > 0 {
            let got = tokio::select! {
                got = rx.recv() => got,
                _ = tokio::time::sleep_until(deadline) => break,
            };
            let Some((_, fed)) = got else { return };
            match fed {
                Fed::Tail(entries) => {
                    waiting -= 1;
                    places.push(entries);
                }
                Fed::Lines(entries) => early.extend(entries),
                Fed::Refused(why) => {
                    waiting -= 1;
                    if out
                        .send(FollowEvent::Gap {
                            dropped: 0,
                            reason: why,
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let mut snapshot = merged_tail(places, tail);
        snapshot.extend(early);
        if out.send(FollowEvent::Snapshot(snapshot)).await.is_err() {
            return;
        }
    } else if let Some(after) = resumed.as_ref().and_then(|c| c.positions.get(EVENTS)) {
        // Events after the cursor's, that this gateway still holds.
        let newer: Vec<LogEntry> = {
            let held = kube.held();
            let recent = &held.recent_events;
            let first = recent
                .iter()
                .position(|e| e.cursor == *after)
                .map_or(recent.len(), |i| i + 1);
            recent
                .iter()
                .skip(first)
                .filter(|e| event_matches(&filter, e))
                .map(|e| as_event(e.clone()))
                .collect()
        };
        if !newer.is_empty() && out.send(FollowEvent::Entries(newer)).await.is_err() {
            return;
        }
    }

    let mut membership = tokio::time::interval(MEMBERSHIP_EVERY);
    membership.tick().await;
    loop {
        let sent = tokio::select! {
            got = rx.recv() => match got {
                Some((_, Fed::Lines(entries) | Fed::Tail(entries))) => FollowEvent::Entries(entries),
                Some((_, Fed::Refused(why))) => FollowEvent::Gap { dropped: 0, reason: why },
                None => return,
            },
            event = told.recv() => match event {
                Ok(entry) if event_matches(&filter, &entry) => FollowEvent::Entries(vec![as_event(entry)]),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => FollowEvent::Gap {
                    dropped: n,
                    reason: "Kubernetes events came faster than this subscription took them".into(),
                },
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = membership.tick() => {
                // New pods that match are followed from their first line;
                // gone ones end their follows by themselves.
                let (now, _) = containers(&kube, &filter);
                feeds.retain(|key, feed| !feed.0.is_finished() || now.iter().any(|c| &c.key == key));
                for container in now {
                    if feeds.len() >= MAX_CONTAINERS {
                        break;
                    }
                    if !feeds.contains_key(&container.key) {
                        let since = pod_started(&kube, &container).unwrap_or_else(now_second);
                        let key = container.key.clone();
                        feeds.insert(key, open(&kube, container, Start::Since(since), tx.clone()));
                    }
                }
                continue;
            }
        };
        if matches!(&sent, FollowEvent::Entries(e) if e.is_empty()) {
            continue;
        }
        if out.send(sent).await.is_err() {
            return;
        }
    }
}

/// How long a fresh subscription waits for its containers' tails.
const TAIL_WAIT: Duration = Duration::from_secs(5);

/// An event as a line of this subscription: its cursor is the events'
/// place in the subscription's.
fn as_event(mut entry: LogEntry) -> LogEntry {
    entry.cursor = FleetCursor::one(EVENTS, &entry.cursor);
    entry
}

/// Said first when the subscription follows fewer containers than match.
fn notice(filter: &Filter, chosen: usize, matched: usize) -> Option<FollowEvent> {
    let reason = if !selects_pods(filter) {
        "pod logs are read for what you open: a task, a node, or a namespace (filter NAMESPACE=NAME); here, the cluster's events".to_string()
    } else if matched > chosen {
        format!(
            "following the logs of {chosen} of the {matched} containers that match; narrow the filter (a task, a node, NAMESPACE=NAME) for the rest"
        )
    } else {
        return None;
    };
    Some(FollowEvent::Gap { dropped: 0, reason })
}

fn pod_started(kube: &Kube, container: &Container) -> Option<i64> {
    let held = kube.held();
    let task = held
        .tasks
        .get(&format!("{}/{}", container.namespace, container.pod))?;
    Some(task.started / 1000)
}
