//! One refresh of the host collector (every process's /proc/PID/stat, the
//! machine's CPU, memory, disks and network) with at least 500 processes.
//! Prints figures; run with `cargo bench --bench host_collector`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use day2top::api::now_millis;
use day2top::collect::Source;
use day2top::collect::host::HostSource;

fn processes() -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .count()
        })
        .unwrap_or(0)
}

fn main() {
    // Make it at least 500 processes, as on a busy host.
    let mut children: Vec<Child> = Vec::new();
    while processes() < 500 {
        match Command::new("sleep")
            .arg("120")
            .stdin(Stdio::null())
            .spawn()
        {
            Ok(child) => children.push(child),
            Err(e) => {
                eprintln!("cannot start more processes: {e}");
                break;
            }
        }
    }
    let mut host = HostSource::new();
    host.collect(now_millis()); // the first reading learns every process once
    std::thread::sleep(Duration::from_millis(20));
    let mut times: Vec<Duration> = Vec::new();
    let mut tasks = 0;
    let mut samples = 0;
    for _ in 0..100 {
        let start = Instant::now();
        let collected = host.collect(now_millis());
        times.push(start.elapsed());
        tasks = collected.tasks.len();
        samples = collected.samples.len();
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p99 = times[times.len() * 99 / 100];
    let goal = Duration::from_millis(5);
    let verdict = if mean <= goal { "met" } else { "MISSED" };
    println!(
        "host collector refresh, {tasks} processes ({samples} samples): mean {mean:.3?}  p50 {:.3?}  p99 {p99:.3?}  (goal ≤ {goal:?}: {verdict})",
        times[times.len() / 2]
    );
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
