//! Per-second rates of counters that only grow (bytes sent, sectors read,
//! CPU microseconds), from one reading to the next.

use std::collections::HashMap;

use crate::api::UnixMillis;

#[derive(Default)]
pub struct Rates {
    at: Option<UnixMillis>,
    before: HashMap<String, Vec<u64>>,
}

impl Rates {
    /// Each key's counters as rates a second since the last reading. A key
    /// seen for the first time has none yet; a counter that went backwards
    /// (a device or group that was recreated) counts from zero.
    pub fn update(
        &mut self,
        now: UnixMillis,
        current: HashMap<String, Vec<u64>>,
    ) -> Vec<(String, Vec<f64>)> {
        let mut out = Vec::new();
        if let Some(at) = self.at {
            let secs = (now - at) as f64 / 1000.0;
            if secs > 0.0 {
                for (key, values) in &current {
                    if let Some(before) = self.before.get(key) {
                        let rates = values
                            .iter()
                            .zip(before)
                            .map(|(now, then)| {
                                let delta = if now >= then { now - then } else { *now };
                                delta as f64 / secs
                            })
                            .collect();
                        out.push((key.clone(), rates));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        self.at = Some(now);
        self.before = current;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_between_readings() {
        let mut r = Rates::default();
        let reading = |pairs: &[(&str, u64)]| -> HashMap<String, Vec<u64>> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), vec![*v]))
                .collect()
        };
        assert!(
            r.update(0, reading(&[("a", 100)])).is_empty(),
            "nothing to compare yet"
        );
        let out = r.update(2000, reading(&[("a", 300), ("b", 5)]));
        assert_eq!(out, vec![("a".to_string(), vec![100.0])]);
        let out = r.update(3000, reading(&[("a", 50), ("b", 15)]));
        assert_eq!(
            out[0],
            ("a".to_string(), vec![50.0]),
            "a reset counts from zero"
        );
        assert_eq!(out[1], ("b".to_string(), vec![10.0]));
    }
}
