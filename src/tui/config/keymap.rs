//! Keys to actions, from `keymaps/*.toml`.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use crate::tui::config::action::{Action, ViewKind};

/// A key as written in a keymap file: `j`, `G`, `<C-c>`, `<PageDown>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
}

impl TryFrom<String> for Key {
    type Error = String;

    fn try_from(text: String) -> Result<Key, String> {
        Key::parse(&text)
    }
}

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        let bad = || {
            format!(
                "{text:?} is not a key; write a character like \"j\" or a name like \"<C-c>\" or \"<PageDown>\""
            )
        };
        let mut key = Key {
            code: KeyCode::Null,
            ctrl: false,
            alt: false,
        };
        let Some(inner) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
            let mut chars = text.chars();
            return match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    key.code = KeyCode::Char(c);
                    Ok(key)
                }
                _ => Err(bad()),
            };
        };
        let mut rest = inner;
        loop {
            if let Some(r) = rest.strip_prefix("C-") {
                key.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("A-") {
                key.alt = true;
                rest = r;
            } else {
                break;
            }
        }
        key.code = match rest {
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "BackTab" => KeyCode::BackTab,
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "Space" => KeyCode::Char(' '),
            "Backspace" => KeyCode::Backspace,
            "Delete" => KeyCode::Delete,
            "lt" => KeyCode::Char('<'),
            "gt" => KeyCode::Char('>'),
            f if f.starts_with('F') && f.len() > 1 => {
                let n: u8 = f[1..].parse().map_err(|_| bad())?;
                if !(1..=12).contains(&n) {
                    return Err(bad());
                }
                KeyCode::F(n)
            }
            c if c.chars().count() == 1 => {
                KeyCode::Char(c.chars().next().expect("one char").to_ascii_lowercase())
            }
            _ => return Err(bad()),
        };
        Ok(key)
    }

    /// Whether a terminal key event is this key. Shift is part of the
    /// character (`G`), so it is not compared.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let alt = event.modifiers.contains(KeyModifiers::ALT);
        if ctrl != self.ctrl || alt != self.alt {
            return false;
        }
        match (self.code, event.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if self.ctrl => a.eq_ignore_ascii_case(&b),
            (a, b) => a == b,
        }
    }

    pub fn is_shifted_digit(&self) -> bool {
        matches!(self.code, KeyCode::Char(c) if ")!@#$%^&*(".contains(c))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if !self.ctrl && !self.alt => return write!(f, "{c}"),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            other => format!("{other:?}"),
        };
        let mods = format!(
            "{}{}",
            if self.ctrl { "C-" } else { "" },
            if self.alt { "A-" } else { "" }
        );
        write!(f, "<{mods}{name}>")
    }
}

/// What a binding runs: an action by name (`run = "sort_next"`), or a
/// command line as typed after `:` (`run = "dash 15m"`). Both are read by
/// one grammar (the App's command language), so a key can do whatever a
/// command can.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Run {
    Action(Action),
    Line(String),
}

impl Run {
    /// An action's name is an action; anything else is a command line.
    pub fn parse(text: &str) -> Run {
        use serde::de::IntoDeserializer;
        let word: serde::de::value::StrDeserializer<serde::de::value::Error> =
            text.trim().into_deserializer();
        match Action::deserialize(word) {
            Ok(action) => Run::Action(action),
            Err(_) => Run::Line(text.trim().to_string()),
        }
    }
}

/// Every command's name and alias, as the App's command table has them (a
/// test there keeps the two the same): a binding's `run` is checked
/// against them as the file is read, so a typo is reported with its line.
pub const COMMAND_NAMES: &[&str] = &[
    "widen",
    "alerts",
    "restart",
    "cordon",
    "uncordon",
    "cluster",
    "nodes",
    "node",
    "no",
    "tasks",
    "task",
    "ta",
    "logs",
    "log",
    "health",
    "dash",
    "dashboard",
    "traces",
    "trace",
    "exec",
    "sessions",
    "session",
    "agents",
    "triage",
    "goto",
    "record",
    "rec",
    "mark",
    "share",
    "copy",
    "yank",
    "save",
    "ctx",
    "theme",
    "keymap",
    "help",
    "quit",
    "q",
    "q!",
];

impl TryFrom<String> for Run {
    type Error = String;

