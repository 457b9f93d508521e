//! The console's log buffer: the newest lines, bounded, with markers where
//! lines were dropped, and the view through the filter kept as the lines
//! arrive. Rows are numbered for good (`abs`), so evicting old rows never
//! moves what the view points at. Beside the rows, their folded text
//! ([`TextIndex`]) is what the filter and search scan.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::api::{LogEntry, UnixMillis};
use crate::tui::links::window::Window;
use crate::tui::logs::folded::FoldedRegex;
use crate::tui::logs::index::TextIndex;

#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Line(Arc<LogEntry>),
    /// The gateway dropped this many lines here (a slow subscriber, an
    /// agent that went away), or (none dropped) says why lines stop or
    /// are missing: `reason` in the gateway's words.
    Dropped {
        count: u64,
        reason: String,
        at: UnixMillis,
    },
    /// The stream started over here; lines before and after may not join.
    Resynced {
        at: UnixMillis,
    },
}

/// What a gap in the lines says: how many were dropped and why, or (none
/// dropped) why lines stop or are missing.
pub fn dropped_text(count: u64, reason: &str) -> String {
    match (count, reason) {
        (count, "") => format!("{count} lines dropped by the gateway: the console fell behind"),
        (0, reason) => crate::tui::widgets::text::inert(reason).into_owned(),
        (count, reason) => format!(
            "{count} lines dropped: {}",
            crate::tui::widgets::text::inert(reason)
        ),
    }
}

impl Row {
    pub fn ts(&self) -> UnixMillis {
        match self {
            Row::Line(e) => e.ts,
            Row::Dropped { at, .. } | Row::Resynced { at } => *at,
        }
    }
}

/// What the filter line keeps: a priority bound, a source, and a regex on
/// the message (`!` in front inverts it).
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub text: String,
    priority: Option<u8>,
    source: Option<String>,
    regex: Option<FoldedRegex>,
    invert: bool,
    /// Only lines in this window (a link's): not part of the text, so a
    /// new filter line keeps it.
    pub window: Option<Window>,
}

impl LogFilter {
    /// Parses `p<=3 src=web !timeout`: words `p<=N` (or `p=N`), `src=NAME`,
    /// and the rest a regex on the message, `!` in front to invert.
    pub fn parse(text: &str) -> Result<LogFilter, String> {
        let mut filter = LogFilter {
            text: text.to_string(),
            ..Default::default()
        };
        let mut rest = Vec::new();
        for word in text.split_whitespace() {
            if let Some(p) = word.strip_prefix("p<=").or_else(|| word.strip_prefix("p=")) {
                let p: u8 = p
                    .parse()
                    .map_err(|_| format!("{word:?}: a priority is 0-7"))?;
                filter.priority = Some(p.min(7));
            } else if let Some(src) = word.strip_prefix("src=") {
                filter.source = Some(src.to_string());
            } else {
                rest.push(word);
            }
        }
        let mut pattern = rest.join(" ");
        if let Some(p) = pattern.strip_prefix('!') {
            filter.invert = true;
            pattern = p.to_string();
        }
        if !pattern.is_empty() {
            filter.regex =
                Some(FoldedRegex::new(&pattern).map_err(|e| format!("not a regex: {e}"))?);
        }
        Ok(filter)
    }

    /// No filter line (a window is not one: Esc keeps it).
    pub fn is_empty(&self) -> bool {
        self.priority.is_none() && self.source.is_none() && self.regex.is_none()
    }

    fn in_window(&self, ts: UnixMillis) -> bool {
        self.window.is_none_or(|w| w.contains(ts))
    }

    /// The priority, source and window test (the regex is the buffer's to
    /// apply).
    fn keeps_entry(&self, e: &LogEntry) -> bool {
        self.in_window(e.ts)
            && self.priority.is_none_or(|p| e.priority <= p)
            && self
                .source
                .as_ref()
                .is_none_or(|s| e.source().contains(s.as_str()))
    }
}

#[derive(Debug)]
pub struct LogBuffer {
    rows: VecDeque<Row>,
    /// The absolute number of `rows[0]`.
    base: u64,
    max_rows: usize,
    bytes: usize,
    /// Rows that left the buffer to make room.
    pub evicted: u64,
    /// Lines the gateway said it dropped.
    pub dropped: u64,
    /// Newer rows let go to hold older ones read back.
    pub paged_out: u64,
    filter: LogFilter,
    /// Absolute numbers of the rows the filter keeps, oldest first.
    shown: VecDeque<u64>,
    /// The rows' folded text, for the filter and search.
    index: TextIndex,
}

/// How far rows are renumbered when older ones need room below the oldest.
const RENUMBER: u64 = 1 << 40;

