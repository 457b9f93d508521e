//! The alert rules file (`--alerts FILE`): rules in the manner of
//! Prometheus (a condition, `for`, labels, annotations) over what day2top
//! already sees, and receivers with Alertmanager's grouping and timing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Where notifications wait until a receiver takes them.
    queue: Option<PathBuf>,
    interval: Option<String>,
    #[serde(default)]
    rule: Vec<RuleFile>,
    #[serde(default)]
    receiver: Vec<ReceiverFile>,
    /// Share mode for what leaves: every payload passes the share
    /// redactor (the console's `--share`), with these rules and IPs.
    #[serde(default)]
    redact: bool,
    redact_rules: Option<PathBuf>,
    #[serde(default)]
    redact_ips: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    /// Checks whose name or id matches this glob, failing.
    check: Option<String>,
    /// Task endings in these states (failed, killed, lost, finished) per group.
    tasks: Option<Vec<String>>,
    /// Error lines (priority err or worse) a minute, per source matching.
    log_errors: Option<String>,
    /// A node series (node.cpu.percent, node.mem.percent,
    /// node.disk.used.percent, node.load.1), per node.
    metric: Option<String>,
    /// Only groups (tasks) or nodes (metric) matching this glob.
    #[serde(rename = "where")]
    only: Option<String>,
    above: Option<f64>,
    below: Option<f64>,
    /// Tasks: the window endings are counted over.
    over: Option<String>,
    #[serde(rename = "for")]
    hold: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    /// Receivers by name; every receiver when left out.
    to: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiverFile {
    name: String,
    kind: Kind,
    url: String,
    /// PagerDuty: the integration's routing key, or a file holding it.
    routing_key: Option<String>,
    routing_key_file: Option<PathBuf>,
    group_by: Option<Vec<String>>,
    group_wait: Option<String>,
    group_interval: Option<String>,
    repeat_interval: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Alertmanager's webhook payload (version 4).
    Webhook,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// A Slack incoming webhook.
    Slack,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Pagerduty => "pagerduty",
            Kind::Slack => "slack",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Check(String),
    Tasks { states: Vec<String>, over: i64 },
    LogErrors(String),
    Metric(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub condition: Condition,
    pub only: Option<glob::Pattern>,
    pub above: Option<f64>,
    pub below: Option<f64>,
    /// Milliseconds the condition must hold before the alert fires.
    pub hold: i64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub to: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Receiver {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    pub routing_key: Option<String>,
    pub group_by: Vec<String>,
    pub group_wait: i64,
    pub group_interval: i64,
    pub repeat_interval: i64,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AlertsConfig {
    pub queue: PathBuf,
    pub interval: Duration,
    pub rules: Vec<Rule>,
    pub receivers: Vec<Receiver>,
    /// `redact = true`: payloads are redacted before they are queued.
    pub redactor: Option<std::sync::Arc<crate::redact::Redactor>>,
}

fn millis(what: &str, text: Option<&str>, default: i64) -> Result<i64, String> {
    match text {
        None => Ok(default),
        Some(t) => crate::api::parse_span(t)
            .ok_or_else(|| format!("{what} = {t:?} is not a duration like 30s, 5m or 4h")),
    }
}

impl AlertsConfig {
    /// Reads and checks the file; `data_dir` holds the queue when the
    /// file does not say where.
    pub fn load(path: &Path, data_dir: Option<&Path>) -> Result<AlertsConfig, String> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        AlertsConfig::parse(&shown, &text, data_dir)
    }

    pub fn parse(
        origin: &str,
        text: &str,
        data_dir: Option<&Path>,
    ) -> Result<AlertsConfig, String> {
        let file: File = crate::tui::config::toml::parse(origin, text)?;
        let at = |what: String| format!("{origin}: {what}");
        let mut receivers = Vec::new();
        for r in file.receiver {
            let name = r.name.clone();
            let ms = |key: &str, v: &Option<String>, d: i64| {
                millis(&format!("receiver {name:?}: {key}"), v.as_deref(), d).map_err(at)
            };
            let routing_key = match (&r.routing_key, &r.routing_key_file) {
                (Some(k), _) => Some(k.clone()),
                (None, Some(f)) => Some(
                    std::fs::read_to_string(f)
                        .map_err(|e| at(format!("receiver {name:?}: {}: {e}", f.display())))?
                        .trim()
                        .to_string(),
                ),
                (None, None) => None,
            };
            if r.kind == Kind::Pagerduty && routing_key.is_none() {
                return Err(at(format!(
                    "receiver {name:?}: PagerDuty needs routing_key or routing_key_file"
                )));
            }
            if !(r.url.starts_with("http://") || r.url.starts_with("https://")) {
                return Err(at(format!(
                    "receiver {name:?}: url {:?} is not http(s)://",
                    r.url
                )));
            }
            receivers.push(Receiver {
                group_by: r
                    .group_by
                    .clone()
                    .unwrap_or_else(|| vec!["alertname".into()]),
                group_wait: ms("group_wait", &r.group_wait, 30_000)?,
                group_interval: ms("group_interval", &r.group_interval, 300_000)?,
                repeat_interval: ms("repeat_interval", &r.repeat_interval, 4 * 3_600_000)?,
                timeout: Duration::from_millis(ms("timeout", &r.timeout, 10_000)?.max(1) as u64),
                name: r.name,
                kind: r.kind,
                url: r.url,
                routing_key,
            });
        }
        let mut rules = Vec::new();
        for r in file.rule {
            let name = r.name.clone();
            let wrong = |what: &str| at(format!("rule {name:?}: {what}"));
            let over = millis("over", r.over.as_deref(), 300_000).map_err(|e| wrong(&e))?;
            let condition = match (&r.check, &r.tasks, &r.log_errors, &r.metric) {
                (Some(c), None, None, None) => Condition::Check(c.clone()),
                (None, Some(states), None, None) => Condition::Tasks {
                    states: states.clone(),
                    over,
                },
                (None, None, Some(source), None) => Condition::LogErrors(source.clone()),
                (None, None, None, Some(metric)) => Condition::Metric(metric.clone()),
                _ => {
                    return Err(wrong(
                        "one of check, tasks, log_errors or metric, and only one",
                    ));
                }
            };
            if !matches!(condition, Condition::Check(_)) && r.above.is_none() && r.below.is_none() {
                return Err(wrong("needs above or below"));
            }
            for glob in [r.check.as_ref(), r.log_errors.as_ref(), r.only.as_ref()]
                .into_iter()
                .flatten()
            {
                glob::Pattern::new(glob)
                    .map_err(|e| wrong(&format!("{glob:?} is not a glob: {e}")))?;
            }
            if let Some(to) = &r.to
                && let Some(unknown) = to.iter().find(|t| !receivers.iter().any(|r| &r.name == *t))
            {
                return Err(wrong(&format!("no receiver named {unknown:?}")));
            }
            rules.push(Rule {
                hold: millis("for", r.hold.as_deref(), 0).map_err(|e| wrong(&e))?,
                only: r
                    .only
                    .as_deref()
                    .map(glob::Pattern::new)
                    .transpose()
                    .map_err(|e| wrong(&e.to_string()))?,
                name: r.name,
                condition,
                above: r.above,
                below: r.below,
                labels: r.labels,
                annotations: r.annotations,
                to: r.to,
            });
        }
        let queue = match (file.queue, data_dir) {
            (Some(q), _) => q,
            (None, Some(d)) => d.join("alerts-queue"),
            (None, None) => {
                return Err(at(
                    "say where the queue goes: queue = \"/var/lib/day2top/alerts\"".into(),
                ));
            }
        };
        if !queue.is_absolute() {
            return Err(at(format!(
                "queue {:?} must be an absolute path",
                queue.display().to_string()
            )));
        }
        let redactor = match file.redact {
            false => None,
            true => {
                // A relative rules file is beside this one.
                let beside = Path::new(origin).parent().unwrap_or(Path::new("."));
                let settings = crate::redact::ShareSettings {
                    rules: file.redact_rules.map(|r| beside.join(r)),
                    ips: file.redact_ips,
                    literals: Vec::new(),
                };
                Some(std::sync::Arc::new(
                    crate::redact::Redactor::new(&settings).map_err(at)?,
                ))
            }
        };
        Ok(AlertsConfig {
            redactor,
            queue,
            interval: Duration::from_millis(
                millis("interval", file.interval.as_deref(), 10_000)
                    .map_err(at)?
                    .max(1_000) as u64,
            ),
            rules,
            receivers,
        })
    }
}
