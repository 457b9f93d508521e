//! `o`: the views related to what is selected, each with its resolved
//! target and time window, from the link definitions (`views/links.toml`).
//! Resolving is a pure function of the selection and the model; App opens
//! the target it is given.

pub mod draw;
pub mod window;

use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::api::{Check, FieldValue, LogEntry, Span, UnixMillis};
use crate::tui::config::links::{LinkDef, LinkFrom, LinkTo};
use crate::tui::logs::view::LogScope;
use crate::tui::model::Model;
use crate::tui::widgets::text::inert;
use window::Window;

/// What `o` was pressed on.
#[derive(Debug, Clone)]
pub enum Source {
    /// The selected span of a waterfall.
    Span(Span),
    /// The log lines on screen, newest last.
    Log(Vec<Arc<LogEntry>>),
    Check(Check),
    /// The dashboard: its window and the selected panel's title.
    Dash {
        window: Window,
        panel: String,
    },
    /// A task; `sessions` of this console's exec sessions are into it.
    Task {
        id: String,
        sessions: usize,
    },
    /// An exec session into `task`, from `started` to `ended` (or now).
    Exec {
        task: String,
        command: String,
        started: UnixMillis,
        ended: Option<UnixMillis>,
    },
}

/// Where a link goes, resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Logs {
        scope: LogScope,
        window: Option<Window>,
    },
    Trace {
        id: String,
    },
    Traces {
        task: Option<String>,
        window: Option<Window>,
        min: Option<u64>,
        errors: bool,
    },
    Checks {
        task: String,
    },
    Task {
        id: String,
    },
    Sessions {
        task: String,
    },
    /// The dashboard over at least this window.
    Dash {
        window: Window,
    },
}

/// One line of the menu: a link that resolved, or one that did not and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub title: String,
    /// The resolved target and window, in words.
    pub detail: String,
    pub target: Option<Target>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Menu {
    /// What the links start from, in words.
    pub about: String,
    pub items: Vec<Item>,
    pub cursor: usize,
}

/// Lines of a log view whose trace ids are offered at most.
const MAX_TRACES: usize = 5;

impl Menu {
    /// The links of `defs` that start from this kind of source, resolved.
    pub fn new(
        source: &Source,
        defs: &[LinkDef],
        model: &Model,
        zone: &jiff::tz::TimeZone,
        now: UnixMillis,
    ) -> Menu {
        let r = Resolver { model, zone, now };
        let from = source.kind();
        let mut items = Vec::new();
        for def in defs.iter().filter(|d| d.from == from) {
            r.resolve(source, def, &mut items);
        }
        // The first that goes somewhere is where the cursor starts.
        let cursor = items.iter().position(|i| i.target.is_some()).unwrap_or(0);
        Menu {
            about: r.about(source),
            items,
            cursor,
        }
    }

    pub fn chosen(&self) -> Option<&Target> {
        self.items.get(self.cursor)?.target.as_ref()
    }

    /// Moves to the next item that goes somewhere, `delta` steps on.
    pub fn step(&mut self, delta: isize) {
        let n = self.items.len() as isize;
        if n == 0 {
            return;
        }
        let mut at = self.cursor as isize;
        for _ in 0..n {
            at = (at + delta).rem_euclid(n);
            if self.items[at as usize].target.is_some() {
                self.cursor = at as usize;
                return;
            }
        }
    }
}

impl Source {
    pub fn kind(&self) -> LinkFrom {
        match self {
            Source::Span(_) => LinkFrom::Span,
            Source::Log(_) => LinkFrom::Log,
            Source::Check(_) => LinkFrom::Check,
            Source::Dash { .. } => LinkFrom::Dash,
            Source::Task { .. } => LinkFrom::Task,
            Source::Exec { .. } => LinkFrom::Exec,
        }
    }

    /// The object's task, if it has one.
    fn task(&self) -> Option<&str> {
        match self {
            Source::Span(s) => s.task_id.as_deref(),
            Source::Check(c) => c.task_id.as_deref(),
            Source::Task { id, .. } => Some(id),
            Source::Exec { task, .. } => Some(task),
            Source::Log(lines) => lines.last()?.task.as_deref(),
            Source::Dash { .. } => None,
        }
    }

