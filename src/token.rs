//! The client-credentials token request with a client assertion, a certificate's or a federated
//! token (docs/protocol.md#token-request, #workload-identity-federation).
//!
//! Form fields exactly as Microsoft documents them (docs/protocol.md#token-request); a fresh assertion for every
//! attempt; the response body is read into zeroizing memory with a 1 MiB cap and deserialized
//! straight into `AccessToken`. Entra's errors become `TokenRefusal`, whose hint names what to
//! fix. Nothing here logs a body: success bodies hold the token.

use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use crate::clock;
use crate::error::{EntraError, Error, RefusalContext, Result, TokenRefusal};
use crate::http::{self, Http};
use crate::identity::Identity;
use crate::secret::AccessToken;

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

#[derive(Deserialize)]
struct Success {
    access_token: Option<AccessToken>,
    token_type: Option<String>,
    expires_in: Option<Seconds>,
    ext_expires_in: Option<Seconds>,
}

/// `expires_in` as a number or a numeric string (MSAL-GO tolerates both, docs/protocol.md#token-response).
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

/// What a token endpoint's answer means.
#[derive(Debug)]
pub enum Answer {
    Token(Token),
    /// An Entra error response (docs/protocol.md#token-errors).
    Refused(EntraError),
    /// Anything else: what was wrong with it, for the error message (never the body).
    Malformed(String),
}

/// Interprets a token endpoint answer (status, whether it claimed to be HTML, body) received
/// at `now`. Pure, so it can be fuzzed and tested without a server.
pub fn interpret(status: u16, html: bool, body: &[u8], now: i64) -> Answer {
    let malformed = |problem: &str| Answer::Malformed(problem.to_string());
    if !(200..300).contains(&status) {
        return match serde_json::from_slice::<EntraError>(body) {
            Ok(e) if !e.error.is_empty() || e.code().is_some() => Answer::Refused(e),
            _ if html => malformed("an HTML page, not an Entra error"),
            _ => malformed("a body that is not an Entra error"),
        };
    }
    let parsed: Success = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(_) if html => return malformed("an HTML page instead of a token response"),
        Err(_) => return malformed("a body that is not a JSON token response"),
    };
    let Some(access_token) = parsed.access_token else {
        return malformed("a JSON body without access_token");
    };
    if access_token.expose_secret().trim().is_empty() {
        return malformed("an empty access_token");
    }
    if !is_bearer_token(access_token.expose_secret()) {
        // Said without the token: its characters are the problem, not its value.
        return malformed(
            "an unusable token: the access_token holds characters a bearer token cannot (RFC 6750 §2.1)",
        );
    }
    let token_type = parsed.token_type.unwrap_or_default();
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Answer::Malformed(format!("token_type {token_type:?}, not Bearer"));
    }
    let Some(expires_in) = parsed
        .expires_in
        .as_ref()
        .and_then(Seconds::get)
        .filter(|s| *s > 0)
    else {
        return malformed("no usable expires_in");
    };
    if expires_in > ABSURD_EXPIRES_IN_SECS {
        return Answer::Malformed(format!(
            "an unusable token: expires_in {expires_in} s is more than 7 days (Entra's tokens live at most 28 hours)"
        ));
    }
    let expires_in = expires_in.min(MAX_TOKEN_LIFETIME_SECS);
    Answer::Token(Token {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        expires_on: now.saturating_add(expires_in),
        // Informational only (`--json`); an implausible value is left out, not trusted.
        ext_expires_in: parsed
            .ext_expires_in
            .as_ref()
            .and_then(Seconds::get)
            .filter(|s| (1..=ABSURD_EXPIRES_IN_SECS).contains(s)),
    })
}

