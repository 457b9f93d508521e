//! The hub's cluster source: the agents' nodes, tasks, checks and figures
//! as one picture, read like any other source.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Fleet;
use crate::api::UnixMillis;
use crate::collect::{Collected, Source};

pub struct HubSource {
    fleet: Arc<Fleet>,
    name: String,
    /// Check ids handed over, by agent: an agent that leaves the fleet
    /// takes its checks with it.
    checks: HashMap<String, HashSet<String>>,
}

impl HubSource {
    pub fn new(fleet: Arc<Fleet>, name: String) -> HubSource {
        HubSource {
            fleet,
            name,
            checks: HashMap::new(),
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

    fn collect(&mut self, _now: UnixMillis) -> Collected {
        let mut out = Collected::default();
        let agents = self.fleet.agents();
        self.checks.retain(|name, ids| {
            let stays = agents.iter().any(|a| a.name() == name);
            if !stays {
                out.checks_gone.extend(ids.drain());
            }
            stays
        });
        for agent in agents {
            let ids = self.checks.entry(agent.name().to_string()).or_default();
            let mut held = agent.held();
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
