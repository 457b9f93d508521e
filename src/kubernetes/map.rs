//! Kubernetes objects as day2top's model: a node is a node, a pod is a
//! task (its containers in the task's labels). Pure functions, so a test
//! feeds them the shapes a real API server sends.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerStatus, Node as KubeNode, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::quantity;
use crate::api::{
    Capacity, Health, Labels, MAX_TASK_STATUSES, Node, Task, TaskState, TaskStatus, UnixMillis,
    Usage,
};

/// The conditions other than Ready that make a node unhealthy when True.
const PRESSURES: [&str; 4] = [
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NetworkUnavailable",
];

fn millis(time: Option<&Time>) -> UnixMillis {
    time.map_or(0, |t| t.0.as_millisecond())
}

/// A task's id for a pod: `NAMESPACE/NAME`, what `kubectl` names it by
/// (a pod's uid changes when its controller recreates it; its name, for a
/// StatefulSet, does not).
pub fn task_id(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// The namespace and name of a task id made by [`task_id`].
pub fn split_task_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('/')
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
}

pub fn node(node: &KubeNode, now: UnixMillis) -> Node {
    let meta = &node.metadata;
    let name = meta.name.clone().unwrap_or_default();
    let status = node.status.as_ref();
    let spec = node.spec.as_ref();
    let mut labels: Labels = meta
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let conditions = status.and_then(|s| s.conditions.as_ref());
    let condition = |kind: &str| conditions.into_iter().flatten().find(|c| c.type_ == kind);
    let ready = condition("Ready");
    let pressures: Vec<&str> = PRESSURES
        .into_iter()
        .filter(|p| condition(p).is_some_and(|c| c.status == "True"))
        .collect();
    let unschedulable = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let health = match ready.map(|c| c.status.as_str()) {
        Some("True") if pressures.is_empty() => Health::Healthy,
        Some("True" | "False") => Health::Unhealthy,
        _ => Health::Unknown,
    };
    if let Some(ready) = ready {
        let why = ready.message.as_deref().or(ready.reason.as_deref());
        labels.insert("ready".into(), ready.status.clone());
        if ready.status != "True"
            && let Some(why) = why
        {
            labels.insert("not_ready".into(), why.to_string());
        }
    }
    if !pressures.is_empty() {
        labels.insert("pressure".into(), pressures.join(","));
    }
    if unschedulable {
        labels.insert("unschedulable".into(), "true".into());
    }
    let taints: Vec<String> = spec
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| match &t.value {
            Some(v) => format!("{}={v}:{}", t.key, t.effect),
            None => format!("{}:{}", t.key, t.effect),
        })
        .collect();
    if !taints.is_empty() {
        labels.insert("taints".into(), taints.join(","));
    }
    let info = status.and_then(|s| s.node_info.as_ref());
    if let Some(info) = info {
        labels.insert("kubelet".into(), info.kubelet_version.clone());
        labels.insert("runtime".into(), info.container_runtime_version.clone());
    }
    let resource = |map: Option<&BTreeMap<String, _>>, key: &str| {
        map.and_then(|m| m.get(key))
            .map(|q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| q.0.clone())
    };
    let allocatable = status.and_then(|s| s.allocatable.as_ref());
    for (key, label) in [
        ("cpu", "allocatable_cpu"),
        ("memory", "allocatable_memory"),
        ("pods", "allocatable_pods"),
    ] {
        if let Some(q) = resource(allocatable, key) {
            labels.insert(label.into(), q);
        }
    }
    let capacity = status.and_then(|s| s.capacity.as_ref());
    let addresses: Vec<(String, String)> = status
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .map(|a| (a.type_.clone(), a.address.clone()))
        .collect();
    let address = addresses
        .iter()
        .find(|(kind, _)| kind == "InternalIP")
        .or(addresses.first())
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
    Node {
        id: name.clone(),
        hostname: name,
        address,
        addresses: addresses.into_iter().map(|(_, a)| a).collect(),
        role: role(meta),
        labels,
        capacity: Capacity {
            cpus: quantity::cores(resource(capacity, "cpu").as_deref()),
            mem_bytes: quantity::bytes(resource(capacity, "memory").as_deref()),
            disk_bytes: quantity::bytes(resource(capacity, "ephemeral-storage").as_deref()),
        },
        usage: Usage::default(),
        disks: Vec::new(),
        health,
        os: info
            .map(|i| format!("{} {}", i.os_image, i.kernel_version))
            .unwrap_or_default(),
        boot_time: millis(meta.creation_timestamp.as_ref()),
        last_seen: ready
            .and_then(|c| c.last_heartbeat_time.as_ref())
            .map_or(now, |t| t.0.as_millisecond()),
        unreachable_since: None,
    }
}

