//! The command language: what a `:` line and a keymap's `run` say. A line
//! is an action's name (`sort_next`) or a command with its arguments
//! (`dash 15m`); both are parsed here, once, and every command is one row
//! of [`COMMANDS`]: its name, aliases, arguments, what completes them,
//! its help, and what it does.

use super::{App, Effect, Mode, Route};
use crate::tui::config::action::Action;
use crate::tui::config::defs;
use crate::tui::config::keymap::Run;
use crate::tui::dash::panels::WINDOWS;
use crate::tui::feature::Notice;
use crate::tui::logs::view::LogScope;
use crate::tui::tables::filter::TraceFilter;

/// What completes a command's argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    Contexts,
    Themes,
    Keymaps,
    Nodes,
}

pub struct Command {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// The arguments, as the help shows them.
    pub args: &'static str,
    /// Arguments it needs at least.
    pub needs: usize,
    pub complete: Complete,
    pub help: &'static str,
    pub run: fn(&mut App, &[&str]) -> Vec<Effect>,
}

/// Every command, in the order completion offers them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "cluster",
        aliases: &[],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the cluster view",
        run: |app, _| app.act(Action::ViewCluster),
    },
    Command {
        name: "nodes",
        aliases: &["node", "no"],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the nodes",
        run: |app, _| app.act(Action::ViewNodes),
    },
    Command {
        name: "tasks",
        aliases: &["task", "ta"],
        args: "[NODE]",
        needs: 0,
        complete: Complete::Nodes,
        help: "all tasks, or one node's",
        run: tasks,
    },
    Command {
        name: "logs",
        aliases: &["log"],
        args: "[task ID | node NAME | unit NAME | namespace NAME]",
        needs: 0,
        complete: Complete::Nothing,
        help: "all logs, or one task's, node's or unit's",
        run: logs,
    },
    Command {
        name: "health",
        aliases: &[],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the health checks",
        run: |app, _| app.act(Action::ViewHealth),
    },
    Command {
        name: "dash",
        aliases: &["dashboard"],
        args: "[WINDOW] [NAME]",
        needs: 0,
        complete: Complete::Nothing,
        help: "the dashboard, over a window (1m 5m 15m 1h), by name",
        run: dash,
    },
    Command {
        name: "traces",
        aliases: &["trace"],
        args: "[SERVICE] [>DURATION] [errors]",
        needs: 0,
        complete: Complete::Nothing,
        help: "recent traces, of a service, slower than, with errors",
        run: traces,
    },
    Command {
        name: "exec",
        aliases: &[],
        args: "[CMD…]",
        needs: 0,
        complete: Complete::Nothing,
        help: "a command (a shell when none) in the task in view",
        run: |app, args| app.open_exec(args.iter().map(|a| a.to_string()).collect()),
    },
    Command {
        name: "restart",
        aliases: &[],
        args: "[NAMESPACE/POD]",
        needs: 0,
        complete: Complete::Nothing,
        help: "restart a Kubernetes pod (delete it; its controller starts a new one), after a y",
        run: |app, args| app.restart(args),
    },
    Command {
        name: "cordon",
        aliases: &[],
        args: "[NODE]",
        needs: 0,
        complete: Complete::Nothing,
        help: "mark a Kubernetes node unschedulable, after a y",
        run: |app, args| app.cordon(args, true),
    },
    Command {
        name: "uncordon",
        aliases: &[],
        args: "[NODE]",
        needs: 0,
        complete: Complete::Nothing,
        help: "mark a Kubernetes node schedulable again, after a y",
        run: |app, args| app.cordon(args, false),
    },
    Command {
        name: "sessions",
        aliases: &["session"],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the exec sessions",
        run: |app, _| app.act(Action::ViewSessions),
    },
    Command {
        name: "alerts",
        aliases: &[],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the gateway's alerts: firing first, their evidence, the receivers",
        run: |app, _| app.act(Action::ViewAlerts),
    },
    Command {
        name: "agents",
        aliases: &[],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "a hub's agents: state, last contact, clock offset",
        run: |app, _| app.act(Action::ViewAgents),
    },
    Command {
        name: "triage",
        aliases: &[],
        args: "[5m|15m|1h|6h]",
        needs: 0,
        complete: Complete::Nothing,
        help: "what changed in the window, ranked with the likely cause on top",
        run: triage,
    },
    Command {
        name: "goto",
        aliases: &[],
        args: "TIME (14:02, yesterday 23:10, 2026-12-02 14:02, 1h)",
        needs: 1,
        complete: Complete::Nothing,
        help: "the log view at that time, read back from the source if it is older than what is held",
        run: super::logs::goto,
    },
    Command {
        name: "widen",
        aliases: &[],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "a linked log view's time window, twice as long",
        run: super::logs::widen,
    },
    Command {
        name: "save",
        aliases: &[],
        args: "FILE",
        needs: 1,
        complete: Complete::Nothing,
        help: "write the log view's lines to a file",
        run: super::logs::save,
    },
    Command {
        name: "record",
        aliases: &["rec"],
        args: "[FILE | stop]",
        needs: 0,
        complete: Complete::Nothing,
        help: "record what comes from the gateway, for day2top replay; again (or stop) stops",
        run: super::recording::record,
    },
    Command {
        name: "mark",
        aliases: &[],
        args: "[TEXT]",
        needs: 0,
        complete: Complete::Nothing,
        help: "a marker in the recording, labelled TEXT",
        run: super::recording::mark,
    },
    Command {
        name: "share",
        aliases: &[],
        args: "[why]",
        needs: 0,
        complete: Complete::Nothing,
        help: "share mode from here on (never off again): secrets become placeholders; why names the rules behind what is in focus",
        run: super::share::share,
    },
    Command {
        name: "copy",
        aliases: &["yank"],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the selected row's name, or the log lines on screen, to the terminal's clipboard (OSC 52)",
        run: |app, _| super::share::copy(app),
    },
    Command {
        name: "ctx",
        aliases: &[],
        args: "[NAME]",
        needs: 0,
        complete: Complete::Contexts,
        help: "show or switch the gateway context",
        run: ctx,
    },
    Command {
        name: "theme",
        aliases: &[],
        args: "[NAME]",
        needs: 0,
        complete: Complete::Themes,
        help: "show or switch the theme",
        run: theme,
    },
    Command {
        name: "keymap",
        aliases: &[],
        args: "[NAME]",
        needs: 0,
        complete: Complete::Keymaps,
        help: "show or switch the keymap",
        run: keymap,
    },
    Command {
        name: "help",
        aliases: &[],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "the keys and commands",
        run: |app, _| {
            app.mode = Mode::Help { scroll: 0 };
            vec![]
        },
    },
    Command {
        name: "quit",
        aliases: &["q", "q!"],
        args: "",
        needs: 0,
        complete: Complete::Nothing,
        help: "leave day2top",
        run: |app, _| {
            app.quit = true;
            vec![]
        },
    },
];

