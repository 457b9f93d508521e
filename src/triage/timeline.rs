//! What happened, minute by minute: the signals triage reads, kept as they
//! arrive in per-minute buckets by the time they happened (not the time
//! they arrived, so the order of arrival changes nothing). Every bucket and
//! map is bounded; what a bound drops is counted and said.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::signal::size_of;
pub use super::signal::{Lane, Line, Signal, Subject, What};
use super::task_cpu::{CpuSample, TaskCpus};
use crate::api::{TaskState, UnixMillis};

/// Minutes held: a 6-hour window and its baseline of 4 windows.
pub const MAX_MINUTES: usize = 30 * 60;
/// Discrete signals one minute holds at most.
const MAX_SIGNALS_PER_MINUTE: usize = 2_000;
/// Error sources, signatures and trace operations one minute holds at most.
const MAX_KEYS_PER_MINUTE: usize = 500;
/// Metric series followed at most (a node's CPU, memory, disk).
const MAX_METRIC_SERIES: usize = 4_000;
/// Node names kept for titles, at most.
pub const MAX_NODE_NAMES: usize = 100_000;
/// Memory the buckets may take (an estimate); past it the oldest minutes
/// go, and the header's "held since" moves.
pub const MAX_BYTES: usize = 64 << 20;
/// Minutes of metric means held: a 1-hour window and its baseline.
pub const METRIC_MINUTES: usize = 5 * 60;

pub const MINUTE: UnixMillis = 60_000;

/// One error signature's minute: how often, and its first line.
#[derive(Debug, Clone)]
pub struct Seen {
    pub count: u32,
    pub first: Line,
}

/// One service operation's traces in a minute.
#[derive(Debug, Clone, Default)]
pub struct TraceMinute {
    pub count: u32,
    pub errors: u32,
    /// Durations' sum, microseconds.
    pub duration_sum_us: u64,
    /// The slowest trace, and one with an error, as evidence.
    pub slowest: Option<(u64, String)>,
    pub error_trace: Option<String>,
    /// Errors by signature (see `signature`). At most
    /// [`TRACE_SIGNATURES`] an operation a minute.
    pub signatures: BTreeMap<String, TraceError>,
}

/// One way traces failed in a minute: how often, and the first time's
/// text, trace and where it happened.
#[derive(Debug, Clone, Default)]
pub struct TraceError {
    pub count: u32,
    pub text: String,
    pub trace: String,
    pub subject: Subject,
}

/// Error signatures kept per operation and minute.
pub const TRACE_SIGNATURES: usize = 8;

/// One group's tasks that ended one way (see [`why_ended`]) in one
/// minute: at 10,000 tasks they are thousands a quarter hour, so they are
/// counted as they come, not kept one by one.
#[derive(Debug, Clone, Default)]
pub struct Ended {
    pub count: u32,
    /// The first few, by time and then task, whatever order they came in.
    pub examples: Vec<Signal>,
    /// The nodes they ended on: the first few by name, and whether there
    /// were more.
    pub nodes: BTreeSet<String>,
    pub more_nodes: bool,
    /// The tasks, likewise (a pod restarting is one task ending again).
    pub tasks: BTreeSet<String>,
    pub more_tasks: bool,
    pub last: UnixMillis,
}

/// Examples and nodes an [`Ended`] keeps.
const ENDED_EXAMPLES: usize = 5;
const ENDED_NODES: usize = 8;

/// Why a task ended, as far as telling stories apart goes: its state and
/// its message's signature (an OOM kill and a lost agent are two stories).
pub fn why_ended(state: TaskState, message: &str) -> String {
    format!(
        "{} {}",
        state.as_str(),
        super::signature::signature(message)
    )
}

#[derive(Debug, Default)]
pub struct Bucket {
    pub signals: Vec<Signal>,
    /// Task endings by (group, why).
    pub endings: HashMap<(String, String), Ended>,
    /// Error lines by source.
    pub errors: HashMap<String, u32>,
    /// Error lines by signature.
    pub signatures: HashMap<String, Seen>,
    /// Traces by (service, operation).
    pub traces: HashMap<(String, String), TraceMinute>,
    /// Events per lane, for the heat strips.
    pub lanes: [u32; 6],
    /// About how much memory it holds.
    bytes: usize,
}

/// A metric's per-minute means.
#[derive(Debug, Default)]
pub struct MetricMinutes {
    /// The newest sample's time: a snapshot's repeat of older points is
    /// not counted twice.
    pub newest: UnixMillis,
    /// Minute number of `sums[0]`.
    pub first: i64,
    /// (sum, count) per minute.
    pub sums: VecDeque<(f64, u32)>,
}

