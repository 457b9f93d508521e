//! Keys while the footer's line is open: editing, history, completion,
//! and handing the text to the feature on screen as it changes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::navigate::line_kind;
use super::{App, Effect, Mode, commands};

impl App {
    pub(super) fn on_line_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.mode == Mode::Command;
        match key.code {
            KeyCode::Esc => {
                if !command {
                    let kind = line_kind(self.mode);
                    self.with_feature(&mut Vec::new(), |f, cx| f.on_line_cancel(kind, cx));
                }
                self.mode = Mode::Normal;
                self.history.reset();
                return vec![];
            }
            KeyCode::Enter => {
                let mode = std::mem::replace(&mut self.mode, Mode::Normal);
                let text = self.line.text.clone();
                if command {
                    let line = text.trim().to_string();
                    self.history.push(&line);
                    return self.run_line(&line);
                }
                let kind = line_kind(mode);
                let mut effects = Vec::new();
                self.with_feature(&mut effects, |f, cx| f.on_line_enter(kind, &text, cx));
                return effects;
            }
            KeyCode::Tab if command => {
                if let Some(c) = self.completions.get(self.completion_index).cloned() {
                    self.line.set(&c);
                    self.completion_index += 1;
                    let keep = self.completion_index;
                    self.after_edit();
                    self.completion_index = keep.min(self.completions.len());
                }
                return vec![];
            }
            KeyCode::Up if command => {
                if let Some(line) = self.history.older().map(str::to_string) {
                    self.line.set(&line);
                }
            }
            KeyCode::Down if command => {
                let line = self.history.newer().map(str::to_string).unwrap_or_default();
                self.line.set(&line);
            }
            KeyCode::Backspace => {
                if self.line.text.is_empty() {
                    self.mode = Mode::Normal;
                    return vec![];
                }
                self.line.backspace();
            }
            KeyCode::Delete => self.line.delete(),
            KeyCode::Left => self.line.left(),
            KeyCode::Right => self.line.right(),
            KeyCode::Home => self.line.home(),
            KeyCode::End => self.line.end(),
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.line.set("")
            }
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.line.insert(c)
            }
            _ => return vec![],
        }
        self.after_edit();
        vec![]
    }

    /// After the line changed: filter or search live, or refresh completions.
    pub(super) fn after_edit(&mut self) {
        if self.mode == Mode::Command {
            self.completions = commands::complete(self, &self.line.text);
            self.completion_index = 0;
            return;
        }
        let (kind, text) = (line_kind(self.mode), self.line.text.clone());
        self.with_feature(&mut Vec::new(), |f, cx| f.on_line(kind, &text, cx));
    }
}
