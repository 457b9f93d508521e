//! A table's state: sort, filter, selection, and the rows in display order.
//!
//! Rows are brought up to date before a frame is drawn, never inside the
//! draw, and at a cost that follows what changed rather than the size of
//! the cluster: a node or task that changed is taken out and put back in
//! its place (the model's [`Touched`](crate::tui::model::touched::Touched) log says
//! which); a filter that only grew narrows the rows it had; a full rebuild
//! (new sort, many changes at once) sorts keys made once a row, and reads
//! each row's filter text from a cache.
//!
//! The filter matches a row's text as it reads on screen, except for the
//! live figures (CPU, memory, load, ages and sparklines), which change
//! every second: rows would come and go under the operator's eyes.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::api::UnixMillis;
use crate::tui::config::viewdef::TableDef;
use crate::tui::model::Model;
use crate::tui::model::touched::{Id, Kind};
use crate::tui::tables::fields::{self, Value};
use crate::tui::tables::filter::{RowFilter, TraceFilter};

/// Which rows a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows<'a> {
    Nodes,
    Tasks {
        node: Option<&'a str>,
    },
    /// All checks, or those of one task.
    Checks {
        task: Option<&'a str>,
    },
    Traces(&'a TraceFilter),
    Agents,
}

/// Changes applied one by one at most; more than this (and more than an
/// eighth of the rows) and a full rebuild is cheaper.
const MAX_PATCHES: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct TableState {
    pub sort: usize,
    pub descending: bool,
    pub filter: Option<RowFilter>,
    /// Rows in display order.
    rows: Vec<Place>,
    pub cursor: usize,
    pub offset: usize,
    /// The selected row's id, kept across updates so the selection does not jump.
    pub selected: Option<Id>,
    /// What `rows` is up to date with.
    built: Option<Built>,
    /// Rows' filter texts, by id (nodes and tasks: a changed row's goes).
    texts: HashMap<Id, Box<str>>,
    /// The columns `texts` were made for.
    texts_of: String,
}

/// A row in the table: the key it sorts by, made once, and its id.
#[derive(Debug, Clone)]
struct Place {
    key: Key,
    /// Ties on the key fall to this (checks of one target stay together),
    /// then to the id.
    tie: Option<Box<str>>,
    id_head: u128,
    id: Id,
}

/// A sort value, ready to compare: numbers (and text that reads as one)
/// first, then text by its lowercase bytes, then the missing. Text
/// compares by its first 16 bytes, held in place, before it follows a
/// pointer to the rest: a sort of 10,000 rows is then mostly integer
/// compares on memory that sits together.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    class: Class,
    num: f64,
    head: u128,
    /// The whole text, when longer than its head.
    text: Option<Box<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Num,
    Text,
    Missing,
}

