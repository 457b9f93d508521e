//! The console: a k9s-like terminal UI over the gateway's streams.
//!
//! One `select!` loop takes terminal input, stream messages and signals,
//! drains whatever is queued, and draws only when something changed: at
//! most 30 frames a second for data, at once for a key (the operator waits
//! on it). Input comes before stream messages, and a drain of messages
//! gives way after a few milliseconds, so keys are never starved by data.
//! Idle, it does not wake up at all.

pub mod alerts;
pub mod app;
pub mod asciicast;
pub mod chrome;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod dash;
pub mod effect;
pub mod event_loop;
pub mod exec;
pub mod feature;
pub mod links;
pub mod logs;
pub mod model;
pub mod record;
pub mod replay;
pub mod screen;
pub mod tables;
pub mod task;
pub mod traces;
pub mod triage;
pub mod widgets;

use std::io::Write;
use std::path::PathBuf;

use color_eyre::eyre::{Result, eyre};
use crossterm::event::EventStream;
use tokio::signal::unix::{SignalKind, signal};

use crate::api::now_millis;
use app::App;
use config::defs::Defs;
pub use connection::Context;
use connection::origin;

pub struct ConsoleConfig {
    pub contexts: Vec<Context>,
    /// Which of `contexts` to start with.
    pub initial: usize,
    pub theme: String,
    pub keymap: String,
    /// Where user themes, keymaps and views live.
    pub config_dir: Option<PathBuf>,
    /// Log lines the console keeps.
    pub log_lines: usize,
    /// Draw only ASCII glyphs.
    pub ascii: bool,
    /// Share mode, prepared (and on with `--share`).
    pub share: crate::redact::Share,
}

/// Puts the terminal back however the console ends: return, error or panic
/// (ratatui's panic hook restores too, before the report is printed).
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
        ratatui::restore();
    }
}

pub async fn run(config: ConsoleConfig) -> Result<()> {
    let context = config
        .contexts
        .get(config.initial)
        .ok_or_else(|| eyre!("no gateway to connect to"))?
        .clone();
    let mut app = console_app(&config, origin(&context));
    let mut screen = Screen::open(&mut app)?;
    event_loop::run_loop(
        &mut screen.terminal,
        &mut app,
        &config.contexts,
        EventStream::new(),
        stopped()?,
    )
    .await
}

/// The console over a recording (`day2top replay`).
pub async fn replay(config: ConsoleConfig, player: crate::record::player::Player) -> Result<()> {
    let header = &player.recording.header;
    let origin = chrome::bars::Origin {
        context: format!("replay of {}", player.recording.base.display()),
        url: header.gateway.clone(),
        cluster: None,
        readonly: true,
    };
    let mut app = console_app(&config, origin);
    app.replay = Some(Default::default());
    let mut screen = Screen::open(&mut app)?;
    replay::run(
        &mut screen.terminal,
        &mut app,
        player,
        EventStream::new(),
        stopped()?,
    )
    .await
}

/// A recording rendered to an asciicast v2 file at `size`, with no
/// terminal (`day2top replay FILE --asciicast OUT`).
pub fn export_asciicast(
    config: ConsoleConfig,
    player: crate::record::player::Player,
    out: &mut impl Write,
    size: (u16, u16),
) -> std::result::Result<asciicast::Written, String> {
    let origin = chrome::bars::Origin {
        context: format!("replay of {}", player.recording.base.display()),
        url: player.recording.header.gateway.clone(),
        cluster: None,
        readonly: true,
    };
    let mut app = console_app(&config, origin);
    asciicast::export(player, &mut app, size, out)
}

/// The App as the configuration asks.
fn console_app(config: &ConsoleConfig, origin: chrome::bars::Origin) -> App {
    let mut defs = Defs::load(config.config_dir.as_deref(), &config.theme, &config.keymap);
    defs.ascii = config.ascii;
    for warning in &defs.warnings {
        tracing::warn!("{warning}");
    }
    let names = config.contexts.iter().map(|c| c.name.clone()).collect();
    let mut app = App::new(defs, origin, names, config.config_dir.clone(), now_millis());
    app.model.logs = logs::buffer::LogBuffer::new(config.log_lines);
    app.share = config.share.clone();
    // The zone's rules, once: TZ, else /etc/localtime; UTC if neither reads.
    app.zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    if let Some(value) = std::env::var_os("NO_COLOR").filter(|v| !v.is_empty()) {
        app.sessions
            .env
            .insert("NO_COLOR".into(), value.to_string_lossy().into_owned());
    }
    app
}

/// A hangup or a SIGTERM: the console ends, the terminal put back.
fn stopped() -> Result<impl std::future::Future<Output = ()>> {
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = hangup.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// The terminal taken over for the console, and given back when dropped.
struct Screen {
    terminal: Synced,
    _restore: RestoreGuard,
}

impl Screen {
    fn open(app: &mut App) -> Result<Screen> {
        let terminal = Synced(ratatui::init());
        let restore = RestoreGuard;
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste)?;
        if let Ok(size) = terminal.0.size() {
            app.size = (size.width, size.height);
        }
        Ok(Screen {
            terminal,
            _restore: restore,
        })
    }
}

/// The terminal, drawn in synchronized updates so a frame never shows half
/// drawn.
struct Synced(ratatui::DefaultTerminal);

impl event_loop::Surface for Synced {
    fn clipboard(&mut self, base64: &str) -> Result<()> {
        write!(self.0.backend_mut(), "\x1b]52;c;{base64}\x07")?;
        self.0.backend_mut().flush()?;
        Ok(())
    }

    fn show(&mut self, app: &App) -> Result<()> {
        use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
        crossterm::execute!(self.0.backend_mut(), BeginSynchronizedUpdate)?;
        self.0.draw(|frame| screen::draw(frame, app))?;
        crossterm::execute!(self.0.backend_mut(), EndSynchronizedUpdate)?;
        self.0.backend_mut().flush()?;
        Ok(())
    }
}