/// `control-plane`, another `node-role.kubernetes.io/` role, or `worker`.
fn role(meta: &ObjectMeta) -> String {
    let mut roles: Vec<&str> = meta
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort_unstable();
    if roles.is_empty() {
        "worker".into()
    } else {
        roles.join(",")
    }
}

/// Who a pod belongs to, as `Kind/name`: a ReplicaSet's pod is its
/// Deployment's (the ReplicaSet's name is the Deployment's and the pod
/// template's hash), a Job's pod its CronJob's when the Job's name is the
/// CronJob's and a schedule time. A pod of no controller is its own.
pub fn owner(meta: &ObjectMeta) -> String {
    let controller = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .or_else(|| meta.owner_references.as_ref().and_then(|o| o.first()));
    let Some(controller) = controller else {
        return format!("Pod/{}", meta.name.as_deref().unwrap_or_default());
    };
    let labels = meta.labels.as_ref();
    match controller.kind.as_str() {
        "ReplicaSet" => {
            let hash = labels.and_then(|l| l.get("pod-template-hash"));
            match hash.and_then(|h| controller.name.strip_suffix(&format!("-{h}"))) {
                Some(deployment) => format!("Deployment/{deployment}"),
                None => format!("ReplicaSet/{}", controller.name),
            }
        }
        "Job" => match controller.name.rsplit_once('-') {
            // A CronJob names its Jobs NAME-<minutes since the epoch>.
            Some((cronjob, stamp))
                if stamp.len() >= 8 && stamp.bytes().all(|b| b.is_ascii_digit()) =>
            {
                format!("CronJob/{cronjob}")
            }
            _ => format!("Job/{}", controller.name),
        },
        kind => format!("{kind}/{}", controller.name),
    }
}

/// Why a container is not running, the way an operator acts on it.
fn container_reason(status: &ContainerStatus) -> Option<String> {
    let state = status.state.as_ref()?;
    if let Some(waiting) = &state.waiting {
        return waiting.reason.clone();
    }
    if let Some(terminated) = &state.terminated
        && terminated.exit_code != 0
    {
        return terminated
            .reason
            .clone()
            .or_else(|| Some(format!("exit code {}", terminated.exit_code)));
    }
    // Running now, but it died before: why it did (OOMKilled) is what an
    // operator wants next to the restart count.
    let last = status.last_state.as_ref()?.terminated.as_ref()?;
    (status.restart_count > 0)
        .then(|| last.reason.clone())
        .flatten()
}

/// What a pod is doing, as a task state, with the reason an operator reads
/// in the STATUS column of `kubectl get pods` (CrashLoopBackOff, OOMKilled,
/// Evicted, Unschedulable, …).
pub fn pod_state(pod: &Pod) -> (TaskState, Option<String>) {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    let containers: Vec<&ContainerStatus> = status
        .into_iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .chain(s.container_statuses.iter())
        })
        .flatten()
        .collect();
    let reason = containers
        .iter()
        .filter(|c| c.state.as_ref().is_some_and(|s| s.running.is_none()) || c.restart_count > 0)
        .find_map(|c| container_reason(c))
        .or_else(|| status.and_then(|s| s.reason.clone()));
    let scheduled = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled");
    let deleting = pod.metadata.deletion_timestamp.is_some();
    let state = match phase {
        _ if deleting && phase != "Succeeded" && phase != "Failed" => TaskState::Killed,
        "Pending" if scheduled.is_some_and(|c| c.status == "True") => TaskState::Starting,
        "Pending" => TaskState::Staging,
        "Running" => TaskState::Running,
        "Succeeded" => TaskState::Finished,
        "Failed" if reason.as_deref() == Some("Evicted") => TaskState::Killed,
        "Failed" => TaskState::Failed,
        _ => TaskState::Lost,
    };
    let reason = match (state, reason) {
        (TaskState::Killed, None) if deleting => Some("Terminating".into()),
        (TaskState::Staging, None) => scheduled
            .filter(|c| c.status == "False")
            .and_then(|c| c.message.clone().or(c.reason.clone())),
        (_, reason) => reason,
    };
    (state, reason)
}

