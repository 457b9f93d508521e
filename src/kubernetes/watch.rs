//! The watches: list, then watch from the list's resourceVersion, with
//! bookmarks; a 410 Gone relists; a failure retries with backoff (all of
//! it kube-runtime's `watcher`). Each change is mapped as it arrives, so a
//! read of the source costs what changed, not the cluster's size.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Node as KubeNode, Pod};
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::{Held, Kube, WatchState, events, map};
use crate::api::{MAX_TASK_STATUSES, TaskStatus, now_millis};

pub fn start(kube: &Arc<Kube>) -> Vec<JoinHandle<()>> {
    let client = kube.client.clone();
    let scoped = |client: kube::Client| match &kube.namespace {
        Some(ns) => (
            Api::<Pod>::namespaced(client.clone(), ns),
            Api::<Event>::namespaced(client, ns),
        ),
        None => (Api::<Pod>::all(client.clone()), Api::<Event>::all(client)),
    };
    let (pods, events) = scoped(client.clone());
    let (listed, mut pods_listed) = tokio::sync::watch::channel(false);
    let kube_events = kube.clone();
    vec![
        tokio::spawn(follow(
            kube.clone(),
            "nodes",
            Api::<KubeNode>::all(client),
            Nodes::default(),
        )),
        tokio::spawn(follow(
            kube.clone(),
            "pods",
            pods,
            Pods {
                listed: HashSet::new(),
                first: Some(listed),
            },
        )),
        tokio::spawn(async move {
            // Events name their pod; with the pods listed first, an event
            // finds its pod's node and history (a while at most, so a
            // refused pod watch does not hold the events back).
            let _ = tokio::time::timeout(EVENTS_WAIT, pods_listed.wait_for(|l| *l)).await;
            let feed = kube_events.events_told.clone();
            let events_apply = Events {
                feed,
                told: HashMap::new(),
                listed: HashSet::new(),
                relisted: Vec::new(),
            };
            follow(kube_events, "events", events, events_apply).await
        }),
    ]
}

/// How long the events watch waits for the pods' first list.
const EVENTS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a watch does with each change it sees.
trait Apply<K>: Send {
    /// A relist began: what follows until `done` is the whole set.
    fn relist(&mut self);
    fn listed(&mut self, held: &mut Held, object: K);
    /// The relist is whole: what it did not list is gone.
    fn done(&mut self, held: &mut Held);
    fn applied(&mut self, held: &mut Held, object: K);
    fn deleted(&mut self, held: &mut Held, object: K);
}

