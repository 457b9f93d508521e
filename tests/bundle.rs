//! `day2top bundle` as a user runs it (the built binary) against a demo
//! gateway that played the OOM scenario with canary secrets planted: the
//! archive's files are listed and read back, each parses, the failing
//! task's log and the recording are in it, and with `--share` neither a
//! canary nor a token is anywhere in it (nor a password from the config).

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use day2top::record::reader::Recording;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("admin.token"), common::ADMIN).unwrap();
    // A password in a URL, and keys that name secrets.
    std::fs::write(
        dir.join("config.toml"),
        r#"theme = "dark"

[context.prod]
url = "https://ops:hunter2-canary@prod.example:7070"
token_file = "/etc/day2top/prod.token"
"#,
    )
    .unwrap();
    dir
}

/// `day2top bundle ARGS` against `url` with the admin token and the
/// config in `dir`.
fn bundle_command(dir: &Path, url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_day2top"));
    command
        .arg("bundle")
        .args(args)
        .arg("--gateway")
        .arg(url)
        .arg("--token-file")
        .arg(dir.join("admin.token"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn bundle(dir: &Path, url: &str, args: &[&str]) -> std::process::Output {
    bundle_command(dir, url, args).output().await.unwrap()
}

/// The archive's files by their names under its one folder, as bytes.
fn archived(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    let mut archive = tar::Archive::new(gz);
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let (root, name) = name.split_once('/').expect("one folder");
        assert!(root.starts_with("day2top-bundle-"), "{root}");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(name.to_string(), bytes);
    }
    files
}

/// Everything in the archive as text, the recording's gzip members read.
fn all_text(files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut text = String::new();
    for (name, bytes) in files {
        if name.ends_with(".d2rec") {
            let _ = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_string(&mut text);
        } else {
            text.push_str(&String::from_utf8_lossy(bytes));
        }
    }
    text.to_lowercase()
}

#[tokio::test]
async fn a_bundle_holds_what_support_asks_for_and_share_mode_hides_the_secrets() {
    let (gw, task, _) = common::start_oom_demo(true).await;
    let dir = scratch();
    let path = dir.join("incident.tar.gz");
    let out = bundle(
        &dir,
        &gw.url,
        &["--share", "--since", "1m", "-o", path.to_str().unwrap()],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("redacted (share mode)"), "{stderr}");

    let files = archived(&path);
    let task_log = format!("logs/task-{task}.ndjson");
    for name in [
        "cluster.json",
        "versions.json",
        "nodes.json",
        "tasks.json",
        "health.json",
        "traces.json",
        "audit.json",
        "metrics/nodes.json",
        "metrics/failing-tasks.json",
        "logs/errors.ndjson",
        task_log.as_str(),
        "triage.json",
        "config.toml",
        "recording.d2rec",
        "manifest.json",
    ] {
        assert!(files.contains_key(name), "{name} in {:?}", files.keys());
    }
    for (name, bytes) in &files {
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.ends_with(".ndjson") {
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                serde_json::from_slice::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["redaction"], "share");
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed.len() + 1,
        files.len(),
        "every file but itself listed"
    );
    assert!(
        manifest["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("alerts.json: ")),
        "what is missing says why: {manifest}"
    );
    let errors: Vec<serde_json::Value> = files["logs/errors.ndjson"]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|e| e["priority"].as_u64() <= Some(3)));
    let triage: serde_json::Value = serde_json::from_slice(&files["triage.json"]).unwrap();
    let first = triage["findings"][0]["title"].as_str().unwrap_or_default();
    assert!(first.contains("OOM"), "triage's first finding: {first}");
    let config = String::from_utf8_lossy(&files["config.toml"]);
    assert!(config.contains("token_file"), "{config}");
    assert!(!config.contains("hunter2"), "{config}");
    let replay = dir.join("recording.d2rec");
    std::fs::write(&replay, &files["recording.d2rec"]).unwrap();
    let recording = Recording::open(&replay).unwrap();
    assert_eq!(recording.header.redaction, "share");
    assert!(recording.header.since.is_some());

    let text = all_text(&files);
    assert!(!text.contains("canary"), "a canary in the shared bundle");
    for token in [common::ADMIN, common::READ] {
        assert!(!text.contains(token), "a token in the bundle");
    }

    // The control: without --share the canaries are there, never a token
    // nor the config's password.
    let plain = dir.join("plain.tar.gz");
    let out = bundle(
        &dir,
        &gw.url,
        &["--since", "1m", "-o", plain.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let text = all_text(&archived(&plain));
    assert!(text.contains("canary"));
    assert!(!text.contains(common::ADMIN) && !text.contains("hunter2"));

    // Never overwritten; a dead gateway is exit 3 and leaves no file.
    let again = bundle(&dir, &gw.url, &["-o", path.to_str().unwrap()]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    let dead_path = dir.join("dead.tar.gz");
    let dead = bundle(
        &dir,
        "http://127.0.0.1:9",
        &["-o", dead_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(dead.status.code(), Some(3));
    assert!(!dead_path.exists());
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Stopped (SIGTERM, as Ctrl-C) while it collects: no archive is left
/// half made, nor the scratch recording beside it.
#[tokio::test]
async fn a_bundle_stopped_midway_leaves_nothing() {
    use day2top::collect::demo::{DemoConfig, DemoSource};
    // Many lines a second: the recording's log pages take a while.
    let demo = DemoSource::new(DemoConfig {
        log_rate: 20_000,
        ..Default::default()
    });
    let config = common::demo_config("127.0.0.1:0".parse().unwrap());
    let gw = day2top::gateway::start(config, Box::new(demo))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let dir = std::env::temp_dir().join(format!("day2top-bundle-stop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("admin.token"), common::ADMIN).unwrap();
    std::fs::write(dir.join("config.toml"), "").unwrap();
    let path = dir.join("stopped.tar.gz");
    let child = bundle_command(
        &dir,
        &gw.url,
        &["--since", "1m", "-o", path.to_str().unwrap()],
    )
    .spawn()
    .unwrap();
    // The recording is under way once its scratch file is there.
    let scratch_there = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".recording"))
    };
    common::poll_until(
        "the recording begun",
        std::time::Duration::from_secs(60),
        || async { scratch_there().then_some(()) },
    )
    .await;
    // SAFETY: kill only sends a signal to the child we started.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stopped before it was done"), "{stderr}");
    assert!(!path.exists(), "no archive half made");
    assert!(!scratch_there(), "no scratch recording left");
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
