//! Triage over the demo's scenarios, fed as the stream feeds the console
//! (`fixture::demo_stream`): each scenario's cause is finding #1, `Enter`
//! lands on its evidence and `Esc` comes back to it; the same signals in
//! another order rank the same; golden screens of the view.

mod common;

use common::screen::{draws, golden, key, render};
use crossterm::event::KeyCode;
use day2top::api::TaskState;
use day2top::collect::demo::{DemoConfig, Scenario};
use day2top::fixture::{T0, demo_stream};
use day2top::triage::{Kind, Line, Report, Signal, Subject, Timeline, What, Window, triage};
use day2top::tui::app::{App, Route};

/// The scenario begins 5 minutes in; the console looks 3 minutes later.
fn played(scenario: Scenario) -> App {
    demo_stream(
        DemoConfig {
            scenario: Some(scenario),
            scenario_at: 300,
            ..Default::default()
        },
        480,
    )
}

fn report(app: &App) -> Report {
    triage(&app.model.timeline, Window::M15, app.now)
}

/// The findings grouped under finding #1, its consequences.
fn under_the_cause(report: &Report) -> Vec<&day2top::triage::Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.under == Some(0))
        .collect()
}

#[test]
fn an_oom_kill_is_the_cause_of_the_errors_and_the_failing_check() {
    let app = played(Scenario::Oom);
    let report = report(&app);
    let first = &report.findings[0];
    assert_eq!(first.kind, Kind::TaskFailed, "{first:#?}");
    assert!(first.title.contains("OOM-killed"), "{}", first.title);
    // What followed on its node and group is grouped under it.
    let under: Vec<Kind> = under_the_cause(&report).iter().map(|f| f.kind).collect();
    for kind in [
        Kind::CheckFailing,
        Kind::MetricShift,
        Kind::ErrorSpike,
        Kind::NewError,
    ] {
        assert!(
            under.contains(&kind),
            "{kind:?} not under the cause: {under:?}"
        );
    }
    let node = first.subject.node.clone().unwrap();
    assert!(
        under_the_cause(&report)
            .iter()
            .any(|f| f.kind == Kind::CheckFailing && f.subject.node.as_deref() == Some(&node)),
        "the memory check of the node it died on"
    );
    // The score says why, in words.
    assert!(
        first.parts.iter().any(|p| p.contains("a change")),
        "{:?}",
        first.parts
    );
    assert!(
        first.parts.iter().any(|p| p.contains("followed by")),
        "{:?}",
        first.parts
    );
}

#[test]
fn a_bad_rollout_is_the_cause_of_the_crash_loop_and_the_new_error() {
    let app = played(Scenario::Rollout);
    let report = report(&app);
    let first = &report.findings[0];
    assert_eq!(first.kind, Kind::Rollout, "{first:#?}");
    assert!(
        first.title.contains("/prod/payments/api: v1 → v2"),
        "{}",
        first.title
    );
    let under: Vec<&str> = under_the_cause(&report)
        .iter()
        .map(|f| f.title.as_str())
        .collect();
    assert!(
        under
            .iter()
            .any(|t| t.contains("panic: assignment to entry in nil map")),
        "{under:?}"
    );
}

#[test]
fn a_filling_disk_is_the_cause_of_the_failing_check_and_zookeepers_errors() {
    let app = played(Scenario::Disk);
    let report = report(&app);
    let first = &report.findings[0];
    assert_eq!(first.kind, Kind::DiskFilling, "{first:#?}");
    assert!(first.title.contains("master-1"), "{}", first.title);
    let under: Vec<&str> = under_the_cause(&report)
        .iter()
        .map(|f| f.title.as_str())
        .collect();
    assert!(under.iter().any(|t| t.contains("disk free")), "{under:?}");
    assert!(
        under.iter().any(|t| t.contains("No space left on device")),
        "{under:?}"
    );
}

