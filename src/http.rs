//! The one HTTP client of the process, and the retry loop every request goes through.
//!
//! Built once: timeouts, a `graphd/<version>` user agent, no redirects (a redirected token
//! request is an SSRF risk, oauth2-rs explains why; a redirected Graph request would carry the
//! bearer elsewhere), extra trusted roots from `--ca-file`, proxies from `HTTPS_PROXY`/`NO_PROXY`
//! (reqwest reads them). There is no option to turn certificate verification off.
//!
//! Retries only what is transient: connect and read failures, timeouts, 429, 500, 502, 503,
//! 504, honouring `Retry-After` (integer or fractional seconds, or an HTTP-date; capped at 60 s),
//! else exponential backoff with jitter. `-v` traces each attempt without secrets.

use std::error::Error as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use reqwest::{Response, StatusCode};
use url::Url;
use zeroize::Zeroizing;

use crate::error::{Error, NetworkKind, Result};
use crate::messages;

/// The longest `Retry-After` graphd honours; longer waits are clamped.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// First backoff step when the server gives no `Retry-After`; doubles per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Options of the process's HTTP client.
#[derive(Debug, Clone)]
pub struct HttpOptions<'a> {
    pub ca_file: Option<&'a Path>,
    pub timeout: Duration,
    pub max_retries: u32,
}

/// The configured client plus the retry policy.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    max_retries: u32,
}

/// A current-thread runtime for one command: graphd does one thing at a time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

