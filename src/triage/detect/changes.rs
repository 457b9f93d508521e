//! Discrete changes: tasks that ended (by group, why and episode, with
//! everyday noise told apart), rollouts, restarts, nodes lost, checks
//! that turned, exec sessions, missing data.

use std::collections::{BTreeMap, BTreeSet};

use super::{EVIDENCE, MIN_BASELINE, finding, place};
use crate::api::{TaskState, UnixMillis};
use crate::triage::signature::signature;
use crate::triage::timeline::{Bucket, MINUTE, Signal, Subject, What, minute_of};
use crate::triage::{Finding, Jump, Kind};

/// Endings further apart than this are separate episodes.
const EPISODE_GAP: UnixMillis = 3 * MINUTE;

/// Why a task ending is worth a finding of its own: its state and its
/// message's signature.
fn why_ended(state: TaskState, message: &str) -> String {
    format!("{} {}", state.as_str(), signature(message))
}

/// The discrete signals: tasks, nodes, checks, exec, missing data.
/// `held_from`: the first minute held.
pub(super) fn signals(
    window: &[(i64, &Bucket)],
    baseline: &[(i64, &Bucket)],
    held_from: i64,
    out: &mut Vec<Finding>,
) {
    let mut all: Vec<&Signal> = window.iter().flat_map(|(_, b)| &b.signals).collect();
    // Arrival order must not matter: order by time, then by what.
    all.sort_by(|a, b| {
        (a.at, &a.subject)
            .cmp(&(b.at, &b.subject))
            .then_with(|| format!("{:?}", a.what).cmp(&format!("{:?}", b.what)))
    });
    let rolled: BTreeSet<&str> = all
        .iter()
        .filter(|s| matches!(s.what, What::Rollout { .. }))
        .filter_map(|s| s.subject.group.as_deref())
        .collect();
    // By what they are about.
    // Endings by group and why: an OOM kill and a lost agent are two stories.
    let mut ended: BTreeMap<(String, String), Vec<&Signal>> = BTreeMap::new();
    let mut restarts: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut rollouts: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut downs: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut checks: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut missing: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let group_of = |s: &Signal| {
        s.subject
            .group
            .clone()
            .or_else(|| s.subject.task.clone())
            .unwrap_or_default()
    };
    for s in &all {
        match &s.what {
            What::TaskEnded { state, message, .. } => {
                // A rollout's replacements are the rollout's, not failures.
                let replaced = *state == TaskState::Killed
                    && s.subject
                        .group
                        .as_deref()
                        .is_some_and(|g| rolled.contains(g));
                if !replaced {
                    let why = why_ended(*state, message);
                    ended.entry((group_of(s), why)).or_default().push(s);
                }
            }
            What::Restarted { .. } => restarts
                .entry(s.subject.task.clone().unwrap_or_default())
                .or_default()
                .push(s),
            What::Rollout { .. } => rollouts.entry(group_of(s)).or_default().push(s),
            What::NodeDown { .. } | What::NodeUp { .. } => downs
                .entry(s.subject.node.clone().unwrap_or_default())
                .or_default()
                .push(s),
            What::CheckFailed { id, .. } | What::CheckPassed { id, .. } => {
                checks.entry(id.clone()).or_default().push(s)
            }
            What::Exec { command, denied } => {
                let task = s.subject.task.clone().unwrap_or_default();
                let (kind, title) = match denied {
                    Some(why) => (Kind::ExecDenied, format!("exec into {task} refused: {why}")),
                    None => (Kind::Exec, format!("exec into {task}: {command}")),
                };
                let mut f = finding(
                    kind,
                    s.at,
                    s.subject.clone(),
                    title,
                    Jump::Task { id: task },
                );
                f.evidence.push((s.at, command.clone()));
                f.weight = 1.0;
                out.push(f);
            }
            What::Missing { what, .. } => missing.entry(what.clone()).or_default().push(s),
        }
    }
    // How often each group ended each way in the baseline.
    let mut usual: BTreeMap<(String, String), usize> = BTreeMap::new();
    for s in baseline.iter().flat_map(|(_, b)| &b.signals) {
        if let What::TaskEnded { state, message, .. } = &s.what {
            *usual
                .entry((group_of(s), why_ended(*state, message)))
                .or_default() += 1;
        }
    }
    let held_window = window.len().max(1) as f64;
    for (key, list) in ended {
        let noise = if baseline.len() >= MIN_BASELINE {
            let before = usual.get(&key).copied().unwrap_or(0);
            let rate = before as f64 / baseline.len() as f64;
            (before >= 2 && rate * held_window >= list.len() as f64 / 2.0).then(|| {
                format!(
                    "as common in the baseline ({before} in {} minutes)",
                    baseline.len()
                )
            })
        } else {
            let early = minute_of(list[0].at) < held_from + MIN_BASELINE as i64;
            (early && list.len() >= 3).then(|| "already happening when the data began".to_string())
        };
        // Episodes: a crash loop is one; an OOM kill an hour after the
        // last is another story.
        // Fewer than 3 are no loop: each its own story.
        let mut start = 0;
        for i in 1..=list.len() {
            if i == list.len() || list[i].at - list[i - 1].at > EPISODE_GAP {
                let episode = &list[start..i];
                let parts: Vec<&[&Signal]> = if episode.len() < 3 {
                    episode.chunks(1).collect()
                } else {
                    vec![episode]
                };
                for part in parts {
                    let mut f = task_endings(&key.0, part);
                    f.noise = noise.clone();
                    out.push(f);
                }
                start = i;
            }
        }
    }
    for (task, list) in restarts {
        let last = list.last().expect("not empty");
        let restarts = match &last.what {
            What::Restarted { restarts, .. } => *restarts,
            _ => 0,
        };
        let kind = if list.len() >= 3 {
            Kind::CrashLoop
        } else {
            Kind::TaskFailed
        };
        let mut f = finding(
            kind,
            list[0].at,
            last.subject.clone(),
            format!(
                "{task} restarted {} times in the window ({restarts} in all)",
                list.len()
            ),
            Jump::Task { id: task.clone() },
        );
        f.last = last.at;
        f.count = list.len() as u32;
        f.weight = list.len() as f64;
        out.push(f);
    }
    for (group, list) in rollouts {
        let first = list[0];
        let (from, to) = match &first.what {
            What::Rollout { from, to, .. } => (from.clone(), to.clone()),
            _ => Default::default(),
        };
        let mut f = finding(
            Kind::Rollout,
            first.at,
            Subject {
                group: first.subject.group.clone(),
                ..Default::default()
            },
            format!("rollout of {group}: {from} → {to}"),
            Jump::Task {
                id: first.subject.task.clone().unwrap_or_default(),
            },
        );
        f.last = list.last().map_or(first.at, |s| s.at);
        f.count = list.len() as u32;
        f.weight = 2.0;
        for s in list.iter().take(EVIDENCE) {
            if let What::Rollout { name, to, .. } = &s.what {
                f.evidence.push((s.at, format!("{name} came up on {to}")));
            }
        }
        out.push(f);
    }
    for (node, list) in downs {
        let lost: Vec<&&Signal> = list
            .iter()
            .filter(|s| matches!(s.what, What::NodeDown { .. }))
            .collect();
        let Some(first) = lost.first() else { continue };
        let name = match &first.what {
            What::NodeDown { name } => name.clone(),
            _ => node.clone(),
        };
        let kind = if lost.len() >= 2 {
            Kind::NodeFlapping
        } else {
            Kind::NodeLost
        };
        let title = if lost.len() >= 2 {
            format!("node {name} lost {} times", lost.len())
        } else {
            format!("node {name} lost")
        };
        let mut f = finding(
            kind,
            first.at,
            first.subject.clone(),
            title,
            Jump::Node { id: node },
        );
        f.last = list.last().map_or(first.at, |s| s.at);
        f.count = lost.len() as u32;
        f.weight = lost.len() as f64 + 1.0;
        for s in list.iter().take(EVIDENCE) {
            let text = match &s.what {
                What::NodeDown { .. } => "unreachable",
                _ => "back",
            };
            f.evidence.push((s.at, text.to_string()));
        }
        out.push(f);
    }
    for (id, list) in checks {
        let failed: Vec<&&Signal> = list
            .iter()
            .filter(|s| matches!(s.what, What::CheckFailed { .. }))
            .collect();
        let Some(first) = failed.first() else {
            continue;
        };
        let (name, output) = match &first.what {
            What::CheckFailed { name, output, .. } => (name.clone(), output.clone()),
            _ => Default::default(),
        };
        let flapping = list.len() >= 3;
        let kind = if flapping {
            Kind::CheckFlapping
        } else {
            Kind::CheckFailing
        };
        let title = if flapping {
            format!(
                "check {name} on {} flapping ({} changes)",
                place(&first.subject),
                list.len()
            )
        } else {
            format!(
                "check {name} on {} failing: {output}",
                place(&first.subject)
            )
        };
        let mut f = finding(
            kind,
            first.at,
            first.subject.clone(),
            title,
            Jump::Check { id },
        );
        f.last = list.last().map_or(first.at, |s| s.at);
        f.count = failed.len() as u32;
        f.weight = 1.0;
        for s in list.iter().take(EVIDENCE) {
            let text = match &s.what {
                What::CheckFailed { output, .. } => format!("failing: {output}"),
                _ => "passing".to_string(),
            };
            f.evidence.push((s.at, text));
        }
        out.push(f);
    }
    for (what, list) in missing {
        let first = list[0];
        let detail = match &first.what {
            What::Missing { detail, .. } => detail.clone(),
            _ => String::new(),
        };
        let mut f = finding(
            Kind::MissingData,
            first.at,
            Subject::default(),
            format!("{what}: {detail}"),
            Jump::Logs {
                task: None,
                node: None,
                at: first.at,
            },
        );
        f.count = list.len() as u32;
        f.last = list.last().map_or(first.at, |s| s.at);
        for s in list.iter().take(EVIDENCE) {
            if let What::Missing { detail, .. } = &s.what {
                f.evidence.push((s.at, detail.clone()));
            }
        }
        out.push(f);
    }
}

