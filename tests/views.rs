//! Golden screens: every view drawn from the seeded demo cluster at a fixed
//! clock, at 80x24 and 160x48, compared with `snapshots/`. Tiny terminals
//! must draw without panicking.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use day2top::api::{Record, ServerMsg};
use day2top::client::StreamEvent;
use day2top::collect::demo::DemoConfig;
use day2top::fixture::{self, T0};
use day2top::tui::app::{App, Origin};
use day2top::tui::config::defs::Defs;
use day2top::tui::model::SUB_TASKS;
use day2top::tui::screen;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The demo cluster every golden screen shows.
fn seeded() -> DemoConfig {
    DemoConfig {
        seed: 42,
        nodes: 10,
        tasks: 60,
        ..Default::default()
    }
}

/// The demo cluster after `ticks` seconds, as the console would hold it.
fn demo_app(ticks: i64) -> App {
    fixture::demo_app(seeded(), ticks)
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(
            app,
            if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            },
        );
    }
}

fn render(app: &mut App, width: u16, height: u16) -> Terminal<TestBackend> {
    app.on_resize(width, height); // exec panes follow, as on a real resize
    app.prepare();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| screen::draw(f, app)).unwrap();
    terminal
}

/// Compares a screen with its golden file in `snapshots/`.
fn golden(name: &str, screen: impl std::fmt::Display) {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, screen);
    });
}

/// Compares a screen with its golden file, styles and all: every cell's
/// colours and modifiers (ratatui's debug form of the buffer), so a lost
/// selection highlight or a broken theme fails where the glyphs alone
/// would not.
fn golden_styled(name: &str, terminal: &Terminal<TestBackend>) {
    golden(name, format!("{:#?}", terminal.backend().buffer()));
}

fn check(name: &str, setup: impl Fn(&mut App)) {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = demo_app(150);
        setup(&mut app);
        let terminal = render(&mut app, w, h);
        golden(&format!("{name}_{w}x{h}"), terminal.backend());
    }
    // Any size draws, down to a single cell.
    for (w, h) in [(10, 3), (1, 1), (3, 10), (200, 2), (0, 0)] {
        let mut app = demo_app(2);
        setup(&mut app);
        render(&mut app, w, h);
    }
}

#[test]
fn cluster() {
    check("cluster", |_| {});
}

#[test]
fn nodes() {
    check("nodes", |app| key(app, KeyCode::Char('n')));
}

#[test]
fn nodes_sorted_by_cpu_descending() {
    check("nodes_by_cpu", |app| {
        key(app, KeyCode::Char('n'));
        for _ in 0..6 {
            key(app, KeyCode::Char('>'));
        }
        key(app, KeyCode::Char('r'));
    });
}

#[test]
fn tasks() {
    check("tasks", |app| typed(app, ":tasks\n"));
}

#[test]
fn tasks_filtered() {
    check("tasks_filtered", |app| {
        key(app, KeyCode::Char('t'));
        key(app, KeyCode::Char('/'));
        typed(app, "cass|kafka");
        key(app, KeyCode::Enter);
    });
}

#[test]
fn tasks_filtered_inverted() {
    check("tasks_not_running", |app| {
        key(app, KeyCode::Char('t'));
        key(app, KeyCode::Char('/'));
        typed(app, "!running");
    });
}

#[test]
fn tasks_of_a_node() {
    check("tasks_of_node", |app| {
        key(app, KeyCode::Down);
        key(app, KeyCode::Enter);
    });
}

#[test]
fn task_detail() {
    check("task_detail", |app| {
        key(app, KeyCode::Char('t'));
        key(app, KeyCode::Down);
        key(app, KeyCode::Down);
        key(app, KeyCode::Enter);
    });
}

#[test]
fn help() {
    check("help", |app| key(app, KeyCode::Char('?')));
}

#[test]
fn command_line_completion() {
    check("command_completion", |app| {
        key(app, KeyCode::Char(':'));
        typed(app, "th");
    });
}

#[test]
fn disconnected_and_stale() {
    check("disconnected", |app| {
        let now = app.now;
        app.on_stream(
            StreamEvent::Disconnected {
                error: "connection refused".into(),
                retry_in: std::time::Duration::from_secs(4),
                attempt: 3,
            },
            now,
        );
    });
}

