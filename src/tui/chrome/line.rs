//! The one-line editor behind `:` and `/`, with history and completion.

use std::collections::VecDeque;

/// How many command lines are remembered.
const HISTORY: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct LineEdit {
    pub text: String,
    /// The cursor as a char index.
    pub cursor: usize,
}

impl LineEdit {
    pub fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = text.chars().count();
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    pub fn insert(&mut self, c: char) {
        // One line: a pasted newline or control character is not text.
        if c.is_control() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }
}

#[derive(Debug, Clone, Default)]
pub struct History {
    lines: VecDeque<String>,
    /// Where Up/Down is in the history; `None` when editing a new line.
    pos: Option<usize>,
}

impl History {
    pub fn push(&mut self, line: &str) {
        self.pos = None;
        if line.is_empty() || self.lines.front().is_some_and(|l| l == line) {
            return;
        }
        self.lines.push_front(line.to_string());
        self.lines.truncate(HISTORY);
    }

    pub fn older(&mut self) -> Option<&str> {
        let next = self.pos.map_or(0, |p| p + 1);
        if next < self.lines.len() {
            self.pos = Some(next);
        }
        self.pos.and_then(|p| self.lines.get(p)).map(String::as_str)
    }

    pub fn newer(&mut self) -> Option<&str> {
        match self.pos {
            Some(0) | None => {
                self.pos = None;
                None
            }
            Some(p) => {
                self.pos = Some(p - 1);
                self.lines.get(p - 1).map(String::as_str)
            }
        }
    }

    pub fn reset(&mut self) {
        self.pos = None;
    }
}

/// The candidates that complete the last word of `line`, given the words
/// that may stand there.
pub fn complete(line: &str, commands: &[&str], args: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    let mut words = line.split(' ');
    let first = words.next().unwrap_or("");
    match words.next() {
        None => commands
            .iter()
            .filter(|c| c.starts_with(first) && **c != first)
            .map(|c| c.to_string())
            .collect(),
        Some(arg) => args(first)
            .into_iter()
            .filter(|a| a.starts_with(arg) && a != arg)
            .map(|a| format!("{first} {a}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_unicode_and_ignores_controls() {
        let mut line = LineEdit::default();
        for c in "héllo\x1b".chars() {
            line.insert(c);
        }
        assert_eq!(line.text, "héllo");
        line.left();
        line.left();
        line.backspace();
        assert_eq!(line.text, "hélo");
        line.home();
        line.delete();
        assert_eq!(line.text, "élo");
    }

    #[test]
    fn history_walks_and_dedups() {
        let mut h = History::default();
        h.push("tasks");
        h.push("nodes");
        h.push("nodes");
        assert_eq!(h.older(), Some("nodes"));
        assert_eq!(h.older(), Some("tasks"));
        assert_eq!(h.older(), Some("tasks"));
        assert_eq!(h.newer(), Some("nodes"));
        assert_eq!(h.newer(), None);
    }

    #[test]
    fn completes_commands_and_arguments() {
        let commands = ["tasks", "theme", "nodes"];
        assert_eq!(complete("t", &commands, |_| vec![]), vec!["tasks", "theme"]);
        let themes = |cmd: &str| {
            if cmd == "theme" {
                vec!["light".to_string(), "mono".to_string()]
            } else {
                vec![]
            }
        };
        assert_eq!(complete("theme l", &commands, themes), vec!["theme light"]);
    }
}
