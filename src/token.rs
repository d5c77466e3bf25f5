//! The client-credentials token request with a client assertion, a certificate's or a federated
//! token (docs/protocol.md#token-request, #workload-identity-federation).
//!
//! Form fields exactly as Microsoft documents them (docs/protocol.md#token-request); a fresh assertion for every
//! attempt; the response body is read into zeroizing memory with a 1 MiB cap and deserialized
//! straight into `AccessToken`. Entra's errors become `TokenRefusal`, whose hint names what to
//! fix. Nothing here logs a body: success bodies hold the token. What an answer means is
//! decided in `answer`, without I/O.

mod answer;

use url::Url;
use zeroize::Zeroizing;

use crate::clock;
use crate::error::{Error, RefusalContext, Result, TokenRefusal};
use crate::http::{self, Http};
use crate::identity::Identity;
use crate::secret::AccessToken;

pub use answer::{Answer, interpret, is_bearer_token};

/// The cap on token response bodies (issue 4): a token response is a few KiB.
pub const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;

/// The longest graphd trusts a token to live, in seconds: a longer `expires_in` is cut to this.
///
/// Entra's access tokens live 60-90 minutes, and up to 28 hours when continuous access
/// evaluation is on (<https://learn.microsoft.com/entra/identity-platform/access-tokens#token-lifetime>);
/// a token reused for at most 24 hours is refreshed early at worst.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

/// An `expires_in` above this (7 days) is no token service's honest answer: the answer is
/// refused rather than cut, as `9223372036854775807` would otherwise make a token (and, with
/// `--token-cache`, a cache entry) that never expires.
pub const ABSURD_EXPIRES_IN_SECS: i64 = 7 * 24 * 3600;

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

/// Requests an app-only token for `scope` for `identity`.
pub async fn request(http: &Http, identity: &Identity, scope: &str) -> Result<Token> {
    let app = identity.app();
    let endpoint = app.token_endpoint();
    let url =
        Url::parse(&endpoint).map_err(|e| Error::Internal(format!("token endpoint URL: {e}")))?;
    let proof = identity.proof_for_request(http).await?;
    let answer = http
        .fetch(
            &url,
            |client| {
                let assertion = proof.assertion()?;
                let body = form_body(&app.client_id, scope, assertion.expose_secret());
                Ok(client
                    .post(url.clone())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body))
            },
            MAX_TOKEN_RESPONSE,
        )
        .await?;
    let status = answer.status.as_u16();
    let host = http::host_of(&url);
    let malformed = |problem: String| Error::TokenResponse {
        host: host.clone(),
        status,
        problem,
    };
    let Some(body) = &answer.body else {
        return Err(malformed("a body larger than 1 MiB".into()));
    };
    if answer.status.is_redirection() {
        // Redirects are never followed from the token endpoint (see http.rs).
        let to = answer
            .header("location")
            .and_then(|l| url.join(&l).ok())
            .map_or_else(|| "elsewhere".to_string(), |u| http::host_of(&u));
        return Err(malformed(format!(
            "a redirect to {to}, which graphd does not follow from the token endpoint"
        )));
    }
    let html = answer
        .header("content-type")
        .is_some_and(|c| c.contains("html"));
    match interpret(status, html, body, clock::now_unix()) {
        Answer::Token(token) => Ok(token),
        Answer::Refused(entra) => Err(Error::TokenRefused(Box::new(TokenRefusal {
            status,
            entra,
            context: refusal_context(identity, &host, &endpoint, answer.header("date")),
        }))),
        Answer::Malformed(problem) => Err(malformed(problem)),
    }
}

/// The client-credentials form (the token request fields in docs/protocol.md), built in one
/// allocation sized up front. The `String` moves into the request without a copy: what
/// reqwest and hyper do with it afterwards cannot be wiped (SECURITY.md says so).
fn form_body(client_id: &str, scope: &str, assertion: &str) -> String {
    let mut body = String::with_capacity(
        (client_id.len() + scope.len() + ASSERTION_TYPE.len()) * 3 + assertion.len() + 128,
    );
    url::form_urlencoded::Serializer::new(&mut body)
        .append_pair("client_id", client_id)
        .append_pair("scope", scope)
        .append_pair("client_assertion_type", ASSERTION_TYPE)
        .append_pair("client_assertion", assertion)
        .append_pair("grant_type", "client_credentials");
    body
}

fn refusal_context(
    identity: &Identity,
    host: &str,
    endpoint: &str,
    server_date: Option<String>,
) -> RefusalContext {
    let hints = identity.hints();
    let now = clock::now_unix();
    let server_now = server_date
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    RefusalContext {
        host: host.to_string(),
        endpoint: endpoint.to_string(),
        tenant: identity.app().tenant.clone(),
        client_id: identity.app().client_id.clone(),
        thumbprint_hex: hints.thumbprint_hex,
        x5t_s256: hints.x5t_s256,
        cert_path: hints.cert_path,
        cert_file: hints.cert_file,
        local_time: Some(clock::rfc3339(now)),
        server_time: server_now.map(clock::rfc3339),
        skew_secs: server_now.map(|s| s.saturating_sub(now)),
        federated: hints.federated,
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
    // Sized once: the token needs no JSON escaping (only bearer-token characters reach a
    // `Token`) and the rest is under 200 bytes, so the buffer never reallocates (each
    // reallocation would free an unwiped copy of the token).
    let mut buf = Vec::with_capacity(json_capacity(token));
    // Writing a struct of strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer_pretty(&mut buf, &out);
    // serde_json writes UTF-8: the bytes move into the String, never copied.
    match String::from_utf8(buf) {
        Ok(text) => Zeroizing::new(text),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Zeroizing::new(String::new())
        }
    }
}

/// What `to_json` allocates for `token`.
fn json_capacity(token: &Token) -> usize {
    token.access_token.expose_secret().len() + token.token_type.len() + 512
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16, finding 10: the form holding the assertion is built in its first allocation
    /// (a reallocation would free an unwiped copy of the assertion).
    #[test]
    fn the_form_body_is_built_in_one_allocation() {
        let assertion = format!(
            "{}.{}.{}",
            "h".repeat(300),
            "c".repeat(2000),
            "s".repeat(342)
        );
        for scope in [
            "https://graph.microsoft.com/.default",
            "api://é/ü ö/.default",
            &"%/&=+ é".repeat(200),
        ] {
            let client_id = "11111111-2222-3333-4444-555555555555";
            let body = form_body(client_id, scope, &assertion);
            let planned =
                (client_id.len() + scope.len() + ASSERTION_TYPE.len()) * 3 + assertion.len() + 128;
            assert_eq!(body.capacity(), planned, "scope {scope:?}: reallocated");
            let fields: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(fields[1], ("scope".to_string(), scope.to_string()));
            assert_eq!(fields[3].1, assertion);
        }
    }

    /// A token as `interpret` makes it from a 200 answer.
    fn token(access_token: &str) -> Token {
        let body = format!(
            r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{access_token}"}}"#
        );
        match interpret(200, false, body.as_bytes(), 1_000) {
            Answer::Token(t) => t,
            other => panic!("expected a token, got {other:?}"),
        }
    }

    #[test]
    fn json_output_is_built_in_one_allocation() {
        let t = token(&"e".repeat(20_000));
        let json = to_json(&t);
        assert!(json.contains(&"e".repeat(20_000)));
        assert_eq!(json.capacity(), json_capacity(&t), "never reallocated");
    }
}