/// A console that has heard nothing from its gateway yet.
fn unconnected() -> App {
    let origin = Origin {
        context: "local".into(),
        url: "http://127.0.0.1:7070".into(),
        ..Default::default()
    };
    App::new(
        Defs::load(None, "default", "default"),
        origin,
        vec![],
        None,
        T0,
    )
}

#[test]
fn connecting() {
    for (w, h) in [(80, 24), (10, 3), (1, 1)] {
        let mut app = unconnected();
        let terminal = render(&mut app, w, h);
        if w == 80 {
            golden("connecting_80x24", terminal.backend());
        }
    }
}

#[test]
fn hostile_names_are_drawn_inert() {
    let mut app = demo_app(3);
    let now = app.now;
    let mut task = app.model.tasks.values().next().unwrap().clone();
    task.name = "evil\x1b[2J\x1b]52;c;ZXZpbA==\x07\u{202e}name".into();
    app.on_stream(
        StreamEvent::Message(ServerMsg::Event {
            sub: SUB_TASKS.into(),
            events: vec![day2top::api::Event {
                seq: 2,
                op: day2top::api::Op::Updated,
                data: Record::Task(task.clone()),
            }],
        }),
        now,
    );
    key(&mut app, KeyCode::Char('t'));
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "evil");
    key(&mut app, KeyCode::Enter);
    let table = render(&mut app, 120, 10).backend().to_string();
    assert!(
        table.contains("evil␛[2J␛]52;c;ZXZp…"),
        "cut to the column, still inert: {table}"
    );
    key(&mut app, KeyCode::Enter);
    let terminal = render(&mut app, 120, 10);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("evil␛[2J␛]52;c;ZXZpbA==␇�name"), "{screen}");
    for cell in terminal.backend().buffer().content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "a control character reached the screen"
        );
    }
}

#[test]
fn no_dashboard_at_all_draws_the_built_in() {
    let mut app = demo_app(3);
    app.defs.dashboards.clear();
    typed(&mut app, ":dash\n");
    let screen = render(&mut app, 100, 30).backend().to_string();
    assert!(!screen.is_empty());
    key(&mut app, KeyCode::Char(']'));
    render(&mut app, 100, 30);
}

#[test]
fn every_theme_draws() {
    for theme in ["default", "light", "high-contrast", "mono"] {
        let mut app = demo_app(3);
        app.defs = Defs::load(None, theme, "vim");
        assert!(
            app.defs.warnings.is_empty(),
            "{theme}: {:?}",
            app.defs.warnings
        );
        render(&mut app, 100, 30);
    }
}

#[test]
fn the_selection_stays_on_its_row_when_rows_move() {
    let mut app = demo_app(20);
    key(&mut app, KeyCode::Char('t'));
    for _ in 0..5 {
        key(&mut app, KeyCode::Down);
    }
    app.prepare();
    let chosen = app.tables.tasks.selected_id().unwrap().to_string();
    let position = app.tables.tasks.cursor;
    // A task that sorts first appears; the chosen row moves down by one.
    let now = app.now;
    let mut newcomer = app.model.tasks[chosen.as_str()].clone();
    newcomer.id = "aaa-new".into();
    newcomer.name = "aaa-first".into();
    app.on_stream(
        StreamEvent::Message(ServerMsg::Event {
            sub: SUB_TASKS.into(),
            events: vec![day2top::api::Event {
                seq: 3,
                op: day2top::api::Op::Added,
                data: Record::Task(newcomer),
            }],
        }),
        now,
    );
    app.prepare();
    assert_eq!(app.tables.tasks.selected_id(), Some(chosen.as_str()));
    assert_eq!(app.tables.tasks.cursor, position + 1);
}

/// The log view after `:logs`, holding the demo's lines of the last minute.
fn logs(app: &mut App) {
    typed(app, ":logs\n");
    let mut lines = fixture::demo_logs(42, 150, 12);
    lines.retain(|l| l.ts >= app.now - 60_000);
    fixture::feed_logs(app, lines);
}

