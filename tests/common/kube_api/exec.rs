//! `pods/exec` of the fake API server: the command runs for real on this
//! machine (in a pseudo-terminal when asked), spoken to over the
//! WebSocket channel protocol (`v5.channel.k8s.io`, else
//! `v4.channel.k8s.io`) as the API server relays the kubelet's: channel 0
//! stdin, 1 stdout, 2 stderr, 3 the status, 4 a resize, and (v5) 255 to
//! close a stream.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;

/// What an exec asks for, from its query.
pub struct ExecAsk {
    pub command: Vec<String>,
    pub stdin: bool,
    pub tty: bool,
}

/// Speaks v5 where the client offers it, unless `v4_only` (an older
/// server): then v4, which has no way to close stdin.
pub fn upgrade(ws: WebSocketUpgrade, ask: ExecAsk, v4_only: bool) -> Response {
    let protocols: &[&'static str] = if v4_only {
        &["v4.channel.k8s.io"]
    } else {
        &["v5.channel.k8s.io", "v4.channel.k8s.io"]
    };
    ws.protocols(protocols.iter().copied())
        .on_upgrade(move |socket| run(socket, ask))
        .into_response()
}

/// A running command's ends.
struct Running {
    child: tokio::process::Child,
    stdin: Option<Box<dyn Write + Send>>,
    /// The terminal's master side, to resize.
    pty: Option<OwnedFd>,
}

fn spawn(
    ask: &ExecAsk,
    size: Option<rustix::termios::Winsize>,
    out: mpsc::Sender<(u8, Vec<u8>)>,
) -> std::io::Result<Running> {
    let mut command = tokio::process::Command::new(&ask.command[0]);
    command.args(&ask.command[1..]).kill_on_drop(true);
    if ask.tty {
        use rustix::pty::OpenptFlags;
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = rustix::pty::openpt(flags)?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let slave = rustix::pty::ioctl_tiocgptpeer(&master, flags)?;
        if let Some(size) = size {
            rustix::termios::tcsetwinsize(&master, size)?;
        }
        command
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and an ioctl on fd 0, async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(std::os::fd::BorrowedFd::borrow_raw(0))?;
                Ok(())
            });
        }
        let child = command.spawn()?;
        drop(command);
        let mut reader = std::fs::File::from(master.try_clone()?);
        std::thread::spawn(move || {
            let mut buf = vec![0; 65536];
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if out.blocking_send((1, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        });
        let writer = std::fs::File::from(master.try_clone()?);
        return Ok(Running {
            child,
            stdin: ask.stdin.then(|| Box::new(writer) as Box<dyn Write + Send>),
            pty: Some(master),
        });
    }
    command
        .stdin(if ask.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    for (channel, pipe) in [
        (
            1u8,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ),
        (
            2u8,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ),
    ] {
        let Some(mut pipe) = pipe else { continue };
        let out = out.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0; 65536];
            while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                if out.send((channel, buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        });
    }
    let stdin = child.stdin.take().map(|s| {
        let fd: OwnedFd = s.into_owned_fd().unwrap();
        rustix::io::ioctl_fionbio(&fd, false).unwrap();
        Box::new(std::fs::File::from(fd)) as Box<dyn Write + Send>
    });
    Ok(Running {
        child,
        stdin,
        pty: None,
    })
}

/// The status channel's message for an exit code, as the kubelet words it.
fn status(code: Option<i32>) -> Vec<u8> {
    let body = match code {
        Some(0) => json!({"metadata": {}, "status": "Success"}),
        Some(code) => json!({
            "metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command, exit code {code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}
        }),
        None => {
            json!({"metadata": {}, "status": "Failure", "message": "the command was killed", "reason": "InternalError"})
        }
    };
    let mut frame = vec![3u8];
    frame.extend(body.to_string().into_bytes());
    frame
}

/// A resize message's size.
fn winsize(data: &[u8]) -> rustix::termios::Winsize {
    let size: serde_json::Value = serde_json::from_slice(data).unwrap_or_default();
    rustix::termios::Winsize {
        ws_col: size["Width"].as_u64().unwrap_or(80) as u16,
        ws_row: size["Height"].as_u64().unwrap_or(24) as u16,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

async fn run(socket: WebSocket, ask: ExecAsk) {
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut output) = mpsc::channel::<(u8, Vec<u8>)>(64);
    // A terminal starts at the size the client sends first (client-go
    // sends it on attaching), as the kubelet's runtime creates it.
    let (mut size, mut early_stdin) = (None, None);
    if ask.tty {
        let first = tokio::time::timeout(std::time::Duration::from_secs(2), incoming.next()).await;
        if let Ok(Some(Ok(Message::Binary(data)))) = first {
            match data.first() {
                Some(4) => size = Some(winsize(&data[1..])),
                Some(0) => early_stdin = Some(data[1..].to_vec()),
                _ => {}
            }
        }
    }
    let mut running = match spawn(&ask, size, tx) {
        Ok(running) => running,
        Err(e) => {
            let mut frame = vec![3u8];
            frame.extend(
                json!({"metadata": {}, "status": "Failure", "message": e.to_string()})
                    .to_string()
                    .into_bytes(),
            );
            let _ = sink.send(Message::Binary(frame.into())).await;
            return;
        }
    };
    if let (Some(bytes), Some(stdin)) = (early_stdin, running.stdin.as_mut()) {
        let _ = stdin.write_all(&bytes);
    }
    let code = loop {
        tokio::select! {
            out = output.recv() => match out {
                Some((channel, bytes)) => {
                    let mut frame = vec![channel];
                    frame.extend(bytes);
                    if sink.send(Message::Binary(frame.into())).await.is_err() {
                        break None;
                    }
                }
                // Every reader is done: the process's end is next.
                None => break running.child.wait().await.ok().and_then(|s| s.code()),
            },
            msg = incoming.next() => match msg {
                Some(Ok(Message::Binary(data))) if !data.is_empty() => match data[0] {
                    0 => {
                        if let Some(stdin) = running.stdin.as_mut() {
                            let _ = stdin.write_all(&data[1..]);
                        }
                    }
                    4 => {
                        if let Some(pty) = &running.pty {
                            let _ = rustix::termios::tcsetwinsize(pty, winsize(&data[1..]));
                        }
                    }
                    // v5: the client closed a stream (stdin).
                    255 if data.get(1) == Some(&0) => {
                        if running.pty.is_some() {
                            // A terminal's end of input is ^D.
                            if let Some(stdin) = running.stdin.as_mut() {
                                let _ = stdin.write_all(&[4]);
                            }
                        } else {
                            running.stdin = None;
                        }
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    let _ = running.child.start_kill();
                    return;
                }
                Some(Ok(_)) => {}
            },
            status = running.child.wait() => {
                // The output still in the pipes or terminal goes first.
                let wait = std::time::Duration::from_secs(1);
                while let Ok(Some((channel, bytes))) = tokio::time::timeout(wait, output.recv()).await {
                    let mut frame = vec![channel];
                    frame.extend(bytes);
                    let _ = sink.send(Message::Binary(frame.into())).await;
                }
                break status.ok().and_then(|s| s.code());
            }
        }
    };
    let _ = sink.send(Message::Binary(status(code).into())).await;
    // A normal closure (1000): client-go reads a close without a code
    // as an error of the stream.
    let normal = axum::extract::ws::CloseFrame {
        code: 1000,
        reason: "".into(),
    };
    let _ = sink.send(Message::Close(Some(normal))).await;
}