/// A text's first 16 bytes as a number that orders as the bytes do
/// (a shorter text, padded with zeros, comes first).
fn head(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = text.len().min(16);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

impl Key {
    const MISSING: Key = Key {
        class: Class::Missing,
        num: 0.0,
        head: 0,
        text: None,
    };

    fn num(num: f64) -> Key {
        Key {
            class: Class::Num,
            num,
            ..Key::MISSING
        }
    }

    fn of(value: &Value) -> Key {
        match value {
            Value::Num(n) => Key::num(*n),
            // Ages: the newest first.
            Value::Time(t) => Key::num(-(*t as f64)),
            Value::Series(values) => Key::num(values.back().copied().unwrap_or(f64::MIN)),
            Value::Text(s) => match s.parse::<f64>() {
                Ok(n) => Key::num(n),
                Err(_) => {
                    let lower = s.to_lowercase();
                    Key {
                        class: Class::Text,
                        num: 0.0,
                        head: head(&lower),
                        text: (lower.len() > 16).then(|| lower.into_boxed_str()),
                    }
                }
            },
            Value::Missing => Key::MISSING,
        }
    }

    fn cmp(&self, other: &Key) -> Ordering {
        self.class
            .cmp(&other.class)
            .then_with(|| self.num.total_cmp(&other.num))
            .then_with(|| self.head.cmp(&other.head))
            .then_with(|| self.text.cmp(&other.text))
    }
}

/// What the rows were made from.
#[derive(Debug, Clone, PartialEq)]
struct Built {
    /// Which rows, sorted how.
    shape: String,
    filter: Option<String>,
    /// The generation of the data the rows come from.
    generation: u64,
    /// The usage generation, for a table sorted by usage (else 0).
    usage: u64,
    /// The model's node-name generation (tasks show node names).
    names: u64,
}

impl TableState {
    /// Starts the rows over from scratch (another context's data may hold
    /// the same ids).
    pub fn invalidate(&mut self) {
        self.built = None;
        self.texts.clear();
    }

    pub fn set_filter(&mut self, text: &str) {
        self.filter = RowFilter::new(text);
    }

    /// Rows shown.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row ids in display order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|p| &*p.id)
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.rows.get(self.cursor).map(|p| &*p.id)
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            self.cursor = 0;
            return;
        }
        let last = self.rows.len() - 1;
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
        self.selected = self.rows.get(self.cursor).map(|p| p.id.clone());
    }

    pub fn to_end(&mut self, end: bool) {
        self.cursor = if end {
            self.rows.len().saturating_sub(1)
        } else {
            0
        };
        self.selected = self.rows.get(self.cursor).map(|p| p.id.clone());
    }

    /// Brings the rows up to date with the data, sort and filter, then
    /// keeps the selection on the same id and the cursor within `height` rows.
    pub fn refresh(
        &mut self,
        def: &TableDef,
        rows: Rows,
        model: &Model,
        now: UnixMillis,
        height: usize,
    ) {
        let sort = self.sort.min(def.columns.len().saturating_sub(1));
        let sort_field = def.columns.get(sort).map_or("id", |c| c.field.as_str());
        // Usage moves every second: it re-sorts only a table sorted by it
        // (its cells are read live either way).
        let by_live = fields::is_live(sort_field);
        let want = Built {
            shape: format!("{rows:?}{sort}{}", self.descending),
            filter: self.filter.as_ref().map(|f| f.text.clone()),
            generation: match rows {
                Rows::Traces(_) => model.traces_generation,
                Rows::Checks { .. } => model.checks_generation,
                Rows::Agents => model.agents_generation,
                _ => model.generation,
            },
            usage: if by_live { model.usage_generation } else { 0 },
            names: model.names_generation,
        };
        if self.built.as_ref() != Some(&want) {
            // Texts hold the columns' cells, node names among them.
            let columns = format!("{:?}", def.columns);
            let renamed = self.built.as_ref().is_some_and(|b| b.names != want.names);
            if self.texts_of != columns || renamed {
                self.texts.clear();
                self.texts_of = columns;
            }
            let table = Table {
                def,
                rows,
                model,
                now,
                sort_field,
                descending: self.descending,
            };
            if !self.update(&table, &want) {
                self.rebuild(&table);
            }
            self.built = Some(want);
        }
        self.follow_selection(height);
    }

    /// Keeps the cursor on the selected id, within the rows and the screen.
    fn follow_selection(&mut self, height: usize) {
        if let Some(id) = &self.selected {
            let here = |p: &Place| Arc::ptr_eq(&p.id, id);
            if !self.rows.get(self.cursor).is_some_and(here)
                && let Some(i) = (self.rows.iter().position(here))
                    .or_else(|| self.rows.iter().position(|p| p.id == *id))
            {
                self.cursor = i;
            }
        }
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        self.selected = self.rows.get(self.cursor).map(|p| p.id.clone());
        let height = height.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(height));
    }

    /// Brings the rows from what they were built from to `want` in place,
    /// when that is cheaper than a rebuild; false when it is not.
    fn update(&mut self, table: &Table, want: &Built) -> bool {
        let Some(built) = self.built.clone() else {
            return false;
        };
        let kind = match table.rows {
            Rows::Nodes => Kind::Node,
            Rows::Tasks { .. } => Kind::Task,
            Rows::Checks { .. } | Rows::Traces(_) | Rows::Agents => return false,
        };
        if built.shape != want.shape || built.names != want.names {
            return false;
        }
        let narrowed = match (&built.filter, &want.filter) {
            (old, new) if old == new => false,
            (None, _) => true,
            (Some(old), Some(new)) => {
                // Only a plain text that grew keeps fewer rows for sure
                // (`a.` grown to `a.*` keeps more).
                let plain = |t: &str| !t.starts_with('!') && regex::escape(t) == t;
                if !(plain(old) && plain(new) && new.starts_with(old.as_str())) {
                    return false;
                }
                true
            }
            (Some(_), None) => return false,
        };
        let Some(changed) = table.model.touched.since(built.generation) else {
            self.texts.clear();
            return false;
        };
        let changed: Vec<&Id> = changed
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| id)
            .collect();
        if changed.len() > MAX_PATCHES.max(self.rows.len() / 8) {
            for id in changed {
                self.texts.remove(id);
            }
            return false;
        }
        if narrowed && let Some(filter) = &self.filter {
            let texts = &mut self.texts;
            self.rows.retain(|p| filter.keeps(table.text(texts, &p.id)));
        }
        self.patch(table, &changed);
        if built.usage != want.usage {
            for place in &mut self.rows {
                place.key = table.key(&place.id);
            }
            self.rows.sort_by(|a, b| table.order(a, b));
        }
        true
    }

    /// Some nodes or tasks changed (or came, or went): their rows leave,
    /// and those still there and kept come back in their places. One pass
    /// out and one merge in, whatever the number changed: a row taken out
    /// and put back one at a time moved the whole table twice each.
    fn patch(&mut self, table: &Table, changed: &[&Id]) {
        if changed.is_empty() {
            return;
        }
        // The rows hold the model's own ids, so a pointer finds a row (a
        // task that went and came back is logged under both its ids).
        let gone: HashSet<*const u8> = changed.iter().map(|id| id.as_ptr()).collect();
        self.rows.retain(|p| !gone.contains(&p.id.as_ptr()));
        let mut seen: HashSet<&str> = HashSet::new();
        let mut back: Vec<Place> = changed
            .iter()
            .copied()
            .filter(|id| seen.insert(id))
            .filter_map(|id| {
                self.texts.remove(id);
                table.place(id, self.filter.as_ref(), &mut self.texts)
            })
            .collect();
        if back.is_empty() {
            return;
        }
        back.sort_unstable_by(|a, b| table.order(a, b));
        let mut rows = Vec::with_capacity(self.rows.len() + back.len());
        let mut back = back.into_iter().peekable();
        for row in self.rows.drain(..) {
            while let Some(next) = back.next_if(|b| table.order(b, &row) == Ordering::Less) {
                rows.push(next);
            }
            rows.push(row);
        }
        rows.extend(back);
        self.rows = rows;
    }

    fn rebuild(&mut self, table: &Table) {
        let filter = self.filter.as_ref();
        let texts = &mut self.texts;
        let model = table.model;
        let mut rows: Vec<Place> = match table.rows {
            Rows::Nodes => model
                .nodes
                .keys()
                .filter_map(|id| table.place(id, filter, texts))
                .collect(),
            Rows::Tasks { .. } => model
                .tasks
                .keys()
                .filter_map(|id| table.place(id, filter, texts))
                .collect(),
            Rows::Checks { .. } | Rows::Traces(_) | Rows::Agents => {
                // No log says which of these changed: texts are not kept.
                texts.clear();
                let ids: Vec<Id> = match table.rows {
                    Rows::Checks { .. } => {
                        model.checks.keys().map(|k| Id::from(k.as_str())).collect()
                    }
                    Rows::Agents => model.agents.keys().map(|k| Id::from(k.as_str())).collect(),
                    _ => model.traces.keys().map(|k| Id::from(k.as_str())).collect(),
                };
                let rows = ids
                    .iter()
                    .filter_map(|id| table.place(id, filter, texts))
                    .collect();
                texts.clear();
                rows
            }
        };
        rows.sort_unstable_by(|a, b| table.order(a, b));
        self.rows = rows;
    }
}

