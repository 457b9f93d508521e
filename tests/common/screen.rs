//! Driving the console without a terminal: keys, a line typed, a frame
//! drawn as text, and golden screens in `snapshots/`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use day2top::tui::app::{App, Effect};
use day2top::tui::screen;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A key, then the state brought up to date as before a frame.
pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let effects = app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    app.prepare();
    effects
}

/// Keys for each character; a newline is Enter.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(
            app,
            if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            },
        );
    }
}

/// One frame at this size, as text.
pub fn render(app: &mut App, width: u16, height: u16) -> String {
    app.on_resize(width, height);
    app.prepare();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| screen::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

/// Draws at a size too small to show as text (0 wide): only that it draws.
pub fn draws(app: &mut App, width: u16, height: u16) {
    app.on_resize(width, height);
    app.prepare();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| screen::draw(f, app)).unwrap();
}

/// Compares a screen with its golden file in `snapshots/`.
pub fn golden(name: &str, screen: String) {
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, screen);
    });
}
