//! The detectors: each reads the window's and the baseline's buckets and
//! says what it found, with its evidence and where it points. None keeps
//! state; each is deterministic in its input (ties broken by name).

use std::collections::{BTreeMap, BTreeSet};

use super::timeline::{Bucket, Line, MINUTE, Signal, Subject, Timeline, What, minute_of};
use super::{Finding, Jump, Kind};
use crate::api::{TaskState, UnixMillis};

/// The window's minutes `[from, to)` and the baseline's `[baseline, from)`.
pub struct Span {
    pub from: i64,
    pub to: i64,
    pub baseline: i64,
}

/// Fewest baseline minutes a comparison trusts; with fewer, the window's
/// own minutes before the onset stand in (a console up a short while).
const MIN_BASELINE: usize = 3;
/// How far out of its baseline a rate or metric must be (robust z).
const SPIKE_Z: f64 = 3.0;
const SHIFT_Z: f64 = 4.0;
/// New error signatures reported at most (the most frequent).
const MAX_NEW_ERRORS: usize = 30;
/// Evidence lines a finding carries.
const EVIDENCE: usize = 5;

pub fn detect(t: &Timeline, span: &Span) -> Vec<Finding> {
    let held_from = t.held_since.map_or(span.to, minute_of);
    let window: Vec<(i64, &Bucket)> = t.minutes(span.from, span.to).collect();
    let baseline: Vec<(i64, &Bucket)> = t.minutes(span.baseline.max(held_from), span.from).collect();
    let mut out = Vec::new();
    signals(&window, &mut out);
    error_spikes(&window, &baseline, span, &mut out);
    new_errors(&window, &baseline, span, &mut out);
    metrics(t, span, held_from, &mut out);
    traces(&window, &baseline, &mut out);
    out
}

fn finding(kind: Kind, at: UnixMillis, subject: Subject, title: String, jump: Jump) -> Finding {
    Finding {
        kind,
        class: kind.class(),
        at,
        last: at,
        count: 1,
        subject,
        title,
        evidence: Vec::new(),
        jump,
        score: 0.0,
        parts: Vec::new(),
        under: None,
        weight: 0.0,
    }
}

/// The median and the median absolute deviation of `values`.
pub fn median_mad(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let m = median(&mut values.to_vec());
    let mad = median(&mut values.iter().map(|v| (v - m).abs()).collect());
    (m, mad)
}

/// A subject's name for a title: its task, else its node, else its group.
fn place(subject: &Subject) -> String {
    match (&subject.group, &subject.node) {
        (Some(group), Some(node)) => format!("{group} on {node}"),
        (Some(group), None) => group.clone(),
        (None, Some(node)) => node.clone(),
        (None, None) => subject.task.clone().unwrap_or_else(|| "cluster".into()),
    }
}

/// The discrete signals: tasks, nodes, checks, exec, missing data.
fn signals(window: &[(i64, &Bucket)], out: &mut Vec<Finding>) {
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
    let mut ended: BTreeMap<String, Vec<&Signal>> = BTreeMap::new();
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
            What::TaskEnded { state, .. } => {
                // A rollout's replacements are the rollout's, not failures.
                let replaced = *state == TaskState::Killed
                    && s.subject.group.as_deref().is_some_and(|g| rolled.contains(g));
                if !replaced {
                    ended.entry(group_of(s)).or_default().push(s);
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
                let mut f = finding(kind, s.at, s.subject.clone(), title, Jump::Task { id: task });
                f.evidence.push((s.at, command.clone()));
                f.weight = 1.0;
                out.push(f);
            }
            What::Missing { what, .. } => missing.entry(what.clone()).or_default().push(s),
        }
    }
    for (group, list) in ended {
        out.push(task_endings(&group, &list));
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
            format!("{task} restarted {} times in the window ({restarts} in all)", list.len()),
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
        let mut f = finding(kind, first.at, first.subject.clone(), title, Jump::Node { id: node });
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
        let Some(first) = failed.first() else { continue };
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
            format!("check {name} on {} flapping ({} changes)", place(&first.subject), list.len())
        } else {
            format!("check {name} on {} failing: {output}", place(&first.subject))
        };
        let mut f = finding(kind, first.at, first.subject.clone(), title, Jump::Check { id });
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
    let nodes: BTreeSet<&str> = list.iter().filter_map(|s| s.subject.node.as_deref()).collect();
    let tasks: BTreeSet<&str> = list.iter().filter_map(|s| s.subject.task.as_deref()).collect();
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
        let on = subject.node.as_deref().map(|n| format!(" on {n}")).unwrap_or_default();
        format!("{name} ({group}) {how}{on}: {message}")
    } else {
        format!("{} tasks of {group} ended ({how} first): {message}", list.len())
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
            f.evidence
                .push((s.at, format!("{name} {} on {on}: {message}", state.as_str())));
        }
    }
    f
}

