//! A table's state: sort, filter, selection, and the rows in display order.
//!
//! Rows are recomputed only when the data, the sort or the filter changed,
//! before a frame is drawn, never inside the draw.

use regex::Regex;

use super::fields::{self, Value};
use super::model::Model;
use super::viewdef::{Column, TableDef};
use crate::api::UnixMillis;

#[derive(Debug, Clone)]
pub struct RowFilter {
    pub text: String,
    regex: Regex,
    invert: bool,
    /// The text was not a valid regex and is matched literally.
    pub literal: bool,
}

impl RowFilter {
    /// `!` in front inverts; an invalid regex is matched as plain text.
    pub fn new(text: &str) -> Option<RowFilter> {
        let (invert, pattern) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if pattern.is_empty() {
            return None;
        }
        let build = super::text::user_regex;
        let (regex, literal) = match build(pattern) {
            Ok(r) => (r, false),
            Err(_) => (build(&regex::escape(pattern)).ok()?, true),
        };
        Some(RowFilter {
            text: text.to_string(),
            regex,
            invert,
            literal,
        })
    }

    pub fn keeps(&self, row_text: &str) -> bool {
        self.regex.is_match(row_text) != self.invert
    }
}

/// Which rows a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows<'a> {
    Nodes,
    Tasks { node: Option<&'a str> },
    Checks,
    Traces(&'a TraceFilter),
}

/// What the traces list keeps besides the `/` filter: `:traces SERVICE
/// >500ms errors`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
    pub service: Option<String>,
    /// Nanoseconds.
    pub min_duration: Option<u64>,
    pub errors_only: bool,
}

impl TraceFilter {
    pub fn keeps(&self, t: &crate::api::TraceSummary) -> bool {
        self.service.as_ref().is_none_or(|s| t.services.contains(s))
            && self.min_duration.is_none_or(|d| t.duration >= d)
            && (!self.errors_only || t.errors > 0)
    }
}

#[derive(Debug, Clone, Default)]
pub struct TableState {
    pub sort: usize,
    pub descending: bool,
    pub filter: Option<RowFilter>,
    /// Row ids in display order.
    pub rows: Vec<String>,
    pub cursor: usize,
    pub offset: usize,
    /// The selected row's id, kept across updates so the selection does not jump.
    pub selected: Option<String>,
    built: Option<(u64, String)>,
}

impl TableState {
    pub fn invalidate(&mut self) {
        self.built = None;
    }

