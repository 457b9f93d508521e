//! A seeded, deterministic simulated cluster in the image of a Mesos/DC/OS
//! cluster: masters running ZooKeeper and Marathon, agents running apps
//! (a web frontend, a payments API, a Cassandra ring, Kafka brokers, batch
//! jobs, a flaky worker), tasks moving through their states, rolling
//! deployments, and one agent that flaps.
//!
//! Given the same seed, node and task counts, and the same sequence of
//! `collect` times, it produces the same cluster, to the byte.

use std::collections::BTreeMap;
use std::sync::Arc;

pub mod canaries;
mod cluster;
mod history;
mod logs;
mod scenario;
mod traces;

use super::rng::Rng;
use super::{Collected, Source, tagged};
use crate::api::{Health, Labels, MAX_TASK_STATUSES, Task, TaskState, TaskStatus, UnixMillis};
use cluster::{App, Kind, MIB, Placement, Placements, SimNode, SimTask, make_apps, make_nodes};
use logs::DemoLogs;
use scenario::Playing;
pub use scenario::Scenario;
use traces::DemoTraces;

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub seed: u64,
    pub nodes: usize,
    pub tasks: usize,
    /// Log lines a second across the cluster (the burst mode for load tests
    /// is a large number).
    pub log_rate: usize,
    /// Requests traced a second (0: none).
    pub trace_rate: usize,
    /// An incident played in, and how many seconds after the start.
    pub scenario: Option<Scenario>,
    pub scenario_at: u64,
    /// Plant secrets to test share mode against (`canaries`).
    pub canaries: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: 42,
            nodes: 10,
            tasks: 60,
            log_rate: 20,
            trace_rate: 2,
            scenario: None,
            scenario_at: 120,
            canaries: false,
        }
    }
}

pub struct DemoSource {
    rng: Rng,
    logs: DemoLogs,
    /// The lines before it began, made on demand.
    history: Arc<history::DemoHistory>,
    traces: DemoTraces,
    log_rate: usize,
    trace_rate: usize,
    last_tick: Option<UnixMillis>,
    nodes: Vec<SimNode>,
    placements: Placements,
    apps: Vec<App>,
    tasks: BTreeMap<String, SimTask>,
    tick: u64,
    playing: Option<Playing>,
    canaries: bool,
}

/// How long finished, failed, killed and lost tasks stay visible.
const RETAIN_TERMINAL_TICKS: u64 = 90;
/// The flapping agent is away for `FLAP_DOWN` of every `FLAP_PERIOD` ticks.
const FLAP_PERIOD: u64 = 120;
const FLAP_DOWN: u64 = 15;
/// Log lines one reading makes at most, whatever the rate.
const MAX_LOG_LINES_PER_READING: usize = 50_000;
/// A rolling deployment of the frontend every so many ticks.
const DEPLOY_EVERY: u64 = 300;

impl DemoSource {
    pub fn new(config: DemoConfig) -> DemoSource {
        let mut rng = Rng::new(config.seed);
        let nodes = make_nodes(&mut rng, config.nodes.max(1));
        let apps = make_apps(&nodes, config.tasks);
        DemoSource {
            logs: DemoLogs::new(config.seed),
            history: history::DemoHistory::new(config.seed, config.log_rate),
            traces: DemoTraces::new(config.seed),
            log_rate: config.log_rate,
            trace_rate: config.trace_rate,
            last_tick: None,
            rng,
            nodes,
            placements: Placements::default(),
            apps,
            tasks: BTreeMap::new(),
            tick: 0,
            playing: config
                .scenario
                .map(|s| Playing::new(s, config.scenario_at.max(1))),
            canaries: config.canaries,
        }
    }

