//! Metrics benchmarks; prints figures. `cargo bench --bench metrics`.
//!
//! The metric store's memory per series (an hour a second apart and a day a
//! minute apart, as the defaults keep), then statsd ingest over loopback.
//!
//! One sender thread sends single-line datagrams (a mix of every metric
//! type, 100 series) at a paced rate for 4 s; the gateway's statsd
//! listener takes them in. A rate passes when every datagram sent was
//! received (the gateway's own counter at `/metrics`), so nothing is lost
//! in the kernel's queue. Goal: ≥ 200k datagrams/s with nothing dropped.

mod common;

use common::{SECRET, rss_mb};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::gateway::{self, GatewayConfig, Scope, Token, Tokens};

async fn received(url: &str) -> u64 {
    let tls = (*day2top::client::tls_config(None).unwrap()).clone();
    let text = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
        .get(format!("{url}/metrics"))
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("day2top_gateway_statsd_datagrams_total"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

async fn run(rate: u64) {
    let mut c = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    c.tokens = Some(Tokens::new(vec![Token::new(
        "bench",
        SECRET,
        vec![Scope::Read],
    )]));
    c.statsd = Some("127.0.0.1:0".parse().unwrap());
    let quiet = DemoSource::new(DemoConfig {
        log_rate: 0,
        nodes: 1,
        tasks: 1,
        ..Default::default()
    });
    let gw = gateway::start(c, Box::new(quiet)).await.unwrap();
    let at = gw.statsd_addr.unwrap();
    let lines: Vec<String> = (0..100)
        .map(|i| match i % 5 {
            0 => format!("bench.requests:1|c|#series:{i}"),
            1 => format!("bench.queue:{i}|g|#series:{i}"),
            2 => format!("bench.latency:{i}.5|ms|#series:{i}"),
            3 => format!("bench.size:{i}|h|@0.5|#series:{i}"),
            _ => format!("bench.users:u{i}|s|#series:{i}"),
        })
        .collect();
    let seconds = 4;
    let sender = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        let per_ms = rate / 1000;
        let mut sent = 0u64;
        for ms in 1..=seconds * 1000 {
            for _ in 0..per_ms {
                let line = &lines[(sent % 100) as usize];
                socket.send_to(line.as_bytes(), at).unwrap();
                sent += 1;
            }
            let due = start + Duration::from_millis(ms);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        (sent, start.elapsed())
    });
    let (sent, took) = tokio::task::spawn_blocking(move || sender.join().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = received(&gw.url).await;
    println!(
        "statsd at {}k datagrams/s asked: {sent} sent in {took:.2?} ({:.0}/s), {got} received, {} dropped",
        rate / 1000,
        sent as f64 / took.as_secs_f64(),
        sent.saturating_sub(got)
    );
    gw.shutdown().await;
}

/// Fills a store like a gateway's after a day: every series with an
/// hour of points a second apart and a day of minutes.
fn memory_per_series() {
    use day2top::api::Sample;
    use day2top::gateway::{SeriesLimits, SeriesStore};
    let series = 2000;
    let limits = SeriesLimits {
        max_slots: usize::MAX,
        ..SeriesLimits::default()
    };
    let mut store = SeriesStore::new(limits);
    let before = rss_mb();
    let start = Instant::now();
    let mut pushed = 0u64;
    // A day in minutes, then the last hour in seconds.
    for ts in (0..86_400i64 - 3600)
        .step_by(60)
        .chain(86_400 - 3600..86_400)
    {
        for n in 0..series {
            store.push(
                &Sample {
                    name: "bench.metric".into(),
                    tags: [("series".to_string(), n.to_string())].into(),
                    ts: ts * 1000,
                    value: n as f64,
                    unit: String::new(),
                },
                pushed,
            );
            pushed += 1;
        }
    }
    let took = start.elapsed();
    let stats = store.stats();
    println!(
        "metric store: {series} series, a day each: {} bytes a series by its own count, {:.0} by RSS; {:.1}M samples pushed at {:.1}M/s",
        stats.bytes / series,
        (rss_mb() - before) * 1_048_576.0 / series as f64,
        pushed as f64 / 1e6,
        pushed as f64 / 1e6 / took.as_secs_f64()
    );
}

fn main() {
    memory_per_series();
    common::runtime().block_on(async {
        for rate in [200_000, 300_000] {
            run(rate).await;
        }
    });
}
