//! A trace laid out as a waterfall: spans in depth-first order, siblings
//! by start time, each with its depth; the critical path marked; spans
//! whose parent never came shown as roots and counted. Worked out once
//! when the trace arrives, never in a draw.

use std::collections::{HashMap, HashSet};

use crate::api::{Span, SpanKind};

/// Depths past this are drawn with this much indent.
pub const MAX_INDENT: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Into [`Layout::spans`].
    pub span: usize,
    pub depth: usize,
    pub critical: bool,
    pub children: usize,
    /// Its parent is named but not in the trace.
    pub orphan: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub spans: Vec<Span>,
    /// Every span, depth first.
    pub rows: Vec<Row>,
    pub start: u64,
    pub end: u64,
    pub orphans: usize,
    /// Spans that came more than once (the last one is kept).
    pub duplicates: usize,
    /// Each span's parent, where the trace has it.
    pub parents: Vec<Option<usize>>,
}

impl Layout {
    pub fn new(spans: Vec<Span>) -> Layout {
        // One span per id: the last sent wins (ids borrowed, not copied).
        let last: HashMap<&str, usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id.as_str(), i))
            .collect();
        let keep: Vec<bool> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| last[s.span_id.as_str()] == i)
            .collect();
        drop(last);
        let duplicates = keep.iter().filter(|k| !**k).count();
        let spans: Vec<Span> = spans
            .into_iter()
            .zip(keep)
            .filter_map(|(s, keep)| keep.then_some(s))
            .collect();
        let by_id: HashMap<&str, usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id.as_str(), i))
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        let mut orphan = vec![false; spans.len()];
        let mut parents = vec![None; spans.len()];
        for (i, s) in spans.iter().enumerate() {
            match s.parent_id.as_deref().map(|p| by_id.get(p)) {
                Some(Some(&p)) if p != i => {
                    children[p].push(i);
                    parents[i] = Some(p);
                }
                Some(_) => {
                    orphan[i] = true;
                    roots.push(i);
                }
                None => roots.push(i),
            }
        }
        let by_start = |a: &usize, b: &usize| {
            (spans[*a].start, &spans[*a].span_id).cmp(&(spans[*b].start, &spans[*b].span_id))
        };
        roots.sort_by(by_start);
        for c in &mut children {
            c.sort_by(by_start);
        }
        let critical = critical_path(&spans, &children, &roots);
        // Depth first, without recursion (a 10,000-deep chain is fine), and
        // each span once even if the parent links loop.
        let mut rows = Vec::with_capacity(spans.len());
        let mut seen = vec![false; spans.len()];
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            rows.push(Row {
                span: i,
                depth,
                critical: critical[i],
                children: children[i].len(),
                orphan: orphan[i],
            });
            stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
        }
        // Spans caught in a parent loop were never reached: show them too.
        for (i, _) in seen.iter().enumerate().filter(|(_, seen)| !**seen) {
            rows.push(Row {
                span: i,
                depth: 0,
                critical: false,
                children: 0,
                orphan: true,
            });
        }
        let start = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end).max().unwrap_or(start);
        Layout {
            orphans: orphan.iter().filter(|o| **o).count(),
            spans,
            rows,
            start,
            end,
            duplicates,
            parents,
        }
    }

    /// Unfolds every subtree that hides a span `matches` keeps; returns
    /// the spans it keeps.
    pub fn reveal(
        &self,
        collapsed: &mut HashSet<usize>,
        matches: impl Fn(&Span) -> bool,
    ) -> Vec<usize> {
        let hits: Vec<usize> = (0..self.spans.len())
            .filter(|&i| matches(&self.spans[i]))
            .collect();
        for &hit in &hits {
            // Up the parents, bounded by the span count should links loop.
            let mut at = self.parents[hit];
            for _ in 0..self.spans.len() {
                let Some(p) = at else { break };
                collapsed.remove(&p);
                at = self.parents[p];
            }
        }
        hits
    }

    /// The columns the span column needs to show `rows` uncut: the indent
    /// and fold mark, then `service name`, as the waterfall draws them.
    pub fn name_width(&self, rows: &[usize]) -> usize {
        use unicode_width::UnicodeWidthStr;
        rows.iter()
            .map(|&r| {
                let row = &self.rows[r];
                let s = &self.spans[row.span];
                2 * row.depth.min(MAX_INDENT)
                    + 1
                    + usize::from(row.orphan)
                    + s.service.width()
                    + 1
                    + s.name.width()
            })
            .max()
            .unwrap_or(0)
    }

    /// The rows on show when the spans in `collapsed` hide their subtrees.
    pub fn visible(&self, collapsed: &HashSet<usize>) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.rows.len());
        let mut hide_below: Option<usize> = None;
        for (n, row) in self.rows.iter().enumerate() {
            if let Some(depth) = hide_below {
                if row.depth > depth {
                    continue;
                }
                hide_below = None;
            }
            out.push(n);
            if collapsed.contains(&row.span) {
                hide_below = Some(row.depth);
            }
        }
        out
    }
}

