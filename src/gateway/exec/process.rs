//! An exec's process: in a pseudo-terminal, or with plain pipes (stdout
//! and stderr then kept apart). Either way it leads a session of its own,
//! so everything it starts can be found and killed with it.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;

use rustix::process::{Pid, Signal};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use super::cgroup::{self, SessionCgroup};
use super::target::Launch;
use crate::api::{ExecStatus, Resize, channel};

/// Bytes read from the process at once: one frame at most.
const READ_CHUNK: usize = 64 * 1024;

/// Chunks of output waiting for the socket; past this the reader stops,
/// and the process blocks on a full terminal or pipe (backpressure, not
/// memory).
const OUTPUT_QUEUE: usize = 32;

/// Output: the channel it came on, and the bytes.
pub type Output = (u8, Vec<u8>);

/// The master side of a pseudo-terminal, non-blocking, on the reactor.
struct Pty(AsyncFd<OwnedFd>);

impl Pty {
    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.0.readable().await?;
            match ready
                .try_io(|fd| rustix::io::read(fd.get_ref(), &mut *buf).map_err(io::Error::from))
            {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut ready = self.0.writable().await?;
            match ready.try_io(|fd| rustix::io::write(fd.get_ref(), data).map_err(io::Error::from))
            {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    fn resize(&self, size: Resize) -> io::Result<()> {
        rustix::termios::tcsetwinsize(self.0.get_ref(), winsize(size)).map_err(io::Error::from)
    }
}

fn winsize(size: Resize) -> rustix::termios::Winsize {
    rustix::termios::Winsize {
        ws_row: size.rows.max(1),
        ws_col: size.cols.max(1),
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

enum Stdin {
    Pty(Arc<Pty>),
    Pipe(ChildStdin),
    Closed,
}

pub struct Process {
    child: Child,
    /// The process id, which is also its session and process group id.
    pub pid: i32,
    stdin: Stdin,
    pty: Option<Arc<Pty>>,
    /// The session's cgroup, where there is one: it holds everything the
    /// process starts, even what leaves its session.
    cgroup: Option<SessionCgroup>,
}

impl Process {
    /// Starts the command; output arrives in order on the receiver, which
    /// ends when every reader is done.
    pub fn spawn(
        launch: &Launch,
        cmd: &[String],
        tty: bool,
        interactive: bool,
        size: Resize,
        session: &str,
    ) -> io::Result<(Process, mpsc::Receiver<Output>)> {
        let cgroup = SessionCgroup::new(session);
        let procs = cgroup.as_ref().map(SessionCgroup::procs_fd);
        let (program, args) = launch.argv(cmd);
        let mut command = Command::new(&program);
        command
            .args(&args)
            .current_dir(&launch.cwd)
            .env_clear()
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .kill_on_drop(true);
        if let Some((uid, gid)) = launch.switch {
            command.uid(uid).gid(gid);
        }
        let (tx, output) = mpsc::channel(OUTPUT_QUEUE);
        if tty {
            let (master, slave) = open_pty(size)?;
            command
                .stdin(Stdio::from(slave.try_clone()?))
                .stdout(Stdio::from(slave.try_clone()?))
                .stderr(Stdio::from(slave));
            // SAFETY: only async-signal-safe system calls between fork and
            // exec, and no allocation: fd 0 is named directly, since
            // `std::io::stdin()` allocates its handle on first use.
            unsafe {
                command.pre_exec(move || {
                    if let Some(procs) = procs {
                        cgroup::join(procs)?;
                    }
                    rustix::process::setsid()?;
                    let stdin = std::os::fd::BorrowedFd::borrow_raw(0);
                    rustix::process::ioctl_tiocsctty(stdin)?;
                    Ok(())
                });
            }
            let child = command.spawn()?;
            drop(command); // closes our copies of the terminal's slave side
            // SAFETY: the OwnedFd is open and owned by the AsyncFd until it drops.
            let master = unsafe { AsyncFd::register(master) }.map_err(io::Error::from)?;
            let pty = Arc::new(Pty(master));
            let reader = pty.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; READ_CHUNK];
                // EIO is the end: every holder of the slave side is gone.
                while let Ok(n @ 1..) = reader.read(&mut buf).await {
                    if tx.send((channel::STDOUT, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            });
            let pid = child.id().unwrap_or(0) as i32;
            let stdin = if interactive {
                Stdin::Pty(pty.clone())
            } else {
                Stdin::Closed
            };
            let process = Process {
                child,
                pid,
                stdin,
                pty: Some(pty),
                cgroup,
            };
            return Ok((process, output));
        }
        command
            .stdin(if interactive {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: a write to an open descriptor and setsid are
        // async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                if let Some(procs) = procs {
                    cgroup::join(procs)?;
                }
                rustix::process::setsid()?;
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        let stdin = child.stdin.take().map_or(Stdin::Closed, Stdin::Pipe);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, channel::STDOUT, tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, channel::STDERR, tx));
        }
        let pid = child.id().unwrap_or(0) as i32;
        let process = Process {
            child,
            pid,
            stdin,
            pty: None,
            cgroup,
        };
        Ok((process, output))
    }

    /// The process's stdin, to be written from a task of its own: a
    /// process that does not read its input must not hold up its output.
    pub fn take_stdin(&mut self) -> StdinWriter {
        StdinWriter(std::mem::replace(&mut self.stdin, Stdin::Closed))
    }

    pub fn resize(&self, size: Resize) {
        if let Some(pty) = &self.pty {
            let _ = pty.resize(size);
        }
    }

    /// Waits for the process to end. Cancel-safe.
    pub async fn wait(&mut self) -> ExecStatus {
        match self.child.wait().await {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => ExecStatus {
                    exit_code: Some(code),
                    signal: None,
                    reason: format!("exited with {code}"),
                },
                (None, Some(signal)) => ExecStatus {
                    exit_code: None,
                    signal: Some(signal),
                    reason: format!("killed by signal {signal}"),
                },
                (None, None) => ExecStatus {
                    exit_code: None,
                    signal: None,
                    reason: "ended".into(),
                },
            },
            Err(e) => ExecStatus {
                exit_code: None,
                signal: None,
                reason: format!("cannot wait for the process: {e}"),
            },
        }
    }

    /// Kills everything the process started: its cgroup, where it has
    /// one; its process group, and any other group in its session (a
    /// shell's background jobs).
    pub fn kill_session(&mut self) {
        drop(self.cgroup.take());
        kill_session(self.pid);
    }
}

pub fn kill_session(leader: i32) {
    let Some(pid) = Pid::from_raw(leader) else {
        return;
    };
    let _ = rustix::process::kill_process_group(pid, Signal::KILL);
    let Ok(all) = procfs::process::all_processes() else {
        return;
    };
    for process in all.flatten() {
        if let Ok(stat) = process.stat()
            && stat.session == leader
            && let Some(member) = Pid::from_raw(stat.pid)
        {
            let _ = rustix::process::kill_process(member, Signal::KILL);
        }
    }
}

/// Where stdin's bytes go.
pub struct StdinWriter(Stdin);

impl StdinWriter {
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.0 {
            Stdin::Pty(pty) => pty.write_all(data).await,
            Stdin::Pipe(pipe) => pipe.write_all(data).await,
            Stdin::Closed => Ok(()),
        }
    }

    /// Stdin's end: for a pipe, closing it; for a terminal, the EOF
    /// character a terminal sends for Ctrl-D.
    pub async fn close(mut self) {
        if let Stdin::Pty(pty) = &self.0 {
            let _ = pty.write_all(b"\x04").await;
        }
        self.0 = Stdin::Closed;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill_session();
    }
}

async fn pump(mut from: impl AsyncRead + Unpin, channel: u8, tx: mpsc::Sender<Output>) {
    let mut buf = vec![0; READ_CHUNK];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        if tx.send((channel, buf[..n].to_vec())).await.is_err() {
            break;
        }
    }
}

/// A new pseudo-terminal of this size: (master, slave).
fn open_pty(size: Resize) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pty::OpenptFlags;
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(
        &master,
        OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
    )?;
    rustix::termios::tcsetwinsize(&slave, winsize(size))?;
    rustix::io::ioctl_fionbio(&master, true)?;
    Ok((master, slave))
}
