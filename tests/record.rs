//! Recordings made as a user makes them: `day2top record` (the built
//! binary) against a demo gateway on loopback, stopped by its duration, by
//! SIGTERM and by SIGKILL, read back with the reader a replay uses; and
//! `R`/`m`/`:mark` in the console's App.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use day2top::api::{Record, ServerMsg};
use day2top::client::StreamEvent;
use day2top::record::format::What;
use day2top::record::reader::Recording;
use day2top::record::state::States;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-rec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "").unwrap();
    std::fs::write(dir.join("read.token"), common::READ).unwrap();
    dir
}

fn record(dir: &Path, url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_day2top"));
    command
        .arg("record")
        .args(args)
        .arg("--gateway")
        .arg(url)
        .arg("--token-file")
        .arg(dir.join("read.token"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The whole file, every gzip member, as text.
fn text_of(path: &Path) -> String {
    let mut text = String::new();
    let _ = flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text);
    text
}

fn messages(recording: &Recording) -> Vec<ServerMsg> {
    recording
        .entries(0)
        .filter_map(|e| match e.what {
            What::Msg(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn record_writes_what_a_console_receives_and_it_reads_back() {
    let gw = common::start_demo().await;
    let dir = scratch("cli");
    let path = dir.join("incident.d2rec");
    let out = record(
        &dir,
        &gw.url,
        &["-o", path.to_str().unwrap(), "--duration", "3s"],
    )
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("recorded "), "{stderr}");

    let recording = Recording::open(&path).unwrap();
    assert_eq!(recording.header.gateway, gw.url);
    let subs: Vec<String> = day2top::tui::connection::recorded_subscriptions()
        .into_iter()
        .map(|s| s.sub)
        .collect();
    let recorded: Vec<String> = recording
        .header
        .subscriptions
        .iter()
        .map(|s| s.sub.clone())
        .collect();
    assert_eq!(recorded, subs, "the console's subscriptions");
    assert!(recording.chunks[0].keyframe, "it begins with a keyframe");
    assert_eq!(recording.cut_short, None);
    assert!(
        !text_of(&path).contains(common::READ),
        "a recording never holds the token"
    );
    // What a client holds after the recording is what its messages make:
    // the demo's nodes and tasks, whole.
    let mut states = States::default();
    for m in messages(&recording) {
        states.apply(&m);
    }
    let frame = states.keyframe();
    let count = |sub: &str| {
        frame.iter().find_map(|m| match m {
            ServerMsg::Snapshot { sub: s, items, .. } if s == sub => Some(items.len()),
            _ => None,
        })
    };
    let nodes: Vec<serde_json::Value> =
        common::get_json::<serde_json::Value>(&format!("{}/api/v1/nodes", gw.url)).await["items"]
            .as_array()
            .unwrap()
            .clone();
    assert_eq!(count("nodes"), Some(nodes.len()));
    assert!(count("tasks").unwrap_or(0) > 0);
    let (t0, t1) = recording.span().unwrap();
    assert!(t1 - t0 >= 1000, "seconds of it: {t0}..{t1}");

    // Never overwritten; a gateway that is not there is exit 3.
    let again = record(
        &dir,
        &gw.url,
        &["-o", path.to_str().unwrap(), "--duration", "1s"],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let dead = record(
        &dir,
        "http://127.0.0.1:9",
        &[
            "-o",
            dir.join("dead.d2rec").to_str().unwrap(),
            "--duration",
            "2s",
        ],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(dead.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&dead.stderr).contains("never reached"));
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `--since`: the file reaches back into the gateway's history (a flight
/// recorder). The OOM kill happened before recording began; the file
/// holds the task running at its start and failing at the kill's time,
/// and every log line of that stretch once, through to the live ones.
#[tokio::test]
async fn record_since_reaches_back_into_the_gateway_history() {
    let (gw, task, at) = common::start_oom_demo(false).await;
    // The demo lets an ended task go 90 ticks (9 s) later: the recording
    // has it from the gateway's list of tasks gone.
    let gone = format!("{}/api/v1/tasks/{task}", gw.url);
    common::poll_until(
        "the killed task let go",
        Duration::from_secs(30),
        || async {
            let (status, _) = common::get_as(&gone, common::READ).await;
            (status == 404).then_some(())
        },
    )
    .await;

    let dir = scratch("since");
    let path = dir.join("since.d2rec");
    let out = record(
        &dir,
        &gw.url,
        &[
            "-o",
            path.to_str().unwrap(),
            "--since",
            "1m",
            "--duration",
            "2s",
        ],
    )
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("from the gateway's history"), "{stderr}");

    let recording = Recording::open(&path).unwrap();
    let (started, since) = (recording.header.started, recording.header.since.unwrap());
    assert!(
        started - since >= 59_000,
        "a minute back: {since}..{started}"
    );
    let entries: Vec<_> = recording.entries(0).collect();
    assert!(
        entries.windows(2).all(|w| w[0].t <= w[1].t),
        "entries in time order"
    );
    // The task as it stood: running at the start, failed at the kill.
    let task = &task;
    let states_of_task: Vec<(i64, String)> = entries
        .iter()
        .filter_map(|e| match &e.what {
            What::Msg(ServerMsg::Snapshot { items, .. }) => Some((e.t, items.clone())),
            What::Msg(ServerMsg::Event { events, .. }) => {
                Some((e.t, events.iter().map(|ev| ev.data.clone()).collect()))
            }
            _ => None,
        })
        .flat_map(|(t, items)| {
            items.into_iter().filter_map(move |r| match r {
                Record::Task(x) if &x.id == task => Some((t, x.state.as_str().to_string())),
                _ => None,
            })
        })
        .collect();
    assert_eq!(
        states_of_task.first().map(|(_, s)| s.as_str()),
        Some("running"),
        "{states_of_task:?}"
    );
    assert!(
        states_of_task
            .iter()
            .any(|(t, s)| s == "failed" && (at - 100..at + 100).contains(t) && *t < started),
        "the kill at its time, before recording began: {states_of_task:?}"
    );
    let removed = entries.iter().any(|e| match &e.what {
        What::Msg(ServerMsg::Event { events, .. }) => events.iter().any(|ev| {
            ev.op == day2top::api::Op::Removed
                && matches!(&ev.data, Record::Task(x) if &x.id == task)
                && e.t > at
                && e.t < started
        }),
        _ => false,
    });
    assert!(removed, "and let go after it");
    // Every line once, from before recording began through the live ones.
    let cursors: Vec<(i64, String)> = entries
        .iter()
        .filter_map(|e| match &e.what {
            What::Msg(ServerMsg::Event { sub, events }) if sub == "recorded-logs" => {
                Some(events.iter().map(|ev| &ev.data).collect::<Vec<_>>())
            }
            What::Msg(ServerMsg::Snapshot { sub, items, .. }) if sub == "recorded-logs" => {
                Some(items.iter().collect())
            }
            _ => None,
        })
        .flatten()
        .filter_map(|r| match r {
            Record::Log(l) => Some((l.ts, l.cursor.clone())),
            _ => None,
        })
        .collect();
    let mut unique: Vec<&String> = cursors.iter().map(|(_, c)| c).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), cursors.len(), "no line twice");
    assert!(
        cursors.iter().any(|(ts, _)| *ts < started - 1000),
        "lines from before"
    );
    assert!(
        cursors.iter().any(|(ts, _)| *ts > started),
        "and live ones after"
    );
    let (_, held) = common::read_logs(
        &gw.url,
        &format!("since={since}&until={}&limit=10000", started - 500),
    )
    .await;
    assert!(!held.is_empty());
    for line in &held {
        assert!(
            unique.binary_search(&&line.cursor).is_ok(),
            "a line the gateway held is missing: {line:?}"
        );
    }
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// SIGTERM ends a recording cleanly; SIGKILL leaves a file that still
/// reads up to its last whole chunk.
#[tokio::test]
async fn a_recording_stopped_by_a_signal_or_killed_still_reads() {
    let gw = common::start_demo().await;
    let dir = scratch("signals");
    for (signal, name) in [(libc::SIGTERM, "term"), (libc::SIGKILL, "kill")] {
        let path = dir.join(format!("{name}.d2rec"));
        let mut child = record(&dir, &gw.url, &["-o", path.to_str().unwrap()])
            .spawn()
            .unwrap();
        // A few chunks written (one a second).
        common::poll_until("chunks written", Duration::from_secs(20), || async {
            Recording::open(&path)
                .ok()
                .filter(|r| r.chunks.len() >= 3)
                .map(|_| ())
        })
        .await;
        // SAFETY: kill only sends a signal to the child we started.
        unsafe { libc::kill(child.id().unwrap() as i32, signal) };
        let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
            .await
            .unwrap()
            .unwrap();
        if signal == libc::SIGTERM {
            assert_eq!(status.code(), Some(0), "SIGTERM stops it cleanly");
        }
        let recording = Recording::open(&path).unwrap();
        let read = messages(&recording);
        assert!(
            read.iter()
                .any(|m| matches!(m, ServerMsg::Snapshot { sub, .. } if sub == "nodes")),
            "{name}: the snapshots are there"
        );
    }
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// In the console: `:record FILE` asks its subscriptions afresh, records
/// what comes, `m` and `:mark` set markers, view changes are noted, and
/// `R` stops with the file closed.
#[test]
fn the_console_records_messages_marks_and_view_changes() {
    let dir = scratch("console");
    let path = dir.join("console.d2rec");
    let mut app = day2top::fixture::demo_app(Default::default(), 2);
    let effects = app.run_command(&format!("record {}", path.display()));
    assert!(
        effects
            .iter()
            .filter(|e| matches!(e, day2top::tui::effect::Effect::Subscribe(_)))
            .count()
            >= 5,
        "the subscriptions asked afresh: {effects:?}"
    );
    assert!(app.recording.badge().is_some());
    let now = app.now;
    let snapshot = ServerMsg::Snapshot {
        sub: "nodes".into(),
        seq: 7,
        epoch: "e".into(),
        items: app
            .model
            .nodes
            .values()
            .map(|n| Record::Node(n.clone()))
            .collect(),
        more: false,
    };
    app.on_stream(StreamEvent::Message(snapshot.clone()), now + 10);
    app.run_command("mark");
    app.run_command("tasks");
    app.run_command("mark the deploy");
    app.run_command("record");
    assert!(app.recording.badge().is_none(), "stopped");
    let notice = app.notice.clone().unwrap().text;
    assert!(notice.contains("recorded"), "{notice}");

    let recording = Recording::open(&path).unwrap();
    let marks: Vec<String> = recording.marks().map(|(_, l)| l.clone()).collect();
    assert_eq!(marks, ["mark 1", "the deploy"]);
    let entries: Vec<What> = recording.entries(0).map(|e| e.what).collect();
    assert!(entries.contains(&What::Msg(snapshot)));
    assert!(
        entries
            .iter()
            .any(|w| matches!(w, What::View(v) if v.crumbs.contains("tasks"))),
        "{entries:?}"
    );
    let refused = app.run_command("mark");
    assert!(refused.is_empty());
    assert!(app.notice.clone().unwrap().text.contains("not recording"));
    let _ = std::fs::remove_dir_all(dir);
}
