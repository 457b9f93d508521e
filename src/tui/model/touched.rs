//! Which nodes and tasks changed, in order, so a table brings just those
//! rows up to date instead of going over every row whenever data arrives.

use std::collections::VecDeque;
use std::sync::Arc;

/// A node's or task's id, held once and shared: cloning it allocates nothing.
pub type Id = Arc<str>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Node,
    Task,
}

/// Changes the log holds. Past this the oldest go, and a table that had not
/// caught up with them rebuilds from scratch (a cost it pays anyway when
/// that much changed).
pub const TOUCHED: usize = 4096;

#[derive(Debug, Default)]
pub struct Touched {
    /// (the model's generation after the change, kind, id), oldest first.
    log: VecDeque<(u64, Kind, Id)>,
    /// Changes up to this generation are no longer all in the log.
    forgotten: u64,
}

impl Touched {
    pub fn push(&mut self, generation: u64, kind: Kind, id: Id) {
        if self.log.len() == TOUCHED
            && let Some((oldest, ..)) = self.log.pop_front()
        {
            self.forgotten = oldest;
        }
        self.log.push_back((generation, kind, id));
    }

    /// Everything changed at `generation` (a snapshot replaced the lot).
    pub fn reset(&mut self, generation: u64) {
        self.log.clear();
        self.forgotten = generation;
    }

    /// What changed after generation `since`, oldest first; `None` when
    /// some of that is forgotten and the caller must start from scratch.
    pub fn since(&self, since: u64) -> Option<impl Iterator<Item = (Kind, &Id)>> {
        if since < self.forgotten {
            return None;
        }
        let start = self
            .log
            .partition_point(|(generation, ..)| *generation <= since);
        Some(self.log.range(start..).map(|(_, kind, id)| (*kind, id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(touched: &Touched, since: u64) -> Option<Vec<String>> {
        Some(
            touched
                .since(since)?
                .map(|(_, id)| id.to_string())
                .collect(),
        )
    }

    #[test]
    fn gives_what_changed_after_a_generation_until_it_is_forgotten() {
        let mut t = Touched::default();
        for g in 1..=3 {
            t.push(g, Kind::Task, Id::from(format!("t{g}")));
        }
        assert_eq!(ids(&t, 1).unwrap(), ["t2", "t3"]);
        assert_eq!(ids(&t, 3).unwrap(), Vec::<String>::new());
        for g in 4..=(TOUCHED as u64 + 2) {
            t.push(g, Kind::Node, Id::from("n"));
        }
        // t1 and t2 went out of the log: a table built before them rebuilds.
        assert_eq!(ids(&t, 0), None);
        assert_eq!(ids(&t, 1), None);
        assert_eq!(ids(&t, 2).unwrap().first().map(String::as_str), Some("t3"));
        t.reset(TOUCHED as u64 + 3);
        assert_eq!(ids(&t, TOUCHED as u64 + 2), None);
        assert_eq!(ids(&t, TOUCHED as u64 + 3).unwrap().len(), 0);
    }
}
