//! The host's processes as tasks.
//!
//! Reading /proc/PID/stat is the only per-process work on every refresh;
//! the command line, user and cgroup are read once per process (a pid with
//! a new start time is a new process).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::api::{Health, Sample, Task, TaskState, TaskStatus, UnixMillis};
use crate::collect::sample;

/// What does not change over a process's life, read once.
struct Static {
    cmdline: String,
    user: String,
    group: String,
    cgroup: String,
}

struct Known {
    starttime: u64,
    cpu_ticks: u64,
    info: Arc<Static>,
    /// The CPU and RSS last published as samples.
    published: (f64, u64),
}

pub struct ProcessReader {
    node_id: String,
    ticks_per_second: f64,
    page_size: u64,
    boot_ms: i64,
    users: HashMap<u32, String>,
    known: HashMap<i32, Known>,
    last_read: Option<UnixMillis>,
}

/// Command lines longer than this are cut (a wire field is not a core dump).
const MAX_CMDLINE: usize = 4096;

impl ProcessReader {
    pub fn new(node_id: String) -> ProcessReader {
        ProcessReader {
            node_id,
            ticks_per_second: procfs::ticks_per_second() as f64,
            page_size: procfs::page_size(),
            boot_ms: procfs::boot_time_secs().unwrap_or(0) as i64 * 1000,
            users: read_users(),
            known: HashMap::new(),
            last_read: None,
        }
    }

    pub fn read(&mut self, now: UnixMillis, samples: &mut Vec<Sample>) -> Vec<Task> {
        let elapsed = self
            .last_read
            .map(|then| (now - then) as f64 / 1000.0)
            .filter(|s| *s > 0.0);
        self.last_read = Some(now);
        let Ok(all) = procfs::process::all_processes() else {
            return Vec::new();
        };
        let mut limits: HashMap<String, (f64, u64)> = HashMap::new();
        let mut seen = HashMap::with_capacity(self.known.len());
        let mut tasks = Vec::with_capacity(self.known.len());
        for process in all.flatten() {
            // A process may exit between listing and reading: skip it.
            let Ok(stat) = process.stat() else { continue };
            let ticks = stat.utime + stat.stime;
            let previous = self
                .known
                .remove(&stat.pid)
                .filter(|k| k.starttime == stat.starttime);
            let cpu = match (&previous, elapsed) {
                (Some(k), Some(secs)) => {
                    round2(ticks.saturating_sub(k.cpu_ticks) as f64 / self.ticks_per_second / secs)
                }
                _ => 0.0,
            };
            let info = match &previous {
                Some(k) => k.info.clone(),
                None => Arc::new(self.read_static(&process, &stat)),
            };
            let (cpu_limit, mem_limit) = limits
                .entry(info.cgroup.clone())
                .or_insert_with(|| cgroup_limits(&info.cgroup))
                .to_owned();
            let rss = stat.rss * self.page_size;
            let started = self.boot_ms + (stat.starttime as f64 / self.ticks_per_second * 1000.0) as i64;
            let id = stat.pid.to_string();

            let mut published = previous.as_ref().map(|k| k.published).unwrap_or((-1.0, 0));
            if (cpu, rss) != published {
                let tags = [("node_id", self.node_id.as_str()), ("task_id", id.as_str()), ("group", info.group.as_str())];
                samples.push(sample("task.cpu.percent", &tags, now, round2(cpu * 100.0), "percent"));
                samples.push(sample("task.mem.rss.bytes", &tags, now, rss as f64, "bytes"));
                published = (cpu, rss);
            }

            let (state, proc_state) = match stat.state {
                'Z' => (TaskState::Finished, "zombie"),
                'X' | 'x' => (TaskState::Finished, "dead"),
                'T' => (TaskState::Running, "stopped"),
                't' => (TaskState::Running, "traced"),
                'D' => (TaskState::Running, "disk-sleep"),
                'R' => (TaskState::Running, "running"),
                'I' => (TaskState::Running, "idle"),
                _ => (TaskState::Running, "sleeping"),
            };
            let mut labels = BTreeMap::new();
            labels.insert("pid".into(), id.clone());
            labels.insert("ppid".into(), stat.ppid.to_string());
            labels.insert("user".into(), info.user.clone());
            labels.insert("cmdline".into(), info.cmdline.clone());
            labels.insert("threads".into(), stat.num_threads.to_string());
            labels.insert("proc_state".into(), proc_state.into());
            labels.insert("cgroup".into(), info.cgroup.clone());
            tasks.push(Task {
                id,
                name: stat.comm.clone(),
                group: info.group.clone(),
                node_id: self.node_id.clone(),
                state,
                health: Health::Unknown,
                cpu,
                cpu_limit,
                mem_bytes: rss,
                mem_limit,
                started,
                updated: started,
                version: String::new(),
                labels,
                statuses: vec![TaskStatus {
                    state: TaskState::Running,
                    at: started,
                    message: String::new(),
                }],
            });
            seen.insert(
                stat.pid,
                Known {
                    starttime: stat.starttime,
                    cpu_ticks: ticks,
                    info,
                    published,
                },
            );
        }
        self.known = seen;
        tasks
    }

