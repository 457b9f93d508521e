//! A hub over three agents, every one a real gateway on its own loopback
//! address (127.0.0.2-4) with its own log file: the fleet's nodes, tasks
//! and checks with fleet ids, an agent down and back, an agents file that
//! changes, and logs through the hub that resume exactly once through an
//! agent's restart and the hub's.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::fleet::{assert_exactly_once_per_agent, collect_per_agent, otlp_json, run_to_end};
use common::*;
use day2top::api::{AgentState, AgentStatus, Filter, Node, Record, ServerMsg, Topic};
use day2top::client::{Client, Endpoint, StreamEvent, Subscription};
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::fleet::agents::AgentSpec;
use day2top::fleet::{Fleet, HubSource};
use day2top::gateway::{self, GatewayConfig, RunningGateway};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("day2top-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The same seed on every agent: the same hostnames and task names, which
/// fleet ids must keep apart.
fn agent_source() -> Box<DemoSource> {
    Box::new(DemoSource::new(DemoConfig {
        log_rate: 0,
        nodes: 2,
        tasks: 5,
        ..Default::default()
    }))
}

fn agent_config(addr: SocketAddr, log: &Path) -> GatewayConfig {
    let mut config = demo_config(addr);
    config.log_files = vec![log.display().to_string()];
    config
}

async fn start_agent(addr: SocketAddr, log: &Path) -> RunningGateway {
    gateway::start(agent_config(addr, log), agent_source())
        .await
        .expect("the agent starts")
}

fn spec(dir: &Path, name: &str, addr: SocketAddr) -> AgentSpec {
    let token_file = dir.join(format!("{name}.token"));
    std::fs::write(&token_file, ADMIN).unwrap();
    AgentSpec {
        name: name.into(),
        url: format!("http://{addr}"),
        token_file,
        ca_file: None,
    }
}

async fn start_hub(addr: SocketAddr, fleet: Arc<Fleet>) -> RunningGateway {
    let mut config = demo_config(addr);
    config.fleet = Some(fleet.clone());
    gateway::start(config, Box::new(HubSource::new(fleet, "fleet".into())))
        .await
        .expect("the hub starts")
}

async fn agents(hub: &str) -> BTreeMap<String, AgentStatus> {
    #[derive(serde::Deserialize)]
    struct Listing {
        items: Vec<AgentStatus>,
    }
    let listing: Listing = get_json(&format!("{hub}/api/v1/agents")).await;
    listing
        .items
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect()
}

async fn nodes(hub: &str) -> Vec<Node> {
    #[derive(serde::Deserialize)]
    struct Listing {
        items: Vec<Node>,
    }
    let listing: Listing = get_json(&format!("{hub}/api/v1/nodes")).await;
    listing.items
}

fn addr(host: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, host], 0))
}

