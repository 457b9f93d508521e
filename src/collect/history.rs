//! A read back into a source's own history (journald, a followed file):
//! what the gateway asks of a source, and what the source answers. Every
//! source that keeps history answers in these shapes, so the gateway can
//! merge them with its ring and with each other.

use std::time::Duration;

use crate::api::{LogEntry, UnixMillis};

/// One source's part of a history read.
pub struct HistoryAsk<'a> {
    /// Older entries (the newest `limit` before the anchor or `until`),
    /// or newer ones (the first `limit` from `since`).
    pub older: bool,
    /// This source's own cursor to read on from (not including it).
    pub anchor: Option<&'a str>,
    /// Entries at or after this time.
    pub since: Option<UnixMillis>,
    /// Entries before this time.
    pub until: Option<UnixMillis>,
    /// Entries wanted, of those `keep` admits.
    pub limit: usize,
    /// The read's filter (a task, a unit, a priority, a regex).
    pub keep: &'a (dyn Fn(&LogEntry) -> bool + Sync),
    /// A unit the filter names, for a source to read less (`keep` still
    /// decides).
    pub unit: Option<&'a str>,
    /// The source gives up past this.
    pub deadline: Duration,
}

impl HistoryAsk<'_> {
    pub fn in_range(&self, ts: UnixMillis) -> bool {
        self.since.is_none_or(|s| ts >= s) && self.until.is_none_or(|u| ts < u)
    }

    /// Whether an entry this far along the read is past its range: the
    /// read can stop there, as the source reads in time order.
    pub fn past_range(&self, ts: UnixMillis) -> bool {
        match self.older {
            true => self.since.is_some_and(|s| ts < s),
            false => self.until.is_some_and(|u| ts >= u),
        }
    }
}

/// Where a source's read stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reached {
    /// It found `limit` entries; there may be more.
    Limit,
    /// It reached the end of the range asked for.
    Bound,
    /// It reached the source's own end: its first entry (reading older),
    /// or its newest (reading newer).
    #[default]
    Edge,
}

/// What one source answered: its entries, oldest first.
#[derive(Debug, Default)]
pub struct SourcePage {
    pub entries: Vec<LogEntry>,
    pub reached: Reached,
    /// The cursor of the last entry it read, kept or not: where the next
    /// read goes on from when every entry of this page is used (a filter
    /// may pass over many entries for a few).
    pub read_to: Option<String>,
}

impl SourcePage {
    /// Takes the next entry a read met, in the read's order: one past the
    /// range ends the page, one the range and filter admit is kept, up to
    /// the limit. False once the page is done. Every source reads through
    /// here, so they all stop, keep and go on alike.
    pub fn offer(&mut self, ask: &HistoryAsk, e: LogEntry) -> bool {
        if ask.past_range(e.ts) {
            self.reached = Reached::Bound;
            return false;
        }
        self.read_to = Some(e.cursor.clone());
        if ask.in_range(e.ts) && (ask.keep)(&e) {
            self.entries.push(e);
            if self.entries.len() >= ask.limit {
                self.reached = Reached::Limit;
                return false;
            }
        }
        true
    }
}

/// A source that keeps its own history: it reads entries after one of its
/// own cursors, and reads back by cursor or time (`gateway::logs::history`).
pub trait LogSeeker: Send + Sync {
    /// Its name, which begins the keys of its runs.
    fn name(&self) -> &'static str;

    /// The run (`NAME` or `NAME:…`) an entry of this source belongs to: a
    /// sequence it reads back in order (the journal; one file's path
    /// through its rotations). `None`: not this source's entry.
    fn run_of(&self, entry: &LogEntry) -> Option<String>;

    /// Whether a cursor is of its making, by its spelling.
    fn owns(&self, cursor: &str) -> bool;

    /// Whether it can be read by time alone, with no cursor to start at.
    fn by_time(&self) -> bool;

    /// A read back into its history (blocking: it may run `journalctl`).
    fn history(&self, ask: &HistoryAsk) -> Result<SourcePage, String>;

    /// The entries after one of its cursors, unfiltered (a resume). `None`:
    /// not this source's cursor. `Some(Err)`: it is, but names nothing this
    /// source serves (or the source cannot seek to it).
    fn entries_after(
        &self,
        cursor: &str,
        limit: usize,
        deadline: Duration,
    ) -> Option<Result<Vec<LogEntry>, String>> {
        self.owns(cursor).then_some(())?;
        let ask = HistoryAsk {
            older: false,
            anchor: Some(cursor),
            since: None,
            until: None,
            limit,
            keep: &|_| true,
            unit: None,
            deadline,
        };
        Some(self.history(&ask).map(|page| page.entries))
    }
}

/// The newest `n` entries over several runs (each oldest first), taken off
/// their ends, merged by time: oldest first, each with its run's index.
/// What a run has left is older than all it gave.
pub fn take_newest(runs: &mut [&mut Vec<LogEntry>], n: usize) -> Vec<(usize, LogEntry)> {
    let mut taken = Vec::new();
    while taken.len() < n {
        let next = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r.last()?.ts, i)))
            .max();
        let Some((_, i)) = next else { break };
        let e = runs[i].pop().expect("a run with a last entry");
        taken.push((i, e));
    }
    taken.reverse();
    taken
}
