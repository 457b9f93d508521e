//! What a bundle holds of the signals around now: metrics over the window
//! and the newest lines of the logs it names.

use serde_json::Value;

use super::{Bundle, PAGE};
use crate::api::{Filter, LogEntry, Task, UnixMillis};
use crate::cli::Failure;
use crate::client::{Client, PageAsk, series_path};

/// The node series triage reads, and the failing tasks' CPU and memory.
pub(super) async fn metrics(
    bundle: &mut Bundle,
    client: &Client,
    failing: &[&Task],
    since: UnixMillis,
    now: UnixMillis,
) -> Result<(), Failure> {
    let nodes = Filter {
        names: crate::tui::model::signals::TRIAGE_SERIES
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    let path = series_path(&nodes, since, now, None);
    bundle
        .read(
            client,
            "metrics/nodes.json",
            "the nodes' CPU, memory and disk over the window",
            &path,
        )
        .await?;
    let mut series = Vec::new();
    for task in failing {
        for name in [
            crate::tui::model::TASK_CPU_SERIES,
            crate::tui::model::TASK_MEM_SERIES,
        ] {
            let one = Filter {
                names: vec![name.to_string()],
                tags: vec![format!("task_id:{}", task.id)],
                ..Default::default()
            };
            match client
                .get::<Value>(&series_path(&one, since, now, None))
                .await
            {
                Ok(range) => series.extend(range["series"].as_array().cloned().unwrap_or_default()),
                Err(e) => bundle.missed("metrics/failing-tasks.json", e)?,
            }
        }
    }
    if !failing.is_empty() {
        bundle.json(
            "metrics/failing-tasks.json",
            "the failing tasks' CPU and memory over the window",
            &series,
        )?;
    }
    Ok(())
}

/// A log's lines over the window as NDJSON, the newest `max` of them;
/// the lines are given back.
#[allow(clippy::too_many_arguments)]
pub(super) async fn logs(
    bundle: &mut Bundle,
    client: &Client,
    name: &str,
    what: &str,
    filter: &Filter,
    since: UnixMillis,
    now: UnixMillis,
    max: usize,
) -> Result<Vec<LogEntry>, Failure> {
    // Pages back from the window's end, so what a bound leaves out is
    // the oldest.
    let mut held: std::collections::VecDeque<LogEntry> = Default::default();
    let mut ask = PageAsk {
        since: Some(since),
        until: Some(now),
        before: Some(String::new()),
        ..Default::default()
    };
    let mut cut = false;
    loop {
        ask.limit = PAGE.min(max - held.len());
        let page = match client.log_page(filter, &ask).await {
            Ok(page) => page,
            Err(e) => {
                bundle.missed(name, e)?;
                return Ok(Vec::new());
            }
        };
        if let Some(missing) = page.missing {
            bundle.manifest.missing.push(format!("{name}: {missing}"));
        }
        for e in page.entries.into_iter().rev() {
            held.push_front(e);
        }
        match page.older {
            Some(older) if held.len() < max => ask.before = Some(older),
            Some(_) => {
                cut = true;
                break;
            }
            None => break,
        }
    }
    if cut {
        bundle
            .manifest
            .missing
            .push(format!("{name}: only its newest {max} lines"));
    }
    let held: Vec<LogEntry> = held.into();
    let mut bytes = Vec::new();
    for line in &held {
        serde_json::to_writer(&mut bytes, line).map_err(Failure::output)?;
        bytes.push(b'\n');
    }
    bundle.add(name, what, &bytes)?;
    Ok(held)
}
