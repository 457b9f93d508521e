//! What the benchmarks share: the token they use, a memory reading, and
//! the runtime the product runs on.
#![allow(dead_code)]

pub const SECRET: &str = "bench-secret-0123456789";

/// This process's resident memory, in MB.
pub fn rss_mb() -> f64 {
    rss_mb_of("self")
}

/// A process's resident memory, in MB (`pid` a number or `self`).
pub fn rss_mb_of(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The runtime the console and gateway run on: two workers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The median and 99th percentile of some timings.
pub fn stats(mut times: Vec<std::time::Duration>) -> (std::time::Duration, std::time::Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}
