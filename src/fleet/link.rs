//! One agent as the hub sees it: a stream of its nodes, tasks, checks and
//! node and task figures, kept as they last stood, with the agent's state
//! (up, connecting, down since, refused), its last word and its clock's
//! offset from the hub's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::agents::AgentSpec;
use super::rename;
use crate::api::{
    AgentState, AgentStatus, CHECK_HISTORY, Check, Filter, Node, Op, Record, Sample, ServerMsg,
    Task, Topic, TraceSummary, UnixMillis, now_millis,
};
use crate::client::{Client, Endpoint, StreamEvent, Subscription, read_token_file};

/// Samples waiting for the hub's next reading, per agent; past it the
/// oldest are dropped and counted.
const SAMPLE_QUEUE: usize = 65_536;
/// Trace summaries waiting for the hub's next reading, per agent.
const TRACE_QUEUE: usize = 4096;
/// How long a refused agent is left before the hub asks again: a wrong
/// token stays wrong, and a storm of refused logins helps nobody.
const REFUSED_RETRY: Duration = Duration::from_secs(60);
/// The figures the cluster view draws for nodes and tasks; dashboards
/// read the rest from the agent itself.
const FLOWING_METRICS: [&str; 4] = [
    "node.cpu.percent",
    "node.mem.percent",
    "task.cpu.percent",
    "task.mem.rss.bytes",
];
/// Points of each series a metrics snapshot brings (for sparklines).
const SNAPSHOT_POINTS: usize = 60;

/// What the hub holds of one agent.
#[derive(Default)]
pub struct Held {
    pub status: AgentStatus,
    /// Fleet ids throughout.
    pub nodes: HashMap<String, Node>,
    pub tasks: HashMap<String, Arc<Task>>,
    pub checks: HashMap<String, Check>,
    /// Checks changed since the hub's last reading.
    pub checks_changed: Vec<String>,
    pub samples: VecDeque<Sample>,
    /// Trace summaries changed since the hub's last reading.
    pub traces: VecDeque<TraceSummary>,
}

pub struct Agent {
    pub spec: AgentSpec,
    /// `None` when the token or CA file cannot be read (the status says why).
    pub client: Option<Client>,
    held: Mutex<Held>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

impl Agent {
    /// Starts following an agent (on the current Tokio runtime).
    pub fn start(spec: AgentSpec) -> Arc<Agent> {
        let client = read_token_file(&spec.token_file).and_then(|token| {
            Client::new(Endpoint {
                url: spec.url.clone(),
                token,
                ca: spec.ca_file.clone(),
            })
        });
        let mut held = Held::default();
        held.status.name = spec.name.clone();
        held.status.url = spec.url.clone();
        held.status.since = now_millis();
        let client = match client {
            Ok(client) => Some(client),
            Err(e) => {
                held.status.state = AgentState::Misconfigured;
                held.status.error = Some(e);
                None
            }
        };
        let agent = Arc::new(Agent {
            spec,
            client: client.clone(),
            held: Mutex::new(held),
            task: Mutex::new(None),
        });
        if let Some(client) = client {
            let task = tokio::spawn(follow(Arc::downgrade(&agent), client));
            *agent.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        }
        agent
    }

    pub fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn is_up(&self) -> bool {
        self.held().status.state == AgentState::Up
    }
}

fn subscriptions() -> Vec<Subscription> {
    let sub = |name: &str, topic, filter| Subscription {
        sub: name.into(),
        topic,
        filter,
    };
    vec![
        sub("nodes", Topic::Nodes, Filter::default()),
        sub("tasks", Topic::Tasks, Filter::default()),
        sub("health", Topic::Health, Filter::default()),
        sub("spans", Topic::Spans, Filter::default()),
        sub(
            "metrics",
            Topic::Metrics,
            Filter {
                names: FLOWING_METRICS.map(String::from).to_vec(),
                points: Some(SNAPSHOT_POINTS),
                ..Default::default()
            },
        ),
    ]
}

/// Follows the agent until it is dropped: the stream reconnects with
/// backoff by itself; a refusal is final for a stream, so a new one is
/// opened after [`REFUSED_RETRY`].
async fn follow(agent: std::sync::Weak<Agent>, client: Client) {
    loop {
        let mut stream = client.stream(subscriptions());
        while let Some(event) = stream.events.recv().await {
            let Some(agent) = agent.upgrade() else { return };
            let mut held = agent.held();
            let name = agent.spec.name.clone();
            match event {
                StreamEvent::Connecting { .. } | StreamEvent::Connected => {}
                StreamEvent::Disconnected { error, .. } => held.unreachable(error),
                StreamEvent::Refused { error } => {
                    held.unreachable(error);
                    held.status.state = AgentState::Refused;
                }
                StreamEvent::Message(msg) => held.take(&name, msg),
            }
        }
        tokio::time::sleep(REFUSED_RETRY).await;
        if agent.strong_count() == 0 {
            return;
        }
    }
}

impl Held {
    /// The agent cannot be reached: from now its nodes and tasks are shown
    /// as they last stood, marked since when.
    fn unreachable(&mut self, error: String) {
        let now = now_millis();
        if matches!(self.status.state, AgentState::Up | AgentState::Connecting) {
            self.status.since = now;
        }
        self.status.state = AgentState::Down;
        self.status.error = Some(error);
        let since = self.status.since;
        for node in self.nodes.values_mut() {
            node.unreachable_since.get_or_insert(since);
            node.health = crate::api::Health::Unknown;
        }
        for task in self.tasks.values_mut() {
            if task.unreachable_since.is_none() {
                let task = Arc::make_mut(task);
                task.unreachable_since = Some(since);
                task.health = crate::api::Health::Unknown;
            }
        }
    }