#[test]
fn logs_following() {
    check("logs_follow", logs);
}

#[test]
fn logs_paused() {
    check("logs_paused", |app| {
        logs(app);
        for _ in 0..15 {
            key(app, KeyCode::Up);
        }
    });
}

#[test]
fn logs_wrapped_without_source() {
    check("logs_wrapped", |app| {
        logs(app);
        key(app, KeyCode::Char('w'));
        key(app, KeyCode::Char('S'));
    });
}

#[test]
fn logs_searched() {
    check("logs_searched", |app| {
        logs(app);
        key(app, KeyCode::Char('/'));
        typed(app, "declined\n");
    });
}

#[test]
fn logs_filtered() {
    check("logs_filtered", |app| {
        logs(app);
        key(app, KeyCode::Char('|'));
        typed(app, "p<=4 !payments\n");
    });
}

fn hostile(message: &[u8]) -> day2top::api::LogEntry {
    let (text, b64) = day2top::collect::logline::message(message);
    day2top::api::LogEntry {
        cursor: format!("h:{}", message.len()),
        ts: T0,
        node: "n".into(),
        unit: Some("evil.service".into()),
        task: None,
        file: None,
        identifier: None,
        stream: None,
        priority: 6,
        message: text,
        message_base64: b64,
        fields: Default::default(),
    }
}

#[test]
fn absolute_log_times_follow_daylight_saving_changes() {
    let mut app = demo_app(3);
    app.zone = jiff::tz::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    typed(&mut app, ":logs\n");
    // Either side of 2026-03-29T01:00Z, when Berlin goes from +1 to +2.
    let mut winter = hostile(b"before the change");
    winter.ts = 1_774_744_200_000; // 00:30Z
    winter.cursor = "w".into();
    let mut summer = hostile(b"after the change");
    summer.ts = 1_774_785_600_000; // 12:00Z
    summer.cursor = "s".into();
    fixture::feed_logs(&mut app, vec![winter, summer]);
    key(&mut app, KeyCode::Char('T'));
    let screen = render(&mut app, 100, 12).backend().to_string();
    assert!(screen.contains("01:30:00.000"), "{screen}");
    assert!(screen.contains("14:00:00.000"), "{screen}");
}

#[test]
fn hostile_log_lines_are_inert_and_readable() {
    let big = format!("start {} end", "y".repeat(1 << 20));
    let lines = vec![
        hostile(b"clear \x1b[2J\x1b[H the screen"),
        hostile(b"clipboard \x1b]52;c;ZXZpbCBwYXlsb2Fk\x07 set"),
        hostile(b"link \x1b]8;;http://evil.example/\x07click\x1b]8;;\x07 here"),
        hostile(b"bell \x07 nul \x00 back\x08\x08\x08space"),
        hostile(b"bytes \xff\xfe\xc3\x28 not utf-8"),
        hostile(b"title \x1b]0;pwned\x07 and \x1b[31mred\x1b[0m text"),
        hostile(big.as_bytes()),
    ];
    for (w, h) in [(80, 24), (160, 48), (10, 3)] {
        let mut app = demo_app(3);
        typed(&mut app, ":logs\n");
        fixture::feed_logs(&mut app, lines.clone());
        let terminal = render(&mut app, w, h);
        for cell in terminal.backend().buffer().content() {
            assert!(
                !cell.symbol().chars().any(|c| c.is_control()),
                "a control character reached the screen"
            );
        }
        if w == 160 {
            golden("logs_hostile_160x48", terminal.backend());
        }
    }
}

#[test]
fn dropped_lines_leave_a_marker_saying_how_many() {
    let mut app = demo_app(3);
    logs(&mut app);
    let now = app.now;
    app.on_stream(
        StreamEvent::Message(ServerMsg::Gap {
            sub: day2top::tui::model::SUB_LOGS.into(),
            dropped: 1234,
            reason: "the subscriber fell behind the gateway's queue".into(),
        }),
        now,
    );
    let screen = render(&mut app, 120, 20).backend().to_string();
    assert!(
        screen.contains("1234 lines dropped: the subscriber fell behind"),
        "{screen}"
    );
    assert!(
        screen.contains("1234 dropped"),
        "the title counts them too: {screen}"
    );
    // A filter never hides the marker.
    key(&mut app, KeyCode::Char('|'));
    typed(&mut app, "nothing-matches-this\n");
    let screen = render(&mut app, 120, 20).backend().to_string();
    assert!(
        screen.contains("1234 lines dropped: the subscriber fell behind"),
        "{screen}"
    );
}

