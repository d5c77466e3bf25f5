//! The HTTP client of the process, and the retry loop every request goes through (`send`).
//!
//! Built on first use, with rustls (ring): timeouts, a `graphd/<version>` user agent, no
//! redirects (a redirected token request is an SSRF risk, oauth2-rs explains why; a redirected
//! Graph request would carry the bearer elsewhere), proxies from the environment except for
//! loopback (`proxy`). `https://` goes through a client whose platform verifier trusts the
//! system's roots (or, when `SSL_CERT_FILE` / `SSL_CERT_DIR` is set, theirs instead: `ca`)
//! plus `--ca-file`'s, read when that client is built; plain `http://`, which the URL policy
//! allows for loopback only (the emulator), goes through one with no roots, so such a run
//! never reads the system's (OpenSSL 3.0 through native-tls parsed the whole CA bundle twice
//! on every run, ~40 ms). There is no option to turn certificate verification off.
//!
//! Retries only what is transient (`retry`): connect and read failures, timeouts, 429, 500,
//! 502, 503, 504, honouring `Retry-After`, else exponential backoff with jitter. `-v` traces
//! each attempt (method, host, path, status, request ids, waits) without secrets.

mod body;
mod ca;
mod failure;
mod proxy;
mod retry;
mod send;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use url::Url;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::messages;

pub use retry::{MAX_RETRY_AFTER, is_transient, parse_retry_after};

/// Options of the process's HTTP client.
#[derive(Debug, Clone)]
pub struct HttpOptions<'a> {
    pub ca_file: Option<&'a Path>,
    pub timeout: Duration,
    pub max_retries: u32,
}

/// The configured client (built on the first request) plus the retry policy. Its Debug
/// leaves the proxies out: a proxy URL can hold a password.
#[derive(Clone)]
pub struct Http {
    roots: Vec<reqwest::Certificate>,
    /// With the environment variable that set each.
    proxies: Vec<(&'static str, reqwest::Proxy)>,
    timeout: Duration,
    max_retries: u32,
    /// For `https://`, with trusted roots.
    client: OnceLock<reqwest::Client>,
    /// For plain `http://` (loopback only): no roots read.
    plain: OnceLock<reqwest::Client>,
}

/// A whole response: status, headers and a body read within a size limit. Its Debug shows
/// the body's length only: a token response body holds the token.
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// `None` when the body is larger than the limit (it is not read then).
    pub body: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("extra_roots", &self.roots.len())
            .field(
                "proxies_from",
                &self.proxies.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched")
            .field("status", &self.status)
            .field("body_bytes", &self.body.as_ref().map(|b| b.len()))
            .finish_non_exhaustive()
    }
}

impl Fetched {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        header_text(&self.headers, name)
    }
}

/// Whether a client build failed because no trusted root certificate was found at all.
fn no_roots_found(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.to_string().contains("No CA certificates were loaded") {
            return true;
        }
        source = s.source();
    }
    false
}

