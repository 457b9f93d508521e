//! `day2top exec`: this terminal attached to a process in a task, as
//! `kubectl exec` and `dcos task exec` do it. With `-t` the local terminal
//! goes raw and its size follows the window; stdin's end is passed on; the
//! process's exit code becomes ours (128 + the signal for a signal).

use std::io::Write;

use tokio::io::AsyncReadExt;
use tokio::signal::unix::{SignalKind, signal};

use super::{Client, ExecInput, ExecOutput};
use crate::api::{ExecRequest, Resize};

/// The exit code when the session broke before the process's status came
/// (as ssh does).
pub const LOST: i32 = 255;

/// Restores the terminal however the session ends.
struct RawMode;

impl RawMode {
    fn enable() -> Result<RawMode, String> {
        crossterm::terminal::enable_raw_mode()
            .map(|()| RawMode)
            .map_err(|e| format!("cannot put the terminal in raw mode: {e}"))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

fn terminal_size() -> Resize {
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    Resize { cols, rows }
}

/// Runs `request` in `task` with this process's stdin, stdout and stderr;
/// returns the exit code to leave with.
pub async fn run(client: &Client, task: &str, mut request: ExecRequest) -> Result<i32, String> {
    use std::io::IsTerminal;
    if request.tty && !std::io::stdin().is_terminal() {
        eprintln!("day2top: stdin is not a terminal; running without -t");
        request.tty = false;
    }
    if request.tty {
        let size = terminal_size();
        (request.cols, request.rows) = (size.cols, size.rows);
    }
    let mut connection = client
        .exec(task, &request)
        .await
        .map_err(|e| format!("exec into {task}: {e}"))?;
    let raw = if request.tty {
        Some(RawMode::enable()?)
    } else {
        None
    };
    let mut winch = signal(SignalKind::window_change()).ok();
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0u8; 16 * 1024];
    let mut reading = request.interactive;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let code = loop {
        tokio::select! {
            output = connection.output.recv() => match output {
                Some(ExecOutput::Stdout(data)) => {
                    let _ = out.write_all(&data);
                    let _ = out.flush();
                }
                Some(ExecOutput::Stderr(data)) => {
                    let _ = err.write_all(&data);
                    let _ = err.flush();
                }
                Some(ExecOutput::Exited(status)) => {
                    drop(raw);
                    if status.exit_code.is_none() {
                        eprintln!("day2top: {}", status.reason);
                    }
                    break status.shell_code();
                }
                Some(ExecOutput::Lost(why)) => {
                    drop(raw);
                    eprintln!("day2top: {why}");
                    break LOST;
                }
                None => {
                    drop(raw);
                    break LOST;
                }
            },
            read = stdin.read(&mut buf), if reading => {
                let input = match read {
                    Ok(n @ 1..) => ExecInput::Stdin(buf[..n].to_vec()),
                    _ => {
                        reading = false;
                        ExecInput::CloseStdin
                    }
                };
                if connection.input.send(input).await.is_err() {
                    reading = false;
                }
            }
            Some(()) = async { winch.as_mut()?.recv().await }, if request.tty => {
                let _ = connection.input.send(ExecInput::Resize(terminal_size())).await;
            }
        }
    };
    Ok(code)
}
