//! Discrete changes: tasks that ended (by group, why and episode, with
//! everyday noise told apart; a pod's restarts among them), rollouts,
//! nodes lost, checks that turned, exec sessions, missing data.

use std::collections::{BTreeMap, BTreeSet};

use super::{EVIDENCE, MIN_BASELINE, finding, place};
use crate::api::{TaskState, UnixMillis};
use crate::triage::timeline::{Bucket, Ended, MINUTE, Signal, Subject, What};
use crate::triage::{Finding, Jump, Kind};

/// What a signal is, for a total order of signals at one time and place.
fn order(what: &What) -> (u8, &str) {
    match what {
        What::TaskEnded { message, .. } => (0, message),
        What::Rollout { to, .. } => (2, to),
        What::NodeDown { name, .. } => (3, name),
        What::NodeUp { name } => (4, name),
        What::CheckFailed { id, .. } => (5, id),
        What::CheckPassed { id, .. } => (6, id),
        What::Exec { command, .. } => (7, command),
        What::Missing { detail, .. } => (8, detail),
        What::CpuJump { name, .. } => (9, name),
    }
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
    all.sort_by(|a, b| (a.at, &a.subject, order(&a.what)).cmp(&(b.at, &b.subject, order(&b.what))));
    let rolled: BTreeSet<&str> = all
        .iter()
        .filter(|s| matches!(s.what, What::Rollout { .. }))
        .filter_map(|s| s.subject.group.as_deref())
        .collect();
    // By what they are about.
    let mut rollouts: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut downs: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut checks: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut missing: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let mut hogs: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
    let group_of = |s: &Signal| {
        s.subject
            .group
            .clone()
            .or_else(|| s.subject.task.clone())
            .unwrap_or_default()
    };
    for s in &all {
        match &s.what {
            // Counted in their minutes' buckets (below).
            What::TaskEnded { .. } => {}
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
            What::CpuJump { .. } => hogs
                .entry(s.subject.task.clone().unwrap_or_default())
                .or_default()
                .push(s),
        }
    }
    endings(window, baseline, held_from, &rolled, out);
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
        let (name, unreachable) = match &first.what {
            What::NodeDown { name, unreachable } => (name.clone(), *unreachable),
            _ => (node.clone(), false),
        };
        // Its tasks lost with it: the node is gone, not just unwell.
        let near = |m: i64| (m * MINUTE - first.at).abs() <= 2 * MINUTE;
        let unreachable = unreachable
            || window.iter().filter(|(m, _)| near(*m)).any(|(_, b)| {
                b.endings.iter().any(|((_, why), e)| {
                    why.starts_with("lost ")
                        && (e.nodes.contains(&node)
                            || e.examples
                                .iter()
                                .any(|s| s.subject.node.as_ref() == Some(&node)))
                })
            });
        // Unreachable is a change (its tasks go with it); unhealthy and
        // still answering is how something else shows on it.
        let (kind, how) = match (lost.len() >= 2, unreachable) {
            (true, _) => (Kind::NodeFlapping, "lost"),
            (false, true) => (Kind::NodeLost, "lost"),
            (false, false) => (Kind::NodeUnhealthy, "unhealthy"),
        };
        let title = if lost.len() >= 2 {
            format!("node {name} lost {} times", lost.len())
        } else {
            format!("node {name} {how}")
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
                What::NodeDown {
                    unreachable: true, ..
                } => "unreachable",
                What::NodeDown { .. } => "unhealthy",
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
    for (task, list) in hogs {
        out.push(cpu_hog(task, &list));
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

/// A task's CPU jumps in the window: one finding, from the first.
fn cpu_hog(task: String, list: &[&Signal]) -> Finding {
    let first = list[0];
    let cores = |what: &What| match what {
        What::CpuJump {
            name,
            from,
            to,
            limit,
        } => (name.clone(), *from, *to, *limit),
        _ => Default::default(),
    };
    let (name, from, to, limit) = cores(&first.what);
    let limit = if limit > 0.0 {
        format!(", its limit {limit:.1}")
    } else {
        ", no limit".to_string()
    };
    let mut f = finding(
        Kind::CpuHog,
        first.at,
        first.subject.clone(),
        format!(
            "{name}{} on {} took {to:.1} cores (usually {from:.1}{limit})",
            first
                .subject
                .group
                .as_ref()
                .map_or(String::new(), |g| format!(" ({g})")),
            first.subject.node.as_deref().unwrap_or("its node")
        ),
        Jump::Task { id: task },
    );
    f.last = list.last().map_or(first.at, |s| s.at);
    f.count = list.len() as u32;
    f.weight = to / from.max(0.1);
    for s in list.iter().take(EVIDENCE) {
        let (_, from, to, _) = cores(&s.what);
        f.evidence
            .push((s.at, format!("{to:.1} cores, up from {from:.1}")));
    }
    f
}

/// Minutes between endings of one kind that make them two episodes.
const EPISODE_GAP_MINUTES: i64 = 3;

/// Tasks that ended, by group and why, in episodes: a crash loop is one;
/// an OOM kill an hour after the last is another story, and fewer than 3
/// in an episode are each a story of their own. A kind of ending as
/// common in the baseline is likely everyday noise, and says so.
fn endings(
    window: &[(i64, &Bucket)],
    baseline: &[(i64, &Bucket)],
    held_from: i64,
    rolled: &BTreeSet<&str>,
    out: &mut Vec<Finding>,
) {
    let mut ended: BTreeMap<&(String, String), Vec<(i64, &Ended)>> = BTreeMap::new();
    for (minute, bucket) in window {
        for (key, e) in &bucket.endings {
            ended.entry(key).or_default().push((*minute, e));
        }
    }
    let held_window = window.len().max(1) as f64;
    for (key, minutes) in ended {
        let (group, why) = key;
        // A rollout's replacements are the rollout's, not failures.
        if why.starts_with("killed ") && rolled.contains(group.as_str()) {
            continue;
        }
        let total: u32 = minutes.iter().map(|(_, e)| e.count).sum();
        let noise = if baseline.len() >= MIN_BASELINE {
            let before: u32 = baseline
                .iter()
                .filter_map(|(_, b)| b.endings.get(key))
                .map(|e| e.count)
                .sum();
            let rate = before as f64 / baseline.len() as f64;
            (before >= 2 && rate * held_window >= total as f64 / 2.0).then(|| {
                format!(
                    "as common in the baseline ({before} in {} minutes)",
                    baseline.len()
                )
            })
        } else {
            let early = minutes[0].0 < held_from + MIN_BASELINE as i64;
            (early && total >= 3).then(|| "already happening when the data began".to_string())
        };
        let mut start = 0;
        for i in 1..=minutes.len() {
            if i < minutes.len() && minutes[i].0 - minutes[i - 1].0 <= EPISODE_GAP_MINUTES {
                continue;
            }
            let episode = &minutes[start..i];
            start = i;
            let count: u32 = episode.iter().map(|(_, e)| e.count).sum();
            let mut examples: Vec<&Signal> =
                episode.iter().flat_map(|(_, e)| &e.examples).collect();
            examples.sort_by(|a, b| (a.at, &a.subject.task).cmp(&(b.at, &b.subject.task)));
            let stories: Vec<Finding> = if count < 3 {
                examples
                    .iter()
                    .map(|s| {
                        let nodes = s.subject.node.iter().cloned().collect();
                        let tasks = s.subject.task.iter().cloned().collect();
                        let one = Places {
                            nodes,
                            tasks,
                            more: false,
                        };
                        task_endings(group, &[*s], 1, &one, s.at)
                    })
                    .collect()
            } else {
                let mut places = Places::default();
                for (_, e) in episode {
                    places.nodes.extend(e.nodes.iter().cloned());
                    places.tasks.extend(e.tasks.iter().cloned());
                    places.more |= e.more_nodes || e.more_tasks;
                }
                let last = episode.iter().map(|(_, e)| e.last).max().unwrap_or(0);
                vec![task_endings(group, &examples, count, &places, last)]
            };
            for mut f in stories {
                f.noise = noise.clone();
                out.push(f);
            }
        }
    }
}

/// The nodes and tasks endings were of, the first few (`more`: and more).
#[derive(Default)]
struct Places {
    nodes: BTreeSet<String>,
    tasks: BTreeSet<String>,
    more: bool,
}

/// Endings of a group's tasks, one way: `examples` the first of them,
/// `count` in all, of the tasks and on the nodes of `places`.
fn task_endings(
    group: &str,
    examples: &[&Signal],
    count: u32,
    places: &Places,
    last: UnixMillis,
) -> Finding {
    let first = examples[0];
    let oom = match &first.what {
        What::TaskEnded { message, .. } => message.contains("OOM"),
        _ => false,
    };
    let only = |set: &BTreeSet<String>| {
        (set.len() == 1 && !places.more)
            .then(|| set.first().cloned())
            .flatten()
    };
    let subject = Subject {
        task: only(&places.tasks),
        node: only(&places.nodes),
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
    let kind = if count >= 3 {
        Kind::CrashLoop
    } else {
        Kind::TaskFailed
    };
    let on = subject
        .node
        .as_deref()
        .map(|n| format!(" on {n}"))
        .unwrap_or_default();
    let title = match (count, &subject.task) {
        (1, _) => format!("{name} ({group}) {how}{on}: {message}"),
        (_, Some(_)) => format!("{name} ({group}) {how} {count} times{on}: {message}"),
        _ if places.tasks.len() as u32 == count => {
            format!("{count} tasks of {group} {how}: {message}")
        }
        // Which tasks, past the first few, is not kept.
        _ => format!("{count} endings in {group}, {how}: {message}"),
    };
    let mut f = finding(
        kind,
        first.at,
        subject,
        title,
        Jump::Task {
            id: first.subject.task.clone().unwrap_or_default(),
        },
    );
    f.last = last;
    f.count = count;
    f.weight = count as f64 + if oom { 2.0 } else { 0.0 };
    for s in examples.iter().take(EVIDENCE) {
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