#[test]
fn a_cpu_hog_is_the_cause_of_its_neighbours_timeouts_and_its_nodes_cpu() {
    let app = played(Scenario::Noisy);
    let report = report(&app);
    let first = &report.findings[0];
    assert_eq!(first.kind, Kind::CpuHog, "{first:#?}");
    assert!(first.title.starts_with("spark-etl"), "{}", first.title);
    assert!(first.title.contains("cores (usually"), "{}", first.title);
    let node = first.subject.node.clone().unwrap();
    let under = under_the_cause(&report);
    assert!(
        under
            .iter()
            .any(|f| f.kind == Kind::MetricShift && f.title.starts_with("node.cpu.percent")),
        "the node's CPU: {under:#?}"
    );
    // The neighbours' timeouts, on other tasks of its node.
    let timeouts: Vec<_> = under
        .iter()
        .filter(|f| f.title.contains("context deadline exceeded"))
        .collect();
    assert!(!timeouts.is_empty(), "{under:#?}");
    for f in timeouts {
        assert_eq!(f.subject.node.as_deref(), Some(node.as_str()), "{f:#?}");
        assert_ne!(f.subject.task, first.subject.task, "{f:#?}");
    }
    assert!(
        first
            .parts
            .iter()
            .any(|p| p.contains("times its usual CPU")),
        "{:?}",
        first.parts
    );
    // Only the hog is told: the demo's everyday CPU stays within limits.
    let hogs = report.findings.iter().filter(|f| f.kind == Kind::CpuHog);
    assert_eq!(hogs.count(), 1);
}

#[test]
fn enter_opens_the_evidence_and_esc_comes_back_to_the_finding() {
    // The rollout's evidence is the first new task; the disk's, its node;
    // the noisy neighbour's, the task.
    let mut app = played(Scenario::Rollout);
    app.on_resize(160, 48);
    key(&mut app, KeyCode::Char('W'));
    assert_eq!(app.route(), &Route::Triage);
    let cause = app.triage.finding().unwrap().title.clone();
    key(&mut app, KeyCode::Enter);
    assert!(
        matches!(app.route(), Route::Task { .. } | Route::Logs { .. }),
        "{:?}",
        app.route()
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.route(), &Route::Triage);
    assert_eq!(
        app.triage.finding().unwrap().title,
        cause,
        "the selection is kept"
    );

    let mut app = played(Scenario::Disk);
    app.on_resize(160, 48);
    key(&mut app, KeyCode::Char('W'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.route(), &Route::Nodes);
    assert_eq!(app.tables.nodes.selected_id(), Some("master-1-S0"));

    // The CPU hog's, the task itself.
    let mut app = played(Scenario::Noisy);
    app.on_resize(160, 48);
    key(&mut app, KeyCode::Char('W'));
    let hog = app.triage.finding().unwrap().subject.task.clone().unwrap();
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.route(), &Route::Task { id: hog });

    // A check's finding opens the health view on that check.
    let mut app = played(Scenario::Oom);
    app.on_resize(160, 48);
    key(&mut app, KeyCode::Char('W'));
    let at = app
        .triage
        .report
        .as_ref()
        .unwrap()
        .findings
        .iter()
        .position(|f| f.kind == Kind::CheckFailing)
        .unwrap();
    for _ in 0..at {
        key(&mut app, KeyCode::Char('j'));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.route(), &Route::Health);
    assert!(
        app.tables
            .health
            .selected_id()
            .unwrap()
            .starts_with("builtin:memory:")
    );
}

#[test]
fn the_window_cycles_and_a_command_picks_one() {
    let mut app = played(Scenario::Oom);
    app.on_resize(160, 48);
    app.run_command("triage 1h");
    app.prepare();
    assert_eq!(app.triage.report.as_ref().unwrap().window, Window::H1);
    key(&mut app, KeyCode::Char('w'));
    assert_eq!(app.triage.report.as_ref().unwrap().window, Window::H6);
    app.run_command("triage 2d");
    assert!(app.notice.as_ref().unwrap().text.contains("not a window"));
}