    fn launch(&mut self, app: usize, instance: usize, now: UnixMillis, warm: bool) {
        let candidates = self.placements.nodes(&self.nodes, self.apps[app].placement);
        let node = match self.apps[app].placement {
            // Masters and stateful instances stay where they belong.
            Placement::Masters => candidates.get(instance % candidates.len().max(1)).copied(),
            _ if matches!(self.apps[app].kind, Kind::Stateful(_)) => {
                candidates.get(instance % candidates.len().max(1)).copied()
            }
            _ => candidates
                .get(self.rng.range(0, candidates.len() as u64) as usize)
                .copied(),
        };
        let Some(node) = node else { return };
        let a = &self.apps[app];
        let id = format!(
            "{}.{}-{}-{}",
            a.path.trim_start_matches('/').replace('/', "_"),
            self.rng.hex(8),
            self.rng.hex(4),
            self.rng.hex(4)
        );
        let name = match a.kind {
            Kind::Stateful(prefix) => format!("{}-{prefix}-{instance}", a.name),
            _ => a.name.to_string(),
        };
        // A warm start: the cluster has been up a while already.
        let (state, started) = if warm {
            (
                TaskState::Running,
                now - self.rng.range(60, 2 * 86_400) as i64 * 1000,
            )
        } else {
            (TaskState::Staging, now)
        };
        let countdown = match (state, a.kind) {
            (TaskState::Running, Kind::Batch) => self.rng.range(5, 120),
            (TaskState::Running, _) => 0,
            _ => self.rng.range(1, 4),
        };
        let mut labels = Labels::new();
        labels.insert("framework".into(), "marathon".into());
        labels.insert("app".into(), a.path.into());
        let planted = self.canaries;
        let statuses = if warm {
            vec![
                status(TaskState::Staging, started - 4000, ""),
                status(TaskState::Starting, started - 1500, ""),
                status(TaskState::Running, started, ""),
            ]
        } else {
            vec![status(TaskState::Staging, now, "")]
        };
        let mut task = Task {
            id: id.clone(),
            name,
            group: a.path.to_string(),
            node_id: self.nodes[node].node.id.clone(),
            state,
            health: if warm {
                Health::Healthy
            } else {
                Health::Unknown
            },
            cpu: 0.0,
            cpu_limit: a.cpu,
            mem_bytes: 0,
            mem_limit: a.mem,
            started,
            updated: started,
            version: format!("v{}", a.version),
            labels,
            statuses,
            unreachable_since: None,
        };
        if planted {
            canaries::label(&mut task);
        }
        let cpu_walk = 0.2 + 0.5 * self.rng.f64();
        self.tasks.insert(
            id,
            SimTask {
                tags: Labels::of(&[
                    ("node_id", &task.node_id),
                    ("task_id", &task.id),
                    ("group", &task.group),
                ]),
                task: Arc::new(task),
                node,
                app,
                version: a.version,
                instance,
                countdown,
                dead_for: 0,
                replaced: false,
                cpu_walk,
            },
        );
    }

    fn step(&mut self, now: UnixMillis) {
        self.tick += 1;
        let tick = self.tick;

        // The flapping agent drops out, and comes back with a fresh uptime.
        let quiet = self.playing.is_some();
        for sim in &mut self.nodes {
            if !sim.flapping || quiet {
                continue;
            }
            let down = tick % FLAP_PERIOD >= FLAP_PERIOD - FLAP_DOWN;
            if down != sim.down {
                sim.down = down;
                self.placements.forget();
                sim.node.health = if down {
                    Health::Unhealthy
                } else {
                    Health::Healthy
                };
                if !down {
                    sim.node.boot_time = now - 20_000;
                }
            }
            if !sim.down {
                sim.node.last_seen = now;
            }
        }
        let down_nodes: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.down)
            .map(|n| n.node.id.clone())
            .collect();

        // A rolling deployment of the frontend: a new version, instances replaced one by one.
        if tick.is_multiple_of(DEPLOY_EVERY)
            && !quiet
            && let Some(frontend) = self.apps.iter_mut().find(|a| a.name == "frontend")
        {
            frontend.version += 1;
        }

        if let Some(playing) = self.playing.as_mut().filter(|p| p.onset == tick) {
            let name = playing.scenario.app();
            let app = self.apps.iter().position(|a| a.name == name);
            let app = app.map(|i| (i, &mut self.apps[i].version));
            let mut tasks: Vec<&mut SimTask> = self.tasks.values_mut().collect();
            playing.start(tick, app, &mut tasks, &self.nodes, now);
        }

