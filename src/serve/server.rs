//! Serving `graphd serve`'s endpoint: hyper HTTP/1.1 on the loopback listener, with every
//! request bounded (head size, header count, a timeout for slow or idle clients), a bounded
//! number of connections, the `-v` access log, and a graceful stop.
//!
//! It never reads a request body (a token request has none) and never logs a query string,
//! a header value or a response body.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::{Endpoint, Service};
use crate::error::{Error, Result, printable};
use crate::messages;

/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 256;
/// A client must send a whole request head within this, and an idle keep-alive connection is
/// closed after it: slow or silent clients cannot hold connections.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Request headers at most (clients send about ten); more is 431.
pub const MAX_HEADERS: usize = 32;
/// The request line and headers together, in bytes; more is 431.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The pause after a failed `accept` (out of file descriptors, say).
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);
/// How long a stop waits for requests in progress.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

type Body = http_body_util::Full<bytes::Bytes>;

/// Serves `service` on `endpoint` until `stop` turns true, then lets requests in progress
/// finish (within `STOP_GRACE`) and returns.
pub async fn run(
    endpoint: Endpoint,
    service: Arc<Service>,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let listener = TcpListener::from_std(endpoint.listener)
        .map_err(|e| Error::Internal(format!("listener: {e}")))?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            () = stopped(&mut stop) => break,
            p = Arc::clone(&slots).acquire_owned() => p,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            () = stopped(&mut stop) => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: say so, give the system a moment
                // rather than spinning, and go on serving.
                messages::trace(&format!("serve: accept failed: {e}"));
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        let (service, stop) = (Arc::clone(&service), stop.clone());
        tokio::spawn(async move {
            connection(stream, service, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every connection holds a slot until it ends: all slots back means all done.
    let all = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(STOP_GRACE, slots.acquire_many(all)).await;
    Ok(())
}

async fn connection(stream: TcpStream, service: Arc<Service>, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req| handle(req, Arc::clone(&service)));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEAD_BYTES);
    let conn = http.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopped(&mut stop) => {
            // Finish the request in progress, take no new one.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Resolves once a stop is asked for (or nobody can ask any more).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn handle(
    req: Request<Incoming>,
    service: Arc<Service>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let answer = service.answer(&req).await;
    if messages::verbose() {
        access_log(&req, &answer, started);
    }
    Ok(answer.into_response())
}

/// `serve: GET /msi/token -> 200 (resource R, 0.2 ms)`: never the query, a header or a body.
fn access_log<B>(req: &Request<B>, answer: &super::Answer, started: Instant) {
    let mut line = format!(
        "serve: {} {} -> {}",
        req.method(),
        printable(req.uri().path(), 200),
        answer.status
    );
    let mut notes = Vec::new();
    if let Some(r) = &answer.resource {
        notes.push(format!("resource {r}"));
    }
    if let Some(id) = &answer.correlation_id {
        notes.push(format!("correlation id {id}"));
    }
    notes.push(format!(
        "{:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    ));
    line.push_str(&format!(" ({})", notes.join(", ")));
    messages::trace(&line);
}
