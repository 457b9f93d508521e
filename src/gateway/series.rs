//! Every metric series' history in two tiers: a fine one (one slot a
//! second, an hour by default) and a coarse one (one a minute, a day by
//! default), each a ring of `f32` slots addressed by time, so a point costs
//! four bytes and its timestamp nothing. Bounded in series and in slots
//! overall; what a bound refuses is counted.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use crate::api::{Labels, Sample, Series, UnixMillis};

/// The bounds of the series store.
#[derive(Debug, Clone)]
pub struct SeriesLimits {
    pub max_series: usize,
    /// Slots of the fine tier per series, one a second.
    pub fine_slots: usize,
    /// Slots of the coarse tier per series, one a minute.
    pub coarse_slots: usize,
    /// Slots over every series and both tiers: memory is 4 bytes a slot.
    pub max_slots: usize,
    /// A series with no point for this long is forgotten.
    pub ttl_ms: i64,
}

impl Default for SeriesLimits {
    fn default() -> Self {
        SeriesLimits {
            max_series: 50_000,
            fine_slots: 3600,
            coarse_slots: 1440,
            max_slots: 16 << 20,
            ttl_ms: 10 * 60 * 1000,
        }
    }
}

pub const FINE_MS: i64 = 1000;
pub const COARSE_MS: i64 = 60_000;

/// One tier: slot `first + i` holds the value for time
/// `(first + i) * resolution`; `NaN` where no point came.
#[derive(Debug)]
struct Tier {
    resolution: i64,
    capacity: usize,
    first: i64,
    slots: VecDeque<f32>,
    /// The newest slot's sum and count (the coarse tier averages).
    sum: f64,
    count: u32,
}

impl Tier {
    fn new(resolution: i64, capacity: usize) -> Tier {
        Tier {
            resolution,
            capacity: capacity.max(1),
            first: 0,
            slots: VecDeque::new(),
            sum: 0.0,
            count: 0,
        }
    }

    fn last_slot(&self) -> i64 {
        self.first + self.slots.len() as i64 - 1
    }

    /// Puts a value at `ts`; `room` says whether the store may grow by a
    /// slot. Returns the change in slots held.
    fn put(&mut self, ts: UnixMillis, value: f64, room: bool) -> isize {
        let slot = ts.div_euclid(self.resolution);
        let before = self.slots.len() as isize;
        if self.slots.is_empty() || slot > self.last_slot() + self.capacity as i64 {
            // First point, or a silence longer than the tier: start over.
            self.slots.clear();
            self.first = slot;
            self.slots.push_back(f32::NAN);
            self.sum = 0.0;
            self.count = 0;
        } else if slot < self.first {
            return 0; // older than the tier holds
        }
        while self.last_slot() < slot {
            if self.slots.len() >= self.capacity || !room {
                self.slots.pop_front();
                self.first += 1;
            }
            self.slots.push_back(f32::NAN);
            self.sum = 0.0;
            self.count = 0;
        }
        let i = (slot - self.first) as usize;
        if slot == self.last_slot() {
            self.sum += value;
            self.count += 1;
            self.slots[i] = (self.sum / self.count as f64) as f32;
        } else {
            self.slots[i] = value as f32; // a late point for an old slot
        }
        self.slots.len() as isize - before
    }

    /// `(ts, value)` of the slots in `from..=to`, without the empty ones.
    fn points(
        &self,
        from: UnixMillis,
        to: UnixMillis,
    ) -> impl Iterator<Item = (UnixMillis, f64)> + '_ {
        self.slots.iter().enumerate().filter_map(move |(i, v)| {
            let ts = (self.first + i as i64) * self.resolution;
            (!v.is_nan() && ts >= from && ts <= to).then_some((ts, *v as f64))
        })
    }

    fn oldest(&self) -> Option<UnixMillis> {
        (!self.slots.is_empty()).then_some(self.first * self.resolution)
    }
}

/// A series' identity: its name and tags.
#[derive(PartialEq, Eq, Hash)]
struct SeriesId {
    name: String,
    tags: Labels,
}

