//! Listening and serving: two loopback listeners, optional TLS, hyper 1 HTTP/1.1 on a
//! current-thread tokio runtime, the fault plan applied before the normal handlers, and the
//! headers every response carries.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::fault::{FaultAction, RetryAfter, Side};
use super::respond::{self, Ctx, Resp};
use super::state::{RequestRecord, State};
use super::sts::aadsts::Refusal;
use super::{Emulator, EmulatorConfig, Shared, graph, keys, sts, tls};
use crate::error::{Error, Result};

/// Binds, prepares TLS and the shared state, and starts the server thread.
pub fn start(config: EmulatorConfig) -> Result<Emulator> {
    super::check(&config)?;
    let key = keys::signing_key().map_err(Error::Internal)?;
    let token_listener = bind(config.token_port)?;
    let graph_listener = bind(config.graph_port)?;
    let port = |l: &StdListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|e| Error::Internal(e.to_string()))
    };
    let (token_port, graph_port) = (port(&token_listener)?, port(&graph_listener)?);
    let (acceptor, ca_file, ca_temp) = if config.tls {
        let material = tls::generate().map_err(Error::Internal)?;
        let (path, temp) = write_ca(&material.ca_pem, config.ca_out.as_deref())?;
        (
            Some(tokio_native_tls::TlsAcceptor::from(material.acceptor)),
            Some(path),
            temp,
        )
    } else {
        (None, None, None)
    };
    let scheme = if config.tls { "https" } else { "http" };
    let tenant = config.tenant.trim().to_ascii_lowercase();
    let tenant_id = if crate::cloud::is_guid(&tenant) {
        tenant.clone()
    } else {
        keys::derived_guid(&["tenant", &tenant])
    };
    let domain = if crate::cloud::is_guid(&tenant) {
        "graphd-emulator.onmicrosoft.com".to_string()
    } else {
        tenant.clone()
    };
    let shared = Arc::new(Shared {
        tenant,
        tenant_id,
        domain,
        users: config.users,
        strict_jti: config.strict_jti,
        token_lifetime: config.token_lifetime_secs,
        clock_offset: config.clock_offset_secs,
        scheme,
        token_port,
        graph_port,
        token_origin: format!("{scheme}://127.0.0.1:{token_port}"),
        graph_origin: format!("{scheme}://127.0.0.1:{graph_port}"),
        started: Instant::now(),
        salt: u64::from_be_bytes(keys::random::<8>()),
        state: State::new(config.apps, config.faults),
        key,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the emulator runtime: {e}")))?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let serving = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("graphd-emulator".into())
        .spawn(move || {
            runtime.block_on(serve(
                token_listener,
                graph_listener,
                acceptor,
                serving,
                stop_rx,
            ))
        })
        .map_err(|e| Error::Internal(format!("cannot start the emulator thread: {e}")))?;
    let url = |origin: &str| url::Url::parse(origin).map_err(|e| Error::Internal(e.to_string()));
    Ok(Emulator {
        authority: url(&shared.token_origin)?,
        graph: url(&shared.graph_origin)?,
        shared,
        ca_file,
        _ca_temp: ca_temp,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// 127.0.0.1 only: the emulator hands out tokens to anyone who can reach it.
fn bind(port: u16) -> Result<StdListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = StdListener::bind(addr).map_err(|e| {
        Error::config(
            format!("cannot listen on {addr}: {}", crate::error::io_reason(&e)),
            Some("choose another port, or 0 for any free one".to_string()),
        )
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(listener)
}

/// Writes the CA PEM to `out` (replacing only a file that holds certificates and nothing
/// else, atomically), or to a temp file deleted with the handle.
fn write_ca(pem: &[u8], out: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempPath>)> {
    let Some(path) = out else {
        let file = tempfile::Builder::new()
            .prefix("graphd-emulator-ca-")
            .suffix(".pem")
            .tempfile()
            .map_err(|e| Error::File {
                path: std::env::temp_dir(),
                action: "create a file in",
                source: e,
                hint: None,
            })?;
        std::fs::write(file.path(), pem).map_err(|e| Error::File {
            path: file.path().to_path_buf(),
            action: "write",
            source: e,
            hint: None,
        })?;
        let temp = file.into_temp_path();
        return Ok((temp.to_path_buf(), Some(temp)));
    };
    if let Ok(existing) = std::fs::read(path) {
        let only_certs = crate::credential::certificates_from_pem(&existing)
            .is_ok_and(|c| !c.is_empty())
            && !String::from_utf8_lossy(&existing).contains("PRIVATE KEY");
        if !only_certs {
            return Err(Error::Exists {
                path: path.to_path_buf(),
            });
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: io::Error| Error::File {
        path: path.to_path_buf(),
        action: "write",
        source: e,
        hint: None,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    io::Write::write_all(&mut tmp, pem).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok((path.to_path_buf(), None))
}

async fn serve(
    token: StdListener,
    graph: StdListener,
    tls: Option<tokio_native_tls::TlsAcceptor>,
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
    tls: Option<tokio_native_tls::TlsAcceptor>,
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

/// The origin the client addressed, when it is this port under a loopback name.
fn origin(shared: &Shared, side: Side, host: Option<&str>) -> String {
    let port = match side {
        Side::Token => shared.token_port,
        Side::Graph => shared.graph_port,
    };
    let ok = host
        .and_then(|h| h.rsplit_once(':'))
        .is_some_and(|(name, p)| {
            p.parse::<u16>() == Ok(port)
                && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
        });
    match (ok, host) {
        (true, Some(h)) => format!("{}://{}", shared.scheme, h.to_ascii_lowercase()),
        _ => format!("{}://127.0.0.1:{port}", shared.scheme),
    }
}

async fn handle(req: Request<Incoming>, side: Side, shared: Arc<Shared>) -> Result<Resp, Dropped> {
    let arrival = Instant::now();
    let eligible = side == Side::Graph || sts::is_token_path(req.uri().path());
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
    let host = header(&req, "host");
    let ctx = Ctx {
        now: shared.now(),
        request_id: uuid::Uuid::new_v4().to_string(),
        client_request_id,
        origin: origin(&shared, side, host.as_deref()),
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
        Some(FaultAction::NextLink(url)) => next_link = Some(url),
        Some(action) => response = Some(fault_response(&action, side, &ctx)),
        None => {}
    }
    let mut response = match response {
        Some(r) => r,
        None => match side {
            Side::Token => sts::handle(req, &ctx).await,
            Side::Graph => {
                let (method, path, query) = (
                    req.method().clone(),
                    req.uri().path().to_string(),
                    req.uri().query().unwrap_or("").to_string(),
                );
                graph::handle(
                    &method,
                    &path,
                    &query,
                    req.headers(),
                    &ctx,
                    next_link.as_deref(),
                )
            }
        },
    };
    common_headers(&mut response, side, &ctx);
    record.status = response.status().as_u16();
    shared.state.record(record);
    Ok(response)
}

/// The answer a fault gives instead of the normal one.
fn fault_response(action: &FaultAction, side: Side, ctx: &Ctx) -> Resp {
    match action {
        FaultAction::Status {
            status,
            retry_after,
        } => {
            let mut r = match side {
                Side::Token => {
                    let code = if *status == 429 { 90_055 } else { 90_033 };
                    let mut r = sts::refusal_response(&Refusal::generic(code), ctx);
                    *r.status_mut() = hyper::StatusCode::from_u16(*status)
                        .unwrap_or(hyper::StatusCode::SERVICE_UNAVAILABLE);
                    r
                }
                Side::Graph => graph::error(&graph_status_fail(*status), ctx),
            };
            if let Some(ra) = retry_after {
                set_retry_after(&mut r, *ra, side, ctx);
            }
            r
        }
        FaultAction::TruncatedJson => respond::truncated(sample_body(side, ctx).as_bytes()),
        FaultAction::NotJson(status) => respond::not_json(*status),
        FaultAction::Html(status) => respond::html_page(*status),
        FaultAction::HugeBody(size) => respond::huge_json(
            *size,
            if side == Side::Token {
                "access_token"
            } else {
                "padding"
            },
        ),
        FaultAction::Entra(code) => sts::refusal_response(&Refusal::generic(*code), ctx),
        // Handled before the normal handlers run.
        FaultAction::Delay(_)
        | FaultAction::Hang
        | FaultAction::Drop
        | FaultAction::NextLink(_) => respond::with_body(500, respond::TEXT, ""),
    }
}

/// Graph's body for an injected status (facts §7.5; concepts/errors.md codes).
fn graph_status_fail(status: u16) -> graph::query::Fail {
    let (code, message) = match status {
        429 => ("TooManyRequests", "Please retry again later."),
        503 => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. You may repeat the request after a delay, which may be specified in a Retry-After header.",
        ),
        504 => (
            "gatewayTimeout",
            "The server, while acting as a proxy, did not receive a timely response from the upstream server it needed to access in attempting to complete the request.",
        ),
        502 => (
            "badGateway",
            "The server received an invalid response from an upstream server.",
        ),
        _ => ("generalException", "An unspecified error has occurred."),
    };
    graph::query::fail(status, code, message)
}

/// A plausible 200 body of the side, to cut in half.
fn sample_body(side: Side, ctx: &Ctx) -> String {
    match side {
        Side::Token => "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJl\"}".to_string(),
        Side::Graph => format!(
            "{{\"@odata.context\":\"{}/v1.0/$metadata#users\",\"value\":[{{\"displayName\":\"Adele Vance\",\"id\":\"00000000-0000-4000-8000-000000000000\"}},{{\"displayName\":\"Alex Wilber\",\"id\":\"00000000-0000-4000-8000-000000000001\"}}]}}",
            ctx.origin
        ),
    }
}

fn set_retry_after(r: &mut Resp, ra: RetryAfter, side: Side, ctx: &Ctx) {
    let now = Instant::now();
    let (value, wait) = match ra {
        RetryAfter::Seconds(s) => (s.to_string(), Duration::from_secs(s)),
        RetryAfter::Fractional(s) => (format!("{s}"), ra.wait()),
        RetryAfter::HttpDate(s) => {
            // Whole seconds on the emulator's clock, rounded up so the wait is at least `s`.
            let clock = emulator_time(ctx);
            let exact = clock
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            let date_secs = exact.as_secs() + s + u64::from(exact.subsec_nanos() > 0);
            let date = SystemTime::UNIX_EPOCH + Duration::from_secs(date_secs);
            let wait = Duration::from_secs(date_secs).saturating_sub(exact);
            (httpdate::fmt_http_date(date), wait)
        }
    };
    respond::set_header(r, "retry-after", &value);
    ctx.shared.state.retry_after_sent(side, now + wait);
}

/// The emulator's clock as a `SystemTime` (the real one plus the configured offset).
fn emulator_time(ctx: &Ctx) -> SystemTime {
    let offset = ctx.shared.clock_offset;
    let magnitude = Duration::from_secs(offset.unsigned_abs());
    if offset >= 0 {
        SystemTime::now() + magnitude
    } else {
        SystemTime::now() - magnitude
    }
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
