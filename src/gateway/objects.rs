//! The nodes or the tasks the gateway holds, each with the sequence number
//! of its last change, and the ones lately gone: what a snapshot is made
//! of, and what catches up a subscriber that fell behind with the current
//! state of what changed, instead of a gap and a whole new snapshot.

use std::collections::{HashMap, VecDeque};

use super::topic::TopicHub;
use crate::api::{Op, Record, UnixMillis};

/// Removals remembered for catch-ups. A subscriber that fell behind by
/// more than this many removals gets a fresh snapshot instead.
pub const GONE_KEPT: usize = 4096;

pub struct Objects<T> {
    /// By id, in no order: the item and the sequence number of its last
    /// change. (A lookup by hash beats a tree's string compares here: ids
    /// of one app share long prefixes.)
    items: HashMap<String, Held<T>>,
    /// (sequence number, item, when) of removals, oldest first.
    gone: VecDeque<(u64, T, UnixMillis)>,
    /// Removals up to this sequence number are no longer all in `gone`.
    forgotten: u64,
    /// Counts readings, to tell the items a reading left out.
    reading: u64,
}

struct Held<T> {
    seq: u64,
    item: T,
    /// The last reading that held the item.
    reading: u64,
}

impl<T> Default for Objects<T> {
    fn default() -> Self {
        Objects {
            items: HashMap::new(),
            gone: VecDeque::new(),
            forgotten: 0,
            reading: 0,
        }
    }
}

impl<T: Clone> Objects<T> {
    pub fn get(&self, id: &str) -> Option<&T> {
        self.items.get(id).map(|held| &held.item)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.items.values().map(|held| &held.item)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Replaces the items with `latest`, publishing what was added,
    /// removed, or changed in a way `same` does not overlook. The latest
    /// reading is kept either way, so snapshots are current. Items are
    /// updated in place: a reading of 10,000 tasks that changed nothing
    /// costs a lookup each, with no key moved or allocated.
    pub fn replace(
        &mut self,
        latest: Vec<T>,
        id: fn(&T) -> &String,
        mut same: impl FnMut(&T, &T) -> bool,
        record: fn(T) -> Record,
        hub: &mut TopicHub,
        now: UnixMillis,
    ) {
        self.reading += 1;
        let reading = self.reading;
        let mut held_now = 0;
        for item in latest {
            match self.items.get_mut(id(&item)) {
                None => {
                    hub.publish(Op::Added, record(item.clone()));
                    let held = Held {
                        seq: hub.seq(),
                        item,
                        reading,
                    };
                    self.items.insert(id(&held.item).clone(), held);
                    held_now += 1;
                }
                Some(held) => {
                    if !same(&held.item, &item) {
                        hub.publish(Op::Updated, record(item.clone()));
                        held.seq = hub.seq();
                    }
                    if held.reading != reading {
                        held_now += 1;
                    }
                    held.item = item;
                    held.reading = reading;
                }
            }
        }
        if held_now == self.items.len() {
            return;
        }
        let mut gone: Vec<T> = self
            .items
            .extract_if(|_, held| held.reading != reading)
            .map(|(_, held)| held.item)
            .collect();
        // By id, as before the map was a hash: the same reading gives the
        // same events.
        gone.sort_unstable_by(|a, b| id(a).cmp(id(b)));
        for gone in gone {
            hub.publish(Op::Removed, record(gone.clone()));
            if self.gone.len() == GONE_KEPT
                && let Some((seq, ..)) = self.gone.pop_front()
            {
                self.forgotten = seq;
            }
            self.gone.push_back((hub.seq(), gone, now));
        }
    }

    /// The items lately removed (the newest [`GONE_KEPT`]) as they last
    /// stood, each with when, oldest first.
    pub fn gone(&self) -> impl Iterator<Item = (&T, UnixMillis)> {
        self.gone.iter().map(|(_, item, at)| (item, *at))
    }

    /// What changed after `since`, as it is now, in sequence order: the
    /// items changed since (as updates) and the ones gone since (as
    /// removals). `None` when some removals since are forgotten.
    pub fn since(&self, since: u64) -> Option<Vec<(u64, Op, T)>> {
        if since < self.forgotten {
            return None;
        }
        let mut changed: Vec<(u64, Op, T)> = self
            .items
            .values()
            .filter(|held| held.seq > since)
            .map(|held| (held.seq, Op::Updated, held.item.clone()))
            .collect();
        let first_gone = self.gone.partition_point(|(seq, ..)| *seq <= since);
        changed.extend(
            self.gone
                .range(first_gone..)
                .map(|(seq, item, _)| (*seq, Op::Removed, item.clone())),
        );
        changed.sort_by_key(|(seq, ..)| *seq);
        Some(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Sample;

    fn item(id: &str, value: f64) -> Sample {
        Sample {
            name: id.into(),
            tags: Default::default(),
            ts: 0,
            value,
            unit: String::new(),
        }
    }

    fn apply(objects: &mut Objects<Sample>, hub: &mut TopicHub, items: &[(&str, f64)]) {
        let latest = items.iter().map(|(id, v)| item(id, *v)).collect();
        objects.replace(latest, |s| &s.name, |a, b| a == b, Record::Sample, hub, 0);
    }

    fn changes(objects: &Objects<Sample>, since: u64) -> Option<Vec<(u64, Op, String, f64)>> {
        Some(
            objects
                .since(since)?
                .into_iter()
                .map(|(seq, op, s)| (seq, op, s.name, s.value))
                .collect(),
        )
    }

    #[test]
    fn a_catch_up_is_the_current_state_of_what_changed_in_order() {
        let mut hub = TopicHub::new(16, 16, usize::MAX);
        let mut objects = Objects::default();
        apply(
            &mut objects,
            &mut hub,
            &[("a", 1.0), ("b", 1.0), ("c", 1.0)],
        ); // seq 1-3
        apply(&mut objects, &mut hub, &[("a", 2.0), ("b", 1.0)]); // a 4, c gone 5
        apply(
            &mut objects,
            &mut hub,
            &[("a", 3.0), ("b", 1.0), ("c", 9.0)],
        ); // a 6, c 7
        assert_eq!(hub.seq(), 7);
        assert_eq!(
            changes(&objects, 3).unwrap(),
            [
                (5, Op::Removed, "c".into(), 1.0),
                (6, Op::Updated, "a".into(), 3.0),
                (7, Op::Updated, "c".into(), 9.0),
            ],
            "a twice changed comes once, as it is now; c went and came back"
        );
        assert_eq!(changes(&objects, 7).unwrap(), []);
        assert_eq!(objects.get("a").map(|s| s.value), Some(3.0));
    }

    #[test]
    fn removals_past_what_is_kept_ask_for_a_snapshot() {
        let mut hub = TopicHub::new(16, 16, usize::MAX);
        let mut objects = Objects::default();
        for i in 0..=GONE_KEPT {
            apply(&mut objects, &mut hub, &[(&format!("x{i}"), 0.0)]);
        }
        apply(&mut objects, &mut hub, &[]);
        // Every item came and went: 2 × (GONE_KEPT + 1) events, and the
        // first removal (seq 3) is forgotten.
        assert!(objects.since(0).is_none());
        assert!(objects.since(2).is_none());
        assert!(objects.since(3).is_some());
    }
}