async fn follow<K, A>(kube: Arc<Kube>, what: &'static str, api: Api<K>, mut apply: A)
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    A: Apply<K>,
{
    kube.held().watches.insert(what, WatchState::Listing);
    let mut changes = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(change) = changes.next().await {
        let mut held = kube.held();
        match change {
            Ok(watcher::Event::Init) => {
                held.watches.insert(what, WatchState::Listing);
                apply.relist();
            }
            Ok(watcher::Event::InitApply(object)) => apply.listed(&mut held, object),
            Ok(watcher::Event::InitDone) => {
                held.watches.insert(what, WatchState::Watching);
                apply.done(&mut held);
            }
            Ok(watcher::Event::Apply(object)) => {
                held.watches.insert(what, WatchState::Watching);
                apply.applied(&mut held, object);
            }
            Ok(watcher::Event::Delete(object)) => apply.deleted(&mut held, object),
            Err(e) => {
                let why = describe(&e);
                tracing::warn!("kube: watching {what}: {why}");
                held.watches.insert(what, WatchState::Failing(why));
            }
        }
    }
}

/// A watch error in the API server's own words where it gave some.
fn describe(error: &watcher::Error) -> String {
    let api = match error {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => match e {
            kube::Error::Api(status) => Some(status),
            _ => None,
        },
        watcher::Error::WatchError(status) => Some(status),
        _ => None,
    };
    match api {
        Some(status) => format!("{} ({})", status.message, status.code),
        None => error.to_string(),
    }
}

#[derive(Default)]
struct Nodes {
    listed: HashSet<String>,
}

impl Apply<KubeNode> for Nodes {
    fn relist(&mut self) {
        self.listed.clear();
    }
    fn listed(&mut self, held: &mut Held, node: KubeNode) {
        let node = map::node(&node, now_millis());
        self.listed.insert(node.id.clone());
        held.nodes.insert(node.id.clone(), node);
    }
    fn done(&mut self, held: &mut Held) {
        let listed = std::mem::take(&mut self.listed);
        held.nodes.retain(|id, _| listed.contains(id));
    }
    fn applied(&mut self, held: &mut Held, node: KubeNode) {
        let node = map::node(&node, now_millis());
        held.nodes.insert(node.id.clone(), node);
    }
    fn deleted(&mut self, held: &mut Held, node: KubeNode) {
        held.nodes
            .remove(node.metadata.name.as_deref().unwrap_or_default());
    }
}

struct Pods {
    listed: HashSet<String>,
    /// Told when the first list is whole.
    first: Option<tokio::sync::watch::Sender<bool>>,
}

impl Pods {
    fn put(held: &mut Held, pod: &Pod) -> String {
        let before = held.tasks.get(&id_of(pod)).cloned();
        let task = map::pod(pod, before.as_deref(), now_millis());
        let id = task.id.clone();
        held.tasks.insert(id.clone(), Arc::new(task));
        id
    }
}

fn id_of(pod: &Pod) -> String {
    map::task_id(
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default(),
    )
}

impl Apply<Pod> for Pods {
    fn relist(&mut self) {
        self.listed.clear();
    }
    fn listed(&mut self, held: &mut Held, pod: Pod) {
        let id = Pods::put(held, &pod);
        self.listed.insert(id);
    }
    fn done(&mut self, held: &mut Held) {
        let listed = std::mem::take(&mut self.listed);
        held.tasks.retain(|id, _| listed.contains(id));
        if let Some(first) = self.first.take() {
            let _ = first.send(true);
        }
    }
    fn applied(&mut self, held: &mut Held, pod: Pod) {
        Pods::put(held, &pod);
    }
    fn deleted(&mut self, held: &mut Held, pod: Pod) {
        held.tasks.remove(&id_of(&pod));
    }
}

/// Events are news, not state: each one is told once, however often the
/// watch relists. An event that recurs (its series' count goes up) is an
/// update of the same object with a new resourceVersion, and told again.
struct Events {
    /// Where each event is told to the log subscriptions following.
    feed: tokio::sync::broadcast::Sender<crate::api::LogEntry>,
    /// The resourceVersion told of each event still in the cluster.
    told: HashMap<String, String>,
    listed: HashSet<String>,
    /// A relist's events, told in time order when it is whole.
    relisted: Vec<Event>,
}

impl Events {
    fn tell(&mut self, held: &mut Held, event: Event) {
        let uid = event.metadata.uid.clone().unwrap_or_default();
        let version = event.metadata.resource_version.clone().unwrap_or_default();
        if self.told.get(&uid) == Some(&version) {
            return;
        }
        self.told.insert(uid, version);
        let pod = events::pod_of(&event);
        let node = match (&pod, event.regarding.as_ref()) {
            (Some(pod), _) => held.tasks.get(pod).map(|t| t.node_id.clone()),
            (None, Some(r)) if r.kind.as_deref() == Some("Node") => r.name.clone(),
            _ => None,
        };
        // The pod's history carries what `kubectl describe` would list.
        if let Some(task) = pod.and_then(|p| held.tasks.get_mut(&p)) {
            let task = Arc::make_mut(task);
            task.statuses.push(TaskStatus {
                state: task.state,
                at: events::when(&event),
                message: events::summary(&event),
            });
            task.statuses.sort_by_key(|s| s.at);
            if task.statuses.len() > MAX_TASK_STATUSES {
                task.statuses.remove(0);
            }
        }
        let entry = events::entry(&event, node.unwrap_or_default());
        // No one following is no error.
        let _ = self.feed.send(entry.clone());
        held.push_event(entry);
    }
}

impl Apply<Event> for Events {
    fn relist(&mut self) {
        self.listed.clear();
        self.relisted.clear();
    }
    fn listed(&mut self, _held: &mut Held, event: Event) {
        self.listed
            .insert(event.metadata.uid.clone().unwrap_or_default());
        self.relisted.push(event);
    }
    fn done(&mut self, held: &mut Held) {
        let mut relisted = std::mem::take(&mut self.relisted);
        relisted.sort_by_key(events::when);
        for event in relisted {
            self.tell(held, event);
        }
        let listed = std::mem::take(&mut self.listed);
        self.told.retain(|uid, _| listed.contains(uid));
    }
    fn applied(&mut self, held: &mut Held, event: Event) {
        self.tell(held, event);
    }
    fn deleted(&mut self, _held: &mut Held, event: Event) {
        self.told
            .remove(event.metadata.uid.as_deref().unwrap_or_default());
    }
}