/// A group's tasks that ended failed, killed or lost.
fn task_endings(group: &str, list: &[&Signal]) -> Finding {
    let first = list[0];
    let oom = list.iter().any(|s| match &s.what {
        What::TaskEnded { message, .. } => message.contains("OOM") || message.contains("OOMKilled"),
        _ => false,
    });
    let nodes: BTreeSet<&str> = list
        .iter()
        .filter_map(|s| s.subject.node.as_deref())
        .collect();
    let tasks: BTreeSet<&str> = list
        .iter()
        .filter_map(|s| s.subject.task.as_deref())
        .collect();
    let subject = Subject {
        task: (tasks.len() == 1).then(|| tasks.iter().next().unwrap().to_string()),
        node: (nodes.len() == 1).then(|| nodes.iter().next().unwrap().to_string()),
        group: first.subject.group.clone(),
    };
    let (state, message, name) = match &first.what {
        What::TaskEnded {
            state,
            message,
            name,
        } => (*state, message.clone(), name.clone()),
        _ => (TaskState::Failed, String::new(), String::new()),
    };
    let how = if oom {
        "OOM-killed".to_string()
    } else {
        state.as_str().to_string()
    };
    let kind = if list.len() >= 3 {
        Kind::CrashLoop
    } else {
        Kind::TaskFailed
    };
    let title = if list.len() == 1 {
        let on = subject
            .node
            .as_deref()
            .map(|n| format!(" on {n}"))
            .unwrap_or_default();
        format!("{name} ({group}) {how}{on}: {message}")
    } else {
        format!(
            "{} tasks of {group} ended ({how} first): {message}",
            list.len()
        )
    };
    let last = list.last().expect("not empty");
    let mut f = finding(
        kind,
        first.at,
        subject,
        title,
        Jump::Task {
            id: first.subject.task.clone().unwrap_or_default(),
        },
    );
    f.last = last.at;
    f.count = list.len() as u32;
    f.weight = list.len() as f64 + if oom { 2.0 } else { 0.0 };
    for s in list.iter().take(EVIDENCE) {
        if let What::TaskEnded {
            name,
            state,
            message,
        } = &s.what
        {
            let on = s.subject.node.as_deref().unwrap_or("?");
            f.evidence.push((
                s.at,
                format!("{name} {} on {on}: {message}", state.as_str()),
            ));
        }
    }
    f
}
