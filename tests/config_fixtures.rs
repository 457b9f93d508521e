//! Definition files in a config directory: valid overlays take effect;
//! invalid ones are reported with file, line and cause, and the built-in
//! definition is used instead.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use day2top::tui::config::action::{Action, ViewKind};
use day2top::tui::config::defs::{self, Defs};
use day2top::tui::config::keymap::Run;
use day2top::tui::config::theme::Role;
use ratatui::style::{Color, Modifier};

fn fixtures(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

fn press(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn valid_overlays_take_effect() {
    let dir = fixtures("good");
    let defs = Defs::load(Some(&dir), "default", "default");
    assert!(defs.warnings.is_empty(), "{:?}", defs.warnings);

    let selection = defs.theme.style(Role::Selection);
    assert_eq!(selection.bg, Some(Color::Rgb(0, 0x5f, 0x87)));
    assert!(selection.add_modifier.contains(Modifier::BOLD));
    assert_eq!(defs.theme.style(Role::Error).fg, Some(Color::LightRed));
    assert_eq!(
        defs.theme.style(Role::Ok).fg,
        Some(Color::Green),
        "roles not overlaid stay built-in"
    );

    assert_eq!(
        defs.keymap.action_for(&press('x'), ViewKind::Tasks),
        Some(Action::Quit)
    );
    assert_eq!(
        defs.keymap.action_for(&press('q'), ViewKind::Tasks),
        Some(Action::Quit)
    );
    assert_eq!(
        defs.keymap.action_for(
            &KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE),
            ViewKind::Tasks
        ),
        Some(Action::ViewTasks)
    );

    assert_eq!(defs.tasks_view.title, "Procs");
    assert_eq!(defs.tasks_view.columns.len(), 2);
    assert_eq!(defs.tasks_view.columns[0].field, "labels.pid");

    let solarized = defs::load_theme("solarized", Some(&dir), &mut Vec::new());
    assert_eq!(solarized.name, "solarized");
    assert_eq!(
        solarized.style(Role::Header).bg,
        Some(Color::Rgb(0x26, 0x8b, 0xd2))
    );
    assert!(
        defs::names(defs::BUILTIN_THEMES, Some(&dir), "themes").contains(&"solarized".to_string())
    );
}

#[test]
fn invalid_files_name_file_line_and_cause_and_fall_back() {
    let dir = fixtures("bad");
    let defs = Defs::load(Some(&dir), "default", "default");
    let all = defs.warnings.join("\n");
    let expect = [
        (
            "themes/default.toml:3:",
            "unknown colour \"chartreuse-ish\"",
        ),
        (
            "keymaps/default.toml:3:",
            "unknown action or command \"explode\"",
        ),
        ("views/tasks.toml:7:", "unknown field \"nmae\""),
        ("views/nodes.toml:1:", ""),
    ];
    for (place, cause) in expect {
        assert!(
            defs.warnings
                .iter()
                .any(|w| w.contains(place) && w.contains(cause)),
            "no warning with {place} {cause} in:\n{all}"
        );
    }
    // The built-in definitions stand in for every bad file.
    let builtin = Defs::load(None, "default", "default");
    assert_eq!(
        defs.theme.style(Role::Header),
        builtin.theme.style(Role::Header)
    );
    assert_eq!(defs.keymap.action_for(&press('x'), ViewKind::Tasks), None);
    assert_eq!(defs.tasks_view, builtin.tasks_view);
    assert_eq!(defs.nodes_view, builtin.nodes_view);
}

#[test]
fn unknown_names_fall_back_with_a_warning() {
    let defs = Defs::load(None, "neon", "emacs");
    assert_eq!(defs.warnings.len(), 2, "{:?}", defs.warnings);
    assert!(defs.warnings[0].contains("no theme named \"neon\""));
    assert!(defs.warnings[1].contains("no keymap named \"emacs\""));
}

#[test]
fn shipped_keymaps_bind_every_action_and_no_shifted_digit() {
    use day2top::tui::config::keymap::KeymapFile;
    let all = [
        Action::Quit,
        Action::Back,
        Action::Help,
        Action::Command,
        Action::Filter,
        Action::Select,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::SortNext,
        Action::SortPrev,
        Action::SortReverse,
        Action::ViewCluster,
        Action::ViewNodes,
        Action::ViewTasks,
        Action::ViewLogs,
        Action::Follow,
        Action::ToggleWrap,
        Action::CycleTime,
        Action::ToggleSource,
        Action::Search,
        Action::NextMatch,
        Action::PrevMatch,
        Action::FilterLogs,
    ];
    for (name, text) in defs::BUILTIN_KEYMAPS {
        let file: KeymapFile = day2top::tui::config::toml::parse(name, text).unwrap();
        for binding in &file.keymap {
            assert!(
                !binding.desc.is_empty(),
                "{name}: {:?} has no description",
                binding.run
            );
            for key in &binding.on {
                assert!(
                    !key.is_shifted_digit(),
                    "{name}: {key} needs a shifted digit"
                );
            }
        }
        // A variant keymap changes a few keys of its base: what it loads
        // to must still run every action.
        let mut warnings = Vec::new();
        let loaded = defs::load_keymap(name, None, &mut warnings);
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        for action in all {
            assert!(
                loaded.bindings.iter().any(|b| b.run == Run::Action(action)),
                "{name}: nothing runs {action:?}"
            );
        }
    }
}

#[test]
fn shipped_themes_give_every_role() {
    use day2top::tui::config::theme::ThemeFile;
    let count = |text: &str| {
        day2top::tui::config::toml::parse::<ThemeFile>("t", text)
            .unwrap()
            .roles
            .len()
    };
    let full = count(defs::BUILTIN_THEMES[0].1);
    for (name, text) in defs::BUILTIN_THEMES {
        assert_eq!(count(text), full, "{name} leaves roles out");
    }
}
