//! Incidents with a known cause, played into the demo cluster at a set
//! time (`--scenario NAME`, `--scenario-at SECONDS`), so triage can be
//! shown and tested: the cause, then the symptoms that follow from it, on
//! top of the demo's everyday noise (tasks failing now and then, error
//! lines). The demo's own incidents, the flapping agent and the
//! frontend's rollouts, are off while a scenario plays: one incident at a
//! time, with one known cause.

use super::cluster::{GIB, SimNode, SimTask};
use crate::api::{TaskState, UnixMillis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A payments-api task is OOM-killed on one agent, whose memory stays
    /// high: the app's other instances log upstream errors, and the
    /// agent's memory check fails.
    Oom,
    /// payments-api rolls out a version that panics: every new instance
    /// logs a new error and fails, over and over.
    Rollout,
    /// A master's disk fills: its disk check fails, and ZooKeeper on it
    /// cannot write its log.
    Disk,
    /// A spark-etl job with no CPU limit worth the name takes nearly every
    /// core of its agent: the agent's CPU is pinned, and the services
    /// beside it time out.
    Noisy,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Oom,
        Scenario::Rollout,
        Scenario::Disk,
        Scenario::Noisy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Oom => "oom",
            Scenario::Rollout => "rollout",
            Scenario::Disk => "disk",
            Scenario::Noisy => "noisy",
        }
    }

    /// The app it plays on, if it plays on one.
    pub(super) fn app(self) -> &'static str {
        match self {
            Scenario::Noisy => HOG_APP,
            _ => APP,
        }
    }

    pub fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!("no demo scenario {text:?}; there are {}", names.join(", "))
            })
    }
}

/// The app the task scenarios play on, and the noisy neighbour's.
const APP: &str = "payments-api";
const HOG_APP: &str = "spark-etl";
/// The share of its agent's cores the noisy neighbour takes.
const HOG_SHARE: f64 = 0.9;
/// Seconds the neighbours hold out before they time out.
const STARVED_AFTER: u64 = 10;
/// How long the symptoms last, in ticks (seconds).
const SYMPTOMS_FOR: u64 = 600;
/// A bad version's instance runs this long before it panics.
const PANICS_AFTER: u64 = 8;

/// A scenario being played.
pub(super) struct Playing {
    pub scenario: Scenario,
    pub onset: u64,
    /// Where it happened: the node (oom, disk) and the app (oom, rollout).
    pub node: Option<usize>,
    pub app: Option<usize>,
    /// The bad version (rollout).
    pub version: Option<u32>,
    /// The noisy neighbour: its task id and the cores it takes.
    pub hog: Option<(String, f64)>,
}

impl Playing {
    pub fn new(scenario: Scenario, onset: u64) -> Playing {
        Playing {
            scenario,
            onset,
            node: None,
            app: None,
            version: None,
            hog: None,
        }
    }

    fn active(&self, tick: u64) -> bool {
        tick >= self.onset && tick < self.onset + SYMPTOMS_FOR
    }

    /// At the onset, the cause: the first running instance of the app is
    /// killed (oom), the app's version moves on (rollout), a master is
    /// chosen to fill (disk), the longest-running job of the app starts
    /// taking its agent's cores (noisy).
    pub fn start(
        &mut self,
        tick: u64,
        app: Option<(usize, &mut u32)>,
        tasks: &mut [&mut SimTask],
        nodes: &[SimNode],
        now: UnixMillis,
    ) {
        if tick != self.onset {
            return;
        }
        self.app = app.as_ref().map(|(i, _)| *i);
        match self.scenario {
            Scenario::Oom => {
                let Some((app, _)) = app else { return };
                if let Some(sim) = tasks
                    .iter_mut()
                    .find(|s| s.app == app && s.task.state == TaskState::Running)
                {
                    self.node = Some(sim.node);
                    let t = std::sync::Arc::make_mut(&mut sim.task);
                    super::transition(t, TaskState::Failed, now, "exit status 137 (OOM killed)");
                    t.health = crate::api::Health::Unhealthy;
                }
            }
            Scenario::Rollout => {
                if let Some((_, version)) = app {
                    *version += 1;
                    self.version = Some(*version);
                }
            }
            Scenario::Disk => {
                self.node = nodes.iter().position(|n| n.node.role == "master");
            }
            Scenario::Noisy => {
                let Some((app, _)) = app else { return };
                // The longest running, so its usual CPU is well known.
                if let Some(sim) = tasks
                    .iter()
                    .filter(|s| s.app == app && s.task.state == TaskState::Running)
                    .min_by_key(|s| (s.task.started, s.task.id.clone()))
                {
                    self.node = Some(sim.node);
                    let cores = nodes[sim.node].node.capacity.cpus * HOG_SHARE;
                    self.hog = Some((sim.task.id.clone(), (cores * 100.0).round() / 100.0));
                }
            }
        }
    }

