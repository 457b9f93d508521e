//! The store's health checks: each check's results as they come, and the
//! health of nodes and tasks worked out from their checks.

use std::collections::HashMap;

use super::{Inner, Store};
use crate::api::{Check, CheckResult, Health, Op, Record};
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

    /// Health from checks, by node id and by task id.
    pub(super) fn health_from_checks(&self) -> (HashMap<String, Health>, HashMap<String, Health>) {
        crate::api::health_from_checks(self.checks.values().map(|(c, _)| c))
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
