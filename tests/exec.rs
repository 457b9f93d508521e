//! Exec over real sockets: real processes in pipes and pseudo-terminals,
//! the token and ACL checks, and the audit trail they leave.

mod common;

use std::time::Duration;

use common::*;
use day2top::api::{AuditKind, AuditRecord, Decision, ExecRequest, ExecStatus, TaskState};
use day2top::client::{Client, ClientError, Endpoint, ExecConnection, ExecInput, ExecOutput};
use day2top::gateway::{self, GatewayConfig, RunningGateway, Scope, Token, Tokens};

const OPS: &str = "ops-secret-0123456789";
const OTHER: &str = "other-secret-0123456789";
const ADMIN: &str = "admin-secret-0123456789";

/// A demo gateway whose tokens: `viewer` reads, `ops` may exec into
/// /prod tasks as anyone, `other` may exec the same, `admin` reads the audit.
async fn gateway(audit: Option<&std::path::Path>, ttl: Duration) -> RunningGateway {
    let mut config = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    config.tokens = Some(Tokens::new(vec![
        Token::new("viewer", READ, vec![Scope::Read]),
        Token::new("ops", OPS, vec![Scope::Read, Scope::Exec])
            .with_exec(&["/prod/*"], &["*", "root"]),
        Token::new("other", OTHER, vec![Scope::Read, Scope::Exec])
            .with_exec(&["/prod/*"], &["*", "root"]),
        Token::new("admin", ADMIN, vec![Scope::Admin]),
    ]));
    config.refresh = Duration::from_millis(100);
    config.audit_log = audit.map(|p| p.to_path_buf());
    config.exec_ttl = ttl;
    gateway::start(config, demo(42, 10, 60)).await.unwrap()
}

fn client(gw: &RunningGateway, token: &str) -> Client {
    Client::new(Endpoint {
        url: gw.url.clone(),
        token: token.into(),
        ca: None,
    })
    .unwrap()
}

/// A running task under /prod, and one outside it.
async fn tasks(gw: &RunningGateway) -> (String, String) {
    let listing: serde_json::Value = client(gw, READ).get("/api/v1/tasks").await.unwrap();
    let tasks: Vec<day2top::api::Task> = serde_json::from_value(listing["items"].clone()).unwrap();
    let running = |prod: bool| {
        tasks
            .iter()
            .find(|t| t.state == TaskState::Running && t.group.starts_with("/prod/") == prod)
            .map(|t| t.id.clone())
            .expect("the demo has such a task")
    };
    (running(true), running(false))
}

fn request(cmd: &[&str]) -> ExecRequest {
    ExecRequest {
        cmd: cmd.iter().map(|s| s.to_string()).collect(),
        tty: false,
        interactive: false,
        cols: 80,
        rows: 24,
        env: Default::default(),
        user: None,
        container: None,
    }
}

/// Everything a session says until it ends: (stdout, stderr, status).
async fn collect(mut c: ExecConnection) -> (String, String, ExecStatus) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), c.output.recv())
            .await
            .expect("the session ends within 10 s");
        match next {
            Some(ExecOutput::Stdout(d)) => out.extend(d),
            Some(ExecOutput::Stderr(d)) => err.extend(d),
            Some(ExecOutput::Exited(status)) => {
                return (
                    String::from_utf8_lossy(&out).into(),
                    String::from_utf8_lossy(&err).into(),
                    status,
                );
            }
            other => panic!("the session broke: {other:?}"),
        }
    }
}

