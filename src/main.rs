//! `day2top`: the console (default) and `day2top gateway`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

mod args;
mod cli_args;
mod recordings;
use args::*;

use day2top::client::Endpoint;
use day2top::collect::host::HostSource;
use day2top::config::{self, ConfigFile, expand};
use day2top::gateway::{self, GatewayConfig, TlsFiles, Tokens};
use day2top::tui::{self, ConsoleConfig, Context};

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
        Some(Command::Get(args)) => runtime.block_on(run_get(*args)),
        Some(Command::Triage(args)) => runtime.block_on(run_triage(*args)),
        Some(Command::Logs(args)) => runtime.block_on(run_logs(*args)),
        Some(Command::Describe(args)) => runtime.block_on(async move {
            let (client, embedded) = command_client(&args.connect, &args.sources).await?;
            let mut out = std::io::stdout().lock();
            let result =
                day2top::cli::describe::run(&client, &args.name, args.output, &mut out).await;
            stop(embedded).await;
            finish(result)
        }),
        Some(Command::Top(args)) => runtime.block_on(async move {
            let (client, embedded) = command_client(&args.connect, &args.sources).await?;
            let mut out = std::io::stdout().lock();
            let result = day2top::cli::top::run(&client, args.rows(), &mut out).await;
            stop(embedded).await;
            finish(result)
        }),
        Some(Command::Record(args)) => runtime.block_on(recordings::record(*args)),
        Some(Command::Bundle(args)) => runtime.block_on(recordings::bundle(*args)),
        Some(Command::Replay(args)) => runtime.block_on(recordings::replay(*args)).map(|()| 0),
        Some(Command::Completions(args)) => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "day2top", &mut std::io::stdout());
            Ok(0)
        }
        Some(Command::Man(args)) => {
            use clap::CommandFactory;
            match &args.dir {
                Some(dir) => clap_mangen::generate_to(Cli::command(), dir)
                    .map(|()| 0)
                    .map_err(|e| format!("cannot write the man pages into {}: {e}", dir.display())),
                None => clap_mangen::Man::new(Cli::command())
                    .render(&mut std::io::stdout())
                    .map(|()| 0)
                    .map_err(|e| format!("cannot write the man page: {e}")),
            }
        }
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
        // The embedded gateway reads Prometheus itself (`--prometheus`).
        prometheus: None,
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
        container: args.container.clone(),
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
        let source: Box<dyn day2top::collect::Source> = if args.kube.kube {
            kube_source(&args.kube, &cfg.gateway, &mut gw_config).await?
        } else {
            Box::new(HostSource::new())
        };
        let gw = gateway::start(gw_config, source).await?;
        let context = embedded_context("local", &gw, false);
        embedded = Some(gw);
        context
    };
    let client = day2top::client::Client::new(context.endpoint)?;
    let result =
        match day2top::cli::task_id(&client, &args.task, args.kube.namespace.as_deref()).await {
            Ok(task) => day2top::client::attach::run(&client, &task, request).await,
            Err(e) => Err(e.message),
        };
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
    let wanted = args.connect.context.clone().or(
        if args.connect.gateway.is_none() && !args.sources.demo && !args.sources.kube.kube {
            cfg.default_context.clone()
        } else {
            None
        },
    );
    let mut contexts = Vec::new();
    for (name, def) in &cfg.context {
        match context_from(
            name,
            &def.url,
            &def.token_file,
            def.ca.as_deref(),
            def.readonly.unwrap_or(false) || args.readonly,
        ) {
            Ok(c) => contexts.push(Context {
                prometheus: def.prometheus.clone(),
                ..c
            }),
            Err(e) if wanted.as_deref() == Some(name) => {
                return Err(format!("context {name}: {e}"));
            }
            Err(e) => tracing::warn!("context {name} left out: {e}"),
        }
    }

    let mut embedded = None;
    let initial = if let Some(given) = args.connect.given_gateway(args.readonly)? {
        contexts.push(Context {
            prometheus: args.sources.prometheus.clone(),
            ..given
        });
        contexts.len() - 1
    } else if let Some(name) = &wanted {
        contexts
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| format!("no context named {name:?} in the config file"))?
    } else {
        let (name, gw) = embedded_gateway(&args.sources, &cfg).await?;
        contexts.push(embedded_context(&name, &gw, args.readonly));
        embedded = Some(gw);
        contexts.len() - 1
    };

    let tokens = contexts.iter().map(|c| c.endpoint.token.clone()).collect();
    let share = args.share.prepare(&cfg, tokens)?;
    let theme = console_theme(args.theme, &cfg, share.is_on());
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
        share,
    })
    .await
    .map_err(|e| format!("{e:#}"));
    if let Some(gw) = embedded {
        gw.shutdown().await;
    }
    result
}

