//! The detectors: each reads the window's and the baseline's buckets and
//! says what it found, with its evidence and where it points. None keeps
//! state; each is deterministic in its input (ties broken by name).

use super::timeline::{Bucket, Subject, Timeline, minute_of};
use super::{Finding, Jump, Kind};
use crate::api::UnixMillis;

/// The window's minutes `[from, to)` and the baseline's `[baseline, from)`.
pub struct Span {
    pub from: i64,
    pub to: i64,
    pub baseline: i64,
}

/// Fewest baseline minutes a comparison trusts; with fewer, the window's
/// own minutes before the onset stand in (a console up a short while).
pub(super) const MIN_BASELINE: usize = 3;
/// How far out of its baseline a rate or metric must be (robust z).
pub(super) const SPIKE_Z: f64 = 3.0;
pub(super) const SHIFT_Z: f64 = 4.0;
/// New error signatures reported at most (the most frequent).
pub(super) const MAX_NEW_ERRORS: usize = 30;
/// Evidence lines a finding carries.
pub(super) const EVIDENCE: usize = 5;

mod changes;
mod logs;
mod metrics;
mod traces;

pub fn detect(t: &Timeline, span: &Span) -> Vec<Finding> {
    let held_from = t.held_since.map_or(span.to, minute_of);
    let window: Vec<(i64, &Bucket)> = t.minutes(span.from, span.to).collect();
    let baseline: Vec<(i64, &Bucket)> =
        t.minutes(span.baseline.max(held_from), span.from).collect();
    let mut out = Vec::new();
    changes::signals(&window, &baseline, held_from, &mut out);
    logs::error_spikes(&window, &baseline, span, &mut out);
    logs::new_errors(&window, &baseline, span.from.max(held_from), &mut out);
    metrics::metrics(t, span, held_from, &mut out);
    traces::traces(&window, &baseline, span.from.max(held_from), &mut out);
    out
}

pub(super) fn finding(
    kind: Kind,
    at: UnixMillis,
    subject: Subject,
    title: String,
    jump: Jump,
) -> Finding {
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
        noise: None,
    }
}

/// The median and the median absolute deviation of `values`.
pub fn median_mad(values: &[f64]) -> (f64, f64) {
    median_mad_in(values, &mut Vec::new())
}

/// The same, in `scratch` (no allocation once it has grown): the
/// detectors call it for thousands of series.
pub(super) fn median_mad_in(values: &[f64], scratch: &mut Vec<f64>) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    scratch.clear();
    scratch.extend_from_slice(values);
    let m = median_of(scratch);
    for v in scratch.iter_mut() {
        *v = (*v - m).abs();
    }
    (m, median_of(scratch))
}

/// The median of `v` (not empty), reordering it.
fn median_of(v: &mut [f64]) -> f64 {
    let n = v.len();
    let (_, upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        // The lower middle: the largest of the half below.
        let lower = v[..n / 2].iter().copied().fold(f64::MIN, f64::max);
        (lower + upper) / 2.0
    }
}

/// A subject's name for a title: its task, else its node, else its group.
pub(super) fn place(subject: &Subject) -> String {
    match (&subject.group, &subject.node) {
        (Some(group), Some(node)) => format!("{group} on {node}"),
        (Some(group), None) => group.clone(),
        (None, Some(node)) => node.clone(),
        (None, None) => subject.task.clone().unwrap_or_else(|| "cluster".into()),
    }
}