#[test]
fn health() {
    check("health", |app| typed(app, ":health\n"));
}

#[test]
fn health_in_ascii() {
    check("health_ascii", |app| {
        app.defs.ascii = true;
        typed(app, ":health\n");
    });
}

#[test]
fn cluster_in_ascii() {
    check("cluster_ascii", |app| app.defs.ascii = true);
}

#[test]
fn enter_on_a_failing_check_opens_its_logs_at_the_failure() {
    let mut app = demo_app(150);
    typed(&mut app, ":health\n");
    render(&mut app, 160, 48);
    let first = app.tables.health.selected_id().unwrap().to_string();
    let check = app.model.checks[&first].clone();
    assert_eq!(
        check.status,
        day2top::api::CheckStatus::Failing,
        "failing first"
    );
    let effects = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(app.route(), day2top::tui::app::Route::Logs { .. }));
    assert_eq!(app.logs.view.pending_at, check.last_failure);
    assert!(!effects.is_empty(), "the logs are subscribed to");
    // When the lines come, the view pauses at the failure.
    fixture::feed_logs(&mut app, fixture::demo_logs(42, 150, 5));
    render(&mut app, 160, 48);
    assert_eq!(app.logs.view.pending_at, None);
    assert!(!app.logs.view.follow, "paused at the failure");
}

fn dash(app: &mut App) {
    typed(app, ":dash\n");
    fixture::feed_dash(app, fixture::demo_series(seeded(), 150));
}

#[test]
fn dashboard() {
    check("dash", dash);
}

#[test]
fn dashboard_in_ascii() {
    check("dash_ascii", |app| {
        app.defs.ascii = true;
        dash(app);
    });
}

#[test]
fn dashboard_drill_down() {
    check("dash_drill", |app| {
        dash(app);
        key(app, KeyCode::Char('j'));
        key(app, KeyCode::Enter);
    });
}

#[test]
fn dashboard_in_16_colours_uses_only_the_16() {
    use ratatui::style::Color;
    for theme in ["default", "light", "high-contrast", "mono"] {
        let mut app = demo_app(150);
        app.defs = Defs::load(None, theme, "default");
        dash(&mut app);
        let terminal = render(&mut app, 160, 48);
        for cell in terminal.backend().buffer().content() {
            for color in [cell.fg, cell.bg] {
                assert!(
                    !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                    "{theme}: {color:?} is not one of the 16"
                );
            }
        }
    }
}

#[test]
fn dashboard_window_and_subscription() {
    let mut app = demo_app(150);
    let effects = app.run_command("dash 15m");
    assert!(
        effects.iter().any(|e| matches!(
            e,
            day2top::tui::app::Effect::FetchSeries {
                window: 900_000,
                ..
            }
        )),
        "a 15m window reads its history: {effects:?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, day2top::tui::app::Effect::Subscribe(_)))
    );
    let effects = app.on_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::NONE));
    assert_eq!(app.dash.window_ms(), 3_600_000);
    assert!(matches!(
        effects[..],
        [day2top::tui::app::Effect::FetchSeries {
            window: 3_600_000,
            ..
        }]
    ));
    let effects = app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(matches!(&effects[..], [day2top::tui::app::Effect::Unsubscribe(s)] if s == "dash"));
    assert!(app.model.dash.is_empty(), "the series go with the view");
    app.run_command("dash nosuch");
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("neither a window")
    );
}

/// The traces list, and the spans of every trace, as the gateway would hold them.
fn traces(app: &mut App) -> Vec<day2top::api::Span> {
    let spans = fixture::demo_spans(seeded(), 150);
    fixture::feed_traces(app, &spans);
    typed(app, ":traces\n");
    spans
}

