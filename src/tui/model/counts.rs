//! What the cluster view counts, kept as events come rather than worked
//! out each frame: tasks by state and per node, failing checks, and the
//! recent state changes; and which rows changed, for the tables.

use std::collections::{BTreeMap, HashMap};

use super::{Change, Id, Kind, MAX_CHANGES, Model};
use crate::api::{Task, TaskState, UnixMillis};

impl Model {
    /// A node or task changed: its rows in the tables update before the
    /// next frame.
    pub(super) fn touch(&mut self, kind: Kind, id: Id) {
        self.generation += 1;
        self.touched.push(self.generation, kind, id);
    }

    /// The id held for `id`, or a new one if none is.
    pub(super) fn id_of(&self, kind: Kind, id: &str) -> Id {
        let held = match kind {
            Kind::Node => self.nodes.get_key_value(id).map(|(id, _)| id),
            Kind::Task => self.tasks.get_key_value(id).map(|(id, _)| id),
        };
        held.cloned().unwrap_or_else(|| Id::from(id))
    }

    pub(super) fn note_change(&mut self, task: &Task, before: Option<TaskState>) {
        let last = task.statuses.last();
        self.changes.push_front(Change {
            at: last.map(|s| s.at).unwrap_or(task.updated),
            task_id: task.id.clone(),
            task_name: task.name.clone(),
            node_id: task.node_id.clone(),
            from: before,
            to: task.state,
            message: last.map(|s| s.message.clone()).unwrap_or_default(),
        });
        self.changes.truncate(MAX_CHANGES);
    }

    /// After a snapshot: the newest status changes of all tasks. Only the
    /// [`MAX_CHANGES`] kept are copied out (at 10,000 tasks there are
    /// tens of thousands of status lines).
    pub(super) fn rebuild_changes(&mut self) {
        let mut all: Vec<(UnixMillis, &str, &Task, usize)> = self
            .tasks
            .values()
            .flat_map(|t| {
                (t.statuses.iter().enumerate()).map(move |(i, s)| (s.at, t.id.as_str(), t, i))
            })
            .collect();
        let newest_first = |a: &(UnixMillis, &str, &Task, usize),
                            b: &(UnixMillis, &str, &Task, usize)| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.cmp(b.1))
                .then_with(|| a.3.cmp(&b.3))
        };
        if all.len() > MAX_CHANGES {
            all.select_nth_unstable_by(MAX_CHANGES, newest_first);
            all.truncate(MAX_CHANGES);
        }
        all.sort_by(newest_first);
        self.changes = all
            .into_iter()
            .map(|(at, _, t, i)| Change {
                at,
                task_id: t.id.clone(),
                task_name: t.name.clone(),
                node_id: t.node_id.clone(),
                from: i.checked_sub(1).map(|p| t.statuses[p].state),
                to: t.statuses[i].state,
                message: t.statuses[i].message.clone(),
            })
            .collect();
    }

    /// Counts every task from scratch: after a snapshot.
    pub(super) fn recount(&mut self) {
        self.generation += 1;
        self.checks_generation += 1;
        self.touched.reset(self.generation);
        self.running_per_node.clear();
        self.tasks_per_node.clear();
        self.tasks_by_state.clear();
        let tasks = std::mem::take(&mut self.tasks);
        for task in tasks.values() {
            self.count(task, 1);
        }
        self.tasks = tasks;
    }

    /// Adds a task's part to the counts (`sign` 1), or takes it away (-1):
    /// an event costs this, never a pass over every task.
    pub(super) fn count(&mut self, task: &Task, sign: isize) {
        /// One step of a count; true when it reached zero (and the key
        /// goes, so the maps equal counts made from scratch).
        fn step(n: &mut usize, sign: isize) -> bool {
            *n = n.saturating_add_signed(sign);
            *n == 0
        }
        fn bump(map: &mut BTreeMap<TaskState, usize>, state: TaskState, sign: isize) {
            if let Some(n) = map.get_mut(&state) {
                if step(n, sign) {
                    map.remove(&state);
                }
            } else if sign > 0 {
                map.insert(state, 1);
            }
        }
        fn bump_node(map: &mut HashMap<Id, usize>, node: &str, sign: isize) {
            if let Some(n) = map.get_mut(node) {
                if step(n, sign) {
                    map.remove(node);
                }
            } else if sign > 0 {
                // The id is made only for a node not counted yet.
                map.insert(Id::from(node), 1);
            }
        }
        self.usage_generation += 1;
        bump(&mut self.tasks_by_state, task.state, sign);
        bump_node(&mut self.tasks_per_node, &task.node_id, sign);
        if task.state == TaskState::Running {
            bump_node(&mut self.running_per_node, &task.node_id, sign);
        }
    }
}
