//! `day2top logs`: a task's, a node's, a unit's or every line, like
//! `journalctl` and `dcos task log`: the last N, then (`-f`) each new one
//! as it comes. It reads the gateway's log stream; after a drop the
//! stream resumes after the last line's source cursor, so every line is
//! printed once, and a gap the gateway had to make is said on stderr.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;

use super::output::{self, visible};
use super::{EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE, Failure};
use crate::api::{Filter, From, LogEntry, Node, Record, ServerMsg, Topic, UnixMillis};
use crate::client::{Client, ClientError, PageAsk, StreamEvent, Subscription};

/// `-o` for lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LineFormat {
    /// Time, node, source and message, a line each (like journalctl's short).
    Short,
    /// Each line as the API's `LogEntry`, one JSON object a line.
    Json,
    /// The message alone; as it is only when written to a pipe or file.
    Cat,
}

pub struct LogsOptions {
    /// A task's id or name; none: every task's and the node's own.
    pub task: Option<String>,
    pub node: Option<String>,
    pub unit: Option<String>,
    /// Lines of this priority and more urgent (0 emerg … 7 debug).
    pub priority: Option<u8>,
    /// A regular expression the message must match.
    pub grep: Option<String>,
    /// The last N lines (of the range, with `since`/`until`); none: 10,
    /// or with `since` every line of the range.
    pub lines: Option<usize>,
    /// Lines at or after this time (read back into the source).
    pub since: Option<UnixMillis>,
    /// Lines before this time.
    pub until: Option<UnixMillis>,
    pub follow: bool,
    pub format: LineFormat,
    /// Whether stdout is a terminal: `cat` writes messages as they are
    /// only when it is not.
    pub terminal: bool,
}

/// The priority a `-p` names: a number or journalctl's word.
pub fn parse_priority(text: &str) -> Result<u8, String> {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    text.parse::<u8>()
        .ok()
        .filter(|p| *p <= 7)
        .or_else(|| NAMES.iter().position(|n| *n == text).map(|p| p as u8))
        .ok_or_else(|| format!("no priority {text:?}: 0-7 or one of {}", NAMES.join(", ")))
}

const SUB: &str = "logs";

pub async fn run(client: &Client, o: &LogsOptions, out: &mut dyn Write) -> Result<(), Failure> {
    if o.follow && o.until.is_some() {
        return Err(Failure::new(
            EXIT_USAGE,
            "--follow and --until: a follow has no end; give one of them",
        ));
    }
    let task = match &o.task {
        Some(name) => Some(super::task_id(client, name, None).await?),
        None => None,
    };
    let nodes: NodeList = client.get("/api/v1/nodes").await?;
    let names: HashMap<String, String> = nodes
        .items
        .into_iter()
        .map(|n| (n.id, n.hostname))
        .collect();
    let node = o.node.as_ref().map(|want| {
        names
            .iter()
            .find(|(_, host)| *host == want)
            .map_or(want.clone(), |(id, _)| id.clone())
    });
    let filter = Filter {
        task,
        node,
        unit: o.unit.clone(),
        priority: o.priority,
        regex: o.grep.clone(),
        ..Default::default()
    };
    let mut printer = Printer {
        names,
        format: o.format,
        raw: o.format == LineFormat::Cat && !o.terminal,
        order: VecDeque::new(),
        printed: HashSet::new(),
    };
    // What there is now, by pages (back into the sources past the
    // gateway's buffer); then, following, on from its last line.
    let last = range(client, &filter, o, &mut printer, out).await?;
    if !o.follow {
        return Ok(());
    }
    let start = match last {
        Some(cursor) => From::Cursor { cursor },
        None => From::Tail { tail: 0 },
    };
    let subscription = Subscription {
        sub: SUB.into(),
        topic: Topic::Logs,
        filter,
    };

    let mut stream = client.stream_from(vec![subscription], vec![(SUB.into(), start)]);
    // The pages above proved the gateway is there: from here a lost stream
    // is resumed after the last line printed.
    loop {
        let Some(event) = stream.events.recv().await else {
            return Err(Failure::new(EXIT_FAILED, "the stream ended"));
        };
        match event {
            StreamEvent::Refused { error } => return Err(Failure::new(EXIT_REFUSED, error)),
            StreamEvent::Disconnected { error, .. } => {
                eprintln!(
                    "day2top: lost the gateway's stream ({error}); resuming after the last line"
                );
            }
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => {
                let mut lines: Vec<LogEntry> = entries(items);
                lines.sort_by_key(|e| e.ts);
                printer.print(out, &lines)?;
            }
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                let lines = entries(events.into_iter().map(|e| e.data));
                printer.print(out, &lines)?;
            }
            StreamEvent::Message(ServerMsg::Gap {
                dropped, reason, ..
            }) => {
                eprintln!("day2top: the gateway dropped {dropped} lines ({reason})");
            }
            StreamEvent::Message(ServerMsg::Error { error, .. }) => {
                return Err(Failure::new(EXIT_FAILED, error.error.message));
            }
            _ => {}
        }
    }
}

