//! The console's model at cluster scale, for correctness (not timing): a
//! 10,000-task snapshot, then a long run of mixed events (state changes,
//! moves between nodes, removals, usage samples, a reconnect with a new
//! snapshot). The counts it keeps as events arrive must equal counts made
//! from scratch, and it must hold exactly the tasks there are.

use std::collections::{BTreeMap, HashMap};

use day2top::api::{Event, Op, Record, Sample, ServerMsg, Task, TaskState};
use day2top::client::StreamEvent;
use day2top::collect::Source;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::tui::model::{Model, SUB_TASK_METRICS, SUB_TASKS, TASK_CPU_SERIES};

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
    tasks: &HashMap<String, Task>,
) -> (
    BTreeMap<TaskState, usize>,
    HashMap<String, usize>,
    HashMap<String, usize>,
) {
    let (mut by_state, mut per_node, mut running) =
        (BTreeMap::new(), HashMap::new(), HashMap::new());
    for t in tasks.values() {
        *by_state.entry(t.state).or_insert(0) += 1;
        *per_node.entry(t.node_id.clone()).or_insert(0) += 1;
        if t.state == TaskState::Running {
            *running.entry(t.node_id.clone()).or_insert(0) += 1;
        }
    }
    (by_state, per_node, running)
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
    let mut tasks = collected.tasks;
    assert!(tasks.len() >= 10_000);
    let mut model = Model::default();
    model.apply(snapshot(&tasks), 0);
    check(&model, 0);

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
        if step % 100 == 0 {
            check(&model, step);
        }
        // A reconnect: a fresh snapshot replaces everything.
        if step == 1_500 {
            model.apply(snapshot(&tasks), 0);
            check(&model, step);
        }
    }
    check(&model, 3_000);
    let held: std::collections::BTreeSet<&str> = model.tasks.keys().map(String::as_str).collect();
    let truth: std::collections::BTreeSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(held, truth, "the model holds exactly the tasks there are");
}
