//! How the commands print: a table for people (columns as wide as their
//! widest cell, every control character made visible), and JSON, NDJSON or
//! YAML of the API's own objects for scripts.

use std::io::Write;

use serde::Serialize;

use super::Failure;

/// `-o`: how a command prints what it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Columns for people (the view definitions' columns).
    Table,
    /// The table with every column, the id first and nothing cut short.
    Wide,
    /// One JSON document: `{"items": [...]}`.
    Json,
    /// One JSON object a line.
    Ndjson,
    /// One YAML document: `items: [...]`.
    Yaml,
}

impl Format {
    pub fn is_table(self) -> bool {
        matches!(self, Format::Table | Format::Wide)
    }
}

/// The widest a `table` cell gets before it is cut with `…`.
const MAX_CELL: usize = 60;

/// A table: its headers and rows of text.
#[derive(Debug, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns aligned right (numbers).
    pub right: Vec<bool>,
    /// Columns at least this wide: a watch's rows line up with the header
    /// printed first.
    pub floor: Vec<usize>,
}

impl Table {
    /// Every line of it, the header first (`header`: print it), columns
    /// two spaces apart; `cut`: cells past [`MAX_CELL`] are cut short, but
    /// for the last column's.
    pub fn lines(&self, header: bool, cut: bool) -> Vec<String> {
        self.render(header, cut).0
    }

    /// The lines, and the columns' widths.
    pub fn render(&self, header: bool, cut: bool) -> (Vec<String>, Vec<usize>) {
        let cell = |s: &str| -> String {
            let s = visible(s);
            if cut && unicode_width::UnicodeWidthStr::width(s.as_str()) > MAX_CELL {
                let mut out = String::new();
                let mut width = 0;
                for c in s.chars() {
                    let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                    if width + w > MAX_CELL - 1 {
                        break;
                    }
                    width += w;
                    out.push(c);
                }
                out.push('…');
                out
            } else {
                s
            }
        };
        // The last column is never cut: nothing after it to make room for.
        let last = self.headers.len().saturating_sub(1);
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| if i == last { visible(c) } else { cell(c) })
                    .collect()
            })
            .collect();
        let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for (w, floor) in widths.iter_mut().zip(&self.floor) {
            *w = (*w).max(*floor);
        }
        for row in &rows {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(width(c));
                }
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(width(c));
                let last = i + 1 == cells.len();
                if self.right.get(i).copied().unwrap_or(false) {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    if !last {
                        out.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    out.push_str("  ");
                }
            }
            out
        };
        let mut out = Vec::with_capacity(rows.len() + 1);
        if header {
            out.push(line(&self.headers));
        }
        out.extend(rows.iter().map(|r| line(r)));
        (out, widths)
    }
}

/// Text with every control character (an escape sequence's ESC among
/// them) shown as `\x1b`, `\n`, `\t`: a log line or label cannot move the
/// cursor or recolour the terminal it is printed on.
pub fn visible(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A moment in the local time zone, to the second.
pub fn time(ms: crate::api::UnixMillis) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| "-".into(),
        |t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

/// A value's serialized name (an enum's variant as the API spells it).
pub fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Items as one document (`json`, `yaml`: `{items: [...]}`) or a line each
/// (`ndjson`).
pub fn items<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    items: &[T],
) -> Result<(), Failure> {
    #[derive(Serialize)]
    struct Items<'a, T> {
        items: &'a [T],
    }
    match format {
        Format::Json | Format::Yaml => document(out, format, &Items { items }),
        Format::Ndjson | Format::Table | Format::Wide => {
            for item in items {
                one(out, Format::Ndjson, item)?;
            }
            Ok(())
        }
    }
}

/// One document: pretty JSON, or YAML.
pub fn document<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    item: &T,
) -> Result<(), Failure> {
    let text = match format {
        Format::Yaml => serde_yaml_ng::to_string(item).map_err(Failure::output)?,
        _ => serde_json::to_string_pretty(item).map_err(Failure::output)? + "\n",
    };
    out.write_all(text.as_bytes()).map_err(Failure::io)
}

/// One object: a line of JSON (`json`, `ndjson`), or a YAML document
/// after `---` (what a watch prints as things change).
pub fn one<T: Serialize>(out: &mut dyn Write, format: Format, item: &T) -> Result<(), Failure> {
    let text = match format {
        Format::Yaml => format!(
            "---\n{}",
            serde_yaml_ng::to_string(item).map_err(Failure::output)?
        ),
        _ => serde_json::to_string(item).map_err(Failure::output)? + "\n",
    };
    out.write_all(text.as_bytes()).map_err(Failure::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("a\x1b[31mred\nb"), "a\\x1b[31mred\\nb");
        assert_eq!(visible("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn columns_line_up_and_long_cells_are_cut() {
        let table = Table {
            headers: vec!["NOTE".into(), "CPU".into(), "NAME".into()],
            rows: vec![
                vec!["x".repeat(80), "1.5".into(), "a".into()],
                vec!["ok".into(), "12.25".into(), "x".repeat(70)],
            ],
            right: vec![false, true, false],
            floor: Vec::new(),
        };
        let lines = table.lines(true, true);
        assert_eq!(lines[0], format!("NOTE{}    CPU  NAME", " ".repeat(56)));
        assert!(lines[1].starts_with(&format!("{}…    1.5  a", "x".repeat(59))));
        assert_eq!(
            lines[2],
            format!("ok{}  12.25  {}", " ".repeat(58), "x".repeat(70))
        );
        let wide = table.lines(false, false);
        assert!(wide[0].starts_with(&"x".repeat(80)));
    }
}
