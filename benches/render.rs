//! Render benchmarks: the tasks view with 10,000 tasks and the cluster view
//! with 1,000 nodes at 200x60, the re-sort and re-filter that follow a data
//! change, and the dashboard with some 64 sparklines. Prints figures; run
//! with `cargo bench --bench render`.

use std::time::{Duration, Instant};

use day2top::collect::demo::DemoConfig;
use day2top::fixture;
use day2top::tui::app::App;
use day2top::tui::config::action::Action;
use day2top::tui::screen;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn report(what: &str, mut times: Vec<Duration>, goal: Option<Duration>) {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p50 = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    let verdict = match goal {
        Some(g) if p99 <= g => format!("  (goal ≤ {g:?}: met)"),
        Some(g) => format!("  (goal ≤ {g:?}: MISSED)"),
        None => String::new(),
    };
    println!("{what:<52} mean {mean:>10.3?}  p50 {p50:>10.3?}  p99 {p99:>10.3?}{verdict}");
}

fn time_frames(app: &mut App, frames: usize) -> Vec<Duration> {
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    app.size = (200, 60);
    app.prepare();
    (0..frames)
        .map(|i| {
            // Move the selection so every frame differs, as when scrolling.
            app.act(if i % 2 == 0 { Action::Down } else { Action::Up });
            let start = Instant::now();
            app.prepare();
            terminal.draw(|f| screen::draw(f, app)).unwrap();
            start.elapsed()
        })
        .collect()
}

/// Rebuilding the table's rows, as after new data arrives.
fn time_rebuilds(app: &mut App, times: usize) -> Vec<Duration> {
    (0..times)
        .map(|_| {
            app.tables.tasks.invalidate();
            let start = Instant::now();
            app.prepare();
            start.elapsed()
        })
        .collect()
}

/// Some tasks change state, as a batch from the stream, then the table
/// comes up to date before the frame.
fn time_changes(app: &mut App, changed: usize, times: usize) -> Vec<Duration> {
    use day2top::api::{Event, Op, Record, ServerMsg, TaskState};
    let mut tasks: Vec<_> = app.model.tasks.values().take(changed).cloned().collect();
    (0..times)
        .map(|round| {
            let events = tasks
                .iter_mut()
                .enumerate()
                .map(|(i, t)| {
                    t.state = TaskState::ALL[(round + i) % TaskState::ALL.len()];
                    Event {
                        seq: 0,
                        op: Op::Updated,
                        data: Record::Task(t.clone()),
                    }
                })
                .collect();
            app.model.apply(
                day2top::client::StreamEvent::Message(ServerMsg::Event {
                    sub: day2top::tui::model::SUB_TASKS.into(),
                    events,
                }),
                0,
            );
            let start = Instant::now();
            app.prepare();
            start.elapsed()
        })
        .collect()
}

/// Typing a filter a key at a time, each key followed by the rows.
fn time_typing(app: &mut App, text: &str, rounds: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        for n in 1..=text.len() {
            app.tables.tasks.set_filter(&text[..n]);
            let start = Instant::now();
            app.prepare();
            times.push(start.elapsed());
        }
        app.tables.tasks.set_filter("");
        app.prepare();
    }
    times
}

fn main() {
    let config = DemoConfig {
        seed: 1,
        nodes: 1000,
        tasks: 10_000,
        ..Default::default()
    };
    let mut app = fixture::demo_app(config, 5);
    println!(
        "day2top render benchmarks: {} nodes, {} tasks, 200x60",
        app.model.nodes.len(),
        app.model.tasks.len()
    );

    app.act(Action::ViewTasks);
    report(
        "tasks view, one frame",
        time_frames(&mut app, 300),
        Some(Duration::from_millis(2)),
    );

    report(
        "tasks view, 20 tasks change, rows brought up to date",
        time_changes(&mut app, 20, 300),
        Some(Duration::from_millis(2)),
    );
    report(
        "tasks view, rebuild and sort of 10,000 rows",
        time_rebuilds(&mut app, 30),
        None,
    );
    report(
        "tasks view, typing `cassandra-node` (narrows)",
        time_typing(&mut app, "cassandra-node", 5),
        Some(Duration::from_millis(5)),
    );
    app.tables.tasks.set_filter("kafka|cassandra|!x");
    report(
        "tasks view, regex re-filter of 10,000 rows",
        time_rebuilds(&mut app, 30),
        Some(Duration::from_millis(10)),
    );
    app.tables.tasks.set_filter("");

    app.act(Action::ViewNodes);
    report(
        "nodes view, one frame",
        time_frames(&mut app, 300),
        Some(Duration::from_millis(2)),
    );

    app.act(Action::ViewCluster);
    report(
        "cluster view (sparklines), one frame",
        time_frames(&mut app, 300),
        Some(Duration::from_millis(2)),
    );

    // The dashboard: every panel's lines worked out and drawn each frame.
    let small = DemoConfig {
        seed: 1,
        nodes: 20,
        tasks: 150,
        ..Default::default()
    };
    let mut app = fixture::demo_app(small.clone(), 300);
    // Three panels across: 17 lines a panel at 200x60, 64 and more in all.
    app.defs.dashboards[0].columns = 3;
    app.run_command("dash");
    fixture::feed_dash(&mut app, fixture::demo_series(small, 300));
    app.size = (200, 60);
    app.prepare();
    let body =
        day2top::tui::chrome::layout::areas(false, ratatui::layout::Rect::new(0, 0, 200, 60)).body;
    let sparklines: usize = day2top::tui::dash::grid::layout(app.dash.def(&app.defs), body, 0)
        .iter()
        .filter(|(i, _)| {
            app.dash.def(&app.defs).panels[*i].chart
                == day2top::tui::config::dashboard::Chart::Sparkline
        })
        .map(|(i, r)| {
            app.dash.panels[*i]
                .rows
                .len()
                .min(r.height.saturating_sub(2) as usize)
        })
        .sum();
    report(
        &format!("dashboard, {sparklines} sparklines + a chart, one frame"),
        time_frames(&mut app, 300),
        Some(Duration::from_millis(2)),
    );
}
