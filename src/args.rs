//! The binary's command line (not the library's): the flags of the console,
//! `day2top gateway` and `day2top exec`, and how the source flags and the
//! config file's `[gateway]` keys become a gateway's configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use day2top::client::{Endpoint, read_token_file};
use day2top::collect::Source;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::collect::host::HostSource;
use day2top::config::{self, GatewaySection, expand};
use day2top::gateway::{GatewayConfig, JournalConfig, SeriesLimits};
use day2top::tui::Context;

#[derive(Parser)]
#[command(
    name = "day2top",
    version,
    about = "A terminal operations console for the day-2 life of a cluster."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway: collect from this host (or the demo cluster) and serve the API.
    Gateway(Box<GatewayArgs>),
    /// Run a command in a task, like `kubectl exec`: `day2top exec -it TASK -- sh`.
    Exec(Box<ExecArgs>),
    /// Print nodes, tasks, checks, traces, alerts or the audit trail, for a script or a quick look.
    Get(Box<crate::cli_args::GetArgs>),
    /// Print a task's, a node's or a unit's log lines, and follow them (-f), like journalctl.
    Logs(Box<crate::cli_args::LogsArgs>),
    /// Print one task or node in full: its fields, states, checks, and its errors or tasks.
    Describe(Box<crate::cli_args::DescribeArgs>),
    /// Print one screenful of the cluster's figures and its busiest nodes and tasks.
    Top(Box<crate::cli_args::TopArgs>),
    /// Print what changed, ranked with the likely cause on top (the :triage view's findings).
    Triage(Box<crate::cli_args::TriageArgs>),
    /// Record what a console would receive into a file, without a screen, for a replay of the incident.
    Record(Box<crate::cli_args::RecordArgs>),
    /// Collect a diagnostics bundle (.tar.gz): snapshots, health, logs of failing tasks, metrics, alerts, triage, audit, config and a recording of the last minutes.
    Bundle(Box<crate::cli_args::BundleArgs>),
    /// Replay a recording through the console: every view, at any moment, with a time bar (Space, +/-, [ ], :goto).
    Replay(Box<crate::cli_args::ReplayArgs>),
    /// Print a shell's completions for day2top: `day2top completions bash > /etc/bash_completion.d/day2top`.
    Completions(crate::cli_args::CompletionsArgs),
    /// Print day2top's man page (roff): `day2top man | man -l -`; `--dir DIR` writes every command's.
    Man(crate::cli_args::ManArgs),
}

