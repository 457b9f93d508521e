//! `day2top triage`: the what-changed view's findings, printed. It reads
//! the gateway as the console does (every subscription's snapshot: task
//! histories, node series, checks with their history, the recent error
//! lines and traces) into the console's model, and runs the same triage
//! over it; `-w` goes on reading and prints the findings again when they
//! change.

use std::io::Write;
use std::time::Duration;

use super::output::{self, Format, Table};
use super::{EXIT_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE, Failure};
use crate::api::{ClusterInfo, UnixMillis, now_millis};
use crate::client::{Client, StreamEvent};
use crate::triage::{Report, Window, triage};
use crate::tui::model::Model;

/// How long the snapshots may take before triage runs on what came.
const SNAPSHOTS: Duration = Duration::from_secs(15);
/// How often `-w` looks again.
const EVERY: Duration = Duration::from_secs(5);

pub struct TriageOptions {
    pub window: Window,
    pub format: Format,
    /// Print the score's parts and the evidence under each finding.
    pub explain: bool,
    pub watch: bool,
}

pub async fn run(client: &Client, o: &TriageOptions, out: &mut dyn Write) -> Result<(), Failure> {
    let info: ClusterInfo = client.get("/api/v1/cluster").await?;
    let subs = crate::tui::connection::subscriptions();
    let names: Vec<String> = subs.iter().map(|s| s.sub.clone()).collect();
    let mut stream = client.stream(subs);
    let mut model = Model::default();
    model.source = info.source;
    let deadline = tokio::time::Instant::now() + SNAPSHOTS;
    // Until every snapshot came (or the time is up).
    loop {
        if names.iter().all(|s| model.has_snapshot(s)) {
            break;
        }
        let event = match tokio::time::timeout_at(deadline, stream.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => return Err(Failure::new(EXIT_FAILED, "the stream ended")),
            Err(_) => {
                let missing: Vec<&str> = names
                    .iter()
                    .filter(|s| !model.has_snapshot(s))
                    .map(String::as_str)
                    .collect();
                if !model.loaded {
                    return Err(Failure::new(
                        EXIT_UNREACHABLE,
                        "the gateway sent no snapshot within 15 s",
                    ));
                }
                eprintln!(
                    "day2top: no snapshot of {} within 15 s; triage runs without it",
                    missing.join(", ")
                );
                break;
            }
        };
        match &event {
            StreamEvent::Refused { error } => {
                return Err(Failure::new(EXIT_REFUSED, error.clone()));
            }
            StreamEvent::Disconnected { error, .. } => {
                return Err(Failure::new(
                    EXIT_UNREACHABLE,
                    format!("lost the gateway's stream: {error}"),
                ));
            }
            _ => {}
        }
        model.apply(event, now_millis());
    }
    let mut shown = print(out, o, &model, now_millis(), None)?;
    if !o.watch {
        return Ok(());
    }
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            event = stream.events.recv() => {
                let Some(event) = event else {
                    return Err(Failure::new(EXIT_FAILED, "the stream ended"));
                };
                if let StreamEvent::Disconnected { error, .. } = &event {
                    eprintln!("day2top: lost the gateway's stream ({error}); resuming");
                }
                model.apply(event, now_millis());
            }
            _ = tick.tick() => {
                shown = print(out, o, &model, now_millis(), Some(shown))?;
            }
        }
    }
}

/// Prints the findings unless they are what was printed last (`before`);
/// returns what a next look compares with.
fn print(
    out: &mut dyn Write,
    o: &TriageOptions,
    model: &Model,
    now: UnixMillis,
    before: Option<Vec<String>>,
) -> Result<Vec<String>, Failure> {
    let report = triage(&model.timeline, o.window, now);
    let titles: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{:?} {} {}", f.under, f.count, f.title))
        .collect();
    if before.as_ref() == Some(&titles) {
        return Ok(titles);
    }
    match o.format {
        Format::Json => output::document(out, Format::Json, &report)?,
        Format::Yaml if before.is_some() => output::one(out, Format::Yaml, &report)?,
        Format::Yaml => output::document(out, Format::Yaml, &report)?,
        Format::Ndjson => output::items(out, Format::Ndjson, &report.findings)?,
        Format::Table | Format::Wide => table(out, o, &report)?,
    }
    out.flush().map_err(Failure::io)?;
    Ok(titles)
}

fn table(out: &mut dyn Write, o: &TriageOptions, report: &Report) -> Result<(), Failure> {
    let io = Failure::io;
    writeln!(
        out,
        "{} {} to {} · baseline from {}{}",
        o.window.label(),
        output::time(report.from),
        output::time(report.to),
        output::time(report.baseline_from),
        report.held_since.map_or(String::new(), |h| format!(
            " · held since {}",
            output::time(h)
        )),
    )
    .map_err(io)?;
    let mut table = Table {
        headers: ["#", "SCORE", "WHEN", "KIND", "WHAT"]
            .map(String::from)
            .to_vec(),
        right: vec![true, true, false, false, false],
        rows: Vec::new(),
        floor: Vec::new(),
    };
    let mut rank = 0;
    for f in &report.findings {
        let number = if f.under.is_some() {
            "└".to_string()
        } else {
            rank += 1;
            rank.to_string()
        };
        let when = output::time(f.at);
        let when = when
            .split_once(' ')
            .map_or(when.clone(), |(_, t)| t.to_string());
        table.rows.push(vec![
            number,
            format!("{:.0}", f.score),
            when,
            f.kind.label().to_string(),
            f.title.clone(),
        ]);
    }
    let lines = table.lines(true, o.format == Format::Table);
    writeln!(out, "{}", lines[0]).map_err(io)?;
    for (line, f) in lines[1..].iter().zip(&report.findings) {
        writeln!(out, "{line}").map_err(io)?;
        if o.explain {
            for part in &f.parts {
                writeln!(out, "      {}", output::visible(part)).map_err(io)?;
            }
            for (at, text) in &f.evidence {
                writeln!(
                    out,
                    "      {}  {}",
                    output::time(*at),
                    output::visible(text)
                )
                .map_err(io)?;
            }
        }
    }
    if report.findings.is_empty() {
        writeln!(out, "nothing changed in the window").map_err(io)?;
    }
    if report.left_out > 0 || report.dropped > 0 {
        writeln!(
            out,
            "{} more findings left out; {} signals dropped by the bounds",
            report.left_out, report.dropped
        )
        .map_err(io)?;
    }
    Ok(())
}
