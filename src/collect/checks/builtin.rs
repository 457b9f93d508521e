//! The gateway's own checks, from the production checklist: free disk per
//! mount, memory pressure, nodes that flap (uptime that keeps resetting),
//! the rate of tasks ending failed, lost or killed, and a Mesos-style
//! cluster's masters (the ZooKeeper quorum) being odd in number and all up.

use std::collections::{HashMap, VecDeque};

use crate::api::{Check, CheckKind, CheckResult, Health, Node, UnixMillis};

/// The lines the built-in checks draw.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// A mount with less free space than this fails.
    pub disk_free_percent: f64,
    /// A node using more of its memory than this fails.
    pub mem_used_percent: f64,
    /// A node whose uptime reset this often within `flap_window_ms` fails.
    pub flap_resets: usize,
    pub flap_window_ms: i64,
    /// More tasks than this ending failed, lost or killed in a minute fails.
    pub task_failures_per_minute: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            disk_free_percent: 10.0,
            mem_used_percent: 90.0,
            flap_resets: 2,
            flap_window_ms: 30 * 60_000,
            task_failures_per_minute: 5,
        }
    }
}

/// How often the built-in checks are evaluated.
pub const BUILTIN_INTERVAL_MS: i64 = 10_000;

#[derive(Default)]
pub struct Builtins {
    pub thresholds: Thresholds,
    /// Per node: its boot time last seen, and when it was seen to reset.
    boots: HashMap<String, (UnixMillis, VecDeque<UnixMillis>)>,
    /// When tasks ended failed, lost or killed, within the last minute.
    endings: VecDeque<UnixMillis>,
}

fn check(id: String, name: String, target: String, node: Option<&str>) -> Check {
    let mut c = Check::new(&id, &name, CheckKind::Builtin, &target);
    c.interval_ms = BUILTIN_INTERVAL_MS;
    c.failure_threshold = 1;
    c.node_id = node.map(str::to_string);
    c
}

impl Builtins {
    pub fn note_task_ending(&mut self, at: UnixMillis) {
        self.endings.push_back(at);
        if self.endings.len() > 100_000 {
            self.endings.pop_front();
        }
    }

