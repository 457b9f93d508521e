//! Pressure stall information (/proc/pressure/{cpu,memory,io}), where the
//! kernel has it: the share of the last ten seconds some (or all) tasks
//! waited for the resource.

use crate::api::{Sample, UnixMillis};
use crate::collect::sample;

/// `some avg10=1.50 avg60=…` → (`some`, 1.5).
fn parse(text: &str) -> Vec<(&str, f64)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let kind = words.next()?;
            let avg10 = words.find_map(|w| w.strip_prefix("avg10="))?.parse().ok()?;
            Some((kind, avg10))
        })
        .collect()
}

pub fn read(node_id: &str, now: UnixMillis, samples: &mut Vec<Sample>) {
    for resource in ["cpu", "memory", "io"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/pressure/{resource}")) else {
            continue; // no PSI in this kernel, or not allowed
        };
        for (kind, avg10) in parse(&text) {
            samples.push(sample(
                &format!("node.pressure.{resource}.{kind}"),
                &[("node_id", node_id)],
                now,
                avg10,
                "percent",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_some_and_full() {
        let text = "some avg10=1.50 avg60=0.20 avg300=0.00 total=123\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=7\n";
        assert_eq!(super::parse(text), vec![("some", 1.5), ("full", 0.25)]);
        assert!(super::parse("garbage\n").is_empty());
    }
}
