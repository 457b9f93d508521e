//! Where and as whom an exec runs: for a host task, in the process's
//! working directory and environment, as its user, and inside its
//! namespaces when it lives in others (a container) and the gateway may
//! enter them; for a demo task, in a sandbox directory of its own.

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::api::{ExecRequest, Task};
use crate::collect::host::passwd::{self, User};

/// A command ready to start. The argument vector is handed to `execve`
/// as it is: no shell ever sees it.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    /// Switch to this uid and gid before running (the gateway is root).
    pub switch: Option<(u32, u32)>,
}

/// The namespaces `nsenter` can enter, by their `/proc/PID/ns` names.
const NAMESPACES: [(&str, &str); 6] = [
    ("mnt", "--mount"),
    ("uts", "--uts"),
    ("ipc", "--ipc"),
    ("net", "--net"),
    ("pid", "--pid"),
    ("cgroup", "--cgroup"),
];

/// Bytes an argument vector may hold in all.
const MAX_ARGV_BYTES: usize = 256 * 1024;

fn me() -> User {
    passwd::by_uid(rustix::process::geteuid().as_raw())
}

/// Checks the request's command and environment.
pub fn check_request(req: &ExecRequest) -> Result<(), String> {
    if req.cmd.is_empty() || req.cmd[0].is_empty() {
        return Err(
            "cmd is empty: give the program and its arguments, like [\"sh\", \"-c\", \"id\"]"
                .into(),
        );
    }
    if req.container.is_some() {
        return Err("a container is for a Kubernetes pod's exec; this task is a process".into());
    }
    let bytes: usize = req.cmd.iter().map(|a| a.len() + 1).sum();
    if bytes > MAX_ARGV_BYTES {
        return Err(format!("cmd is {bytes} bytes; at most {MAX_ARGV_BYTES}"));
    }
    let nul = |s: &String| s.contains('\0');
    if req.cmd.iter().any(nul) || req.env.iter().any(|(k, v)| nul(k) || nul(v)) {
        return Err("cmd and env may not hold NUL characters".into());
    }
    if req.env.keys().any(|k| k.is_empty() || k.contains('=')) {
        return Err("an env name is empty or holds '='".into());
    }
    if req.cols == 0 || req.rows == 0 {
        return Err("cols and rows must be at least 1".into());
    }
    Ok(())
}

/// The user an exec into `task` runs as, unless it asks for another.
pub fn user_for(task: &Task, demo: bool, asked: Option<&str>) -> Result<User, String> {
    if let Some(name) = asked {
        return passwd::by_name(name).ok_or_else(|| format!("no user {name:?} on this host"));
    }
    if demo {
        return Ok(me());
    }
    let pid = pid_of(task)?;
    let status = procfs::process::Process::new(pid)
        .and_then(|p| p.status())
        .map_err(|_| format!("task {} (pid {pid}) is gone", task.id))?;
    // The task's own user and group, whatever the database says of them
    // (a uid it does not know has no group to guess).
    let mut user = passwd::by_uid(status.ruid);
    user.gid = Some(status.rgid);
    Ok(user)
}

fn pid_of(task: &Task) -> Result<i32, String> {
    task.labels
        .get("pid")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("task {} has no process id to exec beside", task.id))
}

/// How to run `req` in `task` as `user`.
pub fn launch(task: &Task, demo: bool, user: &User, req: &ExecRequest) -> Result<Launch, String> {
    let me = me();
    let switch = if user.uid == me.uid {
        None
    } else if me.uid == 0 {
        let gid = user.gid.ok_or_else(|| {
            format!(
                "user {} has no group in the user database; name a user it knows",
                user.name
            )
        })?;
        Some((user.uid, gid))
    } else {
        return Err(format!(
            "the gateway runs as {} and cannot run commands as {}; exec as {} or run the gateway as root",
            me.name, user.name, me.name
        ));
    };
    let mut launch = if demo {
        if switch.is_some() {
            return Err(format!(
                "a demo task runs as the gateway's user, {}",
                me.name
            ));
        }
        sandbox(task, &me)?
    } else {
        host(task, switch)?
    };
    for (k, v) in &req.env {
        set(&mut launch.env, k, v);
    }
    if req.tty && !launch.env.iter().any(|(k, _)| k == "TERM") {
        set(&mut launch.env, "TERM", "xterm-256color");
    }
    Ok(launch)
}

