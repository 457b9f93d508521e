//! Alerting in the gateway (`--alerts FILE`). The engine is a console
//! without a screen: it reads the gateway's own stream into the console's
//! model (the same code, so a rule sees what an operator sees), evaluates
//! the rules over it at an interval, attaches triage's top findings as
//! evidence, and queues notifications on disk for each receiver's sender.
//! `GET /api/v1/alerts` reads the board it keeps.

pub mod config;
pub mod engine;
pub mod payload;
pub mod queue;
pub mod rules;

use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, watch};

use crate::api::{AlertsReport, UnixMillis, now_millis};
use crate::client::{Client, Endpoint, StreamEvent};
use crate::tui::model::Model;
use config::AlertsConfig;
use engine::{Engine, Notification};
use queue::{Item, Queue};

/// What `GET /api/v1/alerts` answers, as of the last evaluation.
pub type Board = Arc<Mutex<AlertsReport>>;

/// Findings given as evidence at most.
const EVIDENCE: usize = 3;

/// The top triage findings of the last 15 minutes, in words.
pub fn evidence(model: &Model, now: UnixMillis) -> Vec<String> {
    let report = crate::triage::triage(&model.timeline, crate::triage::Window::M15, now);
    report
        .findings
        .iter()
        .filter(|f| f.under.is_none())
        .take(EVIDENCE)
        .map(|f| f.title.clone())
        .collect()
}

/// Evaluates once and queues what is due; returns the board's new state.
pub fn step(
    engine: &mut Engine,
    config: &AlertsConfig,
    queue: &Queue,
    model: &Model,
    url: &str,
    now: UnixMillis,
) -> AlertsReport {
    let due: Vec<Notification> = engine.evaluate(config, model, now, || evidence(model, now));
    for n in &due {
        let receiver = &config.receivers[n.receiver];
        for mut body in payload::bodies(receiver, n, url) {
            if let Some(redactor) = &config.redactor {
                redactor.value(&mut body);
            }
            let item = Item {
                receiver: receiver.name.clone(),
                body,
                created: now,
                attempts: 0,
                next_at: now,
            };
            if let Err(e) = queue.push(item) {
                tracing::warn!(error = %e, "cannot queue a notification");
            }
        }
    }
    AlertsReport {
        evaluated: now,
        rules: config.rules.len(),
        alerts: engine.listed(),
        receivers: queue.status.lock().map(|s| s.clone()).unwrap_or_default(),
        dropped: engine.dropped + queue.dropped.lock().map(|d| *d).unwrap_or(0),
        problem: None,
    }
}

/// Runs the engine and the receivers' senders until shutdown.
pub async fn run(
    config: AlertsConfig,
    endpoint: Endpoint,
    board: Board,
    shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let queue = Arc::new(Queue::open(&config.queue, &config.receivers)?);
    let wake = Arc::new(Notify::new());
    for receiver in &config.receivers {
        tokio::spawn(queue::sender(
            queue.clone(),
            receiver.clone(),
            wake.clone(),
            shutdown.clone(),
        ));
    }
    let url = endpoint.url.clone();
    let client = Client::new(endpoint)?;
    let mut stream = client.stream(crate::tui::connection::subscriptions());
    let mut model = Model::default();
    let mut engine = Engine::default();
    let mut tick = tokio::time::interval(config.interval);
    let mut shutdown = shutdown;
    // Why the rules read stale data, while they do.
    let mut problem: Option<String> = None;
    loop {
        tokio::select! {
            event = stream.events.recv() => {
                let Some(event) = event else { return Ok(()) };
                match &event {
                    StreamEvent::Refused { error } => {
                        problem = Some(format!("the gateway refused the alert engine: {error}"));
                    }
                    StreamEvent::Disconnected { error, .. } => {
                        problem = Some(format!("the alert engine lost the gateway's stream: {error}"));
                    }
                    StreamEvent::Connected => problem = None,
                    _ => {}
                }
                if let Ok(mut b) = board.lock() {
                    b.problem = problem.clone();
                }
                model.apply(event, now_millis());
            }
            _ = tick.tick() => {
                if !model.loaded {
                    continue;
                }
                let mut report = step(&mut engine, &config, &queue, &model, &url, now_millis());
                report.problem = problem.clone();
                if let Ok(mut b) = board.lock() {
                    *b = report;
                }
                wake.notify_waiters();
            }
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
