//! Triage: "what changed in the last N minutes, and which change is the
//! likely cause". Deterministic detectors read the [`Timeline`]'s
//! per-minute buckets over a window and a baseline of the 4 windows
//! before it, and rank what they find: changes (a deploy, a task killed,
//! a node lost, a disk filling, an exec) above symptoms (error spikes, new
//! errors, failing checks, latency), a change that shortly precedes
//! symptoms on the same task, node or group highest; symptoms that belong
//! together are grouped under the first one.
//!
//! A pure function of the timeline and the time: the same on live data,
//! in tests and on a recording.

mod detect;
mod rank;
mod signal;
pub mod signature;
pub mod task_cpu;
pub mod timeline;

use serde::Serialize;

use crate::api::UnixMillis;
pub use timeline::{Lane, Line, MetricKey, Signal, Subject, Timeline, What};

/// Findings kept at most.
pub const MAX_FINDINGS: usize = 200;
/// Baseline windows before the window.
pub const BASELINE_WINDOWS: i64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Window {
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "15m")]
    M15,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "6h")]
    H6,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::M5, Window::M15, Window::H1, Window::H6];

    pub fn minutes(self) -> i64 {
        match self {
            Window::M5 => 5,
            Window::M15 => 15,
            Window::H1 => 60,
            Window::H6 => 360,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::M5 => "5m",
            Window::M15 => "15m",
            Window::H1 => "1h",
            Window::H6 => "6h",
        }
    }

    pub fn parse(text: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.label() == text)
    }

    pub fn next(self) -> Window {
        let i = Window::ALL.iter().position(|w| *w == self).unwrap_or(0);
        Window::ALL[(i + 1) % Window::ALL.len()]
    }
}

/// Changes are candidate causes; symptoms are what follows; missing data
/// is said, never hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Change,
    Symptom,
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Rollout,
    TaskFailed,
    CrashLoop,
    NodeLost,
    NodeFlapping,
    NodeUnhealthy,
    DiskFilling,
    Exec,
    ExecDenied,
    CpuHog,
    CheckFailing,
    CheckFlapping,
    ErrorSpike,
    NewError,
    MetricShift,
    TraceErrors,
    NewTraceError,
    LatencyShift,
    MissingData,
}

impl Kind {
    pub fn class(self) -> Class {
        match self {
            Kind::Rollout
            | Kind::TaskFailed
            | Kind::CrashLoop
            | Kind::NodeLost
            | Kind::NodeFlapping
            | Kind::DiskFilling
            | Kind::Exec
            | Kind::ExecDenied
            | Kind::CpuHog => Class::Change,
            Kind::MissingData => Class::Missing,
            _ => Class::Symptom,
        }
    }

    /// The name the table shows.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Rollout => "rollout",
            Kind::TaskFailed => "task ended",
            Kind::CrashLoop => "crash loop",
            Kind::NodeLost => "node lost",
            Kind::NodeFlapping => "node flapping",
            Kind::NodeUnhealthy => "node unhealthy",
            Kind::DiskFilling => "disk filling",
            Kind::Exec => "exec",
            Kind::ExecDenied => "exec denied",
            Kind::CpuHog => "cpu hog",
            Kind::CheckFailing => "check failing",
            Kind::CheckFlapping => "check flapping",
            Kind::ErrorSpike => "error spike",
            Kind::NewError => "new error",
            Kind::MetricShift => "metric shift",
            Kind::TraceErrors => "trace errors",
            Kind::NewTraceError => "new span error",
            Kind::LatencyShift => "latency shift",
            Kind::MissingData => "missing data",
        }
    }
}

/// Where `Enter` on a finding goes: its primary evidence, at its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Jump {
    Task {
        id: String,
    },
    Node {
        id: String,
    },
    Check {
        id: String,
    },
    /// The log view of a task, a node or everything, at a moment.
    Logs {
        #[serde(skip_serializing_if = "Option::is_none")]
        task: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        at: UnixMillis,
    },
    Trace {
        id: String,
    },
    /// A node's series (the dashboard), at a moment.
    Series {
        node: String,
        name: String,
        at: UnixMillis,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub class: Class,
    /// When it began in the window, and when it was last seen.
    pub at: UnixMillis,
    pub last: UnixMillis,
    pub count: u32,
    pub subject: Subject,
    /// One line: what and where.
    pub title: String,
    /// The top evidence lines, oldest first.
    pub evidence: Vec<(UnixMillis, String)>,
    pub jump: Jump,
    pub score: f64,
    /// The score's parts in plain words, as `e` shows them.
    pub parts: Vec<String>,
    /// Set on a finding grouped under another: that one's rank (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub under: Option<usize>,
    /// The magnitude the detector measured (a z-score, a count), for the
    /// score; not shown.
    #[serde(skip)]
    pub weight: f64,
    /// Why it is likely everyday noise (as common in the baseline), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<String>,
}

/// Triage's answer: the window, its baseline and the ranked findings.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub window: Window,
    pub from: UnixMillis,
    pub to: UnixMillis,
    pub baseline_from: UnixMillis,
    /// The earliest data held, when it is after the baseline's start (the
    /// console has not been up that long).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_since: Option<UnixMillis>,
    pub findings: Vec<Finding>,
    /// Findings past [`MAX_FINDINGS`], left out.
    pub left_out: usize,
    /// Signals the timeline's bounds dropped.
    pub dropped: u64,
    /// Per lane, per minute of the window: how much happened.
    pub strips: Vec<(Lane, Vec<u32>)>,
}

/// Triage over `window` ending at `now`.
pub fn triage(timeline: &Timeline, window: Window, now: UnixMillis) -> Report {
    let to_minute = timeline::minute_of(now) + 1;
    let from_minute = to_minute - window.minutes();
    let baseline_minute = from_minute - BASELINE_WINDOWS * window.minutes();
    let span = detect::Span {
        from: from_minute,
        to: to_minute,
        baseline: baseline_minute,
    };
    let raw = detect::detect(timeline, &span);
    let mut strips: Vec<(Lane, Vec<u32>)> = Lane::ALL
        .iter()
        .map(|lane| {
            let mut counts = vec![0u32; window.minutes() as usize];
            for (minute, bucket) in timeline.minutes(from_minute, to_minute) {
                counts[(minute - from_minute) as usize] = bucket.lanes[*lane as usize];
            }
            (*lane, counts)
        })
        .collect();
    // Metrics have no events: a minute is hot where a series was out of
    // its baseline.
    for finding in raw
        .iter()
        .filter(|f| matches!(f.kind, Kind::MetricShift | Kind::DiskFilling))
    {
        let metrics = &mut strips[Lane::Metrics as usize].1;
        let first = (timeline::minute_of(finding.at) - from_minute).max(0) as usize;
        let last = (timeline::minute_of(finding.last) - from_minute).max(0) as usize;
        for counts in metrics.iter_mut().take(last + 1).skip(first) {
            *counts += 1;
        }
    }
    let (findings, left_out) = rank::rank(raw);
    let baseline_from = baseline_minute * timeline::MINUTE;
    Report {
        window,
        from: from_minute * timeline::MINUTE,
        to: now,
        baseline_from,
        held_since: timeline.held_since.filter(|h| *h > baseline_from),
        findings,
        left_out,
        dropped: timeline.dropped + timeline.task_cpu.dropped,
        strips,
    }
}
