//! A cgroup (v2) per exec session, where the gateway may make one: the
//! process is moved into it before it runs, so everything it starts is
//! inside, even a daemon that leaves the session with `setsid`. Ending the
//! session kills the whole cgroup. Without a writable cgroup v2 hierarchy
//! (not mounted, read only, no permission), sessions fall back to killing
//! their process session, and the gateway says so once.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static BASE: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The directory session cgroups are made in: a child of the gateway's own
/// cgroup, or why there is none.
fn base() -> &'static Result<PathBuf, String> {
    BASE.get_or_init(|| {
        let found = find_base();
        match &found {
            Ok(dir) => tracing::info!("exec sessions run in cgroups under {}", dir.display()),
            Err(why) => tracing::warn!(
                "exec sessions run without cgroups ({why}): a process that calls setsid can outlive its session"
            ),
        }
        found
    })
}

/// Where cgroup v2 is mounted, from `/proc/self/mountinfo`.
fn mount_point() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        if after.split(' ').next()? != "cgroup2" {
            return None;
        }
        before.split(' ').nth(4).map(PathBuf::from)
    })
}

/// Removes the empty session cgroups of gateways that are gone (killed
/// before they could clean up): `day2top-exec-PID` of a PID not running.
/// Run as each session starts: one read of a directory.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("day2top-exec-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // Only empty cgroups can be removed; one still holding a process
        // stays (rmdir refuses), and is left alone.
        if let Ok(sessions) = std::fs::read_dir(entry.path()) {
            for session in sessions.flatten().filter(|s| s.path().is_dir()) {
                let _ = std::fs::remove_dir(session.path());
            }
        }
        let _ = std::fs::remove_dir(entry.path());
    }
}

fn find_base() -> Result<PathBuf, String> {
    let mount = mount_point().ok_or("no cgroup v2 hierarchy is mounted")?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
        .ok_or("this process is in no cgroup v2 group")?;
    let base = mount
        .join(own.trim().trim_start_matches('/'))
        .join(format!("day2top-exec-{}", std::process::id()));
    std::fs::create_dir_all(&base).map_err(|e| format!("cannot make {}: {e}", base.display()))?;
    Ok(base)
}

/// One session's cgroup: made before the process starts, killed and
/// removed when dropped.
pub struct SessionCgroup {
    dir: PathBuf,
    /// `cgroup.procs`, open for the child to write itself into.
    procs: OwnedFd,
}

impl SessionCgroup {
    /// A fresh cgroup for a session, if sessions get them here.
    pub fn new(session: &str) -> Option<SessionCgroup> {
        let base = base().as_ref().ok()?;
        let name: String = session
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let dir = base.join(format!("session-{name}"));
        if let Some(parent) = base.parent() {
            remove_stale(parent);
        }
        // The base again too: a gateway that stopped in this process took it away.
        if let Err(e) = std::fs::create_dir_all(base).and_then(|()| std::fs::create_dir(&dir)) {
            tracing::warn!("cannot make the session cgroup {}: {e}", dir.display());
            return None;
        }
        let procs = rustix::fs::open(
            dir.join("cgroup.procs"),
            rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        );
        match procs {
            Ok(procs) => Some(SessionCgroup { dir, procs }),
            Err(e) => {
                tracing::warn!("cannot open {}/cgroup.procs: {e}", dir.display());
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }

    /// The descriptor the child writes "0" to, between fork and exec, to
    /// move itself in. Closed by the exec.
    pub fn procs_fd(&self) -> RawFd {
        self.procs.as_raw_fd()
    }
}

impl Drop for SessionCgroup {
    /// Kills every process in the cgroup and removes it, in the
    /// background (the processes take a moment to go).
    fn drop(&mut self) {
        let dir = std::mem::take(&mut self.dir);
        std::thread::spawn(move || kill_and_remove(&dir));
    }
}

/// In the child between fork and exec: joins the session's cgroup.
/// Async-signal-safe: one `write` to a descriptor already open.
pub fn join(procs: RawFd) -> std::io::Result<()> {
    // SAFETY: the descriptor is open in the parent until after the spawn.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(procs) };
    rustix::io::write(fd, b"0")?;
    Ok(())
}

fn kill_and_remove(dir: &Path) {
    // cgroup.kill (Linux 5.14) kills atomically, new forks included;
    // before it, freeze the group and kill what is listed.
    if std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
        let _ = std::fs::write(dir.join("cgroup.freeze"), "1");
        if let Ok(pids) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            for pid in pids.lines().filter_map(|p| p.parse().ok()) {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
        }
        let _ = std::fs::write(dir.join("cgroup.freeze"), "0");
    }
    // Removable once its processes have gone.
    let until = Instant::now() + Duration::from_secs(5);
    while std::fs::remove_dir(dir).is_err() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes the directory of session cgroups once no session is left in it
/// (when a gateway stops; the last sessions' cgroups go in the background).
pub fn remove_base() {
    if let Some(Ok(base)) = BASE.get() {
        let until = Instant::now() + Duration::from_secs(2);
        while base.exists() && std::fs::remove_dir(base).is_err() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