/// Opens the selected trace's waterfall with its spans delivered.
fn waterfall(app: &mut App) {
    let spans = traces(app);
    render(app, 160, 48);
    key(app, KeyCode::Enter);
    let id = app.trace_view.id.clone();
    let mine = spans.into_iter().filter(|s| s.trace_id == id).collect();
    app.on_trace(&id, Ok(mine));
}

#[test]
fn traces_list() {
    check("traces", |app| {
        traces(app);
    });
}

#[test]
fn traces_filtered_to_errors() {
    check("traces_errors", |app| {
        traces(app);
        typed(app, ":traces errors\n");
    });
}

#[test]
fn trace_waterfall() {
    check("waterfall", waterfall);
}

#[test]
fn long_span_names_get_up_to_half_the_width() {
    let mut app = demo_app(3);
    let spans = traces(&mut app);
    render(&mut app, 200, 30);
    key(&mut app, KeyCode::Enter);
    let id = app.trace_view.id.clone();
    let mut mine: Vec<_> = spans.into_iter().filter(|s| s.trace_id == id).collect();
    let long = format!("GET /api/v1/{}", "segment/".repeat(7));
    let root = mine.iter().position(|s| s.parent_id.is_none()).unwrap();
    mine[root].name = long.clone();
    app.on_trace(&id, Ok(mine));
    let screen = render(&mut app, 200, 30).backend().to_string();
    let row = screen.lines().find(|l| l.contains("GET /api/v1/")).unwrap();
    // 200 columns: the name is shown whole (well over 60 columns), and the
    // bars keep at least half.
    assert!(row.contains(long.trim_end_matches('/')), "{row}");
    let narrow = render(&mut app, 80, 30).backend().to_string();
    let row = narrow.lines().find(|l| l.contains("GET /api/v1/")).unwrap();
    assert!(row.contains('…'), "cut at half of 80: {row}");
}

#[test]
fn trace_waterfall_collapsed_zoomed_and_detail() {
    check("waterfall_collapsed", |app| {
        waterfall(app);
        key(app, KeyCode::Char('j'));
        key(app, KeyCode::Char(' '));
    });
    check("waterfall_zoomed_detail", |app| {
        waterfall(app);
        key(app, KeyCode::Char('j'));
        key(app, KeyCode::Char('j'));
        key(app, KeyCode::Char('j'));
        key(app, KeyCode::Char('z'));
        key(app, KeyCode::Enter);
    });
}

#[test]
fn a_span_opens_its_tasks_logs_at_its_time() {
    let mut app = demo_app(150);
    waterfall(&mut app);
    render(&mut app, 160, 48);
    let span = app.trace_view.selected().cloned().unwrap();
    let effects = app.on_key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE));
    assert!(!effects.is_empty());
    assert!(matches!(app.route(), day2top::tui::app::Route::Logs { .. }));
    assert_eq!(
        app.logs.view.pending_at,
        Some((span.start / 1_000_000) as i64)
    );
}

#[test]
fn searching_a_folded_waterfall_unfolds_to_the_matches() {
    let mut app = demo_app(150);
    waterfall(&mut app);
    render(&mut app, 160, 48);
    key(&mut app, KeyCode::Char('C'));
    render(&mut app, 160, 48);
    assert_eq!(app.trace_view.visible.len(), 1, "all folded under the root");
    typed(&mut app, "/select customers\n");
    render(&mut app, 160, 48);
    let selected = app.trace_view.selected().unwrap();
    assert_eq!(
        selected.name, "SELECT customers",
        "the cursor is on the match"
    );
    assert!(app.trace_view.visible.len() >= 4, "its ancestors unfolded");
}

/// Opens a shell pane on the first task and feeds it `recorded`, a byte
/// stream as a terminal program wrote it. No socket: the pane is what is
/// tested here; sessions over real sockets are in tests/exec.rs.
fn exec_pane(app: &mut App, recorded: &[&[u8]]) -> u64 {
    key(app, KeyCode::Char('t'));
    app.prepare();
    key(app, KeyCode::Enter);
    let effects = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE));
    let id = match effects.as_slice() {
        [day2top::tui::app::Effect::StartExec { id, request, .. }] => {
            assert!(request.tty && request.interactive);
            *id
        }
        other => panic!("s opens a session: {other:?}"),
    };
    for bytes in recorded {
        app.sessions
            .on_output(id, day2top::client::ExecOutput::Stdout(bytes.to_vec()));
    }
    id
}

