//! Table views from `views/*.toml`: which columns, how wide, how shown.

use serde::Deserialize;

use crate::tui::config::theme::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Text,
    Int,
    Number,
    Percent,
    Bytes,
    /// CPU cores, two decimals.
    Cores,
    /// Time since a timestamp: `45s`, `12m`, `3h4m`, `2d5h`.
    Age,
}

/// Colours a cell when its value matches: `equals` on the text, `above` and
/// `below` on the number (an age counts in seconds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleRule {
    pub equals: Option<String>,
    pub above: Option<f64>,
    pub below: Option<f64>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub title: String,
    pub field: String,
    #[serde(default = "default_width")]
    pub width: u16,
    #[serde(default)]
    pub align: Align,
    #[serde(default)]
    pub format: Format,
    /// Takes the width left over when every column fits.
    #[serde(default)]
    pub grow: bool,
    /// Shown only through a hub (a fleet's AGENT column).
    #[serde(default)]
    pub fleet: bool,
    /// Shown only on a Kubernetes cluster (`--kube`: NAMESPACE, READY, …).
    #[serde(default)]
    pub kube: bool,
    #[serde(default)]
    pub style: Vec<StyleRule>,
}

fn default_width() -> u16 {
    10
}

impl Column {
    /// Whether the column shows on a gateway whose source is `source`
    /// (`host`, `demo`, `fleet`, `kube`).
    pub fn shown(&self, source: &str) -> bool {
        (!self.fleet || source == "fleet") && (!self.kube || source == "kube")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableFile {
    pub title: Option<String>,
    pub column: Option<Vec<Column>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub title: String,
    pub columns: Vec<Column>,
}

impl TableDef {
    /// Checks every field name against what the rows have. An error
    /// carries the offending field (empty when none), to find its line.
    pub fn from_file(file: TableFile, known: &[&str]) -> Result<TableDef, (String, String)> {
        let columns = file.column.unwrap_or_default();
        if columns.is_empty() {
            return Err((String::new(), "a view needs at least one [[column]]".into()));
        }
        for c in &columns {
            if !(known.contains(&c.field.as_str()) || c.field.starts_with("labels.")) {
                return Err((
                    c.field.clone(),
                    format!(
                        "column {:?}: unknown field {:?}; known fields: {}, labels.NAME",
                        c.title,
                        c.field,
                        known.join(" ")
                    ),
                ));
            }
        }
        Ok(TableDef {
            title: file.title.unwrap_or_default(),
            columns,
        })
    }

    /// A user's file on top: its title and its columns, where given.
    pub fn overlay(&mut self, file: TableFile, known: &[&str]) -> Result<(), (String, String)> {
        let title = file.title.clone();
        if file.column.is_some() {
            let mut def = TableDef::from_file(file, known)?;
            def.title = title.unwrap_or_else(|| self.title.clone());
            *self = def;
        } else if let Some(title) = title {
            self.title = title;
        }
        Ok(())
    }

    /// The columns that fit in `width`, each with its drawn width, one
    /// space between columns. Columns that do not fit are left out from the
    /// right; spare width goes to the growing columns.
    /// `fleet`: the gateway is a hub, so its columns show.
    pub fn layout(&self, width: u16, source: &str) -> Vec<(usize, u16)> {
        let mut out = Vec::new();
        let mut used: u16 = 0;
        for (i, column) in self.columns.iter().enumerate() {
            if !column.shown(source) {
                continue;
            }
            let gap = u16::from(!out.is_empty());
            if used + gap + column.width > width {
                if out.is_empty() {
                    out.push((i, width)); // the first column always shows, cut
                }
                break;
            }
            used += gap + column.width;
            out.push((i, column.width));
        }
        let spare = width.saturating_sub(used);
        let growing: Vec<usize> = (0..out.len())
            .filter(|&j| self.columns[out[j].0].grow)
            .collect();
        if spare > 0 && !growing.is_empty() {
            let each = spare / growing.len() as u16;
            let mut extra = spare % growing.len() as u16;
            for j in growing {
                out[j].1 += each + u16::from(extra > 0);
                extra = extra.saturating_sub(1);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(width: u16, grow: bool) -> Column {
        Column {
            title: "T".into(),
            field: "id".into(),
            width,
            align: Align::Left,
            format: Format::Text,
            grow,
            fleet: false,
            kube: false,
            style: vec![],
        }
    }

    #[test]
    fn layout_drops_from_the_right_and_grows() {
        let def = TableDef {
            title: String::new(),
            columns: vec![col(10, false), col(5, true), col(8, false)],
        };
        assert_eq!(def.layout(30, "host"), vec![(0, 10), (1, 10), (2, 8)]);
        assert_eq!(def.layout(20, "host"), vec![(0, 10), (1, 9)]);
        assert_eq!(def.layout(4, "host"), vec![(0, 4)]);
        assert_eq!(def.layout(0, "host"), vec![(0, 0)]);
        let mut fleet = def.clone();
        fleet.columns[0].fleet = true;
        assert_eq!(
            fleet.layout(30, "host"),
            vec![(1, 21), (2, 8)],
            "a hub's column hides"
        );
        assert_eq!(fleet.layout(30, "fleet"), vec![(0, 10), (1, 10), (2, 8)]);
        let mut kube = def.clone();
        kube.columns[2].kube = true;
        assert_eq!(
            kube.layout(30, "host"),
            vec![(0, 10), (1, 19)],
            "a cluster's column hides"
        );
        assert_eq!(kube.layout(30, "kube"), vec![(0, 10), (1, 10), (2, 8)]);
    }
}
