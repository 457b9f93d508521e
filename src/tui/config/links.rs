//! The links `o` offers (`views/links.toml`), with the user's file of the
//! same name laid over them by link name.

use std::path::Path;

use serde::Deserialize;

use crate::tui::config::toml::parse;

pub const BUILTIN_LINKS: &str = include_str!("../../../views/links.toml");

/// What a link starts from: the object selected when `o` is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkFrom {
    Span,
    Log,
    Check,
    Dash,
    Task,
    Exec,
}

/// Where a link goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkTo {
    Logs,
    Trace,
    Traces,
    Checks,
    Task,
    Sessions,
    Metrics,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkDef {
    pub name: String,
    pub from: LinkFrom,
    pub to: LinkTo,
    pub title: String,
    /// Milliseconds added before and after the object's own time.
    pub before: i64,
    pub after: i64,
    /// Traces: at least this long, in nanoseconds.
    pub min: Option<u64>,
    /// Traces: only those with an error.
    pub errors: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinksFile {
    #[serde(default)]
    link: Vec<Entry>,
}

/// One `[[link]]` as written: every key but the name may be left out of
/// an overlay.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    from: Option<LinkFrom>,
    to: Option<LinkTo>,
    title: Option<String>,
    before: Option<String>,
    after: Option<String>,
    min: Option<String>,
    errors: Option<bool>,
    #[serde(default)]
    off: bool,
}

fn duration(name: &str, key: &str, text: &str) -> Result<i64, String> {
    crate::api::parse_span(text)
        .ok_or_else(|| format!("link {name:?}: {key} = {text:?} is not a duration like 2s or 1m"))
}

impl Entry {
    /// Lays this entry over `base` (or makes a new link when there is none).
    fn apply(self, base: Option<LinkDef>) -> Result<LinkDef, String> {
        let name = self.name.clone();
        let (from, to) = match (self.from, self.to, &base) {
            (Some(f), Some(t), _) => (f, t),
            (f, t, Some(b)) => (f.unwrap_or(b.from), t.unwrap_or(b.to)),
            _ => return Err(format!("link {name:?}: a new link needs `from` and `to`")),
        };
        let mut def = base.unwrap_or(LinkDef {
            name: name.clone(),
            from,
            to,
            title: format!("{to:?}").to_lowercase(),
            before: 0,
            after: 0,
            min: None,
            errors: false,
        });
        (def.from, def.to) = (from, to);
        if !makes_sense(from, to) {
            return Err(format!(
                "link {name:?}: from {from:?} to {to:?} is not a link day2top can follow",
            ));
        }
        if let Some(t) = self.title {
            def.title = t;
        }
        if let Some(b) = &self.before {
            def.before = duration(&name, "before", b)?;
        }
        if let Some(a) = &self.after {
            def.after = duration(&name, "after", a)?;
        }
        if let Some(m) = &self.min {
            def.min = Some(duration(&name, "min", m)?.max(0) as u64 * 1_000_000);
        }
        if let Some(e) = self.errors {
            def.errors = e;
        }
        Ok(def)
    }
}

/// The pairs a link can join: the object must carry what the target needs
/// (a task, a trace id, a time).
fn makes_sense(from: LinkFrom, to: LinkTo) -> bool {
    use {LinkFrom as F, LinkTo as T};
    match to {
        T::Logs | T::Task => true,
        T::Trace => matches!(from, F::Log | F::Span),
        T::Traces => matches!(from, F::Dash | F::Task | F::Span | F::Check),
        T::Checks | T::Sessions => matches!(from, F::Task | F::Span | F::Exec | F::Check),
        T::Metrics => matches!(from, F::Check | F::Task | F::Span),
    }
}

/// Lays `text` (from `origin`) over `links`; an entry in error is reported
/// and left out, the others apply.
fn overlay(links: &mut Vec<LinkDef>, origin: &str, text: &str, warnings: &mut Vec<String>) {
    let file: LinksFile = match parse(origin, text) {
        Ok(f) => f,
        Err(e) => {
            warnings.push(format!("{e} (using the built-in links)"));
            return;
        }
    };
    for entry in file.link {
        let at = links.iter().position(|l| l.name == entry.name);
        if entry.off {
            if let Some(at) = at {
                links.remove(at);
            }
            continue;
        }
        match entry.apply(at.map(|i| links[i].clone())) {
            Ok(def) => match at {
                Some(i) => links[i] = def,
                None => links.push(def),
            },
            Err(e) => warnings.push(format!("{origin}: {e} (link left out)")),
        }
    }
}

/// The built-in links, then the user's `views/links.toml` over them.
pub fn load_links(dir: Option<&Path>, warnings: &mut Vec<String>) -> Vec<LinkDef> {
    let mut links = Vec::new();
    let mut builtin = Vec::new();
    overlay(
        &mut links,
        "built-in views/links.toml",
        BUILTIN_LINKS,
        &mut builtin,
    );
    assert!(
        builtin.is_empty(),
        "the built-in links are valid: {builtin:?}"
    );
    if let Some(path) = dir.map(|d| d.join("views").join("links.toml"))
        && path.exists()
    {
        let shown = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => overlay(&mut links, &shown, &text, warnings),
            Err(e) => warnings.push(format!("{shown}: {e} (using the built-in links)")),
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_links_load() {
        let mut warnings = Vec::new();
        let links = load_links(None, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        let span = links.iter().find(|l| l.name == "span-logs").unwrap();
        assert_eq!(
            (span.from, span.to, span.before, span.after),
            (LinkFrom::Span, LinkTo::Logs, 2_000, 2_000)
        );
        let slow = links.iter().find(|l| l.name == "dash-slow-traces").unwrap();
        assert_eq!(slow.min, Some(1_000_000_000));
        for from in [
            LinkFrom::Span,
            LinkFrom::Log,
            LinkFrom::Check,
            LinkFrom::Dash,
            LinkFrom::Task,
            LinkFrom::Exec,
        ] {
            assert!(
                links.iter().any(|l| l.from == from),
                "no link from {from:?}"
            );
        }
    }

    #[test]
    fn a_user_file_replaces_removes_adds_and_says_what_is_wrong() {
        let mut links = load_links(None, &mut Vec::new());
        let before = links.len();
        let mut warnings = Vec::new();
        let text = r#"
[[link]]
name = "span-logs"
before = "10s"

[[link]]
name = "task-sessions"
off = true

[[link]]
name = "check-traces"
from = "check"
to = "traces"
errors = true

[[link]]
name = "bad-time"
from = "task"
to = "logs"
after = "soon"

[[link]]
name = "nonsense"
from = "dash"
to = "trace"
"#;
        overlay(&mut links, "links.toml", text, &mut warnings);
        let span = links.iter().find(|l| l.name == "span-logs").unwrap();
        assert_eq!(
            (span.before, span.after),
            (10_000, 2_000),
            "after keeps its built-in value"
        );
        assert!(!links.iter().any(|l| l.name == "task-sessions"));
        assert!(links.iter().any(|l| l.name == "check-traces" && l.errors));
        assert_eq!(links.len(), before);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("\"soon\" is not a duration"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("not a link day2top can follow"),
            "{warnings:?}"
        );
        let mut bad = Vec::new();
        overlay(&mut links, "links.toml", "[[link]]\nname = 3\n", &mut bad);
        assert!(bad[0].starts_with("links.toml:2:"), "{bad:?}");
    }
}
