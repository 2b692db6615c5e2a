//! Accepting connections the way a server left running must: at most a fixed number open at
//! once (the rest wait in the listen backlog), a deadline on every request head (which also
//! closes keep-alive connections left idle), and a pause instead of a busy loop when `accept`
//! fails for want of file descriptors.

use std::future::Future;
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

/// How long to wait before accepting again after `accept` failed for want of resources
/// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): retrying at once would spin on a full backlog.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How many connections may be open and how long a client may take to send a request head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    pub(crate) max_connections: usize,
    pub(crate) read_timeout: Duration,
}

/// Serves HTTP/1.1 on `listener` until `stop` fires, answering each request with `respond`.
///
/// `respond` failing closes the connection without an answer (how faults drop connections).
/// hyper adds no `Date` header: `respond` sets it from the simulator's clock.
pub(crate) async fn serve<F, Fut, E>(
    listener: TcpListener,
    limits: ConnectionLimits,
    mut stop: oneshot::Receiver<()>,
    respond: F,
) where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .auto_date_header(false);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    let mut reported = false;
    loop {
        // A free slot first: over the cap, clients wait in the backlog, unaccepted.
        let permit = tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // The client gave up before it was accepted: nothing is wrong with the listener.
                Err(e) if is_per_connection(e.kind()) => continue,
                Err(e) => {
                    if !reported {
                        reported = true;
                        eprintln!(
                            "buffer-sim: cannot accept connections ({e}); retrying every {} ms \
                             (further accept errors are not reported)",
                            ACCEPT_BACKOFF.as_millis()
                        );
                    }
                    tokio::select! {
                        _ = &mut stop => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    }
                }
            },
        };
        let http = http.clone();
        let respond = respond.clone();
        connections.spawn(async move {
            let _slot = permit;
            let service = service_fn(respond);
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        });
    }
    connections.abort_all();
}

/// Errors that concern one connection that went away before it was accepted, not the listener.
fn is_per_connection(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionRefused
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
    )
}
