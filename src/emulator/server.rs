//! Serving: hyper 1 HTTP/1.1 over the two loopback listeners (TLS optional) on a
//! current-thread tokio runtime, the fault plan applied before the normal handlers, the
//! headers every response carries, and the request log.

use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::fault::{FaultAction, Side};
use super::inject::{emulator_time, fault_response};
use super::panics::CatchPanic;
use super::respond::{self, Ctx, Resp};
use super::state::RequestRecord;
use super::{Shared, graph, oidc, sts};

/// The largest Graph request body read (an addKey body with a 4096-bit certificate is ~3 KB).
const MAX_GRAPH_BODY: usize = 64 * 1024;

pub(super) async fn serve(
    token: StdListener,
    graph: StdListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let (Ok(token), Ok(graph)) = (TcpListener::from_std(token), TcpListener::from_std(graph))
    else {
        return;
    };
    loop {
        let (side, accepted) = tokio::select! {
            _ = &mut stop => break,
            a = token.accept() => (Side::Token, a),
            a = graph.accept() => (Side::Graph, a),
        };
        let Ok((stream, _)) = accepted else { continue };
        tokio::spawn(connection(stream, side, tls.clone(), Arc::clone(&shared)));
    }
}

async fn connection(
    stream: TcpStream,
    side: Side,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req| handle(req, side, Arc::clone(&shared)));
    let http = http1::Builder::new();
    match tls {
        Some(acceptor) => {
            if let Ok(stream) = acceptor.accept(stream).await {
                let _ = http.serve_connection(TokioIo::new(stream), svc).await;
            }
        }
        None => {
            let _ = http.serve_connection(TokioIo::new(stream), svc).await;
        }
    }
}

/// Returned to hyper to close the connection without an answer (the `drop` fault).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for Dropped {}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn port_of(shared: &Shared, side: Side) -> u16 {
    match side {
        Side::Token => shared.token_port,
        Side::Graph => shared.graph_port,
    }
}

