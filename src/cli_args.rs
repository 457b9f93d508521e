//! The flags of the commands for scripts: `day2top get`, `day2top logs`,
//! `day2top triage`, `day2top record`, `day2top replay`, `day2top completions`,
//! `day2top man`.

use clap::Args;

use crate::args::{ConnectArgs, ShareArgs, SourceArgs};
use day2top::cli::get::{GetOptions, What};
use day2top::cli::output::Format;
use day2top::cli::triage::TriageOptions;

#[derive(Args)]
pub struct GetArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: What,
    /// Ids or names to list (a node's hostname; a task's, check's or
    /// alert rule's name; a trace's id or service); none: all.
    pub names: Vec<String>,
    /// How to print: table (default), wide, json, ndjson, yaml.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Go on printing as things change (nodes, tasks, checks, traces).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Tasks and checks on this node (its id or hostname).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Tasks in this state (running, failed, …), checks with this status
    /// (passing, failing, unknown), alerts in this state (pending, firing,
    /// resolved).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Only what carries this label (repeatable; all must hold).
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Traces: the newest N; audit: the latest N (default 100).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

impl GetArgs {
    pub fn options(&self) -> Result<GetOptions, String> {
        let labels = self
            .labels
            .iter()
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| format!("--label {pair:?} is not KEY=VALUE"))
            })
            .collect::<Result<_, _>>()?;
        Ok(GetOptions {
            what: self.what,
            names: self.names.clone(),
            node: self.node.clone(),
            state: self.state.clone(),
            labels,
            limit: self.limit,
            format: self.output,
            watch: self.watch,
            config_dir: day2top::config::config_dir(),
        })
    }
}