    pub fn set_filter(&mut self, text: &str) {
        self.filter = RowFilter::new(text);
        self.invalidate();
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.rows.get(self.cursor).map(String::as_str)
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            self.cursor = 0;
            return;
        }
        let last = self.rows.len() - 1;
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
        self.selected = self.rows.get(self.cursor).cloned();
    }

    pub fn to_end(&mut self, end: bool) {
        self.cursor = if end {
            self.rows.len().saturating_sub(1)
        } else {
            0
        };
        self.selected = self.rows.get(self.cursor).cloned();
    }

    /// Recomputes the rows if the data, sort or filter changed, then keeps
    /// the selection on the same id and the cursor within `height` rows.
    pub fn refresh(
        &mut self,
        def: &TableDef,
        rows: Rows,
        model: &Model,
        now: UnixMillis,
        height: usize,
    ) {
        // Usage moves every second: it re-sorts only a table sorted by it
        // (its cells are read live either way).
        let by_usage = def
            .columns
            .get(self.sort)
            .is_some_and(|c| fields::is_usage(&c.field));
        let key = (
            match rows {
                Rows::Traces(_) => model.traces_generation,
                _ if by_usage => model.generation + model.usage_generation,
                _ => model.generation,
            },
            format!("{rows:?}{}{}", self.sort, self.descending),
        );
        if self.built.as_ref() != Some(&key) {
            self.rebuild(def, rows, model, now);
            self.built = Some(key);
        }
        if let Some(id) = &self.selected
            && let Some(i) = self.rows.iter().position(|r| r == id)
        {
            self.cursor = i;
        }
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        self.selected = self.rows.get(self.cursor).cloned();
        let height = height.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(height));
    }

    fn rebuild(&mut self, def: &TableDef, rows: Rows, model: &Model, now: UnixMillis) {
        let sort = self.sort.min(def.columns.len().saturating_sub(1));
        let sort_field = def
            .columns
            .get(sort)
            .map(|c| c.field.as_str())
            .unwrap_or("id");
        // A row as its cells read on screen: what the filter matches.
        let row_text = |cell: &dyn Fn(&Column) -> String| -> String {
            let mut text = String::new();
            for c in &def.columns {
                text.push_str(&cell(c));
                text.push(' ');
            }
            text
        };
        // (sort value, tie-break, id): ties fall to the tie-break, then the id.
        let mut keyed: Vec<(Value, &str, &str)> = match rows {
            Rows::Nodes => model
                .nodes
                .values()
                .filter(|n| {
                    self.filter.as_ref().is_none_or(|f| {
                        f.keeps(&row_text(&|c| {
                            fields::format(&fields::node_field(n, &c.field, model), c.format, now)
                        }))
                    })
                })
                .map(|n| (fields::node_field(n, sort_field, model), "", n.id.as_str()))
                .collect(),
            Rows::Tasks { node } => model
                .tasks
                .values()
                .filter(|t| node.is_none_or(|id| t.node_id == id))
                .filter(|t| {
                    self.filter.as_ref().is_none_or(|f| {
                        f.keeps(&row_text(&|c| {
                            fields::format(&fields::task_field(t, &c.field, model), c.format, now)
                        }))
                    })
                })
                .map(|t| (fields::task_field(t, sort_field, model), "", t.id.as_str()))
                .collect(),
            Rows::Traces(keep) => model
                .traces
                .values()
                .filter(|t| keep.keeps(t))
                .filter(|t| {
                    self.filter.as_ref().is_none_or(|f| {
                        f.keeps(&row_text(&|col| {
                            fields::format(
                                &fields::trace_field(t, &col.field, model),
                                col.format,
                                now,
                            )
                        }))
                    })
                })
                .map(|t| {
                    (
                        fields::trace_field(t, sort_field, model),
                        "",
                        t.trace_id.as_str(),
                    )
                })
                .collect(),
            Rows::Checks => model
                .checks
                .values()
                .filter(|c| {
                    self.filter.as_ref().is_none_or(|f| {
                        f.keeps(&row_text(&|col| {
                            fields::format(
                                &fields::check_field(c, &col.field, model),
                                col.format,
                                now,
                            )
                        }))
                    })
                })
                // Checks of one target stay together within a status.
                .map(|c| {
                    let value = fields::check_field(c, sort_field, model);
                    (value, c.target.as_str(), c.id.as_str())
                })
                .collect(),
        };
        keyed.sort_by(|(a, tie_a, ida), (b, tie_b, idb)| {
            let order = fields::compare(a, b);
            let order = if self.descending {
                order.reverse()
            } else {
                order
            };
            order
                .then_with(|| fields::natural(tie_a, tie_b))
                .then_with(|| ida.cmp(idb))
        });
        self.rows = keyed.into_iter().map(|(_, _, id)| id.to_string()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_regex_inverted_or_literal() {
        let f = RowFilter::new("^web").unwrap();
        assert!(f.keeps("Web-1 running"));
        assert!(!f.keeps("db web"));
        let not = RowFilter::new("!failed").unwrap();
        assert!(not.keeps("running"));
        assert!(!not.keeps("FAILED"));
        let literal = RowFilter::new("a(b").unwrap();
        assert!(literal.literal);
        assert!(literal.keeps("xa(by"));
        assert!(RowFilter::new("!").is_none());
        assert!(RowFilter::new("").is_none());
    }
}