const COLOURS: &[u8] = b"$ ls --color\r\n\x1b[1;31mbold red\x1b[0m \x1b[42mgreen bg\x1b[0m \x1b[38;5;208m256-orange\x1b[0m\r\n\x1b[6;12Hat row 6, col 12\x1b[3;1H\x1b[Kline 3 rewritten\x1b[8;1H$ ";

#[test]
fn exec_pane_colours_and_cursor_moves() {
    check("exec_colours", |app| {
        exec_pane(app, &[COLOURS]);
    });
    // The colours reach the screen's cells.
    let mut app = demo_app(150);
    exec_pane(&mut app, &[COLOURS]);
    let terminal = render(&mut app, 80, 24);
    let buffer = terminal.backend().buffer();
    let cell = (0..buffer.area.height)
        .flat_map(|y| (0..buffer.area.width).map(move |x| (x, y)))
        .map(|(x, y)| &buffer[(x, y)])
        .collect::<Vec<_>>();
    let at = |text: &str| {
        let row: String = cell.iter().map(|c| c.symbol()).collect();
        row.find(text)
            .map(|i| cell[row[..i].chars().count()])
            .expect(text)
    };
    assert_eq!(
        at("bold red").fg,
        ratatui::style::Color::Indexed(1),
        "ANSI red"
    );
    assert!(
        at("bold red")
            .modifier
            .contains(ratatui::style::Modifier::BOLD)
    );
    assert_eq!(
        at("green bg").bg,
        ratatui::style::Color::Indexed(2),
        "ANSI green"
    );
    assert_eq!(at("256-orange").fg, ratatui::style::Color::Indexed(208));
}

#[test]
fn exec_pane_alternate_screen_and_back() {
    let full_screen: &[u8] =
        b"\x1b[?1049h\x1b[H\x1b[2Jfull-screen program\x1b[20;1H\x1b[7m-- status line --\x1b[0m";
    check("exec_alternate", |app| {
        exec_pane(app, &[b"before: shell prompt\r\n$ vi\r\n", full_screen]);
    });
    check("exec_alternate_left", |app| {
        exec_pane(
            app,
            &[
                b"before: shell prompt\r\n$ vi\r\n",
                full_screen,
                b"\x1b[?1049l$ ",
            ],
        );
    });
}

#[test]
fn exec_pane_wide_and_combining_characters() {
    check("exec_wide", |app| {
        exec_pane(
            app,
            &["wide: 日本語|\r\ncombining: e\u{301} a\u{308}|\r\nemoji: 🙂|\r\n".as_bytes()],
        );
    });
}

#[test]
fn exec_pane_exited_and_the_sessions_list() {
    check("exec_exited", |app| {
        let id = exec_pane(app, &[b"$ exit 3\r\n"]);
        app.sessions.on_output(
            id,
            day2top::client::ExecOutput::Exited(day2top::api::ExecStatus {
                exit_code: Some(3),
                signal: None,
                reason: "exited with 3".into(),
            }),
        );
    });
    check("exec_failed", |app| {
        let id = exec_pane(app, &[]);
        app.sessions.on_failed(
            id,
            "gateway refused: token \"viewer\" lacks the exec scope".into(),
        );
    });
    check("sessions", |app| {
        exec_pane(app, &[b"$ "]);
        // The chord returns to the console; :sessions lists the pane.
        app.on_key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL));
        typed(app, ":sessions\n");
    });
}

