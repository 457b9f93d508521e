//! Running one probe: an HTTP GET, a TCP connect, or a command, each
//! within its timeout, reporting pass or fail, latency and what it said.

use std::time::{Duration, Instant};

use super::Probe;
use crate::api::{CheckResult, UnixMillis};

/// What a probe's output is cut to.
const MAX_OUTPUT: usize = 512;
/// Of an HTTP body or a command's output, what is kept to match and show;
/// the rest is read and thrown away, so a chatty target costs no memory.
const MAX_READ: usize = 64 * 1024;

/// Reads `reader` to its end, keeping the first [`MAX_READ`] bytes.
async fn read_capped(mut reader: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 8192];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = MAX_READ.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

fn cut(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_OUTPUT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Runs `probe` once; never longer than `timeout` (a command is killed).
pub async fn run(
    probe: &Probe,
    http: &reqwest::Client,
    timeout: Duration,
    now: UnixMillis,
) -> CheckResult {
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, attempt(probe, http)).await;
    let (ok, output) = match outcome {
        Ok(result) => result,
        Err(_) => (false, format!("no answer within {timeout:?}")),
    };
    CheckResult {
        ts: now,
        ok,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        output: cut(&output),
    }
}

async fn attempt(probe: &Probe, http: &reqwest::Client) -> (bool, String) {
    match probe {
        Probe::Http { url, body } => match http.get(url).send().await {
            Err(e) => (false, crate::client::error_chain(&e)),
            Ok(mut resp) => {
                let status = resp.status();
                let mut bytes = Vec::new();
                while let Ok(Some(chunk)) = resp.chunk().await {
                    let room = MAX_READ.saturating_sub(bytes.len());
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                let text = String::from_utf8_lossy(&bytes);
                let status_ok = (200..400).contains(&status.as_u16());
                let body_ok = body.as_ref().is_none_or(|re| re.is_match(&text));
                let said = match (status_ok, body_ok) {
                    (true, false) => format!("HTTP {status}, but the body does not match: {text}"),
                    _ => format!("HTTP {status} {text}"),
                };
                (status_ok && body_ok, said)
            }
        },
        Probe::Tcp { address } => match tokio::net::TcpStream::connect(address.as_str()).await {
            Ok(_) => (true, format!("connected to {address}")),
            Err(e) => (false, format!("cannot connect to {address}: {e}")),
        },
        Probe::Command { argv } => {
            use std::process::Stdio;
            let mut command = tokio::process::Command::new(&argv[0]);
            command
                .args(&argv[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            let mut child = match command.spawn() {
                Ok(child) => child,
                Err(e) => return (false, format!("cannot run {}: {e}", argv[0])),
            };
            let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
            let (out, err, status) = tokio::join!(
                async {
                    match stdout {
                        Some(s) => read_capped(s).await,
                        None => Vec::new(),
                    }
                },
                async {
                    match stderr {
                        Some(s) => read_capped(s).await,
                        None => Vec::new(),
                    }
                },
                child.wait()
            );
            let mut said = String::from_utf8_lossy(&out).into_owned();
            said.push_str(&String::from_utf8_lossy(&err));
            match status {
                Ok(status) if status.success() => (true, said),
                Ok(status) => (false, format!("{status} {}", said.trim())),
                Err(e) => (false, format!("cannot wait for {}: {e}", argv[0])),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_chatty_command_is_read_to_its_end_and_kept_short() {
        let probe = Probe::Command {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "head -c 2000000 /dev/zero | tr '\\0' x; echo done >&2".into(),
            ],
        };
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*crate::client::tls_config(None).unwrap()).clone())
            .build()
            .unwrap();
        let result = run(&probe, &http, Duration::from_secs(10), 0).await;
        assert!(result.ok, "{}", result.output);
        assert!(result.output.chars().count() <= MAX_OUTPUT + 1);
        assert!(result.output.starts_with("xxx"));
    }
}
