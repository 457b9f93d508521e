//! The console's model at cluster scale, for correctness (not timing): a
//! 10,000-task snapshot, then a long run of mixed events (state changes,
//! moves between nodes, removals, usage samples, a reconnect with a new
//! snapshot). The counts it keeps as events arrive must equal counts made
//! from scratch, it must hold exactly the tasks there are, and tables kept
//! up to date change by change (sorted, filtered, scoped to a node, with a
//! selection) must show the rows a table built from scratch shows.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use day2top::api::{Event, Op, Record, Sample, ServerMsg, Task, TaskState};
use day2top::client::StreamEvent;
use day2top::collect::Source;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::tui::config::defs::Defs;
use day2top::tui::config::viewdef::TableDef;
use day2top::tui::model::{Id, Model, SUB_NODES, SUB_TASK_METRICS, SUB_TASKS, TASK_CPU_SERIES};
use day2top::tui::tables::state::{Rows, TableState};

/// A tiny deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn snapshot(tasks: &[Task]) -> StreamEvent {
    StreamEvent::Message(ServerMsg::Snapshot {
        sub: SUB_TASKS.into(),
        seq: 1,
        epoch: "e".into(),
        items: tasks.iter().cloned().map(Record::Task).collect(),
        more: false,
    })
}

fn events(sub: &str, events: Vec<(Op, Record)>) -> StreamEvent {
    StreamEvent::Message(ServerMsg::Event {
        sub: sub.into(),
        events: events
            .into_iter()
            .enumerate()
            .map(|(i, (op, data))| Event {
                seq: i as u64 + 2,
                op,
                data,
            })
            .collect(),
    })
}

/// What the counts must be, made from scratch.
fn expected(
    tasks: &HashMap<Id, Task>,
) -> (
    BTreeMap<TaskState, usize>,
    HashMap<Id, usize>,
    HashMap<Id, usize>,
) {
    let (mut by_state, mut per_node, mut running) =
        (BTreeMap::new(), HashMap::new(), HashMap::new());
    for t in tasks.values() {
        *by_state.entry(t.state).or_insert(0) += 1;
        *per_node.entry(Id::from(t.node_id.as_str())).or_insert(0) += 1;
        if t.state == TaskState::Running {
            *running.entry(Id::from(t.node_id.as_str())).or_insert(0) += 1;
        }
    }
    (by_state, per_node, running)
}

/// A table kept up to date as the data moves, and how to make its rows.
struct Kept {
    what: &'static str,
    state: TableState,
    nodes: bool,
    node: Option<String>,
}

impl Kept {
    fn new(what: &'static str, nodes: bool, sort: usize, descending: bool, filter: &str) -> Kept {
        let mut state = TableState::default();
        (state.sort, state.descending) = (sort, descending);
        state.set_filter(filter);
        Kept {
            what,
            state,
            nodes,
            node: None,
        }
    }

    fn refresh(
        state: &mut TableState,
        nodes: bool,
        node: Option<&str>,
        defs: &Defs,
        model: &Model,
    ) {
        let (def, rows): (&TableDef, Rows) = if nodes {
            (&defs.nodes_view, Rows::Nodes)
        } else {
            (&defs.tasks_view, Rows::Tasks { node })
        };
        state.refresh(def, rows, model, 1_700_000_100_000, 40);
    }

    fn keep_up(&mut self, defs: &Defs, model: &Model) {
        Kept::refresh(
            &mut self.state,
            self.nodes,
            self.node.as_deref(),
            defs,
            model,
        );
    }

    /// Compares with a table of the same settings built from scratch.
    fn check(&mut self, defs: &Defs, model: &Model, step: usize) {
        self.keep_up(defs, model);
        let mut fresh = TableState::default();
        (fresh.sort, fresh.descending) = (self.state.sort, self.state.descending);
        fresh.filter = self.state.filter.clone();
        fresh.selected = self.state.selected.clone();
        Kept::refresh(&mut fresh, self.nodes, self.node.as_deref(), defs, model);
        let kept: Vec<&str> = self.state.ids().collect();
        let truth: Vec<&str> = fresh.ids().collect();
        assert_eq!(kept, truth, "{}: rows after step {step}", self.what);
        assert_eq!(
            self.state.selected_id(),
            fresh.selected_id(),
            "{}: selection after step {step}",
            self.what
        );
    }
}

fn check(model: &Model, step: usize) {
    let (by_state, per_node, running) = expected(&model.tasks);
    assert_eq!(
        model.tasks_by_state, by_state,
        "by state, after step {step}"
    );
    assert_eq!(
        model.tasks_per_node, per_node,
        "per node, after step {step}"
    );
    assert_eq!(
        model.running_per_node, running,
        "running per node, after step {step}"
    );
}