    /// Notes boot times as every reading arrives, so no reset is missed
    /// between evaluations.
    pub fn note_nodes<'a>(&mut self, nodes: impl Iterator<Item = &'a Node>, now: UnixMillis) {
        for n in nodes {
            let (boot, resets) = self
                .boots
                .entry(n.id.clone())
                .or_insert((n.boot_time, VecDeque::new()));
            if n.boot_time > *boot + 1000 {
                resets.push_back(now);
            }
            *boot = n.boot_time;
            while resets
                .front()
                .is_some_and(|t| *t < now - self.thresholds.flap_window_ms)
            {
                resets.pop_front();
            }
        }
    }

    /// Every built-in check with its result now.
    pub fn evaluate<'a>(
        &mut self,
        nodes: impl Iterator<Item = &'a Node> + Clone,
        now: UnixMillis,
    ) -> Vec<(Check, CheckResult)> {
        let t = self.thresholds.clone();
        let result = |ok: bool, output: String| CheckResult {
            ts: now,
            ok,
            latency_ms: 0.0,
            output,
        };
        let mut out = Vec::new();
        for n in nodes.clone() {
            for d in n.disks.iter().filter(|d| d.total_bytes > 0) {
                let free = 100.0 * (d.total_bytes.saturating_sub(d.used_bytes)) as f64
                    / d.total_bytes as f64;
                out.push((
                    check(
                        format!("builtin:disk:{}:{}", n.id, d.mount),
                        format!("disk free {}", d.mount),
                        format!("{} {}", n.hostname, d.mount),
                        Some(&n.id),
                    ),
                    result(
                        free >= t.disk_free_percent,
                        format!("{free:.1}% free (fails below {}%)", t.disk_free_percent),
                    ),
                ));
            }
            if n.capacity.mem_bytes > 0 {
                let used = 100.0 * n.usage.mem_bytes as f64 / n.capacity.mem_bytes as f64;
                out.push((
                    check(
                        format!("builtin:memory:{}", n.id),
                        "memory pressure".into(),
                        n.hostname.clone(),
                        Some(&n.id),
                    ),
                    result(
                        used <= t.mem_used_percent,
                        format!("{used:.1}% used (fails above {}%)", t.mem_used_percent),
                    ),
                ));
            }
            let resets = self.boots.get(&n.id).map_or(0, |(_, r)| r.len());
            out.push((
                check(
                    format!("builtin:flapping:{}", n.id),
                    "node flapping".into(),
                    n.hostname.clone(),
                    Some(&n.id),
                ),
                result(
                    resets < t.flap_resets,
                    format!(
                        "uptime reset {resets} times in the last {} (fails at {})",
                        crate::api::format_span(t.flap_window_ms),
                        t.flap_resets
                    ),
                ),
            ));
        }
        while self.endings.front().is_some_and(|at| *at < now - 60_000) {
            self.endings.pop_front();
        }
        let ended = self.endings.len();
        out.push((
            check(
                "builtin:task-failures".into(),
                "tasks failing".into(),
                "cluster".into(),
                None,
            ),
            result(
                ended <= t.task_failures_per_minute,
                format!(
                    "{ended} tasks ended failed, lost or killed in the last minute (fails above {})",
                    t.task_failures_per_minute
                ),
            ),
        ));
        let masters: Vec<&Node> = nodes.filter(|n| n.role == "master").collect();
        if !masters.is_empty() {
            let up = masters
                .iter()
                .filter(|n| n.health != Health::Unhealthy)
                .count();
            let odd = masters.len() % 2 == 1;
            out.push((
                check(
                    "builtin:quorum".into(),
                    "masters quorum".into(),
                    "masters (ZooKeeper)".into(),
                    None,
                ),
                result(
                    odd && up == masters.len(),
                    format!(
                        "{up} of {} masters up{}",
                        masters.len(),
                        if odd {
                            ""
                        } else {
                            "; an even number of masters"
                        }
                    ),
                ),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Capacity, Disk, Usage};

    fn node(id: &str, role: &str, boot: i64, used: u64) -> Node {
        Node {
            id: id.into(),
            hostname: id.into(),
            address: String::new(),
            addresses: vec![],
            role: role.into(),
            labels: Default::default(),
            capacity: Capacity {
                cpus: 1.0,
                mem_bytes: 100,
                disk_bytes: 100,
            },
            usage: Usage {
                mem_bytes: used,
                ..Default::default()
            },
            disks: vec![Disk {
                mount: "/".into(),
                device: "sda1".into(),
                total_bytes: 100,
                used_bytes: used,
            }],
            health: Health::Healthy,
            os: String::new(),
            boot_time: boot,
            last_seen: 0,
            unreachable_since: None,
        }
    }

    fn verdict(results: &[(Check, CheckResult)], id: &str) -> bool {
        results.iter().find(|(c, _)| c.id == id).unwrap().1.ok
    }

    #[test]
    fn disk_memory_flapping_failures_and_quorum() {
        let mut b = Builtins::default();
        let nodes = [node("m1", "master", 0, 50), node("m2", "master", 0, 95)];
        b.note_nodes(nodes.iter(), 0);
        let r = b.evaluate(nodes.iter(), 0);
        assert!(verdict(&r, "builtin:disk:m1:/"));
        assert!(!verdict(&r, "builtin:disk:m2:/"), "5% free");
        assert!(!verdict(&r, "builtin:memory:m2"));
        assert!(!verdict(&r, "builtin:quorum"), "two masters is even");
        // m1 reboots twice within the window: flapping.
        for (at, boot) in [(1000, 500_000), (2000, 900_000)] {
            b.note_nodes([node("m1", "master", boot, 50)].iter(), at);
        }
        let r = b.evaluate([node("m1", "master", 900_000, 50)].iter(), 3000);
        assert!(!verdict(&r, "builtin:flapping:m1"));
        assert!(verdict(&r, "builtin:quorum"), "one master, up");
        for at in 0..6 {
            b.note_task_ending(10_000 + at);
        }
        assert!(!verdict(
            &b.evaluate(std::iter::empty(), 20_000),
            "builtin:task-failures"
        ));
        assert!(
            verdict(
                &b.evaluate(std::iter::empty(), 90_000),
                "builtin:task-failures"
            ),
            "a minute later they have aged out"
        );
    }
}
