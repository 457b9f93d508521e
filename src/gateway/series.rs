//! Recent points of every metric series, bounded in series and in points.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::api::{Sample, Series, UnixMillis};

struct Ring {
    name: String,
    tags: BTreeMap<String, String>,
    unit: String,
    points: VecDeque<(UnixMillis, f64)>,
}

pub struct SeriesStore {
    series: HashMap<String, Ring>,
    max_series: usize,
    max_points: usize,
    /// Samples refused because the store already held `max_series` series.
    pub dropped_samples: u64,
}

impl SeriesStore {
    pub fn new(max_series: usize, max_points: usize) -> Self {
        SeriesStore {
            series: HashMap::new(),
            max_series,
            max_points: max_points.max(1),
            dropped_samples: 0,
        }
    }

    /// Keeps the sample; false when it was dropped for want of room.
    pub fn push(&mut self, sample: &Sample) -> bool {
        let key = sample.series_key();
        let max_points = self.max_points;
        if !self.series.contains_key(&key) && self.series.len() >= self.max_series {
            self.dropped_samples += 1;
            return false;
        }
        let ring = self.series.entry(key).or_insert_with(|| Ring {
            name: sample.name.clone(),
            tags: sample.tags.clone(),
            unit: sample.unit.clone(),
            points: VecDeque::with_capacity(max_points.min(64)),
        });
        if ring.points.len() == max_points {
            ring.points.pop_front();
        }
        ring.points.push_back((sample.ts, sample.value));
        true
    }

    /// Forgets series with no point since `cutoff` (a process that exited).
    pub fn expire(&mut self, cutoff: UnixMillis) {
        self.series
            .retain(|_, ring| ring.points.back().is_some_and(|(ts, _)| *ts >= cutoff));
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    pub fn points(&self) -> usize {
        self.series.values().map(|r| r.points.len()).sum()
    }

    /// The newest value of every series, for the Prometheus exposition.
    pub fn latest(&self) -> impl Iterator<Item = (&str, &BTreeMap<String, String>, f64)> {
        self.series.values().filter_map(|ring| {
            ring.points
                .back()
                .map(|(_, v)| (ring.name.as_str(), &ring.tags, *v))
        })
    }

    pub fn snapshot(
        &self,
        wanted: impl Fn(&str, &BTreeMap<String, String>) -> bool,
    ) -> Vec<Series> {
        let mut out: Vec<Series> = self
            .series
            .values()
            .filter(|ring| wanted(&ring.name, &ring.tags))
            .map(|ring| Series {
                name: ring.name.clone(),
                tags: ring.tags.clone(),
                unit: ring.unit.clone(),
                points: ring.points.iter().copied().collect(),
            })
            .collect();
        out.sort_by(|a, b| (&a.name, &a.tags).cmp(&(&b.name, &b.tags)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, ts: i64) -> Sample {
        Sample {
            name: name.into(),
            tags: BTreeMap::new(),
            ts,
            value: ts as f64,
            unit: String::new(),
        }
    }

    #[test]
    fn bounded_in_points_and_series() {
        let mut store = SeriesStore::new(2, 3);
        for ts in 0..10 {
            assert!(store.push(&sample("a", ts)));
        }
        assert!(store.push(&sample("b", 0)));
        assert!(
            !store.push(&sample("c", 0)),
            "a third series is over the limit"
        );
        assert_eq!(store.dropped_samples, 1);
        assert_eq!(store.points(), 4);
        let a = &store.snapshot(|n, _| n == "a")[0];
        assert_eq!(a.points, vec![(7, 7.0), (8, 8.0), (9, 9.0)]);
        store.expire(5);
        assert_eq!(
            store.series_count(),
            1,
            "b's last point is older than the cutoff"
        );
    }
}
