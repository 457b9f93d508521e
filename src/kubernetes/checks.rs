//! Health for a Kubernetes cluster: each node's conditions and each
//! running pod's readiness as checks with history (a result when they
//! change, and each minute), and checks of the cluster, worked out at each
//! reading of the source (a pass over the held tasks), in the spirit of
//! the production checklist: pods crash-looping, pods pending too long,
//! nodes not ready, control-plane pods not running, an even number of
//! etcd members.

use std::collections::HashMap;

use super::Held;
use crate::api::{Check, CheckKind, CheckResult, Health, TaskState, UnixMillis};

/// A result of a node's or pod's check at least this often.
const AGAIN_MS: UnixMillis = 60_000;
/// A pod pending longer than this is a finding.
const PENDING_TOO_LONG_MS: UnixMillis = 5 * 60_000;
/// Names listed in a cluster check's output, at most.
const NAMED: usize = 5;

#[derive(Default)]
pub struct Checks {
    /// Each check's last result: when, and how it stood.
    told: HashMap<String, (UnixMillis, bool, String)>,
}

/// What one reading of the checks gives the store.
#[derive(Default)]
pub struct Results {
    pub results: Vec<(Check, CheckResult)>,
    pub gone: Vec<String>,
}

fn check(id: String, name: String, target: &str, interval_ms: UnixMillis) -> Check {
    let mut check = Check::new(&id, &name, CheckKind::Builtin, target);
    check.interval_ms = interval_ms;
    check.failure_threshold = 1;
    check
}

impl Checks {
    /// The results due at `now`: what changed, and what was not told for a
    /// while; and the checks of nodes and pods that went.
    pub fn read(&mut self, held: &Held, namespace: Option<&str>, now: UnixMillis) -> Results {
        let mut out = Results::default();
        let mut seen: Vec<String> = Vec::new();
        for node in held.nodes.values() {
            let ok = node.health == Health::Healthy;
            let output = node_output(node);
            let mut c = check(
                format!("kube:node:{}", node.id),
                format!("node {} ready", node.hostname),
                &node.id,
                AGAIN_MS,
            );
            c.node_id = Some(node.id.clone());
            self.tell(c, ok, output, now, &mut out, &mut seen);
        }
        for task in held.tasks.values() {
            if !matches!(task.state, TaskState::Running | TaskState::Starting) {
                continue;
            }
            let ok = task.health == Health::Healthy;
            let output = match task.labels.get("reason") {
                Some(reason) => reason.clone(),
                None if ok => "ready".into(),
                None => format!(
                    "not ready ({} containers ready)",
                    task.labels.get("ready").map_or("?", |r| r.as_str())
                ),
            };
            let mut c = check(
                format!("kube:pod:{}", task.id),
                format!("pod {} ready", task.id),
                &task.id,
                AGAIN_MS,
            );
            c.task_id = Some(task.id.clone());
            c.node_id = Some(task.node_id.clone()).filter(|n| !n.is_empty());
            self.tell(c, ok, output, now, &mut out, &mut seen);
        }
        // Worked out at each reading (a pass over the tasks), told as the
        // others: when they change, and each minute.
        for (c, ok, output) in cluster(held, namespace, now) {
            self.tell(c, ok, output, now, &mut out, &mut seen);
        }
        let seen: std::collections::HashSet<String> = seen.into_iter().collect();
        self.told.retain(|id, _| {
            let stays = seen.contains(id);
            if !stays {
                out.gone.push(id.clone());
            }
            stays
        });
        out
    }

    fn tell(
        &mut self,
        c: Check,
        ok: bool,
        output: String,
        now: UnixMillis,
        out: &mut Results,
        seen: &mut Vec<String>,
    ) {
        seen.push(c.id.clone());
        let due = match self.told.get(&c.id) {
            Some((at, was, said)) => *was != ok || *said != output || now - at >= AGAIN_MS,
            None => true,
        };
        if due {
            self.told.insert(c.id.clone(), (now, ok, output.clone()));
            out.results.push((c, result(now, ok, output)));
        }
    }
}

