//! The console: a k9s-like terminal UI over the gateway's streams.
//!
//! One `select!` loop takes terminal input, stream messages and signals,
//! drains whatever is queued, and draws only when something changed: at
//! most 30 frames a second for data, at once for a key (the operator waits
//! on it). Input comes before stream messages, and a drain of messages
//! gives way after a few milliseconds, so keys are never starved by data.
//! Idle, it does not wake up at all.

pub mod app;
pub mod chrome;
pub mod cluster;
pub mod config;
pub mod dash;
pub mod exec;
pub mod logs;
pub mod model;
pub mod screen;
pub mod tables;
pub mod task;
pub mod traces;
pub mod widgets;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, eyre};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::api::{ClusterInfo, Filter, Topic, now_millis};
use crate::client::{
    Client, Endpoint, ExecInput, ExecOutput, StreamEvent, StreamHandle, Subscription,
};
use app::{App, Effect, Origin};
use config::defs::Defs;
use exec::pane::ExecEvent;
use model::{
    CPU_SERIES, MEM_SERIES, SUB_HEALTH, SUB_NODE_METRICS, SUB_NODES, SUB_TASK_METRICS, SUB_TASKS,
    SUB_TRACES, TASK_CPU_SERIES, TASK_MEM_SERIES,
};
use tokio::sync::mpsc;

/// A gateway the console can show, by name.
#[derive(Debug, Clone)]
pub struct Context {
    pub name: String,
    pub endpoint: Endpoint,
    /// Exec is hidden in this context (`--readonly`, `readonly = true`).
    pub readonly: bool,
}

pub struct ConsoleConfig {
    pub contexts: Vec<Context>,
    /// Which of `contexts` to start with.
    pub initial: usize,
    pub theme: String,
    pub keymap: String,
    /// Where user themes, keymaps and views live.
    pub config_dir: Option<PathBuf>,
    /// Log lines the console keeps.
    pub log_lines: usize,
    /// Draw only ASCII glyphs.
    pub ascii: bool,
}

/// The shortest time between two frames: at most ~30 a second.
const FRAME: Duration = Duration::from_millis(33);
/// Stream messages handled before keys and the screen get their turn: at
/// most this many, and for at most [`DRAIN_TIME`].
const DRAIN: usize = 4096;
const DRAIN_TIME: Duration = Duration::from_millis(8);

/// What the console subscribes to.
pub fn subscriptions() -> Vec<Subscription> {
    vec![
        Subscription {
            sub: SUB_NODES.into(),
            topic: Topic::Nodes,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_TASKS.into(),
            topic: Topic::Tasks,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_TASK_METRICS.into(),
            topic: Topic::Metrics,
            filter: Filter {
                names: vec![TASK_CPU_SERIES.into(), TASK_MEM_SERIES.into()],
                points: Some(model::TASK_SPARK_POINTS),
                ..Default::default()
            },
        },
        Subscription {
            sub: SUB_TRACES.into(),
            topic: Topic::Spans,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_HEALTH.into(),
            topic: Topic::Health,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_NODE_METRICS.into(),
            topic: Topic::Metrics,
            filter: Filter {
                names: vec![CPU_SERIES.into(), MEM_SERIES.into()],
                ..Default::default()
            },
        },
    ]
}

fn connect(context: &Context) -> Result<(Client, StreamHandle)> {
    let client = Client::new(context.endpoint.clone()).map_err(|e| eyre!(e))?;
    let stream = client.stream(subscriptions());
    Ok((client, stream))
}

fn origin(context: &Context) -> Origin {
    Origin {
        context: context.name.clone(),
        url: context.endpoint.url.clone(),
        cluster: None,
        readonly: context.readonly,
    }
}

/// Asks the gateway who the cluster is, in the background; the answer
/// comes back tagged with the context it was asked of.
fn fetch_cluster(client: &Client, context: &str, answers: &mpsc::Sender<(String, ClusterInfo)>) {
    let (client, context, answers) = (client.clone(), context.to_string(), answers.clone());
    tokio::spawn(async move {
        match client.get::<ClusterInfo>("/api/v1/cluster").await {
            Ok(info) => {
                let _ = answers.send((context, info)).await;
            }
            Err(e) => tracing::warn!("cannot read the cluster's name: {e}"),
        }
    });
}

/// Puts the terminal back however the console ends: return, error or panic
/// (ratatui's panic hook restores too, before the report is printed).
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
        ratatui::restore();
    }
}

