//! Scrolling back past the oldest line the console holds: the page before
//! it is read from the gateway, which reads back into journald or a file
//! past its own buffer. `:goto` to a time before the oldest line reads
//! back, page by page, until it is reached. One read at a time; the
//! buffer stays bounded (the newest lines go, and a marker says so).

use std::sync::Arc;

use crate::api::UnixMillis;
use crate::client::{LogPage, PageAsk};
use crate::tui::effect::Effect;
use crate::tui::logs::buffer::{LogBuffer, Row};
use crate::tui::logs::view::LogScope;

/// Lines a scroll past the top reads.
const PAGE: usize = 2000;
/// Lines a `:goto` reads at a time.
const GOTO_PAGE: usize = 5000;

#[derive(Debug, Default)]
pub struct Older {
    /// Bumped when the view opens anew: an answer for an earlier view is
    /// dropped.
    generation: u64,
    loading: bool,
    /// Where the next page starts: the last page's position.
    token: Option<String>,
    /// Nothing older: why, in the gateway's word.
    end: Option<String>,
    /// A `:goto` reading back: the time it wants, and lines read for it.
    goto: Option<(UnixMillis, usize)>,
}

/// What came of a page.
pub enum Arrived {
    /// An answer for a view no longer open.
    Stale,
    /// Lines went before the oldest; `shift` is how far row numbers moved.
    Lines {
        count: usize,
        shift: u64,
    },
    Failed(String),
}

impl Older {
    pub fn reset(&mut self) {
        *self = Older {
            generation: self.generation + 1,
            ..Default::default()
        };
    }

    pub fn loading(&self) -> bool {
        self.loading
    }

    pub fn ended(&self) -> bool {
        self.end.is_some()
    }

    /// The read of the page before the oldest line, unless one is under way
    /// or there is nothing older.
    pub fn fetch(&mut self, scope: &LogScope, buf: &LogBuffer) -> Option<Effect> {
        if self.loading || self.end.is_some() {
            return None;
        }
        let oldest = buf.oldest_line();
        let before = self
            .token
            .clone()
            .or_else(|| oldest.map(|e| e.cursor.clone()))
            .unwrap_or_default();
        // Through a hub the oldest line names its own agent's place only:
        // the other agents read back from its time.
        let until = match (&self.token, oldest) {
            (None, Some(e)) if e.cursor.starts_with("fleet:") => Some(e.ts + 1),
            _ => None,
        };
        self.loading = true;
        let since = self.goto.map(|(at, _)| at);
        Some(Effect::FetchOlderLogs {
            generation: self.generation,
            filter: scope.filter(),
            ask: PageAsk {
                before: Some(before),
                since,
                until,
                limit: if since.is_some() { GOTO_PAGE } else { PAGE },
                ..Default::default()
            },
        })
    }

    /// Starts reading back to `at` (a `:goto` before the oldest line).
    pub fn goto(&mut self, at: UnixMillis, scope: &LogScope, buf: &LogBuffer) -> Option<Effect> {
        self.goto = Some((at, 0));
        self.fetch(scope, buf)
    }

    /// Whether a `:goto` is still reading back.
    pub fn goto_pending(&self) -> bool {
        self.goto.is_some()
    }

    /// The `:goto` under way, once its time is reached (or cannot be):
    /// the time, and whether it was reached.
    pub fn goto_done(&mut self, buf: &LogBuffer) -> Option<(UnixMillis, bool)> {
        let (at, read) = self.goto?;
        let reached = buf.oldest_line().is_some_and(|e| e.ts <= at) || self.token.is_none();
        if reached || self.end.is_some() || read >= buf.max_rows() {
            self.goto = None;
            return Some((at, reached || self.end.is_some()));
        }
        None
    }

    /// Takes a page: its lines go before the oldest; where history ends a
    /// marker says why.
    pub fn arrived(
        &mut self,
        generation: u64,
        result: Result<LogPage, String>,
        buf: &mut LogBuffer,
    ) -> Arrived {
        if generation != self.generation {
            return Arrived::Stale;
        }
        self.loading = false;
        let page = match result {
            Ok(page) => page,
            Err(why) => {
                self.goto = None;
                return Arrived::Failed(why);
            }
        };
        let count = page.entries.len();
        let at = page.entries.first().map(|e| e.ts);
        let mut rows: Vec<Row> = page
            .entries
            .into_iter()
            .map(|e| Row::Line(Arc::new(e)))
            .collect();
        if let Some((_, read)) = &mut self.goto {
            *read += count;
        }
        self.token = page.older;
        if self.token.is_none() {
            match page.end.as_deref() {
                // The `:goto`'s own bound: older lines are still there.
                Some("since") => {}
                end => {
                    let end = end.unwrap_or("start").to_string();
                    let at = at.or(buf.oldest_line().map(|e| e.ts)).unwrap_or(0);
                    rows.insert(
                        0,
                        Row::Dropped {
                            count: 0,
                            reason: end_text(&end).into(),
                            at,
                        },
                    );
                    self.end = Some(end);
                }
            }
        }
        let shift = buf.prepend(rows);
        if let Some(missing) = page.missing {
            return Arrived::Failed(format!("some older lines could not be read: {missing}"));
        }
        Arrived::Lines { count, shift }
    }
}

/// What the marker at the top of history says.
fn end_text(end: &str) -> &'static str {
    match end {
        "kept" => {
            "older lines are gone: the gateway's buffer begins here, and this source keeps no history of its own"
        }
        _ => "the beginning of these logs: nothing older in their sources",
    }
}
