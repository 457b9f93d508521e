//! Health checks: the ones configured in a checks file (`--checks FILE`,
//! `[[check]]` tables), how each is probed ([`probe`]), and the gateway's
//! own checks from the production checklist ([`builtin`]).

pub mod builtin;
pub mod probe;

use std::path::Path;

use serde::Deserialize;

use crate::api::{Check, CheckKind, parse_span};

/// One `[[check]]` of a checks file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFileEntry {
    name: String,
    /// GET this URL; passes on 200–399.
    http: Option<String>,
    /// A regex the HTTP body must match as well.
    body: Option<String>,
    /// Connect to this address.
    tcp: Option<String>,
    /// Run this argument vector (never through a shell); passes on exit 0.
    command: Option<Vec<String>>,
    interval: Option<String>,
    timeout: Option<String>,
    grace: Option<String>,
    failures: Option<u32>,
    successes: Option<u32>,
    node: Option<String>,
    task: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    #[serde(default)]
    check: Vec<CheckFileEntry>,
}

/// How to probe one configured check.
#[derive(Debug, Clone)]
pub enum Probe {
    Http {
        url: String,
        body: Option<regex::Regex>,
    },
    Tcp {
        address: String,
    },
    Command {
        argv: Vec<String>,
    },
}

/// A configured check: its probe and its check as it starts.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub probe: Probe,
    pub check: Check,
}

/// Reads a checks file; errors name the file and, where it can, the line.
pub fn load(path: &Path) -> Result<Vec<CheckSpec>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the checks file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<Vec<CheckSpec>, String> {
    let file: CheckFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut seen = std::collections::HashSet::new();
    file.check
        .into_iter()
        .map(|entry| {
            let name = entry.name.clone();
            if !seen.insert(name.clone()) {
                return Err(format!("two checks are named {name:?}"));
            }
            spec(entry).map_err(|e| format!("check {name:?}: {e}"))
        })
        .collect()
}

fn spec(e: CheckFileEntry) -> Result<CheckSpec, String> {
    let (kind, target, probe) = match (e.http, e.tcp, e.command) {
        (Some(url), None, None) => {
            let body = e
                .body
                .as_deref()
                .map(regex::Regex::new)
                .transpose()
                .map_err(|err| format!("body is not a regex: {err}"))?;
            (CheckKind::Http, url.clone(), Probe::Http { url, body })
        }
        (None, Some(address), None) => (CheckKind::Tcp, address.clone(), Probe::Tcp { address }),
        (None, None, Some(argv)) if !argv.is_empty() => {
            (CheckKind::Command, argv.join(" "), Probe::Command { argv })
        }
        _ => return Err("needs exactly one of http, tcp or command (a non-empty list)".into()),
    };
    let span = |field: &str, value: Option<String>, default: i64| -> Result<i64, String> {
        match value {
            None => Ok(default),
            Some(v) => parse_span(&v).ok_or(format!("{field} {v:?} is not a span like 10s")),
        }
    };
    let mut check = Check::new(&format!("check:{}", e.name), &e.name, kind, &target);
    check.interval_ms = span("interval", e.interval, 10_000)?.max(100);
    check.timeout_ms = span("timeout", e.timeout, 5_000)?.max(10);
    check.grace_ms = span("grace", e.grace, 0)?;
    check.failure_threshold = e.failures.unwrap_or(3).max(1);
    check.success_threshold = e.successes.unwrap_or(1).max(1);
    check.node_id = e.node;
    check.task_id = e.task;
    Ok(CheckSpec { probe, check })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checks_file_and_its_mistakes() {
        let specs = parse(
            r#"
            [[check]]
            name = "web"
            http = "http://127.0.0.1:8080/health"
            body = "ok|fine"
            interval = "5s"
            grace = "1m"
            failures = 2
            task = "web.1"

            [[check]]
            name = "db"
            tcp = "127.0.0.1:5432"

            [[check]]
            name = "disk script"
            command = ["/usr/local/bin/check-disk", "--warn", "90"]
            "#,
        )
        .unwrap();
        assert_eq!(specs.len(), 3);
        let web = &specs[0].check;
        assert_eq!(
            (web.interval_ms, web.grace_ms, web.failure_threshold),
            (5000, 60_000, 2)
        );
        assert_eq!(web.task_id.as_deref(), Some("web.1"));
        assert_eq!(specs[2].check.target, "/usr/local/bin/check-disk --warn 90");
        for (bad, says) in [
            ("[[check]]\nname = \"x\"", "exactly one of"),
            (
                "[[check]]\nname = \"x\"\ntcp = \"a\"\nhttp = \"b\"",
                "exactly one of",
            ),
            (
                "[[check]]\nname = \"x\"\ntcp = \"a\"\ninterval = \"soon\"",
                "not a span",
            ),
            (
                "[[check]]\nname = \"x\"\nhttp = \"a\"\nbody = \"(\"",
                "not a regex",
            ),
            (
                "[[check]]\nname = \"x\"\ntcp = \"a\"\nfrequency = 3",
                "unknown field",
            ),
            (
                "[[check]]\nname = \"x\"\ntcp = \"a\"\n[[check]]\nname = \"x\"\ntcp = \"b\"",
                "two checks",
            ),
            ("[[check]]\nname = \"x\"\ncommand = []", "exactly one of"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
