//! Traces per service operation: errors where the baseline had none, an
//! error the baseline never saw, and latency out of its baseline.

use std::collections::BTreeSet;

use super::{MIN_BASELINE, SHIFT_Z, finding, median_mad};
use crate::triage::timeline::{Bucket, MINUTE, Subject, TraceError, TraceMinute};
use crate::triage::{Finding, Jump, Kind};

/// Traces: errors where the baseline had none, and latency shifts, per
/// service operation.
pub(super) fn traces(
    window: &[(i64, &Bucket)],
    baseline: &[(i64, &Bucket)],
    start: i64,
    out: &mut Vec<Finding>,
) {
    let ops: BTreeSet<&(String, String)> =
        window.iter().flat_map(|(_, b)| b.traces.keys()).collect();
    for op in ops {
        let in_window: Vec<(i64, &TraceMinute)> = window
            .iter()
            .filter_map(|(m, b)| b.traces.get(op).map(|t| (*m, t)))
            .collect();
        let in_baseline: Vec<&TraceMinute> = baseline
            .iter()
            .filter_map(|(_, b)| b.traces.get(op))
            .collect();
        let subject = Subject {
            group: Some(op.0.clone()),
            ..Default::default()
        };
        let name = format!("{} {}", op.0, op.1);
        let errors: u32 = in_window.iter().map(|(_, t)| t.errors).sum();
        let count: u32 = in_window.iter().map(|(_, t)| t.count).sum();
        let baseline_errors: u32 = in_baseline.iter().map(|t| t.errors).sum();
        if errors >= 2
            && baseline_errors == 0
            && in_baseline.len() >= MIN_BASELINE
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
        new_signatures(&name, &subject, &in_window, &in_baseline, start, out);
        let means: Vec<f64> = in_baseline
            .iter()
            .map(|t| t.duration_sum_us as f64 / t.count.max(1) as f64)
            .collect();
        if means.len() < MIN_BASELINE {
            continue;
        }
        let (m, mad) = median_mad(&means);
        let scale = 1.4826 * mad + 0.05 * m + 1.0;
        let shifted: Vec<&(i64, &TraceMinute)> = in_window
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
                format!(
                    "{name} slower: {:.1} ms mean against {:.1} ms",
                    mean / 1000.0,
                    m / 1000.0
                ),
                Jump::Trace { id: id.clone() },
            );
            f.count = shifted.len() as u32;
            f.last = shifted.last().map_or(*minute, |(m, _)| *m) * MINUTE;
            f.weight = ((mean - m) / scale).min(20.0);
            f.evidence.push((
                minute * MINUTE,
                format!("slowest {:.1} ms: trace {id}", slowest as f64 / 1000.0),
            ));
            out.push(f);
        }
    }
}

/// New error signatures told per operation, at most.
const NEW_PER_OPERATION: usize = 3;

/// Errors of an operation whose signature (numbers, ids masked) the
/// baseline never saw: a new way to fail, even where failing is usual.
/// With too little baseline held (as for new error lines), those first
/// seen at least [`MIN_BASELINE`] minutes after `start`, the first minute
/// held in the window.
fn new_signatures(
    name: &str,
    subject: &Subject,
    window: &[(i64, &TraceMinute)],
    baseline: &[&TraceMinute],
    start: i64,
    out: &mut Vec<Finding>,
) {
    let full = baseline.len() >= MIN_BASELINE;
    let mut known: BTreeSet<&String> = baseline.iter().flat_map(|t| t.signatures.keys()).collect();
    if !full {
        // What came in the first minutes held is the everyday.
        let early = window
            .iter()
            .filter(|(m, _)| *m < start + MIN_BASELINE as i64);
        known.extend(early.flat_map(|(_, t)| t.signatures.keys()));
    }
    // Each new signature from the minute it first came, with its count.
    let mut new: Vec<(&String, i64, u32, &TraceError)> = Vec::new();
    for (minute, t) in window {
        for (sig, error) in &t.signatures {
            if known.contains(sig) {
                continue;
            }
            match new.iter_mut().find(|n| n.0 == sig) {
                Some(n) => n.2 += error.count,
                None => new.push((sig, *minute, error.count, error)),
            }
        }
    }
    for (_, minute, count, error) in new.into_iter().take(NEW_PER_OPERATION) {
        let (text, id) = (&error.text, &error.trace);
        // Where it failed, where known; else the operation's service.
        let failed_in = match error.subject == Subject::default() {
            true => subject.clone(),
            false => error.subject.clone(),
        };
        let mut f = finding(
            Kind::NewTraceError,
            minute * MINUTE,
            failed_in,
            format!("new trace error in {name} (×{count}): {text}"),
            Jump::Trace { id: id.clone() },
        );
        f.count = count;
        f.weight = 1.0 + (count as f64).log2();
        f.evidence
            .push((minute * MINUTE, format!("trace {id}: {text}")));
        out.push(f);
    }
}