pub async fn run(config: ConsoleConfig) -> Result<()> {
    let context = config
        .contexts
        .get(config.initial)
        .ok_or_else(|| eyre!("no gateway to connect to"))?
        .clone();
    let mut defs = Defs::load(config.config_dir.as_deref(), &config.theme, &config.keymap);
    defs.ascii = config.ascii;
    for warning in &defs.warnings {
        tracing::warn!("{warning}");
    }
    let names = config.contexts.iter().map(|c| c.name.clone()).collect();
    let mut app = App::new(
        defs,
        origin(&context),
        names,
        config.config_dir.clone(),
        now_millis(),
    );
    app.model.logs = logs::buffer::LogBuffer::new(config.log_lines);
    // The zone's rules, once: TZ, else /etc/localtime; UTC if neither reads.
    app.zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    if let Some(value) = std::env::var_os("NO_COLOR").filter(|v| !v.is_empty()) {
        app.exec_env
            .insert("NO_COLOR".into(), value.to_string_lossy().into_owned());
    }
    let (mut client, mut stream) = connect(&context)?;
    let (cluster_tx, mut cluster_rx) = mpsc::channel::<(String, ClusterInfo)>(4);
    // Traces read for the waterfall.
    let (trace_tx, mut trace_rx) =
        mpsc::channel::<(String, Result<Vec<crate::api::Span>, String>)>(4);
    // Range reads for the dashboard: at most a few in flight.
    let (series_tx, mut series_rx) =
        mpsc::channel::<(u64, Result<crate::api::SeriesRange, String>)>(4);

    // Exec sessions: each one's input queue and the task that runs it; their
    // output comes back on one channel.
    let (exec_tx, mut exec_rx) = mpsc::channel::<ExecEvent>(64);
    let mut execs: HashMap<u64, (mpsc::Sender<ExecInput>, tokio::task::JoinHandle<()>)> =
        HashMap::new();

    let mut terminal = ratatui::init();
    let _restore = RestoreGuard;
    crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste)?;
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }
    let mut input = EventStream::new();
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
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
            model::Connection::Connected { .. } | model::Connection::Refused { .. } => None,
            model::Connection::Connecting { .. } => Some(Duration::from_millis(100)),
            model::Connection::Disconnected { .. } => Some(Duration::from_secs(1)),
        };
        let mut effects = Vec::new();
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(if urgent { last_draw } else { last_draw + FRAME }), if dirty => {
                app.now = now_millis();
                app.prepare();
                crossterm::execute!(terminal.backend_mut(), crossterm::terminal::BeginSynchronizedUpdate)?;
                terminal.draw(|frame| screen::draw(frame, &app))?;
                crossterm::execute!(terminal.backend_mut(), crossterm::terminal::EndSynchronizedUpdate)?;
                terminal.backend_mut().flush()?;
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
                    if matches!(app.model.connection, model::Connection::Refused { .. }) {
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
                    bytes += app.on_exec_event(event);
                    if bytes < EXEC_SLICE {
                        next = exec_rx.try_recv().ok();
                    }
                }
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
                    app.origin.cluster = Some((info.name, info.source));
                    dirty = true;
                }
            }
            _ = hangup.recv() => break,
            _ = terminate.recv() => break,
            _ = tokio::time::sleep(animation.unwrap_or(Duration::MAX)), if animation.is_some() => {
                app.now = now_millis();
                dirty = true;
            }
        }
        for effect in effects {
            match effect {
                Effect::Subscribe(subscription) => stream.subscribe(*subscription),
                Effect::Unsubscribe(sub) => stream.unsubscribe(&sub),
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
                    tokio::spawn(async move {
                        let mut path = format!(
                            "/api/v1/metrics/series?from=-{window}&step={}",
                            dash::panels::resolution(window)
                        );
                        for name in names {
                            path.push_str("&name=");
                            path.extend(form_urlencoded::byte_serialize(name.as_bytes()));
                        }
                        let result = client
                            .get::<crate::api::SeriesRange>(&path)
                            .await
                            .map_err(|e| e.to_string());
                        let _ = tx.send((generation, result)).await;
                    });
                }
                Effect::Save { path, contents } => {
                    let lines = contents.lines().count();
                    app.notice = Some(match std::fs::write(&path, contents) {
                        Ok(()) => app::Notice {
                            text: format!("saved {lines} lines to {}", path.display()),
                            error: false,
                        },
                        Err(e) => app::Notice {
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
                        app.notice = Some(app::Notice {
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
                    if let Some(next) = config.contexts.iter().find(|c| c.name == name) {
                        match connect(next) {
                            Ok((next_client, next_stream)) => {
                                client = next_client;
                                stream = next_stream;
                                stream_open = true;
                                app.switch_origin(origin(next));
                            }
                            Err(e) => {
                                app.notice = Some(app::Notice {
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