#[test]
fn counts_kept_by_events_equal_counts_made_from_scratch() {
    let mut demo = DemoSource::new(DemoConfig {
        nodes: 1_000,
        tasks: 10_000,
        ..Default::default()
    });
    let collected = demo.collect(1_700_000_000_000);
    let nodes: Vec<String> = collected.nodes.iter().map(|n| n.id.clone()).collect();
    let mut tasks: Vec<Task> = collected
        .tasks
        .into_iter()
        .map(Arc::unwrap_or_clone)
        .collect();
    assert!(tasks.len() >= 10_000);
    let mut model = Model::default();
    model.apply(
        StreamEvent::Message(ServerMsg::Snapshot {
            sub: SUB_NODES.into(),
            seq: 1,
            epoch: "e".into(),
            items: collected.nodes.iter().cloned().map(Record::Node).collect(),
            more: false,
        }),
        0,
    );
    model.apply(snapshot(&tasks), 0);
    check(&model, 0);

    // Tables as an operator leaves them: by each column in turn, by CPU
    // (live), filtered by text that grows, scoped to a node, and the nodes
    // by their task counts.
    let defs = Defs::load(None, "default", "default");
    let column = |field: &str| {
        defs.tasks_view
            .columns
            .iter()
            .position(|c| c.field == field)
            .unwrap_or_else(|| panic!("the tasks view shows {field}"))
    };
    let mut tables = vec![
        Kept::new("tasks by name", false, column("name"), false, ""),
        Kept::new(
            "tasks by state, descending",
            false,
            column("state"),
            true,
            "",
        ),
        Kept::new("tasks by CPU", false, column("cpu"), true, ""),
        Kept::new("tasks filtered", false, column("node"), false, "c"),
        Kept::new("tasks inverted filter", false, 0, false, "!running"),
        Kept::new("nodes by tasks", true, 0, false, ""),
    ];
    let on_node = {
        let mut t = Kept::new("tasks of one node", false, column("state"), false, "");
        t.node = Some(nodes[3].clone());
        t
    };
    tables.push(on_node);
    if let Some(i) = defs
        .nodes_view
        .columns
        .iter()
        .position(|c| c.field == "tasks")
    {
        tables[5].state.sort = i;
    }
    for t in &mut tables {
        t.keep_up(&defs, &model);
        t.state.move_by(17);
        t.check(&defs, &model, 0);
    }

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let states = TaskState::ALL;
    for step in 1..=3_000 {
        let mut batch = Vec::new();
        for _ in 0..1 + rng.below(20) {
            let i = rng.below(tasks.len());
            match rng.below(10) {
                // A state change, sometimes on another node.
                0..=4 => {
                    let t = &mut tasks[i];
                    t.state = states[rng.below(states.len())];
                    if rng.below(4) == 0 {
                        t.node_id = nodes[rng.below(nodes.len())].clone();
                    }
                    batch.push((Op::Updated, Record::Task(t.clone())));
                }
                // Gone.
                5 => {
                    let t = tasks.swap_remove(i);
                    batch.push((Op::Removed, Record::Task(t)));
                }
                // A new task, or the same one again.
                6 => {
                    let mut t = tasks[i].clone();
                    t.id = format!("new-{step}-{}", rng.next());
                    tasks.push(t.clone());
                    batch.push((Op::Added, Record::Task(t)));
                }
                7 => batch.push((Op::Updated, Record::Task(tasks[i].clone()))),
                // Usage, as samples.
                _ => {
                    let t = &tasks[i];
                    let sample = Sample {
                        name: TASK_CPU_SERIES.into(),
                        tags: [("task_id".to_string(), t.id.clone())].into(),
                        ts: step as i64,
                        value: rng.below(400) as f64,
                        unit: "percent".into(),
                    };
                    model.apply(
                        events(SUB_TASK_METRICS, vec![(Op::Added, Record::Sample(sample))]),
                        0,
                    );
                }
            }
        }
        model.apply(events(SUB_TASKS, batch), 0);
        // As frames would, mostly; sometimes several batches come first.
        if rng.below(3) != 0 {
            for t in &mut tables {
                t.keep_up(&defs, &model);
            }
        }
        // The operator types more of a filter, then moves; a node is
        // renamed (its tasks' rows read its name).
        match step {
            400 => tables[3].state.set_filter("ca"),
            401 => tables[3].state.set_filter("cas"),
            600 => tables[3].state.set_filter("c"),
            800 => {
                let mut node = collected.nodes[3].clone();
                node.hostname = "cc-renamed".into();
                model.apply(
                    events(SUB_NODES, vec![(Op::Updated, Record::Node(node))]),
                    0,
                );
            }
            _ => {}
        }
        if step % 250 == 0 {
            for t in &mut tables {
                t.state.move_by(rng.below(50) as isize - 25);
            }
        }
        if step % 100 == 0 {
            check(&model, step);
            for t in &mut tables {
                t.check(&defs, &model, step);
            }
        }
        // A reconnect: a fresh snapshot replaces everything.
        if step == 1_500 {
            model.apply(snapshot(&tasks), 0);
            check(&model, step);
        }
    }
    check(&model, 3_000);
    let held: std::collections::BTreeSet<&str> = model.tasks.keys().map(|id| &**id).collect();
    let truth: std::collections::BTreeSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(held, truth, "the model holds exactly the tasks there are");
}