/// No gateway given: one run in this process, for this host, the demo or
/// a Kubernetes cluster, talked to over loopback like any other; with the
/// name its context goes by.
async fn embedded_gateway(
    args: &SourceArgs,
    cfg: &ConfigFile,
) -> Result<(String, gateway::RunningGateway), String> {
    let mut gw_config = GatewayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    side_listeners(args, &cfg.gateway, &mut gw_config, (None, None))?;
    gw_config.store_limits.series = series_limits(args, &cfg.gateway)?;
    gw_config.checks = checks(args, &cfg.gateway)?;
    let source = sources(args, &cfg.gateway, &mut gw_config).await?;
    let name = match source.kind() {
        "demo" => "demo".to_string(),
        "kube" => source.cluster_name(),
        _ => "local".to_string(),
    };
    Ok((name, gateway::start(gw_config, source).await?))
}

/// The gateway a command for scripts reads: `--gateway`, `--context` or
/// the config's default context, else an embedded one (and then its
/// handle, to stop it when done).
async fn command_client(
    connect: &ConnectArgs,
    sources: &SourceArgs,
) -> Result<(day2top::client::Client, Option<gateway::RunningGateway>), String> {
    let cfg = ConfigFile::load(connect.config.as_deref())?;
    let embedded_wanted = sources.demo || sources.kube.kube;
    let context = if let Some(given) = connect.given_gateway(true)? {
        given
    } else if let Some(name) = connect
        .context
        .as_ref()
        .or(cfg.default_context.as_ref().filter(|_| !embedded_wanted))
    {
        let def = cfg
            .context
            .get(name)
            .ok_or_else(|| format!("no context named {name:?} in the config file"))?;
        context_from(name, &def.url, &def.token_file, def.ca.as_deref(), true)?
    } else {
        let (name, gw) = embedded_gateway(sources, &cfg).await?;
        let context = embedded_context(&name, &gw, true);
        let client = day2top::client::Client::new(context.endpoint)?;
        return Ok((client, Some(gw)));
    };
    Ok((day2top::client::Client::new(context.endpoint)?, None))
}

/// The theme asked for by name, else `mono` under NO_COLOR (it asks for
/// no colour), else `high-contrast` in share mode (a projector washes
/// colours out), else the config's, else the default.
fn console_theme(asked: Option<String>, cfg: &ConfigFile, sharing: bool) -> String {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    asked
        .or(if no_color {
            Some("mono".into())
        } else if sharing {
            Some("high-contrast".into())
        } else {
            cfg.theme.clone()
        })
        .unwrap_or_else(|| "default".into())
}

/// Stops the embedded gateway a command ran, if it ran one.
async fn stop(embedded: Option<gateway::RunningGateway>) {
    if let Some(gw) = embedded {
        gw.shutdown().await;
    }
}

/// A command for scripts: its failure said on stderr, its exit code kept.
fn finish(result: Result<(), day2top::cli::Failure>) -> Result<i32, String> {
    match result {
        Ok(()) => Ok(0),
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("day2top: {}", f.message);
            }
            Ok(i32::from(f.code))
        }
    }
}

