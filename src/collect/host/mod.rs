//! The local host as a one-node cluster: the machine from /proc (and its
//! pressure, disk I/O and cgroup groups), its processes as tasks, grouped
//! by the cgroup (systemd unit or container) they run in.

mod cgroups;
mod diskio;
pub mod passwd;
mod pressure;
mod processes;
mod rates;
mod system;

use super::{Collected, Source};
use crate::api::UnixMillis;

pub struct HostSource {
    node_id: String,
    system: system::SystemReader,
    processes: processes::ProcessReader,
    disk_io: diskio::DiskIo,
    cgroups: cgroups::Cgroups,
}

impl HostSource {
    pub fn new() -> HostSource {
        let node_id = system::hostname();
        HostSource {
            system: system::SystemReader::new(node_id.clone()),
            processes: processes::ProcessReader::new(node_id.clone()),
            disk_io: diskio::DiskIo::default(),
            cgroups: cgroups::Cgroups::new("/sys/fs/cgroup".into()),
            node_id,
        }
    }
}

impl Default for HostSource {
    fn default() -> Self {
        HostSource::new()
    }
}

impl Source for HostSource {
    fn kind(&self) -> &'static str {
        "host"
    }

    fn cluster_name(&self) -> String {
        self.node_id.clone()
    }

    fn collect(&mut self, now: UnixMillis) -> Collected {
        let mut samples = Vec::with_capacity(64);
        let node = self.system.read(now, &mut samples);
        pressure::read(&self.node_id, now, &mut samples);
        self.disk_io.read(&self.node_id, now, &mut samples);
        self.cgroups.read(&self.node_id, now, &mut samples);
        let tasks = self.processes.read(now, &mut samples);
        Collected {
            nodes: vec![node],
            tasks: tasks.into_iter().map(std::sync::Arc::new).collect(),
            samples,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_execs_shows_its_new_command_line() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 0.3; exec sleep 30"])
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        let mut host = HostSource::new();
        let cmdline = |host: &mut HostSource| {
            host.collect(crate::api::now_millis())
                .tasks
                .into_iter()
                .find(|t| t.id == pid)
                .and_then(|t| t.labels.get("cmdline").cloned())
                .unwrap_or_default()
        };
        assert!(cmdline(&mut host).starts_with("sh -c"));
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert_eq!(cmdline(&mut host), "sleep 30");
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn reads_this_machine() {
        let mut host = HostSource::new();
        let first = host.collect(crate::api::now_millis());
        std::thread::sleep(std::time::Duration::from_millis(50));
        let second = host.collect(crate::api::now_millis());
        let node = &second.nodes[0];
        assert!(node.capacity.cpus >= 1.0);
        assert!(node.capacity.mem_bytes > 0);
        assert!(node.boot_time > 0);
        let me = std::process::id().to_string();
        let task = second
            .tasks
            .iter()
            .find(|t| t.id == me)
            .expect("this test process is a task");
        assert_eq!(task.node_id, node.id);
        assert!(task.mem_bytes > 0);
        assert!(task.labels.contains_key("cmdline"));
        assert!(
            first
                .samples
                .iter()
                .any(|s| s.name == "node.mem.used.bytes")
        );
        assert!(second.samples.iter().any(|s| s.name == "node.cpu.percent"));
    }
}
