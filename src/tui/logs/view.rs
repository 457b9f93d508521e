//! The log view's own state: whose logs, following or paused where, and
//! how lines are shown (wrap, timestamps, source column, search).

use regex::Regex;

use crate::api::{Filter, UnixMillis};
use crate::tui::logs::buffer::LogBuffer;
use crate::tui::logs::folded::FoldedRegex;

/// Whose logs the view shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogScope {
    All,
    Task(String),
    Node(String),
    Unit(String),
    /// A Kubernetes namespace's pods (and their events).
    Namespace(String),
}

impl LogScope {
    /// The gateway filter for this scope.
    pub fn filter(&self) -> Filter {
        let mut f = Filter::default();
        match self {
            LogScope::All => {}
            LogScope::Task(id) => f.task = Some(id.clone()),
            LogScope::Node(id) => f.node = Some(id.clone()),
            LogScope::Unit(unit) => f.unit = Some(unit.clone()),
            LogScope::Namespace(ns) => f.matches = vec![format!("NAMESPACE={ns}")],
        }
        f
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    Relative,
    Absolute,
    Off,
}

#[derive(Debug, Clone)]
pub struct Search {
    pub text: String,
    /// For highlighting the matches on screen, in the original text.
    pub regex: Regex,
    /// For finding the rows that match, in the buffer's folded text.
    matcher: FoldedRegex,
}

/// Rows searched at a time when looking back from the screen: the nearest
/// match is usually close, and a window is one fast scan of the text.
const SEARCH_WINDOW: u64 = 65_536;

impl Search {
    /// Case-insensitive; text that is not a regex is searched for as it is.
    pub fn new(text: &str) -> Option<Search> {
        if text.is_empty() {
            return None;
        }
        let build = |p: &str| {
            Some((
                crate::tui::widgets::text::user_regex(p).ok()?,
                FoldedRegex::new(p).ok()?,
            ))
        };
        let (regex, matcher) = build(text).or_else(|| build(&regex::escape(text)))?;
        Some(Search {
            text: text.to_string(),
            regex,
            matcher,
        })
    }
}

#[derive(Debug, Clone)]
pub struct LogView {
    pub scope: LogScope,
    /// Keeping the newest line at the bottom.
    pub follow: bool,
    /// When paused: the absolute number of the row at the top.
    pub top: u64,
    pub wrap: bool,
    pub time: TimeMode,
    pub source: bool,
    pub search: Option<Search>,
    /// Pause at this time once lines arrive (opened from a check's failure).
    pub pending_at: Option<UnixMillis>,
}

impl LogView {
    pub fn new(scope: LogScope) -> LogView {
        LogView {
            scope,
            follow: true,
            top: 0,
            wrap: false,
            time: TimeMode::Relative,
            source: true,
            search: None,
            pending_at: None,
        }
    }

    /// The index (in the shown rows) of the first row on screen.
    pub fn first_shown(&self, buf: &LogBuffer, height: usize) -> usize {
        let shown = buf.shown();
        if self.follow {
            return shown.len().saturating_sub(height);
        }
        shown.partition_point(|&abs| abs < self.top)
    }

    /// Shown rows below the screen, when paused.
    pub fn below(&self, buf: &LogBuffer, height: usize) -> usize {
        if self.follow {
            return 0;
        }
        buf.shown()
            .len()
            .saturating_sub(self.first_shown(buf, height) + height)
    }

    /// Scrolls by `delta` shown rows; scrolling up pauses, reaching the
    /// bottom follows again.
    pub fn scroll(&mut self, buf: &LogBuffer, height: usize, delta: isize) {
        let shown = buf.shown();
        if shown.is_empty() {
            return;
        }
        let last_top = shown.len().saturating_sub(height);
        let first = self.first_shown(buf, height);
        let next = first.saturating_add_signed(delta).min(last_top);
        self.follow = next >= last_top && delta > 0;
        if !self.follow {
            self.top = shown[next];
        }
    }