async fn run_get(args: crate::cli_args::GetArgs) -> Result<i32, String> {
    let options = match args.options() {
        Ok(options) => options,
        Err(usage) => {
            return finish(Err(day2top::cli::Failure::new(
                day2top::cli::EXIT_USAGE,
                usage,
            )));
        }
    };
    let (client, embedded) = command_client(&args.connect, &args.sources).await?;
    let mut out = std::io::stdout().lock();
    let result = day2top::cli::get::run(&client, &options, &mut out).await;
    stop(embedded).await;
    finish(result)
}

async fn run_logs(args: crate::cli_args::LogsArgs) -> Result<i32, String> {
    let (client, embedded) = command_client(&args.connect, &args.sources).await?;
    if embedded.is_some() {
        // Its journal and files are read on their own threads: one
        // refresh's time, so the last lines asked for are there.
        let ms = args.sources.refresh_ms.unwrap_or(1000).min(5000);
        tokio::time::sleep(Duration::from_millis(ms + 200)).await;
    }
    let mut out = std::io::stdout().lock();
    let result = day2top::cli::logs::run(&client, &args.options(), &mut out).await;
    stop(embedded).await;
    finish(result)
}

async fn run_triage(args: crate::cli_args::TriageArgs) -> Result<i32, String> {
    let (client, embedded) = command_client(&args.connect, &args.sources).await?;
    let mut out = std::io::stdout().lock();
    let result = day2top::cli::triage::run(&client, &args.options(), &mut out).await;
    stop(embedded).await;
    finish(result)
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
    let fleet = fleet(args.agents.as_deref(), &cfg)?;
    if fleet.is_some() && (args.sources.kube.kube || cfg.kube.unwrap_or(false)) {
        return Err("--agents and --kube are two sources of one gateway: run a gateway for each (a hub can list the kube gateway as an agent)".into());
    }
    // A hub's own listeners and sources are off unless asked for: its
    // agents take statsd, OTLP and the journal on their hosts.
    let local = |port| Some(SocketAddr::from(([127, 0, 0, 1], port)));
    let defaults = match fleet {
        Some(_) => (None, None),
        None => (local(8125), local(4318)),
    };
    side_listeners(&args.sources, &cfg, &mut gw_config, defaults)?;
    gw_config.store_limits.series = series_limits(&args.sources, &cfg)?;
    gw_config.checks = checks(&args.sources, &cfg)?;
    let mut source = sources(&args.sources, &cfg, &mut gw_config).await?;
    if let Some(fleet) = fleet {
        if gw_config
            .journal
            .as_ref()
            .is_some_and(|j| j.dir.is_none() && j.files.is_empty())
        {
            gw_config.journal = None;
        }
        source = Box::new(day2top::fleet::HubSource::new(
            fleet.clone(),
            "fleet".into(),
        ));
        gw_config.fleet = Some(fleet);
    }
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

/// The fleet a hub serves: `--agents FILE` (or `agents = FILE`), followed
/// for changes, or `[[gateway.agent]]` tables; `None` for a plain gateway.
fn fleet(
    file: Option<&Path>,
    cfg: &config::GatewaySection,
) -> Result<Option<std::sync::Arc<day2top::fleet::Fleet>>, String> {
    use day2top::fleet::{Fleet, agents};
    if let Some(file) = file.map(Path::to_path_buf).or(cfg.agents.clone()) {
        let file = expand(&file);
        let file = std::path::absolute(&file).unwrap_or(file);
        let specs = agents::load(&file)?;
        return Ok(Some(Fleet::start(specs, Some(file))));
    }
    if cfg.agent.is_empty() {
        return Ok(None);
    }
    let specs = agents::check(cfg.agent.clone(), Path::new("."))?;
    Ok(Some(Fleet::start(specs, None)))
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
