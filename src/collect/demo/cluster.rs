//! The simulated cluster's shape, made once from the seed: masters, public
//! agents and agents with their capacity, and the apps placed on them.

use crate::api::{Capacity, Disk, Health, Labels, Node, Task, Usage};
use crate::collect::rng::Rng;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Placement {
    Masters,
    PublicAgents,
    Agents,
}

/// The nodes each placement may use, worked out once and again only after
/// a node went down or came back: a launch would otherwise scan every node
/// (at 50,000 tasks on 5,000 nodes, most of the demo's start-up).
#[derive(Default)]
pub(super) struct Placements([Option<Vec<usize>>; 3]);

impl Placements {
    /// After a node went down or came back.
    pub(super) fn forget(&mut self) {
        self.0 = Default::default();
    }

    pub(super) fn nodes(&mut self, nodes: &[SimNode], placement: Placement) -> &[usize] {
        self.0[placement as usize].get_or_insert_with(|| {
            let role = match placement {
                Placement::Masters => "master",
                Placement::PublicAgents => "public_agent",
                Placement::Agents => "agent",
            };
            let up = |i: &usize| !nodes[*i].down;
            let fit: Vec<usize> = (0..nodes.len())
                .filter(|&i| nodes[i].node.role == role && up(&i))
                .collect();
            match fit.is_empty() {
                // A tiny cluster: anything that is up will do.
                true => (0..nodes.len()).filter(up).collect(),
                false => fit,
            }
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// Runs until it fails or is replaced by a deployment.
    Service,
    /// Like a service, with stable instance names (`node-0`, `broker-1`).
    Stateful(&'static str),
    /// Finishes after a while and is started again.
    Batch,
}

pub(super) struct App {
    pub(super) path: &'static str,
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) placement: Placement,
    /// Cores and bytes each instance may use.
    pub(super) cpu: f64,
    pub(super) mem: u64,
    /// Chance per second that a running instance fails.
    pub(super) fail_rate: f64,
    pub(super) instances: usize,
    pub(super) version: u32,
}

pub(super) const GIB: u64 = 1 << 30;
pub(super) const MIB: u64 = 1 << 20;

pub(super) struct SimNode {
    pub(super) node: Node,
    /// Its samples' tags: the node's, its interface's and its disk's.
    pub(super) tags: [Labels; 3],
    pub(super) cpu_walk: f64,
    /// The flapping agent's cycle: unreachable for part of every period.
    pub(super) flapping: bool,
    pub(super) down: bool,
}

pub(super) struct SimTask {
    pub(super) task: Arc<Task>,
    /// Its samples' tags.
    pub(super) tags: Labels,
    /// Where `task.node_id` is in `DemoSource::nodes`.
    pub(super) node: usize,
    pub(super) app: usize,
    /// The app's version the task runs.
    pub(super) version: u32,
    pub(super) instance: usize,
    /// Ticks left in staging/starting, or until a batch job finishes.
    pub(super) countdown: u64,
    /// Ticks since the task reached a terminal state.
    pub(super) dead_for: u64,
    pub(super) replaced: bool,
    pub(super) cpu_walk: f64,
}

pub(super) fn make_nodes(rng: &mut Rng, count: usize) -> Vec<SimNode> {
    let masters = match count {
        0..=2 => 1,
        3..=99 => 3,
        _ => 5,
    }
    .min(count);
    let public = ((count - masters) / 8).max(usize::from(count - masters >= 3));
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let (role, name, ip, cpus, mem) = if i < masters {
            (
                "master",
                format!("master-{}", i + 1),
                format!("10.0.0.{}", 11 + i),
                4.0,
                16 * GIB,
            )
        } else if i < masters + public {
            let n = i - masters;
            (
                "public_agent",
                format!("public-{:02}", n + 1),
                format!("10.0.2.{}", 10 + n),
                8.0,
                32 * GIB,
            )
        } else {
            let n = i - masters - public;
            let (cpus, mem) =
                [(8.0, 32 * GIB), (16.0, 64 * GIB), (32.0, 128 * GIB)][rng.range(0, 3) as usize];
            (
                "agent",
                format!("agent-{:03}", n + 1),
                format!("10.0.{}.{}", 10 + n / 250, 10 + n % 250),
                cpus,
                mem,
            )
        };
        let disk = 500 * GIB;
        let used = (disk as f64 * (0.2 + 0.5 * rng.f64())) as u64 / GIB * GIB;
        let mut labels = Labels::new();
        labels.insert("zone".into(), format!("zone-{}", ["a", "b", "c"][i % 3]));
        labels.insert("rack".into(), format!("r{}", 1 + i % 7));
        let id = format!("{}-S{}", name, i);
        let tags = [
            Labels::of(&[("node_id", &id)]),
            Labels::of(&[("node_id", &id), ("interface", "eth0")]),
            Labels::of(&[("node_id", &id), ("mount", "/")]),
        ];
        nodes.push(SimNode {
            tags,
            node: Node {
                id,
                hostname: name,
                address: ip.clone(),
                addresses: vec![ip],
                role: role.into(),
                labels,
                capacity: Capacity {
                    cpus,
                    mem_bytes: mem,
                    disk_bytes: disk,
                },
                usage: Usage {
                    disk_bytes: used,
                    ..Default::default()
                },
                disks: vec![Disk {
                    mount: "/".into(),
                    device: "/dev/nvme0n1p1".into(),
                    total_bytes: disk,
                    used_bytes: used,
                }],
                health: Health::Healthy,
                os: "Linux 5.15.0-91-generic".into(),
                boot_time: 0,
                last_seen: 0,
                unreachable_since: None,
            },
            cpu_walk: 0.05 + 0.1 * rng.f64(),
            // The second private agent flaps, as one always does.
            flapping: role == "agent" && i == masters + public + 1,
            down: false,
        });
    }
    nodes
}

pub(super) fn make_apps(nodes: &[SimNode], target_tasks: usize) -> Vec<App> {
    let count = |role: &str| nodes.iter().filter(|n| n.node.role == role).count();
    let masters = count("master");
    let public = count("public_agent");
    let app = |path, name, kind, placement, cpu, mem, fail_rate, instances| App {
        path,
        name,
        kind,
        placement,
        cpu,
        mem,
        fail_rate,
        instances,
        version: 1,
    };
    let mut apps = vec![
        app(
            "/system/zookeeper",
            "zookeeper",
            Kind::Stateful("zk"),
            Placement::Masters,
            0.5,
            GIB,
            0.0,
            masters,
        ),
        app(
            "/system/marathon",
            "marathon",
            Kind::Service,
            Placement::Masters,
            1.0,
            2 * GIB,
            0.0,
            masters,
        ),
        app(
            "/infra/marathon-lb",
            "marathon-lb",
            Kind::Service,
            Placement::PublicAgents,
            1.0,
            GIB,
            0.0005,
            public,
        ),
        app(
            "/prod/cassandra",
            "cassandra",
            Kind::Stateful("node"),
            Placement::Agents,
            4.0,
            16 * GIB,
            0.0003,
            3,
        ),
        app(
            "/prod/kafka",
            "kafka",
            Kind::Stateful("broker"),
            Placement::Agents,
            2.0,
            8 * GIB,
            0.0003,
            3,
        ),
    ];
    let fixed: usize = apps.iter().map(|a| a.instances).sum();
    let rest = target_tasks.saturating_sub(fixed);
    // The scalable apps share what is left: (app, share of the rest in percent)
    let scalable = [
        (
            app(
                "/prod/web/frontend",
                "frontend",
                Kind::Service,
                Placement::Agents,
                0.5,
                512 * MIB,
                0.001,
                0,
            ),
            35,
        ),
        (
            app(
                "/prod/payments/api",
                "payments-api",
                Kind::Service,
                Placement::Agents,
                1.0,
                GIB,
                0.0008,
                0,
            ),
            20,
        ),
        (
            app(
                "/batch/spark-etl",
                "spark-etl",
                Kind::Batch,
                Placement::Agents,
                2.0,
                4 * GIB,
                0.002,
                0,
            ),
            20,
        ),
        (
            app(
                "/batch/report-cron",
                "report-cron",
                Kind::Batch,
                Placement::Agents,
                0.25,
                256 * MIB,
                0.001,
                0,
            ),
            10,
        ),
        (
            app(
                "/dev/flaky-worker",
                "flaky-worker",
                Kind::Service,
                Placement::Agents,
                0.25,
                256 * MIB,
                0.02,
                0,
            ),
            15,
        ),
    ];
    let mut given = 0;
    let n = scalable.len();
    for (i, (mut a, share)) in scalable.into_iter().enumerate() {
        a.instances = if i + 1 == n {
            rest - given
        } else {
            rest * share / 100
        };
        given += a.instances;
        apps.push(a);
    }
    apps
}