/// Per-minute counts of `minutes`, and the baseline to compare with: the
/// baseline's minutes, or (too few held) the window's before `onset`.
fn baseline_counts(
    baseline: &[(i64, &Bucket)],
    window: &[(i64, u32)],
    onset: i64,
    count: impl Fn(&Bucket) -> u32,
) -> (Vec<f64>, bool) {
    if baseline.len() >= MIN_BASELINE {
        return (baseline.iter().map(|(_, b)| count(b) as f64).collect(), true);
    }
    let before: Vec<f64> = window
        .iter()
        .filter(|(m, _)| *m < onset)
        .map(|(_, n)| *n as f64)
        .collect();
    (before, false)
}

/// A source's error rate against its baseline.
fn error_spikes(window: &[(i64, &Bucket)], baseline: &[(i64, &Bucket)], span: &Span, out: &mut Vec<Finding>) {
    let sources: BTreeSet<&String> = window.iter().flat_map(|(_, b)| b.errors.keys()).collect();
    for source in sources {
        let per_minute: Vec<(i64, u32)> = window
            .iter()
            .map(|(m, b)| (*m, b.errors.get(source).copied().unwrap_or(0)))
            .collect();
        let Some(onset) = per_minute.iter().find(|(_, n)| *n > 0).map(|(m, _)| *m) else {
            continue;
        };
        let (base, full) = baseline_counts(baseline, &per_minute, onset, |b| {
            b.errors.get(source).copied().unwrap_or(0)
        });
        if base.len() < 2 {
            continue;
        }
        let after: Vec<u32> = per_minute.iter().filter(|(m, _)| *m >= onset).map(|(_, n)| *n).collect();
        let total: u32 = after.iter().sum();
        let mean = total as f64 / after.len().max(1) as f64;
        let (m, mad) = median_mad(&base);
        let z = (mean - m) / (1.4826 * mad + m.sqrt() + 1.0);
        if total < 5 || z < SPIKE_Z {
            continue;
        }
        // The source's lines in the window, for the subject and evidence.
        let mut lines: Vec<(&String, u32, &Line)> = window
            .iter()
            .flat_map(|(_, b)| b.signatures.iter())
            .filter(|(_, seen)| &seen.first.source == source)
            .map(|(sig, seen)| (sig, seen.count, &seen.first))
            .collect();
        lines.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let first = lines.iter().map(|(_, _, l)| *l).min_by_key(|l| (l.at, &l.message));
        let subject = first.map(|l| l.subject.clone()).unwrap_or_default();
        let at = first.map_or(onset * MINUTE, |l| l.at);
        let mut f = finding(
            Kind::ErrorSpike,
            at,
            subject.clone(),
            format!("error spike in {source}: {total} errors, {mean:.0}/min against {m:.0}/min"),
            Jump::Logs {
                task: subject.task.clone(),
                node: subject.node.clone(),
                at,
            },
        );
        f.count = total;
        f.last = (span.to - 1) * MINUTE;
        f.weight = z.min(20.0);
        if !full {
            f.parts.push(format!(
                "baseline: the {} minutes before it began (too little history held)",
                base.len()
            ));
        }
        for (_, count, line) in lines.iter().take(EVIDENCE) {
            f.evidence.push((line.at, format!("×{count} {}", line.message)));
        }
        out.push(f);
    }
}

