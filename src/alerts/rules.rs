//! A rule's condition over the console's model: which label sets it holds
//! for now, with the figure compared. Checks and tasks are read as held;
//! error lines and node series from triage's per-minute buckets, so a
//! rule costs what it reads, never a pass over the log buffer.

use std::collections::BTreeMap;

use super::config::{Condition, Rule};
use crate::api::{CheckStatus, UnixMillis};
use crate::triage::timeline::minute_of;
use crate::tui::model::Model;

/// One label set the condition holds for.
#[derive(Debug, Clone, PartialEq)]
pub struct Holds {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// Words the annotations may use besides the labels (`{output}`).
    pub vars: BTreeMap<String, String>,
}

fn passes(rule: &Rule, value: f64) -> bool {
    rule.above.is_none_or(|a| value > a) && rule.below.is_none_or(|b| value < b)
}

fn labels(rule: &Rule, pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut labels = rule.labels.clone();
    labels.insert("alertname".into(), rule.name.clone());
    for (k, v) in pairs {
        labels.insert(k.to_string(), v.to_string());
    }
    labels
}

fn matches(glob: &str, names: &[&str]) -> bool {
    glob::Pattern::new(glob).is_ok_and(|p| names.iter().any(|n| p.matches(n)))
}

/// Where the rule's condition holds now.
pub fn holds(rule: &Rule, model: &Model, now: UnixMillis) -> Vec<Holds> {
    let only = |name: &str| rule.only.as_ref().is_none_or(|p| p.matches(name));
    let mut out = Vec::new();
    match &rule.condition {
        Condition::Check(glob) => {
            for c in model.checks.values() {
                if c.status != CheckStatus::Failing || !matches(glob, &[&c.name, &c.id]) {
                    continue;
                }
                let node = c.node_id.as_deref().map(|n| model.node_name(n));
                let task = c
                    .task_id
                    .as_deref()
                    .map(|t| model.tasks.get(t).map_or(t, |t| &t.name));
                let mut pairs = vec![("check", c.name.as_str()), ("target", c.target.as_str())];
                pairs.extend(node.map(|n| ("node", n)));
                pairs.extend(task.map(|t| ("task", t)));
                out.push(Holds {
                    labels: labels(rule, &pairs),
                    value: c.consecutive_failures as f64,
                    vars: BTreeMap::from([("output".into(), c.last_output.clone())]),
                });
            }
        }
        Condition::Tasks { states, over } => {
            let mut by_group: BTreeMap<&str, f64> = BTreeMap::new();
            let (from, to) = (minute_of(now - over), minute_of(now));
            for (_, bucket) in model.timeline.minutes(from, to) {
                for ((group, why), ended) in &bucket.endings {
                    let state = why.split(' ').next().unwrap_or_default();
                    if states.iter().any(|s| s == state) && only(group) {
                        *by_group.entry(group).or_default() += ended.count as f64;
                    }
                }
            }
            for (group, count) in by_group {
                if passes(rule, count) {
                    out.push(Holds {
                        labels: labels(rule, &[("group", group)]),
                        value: count,
                        vars: BTreeMap::new(),
                    });
                }
            }
        }
        Condition::LogErrors(glob) => {
            // The last whole minute: the one under way is still filling.
            let minute = minute_of(now) - 1;
            if let Some((_, bucket)) = model.timeline.minutes(minute, minute).next() {
                for (source, count) in &bucket.errors {
                    let value = *count as f64;
                    if matches(glob, &[source]) && passes(rule, value) {
                        out.push(Holds {
                            labels: labels(rule, &[("source", source)]),
                            value,
                            vars: BTreeMap::new(),
                        });
                    }
                }
            }
        }
        Condition::Metric(name) => {
            let minute = minute_of(now);
            for (key, minutes) in &model.timeline.metrics {
                if key.name != *name {
                    continue;
                }
                let node = model.node_name(&key.node);
                let Some(value) = minutes.mean(minute).or_else(|| minutes.mean(minute - 1)) else {
                    continue;
                };
                if only(node) && passes(rule, value) {
                    out.push(Holds {
                        labels: labels(rule, &[("node", node)]),
                        value: (value * 10.0).round() / 10.0,
                        vars: BTreeMap::new(),
                    });
                }
            }
        }
    }
    out
}

/// `{name}` in an annotation replaced by the label or word of that name,
/// `{value}` by the figure.
pub fn fill(template: &str, holds: &Holds) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let key = &after[..close];
        match key {
            "value" => out.push_str(&crate::tui::widgets::units::number(holds.value)),
            _ => match holds.labels.get(key).or_else(|| holds.vars.get(key)) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[open..open + close + 2]),
            },
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}
