//! The gateway: collects from a source into a store and serves it over the
//! v1 API (REST, one multiplexed stream WebSocket, Prometheus text).

mod actions;
mod audit;
mod auth;
mod exec;
pub mod filter;
mod listen;
mod logs;
mod objects;
pub use objects::GONE_KEPT;
mod otlp;
mod prober;
mod prometheus;
mod request;
mod routes;
mod series;
mod sources;
mod stats;
mod store;
mod stream;
pub mod tls;
mod topic;
mod traces;

pub use auth::{Scope, Token, Tokens};
pub use filter::Matcher;
pub use listen::ConnectionLimits;
pub use store::StoreLimits;
pub use stream::StreamLimits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::now_millis;
use crate::collect::Source;
pub use crate::collect::journal::JournalConfig;
pub use series::{SeriesLimits, SeriesStore};
use stats::GatewayStats;
use store::Store;

pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// `None`: generate one admin token for this run and hand it back.
    pub tokens: Option<Tokens>,
    pub tls: Option<TlsFiles>,
    /// Allow a non-loopback address without TLS and a token file.
    pub insecure: bool,
    /// How often the source is read.
    pub refresh: Duration,
    pub store_limits: StoreLimits,
    pub stream_limits: StreamLimits,
    /// The journal to follow, if any.
    pub journal: Option<JournalConfig>,
    /// Log files to follow (globs).
    pub log_files: Vec<String>,
    /// Where to listen for statsd/DogStatsD datagrams, if anywhere.
    pub statsd: Option<SocketAddr>,
    /// The statsd flush interval.
    pub statsd_interval: Duration,
    /// Where to take OTLP/HTTP traces (`POST /v1/traces`), if anywhere.
    pub otlp: Option<SocketAddr>,
    /// Configured health checks (`--checks FILE`).
    pub checks: Vec<crate::collect::checks::CheckSpec>,
    /// The append-only audit file (`--audit-log FILE`); without it the
    /// audit trail is kept in memory only.
    pub audit_log: Option<PathBuf>,
    /// How long an exec session id waits to be attached.
    pub exec_ttl: Duration,
    /// Connections at once, and the time a client gets for each step.
    pub connection_limits: ConnectionLimits,
    /// Stream WebSockets one token may hold open (`--max-streams-per-token`).
    pub max_streams_per_token: usize,
    /// A hub's agents (`--agents FILE`): logs, series, traces and exec are
    /// asked of them.
    pub fleet: Option<Arc<crate::fleet::Fleet>>,
    /// A Kubernetes cluster (`--kube`): pod logs are read from its API
    /// server for the subscriptions that ask.
    #[cfg(feature = "kube")]
    pub kube: Option<Arc<crate::kubernetes::Kube>>,
    /// A Prometheus scraping this gateway (`--prometheus URL`): series
    /// reads reach back past the store with its history.
    pub prometheus: Option<String>,
    /// Alert rules and receivers (`--alerts FILE`).
    pub alerts: Option<crate::alerts::config::AlertsConfig>,
}

