//! A hub: a gateway whose source is other gateways (its agents). It keeps
//! only what it can rebuild from them: the small tables (nodes, tasks,
//! checks) and the figures the cluster view draws flow up from every
//! agent; everything big or specific (logs, series, traces, exec) is asked
//! of the agent that holds it when someone asks, and merged.

pub mod agents;
mod history;
mod link;
mod logs;
mod reads;
pub mod rename;
mod source;

pub use link::Agent;
pub use source::HubSource;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::api::{AgentStatus, split_fleet_id};
use agents::{AgentSpec, Stamp};

/// How often the agents file is looked at for changes.
const FILE_POLL: Duration = Duration::from_secs(1);

pub struct Fleet {
    agents: RwLock<BTreeMap<String, Arc<Agent>>>,
    /// The agents file's latest error, if its latest version is unusable
    /// (the agents of the last good version stay).
    file_error: RwLock<Option<String>>,
}

impl Fleet {
    /// Starts following `specs`; with a file, follows its changes too.
    /// Must be called inside a Tokio runtime.
    pub fn start(specs: Vec<AgentSpec>, file: Option<PathBuf>) -> Arc<Fleet> {
        let fleet = Arc::new(Fleet {
            agents: RwLock::new(BTreeMap::new()),
            file_error: RwLock::new(None),
        });
        fleet.reconcile(specs);
        if let Some(file) = file {
            tokio::spawn(watch(Arc::downgrade(&fleet), file));
        }
        fleet
    }

    /// Makes the agents followed those of `specs`: new ones join, gone
    /// ones leave, changed ones start over; the rest go on untouched.
    pub fn reconcile(&self, specs: Vec<AgentSpec>) {
        let mut agents = self.agents.write().unwrap_or_else(|p| p.into_inner());
        let wanted: BTreeMap<String, AgentSpec> =
            specs.into_iter().map(|s| (s.name.clone(), s)).collect();
        agents.retain(|name, agent| wanted.get(name) == Some(&agent.spec));
        for (name, spec) in wanted {
            agents.entry(name).or_insert_with(|| {
                tracing::info!(agent = %spec.name, url = %spec.url, "agent joins the fleet");
                Agent::start(spec)
            });
        }
    }

    /// Every agent, by name.
    pub fn agents(&self) -> Vec<Arc<Agent>> {
        let agents = self.agents.read().unwrap_or_else(|p| p.into_inner());
        agents.values().cloned().collect()
    }

    pub fn agent(&self, name: &str) -> Option<Arc<Agent>> {
        let agents = self.agents.read().unwrap_or_else(|p| p.into_inner());
        agents.get(name).cloned()
    }

    /// The agent a fleet id belongs to, and the id as the agent knows it.
    pub fn owner<'a>(&self, fleet_id: &'a str) -> Option<(Arc<Agent>, &'a str)> {
        let (agent, local) = split_fleet_id(fleet_id)?;
        Some((self.agent(agent)?, local))
    }

    pub fn statuses(&self) -> Vec<AgentStatus> {
        self.agents()
            .iter()
            .map(|a| a.held().status.clone())
            .collect()
    }

    /// Why the agents file's latest version was not taken, if it was not.
    pub fn file_error(&self) -> Option<String> {
        self.file_error
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Reads the agents file again whenever it changes, until the fleet goes.
async fn watch(fleet: std::sync::Weak<Fleet>, file: PathBuf) {
    let mut seen = Stamp::of(&file);
    loop {
        tokio::time::sleep(FILE_POLL).await;
        let Some(fleet) = fleet.upgrade() else { return };
        let now = Stamp::of(&file);
        if now == seen {
            continue;
        }
        seen = now;
        let read = agents::load(&file);
        let error = read.as_ref().err().cloned();
        match read {
            Ok(specs) => {
                tracing::info!(
                    "agents file {} changed: {} agents",
                    file.display(),
                    specs.len()
                );
                fleet.reconcile(specs);
            }
            Err(e) => tracing::warn!("{e}; keeping the agents of its last good version"),
        }
        *fleet.file_error.write().unwrap_or_else(|p| p.into_inner()) = error;
    }
}