        let mut relaunch = Vec::new();
        let (apps, rng, playing) = (&self.apps, &mut self.rng, self.playing.as_ref());
        // Tasks are shared with the gateway's store: a task is copied when
        // it changes (`Arc::make_mut`), so a reading costs what changed.
        for sim in self.tasks.values_mut() {
            let app = &apps[sim.app];
            let hog = playing.and_then(|p| p.hog(tick, &sim.task.id));
            if sim.task.state.is_terminal() {
                sim.dead_for += 1;
                if !sim.replaced && sim.dead_for >= 3 {
                    sim.replaced = true;
                    relaunch.push((sim.app, sim.instance));
                }
                continue;
            }
            if down_nodes.contains(&sim.task.node_id) {
                let t = Arc::make_mut(&mut sim.task);
                transition(t, TaskState::Lost, now, "agent unreachable");
                t.health = Health::Unknown;
                continue;
            }
            match sim.task.state {
                TaskState::Staging | TaskState::Starting => {
                    sim.countdown = sim.countdown.saturating_sub(1);
                    if sim.countdown == 0 {
                        let t = Arc::make_mut(&mut sim.task);
                        if t.state == TaskState::Staging {
                            transition(t, TaskState::Starting, now, "");
                            sim.countdown = rng.range(1, 4);
                        } else {
                            transition(t, TaskState::Running, now, "");
                            t.started = now;
                            sim.countdown = match app.kind {
                                Kind::Batch => rng.range(20, 150),
                                _ => 0,
                            };
                        }
                    }
                }
                TaskState::Running => {
                    if sim.task.health == Health::Unknown && now - sim.task.started >= 3000 {
                        Arc::make_mut(&mut sim.task).health = Health::Healthy;
                    }
                    let health = sim.task.health;
                    let outdated = sim.version != app.version;
                    if hog.is_some() {
                        // The noisy neighbour runs on while it plays.
                    } else if app.kind == Kind::Batch {
                        sim.countdown = sim.countdown.saturating_sub(1);
                        if sim.countdown == 0 {
                            let t = Arc::make_mut(&mut sim.task);
                            transition(t, TaskState::Finished, now, "exit status 0");
                        }
                    } else if playing.is_some_and(|p| {
                        p.panics(
                            sim.app,
                            sim.version,
                            ((now - sim.task.started) / 1000) as u64,
                        )
                    }) {
                        let t = Arc::make_mut(&mut sim.task);
                        let why = "exit status 2: panic: assignment to entry in nil map";
                        transition(t, TaskState::Failed, now, why);
                        t.health = Health::Unhealthy;
                    } else if outdated && rng.chance(0.2) {
                        let t = Arc::make_mut(&mut sim.task);
                        transition(t, TaskState::Killed, now, "replaced by a deployment");
                    } else if rng.chance(app.fail_rate) {
                        let (state, msg) = if rng.chance(0.75) {
                            (TaskState::Failed, "exit status 137 (OOM killed)")
                        } else {
                            (TaskState::Killed, "killed by health check")
                        };
                        let t = Arc::make_mut(&mut sim.task);
                        transition(t, state, now, msg);
                        t.health = Health::Unhealthy;
                    } else if health == Health::Healthy && rng.chance(app.fail_rate * 2.0) {
                        Arc::make_mut(&mut sim.task).health = Health::Unhealthy;
                    } else if health == Health::Unhealthy && rng.chance(0.3) {
                        Arc::make_mut(&mut sim.task).health = Health::Healthy;
                    }
                }
                _ => {}
            }
            let running = sim.task.state == TaskState::Running;
            // Usage moves every few seconds per task, staggered, like real scrapes.
            if running && (tick + sim.instance as u64).is_multiple_of(5) {
                sim.cpu_walk = (sim.cpu_walk + rng.noise(0.15)).clamp(0.02, 1.0);
                let t = Arc::make_mut(&mut sim.task);
                t.cpu = hog.unwrap_or(round2(app.cpu * sim.cpu_walk));
                let mem =
                    t.mem_bytes as f64 + rng.noise(0.02) * app.mem as f64 + 0.004 * app.mem as f64;
                t.mem_bytes =
                    (mem.clamp(0.1 * app.mem as f64, 0.97 * app.mem as f64) as u64) / MIB * MIB;
            } else if !running && !sim.task.state.is_terminal() && sim.task.cpu != 0.0 {
                Arc::make_mut(&mut sim.task).cpu = 0.0;
            }
            if running && sim.task.mem_bytes == 0 {
                Arc::make_mut(&mut sim.task).mem_bytes =
                    (app.mem as f64 * (0.3 + 0.3 * sim.cpu_walk)) as u64 / MIB * MIB;
            }
        }
        self.tasks
            .retain(|_, sim| sim.dead_for < RETAIN_TERMINAL_TICKS);
        for (app, instance) in relaunch {
            self.launch(app, instance, now, false);
        }
    }

    fn node_usage(&mut self, now: UnixMillis) -> Vec<crate::api::Sample> {
        let mut cpu = vec![(0.0, 0); self.nodes.len()];
        for sim in self.tasks.values() {
            if sim.task.state == TaskState::Running {
                cpu[sim.node].0 += sim.task.cpu;
                cpu[sim.node].1 += sim.task.mem_bytes;
            }
        }
        let mut samples = Vec::with_capacity(self.nodes.len() * 5);
        for (index, (sim, &(task_cpu, task_mem))) in self.nodes.iter_mut().zip(&cpu).enumerate() {
            if sim.down {
                continue; // an unreachable agent reports nothing
            }
            sim.cpu_walk = (sim.cpu_walk + self.rng.noise(0.04)).clamp(0.02, 0.35);
            let n = &mut sim.node;
            let system_mem = n.capacity.mem_bytes / 12;
            let pct = (100.0 * (task_cpu / n.capacity.cpus + sim.cpu_walk)).clamp(0.0, 100.0);
            n.usage.cpu_percent = round1(pct);
            n.usage.mem_bytes = (task_mem + system_mem).min(n.capacity.mem_bytes);
            n.usage.load = [
                round2(n.capacity.cpus * pct / 100.0 * (1.0 + self.rng.noise(0.2))).max(0.0),
                round2(n.capacity.cpus * pct / 100.0),
                round2(n.capacity.cpus * pct / 110.0),
            ];
            if self.tick.is_multiple_of(30) {
                n.usage.disk_bytes = (n.usage.disk_bytes + 64 * MIB).min(n.capacity.disk_bytes);
                n.disks[0].used_bytes = n.usage.disk_bytes;
            }
            if let Some(playing) = &self.playing {
                playing.usage(self.tick, index, n);
            }
            let [tags, net, disk] = &sim.tags;
            let mem_pct = round1(100.0 * n.usage.mem_bytes as f64 / n.capacity.mem_bytes as f64);
            let disk_pct = round1(100.0 * n.usage.disk_bytes as f64 / n.capacity.disk_bytes as f64);
            samples.push(tagged(
                "node.cpu.percent",
                tags,
                now,
                n.usage.cpu_percent,
                "percent",
            ));
            samples.push(tagged("node.mem.percent", tags, now, mem_pct, "percent"));
            samples.push(tagged(
                "node.mem.used.bytes",
                tags,
                now,
                n.usage.mem_bytes as f64,
                "bytes",
            ));
            samples.push(tagged("node.load.1", tags, now, n.usage.load[0], ""));
            // Network follows the work the node does (no draw from the
            // generator, so the cluster's story is the same with it).
            let rx = (150_000.0 + task_cpu * 2_500_000.0 * (0.8 + sim.cpu_walk)).round();
            samples.push(tagged(
                "node.net.rx.bytes_per_second",
                net,
                now,
                rx,
                "bytes/s",
            ));
            samples.push(tagged(
                "node.net.tx.bytes_per_second",
                net,
                now,
                (rx * 0.6).round(),
                "bytes/s",
            ));
            samples.push(tagged(
                "node.disk.used.percent",
                disk,
                now,
                disk_pct,
                "percent",
            ));
        }
        samples
    }
}

