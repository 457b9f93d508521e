//! Disk I/O per device from /proc/diskstats: bytes read and written a
//! second, and how busy the device was (the share of time with I/O in
//! flight).

use std::collections::HashMap;

use super::rates::Rates;
use crate::api::{Sample, UnixMillis};
use crate::collect::sample;

/// Devices that are not disks: loop and RAM devices, and device-mapper
/// and md aside nothing is dropped (partitions included).
fn wanted(name: &str) -> bool {
    !(name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram"))
}

/// device → [sectors read, sectors written, ms doing I/O].
fn parse(text: &str) -> HashMap<String, Vec<u64>> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let name = *f.get(2)?;
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
            wanted(name).then_some((name.to_string(), vec![n(5)?, n(9)?, n(12)?]))
        })
        .collect()
}

#[derive(Default)]
pub struct DiskIo {
    rates: Rates,
}

impl DiskIo {
    pub fn read(&mut self, node_id: &str, now: UnixMillis, samples: &mut Vec<Sample>) {
        let Ok(text) = std::fs::read_to_string("/proc/diskstats") else {
            return;
        };
        for (device, r) in self.rates.update(now, parse(&text)) {
            let tags = [("node_id", node_id), ("device", device.as_str())];
            samples.push(sample(
                "node.disk.read.bytes_per_second",
                &tags,
                now,
                (r[0] * 512.0).round(),
                "bytes/s",
            ));
            samples.push(sample(
                "node.disk.write.bytes_per_second",
                &tags,
                now,
                (r[1] * 512.0).round(),
                "bytes/s",
            ));
            // ms of I/O a second, as a share of the second.
            let busy = (r[2] / 10.0).min(100.0);
            samples.push(sample(
                "node.disk.busy.percent",
                &tags,
                now,
                super::system::round1(busy),
                "percent",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_diskstats() {
        let text = "   8       0 sda 100 0 2048 50 10 0 4096 20 0 70 70\n   7       0 loop0 1 0 2 0 0 0 0 0 0 0 0\n";
        let parsed = super::parse(text);
        assert_eq!(parsed["sda"], vec![2048, 4096, 70]);
        assert!(!parsed.contains_key("loop0"));
    }
}