/// The critical path, as the Jaeger UI works it out: from the root, the
/// child that finished last (its end clamped to the parent's), then,
/// before that child began, the one that finished last before it, and so
/// on, recursing into each. A consumer under a producer is left out: it
/// runs after the request it came from.
fn critical_path(spans: &[Span], children: &[Vec<usize>], roots: &[usize]) -> Vec<bool> {
    let mut on = vec![false; spans.len()];
    let Some(&root) = roots
        .iter()
        .find(|&&r| spans[r].parent_id.is_none())
        .or(roots.first())
    else {
        return on;
    };
    // (span, the end it is clamped to)
    let mut work = vec![(root, spans[root].end)];
    while let Some((i, limit)) = work.pop() {
        if std::mem::replace(&mut on[i], true) {
            continue;
        }
        let parent = &spans[i];
        let mut until = limit.min(parent.end);
        // Children by end, latest first: the first still starting before
        // `until` is the last to finish before it. `until` only moves back,
        // so one pass serves (a wide span's thousands of children too).
        let mut order: Vec<usize> = children[i]
            .iter()
            .copied()
            .filter(|&c| {
                !(spans[c].kind == SpanKind::Consumer && parent.kind == SpanKind::Producer)
            })
            .collect();
        order.sort_by_key(|&c| std::cmp::Reverse((spans[c].end, spans[c].start)));
        for c in order {
            if spans[c].start >= until {
                continue;
            }
            work.push((c, spans[c].end.min(until)));
            if spans[c].start <= parent.start {
                break;
            }
            until = spans[c].start;
        }
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, start: u64, end: u64) -> Span {
        Span::new("t", id, parent, id, start, end)
    }

    fn order(l: &Layout) -> Vec<(&str, usize)> {
        l.rows
            .iter()
            .map(|r| (l.spans[r.span].span_id.as_str(), r.depth))
            .collect()
    }

    fn critical(l: &Layout) -> Vec<&str> {
        l.rows
            .iter()
            .filter(|r| r.critical)
            .map(|r| l.spans[r.span].span_id.as_str())
            .collect()
    }

    #[test]
    fn depth_first_siblings_by_start_and_the_critical_path() {
        // root 0..100: a 0..30, b 20..90 (c 25..40, d 50..95 overflowing b), e 40..60
        let l = Layout::new(vec![
            span("e", Some("root"), 40, 60),
            span("b", Some("root"), 20, 90),
            span("root", None, 0, 100),
            span("d", Some("b"), 50, 95),
            span("a", Some("root"), 0, 30),
            span("c", Some("b"), 25, 40),
        ]);
        assert_eq!(
            order(&l),
            [
                ("root", 0),
                ("a", 1),
                ("b", 1),
                ("c", 2),
                ("d", 2),
                ("e", 1)
            ]
        );
        // b ends last; within b, d (clamped to 90) then c before it; before
        // b began at 20, a (clamped to 20).
        let mut path = critical(&l);
        path.sort();
        assert_eq!(path, ["a", "b", "c", "d", "root"]);
        assert_eq!((l.start, l.end), (0, 100));
    }

    #[test]
    fn orphans_duplicates_skew_and_loops() {
        let l = Layout::new(vec![
            span("root", None, 10, 100),
            span("early", Some("root"), 5, 50), // clock skew: starts before its parent
            span("lost", Some("missing"), 30, 40),
            span("root", None, 10, 110), // sent again, longer
            span("x", Some("y"), 1, 2),
            span("y", Some("x"), 1, 2), // a loop
        ]);
        assert_eq!(l.duplicates, 1);
        assert_eq!(l.spans.len(), 5);
        assert_eq!(l.orphans, 1);
        assert!(
            l.rows
                .iter()
                .any(|r| r.orphan && l.spans[r.span].span_id == "lost")
        );
        assert_eq!(l.rows.len(), 5, "every span shows, loops included");
        assert_eq!(l.end, 110);
        assert!(critical(&l).contains(&"early"));
    }

    #[test]
    fn collapsing_hides_a_subtree_and_a_lone_span_lays_out() {
        let l = Layout::new(vec![
            span("root", None, 0, 10),
            span("a", Some("root"), 0, 5),
            span("a1", Some("a"), 1, 2),
            span("b", Some("root"), 5, 10),
        ]);
        let a = l.rows[1].span;
        let shown: Vec<&str> = l
            .visible(&HashSet::from([a]))
            .iter()
            .map(|&n| l.spans[l.rows[n].span].span_id.as_str())
            .collect();
        assert_eq!(shown, ["root", "a", "b"]);
        let one = Layout::new(vec![span("only", None, 5, 6)]);
        assert_eq!(one.rows.len(), 1);
        assert!(one.rows[0].critical);
    }

    #[test]
    fn a_ten_thousand_span_trace() {
        let mut spans = vec![span("root", None, 0, 1_000_000)];
        for i in 0..9_999u64 {
            let parent = if i % 100 == 0 {
                "root".to_string()
            } else {
                format!("s{}", i - 1)
            };
            spans.push(span(&format!("s{i}"), Some(&parent), i * 10, i * 10 + 50));
        }
        let l = Layout::new(spans);
        assert_eq!(l.rows.len(), 10_000);
        assert!(l.rows.iter().map(|r| r.depth).max().unwrap() >= 99);
    }
}
