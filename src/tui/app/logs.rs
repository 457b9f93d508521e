//! The log view's commands: `:goto` (in a replay, the replay's time
//! instead), `:widen` and `:save`.

use std::path::PathBuf;

use super::{App, Route};
use crate::tui::effect::Effect;
use crate::tui::feature::Notice;

pub(super) fn goto(app: &mut App, args: &[&str]) -> Vec<Effect> {
    if app.replay.is_some() {
        return super::recording::goto_in_replay(app, args);
    }
    if !matches!(app.route(), Route::Logs { .. }) {
        app.notice = Notice::error(":goto moves in the log view; open the logs first");
        return vec![];
    }
    let rows = app.rows().max(1);
    let mut effects = Vec::new();
    let when = args.join(" ");
    app.notice = app.logs.goto(
        &when,
        &app.model.logs,
        app.now,
        &app.zone,
        rows,
        &mut effects,
    );
    effects
}

pub(super) fn widen(app: &mut App, _args: &[&str]) -> Vec<Effect> {
    if !matches!(app.route(), Route::Logs { .. }) {
        app.notice = Notice::error(":widen widens a log view's time window; open one with o first");
        return vec![];
    }
    let rows = app.rows().max(1);
    app.notice = app.logs.widen(&mut app.model.logs, rows);
    vec![]
}

pub(super) fn save(app: &mut App, args: &[&str]) -> Vec<Effect> {
    if !matches!(app.route(), Route::Logs { .. }) {
        app.notice = Notice::error(":save writes the log view's lines; open the logs first");
        return vec![];
    }
    vec![Effect::Save {
        path: PathBuf::from(args[0]),
        contents: app.model.logs.shown_text(),
    }]
}
