//! The dashboard's series as the console holds them: fed by its
//! subscription's snapshot and samples and by range reads, bounded in
//! series and in points.

use std::collections::{HashMap, VecDeque};

use crate::api::{Sample, Series, UnixMillis, series_key};

/// Series the console keeps for the dashboard at most; beyond, counted.
pub const MAX_SERIES: usize = 5000;
/// Points a series keeps at most: a window is kept at about 600 points.
const MAX_POINTS: usize = 1000;

#[derive(Debug, Clone)]
pub struct CachedSeries {
    pub name: String,
    pub tags: crate::api::Labels,
    pub points: VecDeque<(UnixMillis, f64)>,
}

/// The dashboard's series, fed by its subscription's snapshot and
/// samples and by range reads for windows longer than the snapshot.
#[derive(Debug, Default)]
pub struct SeriesCache {
    pub(in crate::tui::dash) series: HashMap<String, CachedSeries>,
    /// Series not kept because [`MAX_SERIES`] were held.
    pub refused: usize,
    /// Points closer together than this share one (the newest wins).
    pub resolution: i64,
}

impl SeriesCache {
    pub fn clear(&mut self) {
        self.series.clear();
        self.refused = 0;
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    fn entry(&mut self, name: &str, tags: &crate::api::Labels) -> Option<&mut CachedSeries> {
        let key = series_key(name, tags);
        if !self.series.contains_key(&key) && self.series.len() >= MAX_SERIES {
            self.refused += 1;
            return None;
        }
        Some(self.series.entry(key).or_insert_with(|| CachedSeries {
            name: name.to_string(),
            tags: tags.clone(),
            points: VecDeque::new(),
        }))
    }

    fn put(points: &mut VecDeque<(UnixMillis, f64)>, ts: UnixMillis, v: f64, resolution: i64) {
        let resolution = resolution.max(1);
        match points.back_mut() {
            Some(last) if ts < last.0 => {} // late and out of order: dropped
            // The same slot of the resolution: the newest point stands for it.
            Some(last) if ts.div_euclid(resolution) == last.0.div_euclid(resolution) => {
                *last = (ts, v)
            }
            _ => {
                if points.len() == MAX_POINTS {
                    points.pop_front();
                }
                points.push_back((ts, v));
            }
        }
    }

    pub fn push(&mut self, sample: &Sample) {
        let resolution = self.resolution;
        if let Some(s) = self.entry(&sample.name, &sample.tags) {
            Self::put(&mut s.points, sample.ts, sample.value, resolution);
        }
    }

    /// Merges a series from a snapshot or a range read: its points older
    /// than what is held go in front.
    pub fn merge(&mut self, series: Series) {
        let resolution = self.resolution;
        let Some(s) = self.entry(&series.name, &series.tags) else {
            return;
        };
        let first = s.points.front().map_or(UnixMillis::MAX, |p| p.0);
        let mut older = VecDeque::new();
        for (ts, v) in series.points.into_iter().filter(|(ts, _)| *ts < first) {
            Self::put(&mut older, ts, v, resolution);
        }
        older.extend(s.points.drain(..));
        while older.len() > MAX_POINTS {
            older.pop_front();
        }
        s.points = older;
    }

    pub fn of<'a>(&'a self, metric: &'a str) -> impl Iterator<Item = &'a CachedSeries> + 'a {
        self.series.values().filter(move |s| s.name == metric)
    }
}
