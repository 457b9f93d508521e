//! The command table, row by row: every command (and an action by name)
//! run as a `:` line, with and without its arguments, and what it left on
//! screen, asked for, or said.

use day2top::tui::app::commands::COMMANDS;
use day2top::tui::app::{App, Effect, Mode, Route};
use day2top::tui::logs::view::LogScope;

/// What a line did: the view it left on screen, the mode, the effects
/// it asked for (by kind), and the notice.
#[derive(Debug, PartialEq)]
struct Did {
    route: Route,
    mode: Mode,
    effects: Vec<&'static str>,
    error: bool,
}

fn run(setup: &[&str], line: &str) -> (App, Did) {
    let mut app = day2top::fixture::demo_app(Default::default(), 3);
    for earlier in setup {
        app.run_command(earlier);
        app.prepare(); // as a frame would, between the lines
    }
    app.notice = None;
    let effects = app
        .run_command(line)
        .iter()
        .map(|e| match e {
            Effect::Subscribe(_) => "subscribe",
            Effect::Unsubscribe(_) => "unsubscribe",
            Effect::FetchSeries { .. } => "fetch-series",
            Effect::FetchTrace { .. } => "fetch-trace",
            Effect::FetchOlderLogs { .. } => "fetch-older-logs",
            Effect::FetchAgents => "fetch-agents",
            Effect::FetchAlerts => "fetch-alerts",
            Effect::Save { .. } => "save",
            Effect::StartExec { .. } => "start-exec",
            Effect::ExecInput { .. } => "exec-input",
            Effect::CloseExec { .. } => "close-exec",
            Effect::SwitchContext(_) => "switch-context",
            Effect::Change { .. } => "change",
            Effect::Seek(_) => "seek",
            Effect::Copy(_) => "copy",
        })
        .collect();
    let did = Did {
        route: app.route().clone(),
        mode: app.mode,
        effects,
        error: app.notice.as_ref().is_some_and(|n| n.error),
    };
    (app, did)
}

