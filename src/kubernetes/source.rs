//! The cluster as a `collect::Source`: what the watches hold, handed over
//! at each read (tasks by pointer, so an unchanged pod costs a compare),
//! the events since the last read, and each watch as a check, so an API
//! server that refuses or fails a watch shows in the health view with its
//! own message.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Kube, WatchState};
use crate::api::{Check, CheckKind, CheckResult, UnixMillis, now_millis};
use crate::collect::{Collected, Source};

pub struct KubeSource {
    kube: Arc<Kube>,
    checks: super::checks::Checks,
    /// Each watch's state as last told, and when.
    told: HashMap<&'static str, (UnixMillis, WatchState)>,
}

/// How often each watch's state is a check result (and at once when it
/// changes).
const TELL_EVERY_MS: UnixMillis = 10_000;

impl KubeSource {
    pub fn new(kube: Arc<Kube>) -> KubeSource {
        KubeSource {
            kube,
            checks: Default::default(),
            told: HashMap::new(),
        }
    }
}

fn watch_check(what: &str, state: &WatchState, server: &str) -> (Check, CheckResult) {
    let mut check = Check::new(
        &format!("kube:watch:{what}"),
        &format!("kube: watch {what}"),
        CheckKind::Builtin,
        server,
    );
    check.interval_ms = TELL_EVERY_MS;
    check.failure_threshold = 1;
    let (ok, output) = match state {
        WatchState::Listing => (true, "listing".to_string()),
        WatchState::Watching => (true, "watching".to_string()),
        WatchState::Failing(why) => (false, why.clone()),
    };
    let result = CheckResult {
        ts: now_millis(),
        ok,
        latency_ms: 0.0,
        output,
    };
    (check, result)
}

impl Source for KubeSource {
    fn kind(&self) -> &'static str {
        "kube"
    }

    fn cluster_name(&self) -> String {
        self.kube.context.clone()
    }

    fn collect(&mut self, now: UnixMillis) -> Collected {
        let mut out = Collected::default();
        let server = self.kube.server.clone();
        let mut held = self.kube.held();
        // Where the figures would be, the nodes say why there are none.
        let absent = held.metrics_absent.clone();
        out.nodes.extend(held.nodes.values().map(|node| {
            let mut node = node.clone();
            if let Some(why) = &absent {
                node.labels.insert("metrics".into(), why.clone());
            }
            node
        }));
        out.samples.append(&mut held.samples);
        let dropped = std::mem::take(&mut held.samples_dropped);
        if dropped > 0 {
            tracing::warn!(
                "kube: {dropped} metric samples dropped: the source was not read in time"
            );
        }
        out.tasks.extend(held.tasks.values().cloned());
        out.logs.extend(held.events.drain(..));
        let dropped = std::mem::take(&mut held.events_dropped);
        if dropped > 0 {
            out.logs.push(super::events::dropped(dropped, now));
        }
        let read = self.checks.read(&held, self.kube.namespace.as_deref(), now);
        out.results.extend(read.results);
        out.checks_gone.extend(read.gone);
        for (what, state) in &held.watches {
            let last = self.told.get(what);
            if last.is_none_or(|(at, was)| was != state || now - at >= TELL_EVERY_MS) {
                self.told.insert(what, (now, state.clone()));
                out.results.push(watch_check(what, state, &server));
            }
        }
        out
    }
}