/// Whether the `Host` header names this side's own address: 127.0.0.1 or localhost, with its
/// port (which may be left out only when it is the scheme's default, RFC 9110 §7.2).
///
/// Anything else is refused: a web page whose host name resolves to 127.0.0.1 (DNS
/// rebinding) makes a browser on this machine send requests here under that name, and the
/// emulator hands out tokens to whoever reaches it.
fn addressed_here(shared: &Shared, side: Side, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let port = port_of(shared, side);
    let default_port = if shared.scheme == "https" { 443 } else { 80 };
    let (name, given) = match host.rsplit_once(':') {
        Some((name, p)) => match p.parse::<u16>() {
            Ok(p) => (name, p),
            Err(_) => return false,
        },
        None => (host, default_port),
    };
    given == port && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

/// The origin the client addressed (checked by [`addressed_here`] first).
fn origin(shared: &Shared, side: Side, host: &str) -> String {
    let port = port_of(shared, side);
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    format!("{}://{}:{port}", shared.scheme, name.to_ascii_lowercase())
}

/// The answer to a request addressed to another host (RFC 9110 §15.5.20, 421 Misdirected
/// Request), or without a `Host` header at all (RFC 9112 §3.2: 400).
fn misdirected(shared: &Shared, side: Side, host: Option<&str>) -> Resp {
    let port = port_of(shared, side);
    let status = if host.is_some() { 421 } else { 400 };
    respond::with_body(
        status,
        respond::TEXT,
        format!(
            "the graphd emulator answers only requests for 127.0.0.1:{port} or localhost:{port} \
             (the Host header names another host)\n"
        ),
    )
}

/// Answers one request; a handler that panics gets the client a `500` and is recorded (see
/// [`super::panics`]) instead of silently dropping the connection.
async fn handle(req: Request<Incoming>, side: Side, shared: Arc<Shared>) -> Result<Resp, Dropped> {
    // The path only: a query can carry a $skiptoken.
    let what = format!("{side} {} {}", req.method(), req.uri().path());
    match CatchPanic::new(answer(req, side, Arc::clone(&shared))).await {
        Ok(answered) => answered,
        Err(message) => {
            shared.state.handler_panicked(format!("{what}: {message}"));
            Ok(respond::with_body(
                500,
                respond::TEXT,
                "the graphd emulator failed while answering this request (a bug)\n",
            ))
        }
    }
}

async fn answer(req: Request<Incoming>, side: Side, shared: Arc<Shared>) -> Result<Resp, Dropped> {
    let arrival = Instant::now();
    let host = header(&req, "host");
    if !addressed_here(&shared, side, host.as_deref()) {
        // Before the fault plan and the counters: such a request is not one of the client's.
        let response = misdirected(&shared, side, host.as_deref());
        shared.state.record(RequestRecord {
            side,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            consistency_level: None,
            client_request_id: None,
            user_agent: header(&req, "user-agent"),
            retry_attempt: None,
            authorization: req.headers().contains_key("authorization"),
            status: response.status().as_u16(),
            fault: None,
            early: false,
            at: arrival.duration_since(shared.started),
        });
        return Ok(response);
    }
    let host = host.unwrap_or_default();
    // The emulator-only admin endpoint is not Graph: no faults, and it shifts no schedule.
    let eligible = match side {
        Side::Graph => !graph::is_admin_path(req.uri().path()),
        Side::Token => sts::is_token_path(req.uri().path()),
    };
    let (early, fault) = shared.state.arrive(side, eligible, arrival);
    let client_request_id = header(&req, "client-request-id")
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()));
    let mut record = RequestRecord {
        side,
        method: req.method().to_string(),
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        consistency_level: header(&req, "consistencylevel"),
        client_request_id: client_request_id.clone(),
        user_agent: header(&req, "user-agent"),
        retry_attempt: header(&req, "retry-attempt"),
        authorization: req.headers().contains_key("authorization"),
        status: 0,
        fault: fault.as_ref().map(|f| format!("{f:?}")),
        early,
        at: arrival.duration_since(shared.started),
    };
    let ctx = Ctx {
        now: shared.now(),
        request_id: uuid::Uuid::new_v4().to_string(),
        client_request_id,
        origin: origin(&shared, side, &host),
        shared: Arc::clone(&shared),
    };
    let mut next_link = None;
    let mut response = None;
    match fault {
        Some(FaultAction::Hang) => {
            shared.state.record(record);
            // Never answers; the task ends when the emulator's runtime is dropped.
            return std::future::pending().await;
        }
        Some(FaultAction::Drop) => {
            shared.state.record(record);
            return Err(Dropped);
        }
        Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultAction::Panic) => panic!("a fault rule asked this handler to panic"),
        Some(FaultAction::ExpireTokens) => shared.state.expire_issued_tokens(),
        Some(FaultAction::NextLink(url)) => next_link = Some(url),
        Some(action) => response = Some(fault_response(&action, side, &ctx)),
        None => {}
    }
    let mut response = match response {
        Some(r) => r,
        None => match side {
            Side::Token if oidc::is_oidc_path(req.uri().path()) => oidc::handle(
                req.method(),
                req.uri().path(),
                req.uri().query().unwrap_or(""),
                req.headers(),
                &ctx,
            ),
            Side::Token => sts::handle(req, &ctx).await,
            Side::Graph => {
                let (parts, body) = req.into_parts();
                // Only POSTs (addKey, removeKey) have a body worth reading; a body too large
                // for them is read as none, which Graph answers as unreadable JSON.
                let body = if parts.method == hyper::Method::POST {
                    Limited::new(body, MAX_GRAPH_BODY)
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default()
                } else {
                    bytes::Bytes::new()
                };
                graph::handle(
                    &parts.method,
                    parts.uri.path(),
                    parts.uri.query().unwrap_or(""),
                    &parts.headers,
                    &body,
                    &ctx,
                    next_link.as_deref(),
                )
            }
        },
    };
    common_headers(&mut response, side, &ctx);
    record.status = response.status().as_u16();
    if crate::messages::verbose() {
        // The path only: a query can carry a $skiptoken, and headers never leave the process.
        let path = record.path.split('?').next().unwrap_or("");
        crate::messages::trace(&format!(
            "emulator: {side} {} {path} -> {}",
            record.method, record.status
        ));
    }
    shared.state.record(record);
    Ok(response)
}

fn common_headers(r: &mut Response<respond::Body>, side: Side, ctx: &Ctx) {
    respond::set_header(r, "date", &httpdate::fmt_http_date(emulator_time(ctx)));
    match side {
        Side::Token => {
            respond::set_header(r, "x-ms-request-id", &ctx.request_id);
            if let Some(id) = &ctx.client_request_id {
                respond::set_header(r, "client-request-id", id);
            }
            // RFC 6749 §5.1: token responses must not be cached.
            respond::set_header(r, "cache-control", "no-store, no-cache");
            respond::set_header(r, "pragma", "no-cache");
        }
        Side::Graph => {
            respond::set_header(r, "request-id", &ctx.request_id);
            respond::set_header(r, "client-request-id", ctx.correlation_id());
            respond::set_header(
                r,
                "x-ms-ags-diagnostic",
                "{\"ServerInfo\":{\"DataCenter\":\"Loopback\",\"Slice\":\"E\",\"Ring\":\"0\",\"ScaleUnit\":\"000\",\"RoleInstance\":\"graphd-emulator\"}}",
            );
            respond::set_header(r, "cache-control", "no-cache");
            if r.headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
            {
                respond::set_header(r, "odata-version", "4.0");
            }
        }
    }
}
