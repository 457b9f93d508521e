//! Every built-in link resolved against a demo cluster: its target, its
//! window (nanoseconds from spans, milliseconds from the rest), and why a
//! link that cannot resolve does not.

use super::*;
use crate::api::{CheckKind, CheckResult, SpanKind, SpanStatus};
use crate::collect::demo::DemoConfig;
use crate::tui::config::links::load_links;

const NS: u64 = 1_000_000;

fn app() -> crate::tui::app::App {
    crate::fixture::demo_app(DemoConfig::default(), 5)
}

fn menu(app: &crate::tui::app::App, source: &Source) -> Menu {
    let links = load_links(None, &mut Vec::new());
    Menu::new(
        source,
        &links,
        &app.model,
        &jiff::tz::TimeZone::UTC,
        app.now,
    )
}

fn target<'m>(menu: &'m Menu, title: &str) -> &'m Target {
    let item = menu.items.iter().find(|i| i.title.starts_with(title));
    let item = item.unwrap_or_else(|| panic!("no {title:?} in {menu:#?}"));
    item.target
        .as_ref()
        .unwrap_or_else(|| panic!("{item:?} goes nowhere"))
}

fn a_task(app: &crate::tui::app::App) -> (String, String) {
    let t = app
        .model
        .tasks
        .values()
        .next()
        .expect("the demo runs tasks");
    (t.id.clone(), t.node_id.clone())
}

fn span(task: Option<&str>, node: &str, start: u64, end: u64) -> Span {
    Span {
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        span_id: "00f067aa0ba902b7".into(),
        parent_id: None,
        service: "payments-api".into(),
        name: "POST /charge".into(),
        kind: SpanKind::Server,
        start,
        end,
        status: SpanStatus::Error,
        status_message: String::new(),
        attributes: Default::default(),
        resource: Default::default(),
        events: vec![],
        node_id: Some(node.into()),
        task_id: task.map(str::to_string),
    }
}

#[test]
fn a_span_links_to_its_tasks_logs_over_its_time_in_milliseconds() {
    let app = app();
    let (task, node) = a_task(&app);
    // 14:03:05.123456789 for 2.5 s.
    let start = 1_796_133_785_123_456_789;
    let m = menu(
        &app,
        &Source::Span(span(Some(&task), &node, start, start + 2_500 * NS)),
    );
    let Target::Logs { scope, window } = target(&m, "logs of the span") else {
        panic!("{m:?}")
    };
    assert_eq!(scope, &LogScope::Task(task.clone()));
    // Rounded outwards to whole ms, then ± 2 s.
    assert_eq!(
        window.unwrap(),
        Window::new(1_796_133_785_123 - 2_000, 1_796_133_787_624 + 2_000)
    );
    let detail = &m.items[0].detail;
    // The fixture's clock is not that day: the date is said too.
    assert!(
        detail.ends_with("2026-12-01 14:03:03.123–2026-12-01 14:03:09.624"),
        "{detail}"
    );
    assert_eq!(target(&m, "the span's task"), &Target::Task { id: task });

    // A span with no task: its node's logs.
    let m = menu(&app, &Source::Span(span(None, &node, start, start + NS)));
    assert!(matches!(
        target(&m, "logs of the span"),
        Target::Logs { scope: LogScope::Node(n), .. } if *n == node
    ));
    let task_item = m
        .items
        .iter()
        .find(|i| i.title == "the span's task")
        .unwrap();
    assert_eq!(task_item.target, None);
    assert_eq!(task_item.detail, "it has no task");
}

fn line(message: &str, ts: i64) -> Arc<LogEntry> {
    let mut e = crate::collect::logline::entry("c".into(), ts, "n1", message.as_bytes());
    e.task = Some("t1".into());
    Arc::new(e)
}