    fn node(&self) -> Option<&str> {
        match self {
            Source::Span(s) => s.node_id.as_deref(),
            Source::Check(c) => c.node_id.as_deref(),
            Source::Log(lines) => lines.last().map(|l| l.node.as_str()),
            _ => None,
        }
    }

    /// The object's own time, before a link's margins.
    fn window(&self, now: UnixMillis) -> Option<Window> {
        match self {
            Source::Span(s) => Some(Window::of_nanos(s.start, s.end)),
            Source::Log(lines) => lines.last().map(|l| Window::new(l.ts, l.ts)),
            Source::Check(c) => {
                let at = c.last_failure.or(c.history.last().map(|r| r.ts))?;
                Some(Window::new(at, at))
            }
            Source::Dash { window, .. } => Some(*window),
            Source::Task { .. } => None,
            Source::Exec { started, ended, .. } => {
                Some(Window::new(*started, ended.unwrap_or(now)))
            }
        }
    }
}

struct Resolver<'a> {
    model: &'a Model,
    zone: &'a jiff::tz::TimeZone,
    now: UnixMillis,
}

impl Resolver<'_> {
    fn task_name<'t>(&'t self, id: &'t str) -> &'t str {
        self.model.tasks.get(id).map_or(id, |t| t.name.as_str())
    }

    fn about(&self, source: &Source) -> String {
        match source {
            Source::Span(s) => format!("span {} · {}", inert(&s.service), inert(&s.name)),
            Source::Log(lines) => format!("the {} log lines on screen", lines.len()),
            Source::Check(c) => format!("check {}", inert(&c.name)),
            Source::Dash { window, panel } => format!(
                "dashboard panel {} · {}",
                inert(panel),
                window.label(self.zone, self.now)
            ),
            Source::Task { id, .. } => format!("task {}", inert(self.task_name(id))),
            Source::Exec { task, command, .. } => {
                format!("exec {} in {}", inert(command), inert(self.task_name(task)))
            }
        }
    }

    fn label(&self, window: Option<Window>) -> String {
        window.map_or_else(|| "all held".to_string(), |w| w.label(self.zone, self.now))
    }

    fn resolve(&self, source: &Source, def: &LinkDef, items: &mut Vec<Item>) {
        let window = source
            .window(self.now)
            .map(|w| w.margin(def.before, def.after));
        let item = |detail: String, target: Option<Target>| Item {
            title: def.title.clone(),
            detail,
            target,
        };
        let task = source.task();
        let no_task = || item("it has no task".to_string(), None);
        match def.to {
            LinkTo::Logs => {
                let (scope, whose) = match (task, source.node(), source) {
                    (Some(t), ..) => (
                        LogScope::Task(t.to_string()),
                        inert(self.task_name(t)).into_owned(),
                    ),
                    (None, Some(n), _) => (
                        LogScope::Node(n.to_string()),
                        inert(self.model.node_name(n)).into_owned(),
                    ),
                    (None, None, _) => (LogScope::All, "everything".to_string()),
                };
                let detail = format!("logs of {whose} · {}", self.label(window));
                items.push(item(detail, Some(Target::Logs { scope, window })));
            }
            LinkTo::Trace => match source {
                Source::Log(lines) => {
                    let mut found = 0;
                    for (id, line) in lines.iter().rev().filter_map(|l| Some((trace_id(l)?, l))) {
                        if items
                            .iter()
                            .any(|i| i.target == Some(Target::Trace { id: id.clone() }))
                        {
                            continue;
                        }
                        let at = window::moment(line.ts, self.zone, self.now, true);
                        let detail =
                            format!("trace {} · {at} {}", short(&id), inert(&line.message));
                        items.push(item(detail, Some(Target::Trace { id })));
                        found += 1;
                        if found == MAX_TRACES {
                            break;
                        }
                    }
                    if found == 0 {
                        items.push(item("no line on screen carries a trace id".into(), None));
                    }
                }
                Source::Span(s) => {
                    let detail = format!("trace {}", short(&s.trace_id));
                    items.push(item(
                        detail,
                        Some(Target::Trace {
                            id: s.trace_id.clone(),
                        }),
                    ));
                }
                _ => items.push(item("it carries no trace id".into(), None)),
            },
            LinkTo::Traces => {
                // The dashboard's traces are everyone's; the others' their task's.
                let task = match source {
                    Source::Dash { .. } => None,
                    _ => task.map(str::to_string),
                };
                let window = match source {
                    Source::Task { .. } => None,
                    _ => window,
                };
                let mut what = vec!["traces".to_string()];
                if let Some(t) = task.as_deref() {
                    what.push(format!("through {}", inert(self.task_name(t))));
                }
                if def.errors {
                    what.push("with errors".to_string());
                }
                if let Some(min) = def.min {
                    let ms = (min / 1_000_000) as i64;
                    what.push(format!("over {}", crate::api::format_span(ms)));
                }
                let detail = format!("{} · {}", what.join(" "), self.label(window));
                let target = Target::Traces {
                    task,
                    window,
                    min: def.min,
                    errors: def.errors,
                };
                items.push(item(detail, Some(target)));
            }
            LinkTo::Checks => match task {
                Some(t) => {
                    let n = self
                        .model
                        .checks
                        .values()
                        .filter(|c| c.task_id.as_deref() == Some(t))
                        .count();
                    let detail = format!("{n} checks of {}", inert(self.task_name(t)));
                    items.push(item(
                        detail,
                        Some(Target::Checks {
                            task: t.to_string(),
                        }),
                    ));
                }
                None => items.push(no_task()),
            },
            LinkTo::Task | LinkTo::Metrics if task.is_some() => {
                let t = task.unwrap_or_default();
                let held = self.model.tasks.contains_key(t);
                let what = if def.to == LinkTo::Metrics {
                    "figures"
                } else {
                    "states"
                };
                let detail = match held {
                    true => format!("{} · its {what}", inert(self.task_name(t))),
                    false => format!("task {} is no longer in the cluster", inert(t)),
                };
                items.push(item(
                    detail,
                    held.then(|| Target::Task { id: t.to_string() }),
                ));
            }
            LinkTo::Metrics => match (source.node(), window) {
                (Some(n), Some(w)) => {
                    let w = Window::new(w.from, self.now.max(w.to));
                    let detail = format!(
                        "dashboard of {} · {}",
                        inert(self.model.node_name(n)),
                        self.label(Some(w))
                    );
                    items.push(item(detail, Some(Target::Dash { window: w })));
                }
                _ => items.push(item("it has no task or node".into(), None)),
            },
            LinkTo::Task => items.push(no_task()),
            LinkTo::Sessions => match (task, source) {
                (Some(t), Source::Task { sessions, .. }) => {
                    let detail = format!(
                        "{sessions} from this console into {}",
                        inert(self.task_name(t))
                    );
                    let target = (*sessions > 0).then(|| Target::Sessions {
                        task: t.to_string(),
                    });
                    items.push(item(detail, target));
                }
                (Some(t), _) => items.push(item(
                    format!("sessions into {}", inert(self.task_name(t))),
                    Some(Target::Sessions {
                        task: t.to_string(),
                    }),
                )),
                (None, _) => items.push(no_task()),
            },
        }
    }
}

