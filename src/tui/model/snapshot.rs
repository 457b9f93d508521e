//! A subscription's snapshot: what the gateway holds now, replacing what
//! the console held, and told to triage against it (so a resync's repeat
//! tells nothing twice).

use std::collections::HashMap;
use std::sync::Arc;

use super::{
    CPU_SERIES, Id, Kind, MEM_SERIES, Model, SPARK_POINTS, SUB_DASH, SUB_ERRORS, SUB_HEALTH,
    SUB_LOGS, SUB_NODE_METRICS, SUB_NODES, SUB_TASK_METRICS, SUB_TASKS, SUB_TRACES,
    TASK_CPU_SERIES, TASK_SPARK_POINTS, signals, without_outputs,
};
use crate::api::{Check, Node, Record, Task, UnixMillis};
use crate::tui::logs::buffer::Row;

impl Model {
    pub(super) fn apply_snapshot(&mut self, sub: &str, items: Vec<Record>, now: UnixMillis) {
        if !self.snapshots.contains(sub) {
            self.snapshots.insert(sub.to_string());
        }
        match sub {
            SUB_NODES => {
                let nodes: HashMap<Id, Node> = items
                    .into_iter()
                    .filter_map(|r| match r {
                        Record::Node(n) => Some((Id::from(n.id.as_str()), n)),
                        _ => None,
                    })
                    .collect();
                for node in nodes.values() {
                    let held = self.nodes.get(node.id.as_str());
                    signals::node(&mut self.timeline, held, node, now);
                }
                self.nodes = nodes;
                self.names_generation += 1;
                // Series of nodes that are gone go with them.
                let nodes = &self.nodes;
                self.node_series.retain(|id, _| nodes.contains_key(id));
            }
            SUB_TASKS => {
                let tasks: HashMap<Id, Task> = items
                    .into_iter()
                    .filter_map(|r| match r {
                        Record::Task(t) => Some((Id::from(t.id.as_str()), t)),
                        _ => None,
                    })
                    .collect();
                // Against what was held: a second snapshot (a resync) tells
                // only what is new.
                for task in tasks.values() {
                    let held = self.tasks.get(task.id.as_str());
                    signals::task(&mut self.timeline, held, task, true, now);
                }
                self.tasks = tasks;
                self.rebuild_changes();
                let tasks = &self.tasks;
                self.task_series.retain(|id, _| tasks.contains_key(id));
            }
            SUB_LOGS => {
                // A backfill, merged by time.
                let mut lines: Vec<_> = items
                    .into_iter()
                    .filter_map(|r| match r {
                        Record::Log(e) => Some(e),
                        _ => None,
                    })
                    .collect();
                lines.sort_by_key(|e| e.ts);
                for entry in lines {
                    self.logs.push(Row::Line(Arc::new(entry)));
                }
                return;
            }
            SUB_TASK_METRICS => {
                self.task_series.clear();
                for item in items {
                    if let Record::Series(series) = item
                        && series.name == TASK_CPU_SERIES
                        && let Some(task) = series.tags.get("task_id")
                    {
                        if let Some(held) = self.tasks.get(task.as_str()) {
                            // Its recent CPU, so a jump already under way
                            // is told, and its usual known.
                            for (at, value) in &series.points {
                                let cores = value / 100.0;
                                signals::task_cpu(&mut self.timeline, held, *at, cores, now);
                            }
                        }
                        let start = series.points.len().saturating_sub(TASK_SPARK_POINTS);
                        self.task_series.insert(
                            self.id_of(Kind::Task, task),
                            series.points[start..].iter().map(|(_, v)| *v).collect(),
                        );
                    }
                }
                return;
            }
            SUB_TRACES => {
                let held = std::mem::take(&mut self.traces);
                for item in items {
                    if let Record::Trace(t) = item {
                        if let Some(old) = held.get(&t.trace_id) {
                            self.traces.insert(t.trace_id.clone(), old.clone());
                        }
                        self.add_trace(t, now);
                    }
                }
            }
            SUB_ERRORS => {
                // A resync's tail overlaps what came before: only what is newer.
                let newest = self.newest_error;
                for item in items {
                    if let Record::Log(entry) = item
                        && newest.is_none_or(|n| entry.ts > n)
                    {
                        self.take_error(&entry, now);
                    }
                }
                return;
            }
            SUB_DASH => {
                for item in items {
                    if let Record::Series(series) = item {
                        self.dash.merge(series);
                    }
                }
                return;
            }
            SUB_HEALTH => {
                let checks: Vec<Check> = items
                    .into_iter()
                    .filter_map(|r| match r {
                        Record::Check(c) => Some(c),
                        _ => None,
                    })
                    .collect();
                for check in &checks {
                    let group = self.group_of(check.task_id.as_deref());
                    let held = self.checks.get(&check.id);
                    signals::check(&mut self.timeline, held, check, group, now);
                }
                self.checks = checks
                    .into_iter()
                    .map(|c| (c.id.clone(), without_outputs(c)))
                    .collect();
            }
            SUB_NODE_METRICS => {
                self.node_series.clear();
                for item in items {
                    if let Record::Series(series) = item
                        && let Some(node) = series.tags.get("node_id")
                    {
                        for (at, value) in &series.points {
                            signals::sample(
                                &mut self.timeline,
                                &series.name,
                                node,
                                *at,
                                *value,
                                now,
                            );
                        }
                        let start = series.points.len().saturating_sub(SPARK_POINTS);
                        let points = series.points[start..].iter().map(|(_, v)| *v).collect();
                        let id = self.id_of(Kind::Node, node);
                        let history = self.node_series.entry(id).or_default();
                        match series.name.as_str() {
                            CPU_SERIES => history.cpu = points,
                            MEM_SERIES => history.mem = points,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        self.loaded = true;
        self.recount();
    }
}
