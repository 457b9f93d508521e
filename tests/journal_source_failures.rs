//! The journal source when journalctl cannot follow: what it read is kept,
//! it reads on by polling, and it resumes after the last entry kept; and a
//! relative `--journal-file`. Both run the real binary, each with its own
//! working directory and `PATH`.
//!
//! The wrapper is fault injection around the real journalctl, not a
//! double: it runs journalctl with the same arguments, and for a
//! `--follow` prints what there is and then fails as journalctl does when
//! it cannot follow ("Failed to get journal fd"). Needs journalctl; says
//! "skipped" without it unless DAY2TOP_REQUIRE_JOURNAL=1.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::get_as;
use day2top::api::ClusterInfo;

fn journalctl() -> Option<PathBuf> {
    let found = Command::new("sh")
        .args(["-c", "command -v journalctl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if found.is_none() {
        assert!(
            std::env::var_os("DAY2TOP_REQUIRE_JOURNAL").is_none(),
            "DAY2TOP_REQUIRE_JOURNAL is set but journalctl is missing"
        );
        eprintln!("skipped: journalctl is not installed");
    }
    found
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-jfail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal/app.journal");
    std::fs::copy(fixture, dir.join("app.journal")).unwrap();
    dir
}

/// A child process, killed however the test ends (a failed assertion too).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `day2top gateway` on a demo with `--journal-file FILE`, started in
/// `dir` with `path` as its PATH: the child, its URL and its token.
fn gateway_in(dir: &Path, file: &str, path: &str) -> (Running, String, String) {
    let gateway = Command::new(env!("CARGO_BIN_EXE_day2top"))
        .args([
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--statsd",
            "off",
            "--otlp",
            "off",
            "--journal-file",
            file,
        ])
        .current_dir(dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("HOME", dir)
        .env("PATH", path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut gateway = Running(gateway);
    let mut lines = BufReader::new(gateway.0.stderr.take().unwrap()).lines();
    let mut url = None;
    // The token file is written before "connect with" is said.
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(at) = line.split("serving ").nth(1) {
            url = Some(at.trim().to_string());
        }
        if line.contains("connect with") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let token = std::fs::read_to_string(dir.join("state/day2top/gateway.token")).unwrap();
    (
        gateway,
        url.expect("the gateway says where it serves"),
        token.trim().to_string(),
    )
}

/// After `wait`: the journal entries the gateway serves, and the journal
/// source's state.
fn journal_after(url: &str, token: &str, wait: Duration) -> (usize, String) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        tokio::time::sleep(wait).await;
        let (_, logs) = get_as(&format!("{url}/api/v1/logs?limit=1000"), token).await;
        let (_, info) = get_as(&format!("{url}/api/v1/cluster"), token).await;
        let info: ClusterInfo = serde_json::from_str(&info).unwrap();
        let state = info
            .log_sources
            .iter()
            .find(|s| s.name == "journal")
            .unwrap()
            .state
            .clone();
        (
            logs.lines()
                .filter(|l| l.contains("\"cursor\":\"j:"))
                .count(),
            state,
        )
    })
}

#[test]
fn a_journal_that_cannot_be_followed_is_polled_and_nothing_is_lost_or_repeated() {
    let Some(real) = journalctl() else { return };
    let dir = scratch("poll");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("journalctl");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nfollow=no\nfor a do\n  shift\n  if [ \"$a\" = --follow ]; then follow=yes; else set -- \"$@\" \"$a\"; fi\ndone\n\
             if [ $follow = yes ]; then\n  {real} \"$@\"\n  echo 'Failed to get journal fd: Destination address required' >&2\n  exit 1\nfi\n\
             exec {real} \"$@\"\n",
            real = real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let journal = dir.join("app.journal").display().to_string();
    let (gateway, url, token) = gateway_in(&dir, &journal, &path);
    // Read once by the failed follow, then polled several times over.
    let (entries, state) = journal_after(&url, &token, Duration::from_millis(3500));
    drop(gateway);
    assert_eq!(entries, 5, "every entry, once ({state})");
    assert!(state.starts_with("polling every 1s"), "{state}");
    assert!(state.contains("Failed to get journal fd"), "{state}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_relative_journal_file_is_read_from_where_the_gateway_started() {
    if journalctl().is_none() {
        return;
    }
    let dir = scratch("relative");
    let path = std::env::var("PATH").unwrap_or_default();
    let (gateway, url, token) = gateway_in(&dir, "app.journal", &path);
    let (entries, state) = journal_after(&url, &token, Duration::from_millis(1500));
    drop(gateway);
    assert_eq!(entries, 5, "journal state: {state}");
    assert_eq!(state, "following", "the relative path was made absolute");
    let _ = std::fs::remove_dir_all(&dir);
}
