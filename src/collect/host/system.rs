//! The machine itself: CPUs, memory, disks, network, load, uptime.

use std::collections::HashMap;

use procfs::{Current, CurrentSI};

use super::rates::Rates;
use crate::api::{Capacity, Disk, Health, Node, Sample, UnixMillis, Usage};
use crate::collect::sample;

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Busy and total jiffies of one CPU line of /proc/stat.
fn busy_total(t: &procfs::CpuTime) -> Jiffies {
    let idle = t.idle + t.iowait.unwrap_or(0);
    let busy = t.user
        + t.nice
        + t.system
        + t.irq.unwrap_or(0)
        + t.softirq.unwrap_or(0)
        + t.steal.unwrap_or(0);
    (busy, busy + idle)
}

fn percent(busy: Jiffies, before: Jiffies) -> f64 {
    let total = busy.1.saturating_sub(before.1);
    if total == 0 {
        return 0.0;
    }
    round1(100.0 * busy.0.saturating_sub(before.0) as f64 / total as f64)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Busy and total jiffies, as `busy_total` reads them.
type Jiffies = (u64, u64);

/// The CPU counters of the last reading: all cores, then each core.
struct CpuBefore {
    total: Jiffies,
    cores: Vec<Jiffies>,
}

pub struct SystemReader {
    node_id: String,
    os: String,
    cpu_before: Option<CpuBefore>,
    /// Bytes received and sent per interface.
    net: Rates,
}

impl SystemReader {
    pub fn new(node_id: String) -> SystemReader {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        SystemReader {
            node_id,
            os: format!("Linux {}", release.trim()),
            cpu_before: None,
            net: Rates::default(),
        }
    }

    pub fn read(&mut self, now: UnixMillis, samples: &mut Vec<Sample>) -> Node {
        let node_id = self.node_id.clone();
        let id = node_id.as_str();
        let node_tag = [("node_id", id)];
        let mut usage = Usage::default();
        let mut capacity = Capacity::default();
        let mut boot_time = 0;

        if let Ok(stat) = procfs::KernelStats::current() {
            boot_time = stat.btime as i64 * 1000;
            capacity.cpus = stat.cpu_time.len() as f64;
            let total = busy_total(&stat.total);
            let cores: Vec<(u64, u64)> = stat.cpu_time.iter().map(busy_total).collect();
            if let Some(before) = &self.cpu_before {
                usage.cpu_percent = percent(total, before.total);
                samples.push(sample(
                    "node.cpu.percent",
                    &node_tag,
                    now,
                    usage.cpu_percent,
                    "percent",
                ));
                for (i, (core, before)) in cores.iter().zip(&before.cores).enumerate() {
                    let core_id = i.to_string();
                    samples.push(sample(
                        "node.cpu.core.percent",
                        &[("node_id", id), ("core", &core_id)],
                        now,
                        percent(*core, *before),
                        "percent",
                    ));
                }
            }
            self.cpu_before = Some(CpuBefore { total, cores });
        }

        if let Ok(mem) = procfs::Meminfo::current() {
            capacity.mem_bytes = mem.mem_total;
            let available = mem.mem_available.unwrap_or(mem.mem_free + mem.cached);
            usage.mem_bytes = mem.mem_total.saturating_sub(available);
            let swap_used = mem.swap_total.saturating_sub(mem.swap_free);
            samples.push(sample(
                "node.mem.used.bytes",
                &node_tag,
                now,
                usage.mem_bytes as f64,
                "bytes",
            ));
            samples.push(sample(
                "node.mem.available.bytes",
                &node_tag,
                now,
                available as f64,
                "bytes",
            ));
            if mem.mem_total > 0 {
                let pct = round1(100.0 * usage.mem_bytes as f64 / mem.mem_total as f64);
                samples.push(sample("node.mem.percent", &node_tag, now, pct, "percent"));
            }
            samples.push(sample(
                "node.swap.used.bytes",
                &node_tag,
                now,
                swap_used as f64,
                "bytes",
            ));
        }

        if let Ok(load) = procfs::LoadAverage::current() {
            usage.load = [load.one as f64, load.five as f64, load.fifteen as f64];
            for (name, value) in ["node.load.1", "node.load.5", "node.load.15"]
                .iter()
                .zip(usage.load)
            {
                samples.push(sample(name, &node_tag, now, value, ""));
            }
        }

        let disks = read_disks();
        for disk in &disks {
            capacity.disk_bytes += disk.total_bytes;
            usage.disk_bytes += disk.used_bytes;
            if disk.total_bytes > 0 {
                let pct = round1(100.0 * disk.used_bytes as f64 / disk.total_bytes as f64);
                samples.push(sample(
                    "node.disk.used.percent",
                    &[("node_id", id), ("mount", &disk.mount)],
                    now,
                    pct,
                    "percent",
                ));
            }
        }

        self.read_network(now, samples);

        let addresses = addresses();
        Node {
            id: id.to_string(),
            hostname: id.to_string(),
            address: addresses.first().cloned().unwrap_or_default(),
            addresses,
            role: "host".into(),
            labels: Default::default(),
            capacity,
            usage,
            disks,
            health: Health::Healthy,
            os: self.os.clone(),
            boot_time,
            last_seen: now,
            unreachable_since: None,
        }
    }

    fn read_network(&mut self, now: UnixMillis, samples: &mut Vec<Sample>) {
        let Ok(devices) = procfs::net::dev_status() else {
            return;
        };
        let counters: HashMap<String, Vec<u64>> = devices
            .into_iter()
            .filter(|(name, _)| name != "lo")
            .map(|(name, d)| (name, vec![d.recv_bytes, d.sent_bytes]))
            .collect();
        for (name, r) in self.net.update(now, counters) {
            let tags = [
                ("node_id", self.node_id.as_str()),
                ("interface", name.as_str()),
            ];
            samples.push(sample(
                "node.net.rx.bytes_per_second",
                &tags,
                now,
                r[0].round(),
                "bytes/s",
            ));
            samples.push(sample(
                "node.net.tx.bytes_per_second",
                &tags,
                now,
                r[1].round(),
                "bytes/s",
            ));
        }
    }
}

/// Real filesystems: block devices, and the root whatever it is (a container's overlay).
fn read_disks() -> Vec<Disk> {
    let Ok(mounts) = procfs::mounts() else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut disks = Vec::new();
    for m in mounts {
        let real = m.fs_spec.starts_with("/dev/") || m.fs_file == "/";
        if !real || m.fs_vfstype == "squashfs" || !seen.insert(m.fs_spec.clone()) {
            continue;
        }
        let Ok(fs) = rustix::fs::statvfs(m.fs_file.as_str()) else {
            continue;
        };
        let total = fs.f_blocks * fs.f_frsize;
        if total == 0 {
            continue;
        }
        disks.push(Disk {
            mount: m.fs_file,
            device: m.fs_spec,
            total_bytes: total,
            used_bytes: (fs.f_blocks - fs.f_bfree) * fs.f_frsize,
        });
    }
    disks
}

/// Non-loopback addresses, IPv4 first.
fn addresses() -> Vec<String> {
    let mut out: Vec<(bool, String)> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .map(|i| (!i.ip().is_ipv4(), i.ip().to_string()))
        .collect();
    out.sort();
    out.dedup();
    out.into_iter().map(|(_, ip)| ip).collect()
}
