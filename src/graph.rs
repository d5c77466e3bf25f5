//! Microsoft Graph GETs with paging (docs/protocol.md#paging), and the few POSTs graphd sends
//! (`addKey`, `removeKey`): the bearer token goes only to the configured
//! Graph origin, `@odata.nextLink` is followed verbatim after an origin check, throttling is
//! retried on the same page (never restarting the listing), and an expired token mid-listing
//! is replaced once.
//!
//! Pages are parsed into borrowed raw items, so memory stays one page deep however many
//! users there are, and items reach the output without being re-encoded (`paging`); Graph's
//! error bodies become `GraphFailure`s with a hint (`errors`).

mod errors;
mod paging;

use url::Url;

use crate::client::Client;
use crate::error::{Error, Result, UsageProblem};
use crate::http;
use crate::token::Token;
use errors::parse_error;

pub use paging::Page;

/// The largest page body graphd accepts (999 users with many `$select`ed properties is ~2 MiB).
pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;

/// A Graph client for one command.
pub struct Graph<'a> {
    client: &'a Client,
    base: Url,
    token: Option<Token>,
    prefer: Option<String>,
}

impl<'a> Graph<'a> {
    /// Graph at the client's configured endpoint, with the client's tokens.
    pub fn new(client: &'a Client) -> Self {
        Graph {
            client,
            base: client.net.graph.clone(),
            token: None,
            prefer: None,
        }
    }

    /// Sends `Prefer: {value}` with every request, next pages included: Graph does not carry
    /// request headers into an `@odata.nextLink` (<https://learn.microsoft.com/graph/paging>).
    pub fn prefer(&mut self, value: impl Into<String>) {
        self.prefer = Some(value.into());
    }

    /// A path (`/v1.0/users`, `v1.0/users`, `users`) or a URL, as a URL on the Graph origin.
    pub fn resolve(&self, path_or_url: &str) -> Result<Url> {
        let text = path_or_url.trim();
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        let url = if lower.starts_with("https://") || lower.starts_with("http://") {
            Url::parse(text).map_err(|e| not_a_path(text, e))?
        } else {
            let path = text.trim_start_matches('/');
            let path = if path.starts_with("v1.0/")
                || path.starts_with("beta/")
                || path == "v1.0"
                || path == "beta"
            {
                path.to_string()
            } else {
                format!("v1.0/{path}")
            };
            Url::parse(&format!("{}/{path}", crate::cloud::base_str(&self.base)))
                .map_err(|e| not_a_path(text, e))?
        };
        self.check_origin(&url)?;
        Ok(url)
    }

    /// Refuses any URL whose scheme, host or port is not the Graph endpoint's.
    pub fn check_origin(&self, url: &Url) -> Result<()> {
        if same_origin(url, &self.base) {
            Ok(())
        } else {
            Err(Error::ForeignOrigin {
                url_host: url.origin().ascii_serialization(),
                graph_origin: self.base.origin().ascii_serialization(),
            })
        }
    }

    async fn bearer(&mut self, fresh: bool) -> Result<String> {
        if fresh || self.token.is_none() {
            self.token = Some(self.client.token(fresh).await?);
        }
        Ok(self
            .token
            .as_ref()
            .map(|t| t.access_token.expose_secret().to_string())
            .unwrap_or_default())
    }

    /// GETs `url` (already origin-checked) and returns the body of a 2xx answer; a 401 for an
    /// expired token is retried once with a fresh token.
    pub async fn get(&mut self, url: &Url, eventual: bool) -> Result<Vec<u8>> {
        self.exchange(url, eventual, None).await
    }

    /// POSTs a JSON body to `url` (already origin-checked), for Graph's actions (`addKey`,
    /// `removeKey`), and returns the body of a 2xx answer (empty for a 204). Same policy as
    /// [`get`](Self::get): the bearer goes to the Graph origin only, transient failures are
    /// retried, errors become `GraphFailure`. The caller keeps `body` in zeroizing memory;
    /// the copy each attempt hands to reqwest cannot be wiped (SECURITY.md says so).
    pub async fn post_json(&mut self, url: &Url, body: &[u8]) -> Result<Vec<u8>> {
        self.exchange(url, false, Some(body)).await
    }

    /// One request with the token policy: GET without `body`, POST with it.
    async fn exchange(
        &mut self,
        url: &Url,
        eventual: bool,
        body: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let method = if body.is_some() { "POST" } else { "GET" };
        let mut refreshed = false;
        loop {
            let bearer = zeroize::Zeroizing::new(self.bearer(refreshed).await?);
            let resp = self
                .client
                .http
                .send(url, |client| {
                    let mut req = match body {
                        Some(b) => client
                            .post(url.clone())
                            .header("content-type", "application/json")
                            .body(b.to_vec()),
                        None => client.get(url.clone()),
                    }
                    .bearer_auth(bearer.as_str())
                    .header("accept", "application/json");
                    if eventual {
                        req = req.header("ConsistencyLevel", "eventual");
                    }
                    if let Some(prefer) = &self.prefer {
                        req = req.header("prefer", prefer.as_str());
                    }
                    Ok(req)
                })
                .await?;
            let status = resp.status();
            let request_id = http::header(&resp, "request-id");
            let location = http::header(&resp, "location");
            let body = http::body_limited(resp, MAX_PAGE_BYTES)
                .await?
                .map_err(|()| {
                    self.failure(
                        method,
                        status.as_u16(),
                        None,
                        Some("the response is larger than 64 MiB".into()),
                        request_id.clone(),
                        url,
                        None,
                    )
                })?;
            if status.is_success() {
                return Ok(body.to_vec());
            }
            let (code, message, inner_id) = parse_error(&body);
            if status.as_u16() == 401
                && code.as_deref() == Some("InvalidAuthenticationToken")
                && !refreshed
            {
                crate::messages::trace(
                    "Graph refused the token (401); getting a fresh one and retrying",
                );
                refreshed = true;
                continue;
            }
            let message = match (message, status.is_redirection(), location) {
                (None, true, Some(loc)) => Some(format!(
                    "a redirect to {} (graphd does not follow redirects: the token must not travel)",
                    Url::parse(&loc)
                        .map(|u| u.origin().ascii_serialization())
                        .unwrap_or(loc)
                )),
                (m, ..) => m,
            };
            return Err(self.failure(
                method,
                status.as_u16(),
                code,
                message,
                inner_id.or(request_id),
                url,
                None,
            ));
        }
    }
}

fn not_a_path(given: &str, e: url::ParseError) -> Error {
    Error::Usage(UsageProblem::NotAGraphPathOrUrl {
        given: given.to_string(),
        why: e.to_string(),
    })
}

/// Same scheme, host and port (with the scheme's default port filled in).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let g = Url::parse("https://graph.microsoft.com").unwrap();
        assert!(same_origin(
            &Url::parse("https://graph.microsoft.com/v1.0/users?$skiptoken=x").unwrap(),
            &g
        ));
        assert!(same_origin(
            &Url::parse("https://GRAPH.microsoft.com:443/v1.0").unwrap(),
            &g
        ));
        assert!(!same_origin(
            &Url::parse("http://graph.microsoft.com/v1.0").unwrap(),
            &g
        ));
        assert!(!same_origin(
            &Url::parse("https://graph.microsoft.com:8443/v1.0").unwrap(),
            &g
        ));
        assert!(!same_origin(
            &Url::parse("https://graph.microsoft.com.evil.net/v1.0").unwrap(),
            &g
        ));
        assert!(!same_origin(
            &Url::parse("https://evil.net/graph.microsoft.com").unwrap(),
            &g
        ));
    }
}
