//! The commands of recording and replay: `:record`, `:mark`, and `:goto`
//! in a replay (the recording's time). What they drive is in
//! `tui::record` and `tui::replay`.

use std::path::PathBuf;

use super::App;
use crate::tui::effect::Effect;
use crate::tui::feature::Notice;
use crate::tui::model::SUB_RECORDED_LOGS;

/// `:record` starts (into FILE, else a new file in the data folder) or,
/// when one is under way or asked `stop`, stops.
pub(super) fn record(app: &mut App, args: &[&str]) -> Vec<Effect> {
    if app.recording.is_on() || args.first() == Some(&"stop") {
        app.notice = app
            .recording
            .stop()
            .map_or_else(Notice::error, Notice::info);
        // The console itself keeps no lines of it.
        return vec![Effect::Unsubscribe(SUB_RECORDED_LOGS.into())];
    }
    let data = crate::config::project_dirs().map(|d| d.data_dir().to_path_buf());
    let file = (!args.is_empty()).then(|| PathBuf::from(args.join(" ")));
    let origin = (app.origin.context.as_str(), app.origin.url.as_str());
    match app.recording.start(
        file.as_deref(),
        data.as_deref(),
        origin,
        app.share.is_on(),
        app.now,
    ) {
        Ok((effects, said)) => {
            app.notice = Notice::info(said);
            effects
        }
        Err(why) => {
            app.notice = Notice::error(why);
            vec![]
        }
    }
}

/// `:mark [TEXT]`, `m`.
pub(super) fn mark(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let label = args.join(" ");
    // A label typed while sharing is redacted like everything recorded.
    let label = match app.share.active() {
        Some(redactor) => redactor.text(&label).into_owned(),
        None => label,
    };
    let said = app.recording.mark(&label, app.now);
    app.notice = said.map_or_else(Notice::error, Notice::info);
    vec![]
}

/// `:goto TIME` in a replay: a time of the recording's day, a date and
/// time, or a span before its end.
pub(super) fn goto_in_replay(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let Some(bar) = &app.replay else {
        return Vec::new();
    };
    let text = args.join(" ");
    match crate::when::parse(&text, bar.last, &app.zone) {
        Ok(t) if t < bar.first || t > bar.last => {
            app.notice = Notice::error(format!("{text} is outside the recording"));
            Vec::new()
        }
        Ok(t) => vec![Effect::Seek(t)],
        Err(why) => {
            app.notice = Notice::error(why);
            Vec::new()
        }
    }
}
