//! The emulator's own OIDC issuer, for graphd's tests and users' CI: OpenID discovery and a
//! JWKS at `{authority}/oidc`, and an ID token endpoint shaped like GitHub Actions'
//! (docs/protocol.md#github-actions-oidc): `GET /oidc/idtoken?api-version=2.0&audience=AUD`
//! with `Authorization: Bearer <request token>` answers `{"value": "<jwt>"}`, an RS256 token
//! with the configured subject that lives 300 s by default, as GitHub's do.
//!
//! Its signing key is generated once per process and never leaves it; it is not the key of
//! the emulator's access tokens (Entra does not accept its own tokens as federated ones).
//! It never logs a token or the request token.

use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::{HeaderMap, Method};
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::{Value, json};

use super::keys;
use super::respond::{self, Ctx, Resp};
use crate::jws::{self, Alg};

/// Where the built-in issuer lives on the token side.
pub const PATH: &str = "/oidc";

/// The GitHub-shaped endpoint and the tokens it mints.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `sub` of the ID tokens (GitHub's form: `repo:OWNER/REPO:ref:refs/heads/BRANCH`).
    pub subject: String,
    /// Lifetime of the ID tokens, seconds (GitHub's: about 300).
    pub lifetime_secs: i64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            subject: "repo:graphd-emulator/demo:ref:refs/heads/main".into(),
            lifetime_secs: 300,
        }
    }
}

/// What the ID token endpoint has served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OidcCounters {
    /// Every request to the ID token endpoint.
    pub requests: u64,
    /// ID tokens issued.
    pub issued: u64,
}

/// The built-in issuer's per-emulator state.
pub struct Issuer {
    pub config: OidcConfig,
    /// The bearer the ID token endpoint accepts (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
    pub request_token: String,
    counters: Mutex<OidcCounters>,
    /// Statuses the next ID token requests get instead of a token (tests of retries).
    fail_next: Mutex<Vec<u16>>,
}

struct Key {
    key: PKey<Private>,
    kid: String,
}

