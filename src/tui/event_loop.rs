//! The event loop: one `select!` over terminal input, stream messages, the
//! answers of reads, exec output and a stop signal; it drains whatever is
//! queued and draws only when something changed: at most 30 frames a
//! second for data, at once for a key (the operator waits on it). Input
//! comes before stream messages, and a drain of messages gives way after a
//! few milliseconds, so keys are never starved by data. Idle, it does not
//! wake up at all.
//!
//! It runs over any [`Surface`] and any input stream, so tests drive it
//! with a `TestBackend` and a channel of keys, with no terminal.

use std::collections::HashMap;
use std::time::Duration;

use color_eyre::eyre::{Result, eyre};
use crossterm::event::{Event, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::api::{ClusterInfo, now_millis};
use crate::client::{Client, ExecInput, ExecOutput, StreamEvent};
use crate::tui::app::{App, Effect, Notice, Route};
use crate::tui::connection::{Context, connect, fetch_cluster, origin};
use crate::tui::exec::pane::ExecEvent;
use crate::tui::model::Connection;
use crate::tui::screen;

/// The shortest time between two frames: at most ~30 a second.
const FRAME: Duration = Duration::from_millis(33);
/// Stream messages handled before keys and the screen get their turn: at
/// most this many, and for at most [`DRAIN_TIME`].
const DRAIN: usize = 4096;
const DRAIN_TIME: Duration = Duration::from_millis(8);
/// How often a hub's agents are read again while their view is up.
const AGENTS_EVERY: Duration = Duration::from_secs(2);
/// How often the gateway's alerts are read (unless it has none).
const ALERTS_EVERY: Duration = Duration::from_secs(5);

/// Where frames go: the terminal, or a test's buffer.
pub trait Surface {
    fn show(&mut self, app: &App) -> Result<()>;

    /// Sets the terminal's clipboard (OSC 52, base64 text); a test's
    /// buffer has none.
    fn clipboard(&mut self, _base64: &str) -> Result<()> {
        Ok(())
    }
}

impl<B: Backend> Surface for Terminal<B>
where
    B::Error: Send + Sync + 'static,
{
    fn show(&mut self, app: &App) -> Result<()> {
        self.draw(|frame| screen::draw(frame, app))?;
        Ok(())
    }
}

/// Runs the console until the operator quits, the input ends or `stop`
/// fires, on the gateway of `contexts` that `app.origin` names.
pub async fn run_loop(
    surface: &mut impl Surface,
    app: &mut App,
    contexts: &[Context],
    input: impl Stream<Item = std::io::Result<Event>>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let context = contexts
        .iter()
        .find(|c| c.name == app.origin.context)
        .ok_or_else(|| eyre!("no context named {:?}", app.origin.context))?;
    tokio::pin!(stop);
    tokio::pin!(input);
    let (mut client, mut stream, mut history) = connect(context, &app.share)?;
    let (cluster_tx, mut cluster_rx) = mpsc::channel::<(String, ClusterInfo)>(4);
    // Traces read for the waterfall.
    let (trace_tx, mut trace_rx) =
        mpsc::channel::<(String, Result<Vec<crate::api::Span>, String>)>(4);
    // Pages of older log lines (scrolling back, `:goto`).
    let (older_tx, mut older_rx) =
        mpsc::channel::<(u64, Result<crate::client::LogPage, String>)>(2);
    // The answers to changes asked of a cluster (a pod restarted, …).
    let (change_tx, mut change_rx) = mpsc::channel::<Result<String, String>>(4);
    // A hub's agents, read again every few seconds while their view is up.
    let (agents_tx, mut agents_rx) =
        mpsc::channel::<Result<Vec<crate::api::AgentStatus>, String>>(2);
    let mut agents_every = tokio::time::interval(AGENTS_EVERY);
    let (alerts_tx, mut alerts_rx) = mpsc::channel::<Result<crate::api::AlertsReport, String>>(2);
    let mut alerts_every = tokio::time::interval(ALERTS_EVERY);
    alerts_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    agents_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Range reads for the dashboard: at most a few in flight.
    let (series_tx, mut series_rx) =
        mpsc::channel::<(u64, Result<crate::api::SeriesRange, String>)>(4);

    // Exec sessions: each one's input queue and the task that runs it; their
    // output comes back on one channel.
    let (exec_tx, mut exec_rx) = mpsc::channel::<ExecEvent>(64);
    let mut execs: HashMap<u64, (mpsc::Sender<ExecInput>, tokio::task::JoinHandle<()>)> =
        HashMap::new();

    let mut dirty = true;
    // A key waits for no frame pacing.
    let mut urgent = false;
    // False once the stream ended for good (a refused token).
    let mut stream_open = true;
    let mut last_draw = Instant::now() - FRAME;

    loop {
        // While connecting the spinner turns; while disconnected the retry
        // countdown ticks. Otherwise nothing wakes the loop but input and data.
        let animation = match app.model.connection {
            Connection::Connected { .. } | Connection::Refused { .. } => None,
            Connection::Connecting { .. } => Some(Duration::from_millis(100)),
            Connection::Disconnected { .. } => Some(Duration::from_secs(1)),
        };
        let mut effects = Vec::new();
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(if urgent { last_draw } else { last_draw + FRAME }), if dirty => {
                app.now = now_millis();
                app.prepare();
                surface.show(app)?;
                last_draw = Instant::now();
                dirty = false;
                urgent = false;
            }
            event = input.next() => {
                match event {
                    Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => effects = app.on_key(key),
                    Some(Ok(Event::Resize(w, h))) => effects = app.on_resize(w, h),
                    Some(Ok(Event::Paste(text))) => effects = app.on_paste(&text),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(eyre!("cannot read the terminal: {e}")),
                    None => break, // the terminal is gone
                }
                dirty = true;
                urgent = true;
            }
            message = stream.events.recv(), if stream_open => {
                let Some(message) = message else {
                    // A refused token ends the stream on purpose: the
                    // console stays, saying so, until the operator acts.
                    if matches!(app.model.connection, Connection::Refused { .. }) {
                        stream_open = false;
                        dirty = true;
                        continue;
                    }
                    return Err(eyre!("the stream to the gateway stopped"));
                };
                let now = now_millis();
                if message == StreamEvent::Connected {
                    fetch_cluster(&client, &app.origin.context, &cluster_tx);
                }
                let mut snapshots = is_snapshot(&message);
                app.on_stream(message, now);
                let mut drained = 0;
                let started = Instant::now();
                while drained < DRAIN && started.elapsed() < DRAIN_TIME {
                    match stream.events.try_recv() {
                        Ok(StreamEvent::Connected) => {
                            fetch_cluster(&client, &app.origin.context, &cluster_tx);
                            app.on_stream(StreamEvent::Connected, now);
                        }
                        Ok(message) => {
                            snapshots |= is_snapshot(&message);
                            app.on_stream(message, now);
                        }
                        Err(_) => break,
                    }
                    drained += 1;
                }
                if snapshots {
                    // A snapshot's decoding and the state it replaced
                    // leave megabytes freed but held.
                    crate::memory::release_freed();
                }
                dirty = true;
            }
            Some(event) = exec_rx.recv() => {
                // A flood of output is taken in slices, so keys and frames
                // still get their turn.
                let mut bytes = 0;
                let mut next = Some(event);
                while let Some(event) = next.take() {
                    bytes += app.on_exec(event);
                    if bytes < EXEC_SLICE {
                        next = exec_rx.try_recv().ok();
                    }
                }
                dirty = true;
            }
            _ = agents_every.tick(), if app.route() == &Route::Agents => {
                effects.push(Effect::FetchAgents);
            }
            _ = alerts_every.tick(), if !crate::tui::alerts::off(&app.model.alerts) || app.route() == &Route::Alerts => {
                effects.push(Effect::FetchAlerts);
            }
            Some(result) = alerts_rx.recv() => {
                app.model.alerts = Some(result);
                dirty = true;
            }
            Some(result) = agents_rx.recv() => {
                app.on_agents(result);
                dirty = true;
            }
            Some(answer) = change_rx.recv() => {
                app.notice = match answer {
                    Ok(done) => crate::tui::feature::Notice::info(done),
                    Err(why) => crate::tui::feature::Notice::error(why),
                };
                dirty = true;
            }
            Some((generation, result)) = older_rx.recv() => {
                effects = app.on_older_logs(generation, result);
                dirty = true;
            }
            Some((id, result)) = trace_rx.recv() => {
                app.on_trace(&id, result);
                dirty = true;
            }
            Some((generation, result)) = series_rx.recv() => {
                app.on_series_range(generation, result);
                dirty = true;
            }
            Some((context, info)) = cluster_rx.recv() => {
                if context == app.origin.context {
                    app.model.source = info.source.clone();
                    app.origin.cluster = Some((info.name, info.source));
                    dirty = true;
                }
            }
            _ = &mut stop => break,
            _ = tokio::time::sleep(animation.unwrap_or(Duration::MAX)), if animation.is_some() => {
                app.now = now_millis();
                dirty = true;
            }
        }
        for effect in effects {
            match effect {
                Effect::Subscribe(subscription) => stream.subscribe(*subscription),
                // Only a replay has a time to go to.
                Effect::Seek(_) => {}
                Effect::Unsubscribe(sub) => stream.unsubscribe(&sub),
                Effect::FetchAgents => {
                    let (client, tx) = (client.clone(), agents_tx.clone());
                    tokio::spawn(async move {
                        #[derive(serde::Deserialize)]
                        struct Listing {
                            items: Vec<crate::api::AgentStatus>,
                        }
                        let result = client
                            .get::<Listing>("/api/v1/agents")
                            .await
                            .map(|l| l.items)
                            .map_err(|e| e.to_string());
                        let _ = tx.try_send(result);
                    });
                }
                Effect::FetchAlerts => {
                    let (client, tx) = (client.clone(), alerts_tx.clone());
                    tokio::spawn(async move {
                        let result = client
                            .get::<crate::api::AlertsReport>("/api/v1/alerts")
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx.try_send(result);
                    });
                }
                Effect::Change { path } => {
                    let (client, tx) = (client.clone(), change_tx.clone());
                    tokio::spawn(async move {
                        #[derive(serde::Deserialize)]
                        struct Done {
                            done: String,
                        }
                        let answer = client
                            .post::<Done, _>(&path, &serde_json::json!({}))
                            .await
                            .map(|d| d.done)
                            .map_err(|e| e.to_string());
                        let _ = tx.send(answer).await;
                    });
                }
                Effect::FetchOlderLogs {
                    generation,
                    filter,
                    ask,
                } => {
                    let (client, tx) = (client.clone(), older_tx.clone());
                    tokio::spawn(async move {
                        let page = client
                            .log_page(&filter, &ask)
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx.send((generation, page)).await;
                    });
                }
                Effect::FetchTrace { id } => {
                    let (client, tx) = (client.clone(), trace_tx.clone());
                    tokio::spawn(async move {
                        let result = client
                            .get::<Vec<crate::api::Span>>(&format!("/api/v1/traces/{id}"))
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx.send((id, result)).await;
                    });
                }
                Effect::FetchSeries {
                    generation,
                    names,
                    window,
                } => {
                    let (client, tx) = (client.clone(), series_tx.clone());
                    let (history, fleet) = (history.clone(), app.model.is_fleet());
                    let share = app.share.clone();
                    tokio::spawn(async move {
                        let step = crate::tui::dash::panels::resolution(window);
                        let mut path = format!("/api/v1/metrics/series?from=-{window}&step={step}");
                        for name in &names {
                            path.push_str("&name=");
                            path.extend(form_urlencoded::byte_serialize(name.as_bytes()));
                        }
                        let mut result = client
                            .get::<crate::api::SeriesRange>(&path)
                            .await
                            .map_err(|e| e.to_string());
                        // Reaching back with Prometheus's history, when this
                        // context has one; without it, the gateway's alone.
                        if let (Ok(range), Some(history)) = (&mut result, history) {
                            let filter = crate::api::Filter {
                                names,
                                ..Default::default()
                            };
                            match history
                                .range(&filter, range.from, range.to, range.step, fleet)
                                .await
                            {
                                Ok(mut old) => {
                                    // Prometheus's labels are wire strings too.
                                    if let Some(redactor) = share.active() {
                                        old = old.into_iter().map(|s| redactor.typed(s)).collect();
                                    }
                                    let held = std::mem::take(&mut range.series);
                                    range.series = crate::client::join_history(held, old);
                                }
                                Err(e) => tracing::warn!("history: {e}"),
                            }
                        }
                        let _ = tx.send((generation, result)).await;
                    });
                }
                Effect::Copy(base64) => surface.clipboard(&base64)?,
                Effect::Save { path, contents } => {
                    let lines = contents.lines().count();
                    app.notice = Some(match std::fs::write(&path, contents) {
                        Ok(()) => Notice {
                            text: format!("saved {lines} lines to {}", path.display()),
                            error: false,
                        },
                        Err(e) => Notice {
                            text: format!("cannot save to {}: {e}", path.display()),
                            error: true,
                        },
                    });
                }
                Effect::StartExec { id, task, request } => {
                    let (input_tx, input_rx) = mpsc::channel(INPUT_QUEUE);
                    let session = tokio::spawn(run_exec(
                        client.clone(),
                        id,
                        task,
                        request,
                        input_rx,
                        exec_tx.clone(),
                    ));
                    execs.insert(id, (input_tx, session));
                }
                Effect::ExecInput { id, input } => {
                    if let Some((input_tx, _)) = execs.get(&id)
                        && input_tx.try_send(input).is_err()
                    {
                        app.notice = Some(Notice {
                            text: "the session is not taking input; keys were dropped".into(),
                            error: true,
                        });
                    }
                }
                Effect::CloseExec { id } => {
                    if let Some((_, session)) = execs.remove(&id) {
                        session.abort();
                    }
                }
                Effect::SwitchContext(name) => {
                    if let Some(next) = contexts.iter().find(|c| c.name == name) {
                        match connect(next, &app.share) {
                            Ok((next_client, next_stream, next_history)) => {
                                client = next_client;
                                stream = next_stream;
                                history = next_history;
                                stream_open = true;
                                app.switch_origin(origin(next));
                            }
                            Err(e) => {
                                app.notice = Some(Notice {
                                    text: format!("cannot switch to {name}: {e}"),
                                    error: true,
                                })
                            }
                        }
                    }
                }
            }
        }
        if app.quit {
            break;
        }
    }
    // Leaving ends every session: their sockets close, the gateway kills
    // the processes.
    for (_, (_, session)) in execs {
        session.abort();
    }
    Ok(())
}