/// A current-thread runtime for one command: graphd does one thing at a time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// Installs rustls' process-wide crypto provider (ring, the one compiled in) unless one is
/// installed already. Code of this process that builds its own reqwest client (tests,
/// embedders) calls this first.
pub fn install_crypto_provider() {
    // An Err only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Http {
    /// Checks the options (the CA file is read and parsed, proxy variables too); the client
    /// itself is built by the first request, so a command answered from the token cache
    /// never builds one.
    pub fn new(opts: &HttpOptions<'_>) -> Result<Self> {
        let roots = match opts.ca_file {
            Some(path) => ca::read_ca_file(path)?,
            None => Vec::new(),
        };
        Ok(Http {
            roots,
            proxies: proxy::from_env()?,
            timeout: opts.timeout,
            max_retries: opts.max_retries,
            client: OnceLock::new(),
            plain: OnceLock::new(),
        })
    }

    /// The client for `url`, built now if this is the first request of the process that
    /// needs it. Plain `http://` (loopback only, by the URL policy: the emulator) gets a
    /// client without trusted roots, so such a run never reads the system's; an `https://`
    /// URL gets the verifying one, whose roots are read when it is built.
    fn client_for(&self, url: &Url) -> Result<&reqwest::Client> {
        let (cell, verified) = if url.scheme() == "http" {
            (&self.plain, false)
        } else {
            (&self.client, true)
        };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let client = self.build(verified)?;
        Ok(cell.get_or_init(|| client))
    }

    fn builder(&self) -> reqwest::ClientBuilder {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("graphd/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .timeout(self.timeout)
            // Only the proxies read by `proxy::from_env` (loopback bypassed), never reqwest's own.
            .no_proxy();
        for (_, proxy) in &self.proxies {
            builder = builder.proxy(proxy.clone());
        }
        builder
    }

    /// Builds a client: `verified` with the platform's roots (or `SSL_CERT_FILE` /
    /// `SSL_CERT_DIR`'s, see `ca::roots_override`) plus `--ca-file`'s, else with no roots.
    fn build(&self, verified: bool) -> Result<reqwest::Client> {
        let internal =
            |e: reqwest::Error| Error::Internal(format!("cannot build the HTTP client: {e}"));
        if !verified {
            return self
                .builder()
                .tls_certs_only(Vec::new())
                .build()
                .map_err(internal);
        }
        let override_vars = ca::roots_override();
        if let Some(vars) = &override_vars {
            messages::trace(&format!(
                "TLS: trusting the roots of {vars} instead of the system's{}",
                if self.roots.is_empty() {
                    ""
                } else {
                    ", plus --ca-file's"
                }
            ));
        }
        let mut builder = self.builder();
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        match builder.build() {
            Ok(client) => Ok(client),
            // The platform verifier refuses to start with no root at all (an empty or
            // missing SSL_CERT_FILE, a system without CA certificates): the trust that
            // leaves is --ca-file's alone, so that is what graphd uses, and says so.
            Err(e) if no_roots_found(&e) => {
                let from = override_vars.unwrap_or_else(|| "the system".to_string());
                messages::warn(&format!(
                    "no trusted root certificate in {from}: only --ca-file's are trusted{}",
                    if self.roots.is_empty() {
                        " (none given), so no https:// server is"
                    } else {
                        ""
                    }
                ));
                self.builder()
                    .tls_certs_only(self.roots.iter().cloned())
                    .build()
                    .map_err(internal)
            }
            Err(e) => Err(internal(e)),
        }
    }
}

/// A response header as text.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    header_text(resp.headers(), name)
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
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

/// Reads a body of at most `limit` bytes into zeroizing memory (token responses hold
/// tokens) that is never reallocated unwiped (`body`); `None` when it is larger, which a
/// `Content-Length` can tell before reading.
async fn read_body(
    resp: Response,
    limit: usize,
) -> Result<Option<Zeroizing<Vec<u8>>>, reqwest::Error> {
    Ok(body::read(resp, limit)
        .await?
        .map(body::BodyBuffer::into_inner))
}

/// Reads a response body of at most `limit` bytes into zeroizing memory; `Err(())` when it is
/// larger. A broken connection is `Error::Network` (not retried: see [`Http::fetch`]).
pub async fn body_limited(resp: Response, limit: usize) -> Result<Result<Zeroizing<Vec<u8>>, ()>> {
    let host = host_of(resp.url());
    match read_body(resp, limit).await {
        Ok(Some(body)) => Ok(Ok(body)),
        Ok(None) => Ok(Err(())),
        Err(e) => {
            let (kind, detail) = failure::classify(&e, None);
            Err(Error::Network {
                host,
                kind,
                detail,
                attempts: 1,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_proxy_url_and_no_body() {
        let http = Http {
            roots: Vec::new(),
            proxies: vec![(
                "HTTPS_PROXY",
                reqwest::Proxy::https("http://user:hunter2@proxy.example:3128").unwrap(),
            )],
            timeout: Duration::from_secs(1),
            max_retries: 0,
            client: OnceLock::new(),
            plain: OnceLock::new(),
        };
        http.client_for(&Url::parse("https://graph.microsoft.com").unwrap())
            .unwrap();
        let shown = format!("{http:?}");
        assert!(
            shown.contains("HTTPS_PROXY") && !shown.contains("hunter2"),
            "{shown}"
        );
        let fetched = Fetched {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Some(Zeroizing::new(b"{\"access_token\":\"secret\"}".to_vec())),
        };
        assert!(!format!("{fetched:?}").contains("secret"));
    }
}
