//! The client-credentials token request with a certificate assertion (facts §3).
//!
//! Form fields exactly as Microsoft documents them (facts §3.2); a fresh assertion for every
//! attempt; the response body is read into zeroizing memory with a 1 MiB cap and deserialized
//! straight into `AccessToken`. Entra's errors become `TokenRefusal`, whose hint names what to
//! fix. Nothing here logs a body: success bodies hold the token.

use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use crate::clock;
use crate::error::{EntraError, Error, RefusalContext, Result, TokenRefusal};
use crate::http::{self, Http};
use crate::secret::AccessToken;
use crate::signer::Signer;

/// The cap on token response bodies (issue 4): a token response is a few KiB.
pub const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An access token and when it expires.
#[derive(Debug, Clone)]
pub struct Token {
    pub access_token: AccessToken,
    pub token_type: String,
    pub expires_in: i64,
    /// Unix seconds: local receipt time + `expires_in`.
    pub expires_on: i64,
    pub ext_expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct Success {
    access_token: Option<AccessToken>,
    token_type: Option<String>,
    expires_in: Option<Seconds>,
    ext_expires_in: Option<Seconds>,
}

/// `expires_in` as a number or a numeric string (MSAL-GO tolerates both, facts §3.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(i64),
    Text(String),
}

impl Seconds {
    fn get(&self) -> Option<i64> {
        match self {
            Seconds::Number(n) => Some(*n),
            Seconds::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// Requests an app-only token for `scope` from the signer's tenant.
pub async fn request(http: &Http, signer: &Signer, scope: &str) -> Result<Token> {
    let endpoint = signer.app.token_endpoint();
    let url =
        Url::parse(&endpoint).map_err(|e| Error::Internal(format!("token endpoint URL: {e}")))?;
    let resp = http
        .send(&url, || {
            let assertion = signer.assertion()?;
            let body = Zeroizing::new(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("client_id", &signer.app.client_id)
                    .append_pair("scope", scope)
                    .append_pair("client_assertion_type", ASSERTION_TYPE)
                    .append_pair("client_assertion", assertion.expose_secret())
                    .append_pair("grant_type", "client_credentials")
                    .finish(),
            );
            Ok(http
                .client()
                .post(url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(body.as_bytes().to_vec()))
        })
        .await?;
    let status = resp.status();
    let server_date = http::header(&resp, "date");
    let html = http::header(&resp, "content-type").is_some_and(|c| c.contains("html"));
    let host = http::host_of(&url);
    let body = http::body_limited(resp, MAX_TOKEN_RESPONSE)
        .await?
        .map_err(|()| Error::TokenResponse {
            host: host.clone(),
            status: status.as_u16(),
            problem: "a body larger than 1 MiB".into(),
        })?;
    let bad = |problem: &str| Error::TokenResponse {
        host: host.clone(),
        status: status.as_u16(),
        problem: problem.into(),
    };
    if !status.is_success() {
        let entra: EntraError = serde_json::from_slice(&body)
            .ok()
            .filter(|e: &EntraError| !e.error.is_empty() || e.code().is_some())
            .ok_or_else(|| {
                bad(if html {
                    "an HTML page, not an Entra error"
                } else {
                    "a body that is not an Entra error"
                })
            })?;
        return Err(Error::TokenRefused(Box::new(TokenRefusal {
            status: status.as_u16(),
            entra,
            context: refusal_context(signer, &host, server_date),
        })));
    }
    let parsed: Success = serde_json::from_slice(&body).map_err(|_| {
        bad(if html {
            "an HTML page instead of a token response"
        } else {
            "a body that is not a JSON token response"
        })
    })?;
    let access_token = parsed
        .access_token
        .ok_or_else(|| bad("a JSON body without access_token"))?;
    if access_token.expose_secret().trim().is_empty() {
        return Err(bad("an empty access_token"));
    }
    let token_type = parsed.token_type.unwrap_or_default();
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(bad(&format!("token_type {token_type:?}, not Bearer")));
    }
    let expires_in = parsed
        .expires_in
        .as_ref()
        .and_then(Seconds::get)
        .filter(|s| *s > 0)
        .ok_or_else(|| bad("no usable expires_in"))?;
    Ok(Token {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        expires_on: clock::now_unix() + expires_in,
        ext_expires_in: parsed.ext_expires_in.as_ref().and_then(Seconds::get),
    })
}

fn refusal_context(signer: &Signer, host: &str, server_date: Option<String>) -> RefusalContext {
    let t = signer.credential.thumbprints();
    RefusalContext {
        host: host.to_string(),
        tenant: signer.app.tenant.clone(),
        client_id: signer.app.client_id.clone(),
        thumbprint_hex: Some(t.sha1_hex()),
        x5t_s256: t.x5t_s256(),
        cert_path: Some(signer.credential.path().to_path_buf()),
        local_time: Some(clock::rfc3339(clock::now_unix())),
        server_time: server_date
            .and_then(|d| httpdate::parse_http_date(&d).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| clock::rfc3339(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))),
    }
}

/// `graphd token --json`: the response fields plus `expires_on`, in zeroizing memory.
pub fn to_json(token: &Token) -> Zeroizing<String> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        token_type: &'a str,
        expires_in: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        ext_expires_in: Option<i64>,
        expires_on: i64,
        access_token: &'a str,
    }
    let out = Out {
        token_type: &token.token_type,
        expires_in: token.expires_in,
        ext_expires_in: token.ext_expires_in,
        expires_on: token.expires_on,
        access_token: token.access_token.expose_secret(),
    };
    let mut buf = Zeroizing::new(Vec::with_capacity(4096));
    // Writing a struct of strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer_pretty(&mut *buf, &out);
    Zeroizing::new(String::from_utf8_lossy(&buf).into_owned())
}

/// Where tokens come from for one command: the cache when it has a fresh one, else the
/// token service (and then the cache is updated).
pub struct TokenSource<'a> {
    pub http: &'a Http,
    pub signer: &'a Signer,
    pub scope: &'a str,
    pub cache: Option<crate::cache::TokenCache>,
}

impl TokenSource<'_> {
    fn cache_key(&self) -> crate::cache::CacheKey {
        crate::cache::CacheKey {
            authority: crate::cloud::base_str(&self.signer.app.authority),
            tenant: self.signer.app.tenant.clone(),
            client_id: self.signer.app.client_id.clone(),
            scope: self.scope.to_string(),
            thumbprint: self.signer.credential.thumbprints().sha1_hex(),
        }
    }

    /// A token valid for at least 5 more minutes; `fresh` skips the cache (after a 401).
    pub async fn get(&self, fresh: bool) -> Result<Token> {
        let key = self.cache.as_ref().map(|_| self.cache_key());
        if let (Some(cache), Some(key), false) = (&self.cache, &key, fresh) {
            if let Some(token) = cache.get(key) {
                return Ok(token);
            }
        }
        let token = request(self.http, self.signer, self.scope).await?;
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            // A cache that cannot be written must not fail the command that got a token.
            if let Err(e) = cache.put(key, &token) {
                crate::messages::warn(&format!("{e}"));
            }
        }
        Ok(token)
    }
}