    fn contact(&mut self, now: UnixMillis) {
        self.status.last_contact = Some(now);
        if self.status.state != AgentState::Up {
            self.status.state = AgentState::Up;
            self.status.since = now;
            self.status.error = None;
        }
    }

    fn take(&mut self, agent: &str, msg: ServerMsg) {
        let now = now_millis();
        match msg {
            ServerMsg::Heartbeat { ts } => {
                self.contact(now);
                self.status.clock_offset_ms = Some(ts - now);
            }
            ServerMsg::Snapshot { sub, items, .. } => {
                self.contact(now);
                match sub.as_str() {
                    "nodes" => self.nodes.clear(),
                    "tasks" => self.tasks.clear(),
                    "health" => {
                        self.checks_changed.extend(self.checks.keys().cloned());
                        self.checks.clear();
                    }
                    _ => {}
                }
                for item in items {
                    self.record(agent, Op::Added, item);
                }
            }
            ServerMsg::Event { events, .. } => {
                self.contact(now);
                for event in events {
                    self.record(agent, event.op, event.data);
                }
            }
            ServerMsg::Gap { sub, dropped, .. } => {
                self.status.dropped += dropped;
                tracing::warn!("agent {agent}: {dropped} events of {sub} dropped on the way");
            }
            _ => {}
        }
        self.status.nodes = self.nodes.len();
        self.status.tasks = self.tasks.len();
    }

    fn record(&mut self, agent: &str, op: Op, record: Record) {
        match (op, record) {
            (Op::Removed, Record::Node(n)) => {
                self.nodes.remove(&crate::api::fleet_id(agent, &n.id));
            }
            (_, Record::Node(n)) => {
                let n = rename::node(agent, n);
                self.nodes.insert(n.id.clone(), n);
            }
            (Op::Removed, Record::Task(t)) => {
                self.tasks.remove(&crate::api::fleet_id(agent, &t.id));
            }
            (_, Record::Task(t)) => {
                let t = rename::task(agent, t);
                self.tasks.insert(t.id.clone(), Arc::new(t));
            }
            (op, Record::Check(c)) => {
                let mut c = rename::check(agent, c);
                self.checks_changed.push(c.id.clone());
                if op == Op::Removed {
                    self.checks.remove(&c.id);
                    return;
                }
                // An update carries its newest result only.
                if op == Op::Updated
                    && let Some(held) = self.checks.get_mut(&c.id)
                {
                    let mut history = std::mem::take(&mut held.history);
                    history.append(&mut c.history);
                    let over = history.len().saturating_sub(CHECK_HISTORY);
                    history.drain(..over);
                    c.history = history;
                }
                self.checks.insert(c.id.clone(), c);
            }
            (_, Record::Sample(s)) => self.sample(rename::sample(agent, s)),
            (_, Record::Trace(t)) => {
                if self.traces.len() >= TRACE_QUEUE {
                    self.traces.pop_front();
                    self.status.dropped += 1;
                }
                self.traces.push_back(t);
            }
            (_, Record::Series(s)) => {
                let s = rename::series(agent, s);
                for (ts, value) in &s.points {
                    self.sample(Sample {
                        name: s.name.clone(),
                        tags: s.tags.clone(),
                        ts: *ts,
                        value: *value,
                        unit: s.unit.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    fn sample(&mut self, sample: Sample) {
        if self.samples.len() >= SAMPLE_QUEUE {
            self.samples.pop_front();
            self.status.dropped += 1;
        }
        self.samples.push_back(sample);
    }
}