fn set(env: &mut Vec<(OsString, OsString)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.into(), value.into()));
}

/// A host task: its working directory, environment and namespaces.
fn host(task: &Task, switch: Option<(u32, u32)>) -> Result<Launch, String> {
    let pid = pid_of(task)?;
    let gone = |e: procfs::ProcError| format!("cannot read task {} (pid {pid}): {e}", task.id);
    let process = procfs::process::Process::new(pid).map_err(gone)?;
    let cwd = process.cwd().map_err(gone)?;
    let mut env: Vec<(OsString, OsString)> = process.environ().map_err(gone)?.into_iter().collect();
    env.sort();
    let foreign: Vec<&str> = NAMESPACES
        .iter()
        .filter(|(ns, _)| {
            let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{ns}")).map(|m| m.ino());
            let ours = std::fs::metadata(format!("/proc/self/ns/{ns}")).map(|m| m.ino());
            matches!((theirs, ours), (Ok(a), Ok(b)) if a != b)
        })
        .map(|(_, flag)| *flag)
        .collect();
    let mut launch = Launch {
        program: String::new(),
        args: Vec::new(),
        cwd,
        env,
        switch,
    };
    if !foreign.is_empty() {
        if rustix::process::geteuid().as_raw() != 0 {
            return Err(format!(
                "task {} (pid {pid}) lives in other namespaces (a container) and only a gateway running as root may enter them",
                task.id
            ));
        }
        // As nsenter does; nsenter also forks, so the command is inside
        // the task's pid namespace too, and switches user inside.
        let mut args = vec!["--target".to_string(), pid.to_string()];
        args.extend(foreign.iter().map(|f| f.to_string()));
        args.extend(["--root".to_string(), "--wd".to_string()]);
        if let Some((uid, gid)) = launch.switch.take() {
            args.extend([
                "--setgid".to_string(),
                gid.to_string(),
                "--setuid".to_string(),
                uid.to_string(),
            ]);
        }
        args.push("--".into());
        launch.program = "nsenter".into();
        launch.args = args;
        launch.cwd = PathBuf::from("/");
    }
    Ok(launch)
}

/// A demo task: a directory of its own, and the environment a Marathon
/// task would have.
fn sandbox(task: &Task, me: &User) -> Result<Launch, String> {
    let safe: String = task
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let root = std::env::temp_dir().join(format!("day2top-sandboxes-{}", me.uid));
    let dir = root.join(safe.trim_start_matches('.'));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("cannot make the sandbox {}: {e}", dir.display()))?;
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let sandbox = dir.to_string_lossy().into_owned();
    let mut env = Vec::new();
    for (k, v) in [
        ("PATH", path.as_str()),
        ("HOME", sandbox.as_str()),
        ("MESOS_SANDBOX", sandbox.as_str()),
        ("USER", me.name.as_str()),
        ("LOGNAME", me.name.as_str()),
        ("LANG", "C.UTF-8"),
        ("MESOS_TASK_ID", task.id.as_str()),
        ("MARATHON_APP_ID", task.group.as_str()),
        ("MARATHON_APP_VERSION", task.version.as_str()),
        ("HOST", task.node_id.as_str()),
    ] {
        set(&mut env, k, v);
    }
    Ok(Launch {
        program: String::new(),
        args: Vec::new(),
        cwd: dir,
        env,
        switch: None,
    })
}

impl Launch {
    /// The full argument vector: a prefix (nsenter), then the command.
    pub fn argv(&self, cmd: &[String]) -> (String, Vec<String>) {
        if self.program.is_empty() {
            (cmd[0].clone(), cmd[1..].to_vec())
        } else {
            let mut args = self.args.clone();
            args.extend(cmd.iter().cloned());
            (self.program.clone(), args)
        }
    }
}
