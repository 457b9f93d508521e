//! Node metrics out of their baseline (median and MAD of the per-minute
//! means), a disk filling told apart as a change.

use super::{EVIDENCE, MIN_BASELINE, SHIFT_Z, Span, finding, median_mad_in};
use crate::triage::timeline::{MINUTE, Subject, Timeline};
use crate::triage::{Finding, Jump, Kind};

/// A deviation's unit: the MAD, with a floor (a flat series moving by a
/// point or two is no news).
fn scale(median: f64, mad: f64) -> f64 {
    1.4826 * mad + (0.1 * median.abs()).max(2.0)
}

/// The least a value must move to stand out: [`SHIFT_Z`] times the
/// floor of [`scale`].
const LEAST_SHIFT: f64 = SHIFT_Z * 2.0;

/// Node metrics that left their baseline.
pub(super) fn metrics(t: &Timeline, span: &Span, held_from: i64, out: &mut Vec<Finding>) {
    let mut keys: Vec<_> = t.metrics.keys().collect();
    keys.sort_unstable();
    let mut scratch = Vec::new();
    let mut median_mad = |values: &[f64]| median_mad_in(values, &mut scratch);
    let mut window: Vec<(i64, f64)> = Vec::new();
    let mut base: Vec<f64> = Vec::new();
    for key in keys {
        let series = &t.metrics[key];
        window.clear();
        window.extend((span.from..span.to).filter_map(|m| series.mean(m).map(|v| (m, v))));
        if window.is_empty() {
            continue;
        }
        base.clear();
        base.extend((span.baseline.max(held_from)..span.from).filter_map(|m| series.mean(m)));
        // Most series are flat: when all their values lie closer together
        // than any shift can be, none stands out (the median is among
        // them), and the medians need not be worked out.
        let (low, high) = window
            .iter()
            .map(|(_, v)| *v)
            .chain(base.iter().copied())
            .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
        if high - low < LEAST_SHIFT {
            continue;
        }
        // Too little baseline: the first minute that stands out of the
        // window's minutes before it (2 at least) begins the shift.
        let (base, tested, full) = if base.len() >= MIN_BASELINE {
            (base.clone(), &window[..], true)
        } else {
            let Some(k) = (2..window.len()).find(|&k| {
                let before: Vec<f64> = window[..k].iter().map(|(_, v)| *v).collect();
                let (m, mad) = median_mad(&before);
                ((window[k].1 - m) / scale(m, mad)).abs() >= SHIFT_Z
            }) else {
                continue;
            };
            (
                window[..k].iter().map(|(_, v)| *v).collect(),
                &window[k..],
                false,
            )
        };
        let (m, mad) = median_mad(&base);
        let scale = scale(m, mad);
        let out_of = |v: f64| (v - m) / scale;
        // Out for one minute is a blip; a shift lasts (or is going on now).
        let outside = tested
            .iter()
            .filter(|(_, v)| out_of(*v).abs() >= SHIFT_Z)
            .count();
        let still = tested
            .last()
            .is_some_and(|(_, v)| out_of(*v).abs() >= SHIFT_Z);
        if outside < 2 && !(still && tested.len() == 1) {
            continue;
        }
        let &(_, now_value) = window.last().expect("not empty");
        let peak = tested
            .iter()
            .map(|(_, v)| *v)
            .max_by(|a, b| out_of(*a).abs().total_cmp(&out_of(*b).abs()))
            .unwrap_or(now_value);
        let z = out_of(peak);
        let disk = key.name.contains("disk") && z > 0.0;
        // A disk began filling when it first left its baseline; a shift
        // happened when it moved most of the way (a step on top of a
        // drift is the step).
        let onset_z = if disk {
            SHIFT_Z
        } else {
            SHIFT_Z.max(z.abs() / 2.0)
        };
        let Some(&(onset, _)) = tested.iter().find(|(_, v)| out_of(*v).abs() >= onset_z) else {
            continue;
        };
        let last = tested
            .iter()
            .rev()
            .find(|(_, v)| out_of(*v).abs() >= SHIFT_Z)
            .map_or(onset, |(m, _)| *m);
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
                key.name,
                t.node_names.get(&key.node).unwrap_or(&key.node)
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
            f.parts
                .push("baseline: the window's first minutes (too little history held)".into());
        }
        for (minute, value) in tested.iter().filter(|(m, _)| *m >= onset).take(EVIDENCE) {
            f.evidence
                .push((minute * MINUTE, format!("{} mean {value:.1}", key.name)));
        }
        out.push(f);
    }
}