#[tokio::test]
async fn a_hub_shows_the_fleet_with_ids_that_never_collide_and_an_agent_down() {
    let dir = Dir::new("fleet-tables");
    let mut agents_up = Vec::new();
    let mut specs = Vec::new();
    for (i, name) in ["h1", "h2", "h3"].into_iter().enumerate() {
        let log = dir.0.join(format!("{name}.log"));
        std::fs::write(&log, "").unwrap();
        let agent = start_agent(addr(2 + i as u8), &log).await;
        specs.push(spec(&dir.0, name, agent.addr));
        agents_up.push(agent);
    }
    // The agents file holds two at first; the third is added later.
    let file = dir.0.join("agents.toml");
    let write_file = |specs: &[AgentSpec]| {
        let mut text = String::new();
        for s in specs {
            text += &format!(
                "[[agent]]\nname = {:?}\nurl = {:?}\ntoken_file = {:?}\n",
                s.name,
                s.url,
                s.token_file.display().to_string()
            );
        }
        std::fs::write(&file, text).unwrap();
    };
    write_file(&specs[..2]);
    let fleet = Fleet::start(
        day2top::fleet::agents::load(&file).unwrap(),
        Some(file.clone()),
    );
    let hub = start_hub(addr(1), fleet).await;

    let two = poll_until("two agents' nodes", Duration::from_secs(10), || async {
        let n = nodes(&hub.url).await;
        (n.len() == 4).then_some(n)
    })
    .await;
    let of = |agent: &str| -> Vec<String> {
        two.iter()
            .filter_map(|n| n.id.strip_prefix(&format!("{agent}:")))
            .map(String::from)
            .collect()
    };
    assert_eq!(of("h1").len(), 2);
    assert_eq!(
        of("h1"),
        of("h2"),
        "the same hostnames on two hosts, kept apart by the agent's name"
    );
    assert_eq!(two[0].labels.get("agent").map(String::as_str), Some("h1"));

    // An agent added to the file joins without a restart.
    tokio::time::sleep(Duration::from_millis(1100)).await; // a new mtime
    write_file(&specs);
    poll_until("the third agent", Duration::from_secs(10), || async {
        (nodes(&hub.url).await.len() == 6).then_some(())
    })
    .await;
    let status = agents(&hub.url).await;
    assert!(
        status.values().all(|a| a.state == AgentState::Up),
        "{status:?}"
    );
    assert!(status["h3"].last_contact.is_some());
    assert!(status["h3"].clock_offset_ms.unwrap().abs() < 2000);

    // Tasks through the stream, with their agent.
    let client = Client::new(Endpoint {
        url: hub.url.clone(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![Subscription {
        sub: "t".into(),
        topic: Topic::Tasks,
        filter: Filter::default(),
    }]);
    let tasks = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(StreamEvent::Message(ServerMsg::Snapshot { items, .. })) =
                stream.events.recv().await
            {
                return items;
            }
        }
    })
    .await
    .expect("a tasks snapshot within 10 s");
    let held: usize = status.values().map(|a| a.tasks).sum();
    assert_eq!(tasks.len(), held, "every agent's tasks");
    assert!(held >= 15);
    for item in &tasks {
        let Record::Task(t) = item else { panic!() };
        let agent = t.labels.get("agent").unwrap();
        assert!(t.id.starts_with(&format!("{agent}:")));
        assert!(t.node_id.starts_with(&format!("{agent}:")));
    }

    // Agent h2 goes down: its nodes are unreachable since a time, the rest live.
    let h2 = agents_up.remove(1);
    h2.shutdown().await;
    let down = poll_until("h2 down", Duration::from_secs(10), || async {
        let a = agents(&hub.url).await;
        (a["h2"].state == AgentState::Down).then_some(a)
    })
    .await;
    assert_eq!(down["h1"].state, AgentState::Up);
    assert_eq!(down["h3"].state, AgentState::Up);
    let n = poll_until("h2's nodes marked", Duration::from_secs(5), || async {
        let n = nodes(&hub.url).await;
        n.iter()
            .filter(|n| n.id.starts_with("h2:"))
            .all(|n| n.unreachable_since.is_some())
            .then_some(n)
    })
    .await;
    assert!(
        n.iter()
            .filter(|n| !n.id.starts_with("h2:"))
            .all(|n| n.unreachable_since.is_none())
    );
    // The hub's own check of each agent: h2's fails, saying why.
    #[derive(serde::Deserialize)]
    struct Checks {
        items: Vec<day2top::api::Check>,
    }
    let failing = poll_until("h2's check failing", Duration::from_secs(5), || async {
        let checks: Checks = get_json(&format!("{}/api/v1/health", hub.url)).await;
        checks
            .items
            .into_iter()
            .find(|c| c.id == "fleet:agent:h2" && c.status == day2top::api::CheckStatus::Failing)
    })
    .await;
    assert!(
        failing.last_output.starts_with("down: "),
        "{}",
        failing.last_output
    );
    // Reads passed to the agents say which could not answer.
    let answer = http()
        .get(format!(
            "{}/api/v1/metrics/series?name=node.cpu.percent",
            hub.url
        ))
        .bearer_auth(READ)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let missing = answer.headers()["x-day2top-missing"].to_str().unwrap();
    assert_eq!(missing, "h2 (down)");
    let range: day2top::api::SeriesRange = answer.json().await.unwrap();
    let mut ids: Vec<&str> = range
        .series
        .iter()
        .filter_map(|s| s.tags.get("node_id").map(String::as_str))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "h1's and h3's nodes: {ids:?}");

    // An agent removed from the file leaves, nodes and all.
    write_file(&[specs[0].clone(), specs[2].clone()]);
    poll_until("h2 gone", Duration::from_secs(10), || async {
        let n = nodes(&hub.url).await;
        (n.len() == 4 && n.iter().all(|n| !n.id.starts_with("h2:"))).then_some(())
    })
    .await;
    hub.shutdown().await;
    for a in agents_up {
        a.shutdown().await;
    }
}