/// A pod as a task. `before` is the task as it last stood, whose state
/// history the new one carries on.
pub fn pod(pod: &Pod, before: Option<&Task>, now: UnixMillis) -> Task {
    let meta = &pod.metadata;
    let namespace = meta.namespace.as_deref().unwrap_or("default");
    let name = meta.name.as_deref().unwrap_or_default();
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let (state, reason) = pod_state(pod);
    let statuses_of = status.and_then(|s| s.container_statuses.as_ref());
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let restarts: i32 = statuses_of
        .into_iter()
        .flatten()
        .map(|c| c.restart_count)
        .sum();
    let ready = statuses_of
        .into_iter()
        .flatten()
        .filter(|c| c.ready)
        .count();
    let pod_ready = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .is_some_and(|c| c.status == "True");
    let health = match state {
        TaskState::Running if pod_ready && reason.is_none() => Health::Healthy,
        TaskState::Running | TaskState::Starting => Health::Unhealthy,
        _ => Health::Unknown,
    };
    let mut labels: Labels = meta
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "pod-template-hash")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert("namespace".into(), namespace.to_string());
    labels.insert("ready".into(), format!("{ready}/{}", containers.len()));
    labels.insert("restarts".into(), restarts.to_string());
    let restarted: Vec<&str> = statuses_of
        .into_iter()
        .flatten()
        .filter(|c| c.restart_count > 0)
        .map(|c| c.name.as_str())
        .collect();
    if !restarted.is_empty() {
        // Whose previous container's log there is to read.
        labels.insert("restarted".into(), restarted.join(","));
    }
    labels.insert(
        "containers".into(),
        containers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    if let Some(default) = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
    {
        labels.insert("default_container".into(), default.clone());
    }
    let images: Vec<&str> = containers
        .iter()
        .filter_map(|c| c.image.as_deref())
        .collect();
    labels.insert("images".into(), images.join(","));
    if let Some(reason) = &reason {
        labels.insert("reason".into(), reason.clone());
    }
    if let Some(ip) = status.and_then(|s| s.pod_ip.as_ref()) {
        labels.insert("ip".into(), ip.clone());
    }
    if let Some(qos) = status.and_then(|s| s.qos_class.as_ref()) {
        labels.insert("qos".into(), qos.clone());
    }
    let limit = |key: &str| {
        containers
            .iter()
            .map(|c| {
                c.resources
                    .as_ref()
                    .and_then(|r| r.limits.as_ref())
                    .and_then(|l| l.get(key))
                    .map(|q| q.0.as_str())
            })
            .collect::<Option<Vec<_>>>()
    };
    // A limit for the pod only when every container has one.
    let cpu_limit = limit("cpu").map_or(0.0, |qs| {
        qs.into_iter().map(|q| quantity::cores(Some(q))).sum()
    });
    let mem_limit = limit("memory").map_or(0, |qs| {
        qs.into_iter().map(|q| quantity::bytes(Some(q))).sum()
    });
    let started = millis(
        status
            .and_then(|s| s.start_time.as_ref())
            .or(meta.creation_timestamp.as_ref()),
    );
    let mut statuses = before.map(|t| t.statuses.clone()).unwrap_or_default();
    let message = reason.clone().unwrap_or_default();
    // Against the task's state and reason, not its last status: events
    // are in the history too (see `watch`).
    let changed = before.is_none_or(|b| {
        b.state != state || b.labels.get("reason").map(String::as_str) != reason.as_deref()
    });
    if changed {
        statuses.push(TaskStatus {
            state,
            at: if before.is_none() { started } else { now },
            message,
        });
        if statuses.len() > MAX_TASK_STATUSES {
            statuses.remove(0);
        }
    }
    let updated = match before {
        Some(b) if !changed => b.updated,
        _ => now,
    };
    Task {
        id: task_id(namespace, name),
        name: name.to_string(),
        group: owner(meta),
        node_id: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        state,
        health,
        cpu: before.map_or(0.0, |t| t.cpu),
        cpu_limit,
        mem_bytes: before.map_or(0, |t| t.mem_bytes),
        mem_limit,
        started,
        updated,
        version: images
            .iter()
            .map(|i| image_tag(i))
            .collect::<Vec<_>>()
            .join(","),
        labels,
        statuses,
        unreachable_since: None,
    }
}