/// A trace id's head, enough to tell traces apart on screen.
fn short(id: &str) -> String {
    let id = inert(id);
    match id.char_indices().nth(12) {
        Some((at, _)) => format!("{}…", &id[..at]),
        None => id.into_owned(),
    }
}

/// The trace id a log line carries: in a field (`trace_id`, `TRACE_ID`,
/// `traceId`, `otelTraceID`, …), as `trace_id=…` or `"trace_id":"…"` in
/// the text, or in a W3C `traceparent`.
pub fn trace_id(line: &LogEntry) -> Option<String> {
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)trace[_.-]?id["']?\s*[:=]\s*["']?([0-9a-f]{16,32})\b"#).expect("a regex")
    });
    static PARENT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}\b").expect("a regex")
    });
    let is_trace_key = |k: &str| {
        let k = k.to_ascii_lowercase().replace(['_', '.', '-'], "");
        k == "traceid" || k == "oteltraceid"
    };
    for (key, value) in &line.fields {
        if let (true, FieldValue::Text(v)) = (is_trace_key(key), value)
            && (16..=32).contains(&v.len())
            && v.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Some(v.to_ascii_lowercase());
        }
    }
    let text = &line.message;
    NAMED
        .captures(text)
        .or_else(|| PARENT.captures(text))
        .map(|c| c[1].to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