impl Http {
    pub fn new(opts: &HttpOptions<'_>) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("graphd/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .timeout(opts.timeout);
        if let Some(path) = opts.ca_file {
            for cert in read_ca_file(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            max_retries: opts.max_retries,
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `build` makes (called afresh for every attempt, so a new assertion or
    /// a new client-request-id goes with each), retrying transient failures.
    ///
    /// Returns the first response that is not transient; transient failures that outlast the
    /// retries become `Error::Network` (exit 6).
    pub async fn send(
        &self,
        url: &Url,
        mut build: impl FnMut() -> Result<reqwest::RequestBuilder>,
    ) -> Result<Response> {
        let host = host_of(url);
        let shown = messages::redact_url(url);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let request_id = uuid::Uuid::new_v4().to_string();
            let request = build()?
                .header("client-request-id", &request_id)
                .header("return-client-request-id", "true");
            let retries_left = attempt <= self.max_retries;
            match request.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let server_id = header(&resp, "request-id").unwrap_or_default();
                    messages::trace(&format!(
                        "{shown} -> {status} (client-request-id {request_id}{}{server_id})",
                        if server_id.is_empty() {
                            ""
                        } else {
                            ", request-id "
                        },
                    ));
                    if !is_transient(status) {
                        return Ok(resp);
                    }
                    let wait = header(&resp, "retry-after")
                        .and_then(|v| parse_retry_after(&v, SystemTime::now()))
                        .unwrap_or_else(|| backoff(attempt));
                    if !retries_left {
                        return Err(Error::Network {
                            host,
                            kind: NetworkKind::Server,
                            detail: format!("HTTP {status}"),
                            attempts: attempt,
                        });
                    }
                    messages::trace(&format!(
                        "retrying in {:.3} s (attempt {attempt})",
                        wait.as_secs_f64()
                    ));
                    drop(resp);
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let (kind, detail) = classify(&e);
                    messages::trace(&format!("{shown} -> {detail}"));
                    if !retries_left || kind == NetworkKind::Tls {
                        return Err(Error::Network {
                            host,
                            kind,
                            detail,
                            attempts: attempt,
                        });
                    }
                    let wait = backoff(attempt);
                    messages::trace(&format!(
                        "retrying in {:.3} s (attempt {attempt})",
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Statuses worth retrying (issue 4; Graph's retry guidance, facts §7.5).
pub fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// A response header as text.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `host[:port]` of a URL, for messages.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.as_str().to_string(),
    }
}

/// `Retry-After` as integer or fractional seconds, or an HTTP-date; clamped to [0, 60 s].
/// `None` for anything unparsable (then the caller backs off on its own).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = v.parse().ok()?;
        if !secs.is_finite() {
            return None;
        }
        return Some(Duration::from_secs_f64(
            secs.min(MAX_RETRY_AFTER.as_secs_f64()),
        ));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(now)
            .unwrap_or_default()
            .min(MAX_RETRY_AFTER),
    )
}

/// Exponential backoff with jitter: half the step fixed, half random.
fn backoff(attempt: u32) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_MAX);
    let half = step / 2;
    let jitter = half.mul_f64(f64::from(uuid::Uuid::new_v4().as_bytes()[0]) / 255.0);
    half + jitter
}

/// A transport error's class and a message without the URL (it may carry a query).
fn classify(e: &reqwest::Error) -> (NetworkKind, String) {
    let mut innermost = e.to_string();
    let mut tls = false;
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        let lower = text.to_ascii_lowercase();
        if s.is::<native_tls::Error>()
            || lower.contains("certificate")
            || lower.contains("ssl")
            || lower.contains("tls")
            || lower.contains("handshake")
        {
            tls = true;
        }
        innermost = text;
        source = s.source();
    }
    let kind = if tls {
        NetworkKind::Tls
    } else if e.is_timeout() {
        NetworkKind::Timeout
    } else if e.is_connect() {
        NetworkKind::Connect
    } else {
        NetworkKind::Other
    };
    let detail = match kind {
        NetworkKind::Timeout => "no answer within --timeout".to_string(),
        _ => innermost,
    };
    (kind, detail)
}

/// Reads a response body of at most `limit` bytes into zeroizing memory (token responses
/// hold tokens); `Err(())` when it is larger.
pub async fn body_limited(
    mut resp: Response,
    limit: usize,
) -> Result<Result<Zeroizing<Vec<u8>>, ()>> {
    let host = host_of(resp.url());
    let mut body = Zeroizing::new(Vec::new());
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Ok(Err(()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Ok(body)),
            Err(e) => {
                let (kind, detail) = classify(&e);
                return Err(Error::Network {
                    host,
                    kind,
                    detail,
                    attempts: 1,
                });
            }
        }
    }
}

/// The PEM certificates of `--ca-file`.
fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let bytes = crate::credential::read_limited(path, crate::credential::MAX_CREDENTIAL_FILE)
        .map_err(|e| match e {
            Error::Credential { problem, .. } => Error::config(
                format!("CA file {}: {problem}", path.display()),
                Some(
                    "--ca-file (GRAPHD_CA_FILE) takes a PEM file of trusted root certificates"
                        .to_string(),
                ),
            ),
            other => other,
        })?;
    let certs = crate::credential::certificates_from_pem(&bytes)
        .map_err(|problem| Error::config(format!("CA file {}: {problem}", path.display()), None))?;
    if certs.is_empty() {
        return Err(Error::config(
            format!("CA file {} holds no PEM certificate", path.display()),
            Some("--ca-file takes PEM (-----BEGIN CERTIFICATE-----) root certificates".to_string()),
        ));
    }
    certs
        .iter()
        .map(|c| {
            c.to_der()
                .ok()
                .and_then(|der| reqwest::Certificate::from_der(&der).ok())
                .ok_or_else(|| {
                    Error::config(
                        format!("CA file {}: a certificate cannot be used", path.display()),
                        None,
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 2.128 ", now),
            Some(Duration::from_secs_f64(2.128))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("3600", now), Some(MAX_RETRY_AFTER));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(5)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        for bad in ["", "-1", "soon", "1e3", "1.2.3", "NaN"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..40 {
            let d = backoff(attempt);
            let step = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_MAX);
            assert!(d >= step / 2 && d <= step, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn transient_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 400, 401, 403, 404, 501] {
            assert!(!is_transient(StatusCode::from_u16(s).unwrap()));
        }
    }
}