/// Error signatures the baseline never saw.
fn new_errors(window: &[(i64, &Bucket)], baseline: &[(i64, &Bucket)], span: &Span, out: &mut Vec<Finding>) {
    let known: BTreeSet<&String> = baseline.iter().flat_map(|(_, b)| b.signatures.keys()).collect();
    let full = baseline.len() >= MIN_BASELINE;
    // Each signature's count, first line and minute in the window.
    let mut seen: BTreeMap<&String, (u32, &Line, i64)> = BTreeMap::new();
    for (minute, bucket) in window {
        for (sig, s) in &bucket.signatures {
            let entry = seen.entry(sig).or_insert((0, &s.first, *minute));
            entry.0 += s.count;
            if s.first.at < entry.1.at {
                entry.1 = &s.first;
            }
        }
    }
    let mut new: Vec<(&String, u32, &Line)> = seen
        .into_iter()
        .filter(|(sig, (_, _, first_minute))| {
            !known.contains(sig) && (full || *first_minute >= span.from + MIN_BASELINE as i64 - 1)
        })
        .map(|(sig, (count, line, _))| (sig, count, line))
        .collect();
    new.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    for (_, count, line) in new.into_iter().take(MAX_NEW_ERRORS) {
        let mut f = finding(
            Kind::NewError,
            line.at,
            line.subject.clone(),
            format!("new error in {} (×{count}): {}", line.source, line.message),
            Jump::Logs {
                task: line.subject.task.clone(),
                node: line.subject.node.clone(),
                at: line.at,
            },
        );
        f.count = count;
        f.weight = (1.0 + count as f64).log2();
        if !full {
            f.parts
                .push("new since the console began holding data (little history held)".into());
        }
        f.evidence.push((line.at, line.message.clone()));
        out.push(f);
    }
}

/// Node metrics that left their baseline.
fn metrics(t: &Timeline, span: &Span, held_from: i64, out: &mut Vec<Finding>) {
    let mut keys: Vec<_> = t.metrics.keys().collect();
    keys.sort();
    for key in keys {
        let series = &t.metrics[key];
        let window: Vec<(i64, f64)> = (span.from..span.to)
            .filter_map(|m| series.mean(m).map(|v| (m, v)))
            .collect();
        if window.is_empty() {
            continue;
        }
        let base: Vec<f64> = (span.baseline.max(held_from)..span.from)
            .filter_map(|m| series.mean(m))
            .collect();
        // Too little baseline: the window's first third stands in.
        let (base, tested, full) = if base.len() >= MIN_BASELINE {
            (base, &window[..], true)
        } else {
            let k = (window.len() / 3).max(MIN_BASELINE);
            if window.len() <= k {
                continue;
            }
            (window[..k].iter().map(|(_, v)| *v).collect(), &window[k..], false)
        };
        let (m, mad) = median_mad(&base);
        // A floor: a flat series moving by a point is no news.
        let scale = 1.4826 * mad + (0.02 * m.abs()).max(1.0);
        let out_of = |v: f64| (v - m) / scale;
        let Some(&(onset, _)) = tested.iter().find(|(_, v)| out_of(*v).abs() >= SHIFT_Z) else {
            continue;
        };
        let last = tested
            .iter()
            .rev()
            .find(|(_, v)| out_of(*v).abs() >= SHIFT_Z)
            .map_or(onset, |(m, _)| *m);
        let &(_, now_value) = window.last().expect("not empty");
        let peak = tested
            .iter()
            .map(|(_, v)| *v)
            .max_by(|a, b| out_of(*a).abs().total_cmp(&out_of(*b).abs()))
            .unwrap_or(now_value);
        let z = out_of(peak);
        let disk = key.name.contains("disk") && z > 0.0;
        let kind = if disk {
            Kind::DiskFilling
        } else {
            Kind::MetricShift
        };
        let way = if z > 0.0 { "rose" } else { "fell" };
        let subject = Subject {
            node: Some(key.node.clone()),
            ..Default::default()
        };
        let mut f = finding(
            kind,
            onset * MINUTE,
            subject,
            format!(
                "{} on {} {way} to {peak:.1} (baseline median {m:.1}, now {now_value:.1})",
                key.name, key.node
            ),
            Jump::Series {
                node: key.node.clone(),
                name: key.name.clone(),
                at: onset * MINUTE,
            },
        );
        f.last = last * MINUTE;
        f.weight = z.abs().min(20.0);
        if !full {
            f.parts.push(
                "baseline: the window's first minutes (too little history held)".into(),
            );
        }
        for (minute, value) in tested.iter().filter(|(m, _)| *m >= onset).take(EVIDENCE) {
            f.evidence.push((minute * MINUTE, format!("{} mean {value:.1}", key.name)));
        }
        out.push(f);
    }
}

