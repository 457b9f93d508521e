//! What each recorded subscription holds at a moment, kept message by
//! message as a client keeps it, so the recorder can write a keyframe:
//! one snapshot a subscription, which a replay applies as it would a
//! reconnect's. Bounded as the console is: the newest log lines and audit
//! records, a check's recent results, a series' recent points, the newest
//! traces.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::api::{CHECK_HISTORY, Op, Record, Series, ServerMsg};

/// Log lines and audit records a keyframe carries, at most.
pub const TAIL: usize = 2000;
/// Traces a keyframe carries, at most: the newest, as the console keeps.
pub const TRACES: usize = 1000;
/// Points of a series a keyframe carries, at most, unless its
/// subscription asked for fewer (`Filter::points`).
pub const POINTS: usize = 300;

#[derive(Default)]
struct SubState {
    /// Points a series keeps (0 until known: then [`POINTS`]).
    points: usize,
    seq: u64,
    epoch: String,
    /// By id: nodes, tasks, checks, traces, series.
    items: BTreeMap<String, Record>,
    /// In order, the newest last: log lines, audit records.
    tail: VecDeque<Record>,
    /// Parts of a snapshot are coming: the first cleared what was held.
    in_snapshot: bool,
}

/// Every subscription's state, by its name.
#[derive(Default)]
pub struct States {
    subs: HashMap<String, SubState>,
}

impl States {
    /// Knows the recorded subscriptions: a series keeps as many points as
    /// its subscription asked for.
    pub fn new(subscriptions: &[super::format::RecordedSub]) -> States {
        let mut states = States::default();
        for s in subscriptions {
            states.subs.entry(s.sub.clone()).or_default().points =
                s.filter.points.unwrap_or(POINTS).min(POINTS);
        }
        states
    }

    pub fn apply(&mut self, msg: &ServerMsg) {
        match msg {
            ServerMsg::Snapshot {
                sub,
                seq,
                epoch,
                items,
                more,
            } => {
                let state = self.subs.entry(sub.clone()).or_default();
                if !state.in_snapshot {
                    state.items.clear();
                    state.tail.clear();
                }
                state.in_snapshot = *more;
                state.seq = *seq;
                state.epoch.clone_from(epoch);
                for item in items {
                    state.keep(Op::Added, item.clone());
                }
            }
            ServerMsg::Event { sub, events } => {
                let state = self.subs.entry(sub.clone()).or_default();
                for e in events {
                    state.seq = state.seq.max(e.seq);
                    state.keep(e.op, e.data.clone());
                }
            }
            ServerMsg::Resync { sub } => {
                if let Some(state) = self.subs.get_mut(sub) {
                    state.items.clear();
                    state.tail.clear();
                    state.in_snapshot = false;
                }
            }
            _ => {}
        }
    }

    /// A snapshot of every subscription, by name.
    pub fn keyframe(&self) -> Vec<ServerMsg> {
        let mut names: Vec<&String> = self.subs.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|sub| {
                let state = &self.subs[sub];
                let items = state
                    .items
                    .values()
                    .chain(state.tail.iter())
                    .cloned()
                    .collect();
                ServerMsg::Snapshot {
                    sub: sub.clone(),
                    seq: state.seq,
                    epoch: state.epoch.clone(),
                    items,
                    more: false,
                }
            })
            .collect()
    }
}

impl SubState {
    fn keep(&mut self, op: Op, record: Record) {
        match record {
            Record::Log(_) | Record::Audit(_) => {
                if self.tail.len() == TAIL {
                    self.tail.pop_front();
                }
                self.tail.push_back(record);
            }
            Record::Sample(s) => {
                let points = self.points();
                let key = s.series_key();
                let held = self.items.entry(key).or_insert_with(|| {
                    Record::Series(Series {
                        name: s.name.clone(),
                        tags: s.tags.clone(),
                        unit: s.unit.clone(),
                        points: Vec::new(),
                    })
                });
                if let Record::Series(series) = held {
                    series.points.push((s.ts, s.value));
                    let over = series.points.len().saturating_sub(points);
                    series.points.drain(..over);
                }
            }
            Record::Series(mut s) => {
                let over = s.points.len().saturating_sub(self.points());
                s.points.drain(..over);
                self.items.insert(s.series_key(), Record::Series(s));
            }
            Record::Check(mut check) => {
                // An update carries its newest result only (see the
                // console's model): it joins the history held.
                if op == Op::Updated
                    && let Some(Record::Check(held)) = self.items.get_mut(&check.id)
                {
                    let mut history = std::mem::take(&mut held.history);
                    history.append(&mut check.history);
                    let over = history.len().saturating_sub(CHECK_HISTORY);
                    history.drain(..over);
                    check.history = history;
                }
                self.by_id(op, check.id.clone(), Record::Check(check));
            }
            Record::Node(ref n) => self.by_id(op, n.id.clone(), record),
            Record::Task(ref t) => self.by_id(op, t.id.clone(), record),
            Record::Trace(ref t) => {
                self.by_id(op, t.trace_id.clone(), record);
                self.bound_traces();
            }
        }
    }

    /// The newest [`TRACES`] traces, as the console keeps them (a gateway
    /// does not say when it lets one go): the oldest eighth over the
    /// bound at a time.
    fn bound_traces(&mut self) {
        if self.items.len() <= TRACES + TRACES / 8 {
            return;
        }
        let mut starts: Vec<(u64, String)> = self
            .items
            .iter()
            .filter_map(|(id, r)| match r {
                Record::Trace(t) => Some((t.start, id.clone())),
                _ => None,
            })
            .collect();
        starts.sort_unstable();
        let over = starts.len().saturating_sub(TRACES);
        for (_, id) in &starts[..over] {
            self.items.remove(id);
        }
    }

    fn points(&self) -> usize {
        if self.points == 0 {
            POINTS
        } else {
            self.points
        }
    }

    fn by_id(&mut self, op: Op, id: String, record: Record) {
        if op == Op::Removed {
            self.items.remove(&id);
        } else {
            self.items.insert(id, record);
        }
    }
}