fn is_snapshot(message: &StreamEvent) -> bool {
    matches!(
        message,
        StreamEvent::Message(crate::api::ServerMsg::Snapshot { .. })
    )
}

/// Output a frame takes in at most, before keys and drawing get a turn.
pub const EXEC_SLICE: usize = 1 << 20;

/// Keys and resizes waiting for a session's socket.
const INPUT_QUEUE: usize = 256;

/// One session: open it, then pass keys one way and output the other
/// until it ends or the console closes it (aborting this task drops the
/// connection).
async fn run_exec(
    client: Client,
    id: u64,
    task: String,
    request: crate::api::ExecRequest,
    mut inputs: mpsc::Receiver<ExecInput>,
    events: mpsc::Sender<ExecEvent>,
) {
    let mut connection = match client.exec(&task, &request).await {
        Ok(c) => c,
        Err(e) => {
            let _ = events.send(ExecEvent::Failed(id, e.to_string())).await;
            return;
        }
    };
    loop {
        tokio::select! {
            output = connection.output.recv() => {
                let Some(output) = output else { return };
                let last = matches!(output, ExecOutput::Exited(_) | ExecOutput::Lost(_));
                if events.send(ExecEvent::Output(id, output)).await.is_err() || last {
                    return;
                }
            }
            input = inputs.recv() => {
                let Some(input) = input else { return };
                if connection.input.send(input).await.is_err() {
                    return;
                }
            }
        }
    }
}