impl MetricMinutes {
    /// The mean of `minute`, if anything came in it.
    pub fn mean(&self, minute: i64) -> Option<f64> {
        let i = usize::try_from(minute - self.first).ok()?;
        let (sum, n) = *self.sums.get(i)?;
        (n > 0).then(|| sum / n as f64)
    }
}

/// A metric series: its name and the node it is of.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricKey {
    pub name: String,
    pub node: String,
}

#[derive(Debug, Default)]
pub struct Timeline {
    /// Minute number (`ms / 60 000`) of `buckets[0]`.
    first: i64,
    buckets: VecDeque<Bucket>,
    pub metrics: HashMap<MetricKey, MetricMinutes>,
    /// The earliest time anything held happened.
    pub held_since: Option<UnixMillis>,
    /// What the bounds dropped.
    pub dropped: u64,
    /// About how much memory the buckets hold, and may (`None`:
    /// [`MAX_BYTES`]).
    bytes: usize,
    budget: Option<usize>,
    /// Bumped on every change, so a view recomputes only then.
    pub generation: u64,
    /// Each group's version as last seen, to tell a rollout.
    versions: HashMap<String, String>,
    /// Node names by id, for titles.
    pub node_names: HashMap<String, String>,
    /// Each task's CPU, to tell a noisy neighbour.
    pub task_cpu: TaskCpus,
}

pub fn minute_of(at: UnixMillis) -> i64 {
    at.div_euclid(MINUTE)
}

impl Timeline {
    /// A timeline that holds about `bytes` at most.
    pub fn with_budget(bytes: usize) -> Timeline {
        Timeline {
            budget: Some(bytes),
            ..Default::default()
        }
    }

    /// About how much memory the buckets hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The bucket of `minute`, made (and the oldest dropped) if need be;
    /// `None` for a minute older than what is held.
    fn bucket(&mut self, minute: i64) -> Option<&mut Bucket> {
        if self.buckets.is_empty() {
            self.first = minute;
        }
        if minute < self.first {
            // Older than the oldest held: room at the front while the
            // whole stays within its bound.
            let missing = (self.first - minute) as usize;
            if self.buckets.len() + missing > MAX_MINUTES {
                return None;
            }
            for _ in 0..missing {
                self.buckets.push_front(Bucket::default());
            }
            self.first = minute;
        }
        let last = self.first + self.buckets.len() as i64 - 1;
        if minute > last {
            let more = (minute - last) as usize;
            if more >= MAX_MINUTES {
                self.buckets.clear();
                self.bytes = 0;
                self.first = minute;
                self.buckets.push_back(Bucket::default());
            } else {
                for _ in 0..more {
                    self.buckets.push_back(Bucket::default());
                }
            }
            while self.buckets.len() > MAX_MINUTES {
                self.drop_oldest();
            }
        }
        self.buckets.get_mut((minute - self.first) as usize)
    }

    fn drop_oldest(&mut self) {
        if let Some(gone) = self.buckets.pop_front() {
            self.bytes -= gone.bytes;
            self.first += 1;
            let first = self.first * MINUTE;
            self.held_since = self.held_since.map(|h| h.max(first));
        }
    }

    /// `bytes` more in `minute`'s bucket; past [`MAX_BYTES`] the oldest
    /// minutes go.
    fn grew(&mut self, minute: i64, bytes: usize) {
        if let Some(bucket) = usize::try_from(minute - self.first)
            .ok()
            .and_then(|i| self.buckets.get_mut(i))
        {
            bucket.bytes += bytes;
            self.bytes += bytes;
        }
        while self.bytes > self.budget.unwrap_or(MAX_BYTES) && self.buckets.len() > 1 {
            self.drop_oldest();
        }
    }

    /// The buckets from minute `from` up to (not including) `to`, with
    /// their minute numbers.
    pub fn minutes(&self, from: i64, to: i64) -> impl Iterator<Item = (i64, &Bucket)> {
        let start = (from - self.first).max(0) as usize;
        let end = ((to - self.first).max(0) as usize).min(self.buckets.len());
        (start..end.max(start)).map(move |i| (self.first + i as i64, &self.buckets[i]))
    }

    /// Whether `at` is a time this timeline may hold: not in the future.
    fn admits(&mut self, at: UnixMillis, now: UnixMillis) -> bool {
        if at > now + MINUTE {
            self.dropped += 1;
            return false;
        }
        self.held_since = Some(self.held_since.map_or(at, |h| h.min(at)));
        self.generation += 1;
        true
    }

