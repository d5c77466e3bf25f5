//! Microsoft Graph GETs with paging (docs/protocol.md#paging), and the few POSTs graphd sends
//! (`addKey`, `removeKey`): the bearer token goes only to the configured
//! Graph origin, `@odata.nextLink` is followed verbatim after an origin check, throttling is
//! retried on the same page (never restarting the listing), and an expired token mid-listing
//! is replaced once.
//!
//! Pages are parsed into borrowed raw items, so memory stays one page deep however many
//! users there are, and items reach the output without being re-encoded.

use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use crate::client::Client;
use crate::error::{Error, GraphFailure, GraphHintContext, Result, UsageProblem};
use crate::http;
use crate::token::Token;

/// The largest page body graphd accepts (999 users with many `$select`ed properties is ~2 MiB).
pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;

/// One page of a collection, borrowing from the body.
#[derive(Deserialize)]
pub struct Page<'a> {
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.count")]
    pub count: Option<u64>,
    /// The last page of a delta round: where the next round starts
    /// (<https://learn.microsoft.com/graph/delta-query-overview>).
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
    /// Required: an answer without it is not a collection page (a single object, say), and
    /// must not pass for an empty one.
    #[serde(borrow)]
    pub value: Vec<&'a RawValue>,
}

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

    #[allow(clippy::too_many_arguments)]
    fn failure(
        &self,
        method: &'static str,
        status: u16,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        url: &Url,
        hint: Option<String>,
    ) -> Error {
        let hint = hint.or_else(|| self.hint_for(status, code.as_deref(), message.as_deref(), url));
        Error::Graph(Box::new(GraphFailure {
            method,
            status,
            code,
            message,
            request_id,
            path: url.path().to_string(),
            hint,
        }))
    }

    fn hint_for(
        &self,
        status: u16,
        code: Option<&str>,
        message: Option<&str>,
        url: &Url,
    ) -> Option<String> {
        let consent_url = crate::consent::url(self.client.identity.app(), false, None);
        GraphFailure::hint_for(
            status,
            code,
            &GraphHintContext {
                path: url.path(),
                query: url.query(),
                message,
                graph_origin: &self.base.origin().ascii_serialization(),
                consent_url: consent_url.as_str(),
            },
        )
    }

    /// Fetches `first` and every page after it, calling `each` with every page until there is
    /// no `@odata.nextLink` or `each` breaks. Returns the number of pages fetched.
    pub async fn pages(
        &mut self,
        first: Url,
        eventual: bool,
        mut each: impl FnMut(&Page<'_>) -> Result<ControlFlow<()>>,
    ) -> Result<u64> {
        let mut loops = LoopGuard::new(&first);
        let mut url = first;
        let mut pages = 0u64;
        loop {
            let body = self.get(&url, eventual).await?;
            pages += 1;
            let page: Page<'_> = serde_json::from_slice(&body).map_err(|e| {
                self.failure(
                    "GET",
                    200,
                    None,
                    Some(format!("a page that is not a Graph collection ({e})")),
                    None,
                    &url,
                    Some(GraphFailure::not_a_collection_hint()),
                )
            })?;
            if each(&page)?.is_break() {
                return Ok(pages);
            }
            let Some(next) = &page.next_link else {
                return Ok(pages);
            };
            let next = Url::parse(next).map_err(|e| {
                self.failure(
                    "GET",
                    200,
                    None,
                    Some(format!("an @odata.nextLink that is not a URL ({e})")),
                    None,
                    &url,
                    None,
                )
            })?;
            // Checked before any request, so the token never reaches another host.
            self.check_origin(&next)?;
            if next == url || !loops.step(&next) {
                return Err(self.failure(
                    "GET",
                    200,
                    None,
                    Some("an @odata.nextLink leading back to a page already fetched".into()),
                    None,
                    &url,
                    Some(GraphFailure::looping_next_link_hint()),
                ));
            }
            url = next;
        }
    }
}

fn not_a_path(given: &str, e: url::ParseError) -> Error {
    Error::Usage(UsageProblem::NotAGraphPathOrUrl {
        given: given.to_string(),
        why: e.to_string(),
    })
}