/// Lines a page read asks for.
const PAGE: usize = 5000;

/// Prints a range's lines (`--since`/`--until`) by pages, read back into
/// the sources as far as they reach; the last line's cursor, to follow on
/// from.
async fn range(
    client: &Client,
    filter: &Filter,
    o: &LogsOptions,
    printer: &mut Printer,
    out: &mut dyn Write,
) -> Result<Option<String>, Failure> {
    let failed = |e: ClientError| Failure::from(e);
    let mut ask = PageAsk {
        since: o.since,
        until: o.until,
        ..Default::default()
    };
    let lines = match (o.lines, o.since) {
        (Some(n), _) => n,
        (None, Some(_)) => usize::MAX,
        (None, None) => 10,
    };
    if lines == usize::MAX {
        // Every line from `since`: pages on, each after the last.
        let mut last = None;
        loop {
            ask.limit = PAGE;
            let page = client.log_page(filter, &ask).await.map_err(failed)?;
            say_missing(&page.missing);
            let Some(end) = page.entries.last() else {
                return Ok(last);
            };
            last = Some(end.cursor.clone());
            printer.print(out, &page.entries)?;
            // A filter may leave a page short with more to come: only an
            // empty page is the end.
            ask.since = None;
            ask.cursor = last.clone();
        }
    }
    // The last `lines` of the range: pages back from its end.
    let mut held: VecDeque<LogEntry> = VecDeque::new();
    ask.before = Some(String::new());
    while held.len() < lines {
        ask.limit = (lines - held.len()).min(PAGE);
        let page = client.log_page(filter, &ask).await.map_err(failed)?;
        say_missing(&page.missing);
        for e in page.entries.into_iter().rev() {
            held.push_front(e);
        }
        match page.older {
            Some(older) => ask.before = Some(older),
            None => break,
        }
    }
    let held: Vec<LogEntry> = held.into();
    printer.print(out, &held)?;
    Ok(held.last().map(|e| e.cursor.clone()))
}

fn say_missing(missing: &Option<String>) {
    if let Some(why) = missing {
        eprintln!("day2top: some lines could not be read: {}", visible(why));
    }
}

#[derive(serde::Deserialize)]
struct NodeList {
    items: Vec<Node>,
}

fn entries(records: impl IntoIterator<Item = Record>) -> Vec<LogEntry> {
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::Log(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Cursors remembered, to print nothing twice when a resync sends the
/// tail again.
const REMEMBERED: usize = 10_000;

struct Printer {
    names: HashMap<String, String>,
    format: LineFormat,
    /// Messages as they are (`cat` into a pipe).
    raw: bool,
    /// The cursors of the last lines printed, oldest first, and as a set.
    /// A line's time says nothing of order (sources' clocks differ), so
    /// only its cursor tells a line already printed.
    order: VecDeque<String>,
    printed: HashSet<String>,
}

impl Printer {
    fn print(&mut self, out: &mut dyn Write, lines: &[LogEntry]) -> Result<(), Failure> {
        for e in lines {
            if !self.printed.insert(e.cursor.clone()) {
                continue;
            }
            self.order.push_back(e.cursor.clone());
            if self.order.len() > REMEMBERED
                && let Some(old) = self.order.pop_front()
            {
                self.printed.remove(&old);
            }
            match self.format {
                LineFormat::Json => output::one(out, output::Format::Ndjson, e)?,
                LineFormat::Cat if self.raw => {
                    // The bytes themselves: a line that is not UTF-8 comes
                    // with them in base64, its text being a lossy copy.
                    let bytes = e.message_base64.as_deref().and_then(|b| {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD.decode(b).ok()
                    });
                    match bytes {
                        Some(raw) => out.write_all(&raw),
                        None => out.write_all(e.message.as_bytes()),
                    }
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(Failure::io)?;
                }
                LineFormat::Cat => writeln!(out, "{}", visible(&e.message)).map_err(Failure::io)?,
                LineFormat::Short => {
                    let node = self.names.get(&e.node).unwrap_or(&e.node);
                    writeln!(
                        out,
                        "{} {} {}: {}",
                        output::time(e.ts),
                        visible(node),
                        visible(e.source()),
                        visible(&e.message)
                    )
                    .map_err(Failure::io)?;
                }
            }
        }
        out.flush().map_err(Failure::io)
    }
}