impl GatewayConfig {
    pub fn new(listen: SocketAddr) -> GatewayConfig {
        GatewayConfig {
            listen,
            tokens: None,
            tls: None,
            insecure: false,
            refresh: Duration::from_secs(1),
            store_limits: StoreLimits::default(),
            stream_limits: StreamLimits::default(),
            journal: None,
            log_files: Vec::new(),
            statsd: None,
            statsd_interval: Duration::from_secs(1),
            checks: Vec::new(),
            otlp: None,
            audit_log: None,
            exec_ttl: exec::PENDING_TTL,
            connection_limits: ConnectionLimits::default(),
            max_streams_per_token: stream::DEFAULT_STREAMS_PER_TOKEN,
            fleet: None,
            #[cfg(feature = "kube")]
            kube: None,
            prometheus: None,
            alerts: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What every handler shares.
pub struct Shared {
    store: Arc<Store>,
    tokens: Tokens,
    stats: GatewayStats,
    connections: stats::Connections,
    stream_limits: StreamLimits,
    shutdown: watch::Receiver<bool>,
    /// The statsd listener's counters, when it listens.
    statsd: Option<Arc<crate::collect::statsd::Counters>>,
    audit: audit::Audit,
    exec: exec::Sessions,
    /// Open streams per token, and how many one token may hold.
    streams: stream::PerToken,
    max_streams_per_token: usize,
    fleet: Option<Arc<crate::fleet::Fleet>>,
    #[cfg(feature = "kube")]
    kube: Option<Arc<crate::kubernetes::Kube>>,
    history: Option<crate::client::History>,
    /// The alert engine's board, when alerting is on.
    alerts: Option<crate::alerts::Board>,
}

/// The address of the other end of a connection, with or without TLS.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// A gateway serving in the background.
pub struct RunningGateway {
    pub addr: SocketAddr,
    /// `http://…` or `https://…`, for the console.
    pub url: String,
    /// The secret of the token generated for this run, if none was given.
    pub generated_token: Option<String>,
    /// Where statsd datagrams are taken, when they are.
    pub statsd_addr: Option<SocketAddr>,
    /// Where OTLP traces are taken, when they are (`http(s)://ADDR/v1/traces`).
    pub otlp_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    /// The API's server, and the OTLP receiver's if there is one.
    servers: Vec<tokio::task::JoinHandle<()>>,
    sources: Option<sources::Sources>,
    /// Health probes and the exec session sweeper.
    background: Vec<tokio::task::JoinHandle<()>>,
    /// A Kubernetes cluster's watches, stopped with the gateway.
    #[cfg(feature = "kube")]
    kube: Option<Arc<crate::kubernetes::Kube>>,
}

/// Checks the listen policy: off loopback, a gateway must be private.
pub fn check_exposure(config: &GatewayConfig) -> Result<(), String> {
    let protected = config.tls.is_some() && config.tokens.is_some();
    let exposed = [Some(config.listen), config.otlp]
        .into_iter()
        .flatten()
        .find(|addr| !addr.ip().is_loopback());
    let Some(exposed) = exposed.filter(|_| !protected && !config.insecure) else {
        return Ok(());
    };
    let missing = match (config.tls.is_some(), config.tokens.is_some()) {
        (false, false) => "TLS (--tls-cert/--tls-key) and a token file (--token-file)",
        (false, true) => "TLS (--tls-cert/--tls-key)",
        _ => "a token file (--token-file)",
    };
    Err(format!(
        "refusing to listen on {exposed} without {missing}: anyone on that network could read the cluster. \
         Add them, listen on 127.0.0.1, or pass --insecure if the network is trusted."
    ))
}

pub async fn start(
    config: GatewayConfig,
    source: Box<dyn Source>,
) -> Result<RunningGateway, String> {
    check_exposure(&config)?;
    let (mut tokens, generated_token) = match config.tokens {
        Some(tokens) => (tokens, None),
        None => {
            let tokens = Tokens::generated("generated");
            let secret = tokens.first().map(|t| t.secret().to_string());
            (tokens, secret)
        }
    };
    // The alert engine reads the stream as a console does, with a read
    // token of its own that lives as long as this process.
    let alerts_secret = config
        .alerts
        .as_ref()
        .map(|_| tokens.add_internal("day2top-alerts"));
    let tls = match &config.tls {
        Some(files) => Some(tls::server_config(&files.cert, &files.key)?),
        None => None,
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listen address: {e}"))?;
    let statsd = match config.statsd {
        Some(at) => Some(
            crate::collect::statsd::Listener::bind(at, source.cluster_name()).map_err(|e| {
                format!("cannot listen for statsd on {at}: {e} (--statsd ADDR for another address, --statsd off for none)")
            })?,
        ),
        None => None,
    };
    let statsd_addr = statsd.as_ref().and_then(|l| l.local_addr().ok());
    let otlp_listener = match config.otlp {
        Some(at) => Some(TcpListener::bind(at).await.map_err(|e| {
            format!("cannot listen for OTLP on {at}: {e} (--otlp ADDR for another address, --otlp off for none)")
        })?),
        None => None,
    };
    let otlp_addr = otlp_listener.as_ref().and_then(|l| l.local_addr().ok());

    let store = Arc::new(Store::new(
        source.cluster_name(),
        source.kind(),
        config.store_limits.clone(),
    ));
    let audit = audit::Audit::open(config.audit_log.as_deref(), store.clone())?;
    #[cfg(feature = "kube")]
    if let Some(kube) = &config.kube {
        store.set_log_source(
            "kube-events",
            &format!("watching events.k8s.io/v1 on {}", kube.server),
        );
        store.set_log_source(
            "kube pod logs",
            "read from the API server for what is opened: a task, a node's pods, a namespace",
        );
    }
    let history = match &config.prometheus {
        Some(url) => Some(crate::client::History::new(url)?),
        None => None,
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        store: store.clone(),
        tokens,
        stats: GatewayStats::default(),
        connections: stats::Connections::default(),
        stream_limits: config.stream_limits.clone(),
        shutdown: shutdown_rx.clone(),
        statsd: statsd.as_ref().map(|l| l.counters()),
        audit,
        exec: exec::Sessions::new(config.exec_ttl),
        streams: Default::default(),
        max_streams_per_token: config.max_streams_per_token,
        fleet: config.fleet.clone(),
        #[cfg(feature = "kube")]
        kube: config.kube.clone(),
        history,
        alerts: config
            .alerts
            .as_ref()
            .map(|_| crate::alerts::Board::default()),
    });

    // Fill the store once before serving, so the first snapshot is not empty.
    let mut source = source;
    store.apply(source.collect(now_millis()), now_millis());
    let node = source.cluster_name();
    let mut sources = sources::Sources::default();
    if let Some(journal) = config.journal.clone() {
        sources.journal(journal, node.clone(), store.clone());
    }
    if !config.log_files.is_empty() {
        sources.files(config.log_files.clone(), node, store.clone());
    }
    if let Some(listener) = statsd {
        sources.statsd(listener, store.clone(), config.statsd_interval);
    }
    sources.collector(source, store.clone(), config.refresh);
    let mut background = prober::spawn(config.checks, store.clone())?;
    background.push(tokio::spawn(exec::sweep(shared.clone())));

    let scheme = if tls.is_some() { "https" } else { "http" };
    let (alerts_board, alerts_stop) = (shared.alerts.clone(), shutdown_rx.clone());
    let mut limits = config.connection_limits.clone();
    limits.max_connections = listen::fit_connections(limits.max_connections);
    let mut servers = vec![tokio::spawn(listen::serve(
        listener,
        routes::router(shared.clone()),
        tls.clone(),
        limits.clone(),
        shared.clone(),
        shutdown_rx.clone(),
    ))];
    if let Some(listener) = otlp_listener {
        servers.push(tokio::spawn(listen::serve(
            listener,
            otlp::router(shared.clone()),
            tls,
            limits,
            shared,
            shutdown_rx,
        )));
    }
    let host = match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    if let (Some(alerts), Some(secret), Some(board)) = (config.alerts, alerts_secret, alerts_board)
    {
        // To itself on loopback, however it listens.
        let local = match addr {
            SocketAddr::V4(v4) if v4.ip().is_unspecified() => format!("127.0.0.1:{}", v4.port()),
            SocketAddr::V6(v6) if v6.ip().is_unspecified() => format!("[::1]:{}", v6.port()),
            other => other.to_string(),
        };
        let endpoint = crate::client::Endpoint {
            url: format!("{scheme}://{local}"),
            token: secret,
            ca: config.tls.as_ref().map(|t| t.cert.clone()),
        };
        let stop = alerts_stop;
        background.push(tokio::spawn(async move {
            if let Err(e) = crate::alerts::run(alerts, endpoint, board, stop).await {
                tracing::error!(error = %e, "alerting stopped");
            }
        }));
    }
    tracing::info!(%addr, "gateway listening");
    Ok(RunningGateway {
        addr,
        url: format!("{scheme}://{host}:{}", addr.port()),
        generated_token,
        statsd_addr,
        otlp_addr,
        shutdown: shutdown_tx,
        servers,
        sources: Some(sources),
        background,
        #[cfg(feature = "kube")]
        kube: config.kube.clone(),
    })
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
    }
}

impl RunningGateway {
    /// Stops serving: streams are closed, then the listener and the collector.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.background.drain(..) {
            task.abort();
        }
        for mut server in self.servers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut server).await;
            server.abort();
        }
        if let Some(sources) = self.sources.take() {
            let _ = tokio::task::spawn_blocking(move || sources.stop()).await;
        }
        #[cfg(feature = "kube")]
        if let Some(kube) = self.kube.take() {
            kube.stop();
        }
        let _ = tokio::task::spawn_blocking(exec::remove_cgroups).await;
    }
}
