//! statsd's flush-interval semantics: what arrived in one interval, turned
//! into samples at its end. Counters become a rate a second; gauges keep
//! their level between intervals (a `+N`/`-N` moves it); timers,
//! histograms and distributions become count, mean, p50, p90, p99 and max;
//! sets count their distinct members.

use std::collections::{HashMap, HashSet};

use super::parse::{Kind, Metric, Value};
use crate::api::{Sample, UnixMillis};

/// Values kept per timer/histogram per interval: beyond it, a uniform
/// sample of them (reservoir), while the count stays exact.
const MAX_VALUES: usize = 4096;
/// Distinct members kept per set per interval.
const MAX_MEMBERS: usize = 100_000;
/// A gauge not set for this long is forgotten.
const GAUGE_TTL_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    name: String,
    tags: crate::api::Labels,
}

enum State {
    Counter(f64),
    Gauge {
        value: f64,
        set_at: UnixMillis,
    },
    Values {
        kind: Kind,
        count: f64,
        seen: u64,
        values: Vec<f64>,
    },
    Set(HashSet<String>),
}

pub struct Aggregator {
    state: HashMap<Key, State>,
    max_series: usize,
    /// Lines refused because `max_series` series were already held.
    pub dropped: u64,
    rng: u64,
}

impl Aggregator {
    pub fn new(max_series: usize) -> Aggregator {
        Aggregator {
            state: HashMap::new(),
            max_series: max_series.max(1),
            dropped: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    pub fn series(&self) -> usize {
        self.state.len()
    }

    fn random(&mut self) -> u64 {
        // xorshift64: enough to pick reservoir slots uniformly.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    pub fn add(&mut self, m: Metric, now: UnixMillis) {
        let key = Key {
            name: m.name,
            tags: m.tags.into_iter().collect(),
        };
        if !self.state.contains_key(&key) && self.state.len() >= self.max_series {
            self.dropped += 1;
            return;
        }
        let scale = 1.0 / m.rate;
        let pick = self.random();
        let state = self.state.entry(key).or_insert_with(|| match m.kind {
            Kind::Counter => State::Counter(0.0),
            Kind::Gauge => State::Gauge {
                value: 0.0,
                set_at: now,
            },
            Kind::Set => State::Set(HashSet::new()),
            kind => State::Values {
                kind,
                count: 0.0,
                seen: 0,
                values: Vec::new(),
            },
        });
        match (state, m.value) {
            (State::Counter(total), Value::Number(v)) => *total += v * scale,
            (State::Gauge { value, set_at }, Value::Number(v)) => {
                *value = v;
                *set_at = now;
            }
            (State::Gauge { value, set_at }, Value::Delta(d)) => {
                *value += d;
                *set_at = now;
            }
            (
                State::Values {
                    count,
                    seen,
                    values,
                    ..
                },
                Value::Number(v),
            ) => {
                *count += scale;
                *seen += 1;
                if values.len() < MAX_VALUES {
                    values.push(v);
                } else if let Some(slot) = values.get_mut((pick % *seen) as usize) {
                    *slot = v;
                }
            }
            (State::Set(members), Value::Member(member)) => {
                if members.len() < MAX_MEMBERS {
                    members.insert(member);
                }
            }
            // The same name sent as another type: the first type holds.
            _ => self.dropped += 1,
        }
    }

    /// The samples of the interval that ends now, `seconds` long; every
    /// series but the gauges starts over.
    pub fn flush(&mut self, now: UnixMillis, seconds: f64) -> Vec<Sample> {
        let mut out = Vec::new();
        let sample = |name: String, tags: &crate::api::Labels, value: f64, unit: &str| Sample {
            name,
            tags: tags.clone(),
            ts: now,
            value,
            unit: unit.to_string(),
        };
        self.state.retain(|key, state| match state {
            State::Counter(total) => {
                out.push(sample(
                    key.name.clone(),
                    &key.tags,
                    *total / seconds.max(1e-3),
                    "/s",
                ));
                false
            }
            State::Gauge { value, set_at } => {
                out.push(sample(key.name.clone(), &key.tags, *value, ""));
                now - *set_at < GAUGE_TTL_MS
            }
            State::Set(members) => {
                out.push(sample(
                    key.name.clone(),
                    &key.tags,
                    members.len() as f64,
                    "",
                ));
                false
            }
            State::Values {
                kind,
                count,
                values,
                ..
            } => {
                let unit = if *kind == Kind::Timer { "ms" } else { "" };
                values.sort_by(f64::total_cmp);
                let quantile = |q: f64| {
                    let i = ((values.len() as f64 - 1.0) * q).round() as usize;
                    values.get(i).copied().unwrap_or(0.0)
                };
                let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
                let name = |suffix: &str| format!("{}.{suffix}", key.name);
                out.push(sample(name("count"), &key.tags, *count, ""));
                out.push(sample(name("mean"), &key.tags, mean, unit));
                out.push(sample(name("p50"), &key.tags, quantile(0.5), unit));
                out.push(sample(name("p90"), &key.tags, quantile(0.9), unit));
                out.push(sample(name("p99"), &key.tags, quantile(0.99), unit));
                out.push(sample(
                    name("max"),
                    &key.tags,
                    values.last().copied().unwrap_or(0.0),
                    unit,
                ));
                false
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::{Line, parse};
    use super::*;

    fn feed(agg: &mut Aggregator, lines: &[&str]) {
        for l in lines {
            let Ok(Line::Metric(m)) = parse(l) else {
                panic!("{l}")
            };
            agg.add(m, 0);
        }
    }

    fn value(samples: &[Sample], name: &str) -> f64 {
        samples
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} in {samples:?}"))
            .value
    }

    #[test]
    fn one_interval_of_every_type() {
        let mut agg = Aggregator::new(100);
        feed(
            &mut agg,
            &[
                "hits:1|c",
                "hits:1|c|@0.1",
                "q:10|g",
                "q:-3|g",
                "users:a|s",
                "users:b|s",
                "users:a|s",
            ],
        );
        for v in 1..=100 {
            feed(&mut agg, &[&format!("lat:{v}|ms")]);
        }
        let out = agg.flush(1000, 2.0);
        assert_eq!(value(&out, "hits"), 5.5, "11 hits over 2 s");
        assert_eq!(value(&out, "q"), 7.0);
        assert_eq!(value(&out, "users"), 2.0);
        assert_eq!(value(&out, "lat.count"), 100.0);
        assert_eq!(value(&out, "lat.mean"), 50.5);
        assert_eq!(value(&out, "lat.p50"), 51.0);
        assert_eq!(value(&out, "lat.p99"), 99.0);
        assert_eq!(value(&out, "lat.max"), 100.0);
        // Next interval: only the gauge carries over.
        let next = agg.flush(2000, 1.0);
        assert_eq!(next.len(), 1);
        assert_eq!(value(&next, "q"), 7.0);
    }

    #[test]
    fn tags_make_series_and_the_bound_holds() {
        let mut agg = Aggregator::new(2);
        feed(
            &mut agg,
            &[
                "a:1|c|#env:prod",
                "a:1|c|#env:dev",
                "a:1|c|#env:qa",
                "a:1|c|#env:prod",
            ],
        );
        assert_eq!(agg.series(), 2);
        assert_eq!(agg.dropped, 1);
        let out = agg.flush(0, 1.0);
        let prod = out
            .iter()
            .find(|s| s.tags.get("env").map(String::as_str) == Some("prod"));
        assert_eq!(prod.map(|s| s.value), Some(2.0));
    }

    #[test]
    fn a_flood_of_timer_values_keeps_a_bounded_sample_and_an_exact_count() {
        let mut agg = Aggregator::new(10);
        for v in 0..50_000 {
            feed(&mut agg, &[&format!("t:{}|h", v % 1000)]);
        }
        let out = agg.flush(0, 1.0);
        assert_eq!(value(&out, "t.count"), 50_000.0);
        let p50 = value(&out, "t.p50");
        assert!((400.0..600.0).contains(&p50), "{p50}");
    }
}
