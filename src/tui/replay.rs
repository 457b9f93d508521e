//! `day2top replay FILE`: the console over a recording instead of a
//! gateway. The messages recorded go to the App as the stream's would, at
//! their recorded times (the console's clock is the recording's), so every
//! view, filter, link and triage works as it did live. What needs a
//! gateway's answer (a trace's spans, older log pages, exec) says it is
//! not in the recording.
//!
//! Keys: Space plays or pauses, `+`/`-` change the speed (¼× to 16×), `.`
//! steps to the next entry, `[`/`]` go to the previous or next marker,
//! `p` follows the presenter's views (or stops), `:goto TIME` goes to a
//! time; everything else is the console's.

use std::time::Duration;

use color_eyre::Result;
use color_eyre::eyre::eyre;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::{Stream, StreamExt};

use crate::api::{Record, ServerMsg, UnixMillis};
use crate::client::StreamEvent;
use crate::gateway::filter::Matcher;
use crate::record::format::{Entry, What};
use crate::record::player::Player;
use crate::tui::app::{App, Mode, Route};
use crate::tui::chrome::timebar::ReplayBar;
use crate::tui::effect::Effect;
use crate::tui::event_loop::Surface;
use crate::tui::feature::Notice;
use crate::tui::model::{Model, SUB_LOGS, SUB_RECORDED_LOGS};

/// Frames at most this often (as live).
const FRAME: Duration = Duration::from_millis(33);
/// Entries applied at most between two looks at the keyboard.
const TURN: usize = 5000;

/// A recording played into an App: what the loop below drives, and a
/// test can drive headless.
pub struct Replay {
    pub player: Player,
    logs: Logs,
}

impl Replay {
    /// Starts at the recording's beginning.
    pub fn new(player: Player, app: &mut App) -> Replay {
        let mut replay = Replay {
            player,
            logs: Logs::default(),
        };
        replay.player.skip_events_of = Some(SUB_RECORDED_LOGS.into());
        let start = replay.player.span().0;
        replay.seek(app, start);
        app.replay = Some(bar_of(&replay.player));
        replay
    }

    pub fn seek(&mut self, app: &mut App, t: UnixMillis) {
        seek(app, &mut self.player, &mut self.logs, t);
    }

    /// A key, if it is the replay's (`None`: the console's).
    pub fn key(&mut self, app: &mut App, key: KeyEvent) -> Option<Vec<Effect>> {
        replay_key(app, &mut self.player, &mut self.logs, key)
    }

    pub fn effect(&mut self, app: &mut App, effect: Effect) {
        on_effect(app, &mut self.player, &mut self.logs, effect);
    }

    /// Applies every entry up to recorded time `t`, whatever the clock
    /// says (an export renders faster than the recording plays).
    pub fn advance_to(&mut self, app: &mut App, t: UnixMillis) {
        let mut presenter = None;
        for entry in self.player.until(t, usize::MAX) {
            presenter = apply(app, &self.logs, entry).or(presenter);
        }
        self.player.position = t;
        follow(app, &mut self.player, &mut self.logs, presenter);
        app.replay = Some(bar_of(&self.player));
    }

    /// Applies the entries due by the replay's clock.
    pub fn play_due(&mut self, app: &mut App) {
        let mut presenter = None;
        for entry in self.player.due(TURN) {
            presenter = apply(app, &self.logs, entry).or(presenter);
        }
        follow(app, &mut self.player, &mut self.logs, presenter);
    }
}

/// Runs the replay until the operator quits or the input ends.
pub async fn run(
    surface: &mut impl Surface,
    app: &mut App,
    player: Player,
    input: impl Stream<Item = std::io::Result<Event>>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    tokio::pin!(input);
    tokio::pin!(stop);
    let mut replay = Replay::new(player, app);
    if let Some(why) = &replay.player.recording.cut_short {
        app.notice = Notice::error(format!("this recording ends early: {why}"));
    }
    let mut last_draw = tokio::time::Instant::now() - FRAME;
    let mut dirty = true;
    let mut urgent = false;
    loop {
        let wait = replay.player.wait();
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(if urgent { last_draw } else { last_draw + FRAME }), if dirty => {
                app.now = replay.player.clock();
                app.replay = Some(bar_of(&replay.player));
                app.prepare();
                surface.show(app)?;
                last_draw = tokio::time::Instant::now();
                dirty = false;
                urgent = false;
            }
            event = input.next() => {
                let effects = match event {
                    Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                        match replay.key(app, key) {
                            Some(effects) => effects,
                            None => app.on_key(key),
                        }
                    }
                    Some(Ok(Event::Resize(w, h))) => app.on_resize(w, h),
                    Some(Ok(Event::Paste(text))) => app.on_paste(&text),
                    Some(Ok(_)) => Vec::new(),
                    Some(Err(e)) => return Err(eyre!("cannot read the terminal: {e}")),
                    None => break,
                };
                for effect in effects {
                    replay.effect(app, effect);
                }
                dirty = true;
                urgent = true;
            }
            _ = tokio::time::sleep(wait.unwrap_or(Duration::MAX)), if wait.is_some() => {
                replay.play_due(app);
                dirty = true;
            }
            _ = &mut stop => break,
            // The bar's clock moves between entries too.
            _ = tokio::time::sleep(Duration::from_millis(250)), if replay.player.playing => {
                dirty = true;
            }
        }
        if app.quit {
            break;
        }
    }
    Ok(())
}