/// The command a word names.
pub fn find(word: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}

/// Why a line is not one the console can run, if it is not.
pub fn check(line: &str) -> Result<(), String> {
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return Ok(());
    };
    if let Run::Action(_) = Run::parse(first) {
        return match words.next() {
            None => Ok(()),
            Some(_) => Err(format!("the action {first:?} takes no arguments")),
        };
    }
    match find(first) {
        Some(c) if words.count() < c.needs => Err(format!(
            ":{} needs an argument (:{} {})",
            c.name, c.name, c.args
        )),
        Some(_) => Ok(()),
        None => {
            let first: Vec<&str> = COMMANDS[..7].iter().map(|c| c.name).collect();
            Err(format!(
                "unknown command {:?}; try {}",
                line.split_whitespace().next().unwrap_or(""),
                first.join(", ")
            ))
        }
    }
}

impl App {
    /// Runs a line: an action by name, or a command with its arguments.
    pub(super) fn run_line(&mut self, line: &str) -> Vec<Effect> {
        if let Err(e) = check(line) {
            self.notice = Notice::error(e);
            return vec![];
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((first, args)) = words.split_first() else {
            return vec![];
        };
        match (Run::parse(first), find(first)) {
            (Run::Action(action), _) => self.act(action),
            (_, Some(command)) => (command.run)(self, args),
            (_, None) => vec![],
        }
    }
}

/// The candidates that complete the command line's last word.
pub fn complete(app: &App, line: &str) -> Vec<String> {
    let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    let dir = app.config_dir.as_deref();
    crate::tui::chrome::line::complete(line, &names, |word| {
        match find(word).map_or(Complete::Nothing, |c| c.complete) {
            Complete::Nothing => vec![],
            Complete::Contexts => app.contexts.clone(),
            Complete::Themes => defs::names(defs::BUILTIN_THEMES, dir, "themes"),
            Complete::Keymaps => defs::names(defs::BUILTIN_KEYMAPS, dir, "keymaps"),
            Complete::Nodes => {
                let mut nodes: Vec<String> = app
                    .model
                    .nodes
                    .values()
                    .map(|n| n.hostname.clone())
                    .collect();
                nodes.sort();
                nodes
            }
        }
    })
}

/// The id of the node named `name` (its hostname or id).
fn node_id(app: &App, name: &str) -> Option<String> {
    app.model
        .nodes
        .values()
        .find(|n| n.hostname == name || n.id == name)
        .map(|n| n.id.clone())
}

fn tasks(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let Some(node) = args.first() else {
        return app.act(Action::ViewTasks);
    };
    match node_id(app, node) {
        Some(id) => {
            app.routes = vec![Route::Cluster, Route::Tasks { node: Some(id) }];
            app.tables.tasks.invalidate();
        }
        None => app.notice = Notice::error(format!("no node named {node:?}")),
    }
    vec![]
}

fn logs(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let Some(kind) = args.first() else {
        app.routes = vec![
            Route::Cluster,
            Route::Logs {
                scope: LogScope::All,
            },
        ];
        return vec![];
    };
    let name = args.get(1).copied().unwrap_or("");
    let scope = match *kind {
        "task" => Some(LogScope::Task(name.to_string())),
        "unit" => Some(LogScope::Unit(name.to_string())),
        "namespace" | "ns" => Some(LogScope::Namespace(name.to_string())),
        "node" => node_id(app, name).map(LogScope::Node),
        _ => None,
    };
    match scope {
        Some(scope) if !name.is_empty() => app.routes = vec![Route::Cluster, Route::Logs { scope }],
        _ => {
            app.notice = Notice::error(format!(
                "usage: :logs [task ID | node NAME | unit NAME | namespace NAME]; no {kind} {name:?}"
            ))
        }
    }
    vec![]
}

/// `:triage [WINDOW]`.
fn triage(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let window = match args.first() {
        None => None,
        Some(arg) => match crate::triage::Window::parse(arg) {
            Some(window) => Some(window),
            None => {
                app.notice = Notice::error(format!("{arg:?} is not a window: 5m, 15m, 1h or 6h"));
                return vec![];
            }
        },
    };
    app.triage.open(window);
    app.act(Action::ViewTriage)
}

/// `:dash [WINDOW] [NAME]`: reopened with a fresh subscription when it is
/// on screen already.
fn dash(app: &mut App, args: &[&str]) -> Vec<Effect> {
    for arg in args {
        if let Some(window) =
            crate::api::parse_span(arg).and_then(|w| WINDOWS.iter().position(|&x| x == w))
        {
            app.dash.window = window;
        } else if let Some(index) = app.defs.dashboards.iter().position(|d| {
            d.name == *arg
                || d.name == format!("{}-{arg}", crate::tui::config::dashboard::DEFAULT_DASHBOARD)
        }) {
            app.dash.index = index;
        } else {
            let names: Vec<&str> = app
                .defs
                .dashboards
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            app.notice = Notice::error(format!(
                "{arg:?} is neither a window (1m 5m 15m 1h) nor a dashboard ({})",
                names.join(", ")
            ));
            return vec![];
        }
    }
    let reopen = matches!(app.route(), Route::Dash | Route::DashPanel { .. });
    app.routes = vec![Route::Cluster, Route::Dash];
    if !reopen {
        return vec![];
    }
    let mut effects = vec![app.dash.close(&mut app.model)];
    effects.extend(app.dash.open(&mut app.model, &app.defs));
    effects
}

/// `:traces [SERVICE] [>DURATION] [errors]`.
fn traces(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let mut filter = TraceFilter::default();
    for arg in args {
        if *arg == "errors" {
            filter.errors_only = true;
        } else if let Some(d) = arg.strip_prefix('>') {
            match crate::api::parse_span(d) {
                Some(ms) => filter.min_duration = Some(ms.max(0) as u64 * 1_000_000),
                None => {
                    app.notice = Notice::error(format!("{d:?} is not a duration like 500ms or 2s"));
                    return vec![];
                }
            }
        } else {
            filter.service = Some(arg.to_string());
        }
    }
    app.tables.trace_filter = filter;
    app.tables.traces.invalidate();
    app.act(Action::ViewTraces)
}

fn ctx(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let known = app.contexts.join(", ");
    match args.first() {
        None => {
            app.notice = Notice::info(format!("context {}; others: {known}", app.origin.context))
        }
        Some(name) if app.contexts.iter().any(|c| c == name) => {
            return vec![Effect::SwitchContext(name.to_string())];
        }
        Some(name) => {
            app.notice = Notice::error(format!("no context named {name:?}; known: {known}"))
        }
    }
    vec![]
}

fn theme(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let shown = app.defs.theme.name.clone();
    if let Some(theme) = switch(app, "theme", &shown, args, defs::load_theme) {
        app.defs.theme = theme;
    }
    vec![]
}

fn keymap(app: &mut App, args: &[&str]) -> Vec<Effect> {
    let shown = app.defs.keymap.name.clone();
    if let Some(keymap) = switch(app, "keymap", &shown, args, defs::load_keymap) {
        app.defs.keymap = keymap;
    }
    vec![]
}

/// `:theme`/`:keymap`: without a name, says which one is in use; with
/// one, loads it (used only if it loaded cleanly), and the footer says
/// which way it went.
fn switch<T>(
    app: &mut App,
    kind: &str,
    shown: &str,
    args: &[&str],
    load: fn(&str, Option<&std::path::Path>, &mut Vec<String>) -> T,
) -> Option<T> {
    let Some(name) = args.first() else {
        app.notice = Notice::info(format!("{kind} {shown}"));
        return None;
    };
    let mut warnings = Vec::new();
    let loaded = load(name, app.config_dir.as_deref(), &mut warnings);
    let ok = warnings.is_empty();
    app.notice = Some(Notice {
        text: if ok {
            format!("{kind} {name}")
        } else {
            warnings.join("; ")
        },
        error: !ok,
    });
    ok.then_some(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::config::keymap::COMMAND_NAMES;

    /// The names a keymap file is checked against are the table's.
    #[test]
    fn the_keymaps_command_names_are_the_tables() {
        let mut table: Vec<&str> = COMMANDS
            .iter()
            .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
            .collect();
        let mut names = COMMAND_NAMES.to_vec();
        table.sort();
        names.sort();
        assert_eq!(table, names);
    }
}
