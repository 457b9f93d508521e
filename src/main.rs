//! `day2top`: the console (default) and `day2top gateway`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use day2top::client::{Endpoint, read_token_file};
use day2top::collect::Source;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::collect::host::HostSource;
use day2top::config::{self, ConfigFile, GatewaySection, expand};
use day2top::gateway::{self, GatewayConfig, JournalConfig, SeriesLimits, TlsFiles, Tokens};
use day2top::tui::{self, ConsoleConfig, Context};

#[derive(Parser)]
#[command(
    name = "day2top",
    version,
    about = "A terminal operations console for the day-2 life of a cluster."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    console: ConsoleArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: collect from this host (or the demo cluster) and serve the API.
    Gateway(Box<GatewayArgs>),
    /// Run a command in a task, like `kubectl exec`: `day2top exec -it TASK -- sh`.
    Exec(Box<ExecArgs>),
}

/// Which gateway to talk to: flags the console and `day2top exec` share.
/// Without `--gateway` or `--context`, the config's `default_context`,
/// else a gateway started in this process.
#[derive(Args)]
struct ConnectArgs {
    /// Connect to this gateway (http://… or https://…) instead of an embedded one.
    #[arg(long, value_name = "URL")]
    gateway: Option<String>,
    /// The token for --gateway: a file holding the secret, or a gateway token file.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// A PEM file of CA certificates to trust for an https gateway.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Connect to the named context of the config file.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// The config file (default: config.toml in the config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConnectArgs {
    /// The context `--gateway URL --token-file FILE [--ca FILE]` names, if given.
    fn given_gateway(&self, readonly: bool) -> Result<Option<Context>, String> {
        let Some(url) = &self.gateway else {
            return Ok(None);
        };
        let token_file = self
            .token_file
            .as_deref()
            .ok_or("--gateway needs --token-file with the gateway's token")?;
        context_from("gateway", url, token_file, self.ca.as_deref(), readonly).map(Some)
    }
}

#[derive(Args)]
struct ExecArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Pass stdin to the command (its end too).
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Run in a pseudo-terminal; this terminal goes raw and its size is followed.
    #[arg(short = 't', long)]
    tty: bool,
    /// Run as this user instead of the task's (needs a run_as grant).
    #[arg(short = 'u', long, value_name = "USER")]
    user: Option<String>,
    /// Set a variable over the task's environment (repeatable).
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// The task's id.
    task: String,
    /// The command and its arguments, after `--`; never passed through a shell.
    #[arg(last = true, required = true, value_name = "CMD")]
    cmd: Vec<String>,
}

/// Where the data comes from: flags the console (for its embedded
/// gateway) and `day2top gateway` share.
#[derive(Args, Clone, Default)]
struct SourceArgs {
    /// Use the simulated demo cluster instead of this host.
    #[arg(long)]
    demo: bool,
    /// The demo cluster's random seed: the same seed gives the same cluster.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Nodes in the demo cluster (default 10).
    #[arg(long, value_name = "N")]
    demo_nodes: Option<usize>,
    /// Tasks in the demo cluster (default 60).
    #[arg(long, value_name = "N")]
    demo_tasks: Option<usize>,
    /// Log lines a second in the demo cluster (default 20; large for load tests).
    #[arg(long, value_name = "N")]
    demo_log_rate: Option<usize>,
    /// Requests traced a second in the demo cluster (default 2).
    #[arg(long, value_name = "N")]
    demo_trace_rate: Option<usize>,
    /// How often the source is read, in milliseconds (default 1000).
    #[arg(long, value_name = "MS")]
    refresh_ms: Option<u64>,
    /// Read this journal directory instead of the host's journal.
    #[arg(long, value_name = "DIR")]
    journal_dir: Option<PathBuf>,
    /// Read these journal files (glob; repeatable) instead of the host's journal.
    #[arg(long, value_name = "GLOB")]
    journal_file: Vec<String>,
    /// Do not read the journal (it is read by default for this host, not for the demo).
    #[arg(long)]
    no_journal: bool,
    /// Follow log files like `tail -F` (glob; repeatable).
    #[arg(long, value_name = "GLOB")]
    log_file: Vec<String>,
    /// Memory for the gateway's log buffer, in MiB (default 64).
    #[arg(long, value_name = "MIB")]
    log_buffer_mb: Option<usize>,
    /// Health checks to run: a TOML file of `[[check]]` tables.
    #[arg(long, value_name = "FILE")]
    checks: Option<PathBuf>,
    /// Metric series the gateway keeps at most (default 50000).
    #[arg(long, value_name = "N")]
    max_series: Option<usize>,
    /// Memory for metric points, in MiB (default 64; 4 bytes a point).
    #[arg(long, value_name = "MIB")]
    metrics_mb: Option<usize>,
    /// How far back points are kept a second apart (default 1h).
    #[arg(long, value_name = "SPAN")]
    metrics_fine: Option<String>,
    /// How far back points are kept a minute apart (default 24h).
    #[arg(long, value_name = "SPAN")]
    metrics_coarse: Option<String>,
    /// Take OTLP/HTTP traces (POST /v1/traces) on this address, or `off`
    /// (default 127.0.0.1:4318 for `day2top gateway`, off for the console).
    #[arg(long, value_name = "ADDR|off")]
    otlp: Option<String>,
    /// Take statsd/DogStatsD datagrams on this UDP address, or `off`
    /// (default 127.0.0.1:8125 for `day2top gateway`, off for the console).
    #[arg(long, value_name = "ADDR|off")]
    statsd: Option<String>,
    /// Append the audit trail (every exec, every failed authentication) to
    /// this JSON-lines file; without it the trail is kept in memory only.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
}

