//! `o` on the demo cluster: a span's logs over its time, a log line's
//! trace, a check's logs and figures, a task's checks and traces; the menu
//! and a linked view's title as golden screens; `Esc` comes back; an empty
//! window says why and `:widen` doubles it.

mod common;

use common::screen::{draws, golden, key, render, typed};
use crossterm::event::KeyCode;
use day2top::api::{Span, UnixMillis};
use day2top::collect::demo::DemoConfig;
use day2top::fixture::{self, T0};
use day2top::tui::app::{App, Effect, Mode, Route};
use day2top::tui::links::window::Window;
use day2top::tui::logs::buffer::Row;
use day2top::tui::logs::view::LogScope;

const TICKS: i64 = 150;

fn config() -> DemoConfig {
    DemoConfig {
        seed: 42,
        log_rate: 5,
        trace_rate: 2,
        ..Default::default()
    }
}

/// The demo's cluster with its checks, traces and log lines delivered.
fn app() -> (App, Vec<Span>) {
    let mut app = fixture::demo_app(config(), TICKS);
    let spans = fixture::demo_spans(config(), TICKS);
    fixture::feed_traces(&mut app, &spans);
    (app, spans)
}

/// The waterfall of a trace whose charge was declined, on its charge span.
fn on_a_declined_charge(app: &mut App, spans: &[Span]) -> Span {
    let charge = spans
        .iter()
        .find(|s| {
            s.name == "POST /charge" && s.task_id.is_some() && s.status_message == "card declined"
        })
        .expect("the demo declines a charge now and then")
        .clone();
    app.routes.push(Route::Trace {
        id: charge.trace_id.clone(),
    });
    let mine: Vec<Span> = spans
        .iter()
        .filter(|s| s.trace_id == charge.trace_id)
        .cloned()
        .collect();
    app.trace_view = day2top::tui::traces::TraceView::new(&charge.trace_id);
    app.on_trace(&charge.trace_id, Ok(mine));
    render(app, 160, 48);
    while app.trace_view.selected().map(|s| &s.span_id) != Some(&charge.span_id) {
        let before = app.trace_view.cursor;
        key(app, KeyCode::Char('j'));
        assert_ne!(
            before, app.trace_view.cursor,
            "the charge span is in the waterfall"
        );
    }
    charge
}

/// The log lines the demo wrote of the log view just opened (as the
/// gateway sends a subscription's), delivered.
fn lines_arrive(app: &mut App) {
    let Route::Logs { scope } = app.route().clone() else {
        panic!("not in a log view: {:?}", app.route())
    };
    let lines = fixture::demo_lines(config(), TICKS)
        .into_iter()
        .filter(|l| match &scope {
            LogScope::Task(id) => l.task.as_ref() == Some(id),
            LogScope::Node(id) => l.node == *id,
            _ => true,
        })
        .collect();
    fixture::feed_logs(app, lines);
    app.prepare();
}

fn shown(app: &App) -> Vec<(UnixMillis, String)> {
    let buf = &app.model.logs;
    buf.shown()
        .iter()
        .filter_map(|abs| match buf.get(*abs)? {
            Row::Line(e) => Some((e.ts, e.message.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_span_opens_its_tasks_logs_over_its_time_and_esc_comes_back() {
    let (mut app, spans) = app();
    let charge = on_a_declined_charge(&mut app, &spans);
    key(&mut app, KeyCode::Char('o'));
    assert_eq!(app.mode, Mode::Links);
    golden("links_menu_span_160x48", render(&mut app, 160, 48));
    golden("links_menu_span_80x24", render(&mut app, 80, 24));

    let effects = key(&mut app, KeyCode::Enter);
    let task = charge.task_id.clone().unwrap();
    assert_eq!(
        app.route(),
        &Route::Logs {
            scope: LogScope::Task(task.clone())
        }
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Subscribe(s) if s.filter.task.as_deref() == Some(&task))),
        "the task's logs are subscribed to: {effects:?}"
    );
    lines_arrive(&mut app);
    let window = Window::of_nanos(charge.start, charge.end).margin(2_000, 2_000);
    let lines = shown(&app);
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|(ts, _)| window.contains(*ts)),
        "only the window's lines"
    );
    // The charge handler's own line, stamped in the span's millisecond.
    assert!(
        lines
            .iter()
            .any(|(_, m)| m.contains(&charge.trace_id) && m.contains("declined")),
        "{lines:?}"
    );
    golden("links_span_logs_160x48", render(&mut app, 160, 48));

    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.route(), Route::Trace { .. }));
    assert_eq!(
        app.trace_view.selected().map(|s| &s.span_id),
        Some(&charge.span_id),
        "the span is still selected"
    );
}

