//! Ranking: a change is a candidate cause and ranks above any symptom (as
//! Datadog Watchdog refuses to call a symptom a root cause); a change that
//! shortly precedes findings on the same task, node or group ranks higher
//! for each; related findings are grouped under the first of them, the
//! "first failure". Every point of a score is said in words.

use super::timeline::MINUTE;
use super::{Class, Finding, Kind, MAX_FINDINGS};
use crate::api::UnixMillis;

/// How soon after a change a finding on the same subject counts as its
/// consequence, and how close related findings are grouped.
const FOLLOWS_WITHIN: UnixMillis = 10 * MINUTE;
const PER_FOLLOWER: f64 = 15.0;
const MAX_FOLLOWERS_BONUS: f64 = 45.0;
/// What a change as common as in its baseline loses.
const NOISE: f64 = 45.0;

fn base(class: Class) -> (f64, &'static str) {
    match class {
        Class::Change => (60.0, "a change, so a candidate cause"),
        Class::Symptom => (30.0, "a symptom"),
        Class::Missing => (25.0, "data that did not arrive"),
    }
}

fn minutes(ms: UnixMillis) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m", s / 60)
    }
}

/// Scores, groups and orders `raw`; keeps [`MAX_FINDINGS`] and says how
/// many more there were.
pub fn rank(mut raw: Vec<Finding>) -> (Vec<Finding>, usize) {
    raw.sort_by(|a, b| (a.at, a.kind, &a.title).cmp(&(b.at, b.kind, &b.title)));
    let n = raw.len();
    // Each finding is credited to the nearest change before it on the
    // same task, node or group: a symptom is the consequence of the
    // latest change that could explain it, not of every earlier one.
    let mut credited: Vec<Vec<usize>> = vec![Vec::new(); n];
    for j in 0..n {
        if raw[j].class == Class::Missing {
            continue;
        }
        let cause = (0..n)
            // A change follows from another only when that one changed a
            // whole group or node (tasks lost with their node); two task
            // deaths are two stories.
            .filter(|&i| i != j && raw[i].class == Class::Change)
            .filter(|&i| raw[j].class != Class::Change || broad(raw[i].kind) && !broad(raw[j].kind))
            .filter(|&i| {
                raw[i].at <= raw[j].at + resolution(raw[j].kind)
                    && raw[j].at - raw[i].at <= FOLLOWS_WITHIN
                    && explains(&raw[i], &raw[j])
            })
            // A change to a whole group or node (a rollout, a node lost, a
            // disk filling) explains what follows on it better than one
            // task's end that happened in between.
            .max_by_key(|&i| (broad(raw[i].kind), raw[i].at, std::cmp::Reverse(i)));
        if let Some(i) = cause {
            credited[i].push(j);
        }
    }
    for i in 0..n {
        let (points, why) = base(raw[i].class);
        let mut score = points;
        let mut parts = vec![format!("+{points:.0}: {why}")];
        if raw[i].kind == Kind::Rollout {
            score += 10.0;
            parts.push("+10: a deploy, the commonest cause".into());
        }
        let magnitude = (raw[i].weight.max(0.0).ln_1p() * 6.0).min(20.0);
        if magnitude >= 0.5 {
            score += magnitude;
            parts.push(format!("+{magnitude:.0}: its size ({})", size(&raw[i])));
        }
        if let Some(noise) = &raw[i].noise {
            score -= NOISE;
            parts.push(format!("-{NOISE:.0}: {noise}, so likely everyday noise"));
        }
        let followers = &credited[i];
        if !followers.is_empty() {
            let bonus = (followers.len() as f64 * PER_FOLLOWER).min(MAX_FOLLOWERS_BONUS);
            score += bonus;
            let named: Vec<String> = followers
                .iter()
                .take(3)
                .map(|&j| {
                    format!(
                        "{} {} later",
                        raw[j].kind.label(),
                        minutes(raw[j].at - raw[i].at)
                    )
                })
                .collect();
            parts.push(format!(
                "+{bonus:.0}: followed by {} finding{} on the same task, node or group, with no nearer change before them ({}{})",
                followers.len(),
                if followers.len() == 1 { "" } else { "s" },
                named.join(", "),
                if followers.len() > 3 { ", …" } else { "" }
            ));
        }
        raw[i].score = score;
        raw[i].parts.splice(0..0, parts);
    }
    // Groups: a finding goes under the change it is credited to (and
    // that one under its own cause, if it has one); findings credited to
    // no change are grouped by subject, under the first of them: the
    // "first failure".
    let mut parent: Vec<usize> = (0..n).collect();
    for (i, followers) in credited.iter().enumerate() {
        for &j in followers {
            parent[j] = i;
        }
    }
    let top = |mut i: usize| {
        let mut steps = 0;
        while parent[i] != i && steps < n {
            i = parent[i];
            steps += 1;
        }
        i
    };
    let mut roots: Vec<usize> = (0..n).map(top).collect();
    for i in 0..n {
        if roots[i] != i || raw[i].class == Class::Missing || raw[i].class == Class::Change {
            continue;
        }
        // An uncredited symptom: under an earlier uncredited one it meets.
        if let Some(first) = (0..i).find(|&h| {
            roots[h] == h
                && raw[h].class == Class::Symptom
                && raw[i].at - raw[h].at <= FOLLOWS_WITHIN
                && raw[h].subject.meets(&raw[i].subject)
        }) {
            roots[i] = first;
        }
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        let root = if roots[i] != i { roots[roots[i]] } else { i };
        if root != i {
            members[root].push(i);
        }
    }
    let mut ordered: Vec<(f64, usize, Vec<usize>)> = (0..n)
        .filter(|&i| {
            let root = if roots[i] != i { roots[roots[i]] } else { i };
            root == i
        })
        .map(|head| {
            let best = members[head]
                .iter()
                .map(|&i| raw[i].score)
                .fold(raw[head].score, f64::max);
            (best, head, std::mem::take(&mut members[head]))
        })
        .collect();
    ordered.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| raw[a.1].at.cmp(&raw[b.1].at))
            .then_with(|| raw[a.1].title.cmp(&raw[b.1].title))
    });
    let mut slots: Vec<Option<Finding>> = raw.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(n.min(MAX_FINDINGS));
    for (best, head, rest) in ordered {
        let head_rank = out.len();
        let mut finding = slots[head].take().expect("each finding is placed once");
        if best > finding.score {
            finding.parts.push(format!(
                "ranked at {best:.0}, the best score of the findings grouped under it"
            ));
        }
        out.push(finding);
        for i in rest {
            let mut member = slots[i].take().expect("each finding is placed once");
            member.under = Some(head_rank);
            out.push(member);
        }
    }
    let left_out = out.len().saturating_sub(MAX_FINDINGS);
    out.truncate(MAX_FINDINGS);
    (out, left_out)
}

