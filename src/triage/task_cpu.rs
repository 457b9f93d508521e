//! Each task's CPU as triage follows it, to tell a noisy neighbour: a task
//! that suddenly takes far more CPU than it usually does, and more than
//! its limit (within its limit a task only throttles itself), is a change
//! that everything else on its node may suffer from.
//!
//! One small record a task, one hash lookup a sample; bounded in count.

use std::collections::HashMap;

use super::signal::{Signal, Subject, What};
use crate::api::UnixMillis;

/// Tasks followed at most (the stretch size of a cluster).
pub const MAX_TASKS: usize = 60_000;
/// Samples a task's "usual" needs before a jump is told.
const WARM_UP: u32 = 3;
/// How its usual follows the samples (an exponential mean).
const ALPHA: f64 = 0.2;
/// A jump: at least a whole core, three times the usual and half a core
/// more...
const MIN_CORES: f64 = 1.0;
const TIMES_USUAL: f64 = 3.0;
const OVER_USUAL: f64 = 0.5;
/// ...for this many samples in a row.
const SUSTAINED: u32 = 2;
/// A record not fed for this long is let go when room is needed.
const STALE: UnixMillis = 10 * 60_000;
const SWEEP_EVERY: UnixMillis = 60_000;

#[derive(Debug, Clone)]
struct TaskCpu {
    usual: f64,
    samples: u32,
    last: UnixMillis,
    /// Since when it runs far above its usual: (first sample's time, its
    /// usual then, samples above).
    above: Option<(UnixMillis, f64, u32)>,
    told: bool,
}

#[derive(Debug, Default)]
pub struct TaskCpus {
    tasks: HashMap<String, TaskCpu>,
    /// When stale records were last let go: a full map is swept at most
    /// once a minute, not on every new task's sample.
    swept: UnixMillis,
    /// Samples not followed for want of room.
    pub dropped: u64,
}

/// A task's CPU sample, with what triage says of it.
pub struct CpuSample<'a> {
    pub task: &'a str,
    pub name: &'a str,
    pub node: &'a str,
    /// Its group; empty: none.
    pub group: &'a str,
    /// Its limit in cores; 0: none.
    pub limit: f64,
    pub at: UnixMillis,
    pub cores: f64,
}

impl TaskCpus {
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// A task gone from the cluster.
    pub fn forget(&mut self, task: &str) {
        self.tasks.remove(task);
    }

    /// A sample; the jump it completes, if it does.
    pub fn note(&mut self, s: &CpuSample) -> Option<Signal> {
        if !s.cores.is_finite() || s.cores < 0.0 {
            return None;
        }
        if !self.tasks.contains_key(s.task) && !self.room(s.at) {
            self.dropped += 1;
            return None;
        }
        let cpu = self
            .tasks
            .entry(s.task.to_string())
            .or_insert_with(|| TaskCpu {
                usual: s.cores,
                samples: 0,
                last: UnixMillis::MIN,
                above: None,
                told: false,
            });
        if s.at <= cpu.last {
            return None; // a repeat (a snapshot's, a resync's)
        }
        cpu.last = s.at;
        let jump = cpu.samples >= WARM_UP
            && s.cores >= MIN_CORES
            && s.cores >= TIMES_USUAL * cpu.usual + OVER_USUAL
            && (s.limit <= 0.0 || s.cores > s.limit);
        if !jump {
            cpu.above = None;
            cpu.told = false;
            cpu.samples += 1;
            cpu.usual += ALPHA * (s.cores - cpu.usual);
            return None;
        }
        // While it runs high its usual stays what it was before.
        let (since, usual, count) = cpu.above.get_or_insert((s.at, cpu.usual, 0));
        *count += 1;
        if *count < SUSTAINED || cpu.told {
            return None;
        }
        cpu.told = true;
        let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
        Some(Signal {
            at: *since,
            subject: Subject {
                task: some(s.task),
                node: some(s.node),
                group: some(s.group),
            },
            what: What::CpuJump {
                name: s.name.to_string(),
                from: *usual,
                to: s.cores,
                limit: s.limit,
            },
        })
    }

    /// Whether a new task fits, letting stale ones go if need be.
    fn room(&mut self, now: UnixMillis) -> bool {
        if self.tasks.len() < MAX_TASKS {
            return true;
        }
        if now - self.swept >= SWEEP_EVERY {
            self.swept = now;
            self.tasks.retain(|_, t| t.last >= now - STALE);
        }
        self.tasks.len() < MAX_TASKS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(cpus: &mut TaskCpus, values: &[f64], limit: f64) -> Vec<Signal> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, &cores)| {
                cpus.note(&CpuSample {
                    task: "t1",
                    name: "etl-1",
                    node: "n1",
                    group: "",
                    limit,
                    at: 1_000 + i as i64 * 5_000,
                    cores,
                })
            })
            .collect()
    }

    #[test]
    fn a_sustained_jump_past_the_limit_is_told_once_from_its_first_sample() {
        let mut cpus = TaskCpus::default();
        let told = feed(
            &mut cpus,
            &[1.0, 1.2, 0.9, 1.1, 12.0, 12.5, 13.0, 12.0],
            2.0,
        );
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].at, 1_000 + 4 * 5_000, "its first sample above");
        match &told[0].what {
            What::CpuJump { from, to, .. } => {
                assert!((0.9..1.2).contains(from), "{from}");
                assert_eq!(*to, 12.5);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn within_its_limit_a_blip_or_before_warm_up_is_no_jump() {
        let mut cpus = TaskCpus::default();
        // Within its limit of 4 cores.
        assert!(feed(&mut cpus, &[0.5, 0.5, 0.5, 0.5, 3.9, 3.9, 3.9], 4.0).is_empty());
        let mut cpus = TaskCpus::default();
        // One sample high.
        assert!(feed(&mut cpus, &[0.5, 0.5, 0.5, 0.5, 9.0, 0.5, 9.0, 0.5], 2.0).is_empty());
        let mut cpus = TaskCpus::default();
        // Before its usual is known.
        assert!(feed(&mut cpus, &[0.5, 9.0, 9.0, 9.0], 2.0).is_empty());
    }

    #[test]
    fn it_is_told_again_after_it_came_back_down() {
        let mut cpus = TaskCpus::default();
        let values = [0.5, 0.5, 0.5, 0.5, 9.0, 9.0, 0.5, 0.5, 9.0, 9.0];
        assert_eq!(feed(&mut cpus, &values, 0.0).len(), 2);
    }

    #[test]
    fn the_count_is_bounded_and_stale_tasks_make_room() {
        let mut cpus = TaskCpus::default();
        for i in 0..MAX_TASKS + 10 {
            let task = format!("t{i}");
            cpus.note(&CpuSample {
                task: &task,
                name: &task,
                node: "",
                group: "",
                limit: 0.0,
                at: 1_000,
                cores: 0.1,
            });
        }
        assert_eq!(cpus.len(), MAX_TASKS);
        assert_eq!(cpus.dropped, 10);
        // Ten minutes on, the old ones go for a new one.
        let told = cpus.note(&CpuSample {
            task: "new",
            name: "new",
            node: "",
            group: "",
            limit: 0.0,
            at: 1_000 + STALE + 1,
            cores: 0.1,
        });
        assert!(told.is_none());
        assert_eq!(cpus.len(), 1);
    }
}
