//! The host's processes as tasks.
//!
//! Reading /proc/PID/stat is the only per-process work on every refresh,
//! and the file is kept open and re-read from offset 0: opening it costs
//! three times what reading it does. The command line, user and cgroup are
//! read once per process (a pid with a new start time is a new process).
//! /proc/PID/io is read only for processes that used CPU since the last
//! refresh: one that did not run did not do I/O worth reporting.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use procfs::FromRead;
use procfs::process::Stat;

use crate::api::{Health, Sample, Task, TaskState, TaskStatus, UnixMillis};
use crate::collect::sample;

/// What does not change over a process's life, read once.
struct Static {
    group: String,
    cgroup: String,
    /// pid, ppid, user, cmdline and cgroup, ready to be extended per refresh.
    labels: crate::api::Labels,
}

struct Known {
    starttime: u64,
    /// The program's name: when an `exec` changes it, the static part is
    /// read again (same pid, same start time, another command line).
    comm: String,
    cpu_ticks: u64,
    info: Arc<Static>,
    /// The CPU and RSS last published as samples.
    published: (f64, u64),
    /// Bytes read and written (/proc/PID/io), and the rates last published.
    io: Option<(u64, u64)>,
    published_io: (f64, f64),
    /// /proc/PID/stat, open for re-reading; it pins this very process, so a
    /// reused pid makes the read fail rather than read another process.
    stat_file: Option<File>,
}

pub struct ProcessReader {
    node_id: String,
    ticks_per_second: f64,
    page_size: u64,
    boot_ms: i64,
    users: super::passwd::Names,
    known: HashMap<i32, Known>,
    last_read: Option<UnixMillis>,
    /// How many stat files may stay open, well under the fd limit.
    max_open: usize,
    /// cgroup path → (CPU, memory) limits, re-read every `LIMITS_TTL_MS`.
    limits: HashMap<String, (f64, u64)>,
    limits_read: Option<UnixMillis>,
    buf: Vec<u8>,
}

/// Command lines longer than this are cut (a wire field is not a core dump).
const MAX_CMDLINE: usize = 4096;
/// Limits change rarely (a `systemctl set-property`); re-read them this often.
const LIMITS_TTL_MS: i64 = 10_000;

impl ProcessReader {
    pub fn new(node_id: String) -> ProcessReader {
        ProcessReader {
            node_id,
            ticks_per_second: procfs::ticks_per_second() as f64,
            page_size: procfs::page_size(),
            boot_ms: procfs::boot_time_secs().unwrap_or(0) as i64 * 1000,
            users: super::passwd::Names::default(),
            known: HashMap::new(),
            last_read: None,
            max_open: open_file_budget(),
            limits: HashMap::new(),
            limits_read: None,
            buf: vec![0; 4096],
        }
    }

    /// The stat of `pid`, through the kept file if there is one.
    fn read_stat(
        &mut self,
        pid: i32,
        kept: Option<File>,
        open: &mut usize,
    ) -> Option<(Stat, Option<File>)> {
        if let Some(file) = kept
            && let Ok(n) = file.read_at(&mut self.buf, 0)
            && n > 0
            && let Ok(stat) = Stat::from_read(&self.buf[..n])
        {
            *open += 1;
            return Some((stat, Some(file)));
        }
        let file = File::open(format!("/proc/{pid}/stat")).ok()?;
        let n = file.read_at(&mut self.buf, 0).ok()?;
        let stat = Stat::from_read(&self.buf[..n]).ok()?;
        let keep = *open < self.max_open;
        *open += usize::from(keep);
        Some((stat, keep.then_some(file)))
    }

    pub fn read(&mut self, now: UnixMillis, samples: &mut Vec<Sample>) -> Vec<Task> {
        let elapsed = self
            .last_read
            .map(|then| (now - then) as f64 / 1000.0)
            .filter(|s| *s > 0.0);
        self.last_read = Some(now);
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        if self.limits_read.is_none_or(|at| now - at >= LIMITS_TTL_MS) {
            self.limits.clear();
            self.limits_read = Some(now);
        }
        let mut seen = HashMap::with_capacity(self.known.len());
        let mut tasks = Vec::with_capacity(self.known.len());
        let mut open = 0;
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let kept = self.known.get_mut(&pid).and_then(|k| k.stat_file.take());
            // A process may exit between listing and reading: skip it.
            let Some((stat, stat_file)) = self.read_stat(pid, kept, &mut open) else {
                continue;
            };
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
                Some(k) if k.comm == stat.comm => k.info.clone(),
                _ => Arc::new(self.read_static(&stat)),
            };
            let (cpu_limit, mem_limit) = self
                .limits
                .entry(info.cgroup.clone())
                .or_insert_with(|| cgroup_limits(&info.cgroup))
                .to_owned();
            let rss = stat.rss * self.page_size;
            let started =
                self.boot_ms + (stat.starttime as f64 / self.ticks_per_second * 1000.0) as i64;
            let id = stat.pid.to_string();