    fn read_static(&self, process: &procfs::process::Process, stat: &procfs::process::Stat) -> Static {
        let kernel_thread = stat.pid == 2 || stat.ppid == 2;
        let mut cmdline = process
            .cmdline()
            .map(|args| args.join(" "))
            .unwrap_or_default();
        if cmdline.is_empty() {
            cmdline = format!("[{}]", stat.comm);
        }
        if cmdline.len() > MAX_CMDLINE {
            let mut cut = MAX_CMDLINE;
            while !cmdline.is_char_boundary(cut) {
                cut -= 1;
            }
            cmdline.truncate(cut);
            cmdline.push('…');
        }
        let uid = process.uid().ok();
        let user = uid
            .map(|uid| self.users.get(&uid).cloned().unwrap_or_else(|| uid.to_string()))
            .unwrap_or_default();
        let cgroup = process
            .cgroups()
            .ok()
            .and_then(|groups| {
                groups
                    .0
                    .into_iter()
                    .find(|g| g.hierarchy == 0)
                    .map(|g| g.pathname)
            })
            .unwrap_or_default();
        let group = if kernel_thread {
            "kernel".to_string()
        } else {
            group_of(&cgroup)
        };
        Static {
            cmdline,
            user,
            group,
            cgroup,
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The systemd unit, scope or container a cgroup path names.
pub fn group_of(cgroup: &str) -> String {
    let last = cgroup.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    if last.is_empty() {
        return "-".into();
    }
    // docker-<64 hex>.scope, cri-containerd-<id>.scope, or a bare container id
    let id = last
        .trim_end_matches(".scope")
        .rsplit('-')
        .next()
        .unwrap_or(last);
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return format!("container:{}", &id[..12]);
    }
    last.to_string()
}

/// CPU (cores) and memory (bytes) limits of a cgroup v2 group; 0 = none.
fn cgroup_limits(cgroup: &str) -> (f64, u64) {
    if cgroup.is_empty() || cgroup == "/" {
        return (0.0, 0);
    }
    let dir = format!("/sys/fs/cgroup{cgroup}");
    let mem = std::fs::read_to_string(format!("{dir}/memory.max"))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string(format!("{dir}/cpu.max"))
        .ok()
        .and_then(|s| {
            let mut parts = s.split_whitespace();
            let quota = parts.next()?.parse::<f64>().ok()?;
            let period = parts.next()?.parse::<f64>().ok()?;
            (period > 0.0).then(|| quota / period)
        })
        .unwrap_or(0.0);
    (cpu, mem)
}

fn read_users() -> HashMap<u32, String> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::group_of;

    #[test]
    fn groups_from_cgroup_paths() {
        assert_eq!(group_of("/system.slice/ssh.service"), "ssh.service");
        assert_eq!(group_of("/"), "-");
        assert_eq!(group_of(""), "-");
        let id = "a".repeat(64);
        assert_eq!(group_of(&format!("/system.slice/docker-{id}.scope")), "container:aaaaaaaaaaaa");
        assert_eq!(group_of(&format!("/kubepods/besteffort/pod1/{id}")), "container:aaaaaaaaaaaa");
        assert_eq!(group_of("/user.slice/user-0.slice/session-3.scope"), "session-3.scope");
    }
}
