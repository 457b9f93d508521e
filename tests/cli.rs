//! The commands for scripts, run as a user runs them (the built binary)
//! against a demo gateway on a loopback socket: every output format
//! parses, `-w` sees a change, each failure has its exit code and says
//! why on stderr, and the completions and man page are generated.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A directory of its own: an empty config file and the token files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "").unwrap();
    std::fs::write(dir.join("read.token"), common::READ).unwrap();
    std::fs::write(dir.join("bad.token"), "not-the-secret-0123456789").unwrap();
    dir
}

fn day2top(dir: &Path, url: &str, token: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_day2top"));
    command
        .args(args)
        .arg("--gateway")
        .arg(url)
        .arg("--token-file")
        .arg(dir.join(token))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

async fn run(dir: &Path, url: &str, token: &str, args: &[&str]) -> Run {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        day2top(dir, url, token, args).output(),
    )
    .await
    .expect("the command ends")
    .expect("the command runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 errors"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_output_format_parses() {
    let gw = common::start_demo().await;
    let dir = scratch("formats");
    for what in ["nodes", "tasks", "checks", "traces"] {
        let json = run(&dir, &gw.url, "read.token", &["get", what, "-o", "json"]).await;
        assert_eq!(json.code, 0, "{what}: {}", json.stderr);
        let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
        let items = doc["items"].as_array().expect("an items array");
        if what != "traces" {
            assert!(!items.is_empty(), "{what}: {}", json.stdout);
        }
        for item in items {
            assert!(
                item["id"].is_string() || item["trace_id"].is_string(),
                "{item}"
            );
        }

        let ndjson = run(&dir, &gw.url, "read.token", &["get", what, "-o", "ndjson"]).await;
        assert_eq!(ndjson.code, 0, "{}", ndjson.stderr);
        for line in ndjson.stdout.lines() {
            let _: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        }

        let yaml = run(&dir, &gw.url, "read.token", &["get", what, "-o", "yaml"]).await;
        assert_eq!(yaml.code, 0, "{}", yaml.stderr);
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml.stdout).expect("YAML");
        assert!(doc["items"].is_sequence(), "{}", yaml.stdout);

        for format in ["table", "wide"] {
            let table = run(&dir, &gw.url, "read.token", &["get", what, "-o", format]).await;
            assert_eq!(table.code, 0, "{}", table.stderr);
            let header = table.stdout.lines().next().unwrap_or_default();
            assert!(
                header
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || " %#".contains(c)),
                "{what} {format}: a header of column titles: {header:?}"
            );
        }
    }
    // The demo's 10 nodes; a node by name; tasks on it.
    let nodes = run(&dir, &gw.url, "read.token", &["get", "nodes", "-o", "json"]).await;
    let doc: serde_json::Value = serde_json::from_str(&nodes.stdout).unwrap();
    assert_eq!(doc["items"].as_array().unwrap().len(), 10);
    let host = doc["items"][0]["hostname"].as_str().unwrap().to_string();
    let one = run(&dir, &gw.url, "read.token", &["get", "nodes", &host]).await;
    assert_eq!(one.stdout.lines().count(), 2, "{}", one.stdout);
    let on = run(
        &dir,
        &gw.url,
        "read.token",
        &["get", "tasks", "--node", &host, "-o", "json"],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&on.stdout).unwrap();
    let id = doc["items"][0]["node_id"].as_str().unwrap_or_default();
    assert!(host.starts_with(id.split("-S").next().unwrap()), "{id}");
    // Triage's findings, as a script reads them.
    let triage = run(&dir, &gw.url, "read.token", &["triage", "-o", "json"]).await;
    assert_eq!(triage.code, 0, "{}", triage.stderr);
    let report: serde_json::Value = serde_json::from_str(&triage.stdout).expect("JSON");
    assert_eq!(report["window"], "15m");
    assert!(report["findings"].is_array(), "{report}");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_prints_the_changes_as_they_come() {
    let gw = common::start_demo().await;
    let dir = scratch("watch");
    let mut child = day2top(
        &dir,
        &gw.url,
        "read.token",
        &["get", "tasks", "-w", "-o", "ndjson"],
    )
    .stdout(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The snapshot's tasks first, then a change the demo makes.
    let change = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            if value.get("op").is_some() {
                return value;
            }
        }
        panic!("the watch ended");
    })
    .await
    .expect("a change within 30 s");
    assert!(change["item"]["id"].is_string(), "{change}");
    child.kill().await.unwrap();
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_has_its_exit_code_and_says_why() {
    let gw = common::start_demo().await;
    let dir = scratch("failures");
    // A port nothing listens on.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let cases = [
        (
            dead.as_str(),
            "read.token",
            vec!["get", "tasks"],
            3,
            "unreachable",
        ),
        (
            gw.url.as_str(),
            "bad.token",
            vec!["get", "tasks"],
            4,
            "token",
        ),
        (
            gw.url.as_str(),
            "read.token",
            vec!["get", "audit"],
            4,
            "admin",
        ),
        (
            gw.url.as_str(),
            "read.token",
            vec!["get", "tasks", "no-such-task"],
            5,
            "no task named no-such-task",
        ),
        (
            gw.url.as_str(),
            "read.token",
            vec!["get", "alerts"],
            5,
            "alerting is off",
        ),
        (
            gw.url.as_str(),
            "read.token",
            vec!["get", "alerts", "-w"],
            2,
            "-w",
        ),
        (
            gw.url.as_str(),
            "read.token",
            vec!["get", "pods"],
            2,
            "invalid value",
        ),
        (
            gw.url.as_str(),
            "read.token",
            vec!["get", "tasks", "-l", "app"],
            2,
            "not KEY=VALUE",
        ),
    ];
    for (url, token, args, code, says) in cases {
        let out = run(&dir, url, token, &args).await;
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_print_the_last_lines_and_follow_the_new_ones() {
    let gw = common::start_demo().await;
    let dir = scratch("logs");
    let last = run(
        &dir,
        &gw.url,
        "read.token",
        &["logs", "--lines", "5", "-o", "json"],
    )
    .await;
    assert_eq!(last.code, 0, "{}", last.stderr);
    let lines: Vec<serde_json::Value> = last
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 5, "{}", last.stdout);
    let printed: Vec<&str> = lines.iter().filter_map(|l| l["cursor"].as_str()).collect();
    let mut child = day2top(
        &dir,
        &gw.url,
        "read.token",
        &["logs", "-f", "--lines", "0", "-o", "json"],
    )
    .stdout(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let next = tokio::time::timeout(Duration::from_secs(30), out.next_line())
        .await
        .expect("a new line within 30 s")
        .unwrap()
        .expect("a line");
    let next: serde_json::Value = serde_json::from_str(&next).unwrap();
    let cursor = next["cursor"].as_str().expect("a cursor");
    assert!(!printed.contains(&cursor), "a new line: {next}");
    child.kill().await.unwrap();
    let unknown = run(&dir, &gw.url, "read.token", &["logs", "no-such-task"]).await;
    assert_eq!(unknown.code, 5, "{}", unknown.stderr);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_cannot_drive_the_terminal_unless_cat_goes_to_a_pipe() {
    let dir = scratch("escapes");
    let log = dir.join("app.log");
    std::fs::write(
        &log,
        b"plain\n\x1b[31mred\x1b[0m and a bell \x07\nlatin-1 caf\xe9\n",
    )
    .unwrap();
    let logs = |format: &'static str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_day2top"));
        command
            .args([
                "logs",
                "--no-journal",
                "--lines",
                "10",
                "-o",
                format,
                "--log-file",
            ])
            .arg(&log)
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdin(Stdio::null());
        command
    };
    // An embedded gateway for this host, its file followed.
    let short = logs("short").output().await.unwrap();
    assert!(
        short.status.success(),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
    let text = String::from_utf8(short.stdout).unwrap();
    assert!(
        text.contains("\\x1b[31mred\\x1b[0m and a bell \\x07"),
        "{text}"
    );
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    // `cat` into a pipe (this test's) writes the message as it is: the
    // bytes themselves, UTF-8 or not.
    let cat = logs("cat").output().await.unwrap();
    assert!(
        cat.stdout
            .ends_with(b"\x1b[31mred\x1b[0m and a bell \x07\nlatin-1 caf\xe9\n"),
        "{:?}",
        String::from_utf8_lossy(&cat.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_one_task_or_node_and_top_the_busiest() {
    let gw = common::start_demo().await;
    let dir = scratch("describe");
    let task = run(
        &dir,
        &gw.url,
        "read.token",
        &["describe", "cassandra-node-0"],
    )
    .await;
    assert_eq!(task.code, 0, "{}", task.stderr);
    for field in [
        "Name:",
        "Node:",
        "State:",
        "States:",
        "Checks:",
        "Last errors:",
    ] {
        assert!(task.stdout.contains(field), "{field}: {}", task.stdout);
    }
    let json = run(
        &dir,
        &gw.url,
        "read.token",
        &["describe", "cassandra-node-0", "-o", "json"],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["kind"], "task");
    assert_eq!(doc["task"]["name"], "cassandra-node-0");
    let node = doc["node"].as_str().unwrap().to_string();
    let yaml = run(
        &dir,
        &gw.url,
        "read.token",
        &["describe", &node, "-o", "yaml"],
    )
    .await;
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml.stdout).expect("YAML");
    assert_eq!(doc["kind"].as_str(), Some("node"));
    assert!(
        doc["tasks"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|t| t["name"].as_str() == Some("cassandra-node-0")),
        "the node lists its task"
    );
    let none = run(&dir, &gw.url, "read.token", &["describe", "no-such-thing"]).await;
    assert_eq!(none.code, 5, "{}", none.stderr);

    let top = run(&dir, &gw.url, "read.token", &["top", "--rows", "3"]).await;
    assert_eq!(top.code, 0, "{}", top.stderr);
    let lines: Vec<&str> = top.stdout.lines().collect();
    assert!(lines[0].contains("10 nodes"), "{}", top.stdout);
    assert!(lines[1].contains(" tasks: "), "{}", top.stdout);
    assert!(
        lines.iter().any(|l| l.starts_with("NODE ")),
        "{}",
        top.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("TASK ")),
        "{}",
        top.stdout
    );
    // Two lines of summary, a blank, a header and 3 nodes, a blank, a
    // header and 3 tasks.
    assert_eq!(lines.len(), 12, "{}", top.stdout);
    gw.shutdown().await;
}

#[test]
fn completions_and_the_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_day2top"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["day2top", "triage", "get"] {
            assert!(text.contains(word), "{shell}: no {word}");
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_day2top"))
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.contains(".TH day2top 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    // Every command's page, where the main page's list points.
    let dir = scratch("man");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_day2top"))
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for page in [
        "day2top.1",
        "day2top-get.1",
        "day2top-logs.1",
        "day2top-triage.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
}
