//! The log view's own state: whose logs, following or paused where, and
//! how lines are shown (wrap, timestamps, source column, search).

use regex::Regex;

use super::logbuf::{LogBuffer, Row};
use crate::api::Filter;

/// Whose logs the view shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogScope {
    All,
    Task(String),
    Node(String),
    Unit(String),
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
    pub regex: Regex,
}

impl Search {
    /// Case-insensitive; text that is not a regex is searched for as it is.
    pub fn new(text: &str) -> Option<Search> {
        if text.is_empty() {
            return None;
        }
        let build = super::text::user_regex;
        let regex = build(text).or_else(|_| build(&regex::escape(text))).ok()?;
        Some(Search {
            text: text.to_string(),
            regex,
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

    /// The next (or previous) shown row the search matches, from the screen.
    pub fn find(&self, buf: &LogBuffer, height: usize, forward: bool) -> Option<usize> {
        let search = self.search.as_ref()?;
        let shown = buf.shown();
        let hit = |i: &usize| matches!(buf.get(shown[*i]), Some(Row::Line(e)) if search.regex.is_match(&e.message));
        let here = self.first_shown(buf, height) + height / 4;
        if forward {
            (here + 1..shown.len()).find(hit)
        } else {
            (0..here.min(shown.len())).rev().find(hit)
        }
    }
}
