//! Wakes a file tailer as soon as a file in the folders it follows is
//! written, created or moved in (inotify), so a line goes out in
//! milliseconds, not at the next timed pass; the timed pass stays for what
//! inotify cannot see (a folder that appears later, a network filesystem).

use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

pub struct DirWatch {
    fd: OwnedFd,
    /// Each watch's folder, by its descriptor.
    folders: HashMap<i32, PathBuf>,
    /// The globs: a write to a file none matches (another log in the same
    /// folder) is no change.
    patterns: Vec<glob::Pattern>,
}

/// What a wait saw.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Files written (or closed after writing).
    pub written: Vec<PathBuf>,
    /// A file was created or moved in, or events were lost: every file
    /// must be looked at.
    pub anything_else: bool,
}

/// The folder a glob's files are in: its path up to the first part with a
/// wildcard (a plain path's own folder).
fn folder(glob: &str) -> PathBuf {
    let mut dir = PathBuf::new();
    for part in Path::new(glob).components() {
        if part
            .as_os_str()
            .to_string_lossy()
            .contains(['*', '?', '[', '{'])
        {
            return dir;
        }
        dir.push(part);
    }
    dir.parent().map(Path::to_path_buf).unwrap_or_default()
}

impl DirWatch {
    /// Watches the folders of `globs`; why not, when none can be watched
    /// (the caller then reads on its timed pass only).
    pub fn new(globs: &[String]) -> Result<DirWatch, String> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).map_err(|e| {
            if e == rustix::io::Errno::MFILE {
                // Every process of a user shares this limit (128 by
                // default): many gateways on one host, or many inotify
                // users, reach it.
                "no inotify instance left (fs.inotify.max_user_instances reached; raise it with sysctl)".to_string()
            } else {
                format!("inotify: {e}")
            }
        })?;
        let mask = WatchFlags::MODIFY
            | WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::CLOSE_WRITE;
        let mut folders = HashMap::new();
        let mut refused = None;
        for glob in globs {
            let dir = folder(glob);
            match inotify::add_watch(&fd, &dir, mask) {
                Ok(wd) => {
                    folders.insert(wd, dir);
                }
                Err(e) => refused = Some(format!("cannot watch {}: {e}", dir.display())),
            }
        }
        let patterns = globs
            .iter()
            .filter_map(|g| glob::Pattern::new(g).ok())
            .collect();
        if folders.is_empty() {
            return Err(refused.unwrap_or_else(|| "no folder to watch".into()));
        }
        Ok(DirWatch {
            fd,
            folders,
            patterns,
        })
    }

    /// Waits until something in the folders changed, or `at_most`; what
    /// changed, or `None` when nothing did.
    pub fn wait(&self, at_most: Duration) -> Option<Changes> {
        let timeout = Timespec {
            tv_sec: at_most.as_secs() as i64,
            tv_nsec: at_most.subsec_nanos() as i64,
        };
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        if !matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0) {
            return None;
        }
        let mut changes = Changes::default();
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut events = inotify::Reader::new(&self.fd, &mut buf);
        while let Ok(event) = events.next() {
            let written = event.events() & (ReadFlags::MODIFY | ReadFlags::CLOSE_WRITE);
            let file = event
                .file_name()
                .map(|n| Path::new(std::ffi::OsStr::from_bytes(n.to_bytes())));
            match (self.folders.get(&event.wd()), file) {
                (Some(dir), Some(name)) if !written.is_empty() => {
                    let path = dir.join(name);
                    let ours = self.patterns.iter().any(|p| p.matches_path(&path));
                    if ours && !changes.written.contains(&path) {
                        changes.written.push(path);
                    }
                }
                _ => changes.anything_else = true,
            }
        }
        Some(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_wakes_the_watch_at_once() {
        assert_eq!(folder("/var/log/*.log"), PathBuf::from("/var/log"));
        assert_eq!(folder("/var/log/app.log"), PathBuf::from("/var/log"));
        assert_eq!(folder("/srv/*/logs/*.log"), PathBuf::from("/srv"));
        let dir = std::env::temp_dir().join(format!("day2top-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("a.log");
        std::fs::write(&log, "").unwrap();
        let missing = DirWatch::new(&[format!("{}/none/*.log", dir.display())]);
        assert!(missing.err().unwrap().starts_with("cannot watch"));
        let watch = DirWatch::new(&[format!("{}/*.log", dir.display())]).unwrap();
        assert_eq!(watch.wait(Duration::from_millis(10)), None, "nothing yet");
        std::fs::write(&log, "line\n").unwrap();
        let started = std::time::Instant::now();
        let changes = watch.wait(Duration::from_secs(5)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(changes.written, std::slice::from_ref(&log));
        assert_eq!(watch.wait(Duration::from_millis(10)), None, "drained");
        std::fs::write(dir.join("other.txt"), "x").unwrap();
        let elsewhere = watch.wait(Duration::from_secs(5)).unwrap();
        assert!(elsewhere.written.is_empty(), "a file no glob matches");
        std::fs::write(dir.join("b.log"), "").unwrap();
        assert!(
            watch.wait(Duration::from_secs(5)).unwrap().anything_else,
            "a new file"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