fn status(state: TaskState, at: UnixMillis, message: &str) -> TaskStatus {
    TaskStatus {
        state,
        at,
        message: message.to_string(),
    }
}

fn transition(task: &mut Task, state: TaskState, now: UnixMillis, message: &str) {
    task.state = state;
    task.updated = now;
    if state.is_terminal() {
        task.cpu = 0.0;
        task.mem_bytes = 0;
    }
    task.statuses.push(status(state, now, message));
    if task.statuses.len() > MAX_TASK_STATUSES {
        task.statuses.remove(0);
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Source for DemoSource {
    fn kind(&self) -> &'static str {
        "demo"
    }

    fn cluster_name(&self) -> String {
        "demo".into()
    }

    fn history(&self) -> Option<Arc<dyn crate::collect::history::LogSeeker>> {
        // A demo that writes no lines has none before it began either.
        (self.log_rate > 0).then(|| self.history.clone() as _)
    }

    fn collect(&mut self, now: UnixMillis) -> Collected {
        if self.tick == 0 && self.tasks.is_empty() {
            for sim in &mut self.nodes {
                sim.node.boot_time = now - 40 * 86_400_000 + (sim.cpu_walk * 1e9) as i64;
                sim.node.last_seen = now;
            }
            for app in 0..self.apps.len() {
                for instance in 0..self.apps[app].instances {
                    self.launch(app, instance, now, true);
                }
            }
            let running = self.tasks.values().map(|t| t.task.clone()).collect();
            self.history.began(now, running);
        }
        self.step(now);
        let samples_nodes = self.node_usage(now);
        let mut samples = samples_nodes;
        for sim in self.tasks.values() {
            let t = &sim.task;
            if t.state == TaskState::Running && (self.tick + sim.instance as u64).is_multiple_of(5)
            {
                samples.push(tagged(
                    "task.cpu.percent",
                    &sim.tags,
                    now,
                    round1(t.cpu * 100.0),
                    "percent",
                ));
                samples.push(tagged(
                    "task.mem.rss.bytes",
                    &sim.tags,
                    now,
                    t.mem_bytes as f64,
                    "bytes",
                ));
            }
        }
        // Log lines for the time since the last reading, at the set rate.
        let elapsed = self.last_tick.map_or(1000, |t| (now - t).clamp(0, 10_000));
        self.last_tick = Some(now);
        // Capped per reading: a reading that fell behind must not make the
        // next one bigger still (that spiral would be unbounded memory).
        let lines =
            ((self.log_rate as i64 * elapsed / 1000) as usize).min(MAX_LOG_LINES_PER_READING);
        let running: Vec<&Task> = self
            .tasks
            .values()
            .map(|s| &*s.task)
            .filter(|t| t.state == TaskState::Running)
            .collect();
        let mut logs = Vec::with_capacity(lines + 8);
        self.logs.write(&running, now, lines, &mut logs);
        if self.canaries
            && let Some((task, text)) = canaries::line(&running, self.tick)
        {
            self.logs.error(task, now - 100, text, &mut logs);
        }
        if let Some(playing) = &self.playing {
            for (task, text) in playing.errors(self.tick, self.tasks.values(), &self.nodes) {
                self.logs.error(task, now - 500, &text, &mut logs);
            }
        }
        let traces = ((self.trace_rate as i64 * elapsed / 1000) as usize).min(100);
        let mut spans = Vec::new();
        self.traces.write(&running, now, traces, &mut spans);
        if let Some(playing) = &self.playing {
            playing.fail_spans(self.tick, &mut spans);
        }
        if self.canaries {
            canaries::attributes(&mut spans);
        }
        if self.log_rate > 0 {
            // A demo told to write no logs writes none, the traces' neither.
            self.logs.spans(&running, &spans, &mut logs);
        }
        Collected {
            nodes: self.nodes.iter().map(|n| n.node.clone()).collect(),
            tasks: self.tasks.values().map(|s| s.task.clone()).collect(),
            samples,
            logs,
            spans,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests;
