//! The interface every feature offers the [`App`](crate::tui::app::App),
//! the same for all (gitui's components): its key hints next to the
//! handler that acts on them, an `act` that says whether it took the
//! action, and the `/` line when the view has one. Drawing is separate:
//! each feature's `draw.rs` reads its state, the model and the theme.

use crate::tui::config::action::{Action, ViewKind};
use crate::tui::config::defs::Defs;
use crate::tui::effect::Effect;
use crate::tui::model::Model;

/// A line in the footer for the operator: what happened, or what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

impl Notice {
    pub fn error(text: impl Into<String>) -> Option<Notice> {
        Some(Notice {
            text: text.into(),
            error: true,
        })
    }

    pub fn info(text: impl Into<String>) -> Option<Notice> {
        Some(Notice {
            text: text.into(),
            error: false,
        })
    }
}

/// What a feature may read and change, besides its own state, while it acts.
pub struct Cx<'a> {
    /// The view on screen (one feature can serve several: the tables).
    pub view: ViewKind,
    pub model: &'a mut Model,
    pub defs: &'a Defs,
    /// Rows the view's body shows, for paging.
    pub rows: usize,
    pub notice: &'a mut Option<Notice>,
    pub effects: &'a mut Vec<Effect>,
}

/// How far a movement action moves a list's cursor, for a page of `rows`
/// rows: `Top` and `Bottom` as far as any list goes (the list clamps).
pub fn movement(action: Action, rows: usize) -> Option<isize> {
    let page = rows.max(1) as isize;
    Some(match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => return None,
    })
}

/// The line the footer opens for a view: a filter narrows what is shown,
/// a search marks and moves to what matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Filter,
    Search,
}

pub trait Feature {
    /// The actions the view offers, in the hint bar's order. The hint bar
    /// and `?` help are built from this list, so they cannot drift from
    /// what `act` does.
    fn hints(&self, view: ViewKind) -> &'static [Action];

    /// Acts on `action`; false when it is not this view's to take (then the
    /// App's own handling, navigation and the like, takes it).
    fn act(&mut self, action: Action, cx: &mut Cx) -> bool;

    /// The text a `kind` line opens with, or `None` when the view has none.
    fn line(&self, _kind: LineKind, _cx: &Cx) -> Option<String> {
        None
    }

    /// The line's text changed: filter or search as the operator types.
    fn on_line(&mut self, _kind: LineKind, _text: &str, _cx: &mut Cx) {}

    /// Enter on the line.
    fn on_line_enter(&mut self, _kind: LineKind, _text: &str, _cx: &mut Cx) {}

    /// Esc on the line: what it did is dropped.
    fn on_line_cancel(&mut self, _kind: LineKind, _cx: &mut Cx) {}
}

/// What every draw reads besides its feature's state: the model, the
/// definitions (theme, views, dashboards), the time to show and the
/// terminal's size. Drawing only reads.
#[derive(Clone, Copy)]
pub struct Scene<'a> {
    pub model: &'a Model,
    pub defs: &'a Defs,
    pub now: crate::api::UnixMillis,
    /// The local zone's rules, for absolute times (read once at start).
    pub zone: &'a jiff::tz::TimeZone,
    pub size: (u16, u16),
}
