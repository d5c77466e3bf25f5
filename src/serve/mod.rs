//! `graphd serve`: one process holds the app's credential and hands out its access tokens on
//! a loopback endpoint speaking the App Service managed identity protocol
//! (docs/protocol.md#app-service-managed-identity), so azure-identity, MSAL and `az` in the
//! same job get tokens with `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` and never see the key.
//!
//! - `guard`: who may ask (method, loopback `Host`, no browser, the secret header);
//! - `protocol`: the query, the resources served, the answer bodies;
//! - `cache`: tokens by resource, refreshed ahead of expiry, single flight;
//! - `server`: hyper on 127.0.0.1 with bounded requests and connections, graceful stop.
//!
//! Tokens come from [`token::request`] for the one [`Identity`]: whatever proof it holds
//! (certificate, federated token, a key in a PKCS#11 token) is invisible here. Nothing in
//! this module tree logs a token or the identity header; the `-v` access log names method,
//! path (never the query), status, resource and latency.

pub mod cache;
pub mod guard;
pub mod protocol;
mod server;

use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::{Request, Response};
use zeroize::Zeroizing;

use self::cache::{Failure, Fresh, Lookup, TokenCache};
use self::guard::Guard;
use self::protocol::{Allowed, Refusal, TokenQuery};
use crate::error::{ConfigProblem, Error, Result, io_reason, printable};
use crate::http::Http;
use crate::identity::Identity;
use crate::secret::IdentityHeader;
use crate::{messages, token};

pub use server::run;

/// What `graphd serve` needs to answer: the identity's tokens, the resources it may hand them
/// out for, and the checks on who asks.
#[derive(Debug)]
pub struct Service {
    guard: Guard,
    allowed: Allowed,
    cache: Arc<TokenCache>,
    client_id: String,
    identity: Arc<Identity>,
    http: Arc<Http>,
}

/// A loopback listener and what clients are told about it.
#[derive(Debug)]
pub struct Endpoint {
    listener: StdListener,
    /// `http://127.0.0.1:PORT/msi/token`: `IDENTITY_ENDPOINT`.
    pub url: String,
    pub port: u16,
}