/// A Kubernetes pod restarting in place (its restart count going up) is a
/// crash loop of its Deployment, however many pods it has.
#[test]
fn a_pods_restarts_are_a_crash_loop() {
    use day2top::api::{Event, Health, Labels, Op, Record, ServerMsg, Task};
    use day2top::client::StreamEvent;
    use day2top::tui::model::{Model, SUB_TASKS};
    let pod = |restarts: u32, at: i64| Task {
        id: "shop/web-5d8f7c9b4-xyz12".into(),
        name: "web-5d8f7c9b4-xyz12".into(),
        group: "Deployment/web".into(),
        node_id: "worker-1".into(),
        state: TaskState::Running,
        health: Health::Unhealthy,
        cpu: 0.0,
        cpu_limit: 0.0,
        mem_bytes: 0,
        mem_limit: 0,
        started: T0,
        updated: at,
        version: "1.4".into(),
        labels: Labels::of(&[
            ("restarts", &restarts.to_string()),
            ("reason", "CrashLoopBackOff"),
        ]),
        statuses: Vec::new(),
        unreachable_since: None,
    };
    let mut model = Model::default();
    let message = |msg: ServerMsg| StreamEvent::Message(msg);
    model.apply(
        message(ServerMsg::Snapshot {
            sub: SUB_TASKS.into(),
            seq: 1,
            epoch: "e".into(),
            items: vec![Record::Task(pod(0, T0))],
            more: false,
        }),
        T0,
    );
    for n in 1..=3 {
        let at = T0 + n * 40_000;
        model.apply(
            message(ServerMsg::Event {
                sub: SUB_TASKS.into(),
                events: vec![Event {
                    seq: 1 + n as u64,
                    op: Op::Updated,
                    data: Record::Task(pod(n as u32, at)),
                }],
            }),
            at,
        );
    }
    let report = triage(&model.timeline, Window::M15, T0 + 200_000);
    let first = &report.findings[0];
    assert_eq!(first.kind, Kind::CrashLoop, "{first:#?}");
    assert_eq!(
        first.title,
        "web-5d8f7c9b4-xyz12 (Deployment/web) failed 3 times on worker-1: restarted in place: CrashLoopBackOff"
    );
}

/// A node whose tasks were lost with it is lost (a change); one that is
/// unhealthy but still runs its tasks is a symptom.
#[test]
fn a_node_is_lost_with_its_tasks_else_unhealthy() {
    let now = T0 + 10 * 60_000;
    let down = |node: &str| Signal {
        at: T0 + 60_000,
        subject: Subject {
            node: Some(node.into()),
            ..Default::default()
        },
        what: What::NodeDown {
            name: node.into(),
            unreachable: false,
        },
    };
    let mut t = Timeline::default();
    t.note(down("agent-1"), now);
    t.note(down("agent-2"), now);
    t.note(
        Signal {
            at: T0 + 61_000,
            subject: Subject {
                task: Some("kafka.1".into()),
                node: Some("agent-1".into()),
                group: Some("/prod/kafka".into()),
            },
            what: What::TaskEnded {
                name: "kafka".into(),
                state: TaskState::Lost,
                message: "agent unreachable".into(),
            },
        },
        now,
    );
    let report = triage(&t, Window::M15, now);
    let kind_of = |node: &str| {
        report
            .findings
            .iter()
            .find(|f| f.title.starts_with(&format!("node {node}")))
            .map(|f| f.kind)
    };
    assert_eq!(kind_of("agent-1"), Some(Kind::NodeLost));
    assert_eq!(kind_of("agent-2"), Some(Kind::NodeUnhealthy));
    // The lost task is the lost node's doing.
    let node = report
        .findings
        .iter()
        .position(|f| f.kind == Kind::NodeLost)
        .unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.under == Some(node) && f.title.contains("kafka")),
        "{:#?}",
        report.findings
    );
}

