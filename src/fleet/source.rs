//! The hub's cluster source: the agents' nodes, tasks, checks and figures
//! as one picture, read like any other source.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Fleet;
use crate::api::{AgentState, AgentStatus, Check, CheckKind, CheckResult, UnixMillis, now_millis};
use crate::collect::{Collected, Source};

pub struct HubSource {
    fleet: Arc<Fleet>,
    name: String,
    /// Check ids handed over, by agent: an agent that leaves the fleet
    /// takes its checks with it.
    checks: HashMap<String, HashSet<String>>,
    /// Each agent's reachability, as last checked: when, and how it stood.
    reached: HashMap<String, (UnixMillis, AgentState)>,
}

/// How often each agent's reachability is a check result (and at once
/// when it changes).
const REACH_EVERY_MS: UnixMillis = 10_000;

/// The hub's own check of one agent: is it up?
fn reachability(status: &AgentStatus) -> (Check, CheckResult) {
    let mut check = Check::new(
        &format!("fleet:agent:{}", status.name),
        &format!("agent {}", status.name),
        CheckKind::Builtin,
        &status.url,
    );
    check.interval_ms = REACH_EVERY_MS;
    check.failure_threshold = 1;
    let output = match &status.error {
        Some(e) => format!("{}: {e}", status.state.as_str()),
        None => status.state.as_str().to_string(),
    };
    let result = CheckResult {
        ts: now_millis(),
        ok: status.state == AgentState::Up,
        latency_ms: 0.0,
        output,
    };
    (check, result)
}

impl HubSource {
    pub fn new(fleet: Arc<Fleet>, name: String) -> HubSource {
        HubSource {
            fleet,
            name,
            checks: HashMap::new(),
            reached: HashMap::new(),
        }
    }
}

impl Source for HubSource {
    fn kind(&self) -> &'static str {
        "fleet"
    }

    fn cluster_name(&self) -> String {
        self.name.clone()
    }

    fn collect(&mut self, now: UnixMillis) -> Collected {
        let mut out = Collected::default();
        let agents = self.fleet.agents();
        self.checks.retain(|name, ids| {
            let stays = agents.iter().any(|a| a.name() == name);
            if !stays {
                out.checks_gone.extend(ids.drain());
            }
            stays
        });
        self.reached
            .retain(|name, _| agents.iter().any(|a| a.name() == name));
        for agent in agents {
            let ids = self.checks.entry(agent.name().to_string()).or_default();
            let mut held = agent.held();
            let state = held.status.state;
            let last = self.reached.get(agent.name());
            if last.is_none_or(|(at, was)| *was != state || now - at >= REACH_EVERY_MS) {
                self.reached.insert(agent.name().to_string(), (now, state));
                let (check, result) = reachability(&held.status);
                ids.insert(check.id.clone());
                out.results.push((check, result));
            }
            out.nodes.extend(held.nodes.values().cloned());
            out.tasks.extend(held.tasks.values().cloned());
            out.samples.extend(held.samples.drain(..));
            let name = agent.name().to_string();
            out.traces
                .extend(held.traces.drain(..).map(|t| (name.clone(), t)));
            let changed = std::mem::take(&mut held.checks_changed);
            for id in changed {
                match held.checks.get(&id) {
                    Some(check) => {
                        out.checks.push(check.clone());
                        ids.insert(id);
                    }
                    None => {
                        ids.remove(&id);
                        out.checks_gone.push(id);
                    }
                }
            }
        }
        out
    }
}