/// Reads output until it holds `needle`.
async fn read_until(c: &mut ExecConnection, needle: &str) -> String {
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match tokio::time::timeout(Duration::from_secs(10), c.output.recv()).await {
            Ok(Some(ExecOutput::Stdout(d) | ExecOutput::Stderr(d))) => seen.extend(d),
            other => panic!(
                "waiting for {needle:?} in {:?}: {other:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into()
}

async fn audit(gw: &RunningGateway) -> Vec<AuditRecord> {
    client(gw, ADMIN)
        .get("/api/v1/audit?limit=1000")
        .await
        .unwrap()
}

#[tokio::test]
async fn pipes_keep_stdout_and_stderr_apart_and_pass_the_exit_code() {
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    let c = client(&gw, OPS)
        .exec(
            &task,
            &request(&[
                "sh",
                "-c",
                "echo out; echo err >&2; echo $MESOS_TASK_ID; exit 3",
            ]),
        )
        .await
        .unwrap();
    let (out, err, status) = collect(c).await;
    assert_eq!(out, format!("out\n{task}\n"));
    assert_eq!(err, "err\n");
    assert_eq!(status.exit_code, Some(3));
    assert_eq!(status.shell_code(), 3);

    // A signal is reported as one, and as 128 + it to a shell.
    let c = client(&gw, OPS)
        .exec(&task, &request(&["sh", "-c", "kill -TERM $$"]))
        .await
        .unwrap();
    let (_, _, status) = collect(c).await;
    assert_eq!((status.exit_code, status.signal), (None, Some(15)));
    assert_eq!(status.shell_code(), 143);

    // A program that does not exist: 127, and why.
    let c = client(&gw, OPS)
        .exec(&task, &request(&["no-such-program-day2top"]))
        .await
        .unwrap();
    let (_, err, status) = collect(c).await;
    assert!(
        err.contains("no-such-program-day2top"),
        "said on stderr: {err:?}"
    );
    assert_eq!(status.exit_code, Some(127));
    assert!(
        status.reason.contains("could not start"),
        "{}",
        status.reason
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn stdin_reaches_the_process_and_its_end_is_passed_on() {
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    let mut req = request(&["sh", "-c", "cat; echo done"]);
    req.interactive = true;
    let c = client(&gw, OPS).exec(&task, &req).await.unwrap();
    c.input
        .send(ExecInput::Stdin(b"abc\n".to_vec()))
        .await
        .unwrap();
    c.input.send(ExecInput::CloseStdin).await.unwrap();
    let (out, _, status) = collect(c).await;
    assert_eq!(out, "abc\ndone\n");
    assert_eq!(status.exit_code, Some(0));

    // In a terminal, the end of stdin is the terminal's EOF character.
    req.tty = true;
    let c = client(&gw, OPS).exec(&task, &req).await.unwrap();
    c.input.send(ExecInput::CloseStdin).await.unwrap();
    let (out, _, status) = collect(c).await;
    assert!(out.contains("done"), "{out:?}");
    assert_eq!(status.exit_code, Some(0));
    gw.shutdown().await;
}

#[tokio::test]
async fn a_terminal_has_the_asked_size_and_follows_a_resize() {
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    let mut req = request(&["sh", "-c", "stty size; read line; stty size; tty"]);
    req.tty = true;
    req.interactive = true;
    req.cols = 100;
    req.rows = 30;
    let mut c = client(&gw, OPS).exec(&task, &req).await.unwrap();
    read_until(&mut c, "30 100").await;
    c.input
        .send(ExecInput::Resize(day2top::api::Resize {
            cols: 132,
            rows: 50,
        }))
        .await
        .unwrap();
    c.input
        .send(ExecInput::Stdin(b"\n".to_vec()))
        .await
        .unwrap();
    let (out, _, status) = collect(c).await;
    assert!(out.contains("50 132"), "{out:?}");
    assert!(out.contains("/dev/pts/"), "a real terminal: {out:?}");
    assert_eq!(status.exit_code, Some(0));
    gw.shutdown().await;
}

/// `sleep` processes whose command line holds `marker`.
fn processes_with(marker: &str) -> usize {
    procfs::process::all_processes()
        .unwrap()
        .flatten()
        .filter(|p| {
            p.cmdline().is_ok_and(|c| {
                c.first().is_some_and(|a| a.ends_with("sleep")) && c.iter().any(|a| a == marker)
            })
        })
        .count()
}

/// How many `sleep MARKER` processes run once their number reaches
/// `want`, or after 5 s.
async fn settles_at(marker: &str, want: usize) -> usize {
    let mut now = processes_with(marker);
    for _ in 0..100 {
        if now == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        now = processes_with(marker);
    }
    now
}

#[tokio::test]
async fn a_disconnect_kills_the_whole_session() {
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    for tty in [false, true] {
        let marker = if tty { "987651" } else { "987652" };
        let mut req = request(&[
            "sh",
            "-c",
            &format!("sleep {marker} & sleep {marker} & echo started; wait"),
        ]);
        req.tty = tty;
        let mut c = client(&gw, OPS).exec(&task, &req).await.unwrap();
        read_until(&mut c, "started").await;
        assert_eq!(settles_at(marker, 2).await, 2, "both sleeps run");
        drop(c);
        assert_eq!(
            settles_at(marker, 0).await,
            0,
            "the gateway killed the process group (tty {tty})"
        );
    }
    // The session's record says the client went away.
    let ended = common::poll_until("both sessions ended", Duration::from_secs(5), || async {
        let records = audit(&gw).await;
        let ended: Vec<_> = records.into_iter().filter(|r| r.end.is_some()).collect();
        (ended.len() >= 2).then_some(ended)
    })
    .await;
    assert_eq!(ended.len(), 2);
    assert!(
        ended.iter().all(|r| r.reason.contains("killed")),
        "{ended:?}"
    );
    gw.shutdown().await;
}

/// A gateway for this host (its generated token may exec as anyone), once
/// its collector lists `pid` running `sleep`.
async fn host_gateway_listing(pid: &str) -> (RunningGateway, Client) {
    let mut config = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(100);
    let gw = gateway::start(config, Box::new(day2top::collect::host::HostSource::new()))
        .await
        .unwrap();
    let me = client(&gw, &gw.generated_token.clone().unwrap());
    for _ in 0..100 {
        let task: Result<serde_json::Value, _> = me.get(&format!("/api/v1/tasks/{pid}")).await;
        if task.is_ok_and(|t| {
            t["item"]["labels"]["cmdline"]
                .as_str()
                .is_some_and(|c| c.contains("sleep"))
        }) {
            return (gw, me);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the host collector never listed pid {pid}");
}

/// This process's cgroup (v2) directory, if it may make cgroups below it.
fn writable_cgroup() -> Option<std::path::PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mount = info.lines().find_map(|l| {
        let (before, after) = l.split_once(" - ")?;
        (after.starts_with("cgroup2 ")).then(|| before.split(' ').nth(4).map(str::to_string))?
    })?;
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own = own.lines().find_map(|l| l.strip_prefix("0::"))?.to_string();
    let dir = std::path::Path::new(&mount).join(own.trim_start_matches('/'));
    let probe = dir.join(format!("day2top-probe-{}", std::process::id()));
    let made = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    made.then_some(dir)
}

/// A process that leaves the session (`setsid`) is still in the session's
/// cgroup, and dies with it. Needs a writable cgroup v2 hierarchy (root,
/// as CI runs); elsewhere it says so and passes.
#[tokio::test]
async fn a_process_that_leaves_the_session_dies_with_it() {
    let Some(cgroup) = writable_cgroup() else {
        eprintln!("skipped: no writable cgroup v2 hierarchy here");
        return;
    };
    // What a gateway killed before it could clean up leaves behind.
    let stale = cgroup.join("day2top-exec-4000000000");
    std::fs::create_dir_all(stale.join("session-x")).unwrap();
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    let marker = "987653";
    let req = request(&[
        "sh",
        "-c",
        &format!("setsid sleep {marker} & echo started; wait"),
    ]);
    let mut c = client(&gw, OPS).exec(&task, &req).await.unwrap();
    read_until(&mut c, "started").await;
    assert_eq!(settles_at(marker, 1).await, 1, "the escaped sleep runs");
    drop(c);
    assert_eq!(
        settles_at(marker, 0).await,
        0,
        "the session's cgroup was killed, escapee included"
    );
    assert!(
        !stale.exists(),
        "a dead gateway's empty cgroups are cleared"
    );
    gw.shutdown().await;
}

/// The WebSocket of a session, attached by hand: its HTTP status if refused.
async fn attach_raw(gw: &RunningGateway, token: &str, session: &str) -> Result<Ws, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/api/v1/exec/{session}", gw.url.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_stopping_gateway_ends_sessions_with_going_away() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    let path = format!("/api/v1/tasks/{task}/exec");
    let session: day2top::api::ExecSession = client(&gw, OPS)
        .post(&path, &request(&["sleep", "30"]))
        .await
        .unwrap();
    let mut ws = attach_raw(&gw, OPS, &session.session).await.unwrap();
    let url = gw.url.clone();
    let stopping = tokio::spawn(gw.shutdown());
    let mut status = None;
    let code = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if b.first() == Some(&3) => {
                    status = Some(String::from_utf8_lossy(&b[1..]).into_owned())
                }
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("the session ends within 5 s");
    assert_eq!(code, Some(1001), "going away, from {url}");
    assert!(status.unwrap().contains("shut down"));
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_session_id_is_one_time_bound_to_its_token_and_expires() {
    let gw = gateway(None, Duration::from_millis(500)).await;
    let (task, _) = tasks(&gw).await;
    let ops = client(&gw, OPS);
    let path = format!("/api/v1/tasks/{task}/exec");
    let session: day2top::api::ExecSession =
        ops.post(&path, &request(&["sleep", "5"])).await.unwrap();
    assert_eq!(
        attach_raw(&gw, OTHER, &session.session).await.err(),
        Some(403),
        "another token, even one allowed to exec, cannot attach"
    );
    let first = attach_raw(&gw, OPS, &session.session)
        .await
        .expect("attaches");
    assert_eq!(
        attach_raw(&gw, OPS, &session.session).await.err(),
        Some(409),
        "a second attach is refused"
    );
    drop(first);

    let unused: day2top::api::ExecSession = ops.post(&path, &request(&["true"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        attach_raw(&gw, OPS, &unused.session).await.err(),
        Some(404),
        "an expired session id is refused"
    );
    let records = audit(&gw).await;
    let expired = records
        .iter()
        .find(|r| r.session == unused.session && r.end.is_some())
        .expect("the expired session is audited");
    assert!(expired.reason.contains("never attached"), "{expired:?}");
    gw.shutdown().await;
}

#[tokio::test]
async fn tokens_and_patterns_decide_and_every_decision_is_audited() {
    let dir = std::env::temp_dir().join(format!("day2top-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("audit.jsonl");
    let gw = gateway(Some(&file), Duration::from_secs(30)).await;
    let (task, outside) = tasks(&gw).await;
    let refused = |r: Result<ExecConnection, ClientError>| match r {
        Err(ClientError::Api(e)) => (e.error.code.http_status(), e.error.message),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("allowed"),
    };
    let req = request(&["sh", "-c", "printf hello"]);

    let (status, _) = refused(
        client(&gw, "no-such-token-0123456789")
            .exec(&task, &req)
            .await,
    );
    assert_eq!(status, 401);
    let (status, why) = refused(client(&gw, READ).exec(&task, &req).await);
    assert_eq!(status, 403);
    assert!(why.contains("lacks the exec scope"), "{why}");
    let (status, why) = refused(client(&gw, OPS).exec(&outside, &req).await);
    assert_eq!(status, 403);
    assert!(why.contains("no exec_tasks pattern"), "{why}");
    let (status, _) = refused(client(&gw, OPS).exec("no-such-task", &req).await);
    assert_eq!(status, 404);
    let mut secret_env = req.clone();
    secret_env
        .env
        .insert("DB_PASSWORD".into(), "hunter2-secret".into());
    let (out, _, _) = collect(client(&gw, OPS).exec(&task, &secret_env).await.unwrap()).await;
    assert_eq!(out, "hello");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let records = audit(&gw).await;
    let auth = records
        .iter()
        .find(|r| r.kind == AuditKind::Auth)
        .expect("the 401 is audited");
    assert!(auth.route.contains("/exec"), "{auth:?}");
    let denied: Vec<_> = records
        .iter()
        .filter(|r| r.kind == AuditKind::Exec && r.decision == Decision::Deny)
        .collect();
    assert_eq!(denied.len(), 3, "{denied:#?}");
    assert!(denied.iter().any(|r| r.actor == "viewer" && r.task == task));
    assert!(denied.iter().any(|r| r.actor == "ops" && r.task == outside));
    let allowed: Vec<_> = records
        .iter()
        .filter(|r| r.decision == Decision::Allow)
        .collect();
    assert_eq!(allowed.len(), 1, "one record per session");
    let r = allowed[0];
    assert_eq!(r.actor, "ops");
    assert!(r.source.starts_with("127.0.0.1:"));
    assert!(r.client.starts_with("day2top/"));
    assert_eq!(r.task, task);
    assert!(!r.node.is_empty());
    assert_eq!(r.cmd, ["sh", "-c", "printf hello"]);
    assert_eq!(r.env, ["DB_PASSWORD"]);
    assert!(r.start.is_some() && r.end >= r.start);
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(r.bytes_out, 5);

    // The file holds the same records, one JSON object a line, and no secret.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("hunter2") && !text.contains("secret-0123456789"));
    let from_file: Vec<AuditRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(from_file.len(), records.len());
    assert_eq!(from_file.last(), records.last());
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions())
            & 0o777,
        0o600
    );

    // The audit route and topic are for admin tokens only.
    let viewer: Result<Vec<AuditRecord>, _> = client(&gw, READ).get("/api/v1/audit").await;
    assert!(matches!(viewer, Err(ClientError::Api(e)) if e.error.code.http_status() == 403));
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_audit_topic_is_for_admin_tokens() {
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    let (out, _, _) = collect(
        client(&gw, OPS)
            .exec(&task, &request(&["true"]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out, "");
    let subscribe = r#"{"type":"subscribe","sub":"a","topic":"audit"}"#;
    let mut viewer = ws_connect(&gw.url, READ).await;
    send(&mut viewer, subscribe).await;
    match next_msg(&mut viewer).await {
        day2top::api::ServerMsg::Error { error, .. } => {
            assert_eq!(error.error.code.http_status(), 403)
        }
        other => panic!("a read token must not see the audit: {other:?}"),
    }
    let mut admin = ws_connect(&gw.url, ADMIN).await;
    send(&mut admin, subscribe).await;
    match next_msg(&mut admin).await {
        day2top::api::ServerMsg::Snapshot { items, .. } => {
            assert!(items.iter().any(|r| matches!(
                r,
                day2top::api::Record::Audit(a) if a.task == task && a.exit_code == Some(0)
            )));
        }
        other => panic!("{other:?}"),
    }
    gw.shutdown().await;
}

/// A task in a UTS namespace of its own (as a container's is): exec runs
/// inside it, so `hostname` answers the container's name. Needs root
/// (CI runs as root); elsewhere it says so and passes.
#[tokio::test]
async fn exec_enters_the_namespaces_of_a_containerised_task() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: entering namespaces needs root");
        return;
    }
    let mut contained = std::process::Command::new("unshare")
        .args([
            "--uts",
            "sh",
            "-c",
            "hostname day2top-ns-test && exec sleep 60",
        ])
        .spawn()
        .expect("unshare runs");
    tokio::time::sleep(Duration::from_millis(200)).await;
    if let Ok(Some(status)) = contained.try_wait() {
        // A container without CAP_SYS_ADMIN cannot make namespaces.
        eprintln!("skipped: unshare --uts failed here ({status})");
        return;
    }
    let pid = contained.id().to_string();
    let (gw, me) = host_gateway_listing(&pid).await;
    let (out, err, status) = collect(me.exec(&pid, &request(&["hostname"])).await.unwrap()).await;
    assert_eq!(status.exit_code, Some(0), "{err}");
    assert_eq!(out.trim(), "day2top-ns-test");
    let ours = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_ne!(ours.trim(), "day2top-ns-test", "the host kept its name");
    let _ = contained.kill();
    let _ = contained.wait();
    gw.shutdown().await;
}

/// A task run by a uid no user database knows: exec runs as that uid with
/// the task's own group, not a group guessed from the uid. Needs root.
#[tokio::test]
async fn exec_as_an_unknown_uid_takes_the_tasks_own_group() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: switching users needs root");
        return;
    }
    let mut stranger = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "4000000",
            "--regid",
            "4000001",
            "--clear-groups",
            "sleep",
            "60",
        ])
        .current_dir("/")
        .spawn()
        .expect("setpriv runs");
    let pid = stranger.id().to_string();
    // Until setpriv has become the stranger (it starts as root).
    poll_until("the uid switched", Duration::from_secs(10), || async {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.contains("4000000"))
            .then_some(())
    })
    .await;
    let (gw, me) = host_gateway_listing(&pid).await;
    let (uid, err, status) = collect(me.exec(&pid, &request(&["id", "-u"])).await.unwrap()).await;
    assert_eq!(status.exit_code, Some(0), "{err}");
    let (gid, _, _) = collect(me.exec(&pid, &request(&["id", "-g"])).await.unwrap()).await;
    let _ = stranger.kill();
    let _ = stranger.wait();
    assert_eq!((uid.trim(), gid.trim()), ("4000000", "4000001"));
    gw.shutdown().await;
}

#[tokio::test]
async fn a_process_that_does_not_read_stdin_still_gets_its_output_out() {
    let gw = gateway(None, Duration::from_secs(30)).await;
    let (task, _) = tasks(&gw).await;
    // Over a megabyte of output, more than any pipe holds, from a process
    // that never reads the two megabytes sent to its stdin.
    let mut req = request(&["sh", "-c", "sleep 0.2; seq 1 200000; echo end"]);
    req.interactive = true;
    let c = client(&gw, OPS).exec(&task, &req).await.unwrap();
    let input = c.input.clone();
    let flood = tokio::spawn(async move {
        for _ in 0..32 {
            if input
                .send(ExecInput::Stdin(vec![b'x'; 64 * 1024]))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let (out, _, status) = collect(c).await;
    assert!(out.ends_with("200000\nend\n"), "{} bytes", out.len());
    assert_eq!(status.exit_code, Some(0));
    flood.abort();
    gw.shutdown().await;
}