/// The replay's own keys, in the normal mode outside an exec pane.
fn replay_key(
    app: &mut App,
    player: &mut Player,
    logs: &mut Logs,
    key: KeyEvent,
) -> Option<Vec<Effect>> {
    if app.mode != Mode::Normal
        || matches!(app.route(), Route::Exec { .. })
        || key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    match key.code {
        KeyCode::Char(' ') => {
            if player.toggle() {
                seek(app, player, logs, player.span().0);
            }
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            let speed = player.change_speed(true);
            app.notice = Notice::info(format!("speed {speed}×"));
        }
        KeyCode::Char('-') => {
            let speed = player.change_speed(false);
            app.notice = Notice::info(format!("speed {speed}×"));
        }
        KeyCode::Char('p') => {
            player.follow_presenter = !player.follow_presenter;
            app.notice = Notice::info(if player.follow_presenter {
                "following the presenter's views (p: on your own)"
            } else {
                "on your own (p: follow the presenter's views)"
            });
            if player.follow_presenter {
                let at = player.position;
                seek(app, player, logs, at);
            }
        }
        KeyCode::Char('.') => {
            for entry in player.step() {
                apply(app, logs, entry);
            }
        }
        KeyCode::Char(c @ ('[' | ']')) => match player.mark_near(c == ']') {
            Some((t, label)) => {
                seek(app, player, logs, t);
                app.notice = Notice::info(format!("▲ {label}"));
            }
            None => {
                app.notice = Notice::info(if c == ']' {
                    "no marker after this"
                } else {
                    "no marker before this"
                })
            }
        },
        _ => return None,
    }
    Some(Vec::new())
}

/// What the App asked for, as a replay can answer it.
fn on_effect(app: &mut App, player: &mut Player, logs: &mut Logs, effect: Effect) {
    match effect {
        Effect::Seek(t) => seek(app, player, logs, t),
        // A log view opened (or changed scope): its lines are the recorded
        // ones it admits, up to now.
        Effect::Subscribe(s) if s.sub == SUB_LOGS => {
            logs.matcher = Matcher::new(&s.filter).ok();
            player.skip_events_of = None;
            let at = player.position;
            seek(app, player, logs, at);
        }
        Effect::Unsubscribe(sub) if sub == SUB_LOGS => {
            logs.matcher = None;
            player.skip_events_of = Some(SUB_RECORDED_LOGS.into());
        }
        // The rest of the recording is what the subscriptions brought.
        Effect::Subscribe(_) | Effect::Unsubscribe(_) => {}
        Effect::Save { path, contents } => {
            app.notice = match std::fs::write(&path, contents) {
                Ok(()) => Notice::info(format!("saved to {}", path.display())),
                Err(e) => Notice::error(format!("cannot write {}: {e}", path.display())),
            };
        }
        // `:share` began: what was shown is gone; the same moment again,
        // redacted.
        Effect::SwitchContext(_) if app.share.is_on() => {
            let at = player.position;
            seek(app, player, logs, at);
        }
        Effect::SwitchContext(_) => {
            app.notice = Notice::error("a replay has no contexts: it is the recording's");
        }
        Effect::Copy(_) => {}
        Effect::FetchTrace { id } => app.on_trace(&id, Err(NOT_RECORDED.into())),
        Effect::FetchOlderLogs { generation, .. } => {
            for effect in app.on_older_logs(generation, Err(NOT_RECORDED.into())) {
                on_effect(app, player, logs, effect);
            }
        }
        Effect::FetchSeries { generation, .. } => {
            app.on_series_range(generation, Err(NOT_RECORDED.into()))
        }
        Effect::FetchAgents => app.on_agents(Err(NOT_RECORDED.into())),
        Effect::FetchAlerts => app.model.alerts = Some(Err(NOT_RECORDED.into())),
        Effect::Change { .. } | Effect::StartExec { .. } => {
            app.notice = Notice::error("a replay changes nothing: it has no gateway");
        }
        Effect::ExecInput { .. } | Effect::CloseExec { .. } => {}
    }
}

const NOT_RECORDED: &str = "not in the recording: a replay has only what the stream brought";

