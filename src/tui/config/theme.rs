//! Themes name UI roles; `themes/*.toml` give each role a style.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Text,
    Muted,
    Header,
    HeaderAccent,
    Breadcrumb,
    Border,
    Title,
    TableHeader,
    Sorted,
    Selection,
    Ok,
    Warn,
    Error,
    Info,
    Accent,
    Sparkline,
    SparklineAlt,
    HintKey,
    HintDesc,
    Banner,
    Input,
    Completion,
    /// Control characters from the wire, shown as visible symbols.
    Inert,
    /// Syntax colouring of JSON and logfmt log lines.
    SyntaxKey,
    SyntaxString,
    SyntaxNumber,
    SyntaxLiteral,
    SyntaxPunctuation,
    /// A search match in the log view.
    Match,
    /// Log priorities: emerg–crit, err, warning, notice, info, debug.
    PriorityCritical,
    PriorityError,
    PriorityWarning,
    PriorityNotice,
    PriorityInfo,
    PriorityDebug,
}

const ROLES: usize = Role::PriorityDebug as usize + 1;

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct ColorDef(pub Color);

impl TryFrom<String> for ColorDef {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let name = text.to_lowercase().replace(['_', '-', ' '], "");
        let color = match name.as_str() {
            "reset" | "default" => Color::Reset,
            "black" => Color::Black,
            "red" => Color::Red,
            "green" => Color::Green,
            "yellow" => Color::Yellow,
            "blue" => Color::Blue,
            "magenta" => Color::Magenta,
            "cyan" => Color::Cyan,
            "gray" | "grey" => Color::Gray,
            "darkgray" | "darkgrey" => Color::DarkGray,
            "lightred" => Color::LightRed,
            "lightgreen" => Color::LightGreen,
            "lightyellow" => Color::LightYellow,
            "lightblue" => Color::LightBlue,
            "lightmagenta" => Color::LightMagenta,
            "lightcyan" => Color::LightCyan,
            "white" => Color::White,
            hex if hex.starts_with('#') && hex.len() == 7 => {
                let v = u32::from_str_radix(&hex[1..], 16).map_err(|_| format!("bad colour {text:?}"))?;
                Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8)
            }
            index => Color::Indexed(index.parse().map_err(|_| {
                format!("unknown colour {text:?}: use an ANSI name (red, lightblue, darkgray, ...), #rrggbb, or 0-255")
            })?),
        };
        Ok(ColorDef(color))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleDef {
    pub fg: Option<ColorDef>,
    pub bg: Option<ColorDef>,
    pub bold: Option<bool>,
    pub dim: Option<bool>,
    pub italic: Option<bool>,
    pub underline: Option<bool>,
    pub reversed: Option<bool>,
}

impl StyleDef {
    fn to_style(self) -> Style {
        let mut style = Style::default();
        if let Some(fg) = self.fg {
            style = style.fg(fg.0);
        }
        if let Some(bg) = self.bg {
            style = style.bg(bg.0);
        }
        for (on, modifier) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on == Some(true) {
                style = style.add_modifier(modifier);
            }
        }
        style
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub roles: BTreeMap<Role, StyleDef>,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    styles: [Style; ROLES],
}

impl Theme {
    pub fn from_file(name: &str, file: &ThemeFile) -> Theme {
        let mut theme = Theme {
            name: file.name.clone().unwrap_or_else(|| name.to_string()),
            styles: [Style::default(); ROLES],
        };
        theme.overlay(file);
        theme
    }

    /// A user's roles on top: each role given replaces the built-in one.
    pub fn overlay(&mut self, file: &ThemeFile) {
        for (role, def) in &file.roles {
            self.styles[*role as usize] = def.to_style();
        }
    }

    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// Whether the theme uses colour at all: a theme without any (mono,
    /// chosen for NO_COLOR) also keeps log lines' own colours off.
    pub fn has_colour(&self) -> bool {
        self.styles.iter().any(|s| s.fg.is_some() || s.bg.is_some())
    }
}