/// Which gateway to talk to: flags the console and `day2top exec` share.
/// Without `--gateway` or `--context`, the config's `default_context`,
/// else a gateway started in this process.
#[derive(Args)]
pub struct ConnectArgs {
    /// Connect to this gateway (http://… or https://…) instead of an embedded one.
    #[arg(long, value_name = "URL")]
    pub gateway: Option<String>,
    /// The token for --gateway: a file holding the secret, or a gateway token file.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A PEM file of CA certificates to trust for an https gateway.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Connect to the named context of the config file.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The config file (default: config.toml in the config directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConnectArgs {
    /// The context `--gateway URL --token-file FILE [--ca FILE]` names, if given.
    pub fn given_gateway(&self, readonly: bool) -> Result<Option<Context>, String> {
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
pub struct ExecArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Pass stdin to the command (its end too).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Run in a pseudo-terminal; this terminal goes raw and its size is followed.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Run as this user instead of the task's (needs a run_as grant).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    #[command(flatten)]
    pub kube: KubeArgs,
    /// A Kubernetes pod's container (default: its default container, else its first).
    #[arg(short = 'c', long, value_name = "NAME")]
    pub container: Option<String>,
    /// Set a variable over the task's environment (repeatable).
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// The task's id.
    pub task: String,
    /// The command and its arguments, after `--`; never passed through a shell.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub cmd: Vec<String>,
}

/// A Kubernetes cluster to watch: flags the console, `day2top gateway`
/// and `day2top exec` share.
#[derive(Args, Clone, Default)]
pub struct KubeArgs {
    /// Watch a Kubernetes cluster through its API server, with your
    /// kubeconfig as kubectl uses it (in a pod: its service account).
    #[arg(long)]
    pub kube: bool,
    /// The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE", requires = "kube")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME", requires = "kube")]
    pub kube_context: Option<String>,
    /// Watch pods and events in this namespace (default: the context's).
    #[arg(short = 'n', long, value_name = "NAMESPACE", requires = "kube")]
    pub namespace: Option<String>,
    /// Watch pods and events in every namespace.
    #[arg(short = 'A', long, requires = "kube", conflicts_with = "namespace")]
    pub all_namespaces: bool,
}

/// Where the data comes from: flags the console (for its embedded
/// gateway) and `day2top gateway` share.
#[derive(Args, Clone, Default)]
pub struct SourceArgs {
    /// Use the simulated demo cluster instead of this host.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
    /// The demo cluster's random seed: the same seed gives the same cluster.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Nodes in the demo cluster (default 10).
    #[arg(long, value_name = "N")]
    pub demo_nodes: Option<usize>,
    /// Tasks in the demo cluster (default 60).
    #[arg(long, value_name = "N")]
    pub demo_tasks: Option<usize>,
    /// Log lines a second in the demo cluster (default 20; large for load tests).
    #[arg(long, value_name = "N")]
    pub demo_log_rate: Option<usize>,
    /// Requests traced a second in the demo cluster (default 2).
    #[arg(long, value_name = "N")]
    pub demo_trace_rate: Option<usize>,
    /// Play an incident with a known cause into the demo: oom, rollout, disk, noisy.
    #[arg(long, value_name = "NAME", value_parser = day2top::collect::demo::Scenario::parse, requires = "demo")]
    pub scenario: Option<day2top::collect::demo::Scenario>,
    /// Seconds after the start the scenario begins (default 120).
    #[arg(long, value_name = "SECONDS", requires = "scenario")]
    pub scenario_at: Option<u64>,
    /// Plant fake secrets in the demo's logs, labels and spans, to see what share mode hides.
    #[arg(long, requires = "demo")]
    pub demo_canaries: bool,
    /// How often the source is read, in milliseconds (default 1000).
    #[arg(long, value_name = "MS")]
    pub refresh_ms: Option<u64>,
    /// Read this journal directory instead of the host's journal.
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// Read these journal files (glob; repeatable) instead of the host's journal.
    #[arg(long, value_name = "GLOB")]
    pub journal_file: Vec<String>,
    /// Do not read the journal (it is read by default for this host, not for the demo).
    #[arg(long)]
    pub no_journal: bool,
    /// Follow log files like `tail -F` (glob; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub log_file: Vec<String>,
    /// Memory for the gateway's log buffer, in MiB (default 64).
    #[arg(long, value_name = "MIB")]
    pub log_buffer_mb: Option<usize>,
    /// Health checks to run: a TOML file of `[[check]]` tables.
    #[arg(long, value_name = "FILE")]
    pub checks: Option<PathBuf>,
    /// A Prometheus that scrapes the gateway (a hub: its agents): dashboard
    /// windows reach back past the gateway's memory and its restarts.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Metric series the gateway keeps at most (default 50000).
    #[arg(long, value_name = "N")]
    pub max_series: Option<usize>,
    /// Memory for metric points, in MiB (default 64; 4 bytes a point).
    #[arg(long, value_name = "MIB")]
    pub metrics_mb: Option<usize>,
    /// How far back points are kept a second apart (default 1h).
    #[arg(long, value_name = "SPAN")]
    pub metrics_fine: Option<String>,
    /// How far back points are kept a minute apart (default 24h).
    #[arg(long, value_name = "SPAN")]
    pub metrics_coarse: Option<String>,
    /// Take OTLP/HTTP traces (POST /v1/traces) on this address, or `off`
    /// (default 127.0.0.1:4318 for `day2top gateway`, off for the console).
    #[arg(long, value_name = "ADDR|off")]
    pub otlp: Option<String>,
    /// Take statsd/DogStatsD datagrams on this UDP address, or `off`
    /// (default 127.0.0.1:8125 for `day2top gateway`, off for the console).
    #[arg(long, value_name = "ADDR|off")]
    pub statsd: Option<String>,
    /// Append the audit trail (every exec, every failed authentication) to
    /// this JSON-lines file; without it the trail is kept in memory only.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Evaluate the alert rules in this TOML file and notify its receivers
    /// (Alertmanager webhook, PagerDuty, Slack); see the README.
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
}

/// The checks file from `--checks` or the `checks` key, read.
pub fn checks(
    args: &SourceArgs,
    cfg: &GatewaySection,
) -> Result<Vec<day2top::collect::checks::CheckSpec>, String> {
    match args.checks.clone().or(cfg.checks.clone()) {
        Some(path) => day2top::collect::checks::load(&expand(&path)),
        None => Ok(Vec::new()),
    }
}

/// The metric store's bounds from the flags and `[gateway]` keys.
pub fn series_limits(args: &SourceArgs, cfg: &GatewaySection) -> Result<SeriesLimits, String> {
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
pub fn listen_addr(
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
pub fn side_listeners(
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
pub struct ConsoleArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Theme: default, light, high-contrast, mono, or one of yours.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Keymap: default (k9s-like), vim, or one of yours.
    #[arg(long, value_name = "NAME")]
    pub keymap: Option<String>,
    /// Log lines the console keeps (default 100000).
    #[arg(long, value_name = "N")]
    pub log_lines: Option<usize>,
    /// Draw only ASCII: borders, sparklines and strips without Unicode glyphs.
    #[arg(long)]
    pub ascii: bool,
    /// Hide exec: no shells, no `:exec`, whatever the token allows.
    #[arg(long)]
    pub readonly: bool,
    #[command(flatten)]
    pub share: ShareArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Share mode, for a screen shown to others: the console, a replay and a
/// recording made without a screen take these.
#[derive(Args, Clone, Default)]
pub struct ShareArgs {
    /// Share mode: secrets, tokens and e-mail addresses are replaced before anything is drawn or recorded; exec and copying are off (`:share` turns it on later).
    #[arg(long)]
    pub share: bool,
    /// Your own rules in the gitleaks format, added to the built-in set (config: share_rules).
    #[arg(long, value_name = "FILE")]
    pub share_rules: Option<PathBuf>,
    /// Share mode hides IP addresses too (config: share_ips).
    #[arg(long)]
    pub share_ips: bool,
}

impl ShareArgs {
    /// Share mode prepared (on when `--share`), with the config's keys
    /// and these tokens to hide; a bad rules file is an error here.
    pub fn prepare(
        &self,
        cfg: &config::ConfigFile,
        tokens: Vec<String>,
    ) -> Result<day2top::redact::Share, String> {
        day2top::redact::Share::prepare(&self.settings(cfg, tokens), self.share)
    }

    /// The redactor's settings by these flags and the config's keys.
    pub fn settings(
        &self,
        cfg: &config::ConfigFile,
        tokens: Vec<String>,
    ) -> day2top::redact::ShareSettings {
        day2top::redact::ShareSettings {
            rules: self
                .share_rules
                .clone()
                .or(cfg.share_rules.clone())
                .map(|p| expand(&p)),
            ips: self.share_ips || cfg.share_ips.unwrap_or(false),
            literals: tokens,
        }
    }
}

#[derive(Args)]
pub struct GatewayArgs {
    /// The address to serve on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// TOML file of named tokens and scopes; without it a token is generated.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain; serve HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow a non-loopback address without TLS and a token file.
    #[arg(long)]
    pub insecure: bool,
    /// Connections open at once on each listener (default 4096, lowered to
    /// what the open-file limit allows); past it a client gets 503.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Stream WebSockets one token may hold open (default 32).
    #[arg(long, value_name = "N")]
    pub max_streams_per_token: Option<usize>,
    /// The config file (default: config.toml in the config directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Be a hub: serve the fleet of agents (other gateways) this TOML file
    /// lists as `[[agent]]` tables; re-read when it changes.
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// The source flags over the `[gateway]` keys: the cluster source, and
/// the log sources and limits put into `config`.
pub async fn sources(
    args: &SourceArgs,
    cfg: &GatewaySection,
    config: &mut GatewayConfig,
) -> Result<Box<dyn Source>, String> {
    config.refresh =
        Duration::from_millis(args.refresh_ms.or(cfg.refresh_ms).unwrap_or(1000).max(50));
    config.prometheus = args.prometheus.clone().or(cfg.prometheus.clone());
    if let Some(mb) = args.log_buffer_mb.or(cfg.log_buffer_mb) {
        config.store_limits.log_bytes = mb.max(1) << 20;
    }
    config.audit_log = args
        .audit_log
        .clone()
        .or(cfg.audit_log.clone())
        .map(|p| expand(&p));
    if let Some(path) = args.alerts.clone().or(cfg.alerts.clone()) {
        let data = day2top::config::project_dirs().map(|d| d.data_dir().to_path_buf());
        config.alerts = Some(day2top::alerts::config::AlertsConfig::load(
            &expand(&path),
            data.as_deref(),
        )?);
    }
    config.log_files = if args.log_file.is_empty() {
        &cfg.log_files
    } else {
        &args.log_file
    }
    .iter()
    .map(|g| config::expand_glob(g))
    .collect();
    let kube = args.kube.kube || cfg.kube.unwrap_or(false);
    let demo = !kube && (args.demo || cfg.demo.unwrap_or(false));
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
    let wanted = !args.no_journal && cfg.journal.unwrap_or(true) && (asked_for || !demo && !kube);
    config.journal = wanted.then_some(journal);
    if kube {
        return kube_source(&args.kube, cfg, config).await;
    }
    Ok(if demo {
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
            scenario: args.scenario,
            scenario_at: args.scenario_at.unwrap_or(defaults.scenario_at),
            canaries: args.demo_canaries,
        }))
    } else {
        Box::new(HostSource::new())
    })
}

/// The Kubernetes cluster `--kube` and its flags name, watched; the
/// gateway reads pod logs and runs exec through it.
#[cfg(feature = "kube")]
pub async fn kube_source(
    args: &KubeArgs,
    cfg: &GatewaySection,
    config: &mut GatewayConfig,
) -> Result<Box<dyn Source>, String> {
    use day2top::kubernetes::{Kube, KubeOptions, KubeSource};
    let options = KubeOptions {
        kubeconfig: args
            .kubeconfig
            .clone()
            .or(cfg.kubeconfig.clone())
            .map(|p| expand(&p)),
        context: args.kube_context.clone().or(cfg.kube_context.clone()),
        namespace: args.namespace.clone().or(cfg.namespace.clone()),
        all_namespaces: args.all_namespaces || cfg.all_namespaces.unwrap_or(false),
    };
    let kube = Kube::start(&options).await?;
    config.kube = Some(kube.clone());
    Ok(Box::new(KubeSource::new(kube)))
}

#[cfg(not(feature = "kube"))]
pub async fn kube_source(
    _: &KubeArgs,
    _: &GatewaySection,
    _: &mut GatewayConfig,
) -> Result<Box<dyn Source>, String> {
    Err("this day2top was built without Kubernetes (the `kube` cargo feature): build it with `cargo build --release --features kube`".into())
}

pub fn context_from(
    name: &str,
    url: &str,
    token_file: &Path,
    ca: Option<&Path>,
    readonly: bool,
) -> Result<Context, String> {
    Ok(Context {
        prometheus: None,
        name: name.to_string(),
        endpoint: Endpoint {
            url: url.to_string(),
            token: read_token_file(&expand(token_file))?,
            ca: ca.map(expand),
        },
        readonly,
    })
}