/// The log view's lines: every line was recorded (`SUB_RECORDED_LOGS`);
/// the open view shows those its scope admits, as its own subscription
/// would have brought them.
#[derive(Default)]
struct Logs {
    matcher: Option<Matcher>,
}

impl Logs {
    /// A recorded message as the console is to get it; `None` for the
    /// presenter's own log view's lines (every line is in the recorded
    /// ones), and for lines while no log view is open.
    fn view(&self, msg: ServerMsg) -> Option<ServerMsg> {
        match msg {
            ServerMsg::Snapshot { sub, .. } | ServerMsg::Event { sub, .. } if sub == SUB_LOGS => {
                None
            }
            ServerMsg::Snapshot {
                sub,
                seq,
                epoch,
                items,
                more,
            } if sub == SUB_RECORDED_LOGS => {
                let matcher = self.matcher.as_ref()?;
                Some(ServerMsg::Snapshot {
                    sub: SUB_LOGS.into(),
                    seq,
                    epoch,
                    items: items
                        .into_iter()
                        .filter(|r| matches!(r, Record::Log(e) if matcher.matches_log(e)))
                        .collect(),
                    more,
                })
            }
            ServerMsg::Event { sub, events } if sub == SUB_RECORDED_LOGS => {
                let matcher = self.matcher.as_ref()?;
                let events: Vec<_> = events
                    .into_iter()
                    .filter(|e| matches!(&e.data, Record::Log(l) if matcher.matches_log(l)))
                    .collect();
                (!events.is_empty()).then(|| ServerMsg::Event {
                    sub: SUB_LOGS.into(),
                    events,
                })
            }
            other => Some(other),
        }
    }
}

/// Goes to `t`, and where the presenter was by then when following them.
fn seek(app: &mut App, player: &mut Player, logs: &mut Logs, t: UnixMillis) {
    let presenter = restart_at(app, player, logs, t);
    follow(app, player, logs, presenter);
}

/// Goes where the presenter went, when following them.
fn follow(app: &mut App, player: &mut Player, logs: &mut Logs, routes: Option<serde_json::Value>) {
    if let Some(routes) = routes.filter(|_| player.follow_presenter) {
        for effect in app.show_routes(routes) {
            on_effect(app, player, logs, effect);
        }
    }
}

/// The console starts over from the keyframe before `t`; returns where
/// the presenter was by then, if the recording says.
fn restart_at(
    app: &mut App,
    player: &mut Player,
    logs: &Logs,
    t: UnixMillis,
) -> Option<serde_json::Value> {
    let entries = player.seek(t);
    let rows = app.model.logs.max_rows();
    app.model = Model::default();
    app.model.logs = crate::tui::logs::buffer::LogBuffer::new(rows);
    app.tables.invalidate();
    // Connected until the recording says otherwise (one begun from the
    // console has no `connected` of its own).
    app.on_stream(StreamEvent::Connected, t);
    let mut presenter = None;
    for entry in entries {
        presenter = apply(app, logs, entry).or(presenter);
    }
    app.now = player.position;
    presenter
}

/// One recorded entry, as the console took it live; a view change of the
/// presenter's is returned (their route stack) for the caller to follow.
fn apply(app: &mut App, logs: &Logs, entry: Entry) -> Option<serde_json::Value> {
    let t = entry.t;
    // In share mode the recording's messages pass the same redactor the
    // live stream's do.
    let share = app.share.clone();
    let shown = |msg: ServerMsg| match share.active() {
        Some(redactor) => redactor.message(msg),
        None => msg,
    };
    match entry.what {
        What::Msg(msg) => {
            if let Some(msg) = logs.view(msg) {
                app.on_stream(StreamEvent::Message(shown(msg)), t);
            }
        }
        What::Keyframe(msgs) => {
            for msg in msgs.into_iter().filter_map(|m| logs.view(m)) {
                app.on_stream(StreamEvent::Message(shown(msg)), t);
            }
        }
        What::Link(state) if state == "connected" => app.on_stream(StreamEvent::Connected, t),
        What::Link(error) => app.on_stream(
            StreamEvent::Disconnected {
                error,
                retry_in: Duration::ZERO,
                attempt: 1,
            },
            t,
        ),
        What::Mark(label) => {
            let label = match share.active() {
                Some(redactor) => redactor.text(&label).into_owned(),
                None => label,
            };
            app.notice = Notice::info(format!("▲ {label}"))
        }
        What::View(view) => return Some(view.routes),
    }
    None
}

fn bar_of(player: &Player) -> ReplayBar {
    let (first, last) = player.span();
    ReplayBar {
        position: player.clock(),
        first,
        last,
        playing: player.playing,
        speed: player.speed,
        marks: player.recording.marks().cloned().collect(),
        trouble: player.trouble.clone(),
        presenter: player.follow_presenter,
    }
}