#[test]
fn exec_pane_keys_go_to_the_process_and_the_chord_leaves() {
    let mut app = demo_app(150);
    let id = exec_pane(&mut app, &[b"$ "]);
    let sent = |effects: Vec<day2top::tui::app::Effect>| -> Vec<u8> {
        effects
            .into_iter()
            .flat_map(|e| match e {
                day2top::tui::app::Effect::ExecInput {
                    input: day2top::client::ExecInput::Stdin(b),
                    ..
                } => b,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    // q, Esc and Ctrl-C are the process's, not the console's.
    for (code, mods, bytes) in [
        (KeyCode::Char('q'), KeyModifiers::NONE, b"q".to_vec()),
        (KeyCode::Esc, KeyModifiers::NONE, vec![0x1b]),
        (KeyCode::Char('c'), KeyModifiers::CONTROL, vec![3]),
        (KeyCode::Up, KeyModifiers::NONE, b"\x1b[A".to_vec()),
    ] {
        assert_eq!(sent(app.on_key(KeyEvent::new(code, mods))), bytes);
    }
    assert!(!app.quit);
    assert_eq!(app.route(), &day2top::tui::app::Route::Exec { id });
    // A paste is bracketed once the program asks for it.
    app.sessions.on_output(
        id,
        day2top::client::ExecOutput::Stdout(b"\x1b[?2004h".to_vec()),
    );
    assert_eq!(sent(app.on_paste("ls\n")), b"\x1b[200~ls\r\x1b[201~");
    app.on_key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL));
    assert!(matches!(app.route(), day2top::tui::app::Route::Task { .. }));
}

#[test]
fn exec_passes_the_consoles_no_color_on() {
    let mut app = demo_app(150);
    app.sessions.env.insert("NO_COLOR".into(), "1".into());
    key(&mut app, KeyCode::Char('t'));
    app.prepare();
    match app
        .on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE))
        .as_slice()
    {
        [day2top::tui::app::Effect::StartExec { request, .. }] => {
            assert_eq!(request.env.get("NO_COLOR").map(String::as_str), Some("1"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn readonly_hides_exec() {
    let mut app = demo_app(150);
    app.origin.readonly = true;
    key(&mut app, KeyCode::Char('t'));
    app.prepare();
    assert!(
        !app.hints()
            .contains(&day2top::tui::config::action::Action::Shell)
    );
    let effects = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE));
    assert!(effects.is_empty());
    assert!(app.notice.as_ref().unwrap().text.contains("read-only"));
    assert!(app.run_command("exec id").is_empty());
}

#[test]
fn exec_pane_scrolls_back_through_its_history() {
    let mut app = demo_app(150);
    let lines: String = (1..=200).map(|i| format!("line {i}\r\n")).collect();
    let id = exec_pane(&mut app, &[lines.as_bytes()]);
    let screen = |app: &mut App| format!("{}", render(app, 80, 24).backend());
    assert!(screen(&mut app).contains("line 200"));
    let shift = |code| KeyEvent::new(code, KeyModifiers::SHIFT);
    let effects = app.on_key(shift(KeyCode::PageUp));
    assert!(effects.is_empty(), "scrolling is the console's, not sent");
    app.on_key(shift(KeyCode::PageUp));
    let back = screen(&mut app);
    assert!(
        !back.contains("line 200") && back.contains("line 170"),
        "{back}"
    );
    assert!(back.contains("rows back"));
    // Any key for the process returns to the live screen.
    app.on_key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    assert_eq!(app.sessions.pane(id).unwrap().scroll, 0);
    assert!(screen(&mut app).contains("line 200"));
}

/// A few screens recorded with their styles: the tasks table's selected
/// row and state colours, the same in the light theme, the log view's
/// priority colours and a search highlight, and the footer's hint keys.
#[test]
fn styled_screens() {
    let tasks = |theme: &str| {
        let mut app = demo_app(150);
        app.defs = Defs::load(None, theme, "default");
        key(&mut app, KeyCode::Char('t'));
        key(&mut app, KeyCode::Down);
        render(&mut app, 80, 24)
    };
    golden_styled("styled_tasks_default_80x24", &tasks("default"));
    golden_styled("styled_tasks_light_80x24", &tasks("light"));
    let mut app = demo_app(150);
    typed(&mut app, ":logs\n");
    fixture::feed_logs(&mut app, fixture::demo_logs(42, 150, 5));
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "error\n");
    golden_styled("styled_logs_searched_80x24", &render(&mut app, 80, 24));
}

/// Before a table's first snapshot comes (a large cluster's tasks come in
/// parts, after its nodes), the table says it is loading, never that
/// nothing matches.
#[test]
fn a_table_before_its_snapshot_says_it_is_loading() {
    let mut app = unconnected();
    let nodes = fixture::demo_app(seeded(), 2)
        .model
        .nodes
        .values()
        .map(|n| Record::Node(n.clone()))
        .collect();
    app.on_stream(StreamEvent::Connected, T0);
    app.on_stream(
        StreamEvent::Message(ServerMsg::Snapshot {
            sub: day2top::tui::model::SUB_NODES.into(),
            seq: 1,
            epoch: "e".into(),
            items: nodes,
            more: false,
        }),
        T0,
    );
    typed(&mut app, ":tasks\n/cassandra");
    let screen = render(&mut app, 80, 24).backend().to_string();
    assert!(screen.contains("loading"), "{screen}");
    assert!(!screen.contains("nothing matches"), "{screen}");
    typed(&mut app, "\n:nodes\n");
    let screen = render(&mut app, 80, 24).backend().to_string();
    assert!(!screen.contains("loading"), "{screen}");
}

/// The console through a hub: two agents' hosts with the same names, kept
/// apart by their AGENT column; web2 unreachable for 90 s.
fn fleet_app() -> App {
    use day2top::api::{AgentState, AgentStatus, Task};
    use day2top::collect::Source;
    use day2top::collect::demo::DemoSource;
    use day2top::fleet::rename;
    use day2top::tui::model::SUB_NODES;
    let mut app = demo_app(150);
    let now = app.now;
    let (mut nodes, mut tasks) = (Vec::new(), Vec::new());
    for agent in ["web1", "web2"] {
        let mut demo = DemoSource::new(DemoConfig {
            seed: 7,
            nodes: 3,
            tasks: 6,
            ..Default::default()
        });
        let collected = demo.collect(now);
        for node in collected.nodes {
            let mut node = rename::node(agent, node);
            if agent == "web2" {
                node.unreachable_since = Some(now - 90_000);
            }
            nodes.push(Record::Node(node));
        }
        for task in collected.tasks {
            let mut task = rename::task(agent, Task::clone(&task));
            if agent == "web2" {
                task.unreachable_since = Some(now - 90_000);
            }
            tasks.push(Record::Task(task));
        }
    }
    let snapshot = |sub: &str, items| {
        StreamEvent::Message(ServerMsg::Snapshot {
            sub: sub.into(),
            seq: 2,
            epoch: "hub".into(),
            items,
            more: false,
        })
    };
    app.on_stream(snapshot(SUB_NODES, nodes), now);
    app.on_stream(snapshot(SUB_TASKS, tasks), now);
    app.model.source = "fleet".into();
    let status = |name: &str, state, error: Option<&str>| AgentStatus {
        name: name.into(),
        url: format!("https://{name}.example:7070"),
        state,
        since: now - 90_000,
        error: error.map(String::from),
        last_contact: Some(
            now - if state == AgentState::Up {
                1_000
            } else {
                91_000
            },
        ),
        clock_offset_ms: Some(if name == "web1" { 12 } else { -2_400 }),
        nodes: 3,
        tasks: 9,
        dropped: 0,
    };
    app.on_agents(Ok(vec![
        status("web1", AgentState::Up, None),
        status(
            "web2",
            AgentState::Down,
            Some("IO error: Connection refused (os error 111)"),
        ),
        status(
            "web3",
            AgentState::Refused,
            Some("the gateway refused the token: no such token"),
        ),
    ]));
    app
}

#[test]
fn a_fleet_through_a_hub() {
    for (name, command) in [
        ("fleet_nodes", "nodes\n"),
        ("fleet_tasks", "tasks\n"),
        ("fleet_agents", "agents\n"),
    ] {
        for (w, h) in [(80, 24), (160, 48)] {
            let mut app = fleet_app();
            key(&mut app, KeyCode::Char(':'));
            typed(&mut app, command);
            let terminal = render(&mut app, w, h);
            golden(&format!("{name}_{w}x{h}"), terminal.backend());
        }
        for (w, h) in [(10, 3), (1, 1), (0, 0)] {
            let mut app = fleet_app();
            key(&mut app, KeyCode::Char(':'));
            typed(&mut app, command);
            render(&mut app, w, h);
        }
    }
}
