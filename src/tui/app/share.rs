//! `:share` (share mode on, for good), `:share why` (which rules hid what
//! is in focus), and `y` (copy what is in focus, refused while sharing).

use base64::Engine;

use super::{App, Route};
use crate::tui::effect::Effect;
use crate::tui::feature::Notice;

pub(super) fn share(app: &mut App, args: &[&str]) -> Vec<Effect> {
    match args.first().copied() {
        None | Some("on") => start(app),
        Some("why") => {
            why(app);
            vec![]
        }
        Some("off") => {
            app.notice = Notice::error(
                "share mode stays on until day2top exits: what was hidden must not show later",
            );
            vec![]
        }
        Some(other) => {
            app.notice = Notice::error(format!(":share {other}? use :share, or :share why"));
            vec![]
        }
    }
}

/// Share mode on: exec sessions close, a recording stops (its file began
/// unredacted), what the console held is dropped and asked for again,
/// redacted from its first message.
fn start(app: &mut App) -> Vec<Effect> {
    if app.share.is_on() {
        app.notice = Notice::info("share mode is on (it stays on until day2top exits)");
        return vec![];
    }
    if !app.share.turn_on() {
        app.notice = Notice::error("share mode cannot start here");
        return vec![];
    }
    let mut effects: Vec<Effect> = (app.sessions.panes.iter())
        .map(|pane| Effect::CloseExec { id: pane.id })
        .collect();
    app.sessions = super::Sessions {
        env: std::mem::take(&mut app.sessions.env),
        ..Default::default()
    };
    let mut said = String::from("share mode on: secrets are replaced by placeholders");
    if app.recording.is_on() {
        let _ = app.recording.stop();
        effects.push(Effect::Unsubscribe(
            crate::tui::model::SUB_RECORDED_LOGS.into(),
        ));
        said.push_str("; the recording stopped (R records anew, redacted)");
    }
    app.forget_wire_data();
    effects.push(Effect::SwitchContext(app.origin.context.clone()));
    app.notice = Notice::info(said);
    effects
}

/// Names the rules behind the placeholders in focus.
fn why(app: &mut App) {
    let Some(redactor) = app.share.active() else {
        app.notice = Notice::error("share mode is off: nothing is hidden (:share turns it on)");
        return;
    };
    let Some(text) = app.focus_text() else {
        app.notice =
            Notice::error(":share why explains the selected row, or the log lines on screen");
        return;
    };
    let rules = redactor.why(&text);
    app.notice = Notice::info(if rules.is_empty() {
        "nothing here was hidden".to_string()
    } else {
        let named: Vec<String> = rules
            .iter()
            .map(|(id, description)| format!("{id}#…: {description}"))
            .collect();
        format!("hidden here: {}", named.join("; "))
    });
}

/// `y`: what is in focus to the terminal's clipboard (OSC 52), except
/// while sharing, when nothing leaves the screen.
pub(super) fn copy(app: &mut App) -> Vec<Effect> {
    if app.share.is_on() {
        app.notice = Notice::error("copying is off while sharing the screen");
        return vec![];
    }
    let Some(text) = app.focus_copy() else {
        app.notice = Notice::error("nothing selected to copy");
        return vec![];
    };
    let lines = text.lines().count().max(1);
    app.notice = Notice::info(format!(
        "copied {lines} line{} (if the terminal allows OSC 52)",
        if lines == 1 { "" } else { "s" }
    ));
    vec![Effect::Copy(
        base64::engine::general_purpose::STANDARD.encode(text),
    )]
}

impl App {
    /// The text in focus: the selected row's whole object, the task open,
    /// the span selected, or the log lines on screen.
    pub fn focus_text(&self) -> Option<String> {
        match self.route() {
            Route::Logs { .. } => Some(self.log_lines_on_screen()),
            Route::Task { id } => json(self.model.tasks.get(id.as_str())),
            Route::Tasks { .. } => {
                let id = self.tables.tasks.selected_id()?;
                json(self.model.tasks.get(id))
            }
            Route::Nodes => {
                let id = self.tables.nodes.selected_id()?;
                json(self.model.nodes.get(id))
            }
            Route::Health => json(self.selected_check()),
            Route::Traces => {
                let id = self.tables.traces.selected_id()?;
                json(self.model.traces.get(id))
            }
            Route::Trace { .. } => json(self.trace_view.selected()),
            _ => None,
        }
    }

    /// What `y` copies: the selected row's name, the task open, or the
    /// log lines on screen.
    fn focus_copy(&self) -> Option<String> {
        match self.route() {
            Route::Logs { .. } => Some(self.log_lines_on_screen()),
            Route::Task { id } => Some(id.clone()),
            Route::Trace { .. } => self.trace_view.selected().map(|s| s.name.clone()),
            _ => {
                let table = self.tables.of(self.view_kind())?;
                table.selected_id().map(str::to_string)
            }
        }
    }

    fn log_lines_on_screen(&self) -> String {
        let buf = &self.model.logs;
        let rows = self.rows().max(1);
        let first = self.logs.view.first_shown(buf, rows);
        let mut out = String::new();
        for abs in buf.shown().iter().skip(first).take(rows) {
            if let Some(crate::tui::logs::buffer::Row::Line(e)) = buf.get(*abs) {
                out.push_str(&e.message);
                out.push('\n');
            }
        }
        out
    }
}

/// A model object as JSON text: every string of it, labels included.
fn json<T: serde::Serialize>(item: Option<&T>) -> Option<String> {
    item.and_then(|v| serde_json::to_string(v).ok())
}
