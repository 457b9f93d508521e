//! `day2top record -o FILE`: what a console would receive, written to a
//! recording without a screen (on a jump host, under `nohup`), until
//! Ctrl-C, a signal to stop, or `--duration`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{EXIT_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE, Failure};
use crate::api::{From, UnixMillis, now_millis};
use crate::client::{Client, StreamEvent, Subscription};
use crate::record::format::{Header, What};
use crate::record::past;
use crate::record::writer::Recorder;
use crate::tui::model::SUB_RECORDED_LOGS;

pub struct RecordOptions {
    pub output: PathBuf,
    pub duration: Option<Duration>,
    /// Begin the file this long before now, from the gateway's history.
    pub since: Option<Duration>,
    pub part_bytes: u64,
    /// What the data comes from, for the header: the gateway's address,
    /// or the embedded gateway's name.
    pub gateway: String,
    pub context: Option<String>,
}

/// Records until stopped; says on `err` what was written.
pub async fn run(
    client: &Client,
    subscriptions: Vec<Subscription>,
    options: RecordOptions,
    err: &mut impl Write,
) -> Result<(), Failure> {
    let now = now_millis();
    let mut header = Header::new(options.gateway, options.context, &subscriptions, now);
    let since = options.since.map(|s| now - s.as_millis() as UnixMillis);
    header.since = since;
    if client.is_sharing() {
        header.shared();
    }
    let recorder = Recorder::create(&options.output, header, options.part_bytes)
        .map_err(|why| Failure::new(EXIT_FAILED, why))?;
    let mut starts = Vec::new();
    let mut stopped_early = false;
    if let Some(since) = since {
        let mut put = |t, what| {
            recorder.record_waiting(t, what);
        };
        let gathering = past::gather(client, &subscriptions, since, now, &mut put);
        // Stopped while reading the past: what was read is kept.
        let past = tokio::select! {
            past = gathering => past?,
            _ = super::stop_asked() => {
                stopped_early = true;
                past::Past::default()
            }
        };
        for missing in &past.missing {
            writeln!(err, "day2top: the gateway's history: {missing}").map_err(Failure::io)?;
        }
        if stopped_early {
            writeln!(err, "stopped while reading the gateway's history").map_err(Failure::io)?;
        } else {
            writeln!(
                err,
                "read {} log lines and {} other changes since {} from the gateway's history",
                past.lines,
                past.changes,
                crate::when::local_clock(since)
            )
            .map_err(Failure::io)?;
        }
        // The past written before the live stream opens: its first
        // messages then find room in the queue.
        while !recorder.is_drained() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(cursor) = past.log_cursor {
            starts.push((SUB_RECORDED_LOGS.to_string(), From::Cursor { cursor }));
        }
    }
    // Stopped while reading the past: the file ends there.
    let (mut connected, mut last_error) = (stopped_early, String::new());
    let stopped = if stopped_early {
        None
    } else {
        writeln!(
            err,
            "recording to {} (Ctrl-C to stop)",
            recorder.path.display()
        )
        .map_err(Failure::io)?;
        let mut stream = client.stream_from(subscriptions, starts);
        let until = options.duration.map(|d| tokio::time::Instant::now() + d);
        loop {
            let event = tokio::select! {
                event = stream.events.recv() => event,
                _ = super::stop_asked() => break None,
                _ = async { tokio::time::sleep_until(until.expect("a deadline")).await }, if until.is_some() => break None,
            };
            let t = now_millis();
            let what = match event {
                None => break Some(Failure::new(EXIT_FAILED, "the stream ended")),
                Some(StreamEvent::Message(msg)) => What::Msg(msg),
                Some(StreamEvent::Connected) => {
                    connected = true;
                    What::Link("connected".into())
                }
                Some(StreamEvent::Disconnected { error, .. }) => {
                    last_error.clone_from(&error);
                    What::Link(error)
                }
                Some(StreamEvent::Refused { error }) => {
                    break Some(Failure::new(EXIT_REFUSED, error));
                }
                Some(StreamEvent::Connecting { .. }) => continue,
            };
            recorder.record(t, what);
        }
    };
    let progress = recorder.progress.clone();
    let path = recorder.path.clone();
    let written = recorder.finish();
    let dropped = progress.dropped.load(Ordering::Relaxed);
    writeln!(
        err,
        "recorded {} entries, {:.1} MB in {} part(s), to {}{}",
        progress.entries.load(Ordering::Relaxed),
        progress.bytes.load(Ordering::Relaxed) as f64 / 1e6,
        progress.parts.load(Ordering::Relaxed),
        path.display(),
        if dropped > 0 {
            format!("; {dropped} entries dropped: the disk did not keep up")
        } else {
            String::new()
        }
    )
    .map_err(Failure::io)?;
    written.map_err(|why| Failure::new(EXIT_FAILED, why))?;
    if let Some(failure) = stopped {
        return Err(failure);
    }
    if !connected {
        return Err(Failure::new(
            EXIT_UNREACHABLE,
            format!("the gateway was never reached, so nothing was recorded: {last_error}"),
        ));
    }
    Ok(())
}