fn result(ts: UnixMillis, ok: bool, output: String) -> CheckResult {
    CheckResult {
        ts,
        ok,
        latency_ms: 0.0,
        output,
    }
}

fn node_output(node: &crate::api::Node) -> String {
    let mut parts = Vec::new();
    match node.labels.get("ready").map(String::as_str) {
        Some("True") => parts.push("Ready".to_string()),
        Some(status) => parts.push(format!(
            "Ready {status}: {}",
            node.labels.get("not_ready").map_or("", |w| w.as_str())
        )),
        None => parts.push("no Ready condition".into()),
    }
    if let Some(pressure) = node.labels.get("pressure") {
        parts.push(format!("under {pressure}"));
    }
    if node.labels.contains_key("unschedulable") {
        parts.push("cordoned".into());
    }
    parts.join("; ")
}

/// Up to [`NAMED`] names, and how many more.
fn named(mut names: Vec<String>) -> String {
    names.sort();
    let more = names.len().saturating_sub(NAMED);
    names.truncate(NAMED);
    let mut text = names.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// The cluster's own checks.
fn cluster(held: &Held, namespace: Option<&str>, now: UnixMillis) -> Vec<(Check, bool, String)> {
    let mut out = Vec::new();
    let mut add = |id: &str, name: &str, failing: Vec<String>, what: &str| {
        let ok = failing.is_empty();
        let output = if ok {
            format!("none {what}")
        } else {
            format!("{} {what}: {}", failing.len(), named(failing))
        };
        out.push((
            check(
                format!("kube:cluster:{id}"),
                name.into(),
                "cluster",
                AGAIN_MS,
            ),
            ok,
            output,
        ));
    };
    let tasks = || held.tasks.values();
    add(
        "crash-looping",
        "pods crash-looping",
        tasks()
            .filter(|t| {
                t.labels
                    .get("reason")
                    .is_some_and(|r| r == "CrashLoopBackOff")
            })
            .map(|t| t.id.clone())
            .collect(),
        "crash-looping",
    );
    add(
        "pending",
        "pods pending over 5 minutes",
        tasks()
            .filter(|t| matches!(t.state, TaskState::Staging | TaskState::Starting))
            .filter(|t| t.started > 0 && now - t.started > PENDING_TOO_LONG_MS)
            .map(|t| t.id.clone())
            .collect(),
        "pending over 5 minutes",
    );
    add(
        "nodes-not-ready",
        "nodes not ready",
        held.nodes
            .values()
            .filter(|n| n.labels.get("ready").is_none_or(|r| r != "True"))
            .map(|n| n.id.clone())
            .collect(),
        "not ready",
    );
    // The control plane is seen where kube-system is watched, and where it
    // runs as pods (not on a managed cluster).
    if namespace.is_none_or(|ns| ns == "kube-system") {
        let control: Vec<&crate::api::Task> = tasks()
            .filter(|t| {
                t.labels
                    .get("namespace")
                    .is_some_and(|ns| ns == "kube-system")
            })
            .filter(|t| {
                t.labels
                    .get("tier")
                    .is_some_and(|tier| tier == "control-plane")
            })
            .map(|t| t.as_ref())
            .collect();
        add(
            "control-plane",
            "control-plane pods not running",
            control
                .iter()
                .filter(|t| t.state != TaskState::Running || t.health != Health::Healthy)
                .map(|t| t.id.clone())
                .collect(),
            "not running",
        );
        let etcd = control
            .iter()
            .filter(|t| t.labels.get("component").is_some_and(|c| c == "etcd"))
            .count();
        let ok = etcd % 2 == 1 || etcd == 0;
        let output = match etcd {
            0 => "no etcd pods seen (a managed or external etcd)".to_string(),
            n if ok => format!("{n} etcd members"),
            n => format!(
                "{n} etcd members: an even number tolerates no more failures than {} would",
                n - 1
            ),
        };
        out.push((
            check(
                "kube:cluster:etcd".into(),
                "etcd members odd".into(),
                "cluster",
                AGAIN_MS,
            ),
            ok,
            output,
        ));
    }
    out
}