#[test]
fn a_log_line_opens_the_trace_it_names() {
    let (mut app, spans) = app();
    let charge = on_a_declined_charge(&mut app, &spans);
    key(&mut app, KeyCode::Char('o'));
    key(&mut app, KeyCode::Enter);
    lines_arrive(&mut app);
    key(&mut app, KeyCode::Char('o'));
    let menu = app.menu.clone().expect("the menu is open");
    assert!(menu.about.contains("log lines on screen"), "{}", menu.about);
    let effects = key(&mut app, KeyCode::Enter);
    let Route::Trace { id } = app.route().clone() else {
        panic!("{:?}", app.route())
    };
    assert!(
        spans
            .iter()
            .any(|s| s.trace_id == id && s.task_id == charge.task_id),
        "a trace through the same task"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchTrace { id: f } if *f == id))
    );
}

#[test]
fn a_check_opens_its_targets_logs_around_its_failure_and_an_empty_window_says_why() {
    let (mut app, _) = app();
    typed(&mut app, ":health\n");
    render(&mut app, 160, 48);
    // The first check that failed and names a task.
    let id = app
        .tables
        .health
        .ids()
        .find(|id| {
            let c = &app.model.checks[*id];
            c.last_failure.is_some()
        })
        .expect("a check of the demo failed")
        .to_string();
    while app.tables.health.selected_id() != Some(&id) {
        key(&mut app, KeyCode::Char('j'));
    }
    let check = app.model.checks[&id].clone();
    key(&mut app, KeyCode::Char('o'));
    golden("links_menu_check_80x24", render(&mut app, 80, 24));
    key(&mut app, KeyCode::Enter);
    let failed = check.last_failure.unwrap();
    assert_eq!(
        app.model.logs.filter().window,
        Some(Window::new(failed - 60_000, failed + 30_000))
    );
    // Nothing held yet: the view says what the window is and what to do.
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("0 lines between"), "{screen}");
    assert!(screen.contains("`:widen` doubles the window"), "{screen}");
    typed(&mut app, ":widen\n");
    assert_eq!(
        app.model.logs.filter().window,
        Some(Window::new(
            failed - 60_000 - 45_000,
            failed + 30_000 + 45_000
        ))
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.route(), &Route::Health);
    assert_eq!(
        app.tables.health.selected_id(),
        Some(id.as_str()),
        "the check is still selected"
    );
}

#[test]
fn a_window_before_every_line_held_says_where_the_lines_are() {
    let (mut app, _) = app();
    app.follow_link(day2top::tui::links::Target::Logs {
        scope: LogScope::All,
        window: Some(Window::new(T0 - 600_000, T0 - 599_000)),
    });
    lines_arrive(&mut app);
    let screen = render(&mut app, 120, 20);
    golden("links_empty_window_120x20", screen);
}

#[test]
fn a_task_opens_its_checks_and_the_traces_through_it() {
    let (mut app, spans) = app();
    let task = spans
        .iter()
        .find_map(|s| s.task_id.clone())
        .expect("a span in a task");
    app.routes.push(Route::Task { id: task.clone() });
    key(&mut app, KeyCode::Char('o'));
    let menu = app.menu.clone().unwrap();
    let titles: Vec<&str> = menu.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "the task's checks",
            "traces through the task",
            "exec sessions in the task",
            "state history"
        ]
    );
    // 2: the traces through it.
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.route(), &Route::Traces);
    render(&mut app, 160, 48);
    let listed: Vec<String> = app.tables.traces.ids().map(str::to_string).collect();
    let through: std::collections::BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.task_id.as_deref() == Some(&task))
        .map(|s| s.trace_id.as_str())
        .collect();
    assert!(!listed.is_empty());
    assert!(
        listed.iter().all(|id| through.contains(id.as_str())),
        "only traces through the task"
    );
    assert_eq!(listed.len(), through.len(), "every held trace through it");
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("in "), "the title names the task: {screen}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('o'));
    key(&mut app, KeyCode::Char('1'));
    assert_eq!(app.route(), &Route::Health);
    assert_eq!(app.tables.check_task.as_deref(), Some(task.as_str()));
    // The view's own key shows every check again.
    key(&mut app, KeyCode::Char('H'));
    assert_eq!(app.tables.check_task, None);
}

#[test]
fn o_where_nothing_links_says_so() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('o'));
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.notice.as_ref().unwrap().text.contains("o links from"));
    // A menu key that goes nowhere keeps the menu; Esc closes it.
    app.routes.push(Route::Task {
        id: app.model.tasks.keys().next().unwrap().to_string(),
    });
    key(&mut app, KeyCode::Char('o'));
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.mode, Mode::Links, "no session to open: the menu stays");
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("from this console")
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    assert!(matches!(app.route(), Route::Task { .. }));
    // Tiny terminals draw the menu without a panic.
    key(&mut app, KeyCode::Char('o'));
    for (w, h) in [(10, 3), (1, 1), (3, 10), (200, 2), (0, 0)] {
        draws(&mut app, w, h);
    }
}