/// `v1.12.1` of `registry.k8s.io/coredns/coredns:v1.12.1`; a digest's
/// first 12 hex digits; `latest` when the image names no tag.
fn image_tag(image: &str) -> String {
    if let Some((_, digest)) = image.split_once('@') {
        let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
        return hex.chars().take(12).collect();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => tag.to_string(),
        None => "latest".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::List;

    /// The pods a real v1.34 cluster sent (tests/fixtures/kube/README.md).
    fn recorded() -> Vec<Pod> {
        let list: List<Pod> =
            serde_json::from_str(include_str!("../../tests/fixtures/kube/pod-list.json")).unwrap();
        list.items
    }

    #[test]
    fn recorded_pods_are_running_tasks_of_their_owners() {
        let tasks: Vec<Task> = recorded().iter().map(|p| pod(p, None, 0)).collect();
        assert_eq!(tasks.len(), 8);
        for task in &tasks {
            assert_eq!(task.state, TaskState::Running, "{}", task.name);
            assert_eq!(task.health, Health::Healthy, "{}", task.name);
            assert_eq!(task.node_id, "v1.34-control-plane");
            assert!(task.id.starts_with("kube-system/"));
            assert_eq!(task.statuses.len(), 1);
        }
        let group = |name: &str| {
            tasks
                .iter()
                .find(|t| t.name.starts_with(name))
                .unwrap()
                .group
                .clone()
        };
        assert_eq!(group("coredns"), "Deployment/coredns");
        assert_eq!(group("kube-proxy"), "DaemonSet/kube-proxy");
        assert_eq!(group("etcd"), "Node/v1.34-control-plane");
        let coredns = tasks
            .iter()
            .find(|t| t.name.starts_with("coredns"))
            .unwrap();
        assert_eq!(coredns.version, "v1.12.1");
        assert_eq!(coredns.mem_limit, 170 << 20);
        assert_eq!(coredns.labels["qos"], "Burstable");
    }

    #[test]
    fn a_pods_history_grows_only_when_its_state_or_reason_does() {
        let mut p = recorded().swap_remove(0);
        let first = pod(&p, None, 1_000);
        let again = pod(&p, Some(&first), 2_000);
        assert_eq!(again.statuses.len(), 1);
        assert_eq!(again.updated, first.updated);
        p.status.as_mut().unwrap().phase = Some("Succeeded".into());
        let done = pod(&p, Some(&again), 3_000);
        assert_eq!(done.state, TaskState::Finished);
        assert_eq!(done.statuses.len(), 2);
        assert_eq!(done.statuses[1].at, 3_000);
    }

    #[test]
    fn owners_as_an_operator_names_them() {
        let meta = |kind: &str, name: &str, labels: &[(&str, &str)]| ObjectMeta {
            name: Some("p".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            owner_references: Some(vec![
                k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                    kind: kind.into(),
                    name: name.into(),
                    controller: Some(true),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        assert_eq!(
            owner(&meta(
                "ReplicaSet",
                "web-5d8f",
                &[("pod-template-hash", "5d8f")]
            )),
            "Deployment/web"
        );
        assert_eq!(
            owner(&meta("ReplicaSet", "web-5d8f", &[])),
            "ReplicaSet/web-5d8f"
        );
        assert_eq!(
            owner(&meta("Job", "backup-29123456", &[])),
            "CronJob/backup"
        );
        assert_eq!(owner(&meta("Job", "migrate-db", &[])), "Job/migrate-db");
        assert_eq!(owner(&meta("StatefulSet", "pg", &[])), "StatefulSet/pg");
        assert_eq!(
            owner(&ObjectMeta {
                name: Some("solo".into()),
                ..Default::default()
            }),
            "Pod/solo"
        );
        assert_eq!(image_tag("nginx"), "latest");
        assert_eq!(image_tag("localhost:5000/app:1.2"), "1.2");
        assert_eq!(image_tag("app@sha256:0123456789abcdef0123"), "0123456789ab");
    }
}
