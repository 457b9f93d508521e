//! cgroup v2 groups (systemd slices and services, containers) under
//! /sys/fs/cgroup, two levels deep: CPU use, memory use against the
//! group's limit, and how often the kernel's OOM killer struck in it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::rates::Rates;
use crate::api::{Sample, UnixMillis};
use crate::collect::sample;

/// Groups read at most, so a host with thousands cannot swamp a refresh.
pub const MAX_GROUPS: usize = 256;

struct Group {
    /// Its path under the root, `/` for the root itself.
    name: String,
    cpu_usec: Option<u64>,
    mem: Option<u64>,
    limit: Option<u64>,
    oom_kills: Option<u64>,
}

fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

fn read_group(root: &Path, dir: &Path) -> Option<Group> {
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
    let mem = read("memory.current").and_then(|t| t.trim().parse().ok());
    let cpu_usec = read("cpu.stat").and_then(|t| field(&t, "usage_usec"));
    if mem.is_none() && cpu_usec.is_none() {
        return None;
    }
    let rel = dir.strip_prefix(root).ok()?.display().to_string();
    Some(Group {
        name: if rel.is_empty() { "/".into() } else { rel },
        cpu_usec,
        mem,
        // "max" is no limit.
        limit: read("memory.max").and_then(|t| t.trim().parse().ok()),
        oom_kills: read("memory.events").and_then(|t| field(&t, "oom_kill")),
    })
}

/// The root and the groups one and two levels under it, in name order.
fn walk(root: &Path) -> Vec<Group> {
    let children = |dir: &Path| -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        dirs
    };
    let mut dirs = vec![root.to_path_buf()];
    for first in children(root) {
        let second = children(&first);
        dirs.push(first);
        dirs.extend(second);
    }
    dirs.iter()
        .take(MAX_GROUPS)
        .filter_map(|d| read_group(root, d))
        .collect()
}

pub struct Cgroups {
    root: PathBuf,
    cpu: Rates,
}

impl Cgroups {
    pub fn new(root: PathBuf) -> Cgroups {
        Cgroups {
            root,
            cpu: Rates::default(),
        }
    }

    pub fn read(&mut self, node_id: &str, now: UnixMillis, samples: &mut Vec<Sample>) {
        if !self.root.join("cgroup.controllers").exists() {
            return; // not cgroup v2
        }
        let groups = walk(&self.root);
        let usage: HashMap<String, Vec<u64>> = groups
            .iter()
            .filter_map(|g| Some((g.name.clone(), vec![g.cpu_usec?])))
            .collect();
        for (name, rate) in self.cpu.update(now, usage) {
            // A core's whole second is 1,000,000 µs: 100%.
            let percent = super::system::round1(rate[0] / 10_000.0);
            samples.push(sample(
                "cgroup.cpu.percent",
                &[("node_id", node_id), ("cgroup", &name)],
                now,
                percent,
                "percent",
            ));
        }
        for g in &groups {
            let tags = [("node_id", node_id), ("cgroup", g.name.as_str())];
            if let Some(mem) = g.mem {
                samples.push(sample("cgroup.mem.bytes", &tags, now, mem as f64, "bytes"));
                if let Some(limit) = g.limit.filter(|l| *l > 0) {
                    samples.push(sample(
                        "cgroup.mem.limit.bytes",
                        &tags,
                        now,
                        limit as f64,
                        "bytes",
                    ));
                    let percent = super::system::round1(100.0 * mem as f64 / limit as f64);
                    samples.push(sample("cgroup.mem.percent", &tags, now, percent, "percent"));
                }
            }
            if let Some(kills) = g.oom_kills {
                samples.push(sample(
                    "cgroup.oom_kills",
                    &tags,
                    now,
                    kills as f64,
                    "count",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory laid out as cgroupfs is (the real one cannot be
    /// written to here).
    fn fake_cgroupfs() -> PathBuf {
        let root = std::env::temp_dir().join(format!("day2top-cgroupfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let svc = root.join("system.slice/web.service");
        std::fs::create_dir_all(&svc).unwrap();
        std::fs::create_dir_all(root.join("system.slice/web.service/deep/deeper")).unwrap();
        std::fs::write(root.join("cgroup.controllers"), "cpu memory").unwrap();
        std::fs::write(root.join("cpu.stat"), "usage_usec 5000000\nuser_usec 1\n").unwrap();
        std::fs::write(svc.join("cpu.stat"), "usage_usec 1000000\n").unwrap();
        std::fs::write(svc.join("memory.current"), "268435456\n").unwrap();
        std::fs::write(svc.join("memory.max"), "536870912\n").unwrap();
        std::fs::write(
            svc.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n",
        )
        .unwrap();
        std::fs::write(root.join("system.slice/memory.current"), "300000000\n").unwrap();
        std::fs::write(root.join("system.slice/memory.max"), "max\n").unwrap();
        root
    }

    fn value(samples: &[Sample], name: &str, group: &str) -> Option<f64> {
        samples
            .iter()
            .find(|s| s.name == name && s.tags["cgroup"] == group)
            .map(|s| s.value)
    }

    #[test]
    fn groups_with_limits_cpu_and_oom_kills() {
        let root = fake_cgroupfs();
        let mut cg = Cgroups::new(root.clone());
        let mut first = Vec::new();
        cg.read("n", 0, &mut first);
        assert_eq!(
            value(&first, "cgroup.mem.percent", "system.slice/web.service"),
            Some(50.0)
        );
        assert_eq!(
            value(&first, "cgroup.oom_kills", "system.slice/web.service"),
            Some(2.0)
        );
        assert_eq!(
            value(&first, "cgroup.mem.bytes", "system.slice"),
            Some(300_000_000.0)
        );
        assert_eq!(
            value(&first, "cgroup.mem.limit.bytes", "system.slice"),
            None,
            "max is no limit"
        );
        assert!(
            first
                .iter()
                .all(|s| s.tags["cgroup"] != "system.slice/web.service/deep"),
            "two levels"
        );
        // Half a core over the next second.
        std::fs::write(
            root.join("system.slice/web.service/cpu.stat"),
            "usage_usec 1500000\n",
        )
        .unwrap();
        let mut second = Vec::new();
        cg.read("n", 1000, &mut second);
        assert_eq!(
            value(&second, "cgroup.cpu.percent", "system.slice/web.service"),
            Some(50.0)
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