/// What a table's rows are made from, for one refresh.
struct Table<'a> {
    def: &'a TableDef,
    rows: Rows<'a>,
    model: &'a Model,
    now: UnixMillis,
    sort_field: &'a str,
    descending: bool,
}

impl Table<'_> {
    /// Whether the row with this id is one of the table's (the filter aside).
    fn has(&self, id: &str) -> bool {
        let model = self.model;
        match self.rows {
            Rows::Nodes => model.nodes.contains_key(id),
            Rows::Tasks { node } => model
                .tasks
                .get(id)
                .is_some_and(|t| node.is_none_or(|n| t.node_id == n)),
            Rows::Checks { task } => model
                .checks
                .get(id)
                .is_some_and(|c| task.is_none_or(|t| c.task_id.as_deref() == Some(t))),
            Rows::Agents => model.agents.contains_key(id),
            Rows::Traces(keep) => model.traces.get(id).is_some_and(|t| keep.keeps(t)),
        }
    }

    /// A field of the row with this id.
    fn value(&self, id: &str, field: &str) -> Option<Value<'_>> {
        let model = self.model;
        Some(match self.rows {
            Rows::Nodes => fields::node_field(model.nodes.get(id)?, field, model),
            Rows::Tasks { .. } => fields::task_field(model.tasks.get(id)?, field, model),
            Rows::Checks { .. } => fields::check_field(model.checks.get(id)?, field, model),
            Rows::Traces(_) => fields::trace_field(model.traces.get(id)?, field, model),
            Rows::Agents => fields::agent_field(model.agents.get(id)?, field),
        })
    }

    fn key(&self, id: &str) -> Key {
        self.value(id, self.sort_field)
            .map_or(Key::MISSING, |v| Key::of(&v))
    }

    /// The row for `id`, if the table has it and the filter keeps it.
    fn place(
        &self,
        id: &Id,
        filter: Option<&RowFilter>,
        texts: &mut HashMap<Id, Box<str>>,
    ) -> Option<Place> {
        if !self.has(id) || filter.is_some_and(|f| !f.keeps(self.text(texts, id))) {
            return None;
        }
        let key = self.key(id);
        let tie = match self.rows {
            // Checks of one target stay together within a status.
            Rows::Checks { .. } => {
                (self.model.checks.get(&**id)).map(|c| c.target.to_lowercase().into_boxed_str())
            }
            _ => None,
        };
        Some(Place {
            key,
            tie,
            id_head: head(id),
            id: id.clone(),
        })
    }

    /// The row's text the filter matches: its cells as they read, but for
    /// the live figures. Kept in `texts` until the row changes.
    fn text<'t>(&self, texts: &'t mut HashMap<Id, Box<str>>, id: &Id) -> &'t str {
        texts.entry(id.clone()).or_insert_with(|| {
            let mut text = String::new();
            for column in &self.def.columns {
                if fields::is_live(&column.field) {
                    continue;
                }
                match self.value(id, &column.field) {
                    None | Some(Value::Time(_) | Value::Series(_)) => continue,
                    Some(value) => text.push_str(&fields::format(&value, column.format, self.now)),
                }
                text.push(' ');
            }
            text.into()
        })
    }

    /// Display order: by key (reversed when descending), the tie, the id.
    fn order(&self, a: &Place, b: &Place) -> Ordering {
        let order = a.key.cmp(&b.key);
        let order = if self.descending {
            order.reverse()
        } else {
            order
        };
        order
            .then_with(|| a.tie.cmp(&b.tie))
            .then_with(|| a.id_head.cmp(&b.id_head))
            .then_with(|| a.id.cmp(&b.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_numbers_in_text_by_value_and_missing_last() {
        use std::borrow::Cow;
        let t = |s: &'static str| Key::of(&Value::Text(Cow::Borrowed(s)));
        assert_eq!(t("9").cmp(&t("10")), Ordering::Less);
        assert_eq!(t("Beta").cmp(&t("alpha")), Ordering::Greater);
        assert_eq!(
            t("cassandra-node-10").cmp(&t("cassandra-node-1")),
            Ordering::Greater,
            "past the 16 bytes held in place"
        );
        assert_eq!(
            Key::of(&Value::Missing).cmp(&Key::of(&Value::Num(0.0))),
            Ordering::Greater
        );
        assert_eq!(
            Key::of(&Value::Time(10)).cmp(&Key::of(&Value::Time(5))),
            Ordering::Less,
            "newer is younger"
        );
    }

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
