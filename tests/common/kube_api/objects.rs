//! Objects for the fake API server, in the shapes a real one sends: pods
//! made from a recorded pod list (see tests/fixtures/kube/README.md),
//! nodes and events written by hand after the same API.

use serde_json::{Value, json};

/// The recorded pods of a kind cluster's kube-system namespace.
pub fn recorded_pods() -> Vec<Value> {
    let list: Value =
        serde_json::from_str(include_str!("../../fixtures/kube/pod-list.json")).unwrap();
    list["items"].as_array().unwrap().clone()
}

/// A pod like the recorded coredns one (a Deployment's, through its
/// ReplicaSet), named `name` in `namespace` on `node`, running and ready.
pub fn pod(namespace: &str, name: &str, node: &str) -> Value {
    let mut pod = recorded_pods().swap_remove(0);
    let meta = &mut pod["metadata"];
    meta["name"] = json!(name);
    meta["namespace"] = json!(namespace);
    meta["uid"] = json!(format!("uid-{namespace}-{name}"));
    meta["generateName"] = Value::Null;
    let deployment = name.rsplitn(3, '-').nth(2).unwrap_or(name);
    meta["labels"] = json!({"app": deployment, "pod-template-hash": "5d8f7c9b4"});
    meta["ownerReferences"][0]["name"] = json!(format!("{deployment}-5d8f7c9b4"));
    pod["spec"]["nodeName"] = json!(node);
    pod
}

/// The pod's one container waiting in CrashLoopBackOff, last killed for
/// memory, after `restarts` restarts.
pub fn crash_looping(mut pod: Value, restarts: u32) -> Value {
    let status = &mut pod["status"];
    status["conditions"][2]["status"] = json!("False");
    status["containerStatuses"][0]["ready"] = json!(false);
    status["containerStatuses"][0]["started"] = json!(false);
    status["containerStatuses"][0]["restartCount"] = json!(restarts);
    status["containerStatuses"][0]["state"] = json!({"waiting": {
        "reason": "CrashLoopBackOff",
        "message": "back-off 5m0s restarting failed container=coredns pod=x"
    }});
    status["containerStatuses"][0]["lastState"] = json!({"terminated": {
        "exitCode": 137, "reason": "OOMKilled",
        "startedAt": "2026-06-15T04:20:00Z", "finishedAt": "2026-06-15T04:20:09Z",
        "containerID": "containerd://0123"
    }});
    pod
}

/// The pod not scheduled: no node fits it.
pub fn unschedulable(mut pod: Value) -> Value {
    pod["spec"]["nodeName"] = Value::Null;
    pod["status"] = json!({
        "phase": "Pending",
        "qosClass": "Burstable",
        "conditions": [{
            "type": "PodScheduled", "status": "False", "lastProbeTime": null,
            "lastTransitionTime": "2026-06-15T04:15:03Z", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient memory."
        }]
    });
    pod
}

/// A node of a kind cluster, Ready unless `ready` is false.
pub fn node(name: &str, ready: bool, control_plane: bool) -> Value {
    let mut labels = json!({
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux"
    });
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
    }
    let condition = |kind: &str, status: bool, reason: &str, message: &str| {
        json!({
            "type": kind,
            "status": if status { "True" } else { "False" },
            "lastHeartbeatTime": "2026-06-15T04:30:00Z",
            "lastTransitionTime": "2026-06-15T04:14:30Z",
            "reason": reason,
            "message": message
        })
    };
    json!({
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": format!("uid-node-{name}"),
            "resourceVersion": "1",
            "creationTimestamp": "2026-06-15T04:14:20Z",
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"}
        },
        "spec": {
            "podCIDR": "10.244.0.0/24",
            "podCIDRs": ["10.244.0.0/24"],
            "providerID": format!("kind://docker/kind/{name}"),
            "taints": if control_plane {
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
            } else {
                Value::Null
            }
        },
        "status": {
            "capacity": {"cpu": "8", "ephemeral-storage": "263174212Ki", "hugepages-2Mi": "0",
                         "memory": "32827104Ki", "pods": "110"},
            "allocatable": {"cpu": "8", "ephemeral-storage": "263174212Ki", "hugepages-2Mi": "0",
                            "memory": "32827104Ki", "pods": "110"},
            "conditions": [
                condition("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                if ready {
                    condition("Ready", true, "KubeletReady", "kubelet is posting ready status")
                } else {
                    json!({"type": "Ready", "status": "Unknown",
                           "lastHeartbeatTime": "2026-06-15T04:30:00Z",
                           "lastTransitionTime": "2026-06-15T04:31:00Z",
                           "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."})
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "172.18.0.4"},
                {"type": "Hostname", "address": name}
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "f0e4c2f76c58916ec258f246851bea09", "systemUUID": "0f9e4c5b",
                "bootID": "b3c1", "kernelVersion": "6.1.0-31-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://2.1.1",
                "kubeletVersion": "v1.34.0", "kubeProxyVersion": "", "operatingSystem": "linux",
                "architecture": "amd64"
            }
        }
    })
}

/// An events.k8s.io/v1 event about a pod.
pub fn pod_event(
    namespace: &str,
    pod: &str,
    kind: &str,
    reason: &str,
    note: &str,
    n: u64,
) -> Value {
    json!({
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": {
            "name": format!("{pod}.{n:016x}"),
            "namespace": namespace,
            "uid": format!("uid-event-{namespace}-{pod}-{n}"),
            "resourceVersion": "1",
            "creationTimestamp": "2026-06-15T04:20:10Z"
        },
        "eventTime": null,
        "reportingController": "kubelet",
        "reportingInstance": "v1.34-control-plane",
        "action": reason,
        "reason": reason,
        "regarding": {"kind": "Pod", "namespace": namespace, "name": pod,
                      "uid": format!("uid-{namespace}-{pod}"), "apiVersion": "v1",
                      "resourceVersion": "480", "fieldPath": "spec.containers{coredns}"},
        "note": note,
        "type": kind,
        "deprecatedSource": {"component": "kubelet", "host": "v1.34-control-plane"},
        "deprecatedFirstTimestamp": "2026-06-15T04:20:10Z",
        "deprecatedLastTimestamp": "2026-06-15T04:20:10Z",
        "deprecatedCount": 1
    })
}