/// A series' identity wherever it is held, so that a sample finds its
/// series by its own name and tags, with no key built for the lookup.
trait Identity {
    fn name(&self) -> &str;
    fn tags(&self) -> &Labels;
}

impl Identity for SeriesId {
    fn name(&self) -> &str {
        &self.name
    }
    fn tags(&self) -> &Labels {
        &self.tags
    }
}

impl Identity for Sample {
    fn name(&self) -> &str {
        &self.name
    }
    fn tags(&self) -> &Labels {
        &self.tags
    }
}

impl<'a> Borrow<dyn Identity + 'a> for SeriesId {
    fn borrow(&self) -> &(dyn Identity + 'a) {
        self
    }
}

// As `SeriesId`'s derived ones: the name, then the tags.
impl Hash for dyn Identity + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
        self.tags().hash(state);
    }
}

impl PartialEq for dyn Identity + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.tags() == other.tags()
    }
}

impl Eq for dyn Identity + '_ {}

struct Ring {
    unit: String,
    fine: Tier,
    coarse: Tier,
    last: (UnixMillis, f64),
    /// The metrics topic's sequence number of its last point: a subscriber
    /// that fell behind after a number is caught up with the series whose
    /// point is newer.
    changed: u64,
}

impl Ring {
    /// Takes a sample's point; returns the store's slots in use after it
    /// (`slots` before), within `max_slots`.
    fn put(&mut self, sample: &Sample, slots: usize, max_slots: usize) -> usize {
        let room = slots + 2 <= max_slots;
        let grown = self.fine.put(sample.ts, sample.value, room)
            + self.coarse.put(sample.ts, sample.value, room);
        if sample.ts >= self.last.0 {
            self.last = (sample.ts, sample.value);
        }
        slots.saturating_add_signed(grown)
    }

    fn slots(&self) -> usize {
        self.fine.slots.len() + self.coarse.slots.len()
    }
}

pub struct SeriesStore {
    series: HashMap<SeriesId, Ring>,
    limits: SeriesLimits,
    slots: usize,
    /// Samples refused because the store already held `max_series` series.
    pub dropped_samples: u64,
}

/// What the store holds, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeriesStats {
    pub series: usize,
    pub slots: usize,
    pub bytes: usize,
    pub dropped_samples: u64,
}

/// Memory per series beside its slots: its name and tags, the ring
/// structs and the hash table's share, roughly.
const SERIES_OVERHEAD: usize = 320;

impl SeriesStore {
    pub fn new(limits: SeriesLimits) -> Self {
        SeriesStore {
            series: HashMap::new(),
            limits,
            slots: 0,
            dropped_samples: 0,
        }
    }

    /// Keeps the sample, published as `seq`; false when it was dropped
    /// for want of room.
    pub fn push(&mut self, sample: &Sample, seq: u64) -> bool {
        if let Some(ring) = self.series.get_mut(sample as &dyn Identity) {
            self.slots = ring.put(sample, self.slots, self.limits.max_slots);
            ring.changed = seq;
            return true;
        }
        if self.series.len() >= self.limits.max_series {
            self.dropped_samples += 1;
            return false;
        }
        let mut ring = Ring {
            unit: sample.unit.clone(),
            fine: Tier::new(FINE_MS, self.limits.fine_slots),
            coarse: Tier::new(COARSE_MS, self.limits.coarse_slots),
            last: (sample.ts, sample.value),
            changed: seq,
        };
        self.slots = ring.put(sample, self.slots, self.limits.max_slots);
        let id = SeriesId {
            name: sample.name.clone(),
            tags: sample.tags.clone(),
        };
        self.series.insert(id, ring);
        true
    }

    /// Forgets series with no point since `cutoff` (a process that exited).
    pub fn expire(&mut self, cutoff: UnixMillis) {
        let mut freed = 0;
        self.series.retain(|_, ring| {
            let keep = ring.last.0 >= cutoff;
            if !keep {
                freed += ring.slots();
            }
            keep
        });
        self.slots -= freed;
    }

