//! Accepts connections and serves HTTP/1.1 on them, within limits a
//! hostile or broken client cannot talk its way past:
//!
//! - at most `max_connections` open at once (a WebSocket counts until it
//!   closes); past that a connection is answered 503 and closed;
//! - a TLS handshake must finish within `handshake`;
//! - a request's head must arrive within `header_read` of the connection
//!   starting to wait for it, so a silent connection, a half-sent head and
//!   a kept-alive connection with no next request are all closed then;
//! - a connection on which no byte moves either way for `idle` (a
//!   half-sent body) is closed.
//!
//! A WebSocket, once upgraded, keeps its own liveness rules (the stream's
//! pings, exec's heartbeats).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use super::stats::GatewayStats;
use super::{Peer, Shared};

/// The limits of one listener.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections open at once (`--max-connections`), lowered at start
    /// to what the open-file limit allows.
    pub max_connections: usize,
    pub handshake: Duration,
    pub header_read: Duration,
    pub idle: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        }
    }
}

/// Descriptors kept back from the connection cap for files, journalctl,
/// exec terminals and the like.
const RESERVED_FDS: u64 = 256;
/// How long open connections get to finish when the gateway stops.
const DRAIN: Duration = Duration::from_secs(3);

/// Raises the soft limit on open files to the hard limit, and returns the
/// connection cap that fits under it.
pub fn fit_connections(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum
        && limit.current.is_some_and(|soft| soft < hard)
    {
        limit.current = Some(hard);
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!("cannot raise the open-file limit to {hard}: {e}");
        }
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let room = soft.saturating_sub(RESERVED_FDS).max(16) as usize;
    if room < wanted {
        tracing::warn!(
            "the open-file limit ({soft}) allows {room} connections, not {wanted}; raise it (ulimit -n, LimitNOFILE=) for more"
        );
    }
    wanted.min(room)
}

/// Serves `app` on `listener` until `stop` turns true, then lets open
/// connections finish for a moment.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    gw: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let max_connections = limits.max_connections;
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(max_connections));
    let tls = tls.map(TlsAcceptor::from);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, most likely: wait, don't spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            GatewayStats::add(&gw.stats.connections_refused, 1);
            refuse(tcp, tls.is_some(), max_connections);
            continue;
        };
        let slot = Slot::new(permit, gw.clone());
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            tcp,
            peer,
            tls.clone(),
            app.clone(),
            slot,
            limits.clone(),
            stop.clone(),
        ));
    }
    drop(listener);
    // Every permit back means every connection (and WebSocket) is gone.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, slots.acquire_many(all)).await;
}

/// Over the cap: say so to a plain-HTTP client, and close.
fn refuse(tcp: TcpStream, tls: bool, max: usize) {
    if !tls {
        let body = format!(
            "{{\"error\":{{\"code\":\"unavailable\",\"message\":\"the gateway has its {max} connections open; try again shortly\"}}}}"
        );
        let reply = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        // Never waits: what the socket buffer does not take is dropped.
        let _ = tcp.try_write(reply.as_bytes());
    }
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: axum::Router,
    slot: Slot,
    limits: Arc<ConnectionLimits>,
    stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    match tls {
        Some(acceptor) => {
            match tokio::time::timeout(limits.handshake, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let io = Watched::new(tls, activity.clone(), slot);
                    http(io, peer, app, activity, &limits, stop).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
        None => {
            let io = Watched::new(tcp, activity.clone(), slot);
            http(io, peer, app, activity, &limits, stop).await
        }
    }
}

async fn http<T>(
    io: Watched<T>,
    peer: SocketAddr,
    app: axum::Router,
    activity: Arc<Activity>,
    limits: &ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(Peer(peer)));
        let mut app = app.clone();
        async move { app.call(req).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut check = tokio::time::interval(limits.idle.min(Duration::from_secs(1)));
    let mut draining = false;
    loop {
        tokio::select! {
            // Done, or handed over to a WebSocket.
            _ = conn.as_mut() => return,
            _ = stopped(&mut stop), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = check.tick() => {
                if activity.idle() >= limits.idle {
                    tracing::debug!(%peer, "closing a connection idle for {:?}", limits.idle);
                    return;
                }
            }
        }
    }
}

/// Resolves once the gateway is told to stop.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// When bytes last moved on a connection.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A connection's place under the cap, counted at `/metrics`, given back
/// when the socket closes.
struct Slot {
    _permit: OwnedSemaphorePermit,
    gw: Arc<Shared>,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit, gw: Arc<Shared>) -> Slot {
        GatewayStats::add(&gw.stats.connections, 1);
        Slot {
            _permit: permit,
            gw,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        GatewayStats::sub(&self.gw.stats.connections, 1);
    }
}

/// A connection's socket, noting activity, and holding its place under
/// the connection cap for as long as it is open (through an upgrade).
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
    _slot: Slot,
}

impl<T> Watched<T> {
    fn new(inner: T, activity: Arc<Activity>, slot: Slot) -> Watched<T> {
        activity.touch();
        Watched {
            inner,
            activity,
            _slot: slot,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