/// The issuer's signing key (generated on first use, once per process).
fn key() -> Result<&'static Key, String> {
    static KEY: OnceLock<Result<Key, String>> = OnceLock::new();
    KEY.get_or_init(|| {
        let make = || -> Result<Key, openssl::error::ErrorStack> {
            let key = PKey::from_rsa(Rsa::generate(2048)?)?;
            // kid: base64url SHA-256 of the public key's DER (stable for the process).
            let kid =
                URL_SAFE_NO_PAD.encode(hash(MessageDigest::sha256(), &key.public_key_to_der()?)?);
            Ok(Key { key, kid })
        };
        make().map_err(|e| format!("cannot create the OIDC issuer's key: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The issuer's JWKS (RFC 7517), as GitHub publishes its keys.
pub fn jwks() -> Result<Value, String> {
    let k = key()?;
    let rsa = k.key.rsa().map_err(|e| e.to_string())?;
    Ok(json!({"keys": [{
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": k.kid,
        "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
        "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
    }]}))
}

/// An RS256 ID token from `issuer` for `subject` and `audience`, valid from `now` for
/// `lifetime` seconds, with GitHub's claim names where they apply.
pub fn mint(
    issuer: &str,
    subject: &str,
    audience: &str,
    now: i64,
    lifetime: i64,
) -> Result<String, String> {
    let mut claims = base_claims(issuer, subject, json!(audience), now, lifetime);
    // GitHub's tokens also name the repository and ref the subject is made of.
    if let Some(rest) = subject.strip_prefix("repo:") {
        if let Some((repo, _)) = rest.split_once(':') {
            claims["repository"] = json!(repo);
            claims["repository_owner"] = json!(repo.split('/').next().unwrap_or(repo));
        }
        if let Some((_, r)) = rest.split_once(":ref:") {
            claims["ref"] = json!(r);
        }
    }
    sign(&claims)
}

/// A projected service account token as the kubelet writes it: `aud` an array, and the
/// `kubernetes.io` claim when the subject is `system:serviceaccount:NAMESPACE:NAME`.
pub fn mint_kubernetes(
    issuer: &str,
    subject: &str,
    audience: &str,
    now: i64,
    lifetime: i64,
) -> Result<String, String> {
    let mut claims = base_claims(issuer, subject, json!([audience]), now, lifetime);
    let parts: Vec<&str> = subject.split(':').collect();
    if let ["system", "serviceaccount", namespace, name] = parts.as_slice() {
        claims["kubernetes.io"] = json!({"namespace": namespace, "serviceaccount": {"name": name}});
    }
    sign(&claims)
}

fn base_claims(issuer: &str, subject: &str, aud: Value, now: i64, lifetime: i64) -> Value {
    json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "sub": subject,
        "aud": aud,
        "iss": issuer,
        "nbf": now,
        "iat": now,
        "exp": now + lifetime,
    })
}

fn sign(claims: &Value) -> Result<String, String> {
    let k = key()?;
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": k.kid});
    jws::encode(Alg::RS256, &k.key, &header, claims)
        .map(|t| t.to_string())
        .map_err(|e| format!("signing an ID token failed: {e}"))
}

/// The public key that verifies the issuer's tokens, and its `kid`.
pub fn public_key() -> Result<(PKey<openssl::pkey::Public>, String), String> {
    let k = key()?;
    let der = k.key.public_key_to_der().map_err(|e| e.to_string())?;
    let public = PKey::public_key_from_der(&der).map_err(|e| e.to_string())?;
    Ok((public, k.kid.clone()))
}

impl Issuer {
    pub fn new(config: OidcConfig) -> Self {
        Issuer {
            config,
            request_token: URL_SAFE_NO_PAD.encode(keys::random::<32>()),
            counters: Mutex::new(OidcCounters::default()),
            fail_next: Mutex::new(Vec::new()),
        }
    }

    pub fn counters(&self) -> OidcCounters {
        self.counters.lock().map(|c| *c).unwrap_or_default()
    }

    /// The next ID token requests get these statuses, in order, instead of a token.
    pub fn fail_next(&self, statuses: &[u16]) {
        if let Ok(mut f) = self.fail_next.lock() {
            f.extend_from_slice(statuses);
        }
    }

    fn count(&self, issued: bool) {
        if let Ok(mut c) = self.counters.lock() {
            if issued {
                c.issued += 1;
            } else {
                c.requests += 1;
            }
        }
    }
}

/// Whether a token-side path is the built-in issuer's.
pub fn is_oidc_path(path: &str) -> bool {
    path == PATH || path.starts_with("/oidc/")
}

/// Routes a request for the built-in issuer.
pub fn handle(method: &Method, path: &str, query: &str, headers: &HeaderMap, ctx: &Ctx) -> Resp {
    let issuer = format!("{}{PATH}", ctx.shared.token_origin);
    if method != Method::GET {
        return message(405, "The issuer's endpoints accept GET only.");
    }
    match path.trim_start_matches(PATH) {
        "/.well-known/openid-configuration" => respond::json(
            200,
            json!({
                "issuer": issuer,
                "jwks_uri": format!("{issuer}/jwks"),
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"],
                "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid"],
            })
            .to_string(),
        ),
        "/jwks" => match jwks() {
            Ok(doc) => respond::json(200, doc.to_string()),
            Err(_) => message(500, "The issuer has no key."),
        },
        "/idtoken" => id_token(query, headers, &issuer, ctx),
        _ => message(404, "Not found: the issuer serves /oidc/.well-known/openid-configuration, /oidc/jwks and /oidc/idtoken."),
    }
}

fn message(status: u16, text: &str) -> Resp {
    respond::json(status, json!({"message": text}).to_string())
}

/// The GitHub-shaped ID token endpoint.
fn id_token(query: &str, headers: &HeaderMap, issuer: &str, ctx: &Ctx) -> Resp {
    let oidc = &ctx.shared.oidc;
    oidc.count(false);
    let injected = oidc
        .fail_next
        .lock()
        .ok()
        .and_then(|mut f| (!f.is_empty()).then(|| f.remove(0)));
    if let Some(status) = injected {
        return message(status, "Injected failure (graphd emulator).");
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    // Compared in constant time (lengths first: `memcmp::eq` needs equal lengths).
    let authorized = bearer.is_some_and(|b| {
        b.len() == oidc.request_token.len()
            && openssl::memcmp::eq(b.as_bytes(), oidc.request_token.as_bytes())
    });
    if !authorized {
        return message(
            401,
            "The request token is missing or not valid for this job.",
        );
    }
    let audience = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "audience")
        .map(|(_, v)| v.into_owned())
        .filter(|a| !a.is_empty())
        // GitHub's default audience is the URL of the repository owner.
        .unwrap_or_else(|| {
            let owner = oidc
                .config
                .subject
                .strip_prefix("repo:")
                .and_then(|r| r.split('/').next())
                .unwrap_or("graphd-emulator");
            format!("https://github.com/{owner}")
        });
    match mint(
        issuer,
        &oidc.config.subject,
        &audience,
        ctx.now,
        oidc.config.lifetime_secs,
    ) {
        Ok(token) => {
            oidc.count(true);
            respond::json(200, json!({"value": token}).to_string())
        }
        Err(_) => message(500, "The issuer could not sign a token."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_with_the_published_key() {
        let t = mint(
            "http://127.0.0.1:1/oidc",
            "repo:o/r:ref:refs/heads/main",
            "api://AzureADTokenExchange",
            100,
            300,
        )
        .unwrap();
        let (h, p, s) = jws::split(&t).unwrap();
        let (public, kid) = public_key().unwrap();
        let sig = URL_SAFE_NO_PAD.decode(s).unwrap();
        assert!(jws::verify(
            Alg::RS256,
            &public,
            format!("{h}.{p}").as_bytes(),
            &sig
        ));
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
        assert_eq!(claims["exp"], 400);
        assert_eq!(claims["repository"], "o/r");
        assert_eq!(claims["ref"], "refs/heads/main");
        assert_eq!(jwks().unwrap()["keys"][0]["kid"], kid.as_str());
    }
}