    pub fn note(&mut self, signal: Signal, now: UnixMillis) {
        if !self.admits(signal.at, now) {
            return;
        }
        let lane = signal.what.lane() as usize;
        let minute = minute_of(signal.at);
        let size = size_of(&signal);
        let Some(bucket) = self.bucket(minute) else {
            self.dropped += 1;
            return;
        };
        bucket.lanes[lane] += 1;
        if let What::TaskEnded { state, message, .. } = &signal.what {
            let group = signal
                .subject
                .group
                .clone()
                .or_else(|| signal.subject.task.clone())
                .unwrap_or_default();
            let key = (group, why_ended(*state, message));
            if !bucket.endings.contains_key(&key) && bucket.endings.len() >= MAX_KEYS_PER_MINUTE {
                self.dropped += 1;
                return;
            }
            let ended = bucket.endings.entry(key).or_default();
            ended.count += 1;
            ended.last = ended.last.max(signal.at);
            if let Some(node) = &signal.subject.node {
                ended.nodes.insert(node.clone());
                if ended.nodes.len() > ENDED_NODES {
                    ended.nodes.pop_last();
                    ended.more_nodes = true;
                }
            }
            if let Some(task) = &signal.subject.task {
                ended.tasks.insert(task.clone());
                if ended.tasks.len() > ENDED_NODES {
                    ended.tasks.pop_last();
                    ended.more_tasks = true;
                }
            }
            let kept = ended.examples.len() < ENDED_EXAMPLES;
            ended.examples.push(signal);
            ended
                .examples
                .sort_by(|a, b| (a.at, &a.subject.task).cmp(&(b.at, &b.subject.task)));
            ended.examples.truncate(ENDED_EXAMPLES);
            if kept {
                self.grew(minute, size);
            }
            return;
        }
        if bucket.signals.len() >= MAX_SIGNALS_PER_MINUTE {
            self.dropped += 1;
            return;
        }
        bucket.signals.push(signal);
        self.grew(minute, size);
    }

    /// An error line (priority err or worse).
    pub fn note_error(&mut self, line: Line, now: UnixMillis) {
        if !self.admits(line.at, now) {
            return;
        }
        let signature = super::signature::signature(&line.message);
        let minute = minute_of(line.at);
        let mut size = 0;
        let Some(bucket) = self.bucket(minute) else {
            self.dropped += 1;
            return;
        };
        bucket.lanes[Lane::Logs as usize] += 1;
        let mut dropped = 0;
        let room = bucket.errors.len() < MAX_KEYS_PER_MINUTE;
        match bucket.errors.get_mut(&line.source) {
            Some(n) => *n += 1,
            None if room => {
                size += 64 + line.source.len();
                bucket.errors.insert(line.source.clone(), 1);
            }
            None => dropped += 1,
        }
        let room = bucket.signatures.len() < MAX_KEYS_PER_MINUTE;
        match bucket.signatures.get_mut(&signature) {
            Some(seen) => {
                seen.count += 1;
                if line.at < seen.first.at {
                    seen.first = line;
                }
            }
            None if room => {
                size += 200 + signature.len() + line.message.len() + line.source.len();
                bucket.signatures.insert(
                    signature,
                    Seen {
                        count: 1,
                        first: line,
                    },
                );
            }
            None => dropped += 1,
        }
        self.dropped += dropped;
        self.grew(minute, size);
    }

    /// A trace, by its root's service and operation.
    /// A trace's summary; `failed_in` is where its first error happened
    /// (the error span's task, as the console holds it).
    pub fn note_trace(
        &mut self,
        summary: &crate::api::TraceSummary,
        failed_in: Subject,
        now: UnixMillis,
    ) {
        let at = (summary.start / 1_000_000) as UnixMillis;
        if !self.admits(at, now) {
            return;
        }
        let minute = minute_of(at);
        let Some(bucket) = self.bucket(minute) else {
            self.dropped += 1;
            return;
        };
        bucket.lanes[Lane::Traces as usize] += 1;
        let key = (summary.root_service.clone(), summary.root_operation.clone());
        if !bucket.traces.contains_key(&key) && bucket.traces.len() >= MAX_KEYS_PER_MINUTE {
            self.dropped += 1;
            return;
        }
        let size = if bucket.traces.contains_key(&key) {
            0
        } else {
            150 + key.0.len() + key.1.len() + summary.trace_id.len() * 2
        };
        let op = bucket.traces.entry(key).or_default();
        let us = summary.duration / 1000;
        op.count += 1;
        op.duration_sum_us += us;
        if op.slowest.as_ref().is_none_or(|(d, _)| us > *d) {
            op.slowest = Some((us, summary.trace_id.clone()));
        }
        let mut size = size;
        if summary.errors > 0 {
            op.errors += 1;
            op.error_trace
                .get_or_insert_with(|| summary.trace_id.clone());
            if let Some(error) = &summary.error {
                let sig = super::signature::signature(error);
                let room = op.signatures.len() < TRACE_SIGNATURES;
                match op.signatures.get_mut(&sig) {
                    Some(seen) => seen.count += 1,
                    None if room => {
                        size += 150 + sig.len() + error.len() + summary.trace_id.len();
                        let seen = TraceError {
                            count: 1,
                            text: error.clone(),
                            trace: summary.trace_id.clone(),
                            subject: failed_in,
                        };
                        op.signatures.insert(sig, seen);
                    }
                    None => self.dropped += 1,
                }
            }
        }
        self.grew(minute, size);
    }