    fn try_from(text: String) -> Result<Run, String> {
        let run = Run::parse(&text);
        let first = text.split_whitespace().next().unwrap_or("");
        match &run {
            Run::Line(_) if !COMMAND_NAMES.contains(&first) => Err(format!(
                "unknown action or command {first:?}: an action (quit, back, select, ...) \
                 or a command line as after `:` (dash 15m, logs unit sshd, ...)"
            )),
            _ => Ok(run),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub on: Vec<Key>,
    pub run: Run,
    #[serde(default)]
    pub desc: String,
    /// Only in this view, where it wins over a global binding.
    #[serde(default)]
    pub when: Option<ViewKind>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeymapFile {
    #[serde(default)]
    pub name: Option<String>,
    /// The keymap this one changes (`extends = "default"`): its bindings
    /// go on top, taking their keys from the base.
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub keymap: Vec<Binding>,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    pub name: String,
    pub bindings: Vec<Binding>,
}

impl Keymap {
    pub fn from_file(name: &str, file: KeymapFile) -> Keymap {
        Keymap {
            name: file.name.unwrap_or_else(|| name.to_string()),
            bindings: file.keymap,
        }
    }

    /// Bindings on top (a user's, or a variant keymap's): a key bound
    /// again (in the same view, or everywhere) leaves its old action.
    /// A new binding for an action takes the old one's place, so the help
    /// and the hints show it where the action always was.
    pub fn overlay(&mut self, over: Vec<Binding>) {
        for binding in &mut self.bindings {
            let when = binding.when;
            binding
                .on
                .retain(|k| !over.iter().any(|u| u.when == when && u.on.contains(k)));
        }
        for binding in over {
            let same = |b: &Binding| b.run == binding.run && b.when == binding.when;
            match self.bindings.iter().position(same) {
                // Keys the action kept from the base stay after the new ones.
                Some(at) => {
                    let kept = std::mem::take(&mut self.bindings[at].on);
                    self.bindings[at] = Binding {
                        on: binding.on.into_iter().chain(kept).collect(),
                        ..binding
                    };
                }
                None => self.bindings.push(binding),
            }
        }
        self.bindings.retain(|b| !b.on.is_empty());
    }

    /// The bindings in force in `view`, the view's own first.
    fn in_view(&self, view: ViewKind) -> impl Iterator<Item = &Binding> {
        let own = self.bindings.iter().filter(move |b| b.when == Some(view));
        own.chain(self.bindings.iter().filter(|b| b.when.is_none()))
    }

    /// What a key runs in `view`.
    pub fn run_for(&self, event: &KeyEvent, view: ViewKind) -> Option<Run> {
        self.in_view(view)
            .find(|b| b.on.iter().any(|k| k.matches(event)))
            .map(|b| b.run.clone())
    }

    pub fn action_for(&self, event: &KeyEvent, view: ViewKind) -> Option<Action> {
        match self.run_for(event, view)? {
            Run::Action(action) => Some(action),
            Run::Line(_) => None,
        }
    }

    /// The first key bound to an action in a view and its description, for hints.
    pub fn hint(&self, action: Action, view: ViewKind) -> Option<(String, &str)> {
        self.in_view(view)
            .find(|b| b.run == Run::Action(action) && !b.on.is_empty())
            .map(|b| (b.on[0].to_string(), b.desc.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn parses_and_matches_keys() {
        let ctrl_c = Key::parse("<C-c>").unwrap();
        assert!(ctrl_c.matches(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!ctrl_c.matches(&press(KeyCode::Char('c'), KeyModifiers::NONE)));
        let big_g = Key::parse("G").unwrap();
        assert!(big_g.matches(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(!big_g.matches(&press(KeyCode::Char('g'), KeyModifiers::NONE)));
        assert_eq!(Key::parse("<F5>").unwrap().to_string(), "<F5>");
        assert_eq!(Key::parse("<PageDown>").unwrap().to_string(), "<PgDn>");
        assert!(Key::parse("<Hyper-x>").unwrap_err().contains("not a key"));
        assert!(Key::parse("ab").is_err());
    }

    #[test]
    fn user_bindings_take_their_keys() {
        let binding = |keys: &[&str], run, when| Binding {
            on: keys.iter().map(|k| Key::parse(k).unwrap()).collect(),
            run: Run::Action(run),
            desc: String::new(),
            when,
        };
        let mut km = Keymap {
            name: "t".into(),
            bindings: vec![binding(&["q", "<C-c>"], Action::Quit, None)],
        };
        km.overlay(vec![
            binding(&["q"], Action::Back, None),
            binding(&["<C-c>"], Action::Follow, Some(ViewKind::Logs)),
        ]);
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.action_for(&q, ViewKind::Tasks), Some(Action::Back));
        assert_eq!(km.action_for(&ctrl_c, ViewKind::Tasks), Some(Action::Quit));
        assert_eq!(
            km.action_for(&ctrl_c, ViewKind::Logs),
            Some(Action::Follow),
            "a view's own binding wins there"
        );
    }
}