/// The checks file from `--checks` or the `checks` key, read.
fn checks(
    args: &SourceArgs,
    cfg: &GatewaySection,
) -> Result<Vec<day2top::collect::checks::CheckSpec>, String> {
    match args.checks.clone().or(cfg.checks.clone()) {
        Some(path) => day2top::collect::checks::load(&expand(&path)),
        None => Ok(Vec::new()),
    }
}

/// The metric store's bounds from the flags and `[gateway]` keys.
fn series_limits(args: &SourceArgs, cfg: &GatewaySection) -> Result<SeriesLimits, String> {
    let mut limits = SeriesLimits::default();
    if let Some(n) = args.max_series.or(cfg.max_series) {
        limits.max_series = n.max(1);
    }
    if let Some(mb) = args.metrics_mb.or(cfg.metrics_mb) {
        limits.max_slots = (mb.max(1) << 20) / 4;
    }
    let span = |flag: &str, text: Option<&String>, per: i64| -> Result<Option<usize>, String> {
        text.map(|t| {
            day2top::api::parse_span(t)
                .filter(|ms| *ms >= per)
                .map(|ms| (ms / per) as usize)
                .ok_or_else(|| {
                    format!(
                        "--{flag} {t:?} is not a span like 1h or 30m (at least {})",
                        day2top::api::format_span(per)
                    )
                })
        })
        .transpose()
    };
    if let Some(slots) = span(
        "metrics-fine",
        args.metrics_fine.as_ref().or(cfg.metrics_fine.as_ref()),
        1000,
    )? {
        limits.fine_slots = slots;
    }
    if let Some(slots) = span(
        "metrics-coarse",
        args.metrics_coarse.as_ref().or(cfg.metrics_coarse.as_ref()),
        60_000,
    )? {
        limits.coarse_slots = slots;
    }
    Ok(limits)
}

/// A listener's address from its flag or config key (`--statsd`,
/// `--otlp`): `off`, an address, or (neither given) `default`.
fn listen_addr(
    flag: &str,
    given: Option<&str>,
    default: Option<SocketAddr>,
) -> Result<Option<SocketAddr>, String> {
    match given {
        None => Ok(default),
        Some("off") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|e| {
            format!("--{flag} {text:?} is not an address like 127.0.0.1:8125 (or off): {e}")
        }),
    }
}

/// Where the gateway listens besides its API: statsd (UDP) and OTLP
/// (HTTP), with their defaults for this role.
fn side_listeners(
    args: &SourceArgs,
    cfg: &GatewaySection,
    config: &mut GatewayConfig,
    defaults: (Option<SocketAddr>, Option<SocketAddr>),
) -> Result<(), String> {
    config.statsd = listen_addr(
        "statsd",
        args.statsd.as_deref().or(cfg.statsd.as_deref()),
        defaults.0,
    )?;
    config.otlp = listen_addr(
        "otlp",
        args.otlp.as_deref().or(cfg.otlp.as_deref()),
        defaults.1,
    )?;
    Ok(())
}

