//! The retry loop every request goes through: `Http::send` and `Http::fetch` send the request
//! a caller builds (afresh for each attempt, so each carries a new assertion), retry what
//! `retry` calls transient (connect and read failures, timeouts, 429, 5xx) after the wait
//! `Retry-After` asks for or a backoff, and turn what outlasts the retries into
//! `Error::Network` (exit 6). `-v` traces each attempt: method, host, path, status, request
//! ids and waits.
//!
//! It never traces a body, a header value other than the request ids, or a query string
//! (`messages::redact_url`), and never retries a TLS failure or waits longer than
//! [`MAX_RETRY_AFTER`].

use std::time::Duration;

use reqwest::Response;
use reqwest::header::HeaderMap;
use url::Url;

use super::{
    Fetched, Http, MAX_RETRY_AFTER, failure, header, header_text, host_of, is_transient, read_body,
    retry,
};
use crate::error::{Error, NetworkKind, Result};
use crate::messages;

impl Http {
    /// Sends the request `build` makes (called afresh for every attempt, so a new assertion
    /// goes with each), retrying transient failures.
    ///
    /// Returns the first response that is not transient; transient failures that outlast the
    /// retries become `Error::Network` (exit 6). The body is the caller's to read.
    pub async fn send(
        &self,
        url: &Url,
        mut build: impl FnMut(&reqwest::Client) -> Result<reqwest::RequestBuilder>,
    ) -> Result<Response> {
        let mut attempt = 0;
        self.send_counted(url, &mut build, &mut attempt).await
    }

    /// As [`send`](Self::send), and reads the body (at most `limit` bytes) within the same
    /// retry budget: a connection that breaks while the body arrives is a transient failure
    /// too.
    pub async fn fetch(
        &self,
        url: &Url,
        mut build: impl FnMut(&reqwest::Client) -> Result<reqwest::RequestBuilder>,
        limit: usize,
    ) -> Result<Fetched> {
        let mut attempt = 0;
        loop {
            let resp = self.send_counted(url, &mut build, &mut attempt).await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            match read_body(resp, limit).await {
                Ok(body) => {
                    return Ok(Fetched {
                        status,
                        headers,
                        body,
                    });
                }
                Err(e) => {
                    let (kind, detail) = failure::classify(&e, Some(self.timeout));
                    messages::trace(&format!("reading the answer failed: {detail}"));
                    if attempt > self.max_retries || kind == NetworkKind::Tls {
                        return Err(Error::Network {
                            host: host_of(url),
                            kind,
                            detail,
                            attempts: attempt,
                        });
                    }
                    self.pause(retry::backoff(attempt), "backoff", attempt)
                        .await;
                }
            }
        }
    }

    /// The retry loop; `attempt` counts attempts across calls (see `fetch`).
    async fn send_counted(
        &self,
        url: &Url,
        build: &mut impl FnMut(&reqwest::Client) -> Result<reqwest::RequestBuilder>,
        attempt: &mut u32,
    ) -> Result<Response> {
        let client = self.client_for(url)?;
        let host = host_of(url);
        loop {
            *attempt += 1;
            let request_id = uuid::Uuid::new_v4().to_string();
            let request = build(client)?
                .header("client-request-id", &request_id)
                .header("return-client-request-id", "true")
                .build()
                .map_err(|e| {
                    Error::Internal(format!(
                        "cannot build the request: {}",
                        failure::text_without_url(&e)
                    ))
                })?;
            let shown = format!(
                "{} {}",
                request.method(),
                messages::redact_url(request.url())
            );
            let retries_left = *attempt <= self.max_retries;
            match client.execute(request).await {
                Ok(resp) => {
                    let status = resp.status();
                    messages::trace(&format!(
                        "{shown} -> {status} (client-request-id {request_id}{})",
                        server_ids(resp.headers())
                    ));
                    if !is_transient(status) {
                        return Ok(resp);
                    }
                    let date = header(&resp, "date");
                    let asked = header(&resp, "retry-after").and_then(|v| {
                        retry::parse_retry_after(&v, retry::server_now(date.as_deref()))
                    });
                    let fail = |detail: String| Error::Network {
                        host: host.clone(),
                        kind: NetworkKind::Server,
                        detail,
                        attempts: *attempt,
                    };
                    if let Some(wait) = asked.filter(|w| *w > MAX_RETRY_AFTER) {
                        return Err(fail(format!(
                            "HTTP {status}, and it asked to wait {} s before retrying (graphd waits up to {} s)",
                            wait.as_secs_f64().ceil(),
                            MAX_RETRY_AFTER.as_secs()
                        )));
                    }
                    if !retries_left {
                        return Err(fail(format!("HTTP {status}")));
                    }
                    drop(resp);
                    match asked {
                        Some(wait) => self.pause(wait, "Retry-After", *attempt).await,
                        None => {
                            self.pause(retry::backoff(*attempt), "backoff", *attempt)
                                .await
                        }
                    }
                }
                Err(e) => {
                    let (kind, mut detail) = failure::classify(&e, Some(self.timeout));
                    messages::trace(&format!("{shown} -> {detail}"));
                    if kind != NetworkKind::Timeout && !crate::cloud::is_loopback(url) {
                        let applies = |var: &&str| {
                            url.scheme() == "http" || !var.eq_ignore_ascii_case("http_proxy")
                        };
                        if let Some((var, _)) = self.proxies.iter().find(|(v, _)| applies(v)) {
                            // The failure may be the proxy's: say one is in play.
                            detail.push_str(&format!(" ({var} is set)"));
                        }
                    }
                    if !retries_left || kind == NetworkKind::Tls {
                        return Err(Error::Network {
                            host,
                            kind,
                            detail,
                            attempts: *attempt,
                        });
                    }
                    self.pause(retry::backoff(*attempt), "backoff", *attempt)
                        .await;
                }
            }
        }
    }

    /// Waits before the next attempt, saying so under `-v`.
    async fn pause(&self, wait: Duration, why: &str, attempt: u32) {
        messages::trace(&format!(
            "retrying in {:.3} s ({why}); attempt {} of {}",
            wait.as_secs_f64(),
            attempt + 1,
            self.max_retries + 1
        ));
        tokio::time::sleep(wait).await;
    }
}

/// `, request-id X` / `, x-ms-request-id X` for the ids the server sent (Graph sends the
/// first, Entra the second), for `-v` traces and support cases.
fn server_ids(headers: &HeaderMap) -> String {
    ["request-id", "x-ms-request-id"]
        .iter()
        .filter_map(|name| header_text(headers, name).map(|v| format!(", {name} {v}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_name_each_header() {
        let mut h = HeaderMap::new();
        assert_eq!(server_ids(&h), "");
        h.insert("x-ms-request-id", "abc".parse().unwrap());
        assert_eq!(server_ids(&h), ", x-ms-request-id abc");
    }
}