#[derive(Args)]
pub struct TriageArgs {
    /// The window: 5m, 15m, 1h or 6h (against a baseline of the 4 before it).
    #[arg(long, value_name = "WINDOW", default_value = "15m", value_parser = parse_window)]
    pub window: day2top::triage::Window,
    /// How to print: table (default), wide, json, ndjson, yaml.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Under each finding, its score's parts and its evidence.
    #[arg(short = 'e', long)]
    pub explain: bool,
    /// Go on reading, and print the findings again when they change.
    #[arg(short = 'w', long)]
    pub watch: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

/// A time as `--since`/`--until` take it, in the local zone.
fn parse_when(text: &str) -> Result<i64, String> {
    let zone = jiff::tz::TimeZone::system();
    day2top::when::parse(text, day2top::api::now_millis(), &zone)
}

fn parse_window(text: &str) -> Result<day2top::triage::Window, String> {
    day2top::triage::Window::parse(text)
        .ok_or_else(|| format!("no window {text:?}; there are 5m, 15m, 1h and 6h"))
}

impl TriageArgs {
    pub fn options(&self) -> TriageOptions {
        TriageOptions {
            window: self.window,
            format: self.output,
            explain: self.explain,
            watch: self.watch,
        }
    }
}

#[derive(Args)]
pub struct LogsArgs {
    /// A task's id or name (of exactly one task); none: every line.
    pub task: Option<String>,
    /// Follow: print each new line as it comes, until interrupted.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Begin with the last N lines (default 10; with --since, every line from then).
    #[arg(long = "lines", value_name = "N")]
    pub lines: Option<usize>,
    /// Lines from this time on, read back into journald or a file past what the gateway holds: 14:02, "yesterday 23:10", 2026-12-02T14:02:00Z, or a span ago (1h).
    #[arg(long, value_name = "TIME", value_parser = parse_when)]
    pub since: Option<i64>,
    /// Lines before this time (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = parse_when)]
    pub until: Option<i64>,
    /// Only this node's lines (its id or hostname).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Only this systemd unit's lines.
    #[arg(short = 'u', long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Lines of this priority and more urgent: 0-7, or emerg, alert, crit, err, warning, notice, info, debug.
    #[arg(short = 'p', long, value_name = "PRIORITY", value_parser = day2top::cli::logs::parse_priority)]
    pub priority: Option<u8>,
    /// Only lines whose message matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// How to print: short (default), json, cat.
    #[arg(short = 'o', long, value_enum, default_value = "short")]
    pub output: day2top::cli::logs::LineFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

impl LogsArgs {
    pub fn options(&self) -> day2top::cli::logs::LogsOptions {
        use std::io::IsTerminal;
        day2top::cli::logs::LogsOptions {
            task: self.task.clone(),
            node: self.node.clone(),
            unit: self.unit.clone(),
            priority: self.priority,
            grep: self.grep.clone(),
            lines: self.lines,
            since: self.since,
            until: self.until,
            follow: self.follow,
            format: self.output,
            terminal: std::io::stdout().is_terminal(),
        }
    }
}

#[derive(Args)]
pub struct DescribeArgs {
    /// A task's id or name (of exactly one task), else a node's id or hostname.
    pub name: String,
    /// How to print: table (words, default), json, yaml.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

#[derive(Args)]
pub struct TopArgs {
    /// Nodes and tasks shown, each (default: what fits the terminal, else 10).
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

impl TopArgs {
    /// Rows a table: as given, else half of what the terminal's height
    /// leaves after the summary, the blank lines, the headers and the
    /// shell's next prompt, else 10.
    pub fn rows(&self) -> usize {
        self.rows.unwrap_or_else(|| {
            crossterm::terminal::size()
                .ok()
                .filter(|_| std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .map_or(10, |(_, h)| (usize::from(h).saturating_sub(7) / 2).max(1))
        })
    }
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// Write the pages of day2top and of each command (day2top-get.1, …) into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Args)]
pub struct RecordArgs {
    /// The recording to write (never overwritten; past --part-mb it goes on in FILE.2, FILE.3, …).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Stop after this long (90s, 15m, 1h); without it, at Ctrl-C or a SIGTERM.
    #[arg(long, value_name = "SPAN", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Begin the file this long before now (15m, at most 24h): a flight recorder, from the gateway's history of logs, task states, checks, metrics and traces.
    #[arg(long, value_name = "SPAN", value_parser = parse_reach)]
    pub since: Option<std::time::Duration>,
    /// A part of the recording is closed and the next begun past this size, in MB (default 1024).
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    pub part_mb: u64,
    #[command(flatten)]
    pub share: ShareArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

/// How far back a recording or bundle may reach: a day (what a gateway
/// keeps of metrics; a longer flight recording is a journal export).
fn parse_reach(text: &str) -> Result<std::time::Duration, String> {
    let span = parse_duration(text)?;
    if span > std::time::Duration::from_secs(24 * 3600) {
        return Err(format!(
            "{text:?} reaches back further than a day; for older logs use `day2top logs --since`"
        ));
    }
    Ok(span)
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    day2top::api::parse_span(text)
        .filter(|ms| *ms > 0)
        .map(|ms| std::time::Duration::from_millis(ms as u64))
        .ok_or_else(|| format!("{text:?} is not a span of time (90s, 15m, 1h)"))
}

#[derive(Args)]
pub struct BundleArgs {
    /// The archive to write (.tar.gz; never overwritten).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// How far back logs, metrics and the recording reach (default 15m, at most 24h).
    #[arg(long, value_name = "SPAN", value_parser = parse_reach, default_value = "15m")]
    pub since: std::time::Duration,
    /// Leave the recording of the window out (at 10,000 tasks it is most of the archive).
    #[arg(long)]
    pub no_recording: bool,
    #[command(flatten)]
    pub share: ShareArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten, next_help_heading = "Without a gateway (an embedded one)")]
    pub sources: SourceArgs,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The recording (FILE.2, FILE.3, … after it are read too).
    pub file: std::path::PathBuf,
    /// Write the replay, following the presenter, to this asciicast v2 file instead of showing it (never overwritten).
    #[arg(long, value_name = "OUT")]
    pub asciicast: Option<std::path::PathBuf>,
    /// The asciicast's terminal size, COLSxROWS (default 120x40).
    #[arg(long, value_name = "COLSxROWS", default_value = "120x40", value_parser = parse_size, requires = "asciicast")]
    pub size: (u16, u16),
    /// Show what the presenter showed: their view changes replayed (p toggles it).
    #[arg(long)]
    pub follow_presenter: bool,
    /// Play at this speed: 0.25, 0.5, 1, 2, 4, 8 or 16 (default 1).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// The console's theme, as the console's --theme.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// The keymap, as the console's --keymap.
    #[arg(long, value_name = "NAME")]
    pub keymap: Option<String>,
    /// The config file (default: config.toml in the config directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub share: ShareArgs,
}

fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let wrong = || format!("{text:?} is not a size like 120x40 (20x5 to 1000x500)");
    let (cols, rows) = text.split_once('x').ok_or_else(wrong)?;
    let size = (
        cols.parse::<u16>().map_err(|_| wrong())?,
        rows.parse::<u16>().map_err(|_| wrong())?,
    );
    match (20..=1000).contains(&size.0) && (5..=500).contains(&size.1) {
        true => Ok(size),
        false => Err(wrong()),
    }
}

fn parse_speed(text: &str) -> Result<f64, String> {
    let speeds = day2top::record::player::SPEEDS;
    text.parse::<f64>()
        .ok()
        .filter(|s| speeds.contains(s))
        .ok_or_else(|| format!("{text:?} is not a speed: one of 0.25, 0.5, 1, 2, 4, 8, 16"))
}