/// The same signals and lines, in another order within their minutes,
/// give the same findings in the same ranks.
#[test]
fn arrival_order_changes_nothing() {
    let now = T0 + 20 * 60_000;
    let mut signals = Vec::new();
    let mut lines = Vec::new();
    for i in 0..40i64 {
        let at = T0 + i * 29_000;
        let node = format!("n{}", i % 4);
        let subject = Subject {
            task: Some(format!("t{i}")),
            node: Some(node.clone()),
            group: Some(format!("/g{}", i % 3)),
        };
        signals.push(Signal {
            at,
            subject: subject.clone(),
            what: if i % 5 == 0 {
                What::CheckFailed {
                    id: format!("c{}", i % 2),
                    name: "probe".into(),
                    output: "refused".into(),
                }
            } else {
                What::TaskEnded {
                    name: format!("t{i}"),
                    state: TaskState::Failed,
                    message: format!("exit status {}", i % 3),
                }
            },
        });
        for k in 0..(1 + i % 7) {
            lines.push(Line {
                at: at + k * 10,
                message: format!("timeout after {} ms to 10.0.0.{k}", 100 + i),
                subject: subject.clone(),
                source: format!("/g{}", i % 3),
            });
        }
    }
    let rank = |signals: &[Signal], lines: &[Line]| {
        let mut t = Timeline::default();
        for s in signals {
            t.note(s.clone(), now);
        }
        for l in lines {
            t.note_error(l.clone(), now);
        }
        triage(&t, Window::M15, now)
            .findings
            .iter()
            .map(|f| (f.title.clone(), f.score.round() as i64, f.under))
            .collect::<Vec<_>>()
    };
    let forward = rank(&signals, &lines);
    signals.reverse();
    lines.reverse();
    assert_eq!(forward, rank(&signals, &lines));
    assert!(!forward.is_empty());
}

#[test]
fn golden_screens_of_the_triage_view() {
    for scenario in Scenario::ALL {
        for (w, h) in [(80, 24), (200, 60)] {
            let mut app = played(scenario);
            app.on_resize(w, h);
            key(&mut app, KeyCode::Char('W'));
            golden(
                &format!("triage_{}_{w}x{h}", scenario.name()),
                render(&mut app, w, h),
            );
        }
    }
    // `e`: the score in words.
    let mut app = played(Scenario::Oom);
    app.on_resize(200, 60);
    key(&mut app, KeyCode::Char('W'));
    key(&mut app, KeyCode::Char('e'));
    golden("triage_explained_200x60", render(&mut app, 200, 60));
    // Any size draws.
    for (w, h) in [(10, 3), (1, 1), (3, 10), (200, 2), (0, 0), (40, 12)] {
        draws(&mut app, w, h);
    }
}

/// An error a trace never had in the baseline is a finding, even where
/// errors are usual; the usual error is not.
#[test]
fn a_new_trace_error_signature_is_found_and_the_usual_one_is_not() {
    use day2top::api::TraceSummary;
    let now = T0 + 3 * 3_600_000;
    let mut t = Timeline::default();
    let summary = |n: i64, at: i64, error: &str| TraceSummary {
        trace_id: format!("{n:032x}"),
        root_service: "frontend".into(),
        root_operation: "HTTP GET /checkout".into(),
        start: (at as u64) * 1_000_000,
        duration: 120_000_000,
        spans: 10,
        services: vec!["frontend".into(), "payments-api".into()],
        errors: 1,
        orphans: 0,
        tasks: vec![],
        error: Some(error.into()),
        error_task: None,
    };
    let payments = Subject {
        task: Some("payments-api-1".into()),
        group: Some("/prod/payments/api".into()),
        ..Default::default()
    };
    // An hour of declined cards, a few a minute; then, 5 minutes ago, a
    // new way to fail (its request numbers differ: one signature).
    let mut n = 0;
    for minute in 0..60 {
        for k in 0..3 {
            n += 1;
            let at = now - 3_600_000 + minute * 60_000 + k * 1_000;
            t.note_trace(
                &summary(n, at, "payments-api POST /charge: card declined"),
                payments.clone(),
                now,
            );
        }
    }
    for k in 0..20 {
        n += 1;
        let at = now - 300_000 + k * 5_000;
        let text = format!(
            "payments-api POST /charge: ledger call failed (request {})",
            9000 + k
        );
        t.note_trace(&summary(n, at, &text), payments.clone(), now);
    }
    let report = triage(&t, Window::M15, now);
    let new: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::NewTraceError)
        .collect();
    assert_eq!(new.len(), 1, "{:#?}", report.findings);
    assert!(
        new[0].title.contains("ledger call failed"),
        "{}",
        new[0].title
    );
    assert!(new[0].title.contains("×20"), "{}", new[0].title);
    assert_eq!(
        new[0].subject, payments,
        "where it failed, not the trace's root"
    );
    assert!(matches!(&new[0].jump, day2top::triage::Jump::Trace { id } if !id.is_empty()));
}