impl Endpoint {
    /// Listens on 127.0.0.1:`port` (0: a free port). Loopback only: whoever reaches the port
    /// and knows the header gets tokens.
    pub fn bind(port: u16) -> Result<Endpoint> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = StdListener::bind(addr).map_err(|e| {
            Error::Config(ConfigProblem::Listen {
                addr: addr.to_string(),
                reason: io_reason(&e),
            })
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::Internal(format!("listener: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("listener: {e}")))?
            .port();
        Ok(Endpoint {
            listener,
            url: format!("http://127.0.0.1:{port}{}", guard::PATH),
            port,
        })
    }
}

impl Service {
    /// The service for `identity` on `port`, answering for the `allowed` resources with the
    /// `secret` header. Tokens are fetched with `http`, on the caller's runtime.
    pub fn new(
        identity: Arc<Identity>,
        http: Arc<Http>,
        allowed: Allowed,
        port: u16,
        secret: IdentityHeader,
    ) -> Arc<Service> {
        let client_id = identity.app().client_id.clone();
        let (for_fetch, http_for_fetch) = (Arc::clone(&identity), Arc::clone(&http));
        let fetch: cache::Fetch = Box::new(move |resource: &str| {
            let (identity, http) = (Arc::clone(&for_fetch), Arc::clone(&http_for_fetch));
            let resource = resource.to_string();
            Box::pin(async move { fetch(&http, &identity, &resource).await })
        });
        Arc::new(Service {
            guard: Guard::new(port, secret),
            allowed,
            cache: TokenCache::new(fetch),
            client_id,
            identity,
            http,
        })
    }

    /// The resources served, as configured.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.allowed.list()
    }

    /// Gets the first served resource's token into the cache, so that a credential or
    /// registration problem is the command's error (its exit code and hint) before anyone is
    /// told where the endpoint is.
    pub async fn warm(&self) -> Result<()> {
        let Some(resource) = self.allowed.list().next() else {
            return Ok(());
        };
        let scope = format!("{resource}/.default");
        let t = token::request(&self.http, &self.identity, &scope).await?;
        messages::trace(&format!(
            "serve: first token for {resource}, expires in {} s",
            t.expires_in
        ));
        self.cache.seed(
            resource,
            Fresh {
                token: t.access_token,
                expires_in: t.expires_in,
                expires_on: t.expires_on,
            },
        );
        Ok(())
    }

    /// Answers one request; the access log line is written by the caller.
    async fn answer<B>(self: &Arc<Self>, req: &Request<B>) -> Answer {
        if let Err(refusal) = self.guard.check(req.method(), req.uri(), req.headers()) {
            return Answer::refused(refusal, None);
        }
        let query = match TokenQuery::parse(req.uri().query(), &self.client_id) {
            Ok(q) => q,
            Err(refusal) => return Answer::refused(refusal, None),
        };
        let Some(resource) = self.allowed.find(&query.resource) else {
            let refusal = self.allowed.refuse(&query.resource);
            return Answer::refused(refusal, Some(printable(&query.resource, 200)));
        };
        let resource = resource.to_string();
        match self.cache.get(&resource).await {
            Lookup::Token(t) => Answer {
                status: 200,
                body: Body::Secret(protocol::token_body(
                    &t.token,
                    t.expires_on,
                    &query.resource,
                    &self.client_id,
                )),
                resource: Some(resource),
                correlation_id: None,
            },
            Lookup::Failed(f) => Answer::refused(
                Refusal::new(
                    500,
                    format!("graphd could not get a token for {resource}: {}", f.message),
                ),
                Some(resource),
            ),
        }
    }
}

/// Gets a token for `resource` (`<resource>/.default`), logging the outcome (never the token).
async fn fetch(
    http: &Http,
    identity: &Identity,
    resource: &str,
) -> std::result::Result<Fresh, Failure> {
    let started = Instant::now();
    match token::request(http, identity, &format!("{resource}/.default")).await {
        Ok(t) => {
            messages::trace(&format!(
                "serve: new token for {resource}, expires in {} s ({} ms)",
                t.expires_in,
                started.elapsed().as_millis()
            ));
            Ok(Fresh {
                token: t.access_token,
                expires_in: t.expires_in,
                expires_on: t.expires_on,
            })
        }
        Err(e) => {
            let message = e.to_string();
            // At most once per resource per cache::FAILURE_HOLD: CI logs should show it.
            messages::warn(&format!("serve: no token for {resource}: {message}"));
            if let Some(hint) = e.hint() {
                messages::trace(&format!("serve: hint: {hint}"));
            }
            Err(Failure { message })
        }
    }
}

/// A response body: a token answer (zeroized when hyper is done with it) or an error.
enum Body {
    Secret(Zeroizing<Vec<u8>>),
    Plain(Vec<u8>),
}

/// An answer before it becomes a hyper response.
struct Answer {
    status: u16,
    body: Body,
    /// For the access log.
    resource: Option<String>,
    correlation_id: Option<String>,
}

impl Answer {
    fn refused(refusal: Refusal, resource: Option<String>) -> Answer {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        Answer {
            status: refusal.status,
            body: Body::Plain(protocol::error_body(
                refusal.status,
                &refusal.message,
                &correlation_id,
            )),
            resource,
            correlation_id: Some(correlation_id),
        }
    }

    fn into_response(self) -> Response<http_body_util::Full<Bytes>> {
        let bytes = match self.body {
            // The buffer is wiped when the last reference to it goes.
            Body::Secret(b) => Bytes::from_owner(SecretBytes(b)),
            Body::Plain(b) => Bytes::from(b),
        };
        let mut builder = Response::builder()
            .status(self.status)
            .header("content-type", "application/json; charset=utf-8")
            .header("cache-control", "no-store")
            .header("pragma", "no-cache");
        if self.status == 405 {
            builder = builder.header("allow", "GET");
        }
        // Status, header names and values are constants: building cannot fail.
        builder
            .body(http_body_util::Full::new(bytes))
            .unwrap_or_default()
    }
}

/// Owner of a token body inside `Bytes`.
struct SecretBytes(Zeroizing<Vec<u8>>);

impl AsRef<[u8]> for SecretBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
