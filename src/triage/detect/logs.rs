//! Error lines: a source's rate out of its baseline, and signatures the
//! baseline never saw.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{EVIDENCE, MAX_NEW_ERRORS, MIN_BASELINE, SPIKE_Z, Span, finding, median_mad};
use crate::triage::timeline::{Bucket, Line, MINUTE};
use crate::triage::{Finding, Jump, Kind};

/// How far `count` stands out of `base`'s per-minute counts (robust z,
/// with a floor for counts near zero), and the baseline's median.
fn stands_out(count: f64, base: &[f64]) -> (f64, f64) {
    let (m, mad) = median_mad(base);
    ((count - m) / (1.4826 * mad + m.sqrt() + 1.0), m)
}

/// A source's error rate against its baseline: from the first minute
/// that stands out of it. With too little baseline held, a minute stands
/// out of the window's minutes before it.
pub(super) fn error_spikes(
    window: &[(i64, &Bucket)],
    baseline: &[(i64, &Bucket)],
    span: &Span,
    out: &mut Vec<Finding>,
) {
    let sources: BTreeSet<&String> = window.iter().flat_map(|(_, b)| b.errors.keys()).collect();
    let full = baseline.len() >= MIN_BASELINE;
    // Each source's signatures, by window position, in one pass.
    type Seen<'a> = (usize, &'a String, u32, &'a Line);
    let mut by_source: HashMap<&str, Vec<Seen>> = HashMap::new();
    for (k, (_, b)) in window.iter().enumerate() {
        for (sig, seen) in &b.signatures {
            by_source
                .entry(seen.first.source.as_str())
                .or_default()
                .push((k, sig, seen.count, &seen.first));
        }
    }
    for source in sources {
        let count = |b: &Bucket| b.errors.get(source).copied().unwrap_or(0) as f64;
        let counts: Vec<f64> = window.iter().map(|(_, b)| count(b)).collect();
        let base: Vec<f64> = baseline.iter().map(|(_, b)| count(b)).collect();
        let (m, mad) = median_mad(&base);
        let onset = (0..counts.len()).find(|&k| {
            if full {
                (counts[k] - m) / (1.4826 * mad + m.sqrt() + 1.0) >= SPIKE_Z
            } else {
                k >= 2 && stands_out(counts[k], &counts[..k]).0 >= SPIKE_Z
            }
        });
        let Some(onset) = onset else { continue };
        let before = if full { base } else { counts[..onset].to_vec() };
        let after = &counts[onset..];
        let total = after.iter().sum::<f64>() as u32;
        let mean = total as f64 / after.len() as f64;
        let (z, m) = stands_out(mean, &before);
        if total < 5 || z < SPIKE_Z {
            continue;
        }
        let onset_minute = window[onset].0;
        // The source's lines from the onset, for the subject and evidence.
        let mut lines: Vec<(&String, u32, &Line)> = by_source
            .get(source.as_str())
            .into_iter()
            .flatten()
            .filter(|(k, ..)| *k >= onset)
            .map(|(_, sig, count, line)| (*sig, *count, *line))
            .collect();
        lines.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let first = lines
            .iter()
            .map(|(_, _, l)| *l)
            .min_by_key(|l| (l.at, &l.message));
        let subject = first.map(|l| l.subject.clone()).unwrap_or_default();
        let at = first.map_or(onset_minute * MINUTE, |l| l.at);
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
                "baseline: the {} minutes held before it began (too little history held)",
                before.len()
            ));
        }
        for (_, count, line) in lines.iter().take(EVIDENCE) {
            f.evidence
                .push((line.at, format!("×{count} {}", line.message)));
        }
        out.push(f);
    }
}

/// Error signatures the baseline never saw; with too little baseline
/// held, those first seen at least [`MIN_BASELINE`] minutes after `start`,
/// the first minute held in the window.
pub(super) fn new_errors(
    window: &[(i64, &Bucket)],
    baseline: &[(i64, &Bucket)],
    start: i64,
    out: &mut Vec<Finding>,
) {
    let known: BTreeSet<&String> = baseline
        .iter()
        .flat_map(|(_, b)| b.signatures.keys())
        .collect();
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
            !known.contains(sig) && (full || *first_minute >= start + MIN_BASELINE as i64)
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