    pub fn to_top(&mut self, buf: &LogBuffer) {
        if let Some(&abs) = buf.shown().front() {
            self.follow = false;
            self.top = abs;
        }
    }

    /// Pauses with the row `index` (of the shown rows) on screen, near the top.
    pub fn show(&mut self, buf: &LogBuffer, index: usize, height: usize) {
        let shown = buf.shown();
        let start = index.saturating_sub(height / 4);
        if let Some(&abs) = shown.get(start) {
            self.follow = false;
            self.top = abs;
        }
    }

    /// Pauses on the first shown line at or after `at`; false if none is.
    pub fn pause_at(&mut self, buf: &LogBuffer, at: UnixMillis, height: usize) -> bool {
        // Sources interleave, so not a binary search: the first in order.
        let first = buf
            .shown()
            .iter()
            .position(|abs| buf.get(*abs).is_some_and(|r| r.ts() >= at));
        match first {
            Some(i) => {
                self.show(buf, i, height);
                true
            }
            None => false,
        }
    }

    /// The next (or previous) shown row the search matches, from the screen.
    pub fn find(&self, buf: &LogBuffer, height: usize, forward: bool) -> Option<usize> {
        let search = self.search.as_ref()?;
        let shown = buf.shown();
        let here = self.first_shown(buf, height) + height / 4;
        let shown_at = |abs: u64| shown.binary_search(&abs).ok();
        if forward {
            let mut from = *shown.get(here + 1)?;
            while from < buf.end() {
                let to = from.saturating_add(SEARCH_WINDOW);
                let mut found = None;
                buf.matching(&search.matcher, from, to, |abs| {
                    found = found.or_else(|| shown_at(abs));
                });
                if found.is_some() {
                    return found;
                }
                from = to;
            }
            None
        } else {
            let mut to = shown
                .get(here.min(shown.len()))
                .copied()
                .unwrap_or(buf.end());
            let oldest = *shown.front()?;
            while to > oldest {
                let from = to.saturating_sub(SEARCH_WINDOW).max(oldest);
                let mut found = None;
                buf.matching(&search.matcher, from, to, |abs| {
                    found = shown_at(abs).or(found);
                });
                if found.is_some() {
                    return found;
                }
                to = from;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::tui::logs::buffer::{LogFilter, Row};

    fn buffer(rows: u64, hits: &[u64]) -> LogBuffer {
        let mut buf = LogBuffer::new(rows as usize);
        for n in 0..rows {
            let message = if hits.contains(&n) {
                format!("{n} Needle here")
            } else {
                format!("{n} hay")
            };
            buf.push(Row::Line(Arc::new(crate::collect::logline::entry(
                format!("c{n}"),
                n as i64,
                "n",
                message.as_bytes(),
            ))));
        }
        buf
    }

    #[test]
    fn search_finds_matches_windows_away_both_ways_among_shown_rows() {
        let buf = buffer(200_000, &[10, 150_000, 150_001]);
        let mut view = LogView::new(LogScope::All);
        view.search = Search::new("NEEDLE");
        // From the bottom, back to the newest match, then further back.
        assert_eq!(view.find(&buf, 20, false), Some(150_001));
        view.show(&buf, 150_000, 20);
        view.follow = false;
        assert_eq!(view.find(&buf, 20, false).map(|i| buf.shown()[i]), Some(10));
        // Forward from the top, then on from that match, windows away.
        view.to_top(&buf);
        assert_eq!(view.find(&buf, 20, true), Some(10));
        view.show(&buf, 10, 20);
        assert_eq!(view.find(&buf, 20, true), Some(150_000));
        // Under a filter, only shown rows count.
        let mut filtered = buffer(1000, &[10, 500]);
        filtered.set_filter(LogFilter::parse("!^500 ").unwrap());
        let mut view = LogView::new(LogScope::All);
        view.search = Search::new("needle");
        assert_eq!(
            view.find(&filtered, 20, false).map(|i| filtered.shown()[i]),
            Some(10)
        );
        // Text that is not a regex is looked for as it is.
        assert!(Search::new("[oops").is_some());
    }
}
