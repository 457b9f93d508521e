//! A fleet of real hosts as far as one machine allows: three network
//! namespaces made here, each with a veth pair and an address of its own
//! (10.77.N.2), each running the real `day2top gateway` binary as an agent
//! with TLS, its own log file and its own OTLP port; the hub is the real
//! binary too, outside them. Needs root and `ip` (iproute2): without them
//! the test says skipped, unless DAY2TOP_REQUIRE_NETNS=1 (as in CI).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::fleet::{assert_exactly_once_per_agent, collect_per_agent, otlp_json, run_to_end};
use common::*;
use day2top::api::{AgentState, AgentStatus, AuditRecord, ExecRequest, Filter, Node, Span, Topic};
use day2top::client::{Client, Endpoint, Subscription};

const HUB_TOKEN: &str = "hub-on-agents-0123456789";
const OPERATOR: &str = "operator-of-the-hub-0123456789";
const N: usize = 3;

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The namespaces, deleted (with their veth pairs) however the test ends.
struct Hosts {
    names: Vec<String>,
}

impl Hosts {
    fn make() -> Result<Hosts, String> {
        let mut hosts = Hosts { names: Vec::new() };
        let pid = std::process::id() % 10_000;
        for i in 1..=N {
            let ns = format!("d2t{pid}h{i}");
            let (outer, inner) = (format!("d2t{pid}o{i}"), format!("d2t{pid}i{i}"));
            run(&["ip", "netns", "add", &ns])?;
            hosts.names.push(ns.clone());
            run(&[
                "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ])?;
            run(&["ip", "link", "set", &inner, "netns", &ns])?;
            run(&[
                "ip",
                "addr",
                "add",
                &format!("10.77.{i}.1/24"),
                "dev",
                &outer,
            ])?;
            run(&["ip", "link", "set", &outer, "up"])?;
            let inside = |args: &[&str]| {
                let mut all = vec!["ip", "netns", "exec", &ns];
                all.extend_from_slice(args);
                run(&all)
            };
            inside(&[
                "ip",
                "addr",
                "add",
                &format!("10.77.{i}.2/24"),
                "dev",
                &inner,
            ])?;
            inside(&["ip", "link", "set", &inner, "up"])?;
            inside(&["ip", "link", "set", "lo", "up"])?;
        }
        Ok(hosts)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in &self.names {
            let _ = run(&["ip", "netns", "del", ns]);
        }
    }
}

/// A real process, killed however the test ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_day2top");

/// Agent `i` in its namespace: TLS, the hub's token, a log file, OTLP.
fn agent(hosts: &Hosts, i: usize, dir: &Path) -> Process {
    let ip = format!("10.77.{i}.2");
    let log = dir.join(format!("h{i}.log"));
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &hosts.names[i - 1],
            BIN,
            "gateway",
            "--demo",
        ])
        .args([
            "--demo-nodes",
            "2",
            "--demo-tasks",
            "4",
            "--demo-log-rate",
            "0",
        ])
        .args(["--seed", "7", "--refresh-ms", "200"])
        .arg(format!("--listen={ip}:7070"))
        .arg(format!("--otlp={ip}:4318"))
        .args(["--statsd", "off"])
        .arg(format!(
            "--token-file={}",
            dir.join("agent-tokens.toml").display()
        ))
        .arg(format!(
            "--tls-cert={}",
            dir.join(format!("h{i}/cert.pem")).display()
        ))
        .arg(format!(
            "--tls-key={}",
            dir.join(format!("h{i}/key.pem")).display()
        ))
        .arg(format!("--log-file={}", log.display()))
        .arg(format!(
            "--audit-log={}",
            dir.join(format!("h{i}.audit")).display()
        ))
        .env("XDG_STATE_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("h{i}.stderr"))).unwrap())
        .spawn()
        .expect("the agent starts");
    Process(child)
}

fn hub(dir: &Path, port: u16) -> Process {
    let child = Command::new(BIN)
        .args(["gateway", "--agents"])
        .arg(dir.join("agents.toml"))
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg(format!(
            "--token-file={}",
            dir.join("hub-tokens.toml").display()
        ))
        .arg(format!("--audit-log={}", dir.join("hub.audit").display()))
        .env("XDG_STATE_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("hub.stderr")).unwrap())
        .spawn()
        .expect("the hub starts");
    Process(child)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client(url: &str, token: &str, ca: Option<PathBuf>) -> Client {
    Client::new(Endpoint {
        url: url.into(),
        token: token.into(),
        ca,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_in_namespaces_behind_a_hub() {
    let hosts = match Hosts::make() {
        Ok(hosts) => hosts,
        Err(e) => {
            assert!(
                std::env::var_os("DAY2TOP_REQUIRE_NETNS").is_none(),
                "DAY2TOP_REQUIRE_NETNS is set but namespaces cannot be made: {e}"
            );
            eprintln!("skipped: cannot make network namespaces here ({e})");
            return;
        }
    };
    let dir = std::env::temp_dir().join(format!("day2top-netns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("agent-tokens.toml"),
        format!(
            "[[token]]\nname = \"hub\"\nsecret = \"{HUB_TOKEN}\"\nscopes = [\"admin\"]\nexec_tasks = [\"*\"]\nrun_as = [\"*\", \"root\"]\n\n[[token]]\nname = \"collector\"\nsecret = \"{INGEST}\"\nscopes = [\"ingest\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("hub-tokens.toml"),
        format!(
            "[[token]]\nname = \"operator\"\nsecret = \"{OPERATOR}\"\nscopes = [\"admin\"]\nexec_tasks = [\"*\"]\nrun_as = [\"*\", \"root\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("hub.token"), HUB_TOKEN).unwrap();
    let mut agents_file = String::new();
    let mut pkis = Vec::new();
    for i in 1..=N {
        let pki = Pki::new(&format!("netns-h{i}"), &[&format!("10.77.{i}.2")]);
        std::fs::create_dir_all(dir.join(format!("h{i}"))).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(pki.dir.join(f), dir.join(format!("h{i}/{f}"))).unwrap();
        }
        std::fs::write(dir.join(format!("h{i}.log")), "").unwrap();
        agents_file += &format!(
            "[[agent]]\nname = \"h{i}\"\nurl = \"https://10.77.{i}.2:7070\"\ntoken_file = \"hub.token\"\nca_file = \"h{i}/ca.pem\"\n\n"
        );
        pkis.push(pki);
    }
    std::fs::write(dir.join("agents.toml"), agents_file).unwrap();
    let mut agents: Vec<Option<Process>> = (1..=N).map(|i| Some(agent(&hosts, i, &dir))).collect();
    let port = free_port();
    let mut the_hub = Some(hub(&dir, port));
    let url = format!("http://127.0.0.1:{port}");
    let operator = client(&url, OPERATOR, None);

    // The fleet's nodes, every host's with its agent's name.
    #[derive(serde::Deserialize)]
    struct Items<T> {
        items: Vec<T>,
    }
    let nodes: Vec<Node> = poll_until("every host's nodes", Duration::from_secs(30), || async {
        let nodes: Items<Node> = operator.get("/api/v1/nodes").await.ok()?;
        (nodes.items.len() == 2 * N).then_some(nodes.items)
    })
    .await;
    for i in 1..=N {
        assert_eq!(
            nodes
                .iter()
                .filter(|n| n.id.starts_with(&format!("h{i}:")))
                .count(),
            2
        );
    }

    // Lines on every host, through the hub, while host 2 dies and comes back.
    let mut stream = operator.stream(vec![Subscription {
        sub: "l".into(),
        topic: Topic::Logs,
        filter: Filter::default(),
    }]);
    let mut writers = BTreeMap::new();
    for i in 1..=N {
        writers.insert(
            format!("h{i}"),
            Writer::start(dir.join(format!("h{i}.log")), 200),
        );
    }
    let at = |writers: &BTreeMap<String, Writer>| -> BTreeMap<String, u64> {
        writers
            .iter()
            .map(|(a, w)| (a.clone(), w.written.load(Ordering::Relaxed)))
            .collect()
    };
    let mut seen = BTreeMap::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    collect_per_agent(&mut stream, &mut seen, &at(&writers)).await;
    drop(agents[1].take()); // killed
    poll_until("h2 shown down", Duration::from_secs(20), || async {
        let a: Items<AgentStatus> = operator.get("/api/v1/agents").await.ok()?;
        let h2 = a.items.iter().find(|a| a.name == "h2")?;
        (h2.state == AgentState::Down).then_some(())
    })
    .await;
    let mut live = at(&writers);
    live.remove("h2");
    collect_per_agent(&mut stream, &mut seen, &live).await;
    agents[1] = Some(agent(&hosts, 2, &dir));
    tokio::time::sleep(Duration::from_millis(500)).await;
    collect_per_agent(&mut stream, &mut seen, &at(&writers)).await;
    // The hub dies and comes back; the stream resumes through it.
    drop(the_hub.take());
    tokio::time::sleep(Duration::from_millis(500)).await;
    the_hub = Some(hub(&dir, port));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let last: BTreeMap<String, u64> = std::mem::take(&mut writers)
        .into_iter()
        .map(|(a, w)| (a, w.finish()))
        .collect();
    collect_per_agent(&mut stream, &mut seen, &last).await;
    assert_exactly_once_per_agent(&seen, &last);

    // Exec through the hub runs on host 3: its address, its exit code,
    // an audit record on both sides.
    #[derive(serde::Deserialize)]
    struct Task {
        id: String,
        state: String,
    }
    let task = poll_until("a running task on h3", Duration::from_secs(20), || async {
        let tasks: Items<Task> = operator.get("/api/v1/tasks").await.ok()?;
        tasks
            .items
            .into_iter()
            .find(|t| t.id.starts_with("h3:") && t.state == "running")
    })
    .await;
    let request = ExecRequest {
        cmd: vec![
            "sh".into(),
            "-c".into(),
            "ip -4 -o addr show; exit 5".into(),
        ],
        tty: false,
        interactive: false,
        cols: 80,
        rows: 24,
        env: Default::default(),
        user: None,
        container: None,
    };
    let mut session = operator
        .exec(&task.id, &request)
        .await
        .expect("exec through the hub");
    let (out, _, status) = run_to_end(&mut session).await;
    assert!(out.contains("10.77.3.2"), "ran on host 3: {out}");
    assert!(
        !out.contains("10.77.1.") && !out.contains("10.77.2."),
        "{out}"
    );
    assert_eq!(status.exit_code, Some(5));
    let at_hub: Vec<AuditRecord> =
        poll_until("the hub's record", Duration::from_secs(5), || async {
            let audit: Vec<AuditRecord> = operator.get("/api/v1/audit").await.ok()?;
            audit
                .iter()
                .any(|r| r.exit_code == Some(5))
                .then_some(audit)
        })
        .await;
    let record = at_hub.iter().find(|r| r.exit_code == Some(5)).unwrap();
    assert_eq!(
        (record.actor.as_str(), record.agent.as_str()),
        ("operator", "h3")
    );
    let h3 = client(
        "https://10.77.3.2:7070",
        HUB_TOKEN,
        Some(dir.join("h3/ca.pem")),
    );
    let there: Vec<AuditRecord> = poll_until("h3's record", Duration::from_secs(5), || async {
        let audit: Vec<AuditRecord> = h3.get("/api/v1/audit").await.ok()?;
        audit
            .iter()
            .any(|r| r.exit_code == Some(5))
            .then_some(audit)
    })
    .await;
    let record = there.iter().find(|r| r.exit_code == Some(5)).unwrap();
    assert_eq!(
        (record.actor.as_str(), record.operator.as_str()),
        ("hub", "operator")
    );

    // One trace, its spans sent to hosts 1 and 2, is one trace at the hub.
    let trace = "0af7651916cd43dd8448eb211c80319c";
    for (i, span, parent, service) in [
        (1, "00f067aa0ba902b7", None, "frontend"),
        (2, "b7ad6b7169203331", Some("00f067aa0ba902b7"), "payments"),
    ] {
        let body = otlp_json(service, trace, &[(span, parent, "op")]);
        let tls = day2top::client::tls_config(Some(&dir.join(format!("h{i}/ca.pem")))).unwrap();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .build()
            .unwrap();
        let status = http
            .post(format!("https://10.77.{i}.2:4318/v1/traces"))
            .bearer_auth(INGEST)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{status}");
    }
    let spans: Vec<Span> = poll_until("the trace at the hub", Duration::from_secs(10), || async {
        let spans: Vec<Span> = operator
            .get(&format!("/api/v1/traces/{trace}"))
            .await
            .ok()?;
        (spans.len() == 2).then_some(spans)
    })
    .await;
    assert_eq!(spans[1].parent_id.as_deref(), Some("00f067aa0ba902b7"));
    drop(the_hub);
    drop(agents);
    drop(hosts);
    drop(pkis);
    let _ = std::fs::remove_dir_all(&dir);
}