            let ran = previous.as_ref().is_none_or(|k| k.cpu_ticks != ticks);
            let io_before = previous.as_ref().and_then(|k| k.io);
            let io = if ran { read_io(stat.pid) } else { io_before };
            let mut published_io = previous.as_ref().map_or((0.0, 0.0), |k| k.published_io);
            if let (Some((r, w)), Some((r0, w0)), Some(secs)) = (io, io_before, elapsed) {
                let rates = (
                    (r.saturating_sub(r0) as f64 / secs).round(),
                    (w.saturating_sub(w0) as f64 / secs).round(),
                );
                if rates != published_io {
                    let tags = [
                        ("node_id", self.node_id.as_str()),
                        ("task_id", id.as_str()),
                        ("group", info.group.as_str()),
                    ];
                    samples.push(sample(
                        "task.io.read.bytes_per_second",
                        &tags,
                        now,
                        rates.0,
                        "bytes/s",
                    ));
                    samples.push(sample(
                        "task.io.write.bytes_per_second",
                        &tags,
                        now,
                        rates.1,
                        "bytes/s",
                    ));
                    published_io = rates;
                }
            }

            let mut published = previous.as_ref().map(|k| k.published).unwrap_or((-1.0, 0));
            if (cpu, rss) != published {
                let tags = [
                    ("node_id", self.node_id.as_str()),
                    ("task_id", id.as_str()),
                    ("group", info.group.as_str()),
                ];
                samples.push(sample(
                    "task.cpu.percent",
                    &tags,
                    now,
                    round2(cpu * 100.0),
                    "percent",
                ));
                samples.push(sample(
                    "task.mem.rss.bytes",
                    &tags,
                    now,
                    rss as f64,
                    "bytes",
                ));
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
            let mut labels = info.labels.clone();
            labels.insert("threads".into(), stat.num_threads.to_string());
            labels.insert("proc_state".into(), proc_state.into());
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
                unreachable_since: None,
            });
            seen.insert(
                stat.pid,
                Known {
                    starttime: stat.starttime,
                    comm: stat.comm.clone(),
                    cpu_ticks: ticks,
                    info,
                    published,
                    io,
                    published_io,
                    stat_file,
                },
            );
        }
        self.known = seen;
        tasks
    }

    fn read_static(&mut self, stat: &Stat) -> Static {
        let kernel_thread = stat.pid == 2 || stat.ppid == 2;
        let process = procfs::process::Process::new(stat.pid).ok();
        let process = process.as_ref();
        let mut cmdline = process
            .and_then(|p| p.cmdline().ok())
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
        let uid = process.and_then(|p| p.uid().ok());
        let user = uid.map(|uid| self.users.get(uid)).unwrap_or_default();
        let cgroup = process
            .and_then(|p| p.cgroups().ok())
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
        let mut labels = crate::api::Labels::new();
        labels.insert("pid".into(), stat.pid.to_string());
        labels.insert("ppid".into(), stat.ppid.to_string());
        labels.insert("user".into(), user);
        labels.insert("cmdline".into(), cmdline);
        labels.insert("cgroup".into(), cgroup.clone());
        Static {
            group,
            cgroup,
            labels,
        }
    }
}

/// How many stat files to keep open. The soft fd limit is raised towards
/// the hard one (to 64 Ki at most) so a busy host is covered, and a margin
/// is left for sockets; processes beyond the budget are opened per read.
fn open_file_budget() -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = limit.maximum.unwrap_or(65_536).min(65_536);
    if limit.current.is_some_and(|current| current < wanted) {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            },
        );
    }
    let current = getrlimit(Resource::Nofile).current.unwrap_or(65_536);
    (current.saturating_sub(1024) as usize).min(32_768)
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

/// Bytes a process read from and wrote to storage (`read_bytes`,
/// `write_bytes` of /proc/PID/io); `None` where it may not be read.
fn read_io(pid: i32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
    };
    Some((field("read_bytes:")?, field("write_bytes:")?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_io_counters() {
        let (read, write) =
            super::read_io(std::process::id() as i32).expect("our own /proc/PID/io");
        assert!(read < u64::MAX && write < u64::MAX);
        assert!(super::read_io(i32::MAX).is_none(), "no such process");
    }

    use super::group_of;

    #[test]
    fn groups_from_cgroup_paths() {
        assert_eq!(group_of("/system.slice/ssh.service"), "ssh.service");
        assert_eq!(group_of("/"), "-");
        assert_eq!(group_of(""), "-");
        let id = "a".repeat(64);
        assert_eq!(
            group_of(&format!("/system.slice/docker-{id}.scope")),
            "container:aaaaaaaaaaaa"
        );
        assert_eq!(
            group_of(&format!("/kubepods/besteffort/pod1/{id}")),
            "container:aaaaaaaaaaaa"
        );
        assert_eq!(
            group_of("/user.slice/user-0.slice/session-3.scope"),
            "session-3.scope"
        );
    }
}
