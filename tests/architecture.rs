//! The layout's rules, checked on the source itself: no import circle
//! between the modules of the console or of the gateway, and no file too
//! long to read in one sitting.
//!
//! A module is a file. An edge is a path a file names (`use` lines, with
//! `crate::`, `super::`, `self::` or a child's name in front, and
//! `crate::…`/`super::…` paths in code), resolved to the longest module it
//! names (`super::Shared` names the parent). A folder's `mod.rs` wiring its
//! own children (`routes::router`, `pub use stream::StreamLimits`) is the
//! composition root, not a dependency, and is left out; a child naming
//! its parent's items is kept. So siblings and cousins may not import each
//! other in a circle, which is what makes a feature movable on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, as (module path, file).
fn modules(src: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modules(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            out.insert(parts.join("::"), path);
        }
    }
}

/// The source without comments and string literals, so prose that
/// mentions a path is not taken for one.
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            // A char literal, not a lifetime: skip what is quoted.
            '\'' if matches!(chars.clone().nth(1), Some('\'')) => {
                chars.next();
                chars.next();
                out.push_str("' '");
            }
            '\'' if chars.peek() == Some(&'\\') => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
                out.push_str("' '");
            }
            c => out.push(c),
        }
    }
    out
}

/// `use a::{b, c::{d, e}};` expanded into its full paths.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = format!("{prefix}{}", &tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &head, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &head, out);
    } else if !tree.is_empty() {
        out.push(format!("{prefix}{tree}"));
    }
}

/// The paths a file names: its `use` trees expanded, and every
/// `crate::…`/`super::…` path in its code.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            expand(&rest[..end].replace(char::is_whitespace, ""), "", &mut out);
        }
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let i = from + i;
            from = i + start.len();
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                continue;
            }
            let end = code[i..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| i + e);
            // `crate::a::{b, c}` is a use tree, expanded above; `pub(in
            // crate::a)` is a visibility, not a use.
            if code[end..].starts_with('{') || code[..i].ends_with("(in ") {
                continue;
            }
            out.push(code[i..end].trim_end_matches(':').to_string());
        }
    }
    out
}

/// The module a path names from `module`, if it is one of `known`.
fn resolve(module: &str, path: &str, known: &BTreeMap<String, PathBuf>) -> Option<String> {
    let mut parts: Vec<&str> = path
        .split("::")
        .map(|p| p.split(" as ").next().unwrap())
        .collect();
    let mut base: Vec<&str> = match parts.first()? {
        &"crate" => {
            parts.remove(0);
            vec![]
        }
        &"super" | &"self" => {
            let mut base: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
            while parts.first() == Some(&"super") {
                parts.remove(0);
                base.pop();
            }
            if parts.first() == Some(&"self") {
                parts.remove(0);
            }
            base
        }
        // A bare first name in a `use` is a child module.
        _ => module.split("::").filter(|p| !p.is_empty()).collect(),
    };
    let mut best = Some(base.join("::")).filter(|m| known.contains_key(m));
    for part in parts {
        base.push(part);
        let name = base.join("::");
        if known.contains_key(&name) {
            best = Some(name);
        } else {
            break;
        }
    }
    best
}

fn graph(root: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut known = BTreeMap::new();
    modules(&src, &src, &mut known);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &known {
        if module != root && !module.starts_with(&format!("{root}::")) {
            continue;
        }
        let is_dir = file.ends_with("mod.rs");
        let text = std::fs::read_to_string(file).unwrap();
        // A file's unit tests (at its end, by habit) are not its design,
        // and their `super` is the file itself.
        let text = code(text.split("#[cfg(test)]\nmod ").next().unwrap_or(""));
        let own = edges.entry(module.clone()).or_default();
        for path in paths(&text) {
            let Some(to) = resolve(module, &path, &known) else {
                continue;
            };
            let inside = to == *root || to.starts_with(&format!("{root}::"));
            let wiring = is_dir && to.starts_with(&format!("{module}::"));
            if to != *module && inside && !wiring {
                own.insert(to);
            }
        }
    }
    edges
}

/// A circle in the graph, if there is one: the modules along it.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        at: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(at) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|m| m == at).unwrap();
                let mut found = stack[from..].to_vec();
                found.push(at.to_string());
                return Some(found);
            }
            None => {}
        }
        marks.insert(at.to_string(), Mark::Open);
        stack.push(at.to_string());
        for next in edges.get(at).into_iter().flatten() {
            if let Some(found) = visit(next, edges, marks, stack) {
                return Some(found);
            }
        }
        stack.pop();
        marks.insert(at.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for module in edges.keys() {
        if let Some(found) = visit(module, edges, &mut marks, &mut Vec::new()) {
            return Some(found);
        }
    }
    None
}

#[test]
fn the_console_has_no_import_circle() {
    let edges = graph("tui");
    assert!(edges.len() > 30, "the console's modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn the_gateway_has_no_import_circle() {
    let edges = graph("gateway");
    assert!(edges.len() > 15, "the gateway's modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn the_fleet_has_no_import_circle() {
    let edges = graph("fleet");
    assert!(edges.len() > 4, "the fleet's modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn the_kubernetes_source_has_no_import_circle() {
    let edges = graph("kubernetes");
    assert!(edges.len() > 4, "the kubernetes modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn triage_has_no_import_circle() {
    let edges = graph("triage");
    assert!(edges.len() > 4, "the triage modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn alerting_has_no_import_circle() {
    let edges = graph("alerts");
    assert!(edges.len() > 3, "the alerts modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn the_commands_have_no_import_circle() {
    let edges = graph("cli");
    assert!(edges.len() >= 2, "the cli modules were not found");
    assert_eq!(
        circle(&edges),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn the_checker_sees_a_circle() {
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    edges.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(circle(&edges).map(|c| c.len()), Some(4));
    let mut paths_seen = Vec::new();
    expand(
        "crate::tui::{app::App, logs::{view::LogView, buffer}}",
        "",
        &mut paths_seen,
    );
    assert_eq!(
        paths_seen,
        [
            "crate::tui::app::App",
            "crate::tui::logs::view::LogView",
            "crate::tui::logs::buffer"
        ]
    );
}

/// Files past this many lines are split by what they hold.
const MAX_LINES: usize = 600;

#[test]
fn no_source_file_is_too_long() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut known = BTreeMap::new();
    modules(&src, &src, &mut known);
    let long: Vec<String> = known
        .values()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
