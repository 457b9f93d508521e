//! Health checks as the gateway serves them: configured probes (http, tcp,
//! command), DogStatsD service checks, and the built-in checks of the
//! production checklist.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use super::{Health, UnixMillis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Over its failure threshold.
    Failing,
    /// Failures ignored: no success yet and the grace period not over.
    Grace,
    /// No verdict yet.
    Unknown,
    Passing,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Failing => "failing",
            CheckStatus::Grace => "grace",
            CheckStatus::Unknown => "unknown",
            CheckStatus::Passing => "passing",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Http,
    Tcp,
    Command,
    /// A DogStatsD service check (`_sc`).
    Statsd,
    /// One of the gateway's own checks (disk, memory, flapping, …).
    Builtin,
}

/// One run of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub ts: UnixMillis,
    pub ok: bool,
    pub latency_ms: f64,
    /// What the probe said: a status line, an error, a command's output (cut).
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub id: String,
    pub name: String,
    pub kind: CheckKind,
    /// What is checked: a URL, an address, a command, a node or a mount.
    pub target: String,
    /// The node and task the check belongs to, where it belongs to one:
    /// their health follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    pub grace_ms: i64,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub status: CheckStatus,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<UnixMillis>,
    #[serde(default)]
    pub last_output: String,
    #[serde(default)]
    pub latency_ms: f64,
    /// The most recent results, oldest first (at most [`CHECK_HISTORY`]).
    #[serde(default)]
    pub history: Vec<CheckResult>,
}

/// Results a check keeps.
pub const CHECK_HISTORY: usize = 60;

impl Check {
    /// A check that has not run yet, starting its grace period at `now`.
    pub fn new(id: &str, name: &str, kind: CheckKind, target: &str) -> Check {
        Check {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            target: target.to_string(),
            node_id: None,
            task_id: None,
            interval_ms: 10_000,
            timeout_ms: 5_000,
            grace_ms: 0,
            failure_threshold: 3,
            success_threshold: 1,
            status: CheckStatus::Unknown,
            consecutive_failures: 0,
            consecutive_successes: 0,
            last_success: None,
            last_failure: None,
            last_output: String::new(),
            latency_ms: 0.0,
            history: Vec::new(),
        }
    }

    /// Takes one result, with the semantics of Marathon health checks and
    /// Kubernetes probes: failures are ignored in the grace period that
    /// began at `started` until the first success; `failure_threshold`
    /// failures in a row make it failing, `success_threshold` successes in
    /// a row passing; in between it keeps its status.
    pub fn record(&mut self, result: CheckResult, started: UnixMillis) {
        let in_grace = self.last_success.is_none() && result.ts < started + self.grace_ms;
        if result.ok {
            self.consecutive_successes += 1;
            self.consecutive_failures = 0;
            self.last_success = Some(result.ts);
            if self.consecutive_successes >= self.success_threshold.max(1) {
                self.status = CheckStatus::Passing;
            }
        } else {
            self.last_failure = Some(result.ts);
            if in_grace {
                self.status = CheckStatus::Grace;
            } else {
                self.consecutive_failures += 1;
                self.consecutive_successes = 0;
                if self.consecutive_failures >= self.failure_threshold.max(1) {
                    self.status = CheckStatus::Failing;
                }
            }
        }
        self.last_output = result.output.clone();
        self.latency_ms = result.latency_ms;
        if self.history.len() == CHECK_HISTORY {
            self.history.remove(0);
        }
        self.history.push(result);
    }
}

/// Health from checks, by node id and by task id, in one pass over the
/// checks: unhealthy with a failing check, healthy when all pass; missing
/// (the source's word stands) with none, or no verdict yet.
pub fn health_from_checks<'a>(
    checks: impl IntoIterator<Item = &'a Check>,
) -> (HashMap<String, Health>, HashMap<String, Health>) {
    // Per id: (a check fails, every check passes).
    let mut nodes: HashMap<&str, (bool, bool)> = HashMap::new();
    let mut tasks: HashMap<&str, (bool, bool)> = HashMap::new();
    for c in checks {
        let (fails, passes) = (
            c.status == CheckStatus::Failing,
            c.status == CheckStatus::Passing,
        );
        for (map, id) in [(&mut nodes, &c.node_id), (&mut tasks, &c.task_id)] {
            if let Some(id) = id {
                let v = map.entry(id.as_str()).or_insert((false, true));
                *v = (v.0 || fails, v.1 && passes);
            }
        }
    }
    let verdicts = |map: HashMap<&str, (bool, bool)>| {
        map.into_iter()
            .filter_map(|(id, (fails, all_pass))| {
                let health = if fails {
                    Health::Unhealthy
                } else if all_pass {
                    Health::Healthy
                } else {
                    return None;
                };
                Some((id.to_string(), health))
            })
            .collect()
    };
    (verdicts(nodes), verdicts(tasks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(ts: i64, ok: bool) -> CheckResult {
        CheckResult {
            ts,
            ok,
            latency_ms: 1.0,
            output: if ok { "ok".into() } else { "boom".into() },
        }
    }

    #[test]
    fn grace_then_thresholds() {
        let mut c = Check::new("c", "c", CheckKind::Http, "x");
        c.grace_ms = 1000;
        c.failure_threshold = 2;
        c.success_threshold = 2;
        c.record(result(100, false), 0);
        assert_eq!((c.status, c.consecutive_failures), (CheckStatus::Grace, 0));
        c.record(result(1100, false), 0);
        assert_eq!(
            c.status,
            CheckStatus::Grace,
            "one failure is under the threshold"
        );
        c.record(result(1200, false), 0);
        assert_eq!(c.status, CheckStatus::Failing);
        c.record(result(1300, true), 0);
        assert_eq!(
            c.status,
            CheckStatus::Failing,
            "one success is under the threshold"
        );
        c.record(result(1400, true), 0);
        assert_eq!(c.status, CheckStatus::Passing);
        assert_eq!(c.last_failure, Some(1200));
    }

    #[test]
    fn a_success_ends_the_grace_period_early() {
        let mut c = Check::new("c", "c", CheckKind::Tcp, "x");
        c.grace_ms = 60_000;
        c.failure_threshold = 1;
        c.record(result(10, true), 0);
        c.record(result(20, false), 0);
        assert_eq!(c.status, CheckStatus::Failing);
        for ts in 0..100 {
            c.record(result(100 + ts, true), 0);
        }
        assert_eq!(c.history.len(), CHECK_HISTORY);
    }
}
