//! The demo's history before it started, made by its own generator: the
//! lines the live demo writes, for the tasks running when it began, second
//! by second up to a day back. Each second comes from a seed of its own,
//! so any second is made again the same, in any order, on demand: paging
//! back through it is exact, and nothing is held.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::logs::DemoLogs;
use crate::api::{LogEntry, Task, UnixMillis};
use crate::collect::history::{HistoryAsk, LogSeeker, Reached, SourcePage};

/// How far before its start the demo's history goes, in seconds.
const REACH_S: i64 = 24 * 3600;

pub struct DemoHistory {
    run: u64,
    /// Its cursors' beginning, `d:RUN:h`: every entry a ring scan meets is
    /// asked whether it is one.
    prefix: String,
    /// Lines a second, as the live demo writes them.
    rate: usize,
    /// When the demo began, and the tasks running then.
    began: OnceLock<(UnixMillis, Vec<Arc<Task>>)>,
}

impl DemoHistory {
    pub fn new(run: u64, rate: usize) -> Arc<DemoHistory> {
        Arc::new(DemoHistory {
            run,
            prefix: format!("d:{run:x}:h"),
            rate: rate.max(1),
            began: OnceLock::new(),
        })
    }

    /// The demo's first reading: its history ends where it began.
    pub fn began(&self, at: UnixMillis, tasks: Vec<Arc<Task>>) {
        let _ = self.began.set((at, tasks));
    }

    /// Second `s`'s lines, oldest first, numbered `d:RUN:hSECOND:I`.
    fn second(&self, s: i64, tasks: &[&Task]) -> Vec<LogEntry> {
        let seed = self.run ^ (s as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut out = Vec::with_capacity(self.rate);
        DemoLogs::new(seed).write(tasks, (s + 1) * 1000, self.rate, &mut out);
        for (i, e) in out.iter_mut().enumerate() {
            e.cursor = format!("{}{s}:{i}", self.prefix);
        }
        out
    }

    /// `d:RUN:hSECOND:I` → (second, index).
    fn position(&self, cursor: &str) -> Option<(i64, usize)> {
        let (s, i) = cursor.strip_prefix(self.prefix.as_str())?.split_once(':')?;
        Some((s.parse().ok()?, i.parse().ok()?))
    }
}

impl LogSeeker for DemoHistory {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn run_of(&self, entry: &LogEntry) -> Option<String> {
        self.owns(&entry.cursor).then(|| "demo".into())
    }

    fn owns(&self, cursor: &str) -> bool {
        cursor.starts_with(self.prefix.as_str())
    }

    fn by_time(&self) -> bool {
        true
    }

    fn history(&self, ask: &HistoryAsk) -> Result<SourcePage, String> {
        let Some((start, tasks)) = self.began.get() else {
            return Ok(SourcePage::default());
        };
        let tasks: Vec<&Task> = tasks.iter().map(|t| &**t).collect();
        let (first, last) = (start / 1000 - REACH_S, start / 1000 - 1);
        let anchor = match ask.anchor {
            Some(c) => Some(
                self.position(c)
                    .ok_or("not a cursor of this demo's history")?,
            ),
            None => None,
        };
        let enough = Instant::now() + ask.deadline.mul_f32(0.6);
        let mut page = SourcePage::default();
        let seconds: Box<dyn Iterator<Item = i64>> = if ask.older {
            let from = match (anchor, ask.until) {
                (Some((s, _)), _) => s,
                (None, Some(until)) => (until - 1).div_euclid(1000),
                (None, None) => last,
            };
            Box::new((first..=from.min(last)).rev())
        } else {
            let from = match (anchor, ask.since) {
                (Some((s, _)), _) => s,
                (None, Some(since)) => since.div_euclid(1000),
                (None, None) => first,
            };
            Box::new(from.max(first)..=last)
        };
        for s in seconds {
            let mut lines: Vec<(usize, LogEntry)> =
                self.second(s, &tasks).into_iter().enumerate().collect();
            if ask.older {
                lines.reverse();
            }
            for (index, e) in lines {
                let past_anchor = match anchor {
                    Some((a, ai)) if a == s => match ask.older {
                        true => index < ai,
                        false => index > ai,
                    },
                    _ => true,
                };
                if past_anchor && !page.offer(ask, e) {
                    break;
                }
            }
            if page.reached != Reached::Edge {
                break;
            }
            if Instant::now() > enough {
                page.reached = Reached::Limit;
                break;
            }
        }
        if ask.older {
            page.entries.reverse();
        }
        Ok(page)
    }
}
