//! The log view: the bounded buffer the stream fills, its filter and text
//! index, search, colouring, `:goto`, and drawing. Logs are subscribed to
//! only while the view is open: they cost bandwidth only while looked at.

pub mod ansi;
pub mod buffer;
pub mod colour;
pub mod draw;
pub mod folded;
pub mod index;
pub mod older;
pub mod syntax;
pub mod view;

use std::collections::HashMap;

use crate::api::{Topic, UnixMillis};
use crate::client::Subscription;
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::effect::Effect;
use crate::tui::feature::{Cx, Feature, LineKind, Notice};
use crate::tui::links::window::Window;
use crate::tui::model::SUB_LOGS;
use buffer::{LogBuffer, LogFilter, Row};
use syntax::{Runs, Syntax};
use view::{LogScope, LogView, Search, TimeMode};

/// The log view's state; the lines themselves are the model's.
#[derive(Debug)]
pub struct Logs {
    pub view: LogView,
    /// JSON and logfmt colouring (built once).
    pub syntax: Syntax,
    /// The colouring of the rows on screen, by row number: worked out in
    /// `prepare` for rows new on screen, so a frame parses only those.
    pub colours: HashMap<u64, Option<Runs>>,
    /// Where the next log view opened should pause, once its lines come.
    pub open_at: Option<UnixMillis>,
    /// The window the next log view opened shows (a link's).
    pub open_window: Option<Window>,
    /// Reading back past the oldest line held.
    pub older: older::Older,
}

impl Default for Logs {
    fn default() -> Logs {
        Logs {
            view: LogView::new(LogScope::All),
            syntax: Syntax::new(),
            colours: HashMap::new(),
            open_at: None,
            open_window: None,
            older: older::Older::default(),
        }
    }
}

const HINTS: &[Action] = &[
    Action::Follow,
    Action::Search,
    Action::NextMatch,
    Action::FilterLogs,
    Action::ToggleWrap,
    Action::CycleTime,
    Action::ToggleSource,
];

impl Logs {
    /// Opens the view on `scope`: the buffer starts over, and the
    /// subscription that fills it is asked for.
    pub fn open(&mut self, scope: LogScope, buf: &mut LogBuffer) -> Effect {
        buf.clear();
        self.older.reset();
        self.view = LogView::new(scope.clone());
        let window = self.open_window.take();
        buf.set_window(window);
        if window.is_some() {
            // A window is absolute time: so are its lines'.
            self.view.time = TimeMode::Absolute;
        }
        self.view.pending_at = self.open_at.take().or(window.map(|w| w.from));
        Effect::Subscribe(Box::new(Subscription {
            sub: SUB_LOGS.into(),
            topic: Topic::Logs,
            filter: scope.filter(),
        }))
    }

    /// Before a frame of `rows` rows: pause where asked once lines came, and
    /// colour the rows new on screen.
    pub fn prepare(&mut self, buf: &LogBuffer, rows: usize) {
        if let Some(at) = self.view.pending_at
            && !buf.shown().is_empty()
        {
            self.view.pending_at = None;
            self.view.pause_at(buf, at, rows);
        }
        let first = self.view.first_shown(buf, rows);
        let on_screen: Vec<u64> = buf.shown().iter().skip(first).take(rows).copied().collect();
        self.colours.retain(|abs, _| on_screen.contains(abs));
        for abs in on_screen {
            if let (false, Some(Row::Line(e))) = (self.colours.contains_key(&abs), buf.get(abs)) {
                let runs = colour::syntax_runs(&self.syntax, &e.message);
                self.colours.insert(abs, runs);
            }
        }
    }

    /// `:widen`: the window twice as long around the same middle.
    pub fn widen(&mut self, buf: &mut LogBuffer, rows: usize) -> Option<Notice> {
        let Some(window) = buf.filter().window else {
            return Notice::info("this log view has no time window to widen");
        };
        let wider = window.widen();
        buf.set_window(Some(wider));
        self.view.pause_at(buf, wider.from, rows);
        None
    }

    /// `:goto TIME`: the first shown line at or after that time, paused
    /// there; a time before the oldest line held reads back to it.
    pub fn goto(
        &mut self,
        when: &str,
        buf: &LogBuffer,
        now: UnixMillis,
        zone: &jiff::tz::TimeZone,
        rows: usize,
        effects: &mut Vec<Effect>,
    ) -> Option<Notice> {
        let target = match crate::when::parse(when, now, zone) {
            Ok(target) => target,
            Err(why) => return Notice::error(why),
        };
        let before_held = buf.oldest_line().is_none_or(|e| e.ts > target);
        if before_held && !self.older.ended() {
            if let Some(read) = self.older.goto(target, &self.view.scope, buf) {
                effects.push(read);
            }
            return Notice::info(format!("reading back to {when}…"));
        }
        match self.view.pause_at(buf, target, rows) {
            true => None,
            false => Notice::info(format!("no line at or after {when}")),
        }
    }