#[derive(Args)]
struct ConsoleArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Theme: default, light, high-contrast, mono, or one of yours.
    #[arg(long, value_name = "NAME")]
    theme: Option<String>,
    /// Keymap: default (k9s-like), vim, or one of yours.
    #[arg(long, value_name = "NAME")]
    keymap: Option<String>,
    /// Log lines the console keeps (default 100000).
    #[arg(long, value_name = "N")]
    log_lines: Option<usize>,
    /// Draw only ASCII: borders, sparklines and strips without Unicode glyphs.
    #[arg(long)]
    ascii: bool,
    /// Hide exec: no shells, no `:exec`, whatever the token allows.
    #[arg(long)]
    readonly: bool,
    #[command(flatten)]
    sources: SourceArgs,
}

#[derive(Args)]
struct GatewayArgs {
    /// The address to serve on.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// TOML file of named tokens and scopes; without it a token is generated.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// PEM certificate chain; serve HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow a non-loopback address without TLS and a token file.
    #[arg(long)]
    insecure: bool,
    /// Connections open at once on each listener (default 4096, lowered to
    /// what the open-file limit allows); past it a client gets 503.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Stream WebSockets one token may hold open (default 32).
    #[arg(long, value_name = "N")]
    max_streams_per_token: Option<usize>,
    /// The config file (default: config.toml in the config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    sources: SourceArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A gateway's threads all allocate; a console's mostly one.
    day2top::memory::tune(match cli.command {
        Some(Command::Gateway(_)) => 2,
        _ => 1,
    });
    if let Err(e) = color_eyre::install() {
        eprintln!("day2top: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("day2top: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Gateway(args)) => runtime.block_on(run_gateway(*args)).map(|()| 0),
        Some(Command::Exec(args)) => runtime.block_on(run_exec(*args)),
        None => runtime.block_on(run_console(cli.console)).map(|()| 0),
    };
    // Don't wait for blocked readers (the terminal) on the way out.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("day2top: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The source flags over the `[gateway]` keys: the cluster source, and
/// the log sources and limits put into `config`.
fn sources(args: &SourceArgs, cfg: &GatewaySection, config: &mut GatewayConfig) -> Box<dyn Source> {
    config.refresh =
        Duration::from_millis(args.refresh_ms.or(cfg.refresh_ms).unwrap_or(1000).max(50));
    if let Some(mb) = args.log_buffer_mb.or(cfg.log_buffer_mb) {
        config.store_limits.log_bytes = mb.max(1) << 20;
    }
    config.audit_log = args
        .audit_log
        .clone()
        .or(cfg.audit_log.clone())
        .map(|p| expand(&p));
    config.log_files = if args.log_file.is_empty() {
        &cfg.log_files
    } else {
        &args.log_file
    }
    .iter()
    .map(|g| config::expand_glob(g))
    .collect();
    let demo = args.demo || cfg.demo.unwrap_or(false);
    let journal = JournalConfig {
        dir: args
            .journal_dir
            .clone()
            .or(cfg.journal_dir.clone())
            .map(|d| expand(&d)),
        files: if args.journal_file.is_empty() {
            &cfg.journal_files
        } else {
            &args.journal_file
        }
        .iter()
        .map(|g| config::expand_glob(g))
        .collect(),
        backfill: None,
    };
    let asked_for = journal.dir.is_some() || !journal.files.is_empty();
    let wanted = !args.no_journal && cfg.journal.unwrap_or(true) && (asked_for || !demo);
    config.journal = wanted.then_some(journal);
    if demo {
        let defaults = DemoConfig::default();
        Box::new(DemoSource::new(DemoConfig {
            seed: args.seed.or(cfg.seed).unwrap_or(defaults.seed),
            nodes: args.demo_nodes.or(cfg.demo_nodes).unwrap_or(defaults.nodes),
            tasks: args.demo_tasks.or(cfg.demo_tasks).unwrap_or(defaults.tasks),
            log_rate: args
                .demo_log_rate
                .or(cfg.demo_log_rate)
                .unwrap_or(defaults.log_rate),
            trace_rate: args
                .demo_trace_rate
                .or(cfg.demo_trace_rate)
                .unwrap_or(defaults.trace_rate),
        }))
    } else {
        Box::new(HostSource::new())
    }
}

/// Logs go to a file in the state directory, never to the console's screen.
/// The file is rotated at 10 MiB so it cannot grow without bound.
fn log_to_file() -> Option<PathBuf> {
    let dir = config::state_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("day2top.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 10 << 20) {
        let _ = std::fs::rename(&path, dir.join("day2top.log.1"));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(log_filter())
        .init();
    Some(path)
}

fn log_filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_env("DAY2TOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

fn context_from(
    name: &str,
    url: &str,
    token_file: &Path,
    ca: Option<&Path>,
    readonly: bool,
) -> Result<Context, String> {
    Ok(Context {
        name: name.to_string(),
        endpoint: Endpoint {
            url: url.to_string(),
            token: read_token_file(&expand(token_file))?,
            ca: ca.map(expand),
        },
        readonly,
    })
}

/// The context of a gateway this process started, with its one-time token.
fn embedded_context(name: &str, gw: &gateway::RunningGateway, readonly: bool) -> Context {
    Context {
        name: name.to_string(),
        endpoint: Endpoint {
            url: gw.url.clone(),
            token: gw.generated_token.clone().unwrap_or_default(),
            ca: None,
        },
        readonly,
    }
}

/// `day2top exec`: through the given gateway or context, else through a
/// gateway for this host started here.
async fn run_exec(args: ExecArgs) -> Result<i32, String> {
    let cfg = ConfigFile::load(args.connect.config.as_deref())?;
    let mut env = std::collections::BTreeMap::new();
    for pair in &args.env {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("--env {pair:?} is not NAME=VALUE"))?;
        env.insert(k.to_string(), v.to_string());
    }
    let request = day2top::api::ExecRequest {
        cmd: args.cmd.clone(),
        tty: args.tty,
        interactive: args.interactive,
        cols: 80,
        rows: 24,
        env,
        user: args.user.clone(),
    };
    let mut embedded = None;
    let context = if let Some(given) = args.connect.given_gateway(false)? {
        given
    } else if let Some(name) = args
        .connect
        .context
        .as_ref()
        .or(cfg.default_context.as_ref())
    {
        let def = cfg
            .context
            .get(name)
            .ok_or_else(|| format!("no context named {name:?} in the config file"))?;
        if def.readonly.unwrap_or(false) {
            return Err(format!(
                "context {name:?} is read-only (readonly = true): exec is off there"
            ));
        }
        context_from(name, &def.url, &def.token_file, def.ca.as_deref(), false)?
    } else {
        let mut gw_config = GatewayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        gw_config.refresh = Duration::from_millis(1000);
        gw_config.audit_log = cfg.gateway.audit_log.clone().map(|p| expand(&p));
        let gw = gateway::start(gw_config, Box::new(HostSource::new())).await?;
        let context = embedded_context("local", &gw, false);
        embedded = Some(gw);
        context
    };
    let client = day2top::client::Client::new(context.endpoint)?;
    let result = day2top::client::attach::run(&client, &args.task, request).await;
    if let Some(gw) = embedded {
        gw.shutdown().await;
    }
    result
}

async fn run_console(args: ConsoleArgs) -> Result<(), String> {
    let cfg = ConfigFile::load(args.connect.config.as_deref())?;
    let log = log_to_file();
    tracing::info!(log = ?log, "day2top console starting");

    // The configured contexts; one whose token cannot be read is left out
    // (and logged) unless it is the one asked for.
    let wanted =
        args.connect
            .context
            .clone()
            .or(if args.connect.gateway.is_none() && !args.sources.demo {
                cfg.default_context.clone()
            } else {
                None
            });
    let mut contexts = Vec::new();
    for (name, def) in &cfg.context {
        match context_from(
            name,
            &def.url,
            &def.token_file,
            def.ca.as_deref(),
            def.readonly.unwrap_or(false) || args.readonly,
        ) {
            Ok(c) => contexts.push(c),
            Err(e) if wanted.as_deref() == Some(name) => {
                return Err(format!("context {name}: {e}"));
            }
            Err(e) => tracing::warn!("context {name} left out: {e}"),
        }
    }

    let mut embedded = None;
    let initial = if let Some(given) = args.connect.given_gateway(args.readonly)? {
        contexts.push(given);
        contexts.len() - 1
    } else if let Some(name) = &wanted {
        contexts
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| format!("no context named {name:?} in the config file"))?
    } else {
        // No gateway given: run one in this process, for this host or the
        // demo, and talk to it over loopback like any other.
        let mut gw_config = GatewayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        side_listeners(&args.sources, &cfg.gateway, &mut gw_config, (None, None))?;
        gw_config.store_limits.series = series_limits(&args.sources, &cfg.gateway)?;
        gw_config.checks = checks(&args.sources, &cfg.gateway)?;
        let source = sources(&args.sources, &cfg.gateway, &mut gw_config);
        let name = if source.kind() == "demo" {
            "demo"
        } else {
            "local"
        };
        let gw = gateway::start(gw_config, source).await?;
        contexts.push(embedded_context(name, &gw, args.readonly));
        embedded = Some(gw);
        contexts.len() - 1
    };

    // NO_COLOR asks for no colour, unless a theme was asked for by name.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = args
        .theme
        .or(if no_color {
            Some("mono".into())
        } else {
            cfg.theme.clone()
        })
        .unwrap_or_else(|| "default".into());
    let result = tui::run(ConsoleConfig {
        contexts,
        initial,
        theme,
        keymap: args
            .keymap
            .or(cfg.keymap)
            .unwrap_or_else(|| "default".into()),
        config_dir: config::config_dir(),
        log_lines: args
            .log_lines
            .or(cfg.log_lines)
            .unwrap_or(day2top::tui::logs::buffer::DEFAULT_MAX_ROWS),
        ascii: args.ascii || cfg.ascii.unwrap_or(false),
    })
    .await
    .map_err(|e| format!("{e:#}"));
    if let Some(gw) = embedded {
        gw.shutdown().await;
    }
    result
}

async fn run_gateway(args: GatewayArgs) -> Result<(), String> {
    let cfg = ConfigFile::load(args.config.as_deref())?.gateway;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(log_filter())
        .init();
    let listen = args
        .listen
        .or(cfg.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:7070".into());
    let listen: SocketAddr = listen
        .parse()
        .map_err(|e| format!("--listen {listen:?} is not an address like 127.0.0.1:7070: {e}"))?;
    let mut gw_config = GatewayConfig::new(listen);
    gw_config.insecure = args.insecure || cfg.insecure.unwrap_or(false);
    if let Some(n) = args.max_connections.or(cfg.max_connections) {
        gw_config.connection_limits.max_connections = n.max(1);
    }
    if let Some(n) = args.max_streams_per_token.or(cfg.max_streams_per_token) {
        gw_config.max_streams_per_token = n.max(1);
    }
    let local = |port| Some(SocketAddr::from(([127, 0, 0, 1], port)));
    side_listeners(
        &args.sources,
        &cfg,
        &mut gw_config,
        (local(8125), local(4318)),
    )?;
    gw_config.store_limits.series = series_limits(&args.sources, &cfg)?;
    gw_config.checks = checks(&args.sources, &cfg)?;
    let source = sources(&args.sources, &cfg, &mut gw_config);
    if let Some(file) = args.token_file.or(cfg.token_file.clone()) {
        gw_config.tokens = Some(Tokens::load(&expand(&file))?);
    }
    match (
        args.tls_cert.or(cfg.tls_cert.clone()),
        args.tls_key.or(cfg.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => {
            gw_config.tls = Some(TlsFiles {
                cert: expand(&cert),
                key: expand(&key),
            })
        }
        (None, None) => {}
        _ => {
            return Err("TLS needs both a certificate and a key (--tls-cert and --tls-key)".into());
        }
    }
    let gw = gateway::start(gw_config, source).await?;
    eprintln!(
        "day2top gateway {} serving {}",
        env!("CARGO_PKG_VERSION"),
        gw.url
    );
    if let Some(at) = gw.statsd_addr {
        eprintln!("taking statsd on udp://{at} (tasks: STATSD_UDP_HOST/STATSD_UDP_PORT)");
    }
    if let Some(at) = gw.otlp_addr {
        let scheme = if gw.url.starts_with("https") {
            "https"
        } else {
            "http"
        };
        eprintln!("taking OTLP traces on {scheme}://{at}/v1/traces (with the bearer token)");
    }
    if let Some(secret) = &gw.generated_token {
        let dir = config::state_dir().ok_or("no state directory for the generated token")?;
        let path = dir.join("gateway.token");
        write_private(&path, secret)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!(
            "no --token-file: generated a token for this run in {}\n  connect with: day2top --gateway {} --token-file {}",
            path.display(),
            gw.url,
            path.display()
        );
    }
    wait_for_stop().await;
    eprintln!("day2top gateway stopping");
    gw.shutdown().await;
    Ok(())
}

/// Writes a secret readable only by its owner.
fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")
}

async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}
