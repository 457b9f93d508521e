//! A Kubernetes cluster as a source: nodes, pods and events watched
//! through the API server with the operator's kubeconfig (so the cluster's
//! RBAC and audit apply), mapped into day2top's model. See DESIGN.md,
//! "Kubernetes".

mod actions;
mod checks;
pub mod connect;
pub mod events;
mod exec;
mod logs;
pub mod map;
mod metrics;
pub mod quantity;
mod source;
mod watch;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::JoinHandle;

pub use connect::KubeOptions;
pub use source::KubeSource;

use crate::api::{LogEntry, Node, Task};

/// Events held between two reads of the source; more are dropped and
/// counted (a cluster in a storm makes thousands a second).
const MAX_EVENTS_QUEUED: usize = 10_000;
/// The newest events kept for log subscriptions (a pod's, a node's, a
/// namespace's lines come with their events).
const RECENT_EVENTS: usize = 5_000;

/// One cluster, as its watches last saw it.
pub struct Kube {
    pub client: kube::Client,
    /// The API server's URL.
    pub server: String,
    /// The namespace pods and events are watched in; `None`: all.
    pub namespace: Option<String>,
    /// The kubeconfig context (or `in-cluster`): the cluster's name.
    pub context: String,
    held: Mutex<Held>,
    watches: Mutex<Vec<JoinHandle<()>>>,
    /// Each event as it is told, for the log subscriptions following.
    events_told: tokio::sync::broadcast::Sender<LogEntry>,
}

/// How one watch stands.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchState {
    Listing,
    Watching,
    /// The last attempt failed (the watch retries with backoff).
    Failing(String),
}

#[derive(Default)]
pub struct Held {
    pub nodes: HashMap<String, Node>,
    pub tasks: HashMap<String, Arc<Task>>,
    /// Events not yet read by the source, oldest first.
    pub events: VecDeque<LogEntry>,
    pub events_dropped: u64,
    /// The newest events, oldest first, at most [`RECENT_EVENTS`].
    pub recent_events: VecDeque<LogEntry>,
    /// Each watch (`nodes`, `pods`, `events`, and the `metrics` reads) and
    /// how it stands.
    pub watches: BTreeMap<&'static str, WatchState>,
    /// CPU and memory samples not yet read by the source.
    pub samples: Vec<crate::api::Sample>,
    pub samples_dropped: u64,
    /// Why there are no figures, while metrics.k8s.io cannot be read.
    pub metrics_absent: Option<String>,
}

impl Held {
    fn push_event(&mut self, entry: LogEntry) {
        if self.recent_events.len() >= RECENT_EVENTS {
            self.recent_events.pop_front();
        }
        self.recent_events.push_back(entry.clone());
        if self.events.len() >= MAX_EVENTS_QUEUED {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(entry);
    }
}

impl Kube {
    /// Connects with `options` and starts watching; the first lists arrive
    /// in the background.
    pub async fn start(options: &KubeOptions) -> Result<Arc<Kube>, String> {
        let connected = connect::connect(options).await?;
        let kube = Arc::new(Kube {
            client: connected.client,
            server: connected.server,
            namespace: connected.namespace,
            context: connected.context,
            held: Mutex::new(Held::default()),
            watches: Mutex::new(Vec::new()),
            events_told: tokio::sync::broadcast::channel(1024).0,
        });
        let mut handles = watch::start(&kube);
        handles.push(tokio::spawn(metrics::poll(kube.clone())));
        *kube.watches.lock().unwrap_or_else(|p| p.into_inner()) = handles;
        Ok(kube)
    }

    pub fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops every watch.
    pub fn stop(&self) {
        for handle in self
            .watches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            handle.abort();
        }
    }
}