/// Whether `token` is a bearer token as RFC 6750 §2.1 writes it (`b64token`: letters, digits,
/// `-._~+/`, then any `=` padding), which covers JWTs (RFC 7519: base64url parts joined by
/// `.`). Anything else (CR, LF, NUL, ESC, spaces, other non-ASCII) would be printed to a
/// terminal, stored in the cache, and refused by the HTTP stack as a header value.
pub fn is_bearer_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
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

    fn token(a: Answer) -> Token {
        match a {
            Answer::Token(t) => t,
            other => panic!("expected a token, got {other:?}"),
        }
    }

    fn malformed(a: Answer) -> String {
        match a {
            Answer::Malformed(m) => m,
            other => panic!("expected malformed, got {other:?}"),
        }
    }

    #[test]
    fn success_shapes() {
        let t = token(interpret(200, false, br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"a.b.c"}"#, 100));
        assert_eq!(
            (t.expires_in, t.expires_on, t.ext_expires_in),
            (3599, 3699, Some(3599))
        );
        let t = token(interpret(
            200,
            false,
            br#"{"token_type":"bearer","expires_in":"3599","access_token":"a.b.c"}"#,
            0,
        ));
        assert_eq!(t.expires_in, 3599);
    }

    #[test]
    fn malformed_answers_never_echo_the_body() {
        assert!(malformed(interpret(200, true, b"<html>secret</html>", 0)).contains("HTML"));
        assert!(
            malformed(interpret(
                200,
                false,
                br#"{"token_type":"Bearer","expires_in":1}"#,
                0
            ))
            .contains("without access_token")
        );
        assert!(
            malformed(interpret(
                200,
                false,
                br#"{"token_type":"pop","expires_in":1,"access_token":"x"}"#,
                0
            ))
            .contains("not Bearer")
        );
        assert!(
            malformed(interpret(
                200,
                false,
                br#"{"token_type":"Bearer","expires_in":0,"access_token":"x"}"#,
                0
            ))
            .contains("expires_in")
        );
        let m = malformed(interpret(
            200,
            false,
            br#"{"token_type":"Bearer","access_token":"secret-token"#,
            0,
        ));
        assert!(!m.contains("secret-token"));
        assert!(malformed(interpret(502, true, b"<html>bad gateway</html>", 0)).contains("HTML"));
    }

    fn answer(access_token: &str, expires_in: &str) -> Answer {
        let body = format!(
            r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{access_token}"}}"#
        );
        interpret(200, false, body.as_bytes(), 1_000)
    }

    /// Issue 16, finding 4: `expires_in` is bounded.
    #[test]
    fn absurd_lifetimes_are_refused_and_long_ones_cut() {
        for absurd in ["9223372036854775807", "\"9223372036854775807\"", "604801"] {
            let m = malformed(answer("a.b.c", absurd));
            assert!(m.contains("unusable token") && m.contains("7 days"), "{m}");
        }
        let t = token(answer("a.b.c", "100800"));
        assert_eq!((t.expires_in, t.expires_on), (86_400, 87_400));
        let t = token(answer("a.b.c", "604800"));
        assert_eq!(t.expires_in, MAX_TOKEN_LIFETIME_SECS);
        let t = token(interpret(
            200,
            false,
            br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":99999999999,"access_token":"x"}"#,
            0,
        ));
        assert_eq!(t.ext_expires_in, None);
    }

    /// Issue 16, finding 5: only the bearer-token alphabet is accepted.
    #[test]
    fn tokens_with_other_characters_are_refused() {
        for bad in [
            "a.b\\r\\nSet-Cookie: x",
            "a.b\\u0000c",
            "\\u001b]0;owned\\u0007",
            "a b",
            "t\\u00e9st",
            "a.b\\tc",
            "===",
        ] {
            let m = malformed(answer(bad, "3599"));
            assert!(m.contains("unusable token"), "{bad}: {m}");
            assert!(!m.contains("owned") && !m.contains("Set-Cookie"), "{m}");
        }
        for good in [
            "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln-_",
            "mF_9.B5f-4.1JqM",
            "abc+/def==",
            "a~b",
        ] {
            assert_eq!(
                token(answer(good, "3599")).access_token.expose_secret(),
                good
            );
        }
    }

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

    #[test]
    fn json_output_is_built_in_one_allocation() {
        let t = token(answer(&"e".repeat(20_000), "3599"));
        let json = to_json(&t);
        assert!(json.contains(&"e".repeat(20_000)));
        assert_eq!(json.capacity(), json_capacity(&t), "never reallocated");
    }

    #[test]
    fn entra_errors_are_refusals() {
        match interpret(401, false, br#"{"error":"invalid_client","error_description":"AADSTS700027: x","error_codes":[700027]}"#, 0) {
            Answer::Refused(e) => assert_eq!(e.code(), Some(700027)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            interpret(400, false, b"{}", 0),
            Answer::Malformed(_)
        ));
    }
}