#[test]
fn log_lines_link_to_the_traces_their_ids_name() {
    let app = app();
    let json = line(
        r#"{"level":"info","msg":"ok","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736"}"#,
        1_000,
    );
    let logfmt = line("level=info trace_id=a3ce929d0e0e4736 msg=ok", 2_000);
    let parent = line(
        "GET /x traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        3_000,
    );
    let plain = line("no ids here, trace me not", 4_000);
    let mut field = (*plain).clone();
    field.fields.insert(
        "otelTraceID".into(),
        FieldValue::Text("11112222333344445555666677778888".into()),
    );
    let lines = vec![json, logfmt.clone(), parent, plain, Arc::new(field), logfmt];
    let m = menu(&app, &Source::Log(lines));
    let ids: Vec<&str> = m
        .items
        .iter()
        .filter_map(|i| match &i.target {
            Some(Target::Trace { id }) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    // Newest first, each once, lower case.
    assert_eq!(
        ids,
        [
            "a3ce929d0e0e4736",
            "11112222333344445555666677778888",
            "0af7651916cd43dd8448eb211c80319c",
            "4bf92f3577b34da6a3ce929d0e0e4736"
        ]
    );
    let m = menu(&app, &Source::Log(vec![line("nothing", 1)]));
    assert_eq!(m.items[0].detail, "no line on screen carries a trace id");
    assert_eq!(m.chosen(), None);
}

#[test]
fn a_failing_check_links_to_its_targets_logs_around_the_failure_and_its_figures() {
    let app = app();
    let (task, _) = a_task(&app);
    let mut check = Check::new("c1", "web", CheckKind::Http, "http://web");
    check.task_id = Some(task.clone());
    check.last_failure = Some(1_796_133_785_000);
    check.history.push(CheckResult {
        ts: 1_796_133_790_000,
        ok: true,
        latency_ms: 1.0,
        output: String::new(),
    });
    let m = menu(&app, &Source::Check(check.clone()));
    let Target::Logs { window, .. } = target(&m, "target's logs") else {
        panic!()
    };
    assert_eq!(
        window.unwrap(),
        Window::new(1_796_133_785_000 - 60_000, 1_796_133_785_000 + 30_000),
        "around the last failure, not the last result"
    );
    assert_eq!(target(&m, "target's metrics"), &Target::Task { id: task });

    // A node's check: the dashboard over the failure until now.
    check.task_id = None;
    check.node_id = Some("n1".into());
    let m = menu(&app, &Source::Check(check));
    let Target::Dash { window } = target(&m, "target's metrics") else {
        panic!("{m:?}")
    };
    assert_eq!(window.from, 1_796_133_785_000 - 300_000);
    assert_eq!(window.to, app.now.max(1_796_133_785_000));
}

#[test]
fn the_dashboard_links_to_logs_and_traces_of_its_window() {
    let app = app();
    let w = Window::new(app.now - 900_000, app.now);
    let source = Source::Dash {
        window: w,
        panel: "CPU by node".into(),
    };
    let m = menu(&app, &source);
    assert_eq!(
        target(&m, "logs of the dashboard"),
        &Target::Logs {
            scope: LogScope::All,
            window: Some(w)
        }
    );
    assert_eq!(
        target(&m, "traces with errors"),
        &Target::Traces {
            task: None,
            window: Some(w),
            min: None,
            errors: true
        }
    );
    assert_eq!(
        target(&m, "slow traces"),
        &Target::Traces {
            task: None,
            window: Some(w),
            min: Some(1_000 * NS),
            errors: false
        }
    );
    assert!(m.about.contains("CPU by node"));
}

#[test]
fn a_task_links_to_its_checks_traces_sessions_and_history() {
    let app = app();
    let (task, _) = a_task(&app);
    let m = menu(
        &app,
        &Source::Task {
            id: task.clone(),
            sessions: 0,
        },
    );
    assert_eq!(
        target(&m, "the task's checks"),
        &Target::Checks { task: task.clone() }
    );
    assert_eq!(
        target(&m, "traces through"),
        &Target::Traces {
            task: Some(task.clone()),
            window: None,
            min: None,
            errors: false
        }
    );
    assert_eq!(
        target(&m, "state history"),
        &Target::Task { id: task.clone() }
    );
    let sessions = m
        .items
        .iter()
        .find(|i| i.title.starts_with("exec"))
        .unwrap();
    assert_eq!(sessions.target, None, "no session to show");
    assert!(sessions.detail.starts_with("0 from this console"));
    let mut m = m;
    let first = m.cursor;
    m.step(1);
    m.step(1);
    m.step(1);
    assert_eq!(
        m.cursor, first,
        "the cursor skips what goes nowhere and wraps"
    );
}

#[test]
fn an_exec_session_links_to_the_logs_during_it() {
    let app = app();
    let (task, _) = a_task(&app);
    let running = Source::Exec {
        task: task.clone(),
        command: "a shell".into(),
        started: 10_000,
        ended: None,
    };
    let m = menu(&app, &running);
    assert_eq!(
        target(&m, "the task's logs"),
        &Target::Logs {
            scope: LogScope::Task(task.clone()),
            window: Some(Window::new(5_000, app.now + 5_000))
        },
        "a running session's window reaches now"
    );
    let ended = Source::Exec {
        task: task.clone(),
        command: "a shell".into(),
        started: 10_000,
        ended: Some(20_000),
    };
    let Target::Logs { window, .. } = target(&menu(&app, &ended), "the task's logs").clone() else {
        panic!()
    };
    assert_eq!(window, Some(Window::new(5_000, 25_000)));
}
