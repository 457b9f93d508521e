//! Running one probe: an HTTP GET, a TCP connect, or a command, each
//! within its timeout, reporting pass or fail, latency and what it said.

use std::time::{Duration, Instant};

use super::Probe;
use crate::api::{CheckResult, UnixMillis};

/// What a probe's output is cut to.
const MAX_OUTPUT: usize = 512;

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
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
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
            let mut command = tokio::process::Command::new(&argv[0]);
            command
                .args(&argv[1..])
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
            match command.output().await {
                Err(e) => (false, format!("cannot run {}: {e}", argv[0])),
                Ok(out) => {
                    let mut said = String::from_utf8_lossy(&out.stdout).into_owned();
                    said.push_str(&String::from_utf8_lossy(&out.stderr));
                    if !out.status.success() {
                        said = format!("{} {}", out.status, said.trim());
                    }
                    (out.status.success(), said)
                }
            }
        }
    }
}