/// Lines the console keeps unless configured otherwise.
pub const DEFAULT_MAX_ROWS: usize = 100_000;

impl LogBuffer {
    pub fn new(max_rows: usize) -> LogBuffer {
        LogBuffer {
            rows: VecDeque::new(),
            base: 0,
            max_rows: max_rows.max(1),
            bytes: 0,
            evicted: 0,
            dropped: 0,
            paged_out: 0,
            filter: LogFilter::default(),
            shown: VecDeque::new(),
            index: TextIndex::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    /// Memory held: the entries and their folded text.
    pub fn bytes(&self) -> usize {
        self.bytes + self.index.bytes()
    }

    /// The absolute number the next row will get.
    pub fn end(&self) -> u64 {
        self.base + self.rows.len() as u64
    }

    pub fn get(&self, abs: u64) -> Option<&Row> {
        abs.checked_sub(self.base)
            .and_then(|i| self.rows.get(i as usize))
    }

    pub fn push(&mut self, row: Row) {
        if self.rows.len() == self.max_rows {
            if let Some(Row::Line(old)) = self.rows.pop_front() {
                self.bytes -= old.memory();
            }
            self.base += 1;
            self.index.pop_front();
            self.evicted += 1;
            while self.shown.front().is_some_and(|&a| a < self.base) {
                self.shown.pop_front();
            }
        }
        match &row {
            Row::Line(e) => {
                self.bytes += e.memory();
                self.index.push(&e.message);
            }
            Row::Dropped { count, .. } => {
                self.dropped += count;
                self.index.push("");
            }
            Row::Resynced { .. } => self.index.push(""),
        }
        let abs = self.end();
        self.rows.push_back(row);
        if self.keeps(abs) {
            self.shown.push_back(abs);
        }
    }

    /// Adds older rows (a page of history, oldest first) before the
    /// oldest. Past the bound, the newest rows go to make room, and a
    /// marker says so where they were. Returns how far every row's
    /// absolute number moved up (rows are renumbered when there is no
    /// room below the oldest), for those holding numbers to follow.
    pub fn prepend(&mut self, older: Vec<Row>) -> u64 {
        let n = older.len().min(self.max_rows.saturating_sub(1));
        let older = &older[older.len() - n..];
        if n == 0 {
            return 0;
        }
        let shift = if self.base < n as u64 { RENUMBER } else { 0 };
        if shift > 0 {
            self.base += shift;
            self.index.shift(shift);
            for abs in &mut self.shown {
                *abs += shift;
            }
        }
        let excess = (self.rows.len() + n).saturating_sub(self.max_rows);
        if excess > 0 {
            // One more, for the marker.
            for _ in 0..(excess + 1).min(self.rows.len()) {
                if let Some(Row::Line(e)) = self.rows.pop_back() {
                    self.bytes -= e.memory();
                    self.paged_out += 1;
                }
                self.index.pop_back();
            }
            let end = self.end();
            while self.shown.back().is_some_and(|&a| a >= end) {
                self.shown.pop_back();
            }
            let at = self.rows.back().map_or(0, Row::ts);
            self.push(Row::Dropped {
                count: 0,
                reason: format!(
                    "{} newer lines let go to hold older ones (the buffer holds {}); End reads the newest again",
                    self.paged_out, self.max_rows
                ),
                at,
            });
        }
        self.index.prepend(older.iter().map(|r| match r {
            Row::Line(e) => e.message.as_str(),
            _ => "",
        }));
        for row in older.iter().rev() {
            if let Row::Line(e) = row {
                self.bytes += e.memory();
            }
            self.rows.push_front(row.clone());
        }
        self.base -= n as u64;
        for abs in self.kept(self.base, self.base + n as u64).into_iter().rev() {
            self.shown.push_front(abs);
        }
        shift
    }

    /// The oldest line held, if any.
    pub fn oldest_line(&self) -> Option<&LogEntry> {
        self.rows.iter().find_map(|r| match r {
            Row::Line(e) => Some(&**e),
            _ => None,
        })
    }

    /// Whether the filter keeps row `abs`. Markers pass every filter but
    /// the window: a gap must never be filtered out of sight.
    fn keeps(&self, abs: u64) -> bool {
        let Some(Row::Line(e)) = self.get(abs) else {
            return self.get(abs).is_some_and(|r| self.filter.in_window(r.ts()));
        };
        self.filter.keeps_entry(e)
            && self.filter.regex.as_ref().is_none_or(|re| {
                let folded = self.index.line(abs).unwrap_or_default();
                re.is_match(&e.message, folded) != self.filter.invert
            })
    }

    /// Calls `hit` with every row in `from..to` that `re` matches, in order.
    pub fn matching(&self, re: &FoldedRegex, from: u64, to: u64, mut hit: impl FnMut(u64)) {
        match re {
            FoldedRegex::Folded(re) => self.index.matching(re, from, to, hit),
            FoldedRegex::Original(re) => {
                for abs in from.max(self.base)..to.min(self.end()) {
                    if let Some(Row::Line(e)) = self.get(abs)
                        && re.is_match(&e.message)
                    {
                        hit(abs);
                    }
                }
            }
        }
    }

    /// The rows in `from..to` the filter keeps.
    fn kept(&self, from: u64, to: u64) -> Vec<u64> {
        let filter = &self.filter;
        let mut hits = Vec::new();
        if let Some(re) = &filter.regex {
            self.matching(re, from, to, |abs| hits.push(abs));
        }
        let mut hits = hits.into_iter().peekable();
        (from..to)
            .filter(|&abs| {
                let Some(Row::Line(e)) = self.get(abs) else {
                    return self.get(abs).is_some_and(|r| filter.in_window(r.ts()));
                };
                if !filter.keeps_entry(e) {
                    return false;
                }
                if filter.regex.is_none() {
                    return true;
                }
                while hits.next_if(|&h| h < abs).is_some() {}
                hits.next_if_eq(&abs).is_some() != filter.invert
            })
            .collect()
    }

    pub fn clear(&mut self) {
        *self = LogBuffer::new(self.max_rows);
    }

    pub fn filter(&self) -> &LogFilter {
        &self.filter
    }

    /// A new filter line; the window stays.
    pub fn set_filter_line(&mut self, mut filter: LogFilter) {
        filter.window = self.filter.window;
        self.set_filter(filter);
    }

    /// Only the lines in `window` (or all again).
    pub fn set_window(&mut self, window: Option<Window>) {
        let mut filter = self.filter.clone();
        filter.window = window;
        self.set_filter(filter);
    }

    /// The oldest and newest line times held, if any line is.
    pub fn held_span(&self) -> Option<(UnixMillis, UnixMillis)> {
        let ts = |r: &Row| matches!(r, Row::Line(_)).then(|| r.ts());
        Some((
            self.rows.iter().find_map(ts)?,
            self.rows.iter().rev().find_map(ts)?,
        ))
    }

    /// Re-filters the whole buffer in place, on two threads when it is big
    /// (a million lines is the case this is for).
    pub fn set_filter(&mut self, filter: LogFilter) {
        self.filter = filter;
        let (from, to) = (self.base, self.end());
        self.shown = if self.rows.len() < 50_000 {
            self.kept(from, to).into()
        } else {
            let mid = from + (to - from) / 2;
            let this = &*self;
            let (older, newer) = std::thread::scope(|scope| {
                let older = scope.spawn(move || this.kept(from, mid));
                let newer = this.kept(mid, to);
                (older.join().unwrap_or_default(), newer)
            });
            let mut shown: VecDeque<u64> = older.into();
            shown.extend(newer);
            shown
        };
    }

    /// The rows the filter keeps, as absolute numbers, oldest first.
    pub fn shown(&self) -> &VecDeque<u64> {
        &self.shown
    }

    /// The shown rows' text, for saving: one line each, markers included.
    pub fn shown_text(&self) -> String {
        let mut out = String::new();
        for abs in &self.shown {
            match self.get(*abs) {
                Some(Row::Line(e)) => out.push_str(&e.message),
                Some(Row::Dropped { count, reason, .. }) => {
                    out.push_str(&format!("[day2top: {}]", dropped_text(*count, reason)))
                }
                Some(Row::Resynced { .. }) => {
                    out.push_str("[day2top: the stream started over here]")
                }
                None => continue,
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64, priority: u8, message: &str) -> Row {
        Row::Line(Arc::new(LogEntry {
            cursor: format!("c{n}"),
            ts: n as i64,
            node: "n".into(),
            unit: Some("web.service".into()),
            task: None,
            file: None,
            identifier: None,
            stream: None,
            priority,
            message: message.into(),
            message_base64: None,
            fields: Default::default(),
        }))
    }

    #[test]
    fn bounded_and_numbered_for_good() {
        let mut b = LogBuffer::new(3);
        for n in 0..5 {
            b.push(line(n, 6, &format!("m{n}")));
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.evicted, 2);
        assert!(b.get(1).is_none());
        assert_eq!(b.get(4), Some(&line(4, 6, "m4")));
        assert_eq!(b.shown().iter().copied().collect::<Vec<_>>(), [2, 3, 4]);
        assert!(b.bytes() > 0);
    }

    #[test]
    fn a_big_buffer_filters_the_same_on_two_threads() {
        let mut b = LogBuffer::new(60_000);
        for n in 0..70_000u64 {
            b.push(line(n, (n % 8) as u8, &format!("m{n}")));
        }
        b.set_filter(LogFilter::parse("p<=2 m[0-9]*5$").unwrap());
        let shown: Vec<u64> = b.shown().iter().copied().collect();
        let expected: Vec<u64> = (10_000..70_000u64)
            .filter(|n| n % 8 <= 2 && n % 10 == 5)
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn a_window_keeps_its_lines_and_markers_and_outlives_the_filter_line() {
        let mut b = LogBuffer::new(100);
        for n in 0..10 {
            b.push(line(n * 100, 6, &format!("m{n}")));
        }
        b.push(Row::Resynced { at: 250 });
        b.push(Row::Resynced { at: 950 });
        b.set_window(Some(Window::new(200, 400)));
        let shown: Vec<i64> = b.shown().iter().map(|a| b.get(*a).unwrap().ts()).collect();
        assert_eq!(
            shown,
            [200, 300, 400, 250],
            "both ends are inside; a marker outside is not"
        );
        b.set_filter_line(LogFilter::parse("m3").unwrap());
        assert_eq!(b.shown().len(), 2, "m3 and the marker in the window");
        assert!(b.filter().window.is_some());
        b.push(line(350, 6, "m3 late"));
        b.push(line(999, 6, "m3 after"));
        assert_eq!(b.shown().len(), 3, "new lines are windowed as they come");
        b.set_window(None);
        assert_eq!(b.shown().len(), 5);
        assert_eq!(b.held_span(), Some((0, 999)));
    }

    #[test]
    fn older_rows_go_before_filtered_and_indexed_and_the_bound_lets_newest_go() {
        let mut b = LogBuffer::new(6);
        for n in 10..14 {
            b.push(line(n, if n % 2 == 0 { 3 } else { 6 }, &format!("m{n}")));
        }
        b.set_filter(LogFilter::parse("p<=3").unwrap());
        let shift = b.prepend((8..10).map(|n| line(n, 3, &format!("m{n}"))).collect());
        assert_eq!(shift, RENUMBER, "no room below row 0: renumbered");
        let shown: Vec<i64> = b.shown().iter().map(|a| b.get(*a).unwrap().ts()).collect();
        assert_eq!(shown, [8, 9, 10, 12]);
        assert_eq!(b.oldest_line().unwrap().message, "m8");
        // Two more: past the bound of 6, the newest go, and a marker says so.
        b.prepend((6..8).map(|n| line(n, 6, &format!("m{n}"))).collect());
        assert_eq!(b.len(), 6);
        assert_eq!(b.paged_out, 3);
        let all: Vec<String> = (b.end() - 6..b.end())
            .map(|a| match b.get(a).unwrap() {
                Row::Line(e) => e.message.clone(),
                Row::Dropped { reason, .. } => reason.clone(),
                Row::Resynced { .. } => "resynced".into(),
            })
            .collect();
        assert_eq!(all[..5], ["m6", "m7", "m8", "m9", "m10"]);
        assert!(all[5].starts_with("3 newer lines let go"), "{all:?}");
        let mut hits = Vec::new();
        b.matching(&FoldedRegex::new("^m(7|9)$").unwrap(), 0, u64::MAX, |a| {
            hits.push(a)
        });
        assert_eq!(hits.len(), 2, "the text index follows");
        assert_eq!(b.shown().len(), 4, "m8 m9 m10 and the marker");
    }

    #[test]
    fn filters_in_place_and_keeps_markers() {
        let mut b = LogBuffer::new(100);
        b.push(line(0, 3, "disk full"));
        b.push(Row::Dropped {
            count: 7,
            reason: String::new(),
            at: 1,
        });
        b.push(line(2, 6, "all good"));
        b.push(line(3, 4, "timeout talking to db"));
        b.set_filter(LogFilter::parse("p<=4").unwrap());
        assert_eq!(b.shown().iter().copied().collect::<Vec<_>>(), [0, 1, 3]);
        b.set_filter(LogFilter::parse("!timeout").unwrap());
        assert_eq!(b.shown().iter().copied().collect::<Vec<_>>(), [0, 1, 2]);
        b.set_filter(LogFilter::parse("src=web DISK").unwrap());
        assert_eq!(b.shown().iter().copied().collect::<Vec<_>>(), [0, 1]);
        b.push(line(4, 3, "disk again"));
        assert_eq!(
            b.shown().back(),
            Some(&4),
            "new lines are filtered as they come"
        );
        assert_eq!(b.dropped, 7);
        assert!(
            b.shown_text()
                .contains("[day2top: 7 lines dropped by the gateway")
        );
        assert!(LogFilter::parse("p<=x").unwrap_err().contains("0-7"));
        assert!(LogFilter::parse("(").unwrap_err().contains("not a regex"));
    }
}
