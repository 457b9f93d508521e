//! The store's health checks: each check's results as they come, and the
//! health of nodes and tasks worked out from their checks.

use std::collections::HashMap;

use super::{Inner, Store};
use crate::api::{Check, CheckResult, CheckStatus, Health, Op, Record};
use crate::gateway::filter::Matcher;

impl Inner {
    /// Takes one result of a check, adding the check if it is new, and
    /// publishes it.
    /// A check new to the store goes out as `Added`, whole; after that
    /// as `Updated` with only its newest result in `history` (the client
    /// appends it): 60 results a check in every event would make the
    /// health topic the heaviest of all at a thousand nodes.
    pub(super) fn record_check(&mut self, template: Check, result: CheckResult) {
        let new = !self.checks.contains_key(&template.id);
        let (check, started) = self
            .checks
            .entry(template.id.clone())
            .or_insert_with(|| (template, result.ts));
        check.record(result, *started);
        let mut event = Check {
            history: Vec::new(),
            ..check.clone()
        };
        event.history.extend(check.history.last().cloned());
        let op = if new { Op::Added } else { Op::Updated };
        self.health_hub.publish(op, Record::Check(event));
    }

    /// Takes a check evaluated elsewhere (by a hub's agent), whole.
    pub(super) fn put_check(&mut self, check: Check) {
        let mut event = Check {
            history: Vec::new(),
            ..check.clone()
        };
        let op = match self.checks.get(&check.id) {
            None => {
                event.history = check.history.clone();
                Op::Added
            }
            Some(_) => {
                event.history.extend(check.history.last().cloned());
                Op::Updated
            }
        };
        let since = check.history.first().map_or(0, |r| r.ts);
        self.checks.insert(check.id.clone(), (check, since));
        self.health_hub.publish(op, Record::Check(event));
    }

    pub(super) fn remove_check(&mut self, id: &str) {
        if let Some((check, _)) = self.checks.remove(id) {
            self.health_hub.publish(Op::Removed, Record::Check(check));
        }
    }

    /// Health from checks, by node id and by task id, in one pass over
    /// the checks: unhealthy with a failing check, healthy when all pass;
    /// missing (the source's word stands) with none, or no verdict yet.
    pub(super) fn health_from_checks(&self) -> (HashMap<String, Health>, HashMap<String, Health>) {
        // Per id: (a check fails, every check passes).
        let mut nodes: HashMap<&str, (bool, bool)> = HashMap::new();
        let mut tasks: HashMap<&str, (bool, bool)> = HashMap::new();
        for (c, _) in self.checks.values() {
            let (fails, passes) = (
                c.status == CheckStatus::Failing,
                c.status == CheckStatus::Passing,
            );
            for (map, id) in [(&mut nodes, &c.node_id), (&mut tasks, &c.task_id)] {
                if let Some(id) = id {
                    let v = map.entry(id.as_str()).or_insert((false, true));
                    *v = (v.0 || fails, v.1 && passes);
                }
            }
        }
        let verdicts = |map: HashMap<&str, (bool, bool)>| {
            map.into_iter()
                .filter_map(|(id, (fails, all_pass))| {
                    let health = if fails {
                        Health::Unhealthy
                    } else if all_pass {
                        Health::Healthy
                    } else {
                        return None;
                    };
                    Some((id.to_string(), health))
                })
                .collect()
        };
        (verdicts(nodes), verdicts(tasks))
    }
}

impl Store {
    pub fn record_check(&self, check: Check, result: CheckResult) {
        self.lock().record_check(check, result);
    }

    /// Every check, failing ones first, and the `health` topic's sequence.
    pub fn checks(&self, matcher: &Matcher) -> (u64, Vec<Check>) {
        let inner = self.lock();
        let mut checks: Vec<Check> = inner
            .checks
            .values()
            .filter(|(c, _)| matcher.matches_check(c))
            .map(|(c, _)| c.clone())
            .collect();
        checks.sort_by(|a, b| (a.status, &a.target, &a.name).cmp(&(b.status, &b.target, &b.name)));
        (inner.health_hub.seq(), checks)
    }
}