    /// The cores `task` takes now, if it is the noisy neighbour at work
    /// (it does not finish meanwhile).
    pub fn hog(&self, tick: u64, task: &str) -> Option<f64> {
        let (id, cores) = self.hog.as_ref()?;
        (self.active(tick) && id == task).then_some(*cores)
    }

    /// Whether a running instance of `app` on `version`, up for
    /// `running_for` seconds, panics now (rollout).
    pub fn panics(&self, app: usize, version: u32, running_for: u64) -> bool {
        self.scenario == Scenario::Rollout
            && self.app == Some(app)
            && self.version == Some(version)
            && running_for >= PANICS_AFTER
    }

    /// The node's usage while the scenario plays: memory held high (oom),
    /// the disk filling by 1.5% a second to 98% (disk).
    pub fn usage(&self, tick: u64, index: usize, node: &mut crate::api::Node) {
        if !self.active(tick) || self.node != Some(index) {
            return;
        }
        match self.scenario {
            Scenario::Oom => node.usage.mem_bytes = node.capacity.mem_bytes / 100 * 96,
            Scenario::Disk => {
                let total = node.capacity.disk_bytes.max(GIB);
                let full = total / 100 * 98;
                let step = total / 200 * 3;
                node.usage.disk_bytes = (node.usage.disk_bytes + step).min(full);
                if let Some(disk) = node.disks.first_mut() {
                    disk.used_bytes = node.usage.disk_bytes;
                }
            }
            Scenario::Rollout | Scenario::Noisy => {}
        }
    }

    /// The requests the symptoms fail this second: during an OOM kill's
    /// symptoms every other charge fails upstream, a new way to fail for
    /// the traces (where a declined card is the everyday error).
    pub fn fail_spans(&self, tick: u64, spans: &mut [crate::api::Span]) {
        if self.scenario != Scenario::Oom || !self.active(tick) || tick < self.onset + 3 {
            return;
        }
        let n = tick - self.onset;
        let charges = spans.iter_mut().filter(|s| s.name == "POST /charge");
        for span in charges.step_by(2) {
            span.status = crate::api::SpanStatus::Error;
            span.status_message = format!(
                "ledger call failed: connection reset by peer (request {})",
                9000 + n
            );
        }
    }

    /// The error lines the symptoms write this second: (task, message).
    pub fn errors<'a>(
        &self,
        tick: u64,
        tasks: impl Iterator<Item = &'a SimTask>,
        nodes: &[SimNode],
    ) -> Vec<(&'a crate::api::Task, String)> {
        if !self.active(tick) || tick < self.onset + 3 {
            return Vec::new();
        }
        let n = tick - self.onset;
        let running = |s: &&SimTask| s.task.state == TaskState::Running;
        match self.scenario {
            Scenario::Oom => tasks
                .filter(running)
                .filter(|s| Some(s.app) == self.app)
                .take(3)
                .map(|s| {
                    let text = format!(
                        "upstream ledger call failed: connection reset by peer (request {})",
                        9000 + n
                    );
                    (&*s.task, text)
                })
                .collect(),
            Scenario::Rollout => tasks
                .filter(running)
                .filter(|s| Some(s.app) == self.app && Some(s.version) == self.version)
                .map(|s| {
                    let text = format!(
                        "panic: assignment to entry in nil map [handler=/v2/orders request={}]",
                        7000 + n
                    );
                    (&*s.task, text)
                })
                .collect(),
            Scenario::Disk => {
                let Some(node) = self.node.and_then(|i| nodes.get(i)) else {
                    return Vec::new();
                };
                let usage = &node.node.usage;
                let filled = usage.disk_bytes >= node.node.capacity.disk_bytes / 100 * 95;
                if !filled {
                    return Vec::new();
                }
                tasks
                    .filter(running)
                    .filter(|s| {
                        s.task.node_id == node.node.id && s.task.name.starts_with("zookeeper")
                    })
                    .map(|s| {
                        let text = format!(
                            "fsync-ing the write ahead log took {}ms: No space left on device",
                            8000 + n
                        );
                        (&*s.task, text)
                    })
                    .collect()
            }
            Scenario::Noisy => {
                let (Some(node), Some((hog, _))) = (self.node, &self.hog) else {
                    return Vec::new();
                };
                if n < STARVED_AFTER {
                    return Vec::new();
                }
                tasks
                    .filter(running)
                    .filter(|s| s.node == node && &s.task.id != hog && Some(s.app) != self.app)
                    .take(3)
                    .map(|s| {
                        let text = format!(
                            "request timed out after 2000ms: context deadline exceeded (request {})",
                            5000 + n
                        );
                        (&*s.task, text)
                    })
                    .collect()
            }
        }
    }
}
