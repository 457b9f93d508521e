//! CPU and memory from `metrics.k8s.io` (metrics-server), read at its own
//! pace: node and pod figures as samples, so sparklines and dashboards
//! work as on a host, and in the nodes' and tasks' usage. Where the API is
//! not served, the nodes say so where their figures would be, and a check
//! says why.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{Held, Kube, WatchState, quantity};
use crate::api::{Labels, Sample, now_millis};
use crate::collect::{sample, tagged};

/// How often metrics are read: metrics-server's own resolution is 15 s.
pub const METRICS_EVERY: Duration = Duration::from_secs(15);
/// Samples held between two reads of the source, at most.
const MAX_SAMPLES: usize = 50_000;
/// What the node label `metrics` says when there are none.
pub const ABSENT: &str = "absent: metrics.k8s.io is not served (no metrics-server)";

#[derive(Deserialize)]
struct List<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    cpu: Option<String>,
    #[serde(default)]
    memory: Option<String>,
}

#[derive(Deserialize)]
struct NodeMetrics {
    metadata: Meta,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
struct PodMetrics {
    metadata: Meta,
    #[serde(default)]
    containers: Vec<Container>,
}

async fn get<T: serde::de::DeserializeOwned>(kube: &Kube, path: &str) -> Result<T, String> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    kube.client.request(request).await.map_err(|e| match e {
        kube::Error::Api(status) if status.code == 404 => ABSENT.to_string(),
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    })
}

/// Reads the metrics API every [`METRICS_EVERY`] while the cluster is watched.
pub async fn poll(kube: Arc<Kube>) {
    let mut every = tokio::time::interval(METRICS_EVERY);
    let pods = match &kube.namespace {
        Some(ns) => format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods"),
        None => "/apis/metrics.k8s.io/v1beta1/pods".to_string(),
    };
    loop {
        every.tick().await;
        let read = async {
            let nodes: List<NodeMetrics> = get(&kube, "/apis/metrics.k8s.io/v1beta1/nodes").await?;
            let pods: List<PodMetrics> = get(&kube, &pods).await?;
            Ok::<_, String>((nodes, pods))
        };
        let read = read.await;
        let mut held = kube.held();
        match read {
            Ok((nodes, pods)) => {
                apply(&mut held, nodes.items, pods.items);
                held.metrics_absent = None;
                held.watches.insert("metrics", WatchState::Watching);
            }
            Err(why) => {
                held.metrics_absent = Some(why.clone());
                held.watches.insert("metrics", WatchState::Failing(why));
            }
        }
    }
}

fn apply(held: &mut Held, nodes: Vec<NodeMetrics>, pods: Vec<PodMetrics>) {
    let now = now_millis();
    let mut samples: Vec<Sample> = Vec::new();
    for metrics in nodes {
        let Some(node) = held.nodes.get_mut(&metrics.metadata.name) else {
            continue;
        };
        let cores = quantity::cores(metrics.usage.cpu.as_deref());
        let bytes = quantity::bytes(metrics.usage.memory.as_deref());
        if node.capacity.cpus > 0.0 {
            node.usage.cpu_percent = (cores / node.capacity.cpus * 100.0 * 100.0).round() / 100.0;
        }
        node.usage.mem_bytes = bytes;
        let tag = [("node_id", node.id.as_str())];
        samples.push(sample(
            "node.cpu.percent",
            &tag,
            now,
            node.usage.cpu_percent,
            "percent",
        ));
        samples.push(sample(
            "node.mem.used.bytes",
            &tag,
            now,
            bytes as f64,
            "bytes",
        ));
        if node.capacity.mem_bytes > 0 {
            let percent = bytes as f64 / node.capacity.mem_bytes as f64 * 100.0;
            samples.push(sample("node.mem.percent", &tag, now, percent, "percent"));
        }
    }
    for metrics in pods {
        let id = super::map::task_id(
            metrics.metadata.namespace.as_deref().unwrap_or("default"),
            &metrics.metadata.name,
        );
        let Some(task) = held.tasks.get_mut(&id) else {
            continue;
        };
        let cores: f64 = metrics
            .containers
            .iter()
            .map(|c| quantity::cores(c.usage.cpu.as_deref()))
            .sum();
        let bytes: u64 = metrics
            .containers
            .iter()
            .map(|c| quantity::bytes(c.usage.memory.as_deref()))
            .sum();
        if task.cpu != cores || task.mem_bytes != bytes {
            let task = Arc::make_mut(task);
            task.cpu = cores;
            task.mem_bytes = bytes;
        }
        let tags = Labels::of(&[
            ("node_id", task.node_id.as_str()),
            ("task_id", task.id.as_str()),
            ("group", task.group.as_str()),
        ]);
        samples.push(tagged(
            "task.cpu.percent",
            &tags,
            now,
            cores * 100.0,
            "percent",
        ));
        samples.push(tagged(
            "task.mem.rss.bytes",
            &tags,
            now,
            bytes as f64,
            "bytes",
        ));
    }
    let room = MAX_SAMPLES.saturating_sub(held.samples.len());
    held.samples_dropped += samples.len().saturating_sub(room) as u64;
    held.samples.extend(samples.into_iter().take(room));
}