/// How exactly a finding's time is known: to the minute for what is
/// counted or averaged per minute, so a change within that minute may
/// still come before it.
fn resolution(kind: Kind) -> UnixMillis {
    match kind {
        Kind::ErrorSpike
        | Kind::MetricShift
        | Kind::DiskFilling
        | Kind::LatencyShift
        | Kind::TraceErrors
        | Kind::NewTraceError => MINUTE,
        _ => 0,
    }
}

/// Whether `change` could explain `finding`: a change to a whole group or
/// node, anything on it; one task's change, what is on that task, on its
/// group, or on its node but of no other task (another task's trouble on
/// the same node is not this task's doing, unless it hogs the CPU).
fn explains(change: &Finding, finding: &Finding) -> bool {
    // A task hogging its node's CPU takes it from every task there.
    if broad(change.kind) || change.kind == Kind::CpuHog {
        return change.subject.meets(&finding.subject);
    }
    let (c, f) = (&change.subject, &finding.subject);
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    same(&c.task, &f.task) || same(&c.group, &f.group) || f.task.is_none() && same(&c.node, &f.node)
}

/// Whether a change is to a whole group or node.
fn broad(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Rollout | Kind::NodeLost | Kind::NodeFlapping | Kind::DiskFilling
    )
}

fn size(f: &Finding) -> String {
    match f.kind {
        Kind::ErrorSpike | Kind::MetricShift | Kind::DiskFilling | Kind::LatencyShift => {
            format!("{:.1} deviations from its baseline", f.weight)
        }
        Kind::CpuHog => format!("{:.0} times its usual CPU", f.weight),
        _ => format!("{} seen", f.count),
    }
}