/// Notices a chain of nextLinks that loops, in constant memory (Brent's cycle detection): a
/// remembered link jumps ahead to the current one at every power of two steps, so a loop of
/// any length is noticed within a few laps, and listing a million pages keeps one URL.
struct LoopGuard {
    mark: Url,
    power: u64,
    steps: u64,
}

impl LoopGuard {
    fn new(first: &Url) -> Self {
        LoopGuard {
            mark: first.clone(),
            power: 1,
            steps: 0,
        }
    }

    /// Takes the next link; `false` when it is the remembered one: the chain loops.
    fn step(&mut self, next: &Url) -> bool {
        if *next == self.mark {
            return false;
        }
        self.steps += 1;
        if self.steps == self.power {
            self.mark = next.clone();
            self.power = self.power.saturating_mul(2);
            self.steps = 0;
        }
        true
    }
}

/// Same scheme, host and port (with the scheme's default port filled in).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `code`, `message` and `innerError.request-id` of a Graph error body (docs/protocol.md#graph-errors).
fn parse_error(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: Option<String>,
        message: Option<String>,
        #[serde(rename = "innerError")]
        inner: Option<InnerError>,
    }
    #[derive(Deserialize)]
    struct InnerError {
        #[serde(rename = "request-id")]
        request_id: Option<String>,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(b) => (
            b.error.code,
            b.error.message.map(|m| one_line(&m)),
            b.error.inner.and_then(|i| i.request_id),
        ),
        Err(_) => (None, None, None),
    }
}

/// A server-supplied message on one line, bounded.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        format!("{}...", flat.chars().take(300).collect::<String>())
    } else {
        flat
    }
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

    #[test]
    fn looping_next_links_are_noticed() {
        let url = |i: usize| Url::parse(&format!("https://g/v1.0/users?$skiptoken={i}")).unwrap();
        // A chain of `tail` pages, then a loop of `cycle` pages: stopped in time linear in both.
        for tail in 0..6 {
            for cycle in 1..40 {
                let at = |k: usize| {
                    url(if k < tail {
                        k
                    } else {
                        tail + (k - tail) % cycle
                    })
                };
                let mut guard = LoopGuard::new(&at(0));
                let stopped = (1..10_000).find(|k| !guard.step(&at(*k)));
                let k = stopped.unwrap_or_else(|| panic!("tail {tail}, loop {cycle}"));
                assert!(
                    k <= 2 * (tail + cycle) + cycle,
                    "tail {tail}, loop {cycle}: {k} steps"
                );
            }
        }
        // A chain without a loop is never stopped.
        let mut guard = LoopGuard::new(&url(0));
        assert!((1..100_000).all(|k| guard.step(&url(k))));
    }

    #[test]
    fn pages_borrow_raw_items() {
        let body = br#"{"@odata.context":"x","@odata.count":2,"value":[{"id":"1"},{"id":"2","a":[1,2]}],"@odata.nextLink":"https://g/v1.0/users?$skiptoken=a"}"#;
        let p: Page<'_> = serde_json::from_slice(body).unwrap();
        assert_eq!(p.value.len(), 2);
        assert_eq!(p.value[1].get(), r#"{"id":"2","a":[1,2]}"#);
        assert_eq!(p.count, Some(2));
        assert!(p.next_link.is_some());
        let empty: Page<'_> = serde_json::from_slice(br#"{"value":[]}"#).unwrap();
        assert!(empty.value.is_empty() && empty.next_link.is_none());
        // A single object is not an empty page.
        assert!(serde_json::from_slice::<Page<'_>>(br#"{"id":"1","displayName":"A"}"#).is_err());
        assert!(serde_json::from_slice::<Page<'_>>(br#"{"value":null}"#).is_err());
    }

    #[test]
    fn graph_errors() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges\n to complete the operation.","innerError":{"date":"2024-01-01T00:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
        let (code, message, id) = parse_error(body);
        assert_eq!(code.as_deref(), Some("Authorization_RequestDenied"));
        assert_eq!(
            message.as_deref(),
            Some("Insufficient privileges to complete the operation.")
        );
        assert_eq!(id.as_deref(), Some("r-1"));
        assert_eq!(parse_error(b"<html>"), (None, None, None));
    }
}
