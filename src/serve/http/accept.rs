//! The accept loop: HTTP/1.1 connections with a cap, timeouts and graceful shutdown.
//!
//! `axum::serve` keeps a connection open for as long as the client likes: a client that sends
//! half its headers and stops holds a file descriptor forever, and enough of them stop the
//! server from accepting anything, `/healthz` included. Here each connection is served by
//! hyper's HTTP/1 connection with
//!
//! - a **header timeout** ([`HttpLimits::header_timeout`]): hyper starts it whenever it waits
//!   for a request head, so it also ends a keep-alive connection idle between requests;
//! - an **idle timeout** ([`HttpLimits::idle_timeout`]): when no byte has moved either way for
//!   that long and no request on the connection is being answered (a client that stopped
//!   reading its answer, a body that stalled), the connection is closed;
//! - a **connection cap** ([`HttpLimits::connection_cap`]): beyond it a new connection gets a
//!   canned `503` (if its send buffer takes it) and is closed at once, so the process keeps
//!   file descriptors for its database, git and steps.
//!
//! The body timeout and the body budget are per request; [`super::http`] applies them. On
//! shutdown the loop stops accepting, asks each connection to finish its request in flight and
//! close, and returns when all are closed.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::serve::config::http_limits::HttpLimits;
use crate::serve::metrics::HttpMetrics;

/// What a connection beyond the cap is told before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 26\r\nconnection: close\r\nretry-after: 1\r\n\r\ntoo many open connections\n";

/// How often at most a refused connection is logged.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` is cancelled, then waits for open connections
/// to finish (each ends within the body or idle timeout).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &HttpLimits,
    metrics: HttpMetrics,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let cap = limits
        .connection_cap()
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    tracing::info!(
        max_connections = cap,
        header_timeout_secs = limits.header_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        "accepting connections"
    );
    let slots = Arc::new(Semaphore::new(cap));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let mut last_refusal_log: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors or memory: wait rather than spin.
                tracing::error!(error = %e, "cannot accept a connection");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.connections_refused.inc();
            let _ = stream.try_write(REFUSED);
            drop(stream);
            if last_refusal_log.is_none_or(|at| at.elapsed() >= REFUSAL_LOG_EVERY) {
                last_refusal_log = Some(Instant::now());
                tracing::warn!(
                    max_connections = cap,
                    refused_so_far = metrics.connections_refused.get(),
                    "refusing connections: max_connections are open"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, builder, metrics, shutdown) = (
            app.clone(),
            builder.clone(),
            metrics.clone(),
            shutdown.clone(),
        );
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            metrics.connections.inc();
            connection(stream, app, &builder, idle, &metrics, shutdown).await;
            metrics.connections.dec();
            drop(slot);
        });
    }
    drop(listener);
    // Every open connection holds a slot: all slots back means all closed.
    let _ = slots.acquire_many(cap as u32).await;
    Ok(())
}

/// Errors of one connection that was being accepted, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// When bytes last moved on a connection, and how many of its requests are being answered.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Marks a request answered when dropped, even if its future is.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A stream that notes in [`Activity`] each time bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
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

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
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

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one connection until the client closes it, a timeout ends it, or shutdown has let
/// its request in flight finish.
async fn connection(
    stream: TcpStream,
    app: Router,
    builder: &hyper::server::conn::http1::Builder,
    idle: Duration,
    metrics: &HttpMetrics,
    shutdown: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        requests.busy.fetch_add(1, Ordering::Relaxed);
        let busy = Busy(requests.clone());
        let app = app.clone();
        async move {
            let answer = app.oneshot(request.map(axum::body::Body::new)).await;
            drop(busy);
            answer
        }
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        let wait = if activity.busy.load(Ordering::Relaxed) > 0 {
            idle
        } else {
            idle.saturating_sub(activity.quiet_for())
        };
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            _ = shutdown.cancelled(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {
                if activity.busy.load(Ordering::Relaxed) == 0 && activity.quiet_for() >= idle {
                    metrics.connections_idle_closed.inc();
                    tracing::debug!("closing a connection idle for idle_timeout");
                    return;
                }
            }
        }
    }
}
