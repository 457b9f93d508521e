//! Built-in definitions (themes, keymaps, table views), compiled into the
//! binary, with the user's files in the config directory laid over them.
//!
//! A user file is a partial overlay: a theme file may restyle two roles, a
//! keymap file rebind one key. A bad file is reported with its path, line
//! and what is wrong, and the built-in definition is used instead.

use std::path::{Path, PathBuf};

use super::toml::parse;

use super::fields::{AGENT_FIELDS, CHECK_FIELDS, NODE_FIELDS, TASK_FIELDS, TRACE_FIELDS};
use crate::tui::config::dashboard::{DashDef, load_dashboards};
use crate::tui::config::keymap::{Keymap, KeymapFile};
use crate::tui::config::links::{LinkDef, load_links};
use crate::tui::config::theme::{Theme, ThemeFile};
use crate::tui::config::viewdef::{TableDef, TableFile};

pub const BUILTIN_THEMES: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../../themes/mono.toml")),
];

pub const BUILTIN_KEYMAPS: &[(&str, &str)] = &[
    ("default", include_str!("../../../keymaps/default.toml")),
    ("vim", include_str!("../../../keymaps/vim.toml")),
];

pub const BUILTIN_NODES_VIEW: &str = include_str!("../../../views/nodes.toml");
pub const BUILTIN_TASKS_VIEW: &str = include_str!("../../../views/tasks.toml");
pub const BUILTIN_HEALTH_VIEW: &str = include_str!("../../../views/health.toml");
pub const BUILTIN_AGENTS_VIEW: &str = include_str!("../../../views/agents.toml");
pub const BUILTIN_TRACES_VIEW: &str = include_str!("../../../views/traces.toml");

/// Everything the console draws with, and what went wrong loading it.
#[derive(Debug, Clone)]
pub struct Defs {
    pub theme: Theme,
    pub keymap: Keymap,
    pub nodes_view: TableDef,
    pub tasks_view: TableDef,
    pub health_view: TableDef,
    pub agents_view: TableDef,
    pub traces_view: TableDef,
    /// The built-in dashboard first, then the user's.
    pub dashboards: Vec<DashDef>,
    /// What `o` offers: the built-in links, then the user's.
    pub links: Vec<LinkDef>,
    /// Draw only ASCII (`--ascii`): sparklines and strips as ` .:-=+*#@`.
    pub ascii: bool,
    pub warnings: Vec<String>,
}

fn read_user(
    dir: Option<&Path>,
    kind: &str,
    name: &str,
) -> Option<(PathBuf, Result<String, String>)> {
    let path = dir?.join(kind).join(format!("{name}.toml"));
    if !path.exists() {
        return None;
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()));
    Some((path, text))
}

fn builtin<'a>(table: &'a [(&str, &str)], name: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Names of built-in and user-provided definitions of one kind.
pub fn names(table: &[(&str, &str)], dir: Option<&Path>, kind: &str) -> Vec<String> {
    let mut names: Vec<String> = table.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(entries) = dir.and_then(|d| std::fs::read_dir(d.join(kind)).ok()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_string());
            }
        }
    }
    names
}

pub fn load_theme(name: &str, dir: Option<&Path>, warnings: &mut Vec<String>) -> Theme {
    let base_text = builtin(BUILTIN_THEMES, name);
    let base_file: ThemeFile = parse(
        &format!("built-in theme {name}"),
        base_text.unwrap_or(BUILTIN_THEMES[0].1),
    )
    .expect("built-in themes parse");
    let mut theme = Theme::from_file(name, &base_file);
    if base_text.is_none() {
        theme.name = name.to_string();
    }
    match read_user(dir, "themes", name) {
        Some((path, text)) => {
            match text.and_then(|t| parse::<ThemeFile>(&path.display().to_string(), &t)) {
                Ok(user) => theme.overlay(&user),
                Err(e) => warnings.push(format!("{e} (using the built-in theme)")),
            }
        }
        None if base_text.is_none() => {
            warnings.push(format!("no theme named {name:?}; using default"));
        }
        None => {}
    }
    theme
}