    /// A page of older lines came: it goes before the oldest, the screen
    /// stays where it was, and a `:goto` reading back goes on or lands.
    pub fn on_older(
        &mut self,
        generation: u64,
        result: Result<crate::client::LogPage, String>,
        buf: &mut LogBuffer,
        rows: usize,
        effects: &mut Vec<Effect>,
    ) -> Option<Notice> {
        let notice = match self.older.arrived(generation, result, buf) {
            older::Arrived::Stale => return None,
            older::Arrived::Failed(why) => Notice::error(format!("older lines: {why}")),
            older::Arrived::Lines { count, shift } => {
                if shift > 0 {
                    self.view.top += shift;
                    self.colours.clear();
                }
                match (count, self.older.ended()) {
                    (0, true) => Notice::info("nothing older"),
                    (n, _) => Notice::info(format!("{n} older lines read")),
                }
            }
        };
        if let Some((at, reached)) = self.older.goto_done(buf) {
            self.view.pause_at(buf, at, rows);
            return match reached {
                true => Notice::info("read back to the time asked for"),
                false => Notice::info(format!(
                    "stopped reading back at the buffer's bound of {} lines; day2top logs --since reads further",
                    buf.max_rows()
                )),
            };
        }
        if self.older.goto_pending() {
            effects.extend(self.older.fetch(&self.view.scope, buf));
            return Notice::info("reading back…");
        }
        notice
    }

    /// At the top of what is held: read the page before it.
    fn at_top(
        &mut self,
        buf: &LogBuffer,
        height: usize,
        cx_effects: &mut Vec<Effect>,
    ) -> Option<Notice> {
        if self.view.follow || self.view.first_shown(buf, height) > 0 {
            return None;
        }
        let read = self.older.fetch(&self.view.scope, buf)?;
        cx_effects.push(read);
        Notice::info("reading older lines from the gateway…")
    }
}

impl Feature for Logs {
    fn hints(&self, _view: ViewKind) -> &'static [Action] {
        HINTS
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let page = cx.rows.max(1) as isize;
        let height = cx.rows.max(1);
        if matches!(action, Action::Up | Action::PageUp | Action::Top) {
            let buf = &cx.model.logs;
            match action {
                Action::Up => self.view.scroll(buf, height, -1),
                Action::PageUp => self.view.scroll(buf, height, -page),
                _ => self.view.to_top(buf),
            }
            if let Some(notice) = self.at_top(buf, height, cx.effects) {
                *cx.notice = Some(notice);
            }
            return true;
        }
        if matches!(action, Action::Bottom | Action::Follow) && cx.model.logs.paged_out > 0 {
            // The newest lines went to hold older ones: read them again.
            let scope = self.view.scope.clone();
            let open = self.open(scope, &mut cx.model.logs);
            cx.effects.push(open);
            return true;
        }
        let (view, buf) = (&mut self.view, &mut cx.model.logs);
        match action {
            Action::Down => view.scroll(buf, height, 1),
            Action::PageDown => view.scroll(buf, height, page),
            Action::Bottom | Action::Follow => view.follow = true,
            Action::ToggleWrap => view.wrap = !view.wrap,
            Action::ToggleSource => view.source = !view.source,
            Action::CycleTime => {
                view.time = match view.time {
                    TimeMode::Relative => TimeMode::Absolute,
                    TimeMode::Absolute => TimeMode::Off,
                    TimeMode::Off => TimeMode::Relative,
                }
            }
            Action::NextMatch | Action::PrevMatch => {
                match view.find(buf, height, action == Action::NextMatch) {
                    Some(index) => view.show(buf, index, height),
                    None if view.search.is_some() => *cx.notice = Notice::info("no more matches"),
                    None => {}
                }
            }
            // Esc first clears a search, then a filter; then it goes back.
            Action::Back if view.search.is_some() => view.search = None,
            Action::Back if !buf.filter().is_empty() => buf.set_filter_line(LogFilter::default()),
            _ => return false,
        }
        true
    }

    fn line(&self, kind: LineKind, cx: &Cx) -> Option<String> {
        Some(match kind {
            LineKind::Search => self
                .view
                .search
                .as_ref()
                .map(|s| s.text.clone())
                .unwrap_or_default(),
            LineKind::Filter => cx.model.logs.filter().text.clone(),
        })
    }

    fn on_line(&mut self, kind: LineKind, text: &str, cx: &mut Cx) {
        match kind {
            LineKind::Search => self.view.search = Search::new(text),
            LineKind::Filter => match LogFilter::parse(text) {
                Ok(filter) => {
                    cx.model.logs.set_filter_line(filter);
                    *cx.notice = None;
                }
                Err(e) => *cx.notice = Notice::error(e),
            },
        }
    }

    /// Enter on a search: like less's `?`, the nearest match above the
    /// screen's bottom.
    fn on_line_enter(&mut self, kind: LineKind, text: &str, cx: &mut Cx) {
        if kind != LineKind::Search {
            return;
        }
        let height = cx.rows.max(1);
        let (view, buf) = (&mut self.view, &cx.model.logs);
        let found = view
            .find(buf, height, false)
            .or_else(|| view.find(buf, height, true));
        match found {
            Some(index) => view.show(buf, index, height),
            None => *cx.notice = Notice::info(format!("no line matches {text:?}")),
        }
    }

    fn on_line_cancel(&mut self, kind: LineKind, cx: &mut Cx) {
        match kind {
            LineKind::Search => self.view.search = None,
            LineKind::Filter => cx.model.logs.set_filter_line(LogFilter::default()),
        }
    }
}