    pub fn stats(&self) -> SeriesStats {
        SeriesStats {
            series: self.series.len(),
            slots: self.slots,
            bytes: self.slots * 4 + self.series.len() * SERIES_OVERHEAD,
            dropped_samples: self.dropped_samples,
        }
    }

    /// The newest value of every wanted series with a point published
    /// after sequence number `after` (0: every one).
    pub fn latest<'a>(
        &'a self,
        after: u64,
        wanted: impl Fn(&str, &crate::api::Labels) -> bool + 'a,
    ) -> impl Iterator<Item = Sample> + 'a {
        self.series
            .iter()
            .filter(move |(id, ring)| ring.changed > after && wanted(&id.name, &id.tags))
            .map(|(id, ring)| Sample {
                name: id.name.clone(),
                tags: id.tags.clone(),
                ts: ring.last.0,
                value: ring.last.1,
                unit: ring.unit.clone(),
            })
    }

    /// Every wanted series with its last `points` fine points, for a
    /// stream snapshot.
    pub fn snapshot(
        &self,
        points: usize,
        wanted: impl Fn(&str, &crate::api::Labels) -> bool,
    ) -> Vec<Series> {
        let mut out: Vec<Series> = self
            .series
            .iter()
            .filter(|(id, _)| wanted(&id.name, &id.tags))
            .map(|(id, ring)| {
                let all: Vec<(UnixMillis, f64)> = ring.fine.points(i64::MIN, i64::MAX).collect();
                Series {
                    name: id.name.clone(),
                    tags: id.tags.clone(),
                    unit: ring.unit.clone(),
                    points: all[all.len().saturating_sub(points)..].to_vec(),
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.name, &a.tags).cmp(&(&b.name, &b.tags)));
        out
    }

    /// Every wanted series over `from..=to`, one point a `step` (the mean
    /// of the points in it), from the fine tier when it reaches back to
    /// `from`, else the coarse one. Steps with no point are left out.
    pub fn range(
        &self,
        from: UnixMillis,
        to: UnixMillis,
        step: i64,
        wanted: impl Fn(&str, &crate::api::Labels) -> bool,
    ) -> Vec<Series> {
        let step = step.max(1);
        let mut out: Vec<Series> = self
            .series
            .iter()
            .filter(|(id, _)| wanted(&id.name, &id.tags))
            .map(|(id, ring)| {
                let tier = if ring.fine.oldest().is_some_and(|o| o <= from) || step < COARSE_MS {
                    &ring.fine
                } else {
                    &ring.coarse
                };
                let mut points: Vec<(UnixMillis, f64)> = Vec::new();
                let mut bucket: Option<(i64, f64, u32)> = None;
                for (ts, v) in tier.points(from, to) {
                    let b = from + (ts - from) / step * step;
                    match &mut bucket {
                        Some((at, sum, n)) if *at == b => {
                            *sum += v;
                            *n += 1;
                        }
                        _ => {
                            if let Some((at, sum, n)) = bucket.take() {
                                points.push((at, sum / n as f64));
                            }
                            bucket = Some((b, v, 1));
                        }
                    }
                }
                if let Some((at, sum, n)) = bucket {
                    points.push((at, sum / n as f64));
                }
                Series {
                    name: id.name.clone(),
                    tags: id.tags.clone(),
                    unit: ring.unit.clone(),
                    points,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.name, &a.tags).cmp(&(&b.name, &b.tags)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, ts: i64, value: f64) -> Sample {
        Sample {
            name: name.into(),
            tags: Default::default(),
            ts,
            value,
            unit: String::new(),
        }
    }

    fn limits(max_series: usize, fine: usize, coarse: usize, max_slots: usize) -> SeriesLimits {
        SeriesLimits {
            max_series,
            fine_slots: fine,
            coarse_slots: coarse,
            max_slots,
            ttl_ms: 1000,
        }
    }

    #[test]
    fn latest_after_a_number_is_the_series_with_a_point_since() {
        let mut store = SeriesStore::new(SeriesLimits::default());
        store.push(&sample("a", 1000, 1.0), 1);
        store.push(&sample("b", 1000, 2.0), 2);
        store.push(&sample("a", 2000, 3.0), 3);
        store.push(&sample("c", 1000, 4.0), 4);
        let names = |after: u64| {
            let mut got: Vec<(String, f64)> = store
                .latest(after, |name, _| name != "c")
                .map(|s| (s.name, s.value))
                .collect();
            got.sort_by(|x, y| x.0.cmp(&y.0));
            got
        };
        assert_eq!(names(0), [("a".into(), 3.0), ("b".into(), 2.0)]);
        assert_eq!(names(2), [("a".to_string(), 3.0)]);
        assert!(names(4).is_empty());
    }

    #[test]
    fn bounded_in_slots_and_series() {
        let mut store = SeriesStore::new(limits(2, 3, 2, 1000));
        for s in 0..10 {
            assert!(store.push(&sample("a", s * 1000, s as f64), 1));
        }
        assert!(store.push(&sample("b", 0, 0.0), 1));
        assert!(
            !store.push(&sample("c", 0, 0.0), 1),
            "a third series is over the limit"
        );
        assert_eq!(store.dropped_samples, 1);
        let a = &store.snapshot(100, |n, _| n == "a")[0];
        assert_eq!(a.points, vec![(7000, 7.0), (8000, 8.0), (9000, 9.0)]);
        assert_eq!(
            store.stats().slots,
            3 + 1 + 1 + 1,
            "a: 3 fine, 1 coarse; b: 1 and 1"
        );
        store.expire(5000);
        assert_eq!(
            store.stats().series,
            1,
            "b's last point is older than the cutoff"
        );
        assert_eq!(store.stats().slots, 4);
    }

    #[test]
    fn the_fine_tier_steps_and_the_coarse_one_reaches_back() {
        let mut store = SeriesStore::new(limits(10, 120, 60, 10_000));
        // One point a second for an hour: value = the minute it is in.
        for s in 0..3600 {
            store.push(&sample("x", s * 1000, (s / 60) as f64), 1);
        }
        // The last minute, fine, in 10 s steps.
        let last = &store.range(3_540_000, 3_599_000, 10_000, |_, _| true)[0];
        assert_eq!(last.points.len(), 6);
        assert!(last.points.iter().all(|(_, v)| *v == 59.0));
        // The whole hour: the fine tier has forgotten it; the coarse has minutes.
        let hour = &store.range(0, 3_599_000, 60_000, |_, _| true)[0];
        assert_eq!(hour.points.len(), 60);
        assert_eq!(hour.points[0], (0, 0.0));
        assert_eq!(hour.points[59], (3_540_000, 59.0));
    }

    #[test]
    fn the_slot_budget_stops_growth_not_updates() {
        let mut store = SeriesStore::new(limits(100, 100, 10, 50));
        for s in 0..200 {
            for name in ["a", "b"] {
                store.push(&sample(name, s * 1000, s as f64), 1);
            }
        }
        assert!(store.stats().slots <= 50, "{:?}", store.stats());
        let a = &store.snapshot(1000, |n, _| n == "a")[0];
        assert_eq!(a.points.last(), Some(&(199_000, 199.0)), "still current");
        // A silence longer than the tier starts the series over.
        store.push(&sample("a", 10_000_000, 1.0), 1);
        assert_eq!(
            store.snapshot(1000, |n, _| n == "a")[0].points,
            vec![(10_000_000, 1.0)]
        );
    }

    #[test]
    fn a_million_series_stay_within_their_bounds_and_the_overflow_is_counted() {
        let mut store = SeriesStore::new(SeriesLimits::default());
        let mut tags = crate::api::Labels::new();
        for n in 0..1_000_000u32 {
            tags.insert("id".to_string(), n.to_string());
            store.push(
                &Sample {
                    name: "flood".into(),
                    tags: tags.clone(),
                    ts: 0,
                    value: 1.0,
                    unit: String::new(),
                },
                1,
            );
        }
        let stats = store.stats();
        assert_eq!(stats.series, SeriesLimits::default().max_series);
        assert_eq!(stats.dropped_samples, 1_000_000 - stats.series as u64);
        assert!(stats.bytes < 64 << 20, "{stats:?}");
    }
}