/// Traces: errors where the baseline had none, and latency shifts, per
/// service operation.
fn traces(window: &[(i64, &Bucket)], baseline: &[(i64, &Bucket)], out: &mut Vec<Finding>) {
    let ops: BTreeSet<&(String, String)> = window.iter().flat_map(|(_, b)| b.traces.keys()).collect();
    for op in ops {
        let in_window: Vec<(i64, &super::timeline::TraceMinute)> = window
            .iter()
            .filter_map(|(m, b)| b.traces.get(op).map(|t| (*m, t)))
            .collect();
        let in_baseline: Vec<&super::timeline::TraceMinute> =
            baseline.iter().filter_map(|(_, b)| b.traces.get(op)).collect();
        let subject = Subject {
            group: Some(op.0.clone()),
            ..Default::default()
        };
        let name = format!("{} {}", op.0, op.1);
        let errors: u32 = in_window.iter().map(|(_, t)| t.errors).sum();
        let count: u32 = in_window.iter().map(|(_, t)| t.count).sum();
        let baseline_errors: u32 = in_baseline.iter().map(|t| t.errors).sum();
        if errors >= 2 && baseline_errors == 0 && in_baseline.len() >= MIN_BASELINE
            && let Some((minute, with)) = in_window.iter().find(|(_, t)| t.errors > 0)
        {
            let id = with.error_trace.clone().unwrap_or_default();
            let mut f = finding(
                Kind::TraceErrors,
                minute * MINUTE,
                subject.clone(),
                format!("errors in {name}: {errors} of {count} traces, none in the baseline"),
                Jump::Trace { id: id.clone() },
            );
            f.count = errors;
            f.weight = (1.0 + errors as f64).log2();
            f.evidence.push((minute * MINUTE, format!("trace {id}")));
            out.push(f);
        }
        let means: Vec<f64> = in_baseline
            .iter()
            .map(|t| t.duration_sum_us as f64 / t.count.max(1) as f64)
            .collect();
        if means.len() < MIN_BASELINE {
            continue;
        }
        let (m, mad) = median_mad(&means);
        let scale = 1.4826 * mad + 0.05 * m + 1.0;
        let shifted: Vec<&(i64, &super::timeline::TraceMinute)> = in_window
            .iter()
            .filter(|(_, t)| {
                let mean = t.duration_sum_us as f64 / t.count.max(1) as f64;
                (mean - m) / scale >= SHIFT_Z && mean >= 1.5 * m
            })
            .collect();
        if let Some((minute, first)) = shifted.first() {
            let mean = first.duration_sum_us as f64 / first.count.max(1) as f64;
            let (slowest, id) = first.slowest.clone().unwrap_or_default();
            let mut f = finding(
                Kind::LatencyShift,
                minute * MINUTE,
                subject,
                format!("{name} slower: {:.1} ms mean against {:.1} ms", mean / 1000.0, m / 1000.0),
                Jump::Trace { id: id.clone() },
            );
            f.count = shifted.len() as u32;
            f.last = shifted.last().map_or(*minute, |(m, _)| *m) * MINUTE;
            f.weight = ((mean - m) / scale).min(20.0);
            f.evidence
                .push((minute * MINUTE, format!("slowest {:.1} ms: trace {id}", slowest as f64 / 1000.0)));
            out.push(f);
        }
    }
}
