//! The real Prometheus (Debian's `prometheus`) scraping a gateway's
//! `/metrics` with a bearer token, and answering a query about what it
//! scraped. Needs the `prometheus` binary; without it this test says so
//! and passes, unless DAY2TOP_REQUIRE_PROMETHEUS=1 (as in CI, which
//! installs it).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{READ, demo, demo_config};
use day2top::gateway;
use serde_json::Value;

/// Ends Prometheus however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the real Prometheus is here; says "skipped" when not (and
/// fails when CI requires it).
fn prometheus_here() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("DAY2TOP_REQUIRE_PROMETHEUS").is_none(),
            "DAY2TOP_REQUIRE_PROMETHEUS is set but prometheus is missing"
        );
        eprintln!("skipped: prometheus is not installed");
    }
    found
}

/// The first value of an instant query's answer, if Prometheus has one.
async fn query(port: u16, q: &str) -> Option<f64> {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let request = common::http().get(format!("http://127.0.0.1:{port}/api/v1/query?query={q}"));
    let body: Value = request.send().await.ok()?.json().await.ok()?;
    body["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse::<f64>().ok())
}

/// Prometheus on a free loopback port with `dir/prometheus.yml`, its data
/// in `dir/data`.
fn start_prometheus(dir: &std::path::Path) -> (Running, u16) {
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    (Running(child), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_gateway_and_answers_a_query() {
    if !prometheus_here() {
        return;
    }
    let gw = gateway::start(
        demo_config("127.0.0.1:0".parse().unwrap()),
        demo(42, 10, 60),
    )
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("day2top-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token"), READ).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: day2top\n    authorization:\n      credentials_file: {}\n    static_configs:\n      - targets: ['{}']\n",
        dir.join("token").display(),
        gw.addr
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let (_prometheus, port) = start_prometheus(&dir);

    // Until Prometheus has scraped: the demo's ten nodes, and the target up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let up = query(port, "up{job=\"day2top\"}").await;
        let nodes = query(port, "day2top_nodes").await;
        let cpu = query(port, "count(day2top_node_cpu_percent)").await;
        if up == Some(1.0) && nodes == Some(10.0) && cpu == Some(10.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never saw the gateway: up {up:?}, nodes {nodes:?}, cpu series {cpu:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Prometheus scraping three agents, each target labelled with its agent's
/// name, behind a hub that reads history from it: a 1-hour dashboard read
/// through the hub reaches back past what an agent holds, here past the
/// restart of agent h2 (whose own memory starts again from nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_reads_a_fleets_history_from_prometheus_through_an_agents_restart() {
    use day2top::api::{SeriesRange, now_millis};
    use day2top::fleet::agents::AgentSpec;
    use day2top::fleet::{Fleet, HubSource};
    if !prometheus_here() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("day2top-prom-fleet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token"), READ).unwrap();
    let agent_at = |host: u8, port: u16| std::net::SocketAddr::from(([127, 0, 0, host], port));
    let mut agents = Vec::new();
    for (i, host) in [41u8, 42, 43].into_iter().enumerate() {
        let gw = gateway::start(demo_config(agent_at(host, 0)), demo(i as u64, 2, 4))
            .await
            .unwrap();
        agents.push(Some(gw));
    }
    let names = ["h1", "h2", "h3"];
    let mut targets = String::new();
    let mut specs = Vec::new();
    for (name, gw) in names.iter().zip(&agents) {
        let gw = gw.as_ref().unwrap();
        targets += &format!(
            "      - targets: ['{}']\n        labels:\n          agent: {name}\n",
            gw.addr
        );
        specs.push(AgentSpec {
            name: name.to_string(),
            url: gw.url.clone(),
            token_file: dir.join("token"),
            ca_file: None,
        });
    }
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: day2top-agents\n    authorization:\n      credentials_file: {}\n    static_configs:\n{targets}",
        dir.join("token").display(),
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let (_prometheus, port) = start_prometheus(&dir);
    // Six node series (two a host), each scraped a few times.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let series = query(port, "count(day2top_node_cpu_percent)").await;
        let fewest = query(port, "min(count_over_time(day2top_node_cpu_percent[1m]))").await;
        if series == Some(6.0) && fewest.is_some_and(|n| n >= 4.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never scraped the agents: {series:?} series, {fewest:?} points"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Agent h2 restarts: what it held is gone.
    let h2 = agents[1].take().unwrap();
    let h2_addr = h2.addr;
    h2.shutdown().await;
    let restarted = now_millis();
    agents[1] = Some(
        gateway::start(demo_config(h2_addr), demo(1, 2, 4))
            .await
            .unwrap(),
    );
    let fleet = Fleet::start(specs, None);
    let mut hub_config = demo_config("127.0.0.40:0".parse().unwrap());
    hub_config.fleet = Some(fleet.clone());
    hub_config.prometheus = Some(format!("http://127.0.0.1:{port}"));
    let hub = gateway::start(hub_config, Box::new(HubSource::new(fleet, "fleet".into())))
        .await
        .unwrap();
    let range = common::poll_until(
        "every agent's series through the hub",
        Duration::from_secs(10),
        || async {
            let range: SeriesRange = common::get_json(&format!(
                "{}/api/v1/metrics/series?name=node.cpu.percent&from=-1h&step=1s",
                hub.url
            ))
            .await;
            (range.series.len() == 6).then_some(range)
        },
    )
    .await;
    for series in &range.series {
        let node = series.tags.get("node_id").unwrap();
        assert!(
            ["h1:", "h2:", "h3:"].iter().any(|p| node.starts_with(p)),
            "{node}"
        );
        assert_eq!(series.tags.len(), 1, "no scrape labels: {:?}", series.tags);
    }
    let h2_series = range
        .series
        .iter()
        .find(|s| s.tags.get("node_id").unwrap().starts_with("h2:"))
        .unwrap();
    let oldest = h2_series.points.first().unwrap().0;
    assert!(
        oldest < restarted - 2000,
        "h2's history reaches back before its restart: oldest point {oldest}, restart {restarted}"
    );
    hub.shutdown().await;
    for gw in agents.into_iter().flatten() {
        gw.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
