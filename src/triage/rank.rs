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
    raw.sort_by(|a, b| {
        (a.at, a.kind, &a.title).cmp(&(b.at, b.kind, &b.title))
    });
    let n = raw.len();
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
        if raw[i].class == Class::Change {
            let followers: Vec<usize> = (0..n)
                .filter(|&j| j != i && raw[j].class != Class::Missing)
                .filter(|&j| {
                    raw[j].at >= raw[i].at
                        && raw[j].at - raw[i].at <= FOLLOWS_WITHIN
                        && raw[j].subject.meets(&raw[i].subject)
                })
                .collect();
            if !followers.is_empty() {
                let bonus = (followers.len() as f64 * PER_FOLLOWER).min(MAX_FOLLOWERS_BONUS);
                score += bonus;
                let named: Vec<String> = followers
                    .iter()
                    .take(3)
                    .map(|&j| format!("{} {} later", raw[j].kind.label(), minutes(raw[j].at - raw[i].at)))
                    .collect();
                parts.push(format!(
                    "+{bonus:.0}: followed by {} finding{} on the same task, node or group ({}{})",
                    followers.len(),
                    if followers.len() == 1 { "" } else { "s" },
                    named.join(", "),
                    if followers.len() > 3 { ", …" } else { "" }
                ));
            }
        }
        raw[i].score = score;
        raw[i].parts.splice(0..0, parts);
    }
    // Related findings, grouped: same subject, close in time.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..n {
        if raw[i].class == Class::Missing {
            continue;
        }
        for j in i + 1..n {
            if raw[j].class != Class::Missing
                && raw[j].at - raw[i].at <= FOLLOWS_WITHIN
                && raw[i].subject.meets(&raw[j].subject)
            {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of = vec![usize::MAX; n];
    for i in 0..n {
        let r = root(&mut parent, i);
        if group_of[r] == usize::MAX {
            group_of[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[group_of[r]].push(i);
    }
    // A group's head: its first change, else its first symptom; its rank
    // is its best score.
    let mut ordered: Vec<(f64, usize, Vec<usize>)> = groups
        .into_iter()
        .map(|members| {
            let head = members
                .iter()
                .copied()
                .find(|&i| raw[i].class == Class::Change)
                .unwrap_or(members[0]);
            let best = members.iter().map(|&i| raw[i].score).fold(f64::MIN, f64::max);
            let rest = members.into_iter().filter(|&i| i != head).collect();
            (best, head, rest)
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
            finding
                .parts
                .push(format!("ranked at {best:.0}, the best score of the findings grouped under it"));
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

fn size(f: &Finding) -> String {
    match f.kind {
        Kind::ErrorSpike | Kind::MetricShift | Kind::DiskFilling | Kind::LatencyShift => {
            format!("{:.1} deviations from its baseline", f.weight)
        }
        _ => format!("{} seen", f.count),
    }
}