/// Every command, with and without its arguments, run as a `:` line.
#[test]
fn every_command_does_what_it_says() {
    let node = day2top::fixture::demo_app(Default::default(), 3)
        .model
        .nodes
        .values()
        .map(|n| n.hostname.clone())
        .min()
        .unwrap();
    let view = |route: Route| Did {
        route,
        mode: Mode::Normal,
        effects: vec![],
        error: false,
    };
    let refused = |route: Route| Did {
        error: true,
        ..view(route)
    };
    let logs = |scope: LogScope| Route::Logs { scope };
    let recording = std::env::temp_dir().join(format!("day2top-cmd-{}.d2rec", std::process::id()));
    let _ = std::fs::remove_file(&recording);
    let cases: Vec<(&[&str], String, Did)> = vec![
        (&[], "cluster".into(), view(Route::Cluster)),
        (&[], "nodes".into(), view(Route::Nodes)),
        (&[], "no".into(), view(Route::Nodes)),
        (&[], "tasks".into(), view(Route::Tasks { node: None })),
        (&[], format!("tasks {node}"), {
            let app = day2top::fixture::demo_app(Default::default(), 3);
            let id = app
                .model
                .nodes
                .values()
                .find(|n| n.hostname == node)
                .unwrap()
                .id
                .clone();
            view(Route::Tasks { node: Some(id) })
        }),
        (&[], "tasks nosuch".into(), refused(Route::Cluster)),
        (
            &[],
            "logs".into(),
            Did {
                effects: vec!["subscribe"],
                ..view(logs(LogScope::All))
            },
        ),
        (
            &[],
            "log unit sshd".into(),
            Did {
                effects: vec!["subscribe"],
                ..view(logs(LogScope::Unit("sshd".into())))
            },
        ),
        (&[], "logs bogus x".into(), refused(Route::Cluster)),
        (&[], "health".into(), view(Route::Health)),
        (
            &[],
            "dash".into(),
            Did {
                effects: vec!["subscribe"],
                ..view(Route::Dash)
            },
        ),
        (
            &[],
            "dashboard 1h".into(),
            Did {
                effects: vec!["subscribe", "fetch-series"],
                ..view(Route::Dash)
            },
        ),
        (
            &["dash"],
            "dash 15m".into(),
            Did {
                effects: vec!["unsubscribe", "subscribe", "fetch-series"],
                ..view(Route::Dash)
            },
        ),
        (&[], "dash 7m".into(), refused(Route::Cluster)),
        (&[], "traces errors >100ms".into(), view(Route::Traces)),
        (&[], "trace >soon".into(), refused(Route::Cluster)),
        (&[], "exec ls".into(), refused(Route::Cluster)),
        (
            &["tasks"],
            "exec ls -l".into(),
            Did {
                effects: vec!["start-exec"],
                ..view(Route::Exec { id: 1 })
            },
        ),
        (&[], "sessions".into(), view(Route::Sessions)),
        (
            &[],
            "alerts".into(),
            Did {
                effects: vec!["fetch-alerts"],
                ..view(Route::Alerts)
            },
        ),
        (
            &[],
            "agents".into(),
            Did {
                effects: vec!["fetch-agents"],
                ..view(Route::Agents)
            },
        ),
        // Changes are for a Kubernetes cluster (the demo is not one).
        (
            &["tasks"],
            "restart".into(),
            refused(Route::Tasks { node: None }),
        ),
        (&["nodes"], "cordon".into(), refused(Route::Nodes)),
        (&[], format!("uncordon {node}"), refused(Route::Cluster)),
        (&[], "goto 12:00".into(), refused(Route::Cluster)),
        (&["logs"], "goto 25:00".into(), refused(logs(LogScope::All))),
        (
            &["logs"],
            "goto yesterday 23:10".into(),
            Did {
                effects: vec!["fetch-older-logs"],
                ..view(logs(LogScope::All))
            },
        ),
        (&[], "goto".into(), refused(Route::Cluster)),
        // No window to widen: said, not an error; outside the log view, refused.
        (&["logs"], "widen".into(), view(logs(LogScope::All))),
        (&[], "widen".into(), refused(Route::Cluster)),
        (
            &["logs"],
            "save /tmp/x".into(),
            Did {
                effects: vec!["save"],
                ..view(logs(LogScope::All))
            },
        ),
        (&[], "save /tmp/x".into(), refused(Route::Cluster)),
        (&[], "ctx".into(), view(Route::Cluster)),
        (
            &[],
            "ctx prod".into(),
            Did {
                effects: vec!["switch-context"],
                ..view(Route::Cluster)
            },
        ),
        (&[], "ctx nosuch".into(), refused(Route::Cluster)),
        (&[], "theme light".into(), view(Route::Cluster)),
        (&[], "theme nosuch".into(), refused(Route::Cluster)),
        (&[], "keymap vim".into(), view(Route::Cluster)),
        (&[], "keymap".into(), view(Route::Cluster)),
        (
            &[],
            "help".into(),
            Did {
                mode: Mode::Help { scroll: 0 },
                ..view(Route::Cluster)
            },
        ),
        (&[], "quit".into(), view(Route::Cluster)),
        (&[], "q".into(), view(Route::Cluster)),
        (&[], "view_health".into(), view(Route::Health)),
        (&[], "triage".into(), view(Route::Triage)),
        (&[], "triage 1h".into(), view(Route::Triage)),
        (&[], "triage 2d".into(), refused(Route::Cluster)),
        (&[], "mark".into(), refused(Route::Cluster)),
        (&[], "mark the deploy".into(), refused(Route::Cluster)),
        (
            &[],
            "record /nonexistent/day2top/x.d2rec".into(),
            refused(Route::Cluster),
        ),
        (
            &[],
            "rec stop".into(),
            Did {
                effects: vec!["unsubscribe"],
                ..refused(Route::Cluster)
            },
        ),
        (&[], format!("record {}", recording.display()), {
            let subs = day2top::tui::connection::recorded_subscriptions().len();
            Did {
                effects: vec!["subscribe"; subs],
                ..view(Route::Cluster)
            }
        }),
        (&[], "share why".into(), refused(Route::Cluster)),
        (&[], "share off".into(), refused(Route::Cluster)),
        (
            &[],
            "share".into(),
            Did {
                effects: vec!["switch-context"],
                ..view(Route::Cluster)
            },
        ),
        (&[], "copy".into(), refused(Route::Cluster)),
        (
            &["tasks"],
            "yank".into(),
            Did {
                effects: vec!["copy"],
                ..view(Route::Tasks { node: None })
            },
        ),
        (&[], "sort_next now".into(), refused(Route::Cluster)),
        (&[], "bogus".into(), refused(Route::Cluster)),
    ];
    for command in COMMANDS {
        assert!(
            cases.iter().any(|(_, line, _)| {
                let first = line.split_whitespace().next().unwrap();
                first == command.name || command.aliases.contains(&first)
            }),
            ":{} has no case",
            command.name
        );
    }
    for (setup, line, want) in cases {
        let (app, did) = run(setup, &line);
        assert_eq!(did, want, ":{line} after {setup:?}: {:?}", app.notice);
    }
    // What the lines changed, beyond the view.
    let (app, _) = run(&[], "traces errors >100ms");
    assert!(app.tables.trace_filter.errors_only);
    assert_eq!(app.tables.trace_filter.min_duration, Some(100_000_000));
    assert_eq!(run(&[], "theme light").0.defs.theme.name, "light");
    assert_eq!(run(&[], "keymap vim").0.defs.keymap.name, "vim");
    assert!(run(&[], "quit").0.quit && run(&[], "q").0.quit);
    assert_eq!(run(&[], "dashboard 1h").0.dash.window_ms(), 3_600_000);
}

/// On a Kubernetes cluster a change asks first: `y` sends it, any other
/// key does not; a read-only context has none.
#[test]
fn a_change_asks_before_it_is_sent() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let mut app = day2top::fixture::demo_app(Default::default(), 3);
    app.model.source = "kube".into();
    app.run_command("tasks");
    app.prepare();
    assert!(app.run_command("restart").is_empty());
    let question = app.notice.clone().unwrap();
    assert!(
        question.text.starts_with("restart pod ") && !question.error,
        "{question:?}"
    );
    let sent = app.on_key(key('y'));
    assert!(matches!(sent.as_slice(), [Effect::Change { path }] if path.ends_with("/restart")));

    app.run_command("cordon some-node");
    assert!(app.on_key(key('n')).is_empty(), "not without a y");
    assert!(app.confirm.is_none());

    app.origin.readonly = true;
    app.run_command("uncordon some-node");
    assert!(app.notice.as_ref().unwrap().error, "read-only");
    assert!(app.confirm.is_none());
}