    /// A node metric's value.
    pub fn note_metric(&mut self, key: &MetricKey, at: UnixMillis, value: f64, now: UnixMillis) {
        if !value.is_finite() || at > now + MINUTE {
            return;
        }
        let minute = minute_of(at);
        if !self.metrics.contains_key(key) {
            if self.metrics.len() >= MAX_METRIC_SERIES {
                self.dropped += 1;
                return;
            }
            self.metrics.insert(
                key.clone(),
                MetricMinutes {
                    newest: UnixMillis::MIN,
                    first: minute,
                    sums: VecDeque::new(),
                },
            );
        }
        let Some(series) = self.metrics.get_mut(key) else {
            return;
        };
        if at <= series.newest && !series.sums.is_empty() {
            return;
        }
        series.newest = at;
        if series.sums.is_empty() || minute < series.first {
            if !series.sums.is_empty() {
                return; // older than held: a backfill's overlap
            }
            series.first = minute;
        }
        let i = (minute - series.first) as usize;
        if i >= series.sums.len() {
            if i - series.sums.len() >= METRIC_MINUTES {
                series.sums.clear();
                series.first = minute;
            }
            let i = (minute - series.first) as usize;
            series.sums.resize(i + 1, (0.0, 0));
        }
        let i = (minute - series.first) as usize;
        series.sums[i].0 += value;
        series.sums[i].1 += 1;
        while series.sums.len() > METRIC_MINUTES {
            series.sums.pop_front();
            series.first += 1;
        }
        self.held_since = Some(self.held_since.map_or(at, |h| h.min(at)));
        self.generation += 1;
    }

    /// A task's CPU sample: a jump far past its usual is a signal.
    pub fn note_task_cpu(&mut self, sample: &CpuSample, now: UnixMillis) {
        if let Some(jump) = self.task_cpu.note(sample) {
            self.note(jump, now);
        }
    }

    /// A group's version as a snapshot shows it: no rollout is told, since
    /// when it happened is not known.
    pub fn seed_version(&mut self, group: &str, version: &str) {
        if !version.is_empty() && self.versions.len() < MAX_METRIC_SERIES {
            self.versions
                .entry(group.to_string())
                .or_insert_with(|| version.to_string());
        }
    }

    /// A task seen with `version`: a rollout when its group ran another.
    /// Returns the version it replaces.
    pub fn note_version(&mut self, group: &str, version: &str) -> Option<String> {
        if version.is_empty() {
            return None;
        }
        match self.versions.get_mut(group) {
            Some(held) if held != version => Some(std::mem::replace(held, version.to_string())),
            Some(_) => None,
            None => {
                if self.versions.len() < MAX_METRIC_SERIES {
                    self.versions.insert(group.to_string(), version.to_string());
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(at: UnixMillis, i: usize) -> Signal {
        Signal {
            at,
            subject: Subject {
                task: Some(format!("task-{i}")),
                node: Some(format!("node-{}", i % 50)),
                group: Some(format!("/group-{}", i % 300)),
            },
            what: What::TaskEnded {
                name: format!("task-{i}"),
                state: TaskState::Failed,
                message: format!("exit status {} {}", i % 400, "x".repeat(500)),
            },
        }
    }

    #[test]
    fn memory_stays_within_its_budget_and_the_oldest_minutes_go() {
        let budget = 200_000;
        let mut t = Timeline::with_budget(budget);
        let start = 1_700_000_000_000;
        let now = start + 100 * MINUTE;
        for i in 0..20_000 {
            let at = start + (i as i64) * 300;
            t.note(ended(at, i), now);
            t.note_error(
                Line {
                    at,
                    message: format!("error {i}: {}", "y".repeat(300)),
                    subject: Subject::default(),
                    source: format!("source-{}", i % 700),
                },
                now,
            );
            assert!(t.bytes() <= budget + 10_000, "{} bytes", t.bytes());
        }
        // What went is said by "held since", which the header shows.
        let held = t.held_since.unwrap();
        assert!(held > start + 60 * MINUTE, "the oldest minutes went");
    }

    #[test]
    fn a_time_in_the_future_is_refused_and_counted() {
        let mut t = Timeline::default();
        let now = 1_700_000_000_000;
        t.note(ended(now + 10 * MINUTE, 1), now);
        assert_eq!(t.dropped, 1);
        assert!(t.held_since.is_none());
    }
}
