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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_gateway_and_answers_a_query() {
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
    let port = free_port();
    let _prometheus = Running(
        Command::new("prometheus")
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
            .expect("prometheus starts"),
    );

    // Until Prometheus has scraped: the demo's ten nodes, and the target up.
    let http = common::http();
    let query = |q: &str| {
        let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let request = http.get(format!("http://127.0.0.1:{port}/api/v1/query?query={q}"));
        async move {
            let body: Value = request.send().await.ok()?.json().await.ok()?;
            body["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let up = query("up{job=\"day2top\"}").await;
        let nodes = query("day2top_nodes").await;
        let cpu = query("count(day2top_node_cpu_percent)").await;
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