#[tokio::test]
async fn logs_through_the_hub_resume_exactly_once_through_an_agent_restart_and_a_hub_restart() {
    let dir = Dir::new("fleet-logs");
    let names = ["h1", "h2", "h3"];
    let mut running = Vec::new();
    let mut specs = Vec::new();
    let mut writers = BTreeMap::new();
    let mut logs = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let log = dir.0.join(format!("{name}.log"));
        std::fs::write(&log, "").unwrap();
        let agent = start_agent(addr(12 + i as u8), &log).await;
        specs.push(spec(&dir.0, name, agent.addr));
        running.push(Some(agent));
        logs.push(log);
    }
    let fleet = Fleet::start(specs.clone(), None);
    let hub = start_hub(addr(11), fleet).await;
    let hub_addr = hub.addr;
    poll_until("the fleet up", Duration::from_secs(10), || async {
        let a = agents(&hub.url).await;
        a.values().all(|a| a.state == AgentState::Up).then_some(())
    })
    .await;
    let client = Client::new(Endpoint {
        url: hub.url.clone(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![Subscription {
        sub: "l".into(),
        topic: Topic::Logs,
        filter: Filter::default(),
    }]);
    for (name, log) in names.iter().zip(&logs) {
        writers.insert(name.to_string(), Writer::start(log.clone(), 500));
    }
    let mut seen = BTreeMap::new();
    let now_at = |writers: &BTreeMap<String, Writer>| -> BTreeMap<String, u64> {
        writers
            .iter()
            .map(|(a, w)| (a.clone(), w.written.load(Ordering::Relaxed)))
            .collect()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    collect_per_agent(&mut stream, &mut seen, &now_at(&writers)).await;

    // Agent h2 goes down while lines keep coming on every host.
    let h2 = running[1].take().unwrap();
    let h2_addr = h2.addr;
    h2.shutdown().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The rest stay live meanwhile.
    let mut live = now_at(&writers);
    live.remove("h2");
    collect_per_agent(&mut stream, &mut seen, &live).await;
    running[1] = Some(start_agent(h2_addr, &logs[1]).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    collect_per_agent(&mut stream, &mut seen, &now_at(&writers)).await;

    // The hub goes down and comes back; the console resumes through it.
    hub.shutdown().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let fleet = Fleet::start(specs, None);
    let hub = start_hub(hub_addr, fleet).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let last: BTreeMap<String, u64> = std::mem::take(&mut writers)
        .into_iter()
        .map(|(a, w)| (a, w.finish()))
        .collect();
    collect_per_agent(&mut stream, &mut seen, &last).await;
    assert_exactly_once_per_agent(&seen, &last);

    // GET /api/v1/logs through the hub: the newest of every agent, merged
    // by time; after a fleet cursor, the lines after it of the agents it
    // names; a plain cursor refused, saying why.
    let (code, newest) = read_logs(&hub.url, "limit=30").await;
    assert_eq!(code, 200);
    assert_eq!(newest.len(), 30);
    assert!(newest.windows(2).all(|w| w[0].ts <= w[1].ts), "by time");
    let seq = |e: &day2top::api::LogEntry| -> u64 {
        e.message.split(' ').nth(1).unwrap().parse().unwrap()
    };
    let h1 = |e: &&day2top::api::LogEntry| e.node.starts_with("h1:");
    let (_, h1_lines) = read_logs(&hub.url, "limit=10&match=identifier=h1.log").await;
    let from = h1_lines.iter().find(h1).expect("an h1 line");
    let cursor: String = form_urlencoded::byte_serialize(from.cursor.as_bytes()).collect();
    let (code, after) = read_logs(&hub.url, &format!("cursor={cursor}&limit=3")).await;
    assert_eq!(code, 200);
    assert_eq!(
        after.iter().map(seq).collect::<Vec<_>>(),
        [seq(from) + 1, seq(from) + 2, seq(from) + 3]
    );
    assert!(after.iter().all(|e| h1(&e)));
    let (code, _) = read_logs(&hub.url, "cursor=f:1:2:3").await;
    assert_eq!(code, 400);
    hub.shutdown().await;
    for agent in running.into_iter().flatten() {
        agent.shutdown().await;
    }
}

const HUB_SECRET: &str = "hub-secret-0123456789";
const OPERATOR: &str = "operator-secret-0123456789";

/// An agent that trusts the hub's token to exec anywhere and take traces.
/// Paging back through a hub: each agent pages back through its ring and
/// then its file, and the hub's position holds every agent's own, so every
/// line of every agent comes exactly once, in its agent's order, to the
/// first.
#[tokio::test]
async fn older_pages_through_the_hub_reach_every_agents_first_line_exactly_once() {
    let dir = Dir::new("fleet-older");
    const LINES: u64 = 3000;
    let mut specs = Vec::new();
    let mut running = Vec::new();
    for (i, name) in ["p1", "p2"].into_iter().enumerate() {
        let log = dir.0.join(format!("{name}.log"));
        let text: String = (1..=LINES).map(|n| format!("{name} {n}\n")).collect();
        std::fs::write(&log, text).unwrap();
        let mut config = agent_config(addr(40 + i as u8), &log);
        // A ring of a few hundred lines: the rest is read back from the file.
        config.store_limits.log_bytes = 48 << 10;
        let agent = gateway::start(config, agent_source()).await.unwrap();
        specs.push(spec(&dir.0, name, agent.addr));
        running.push(agent);
    }
    let hub = start_hub(addr(39), Fleet::start(specs, None)).await;
    for agent in &running {
        poll_until("the agent's last line", Duration::from_secs(10), || async {
            let (_, tail) = read_logs(&agent.url, "limit=1").await;
            tail.first()
                .is_some_and(|e| e.message.ends_with(" 3000"))
                .then_some(())
        })
        .await;
    }
    poll_until("the fleet up", Duration::from_secs(10), || async {
        let a = agents(&hub.url).await;
        (a.len() == 2 && a.values().all(|a| a.state == AgentState::Up)).then_some(())
    })
    .await;
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut before = String::new();
    for _ in 0..40 {
        let resp = http()
            .get(format!(
                "{}/api/v1/logs?limit=700&before={}",
                hub.url,
                form_urlencoded::byte_serialize(before.as_bytes()).collect::<String>()
            ))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let older = resp
            .headers()
            .get(day2top::api::OLDER_HEADER)
            .map(|v| v.to_str().unwrap().to_string());
        let end = resp
            .headers()
            .get(day2top::api::HISTORY_HEADER)
            .map(|v| v.to_str().unwrap().to_string());
        let body = resp.text().await.unwrap();
        let mut page: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for line in body.lines() {
            let e: day2top::api::LogEntry = serde_json::from_str(line).unwrap();
            let (agent, n) = e.message.split_once(' ').unwrap();
            page.entry(agent.into())
                .or_default()
                .push(n.parse().unwrap());
        }
        for (agent, mut numbers) in page {
            let held = seen.entry(agent).or_default();
            numbers.append(held);
            *held = numbers;
        }
        match older {
            Some(position) => before = position,
            None => {
                assert_eq!(end.as_deref(), Some("start"));
                break;
            }
        }
    }
    for agent in ["p1", "p2"] {
        let got = &seen[agent];
        assert_eq!(got.len() as u64, LINES, "{agent}: every line once");
        assert!(
            got.iter().copied().eq(1..=LINES),
            "{agent}: in order, none repeated"
        );
    }
    hub.shutdown().await;
    for agent in running {
        agent.shutdown().await;
    }
}

async fn exec_agent(addr: SocketAddr) -> RunningGateway {
    use day2top::gateway::{Scope, Token, Tokens};
    let mut config = demo_config(addr);
    config.tokens = Some(Tokens::new(vec![
        Token::new("hub", HUB_SECRET, vec![Scope::Admin]).with_exec(&["*"], &["*", "root"]),
        Token::new("collector", INGEST, vec![Scope::Ingest]),
    ]));
    config.otlp = Some(SocketAddr::new(addr.ip(), 0));
    gateway::start(config, agent_source()).await.unwrap()
}

#[tokio::test]
async fn exec_and_traces_go_through_the_hub_to_the_agents_that_own_them() {
    use day2top::api::{AuditRecord, Decision, ExecRequest, Span, TaskState, TraceSummary};
    use day2top::gateway::{Scope, Token, Tokens};
    let dir = Dir::new("fleet-exec");
    let (a1, a2) = (exec_agent(addr(22)).await, exec_agent(addr(23)).await);
    let mut specs = Vec::new();
    for (name, agent) in [("h1", &a1), ("h2", &a2)] {
        let token_file = dir.0.join(format!("{name}.token"));
        std::fs::write(&token_file, HUB_SECRET).unwrap();
        specs.push(AgentSpec {
            name: name.into(),
            url: agent.url.clone(),
            token_file,
            ca_file: None,
        });
    }
    let fleet = Fleet::start(specs, None);
    let mut config = demo_config(addr(21));
    config.fleet = Some(fleet.clone());
    config.tokens = Some(Tokens::new(vec![
        Token::new("operator", OPERATOR, vec![Scope::Admin]).with_exec(&["*"], &["*", "root"]),
        Token::new("viewer", READ, vec![Scope::Read]),
    ]));
    let hub = gateway::start(config, Box::new(HubSource::new(fleet, "fleet".into())))
        .await
        .unwrap();
    let as_operator = Client::new(Endpoint {
        url: hub.url.clone(),
        token: OPERATOR.into(),
        ca: None,
    })
    .unwrap();
    #[derive(serde::Deserialize)]
    struct Tasks {
        items: Vec<day2top::api::Task>,
    }
    let task = poll_until("a running task of h2", Duration::from_secs(10), || async {
        let tasks: Tasks = as_operator.get("/api/v1/tasks").await.ok()?;
        tasks
            .items
            .into_iter()
            .find(|t| t.id.starts_with("h2:") && t.state == TaskState::Running)
    })
    .await;

    // Exec: runs on h2, its exit code comes back, both ends audit.
    let request = ExecRequest {
        cmd: vec![
            "sh".into(),
            "-c".into(),
            "echo through the hub; exit 7".into(),
        ],
        tty: false,
        interactive: false,
        cols: 80,
        rows: 24,
        env: Default::default(),
        user: None,
        container: None,
    };
    let mut session = as_operator.exec(&task.id, &request).await.unwrap();
    let (out, err, status) = run_to_end(&mut session).await;
    assert_eq!(out, "through the hub\n");
    assert_eq!(err, "");
    assert_eq!(status.exit_code, Some(7));
    let audit_of = |url: String, token: &'static str| async move {
        let c = Client::new(Endpoint {
            url,
            token: token.into(),
            ca: None,
        })
        .unwrap();
        c.get::<Vec<AuditRecord>>("/api/v1/audit").await.unwrap()
    };
    let at_hub = poll_until("the hub's audit record", Duration::from_secs(5), || async {
        audit_of(hub.url.clone(), OPERATOR)
            .await
            .into_iter()
            .find(|r| r.exit_code == Some(7))
    })
    .await;
    assert_eq!(
        (at_hub.actor.as_str(), at_hub.agent.as_str()),
        ("operator", "h2")
    );
    assert_eq!(at_hub.task, task.id);
    let at_agent = poll_until("h2's audit record", Duration::from_secs(5), || async {
        audit_of(a2.url.clone(), HUB_SECRET)
            .await
            .into_iter()
            .find(|r| r.exit_code == Some(7))
    })
    .await;
    assert_eq!(
        (at_agent.actor.as_str(), at_agent.operator.as_str()),
        ("hub", "operator")
    );
    assert_eq!(Some(at_agent.task.as_str()), task.id.strip_prefix("h2:"));
    assert!(
        audit_of(a1.url.clone(), HUB_SECRET).await.is_empty(),
        "h1 saw nothing"
    );

    // A read-only token is refused at the hub; the agent never hears of it.
    let as_viewer = Client::new(Endpoint {
        url: hub.url.clone(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    assert!(as_viewer.exec(&task.id, &request).await.is_err());
    let denied = audit_of(hub.url.clone(), OPERATOR).await;
    assert!(
        denied
            .iter()
            .any(|r| r.actor == "viewer" && r.decision == Decision::Deny)
    );
    assert_eq!(audit_of(a2.url.clone(), HUB_SECRET).await.len(), 1);

    // A trace whose spans went to two agents is one trace at the hub.
    let trace = "5b8efff798038103d269b633813fc60c";
    for (agent, body) in [
        (
            &a1,
            otlp_json("frontend", trace, &[("0000000000000001", None, "GET /")]),
        ),
        (
            &a2,
            otlp_json(
                "db",
                trace,
                &[("0000000000000002", Some("0000000000000001"), "SELECT")],
            ),
        ),
    ] {
        let status = http()
            .post(format!("http://{}/v1/traces", agent.otlp_addr.unwrap()))
            .bearer_auth(INGEST)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{status}");
    }
    let spans: Vec<Span> = poll_until("both spans at the hub", Duration::from_secs(5), || async {
        let spans: Vec<Span> = as_operator
            .get(&format!("/api/v1/traces/{trace}"))
            .await
            .ok()?;
        (spans.len() == 2).then_some(spans)
    })
    .await;
    assert_eq!(spans[0].name, "GET /");
    assert_eq!(spans[1].parent_id.as_deref(), Some("0000000000000001"));
    let list: Vec<TraceSummary> =
        poll_until("the merged summary", Duration::from_secs(5), || async {
            let list: Vec<TraceSummary> = as_operator.get("/api/v1/traces").await.ok()?;
            list.into_iter()
                .find(|t| t.trace_id == trace && t.spans == 2)
                .map(|t| vec![t])
        })
        .await;
    assert_eq!(list[0].services, ["db", "frontend"]);
    assert_eq!(list[0].root_operation, "GET /");
    hub.shutdown().await;
    a1.shutdown().await;
    a2.shutdown().await;
}

#[tokio::test]
async fn between_tiers_tls_and_tokens_refuse_what_they_should_without_a_storm() {
    use day2top::api::AuditKind;
    use day2top::gateway::TlsFiles;
    let dir = Dir::new("fleet-tls");
    let pki = Pki::new("fleet-ok", &["127.0.0.32"]);
    let other = Pki::new("fleet-other", &["127.0.0.33"]);
    let mut config = demo_config(SocketAddr::from(([127, 0, 0, 32], 0)));
    config.tls = Some(TlsFiles {
        cert: pki.dir.join("cert.pem"),
        key: pki.dir.join("key.pem"),
    });
    let tls_agent = gateway::start(config, agent_source()).await.unwrap();
    let plain_agent = start_agent(addr(34), &dir.0.join("none.log")).await;
    let mut good = spec(&dir.0, "good", tls_agent.addr);
    good.url = tls_agent.url.clone();
    good.ca_file = Some(pki.dir.join("ca.pem"));
    let mut wrong_ca = spec(&dir.0, "wrong-ca", tls_agent.addr);
    wrong_ca.url = tls_agent.url.clone();
    wrong_ca.ca_file = Some(other.dir.join("ca.pem"));
    let wrong_token = AgentSpec {
        token_file: dir.0.join("wrong.token"),
        ..spec(&dir.0, "wrong-token", plain_agent.addr)
    };
    std::fs::write(&wrong_token.token_file, "not-a-token-this-agent-issued").unwrap();
    let missing = AgentSpec {
        token_file: dir.0.join("absent.token"),
        ..spec(&dir.0, "no-token-file", plain_agent.addr)
    };
    let fleet = Fleet::start(vec![good, wrong_ca, wrong_token, missing], None);
    let hub = start_hub(addr(31), fleet).await;
    let status = poll_until(
        "every agent's state settled",
        Duration::from_secs(10),
        || async {
            let a = agents(&hub.url).await;
            (a["good"].state == AgentState::Up
                && a["wrong-ca"].state == AgentState::Down
                && a["wrong-token"].state == AgentState::Refused)
                .then_some(a)
        },
    )
    .await;
    poll_until("the good agent's nodes", Duration::from_secs(5), || async {
        let n = nodes(&hub.url).await;
        (n.len() == 2 && n.iter().all(|n| n.id.starts_with("good:"))).then_some(())
    })
    .await;
    let why = status["wrong-ca"].error.clone().unwrap();
    assert!(
        why.contains("certificate") || why.contains("UnknownIssuer"),
        "{why}"
    );
    assert!(
        status["wrong-token"]
            .error
            .as_ref()
            .unwrap()
            .contains("refused the token")
    );
    assert_eq!(status["no-token-file"].state, AgentState::Misconfigured);
    assert!(
        status["no-token-file"]
            .error
            .as_ref()
            .unwrap()
            .contains("absent.token")
    );

    // Refused once, then left alone: three seconds bring no new attempts.
    let failures = || async {
        let (code, body) = get_as(
            &format!("{}/api/v1/audit?limit=1000", plain_agent.url),
            ADMIN,
        )
        .await;
        assert_eq!(code, 200, "{body}");
        let audit: Vec<day2top::api::AuditRecord> = serde_json::from_str(&body).unwrap();
        audit
            .iter()
            .filter(|r| r.kind == AuditKind::Auth)
            .map(|r| 1 + r.suppressed)
            .sum::<u64>()
    };
    let before = failures().await;
    assert!(before >= 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(failures().await, before, "no retry storm");
    hub.shutdown().await;
    tls_agent.shutdown().await;
    plain_agent.shutdown().await;
}