pub fn load_keymap(name: &str, dir: Option<&Path>, warnings: &mut Vec<String>) -> Keymap {
    let base = builtin(BUILTIN_KEYMAPS, name);
    let mut keymap = builtin_keymap(name).unwrap_or_else(|| {
        let mut default = builtin_keymap(BUILTIN_KEYMAPS[0].0).expect("the default keymap");
        default.name = name.to_string();
        default
    });
    match read_user(dir, "keymaps", name) {
        Some((path, text)) => {
            match text.and_then(|t| parse::<KeymapFile>(&path.display().to_string(), &t)) {
                Ok(user) => {
                    // A user's file may start from another built-in keymap.
                    if let Some(other) = user.extends.as_deref() {
                        match builtin_keymap(other) {
                            Some(start) => keymap.bindings = start.bindings,
                            None => warnings.push(format!(
                                "{}: extends {other:?}, which is not a built-in keymap",
                                path.display()
                            )),
                        }
                    }
                    keymap.overlay(user.keymap)
                }
                Err(e) => warnings.push(format!("{e} (using the built-in keymap)")),
            }
        }
        None if base.is_none() => {
            warnings.push(format!("no keymap named {name:?}; using default"));
        }
        None => {}
    }
    keymap
}

/// A built-in keymap: the default, or a variant that changes a few keys of
/// the one it extends (vim: `extends = "default"`).
fn builtin_keymap(name: &str) -> Option<Keymap> {
    let text = builtin(BUILTIN_KEYMAPS, name)?;
    let file: KeymapFile =
        parse(&format!("built-in keymap {name}"), text).expect("built-in keymaps parse");
    let mut keymap = match file.extends.as_deref() {
        Some(base) if base != name => builtin_keymap(base).expect("a built-in base keymap"),
        _ => Keymap::from_file(
            name,
            KeymapFile {
                keymap: vec![],
                ..file.clone()
            },
        ),
    };
    keymap.name = file.name.clone().unwrap_or_else(|| name.to_string());
    keymap.overlay(file.keymap);
    Some(keymap)
}

fn load_view(
    name: &str,
    builtin_text: &str,
    known: &[&str],
    dir: Option<&Path>,
    warnings: &mut Vec<String>,
) -> TableDef {
    let origin = format!("built-in view {name}");
    let file: TableFile = parse(&origin, builtin_text).expect("built-in views parse");
    let mut def = TableDef::from_file(file, known).expect("built-in views are valid");
    if let Some((path, text)) = read_user(dir, "views", name) {
        let shown = path.display().to_string();
        let overlaid = text.and_then(|text| {
            let user = parse::<TableFile>(&shown, &text)?;
            let mut candidate = def.clone();
            match candidate.overlay(user, known) {
                Ok(()) => Ok(candidate),
                // Point at the line of the field the error names.
                Err((field, e)) => match text.find(&format!("\"{field}\"")) {
                    Some(at) => Err(format!(
                        "{shown}:{}: {e}",
                        text[..at].matches('\n').count() + 1
                    )),
                    None => Err(format!("{shown}: {e}")),
                },
            }
        });
        match overlaid {
            Ok(candidate) => def = candidate,
            Err(e) => warnings.push(format!("{e} (using the built-in view)")),
        }
    }
    def
}

impl Defs {
    /// Loads the named theme and keymap and the table views, built-in
    /// first, then the user's files from `dir` (the config directory).
    pub fn load(dir: Option<&Path>, theme: &str, keymap: &str) -> Defs {
        let mut warnings = Vec::new();
        Defs {
            theme: load_theme(theme, dir, &mut warnings),
            keymap: load_keymap(keymap, dir, &mut warnings),
            nodes_view: load_view("nodes", BUILTIN_NODES_VIEW, NODE_FIELDS, dir, &mut warnings),
            tasks_view: load_view("tasks", BUILTIN_TASKS_VIEW, TASK_FIELDS, dir, &mut warnings),
            health_view: load_view(
                "health",
                BUILTIN_HEALTH_VIEW,
                CHECK_FIELDS,
                dir,
                &mut warnings,
            ),
            agents_view: load_view(
                "agents",
                BUILTIN_AGENTS_VIEW,
                AGENT_FIELDS,
                dir,
                &mut warnings,
            ),
            dashboards: load_dashboards(dir, &mut warnings),
            links: load_links(dir, &mut warnings),
            traces_view: load_view(
                "traces",
                BUILTIN_TRACES_VIEW,
                TRACE_FIELDS,
                dir,
                &mut warnings,
            ),
            ascii: false,
            warnings,
        }
    }
}
