//! Decoding (not verifying) an external token's header and claims, and the checks graphd
//! makes before sending it: a compact JWS of JSON (RFC 7515 §7.1), an `exp` still ahead
//! (RFC 7519 §4.1.4), and the audience asked for when the user named one. The token service
//! verifies the signature; graphd only refuses early what would certainly be refused, with a
//! message that names the problem and never the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{ExternalClaims, FederatedProblem, TokenOrigin};

/// A JWT's header and claims, as JSON objects.
pub type Decoded = (Map<String, Value>, Map<String, Value>);

/// The header and claims of `token`, or why it is not a JWT.
pub fn decode(token: &str) -> Result<Decoded, &'static str> {
    if token.starts_with('{') {
        return Err(
            "it is JSON, not a JWT (a saved ID token response? the token is its \"value\")",
        );
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(match parts.len() {
            5 => "it has 5 parts separated by '.', as an encrypted JWE has; a JWT has 3",
            1 => "it has no '.': a JWT is three base64url parts separated by '.'",
            _ => "a JWT is three base64url parts separated by '.', and this is not",
        });
    };
    if signature.is_empty() {
        return Err("its signature part is empty (an unsigned token)");
    }
    if !is_base64url(signature) {
        return Err("its signature part is not base64url");
    }
    let header = object(header).ok_or("its header is not base64url-encoded JSON")?;
    let payload = object(payload).ok_or("its payload is not base64url-encoded JSON")?;
    Ok((header, payload))
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
}

fn object(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() || !is_base64url(segment) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn text(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::to_string)
}

/// A NumericDate (RFC 7519 §2): a number, or a numeric string as some issuers write it.
fn time(map: &Map<String, Value>, name: &str) -> Option<i64> {
    match map.get(name)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The claims hints and checks use, from a decoded token.
pub fn facts(header: &Map<String, Value>, payload: &Map<String, Value>) -> ExternalClaims {
    let aud = match payload.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    ExternalClaims {
        alg: text(header, "alg"),
        kid: text(header, "kid"),
        iss: text(payload, "iss"),
        sub: text(payload, "sub"),
        aud,
        exp: time(payload, "exp"),
        nbf: time(payload, "nbf"),
        iat: time(payload, "iat"),
    }
}

/// What is known about a token when it is checked.
pub struct Check<'a> {
    pub origin: &'a TokenOrigin,
    pub now: i64,
    /// The file's modification time, for the file origin.
    pub written_at: Option<i64>,
    /// The audience the user named with `--federated-audience`, if any.
    pub audience: Option<&'a str>,
}

/// Decodes `token` and refuses what the token service would certainly refuse.
pub fn check(token: &str, c: &Check<'_>) -> Result<ExternalClaims, FederatedProblem> {
    if token.is_empty() {
        return Err(FederatedProblem::Empty {
            origin: c.origin.clone(),
        });
    }
    let (header, payload) = decode(token).map_err(|why| FederatedProblem::NotAJwt {
        origin: c.origin.clone(),
        why,
    })?;
    let claims = facts(&header, &payload);
    let Some(exp) = claims.exp else {
        return Err(FederatedProblem::NoExpiry {
            origin: c.origin.clone(),
        });
    };
    if exp <= c.now {
        return Err(FederatedProblem::Expired {
            origin: c.origin.clone(),
            exp,
            now: c.now,
            iat: claims.iat,
            written_at: c.written_at,
        });
    }
    if let Some(wanted) = c.audience
        && !claims.aud.iter().any(|a| a == wanted)
    {
        return Err(FederatedProblem::AudienceMismatch {
            origin: c.origin.clone(),
            aud: claims.aud.clone(),
            wanted: wanted.to_string(),
        });
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(header: &Value, claims: &Value) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn checking(now: i64) -> Check<'static> {
        static ORIGIN: std::sync::OnceLock<TokenOrigin> = std::sync::OnceLock::new();
        Check {
            origin: ORIGIN.get_or_init(|| TokenOrigin::Env { name: "T".into() }),
            now,
            written_at: None,
            audience: None,
        }
    }

    #[test]
    fn kubernetes_and_github_shapes_decode() {
        let k8s = jwt(
            &json!({"alg": "RS256", "kid": "k1"}),
            &json!({"aud": ["api://AzureADTokenExchange"], "exp": 2000, "iat": 1000,
                    "iss": "https://oidc.example/", "sub": "system:serviceaccount:ns:sa"}),
        );
        let c = check(&k8s, &checking(1500)).unwrap();
        assert_eq!(c.aud, ["api://AzureADTokenExchange"]);
        assert_eq!(c.kid.as_deref(), Some("k1"));
        assert_eq!((c.exp, c.iat), (Some(2000), Some(1000)));
        let gh = jwt(
            &json!({"alg": "RS256", "x5t": "t"}),
            &json!({"aud": "api://AzureADTokenExchange", "exp": "2000", "sub": "repo:o/r:ref:refs/heads/main"}),
        );
        assert_eq!(check(&gh, &checking(0)).unwrap().exp, Some(2000));
    }

    #[test]
    fn refusals_name_the_problem_never_the_text() {
        let now = 1_000;
        let refused = |token: &str| check(token, &checking(now)).unwrap_err();
        assert!(matches!(refused(""), FederatedProblem::Empty { .. }));
        for (token, says) in [
            ("secret-value-without-dots", "no '.'"),
            ("a.b", "three base64url parts"),
            ("a.b.c.d.e", "JWE"),
            ("{\"value\":\"x\"}", "JSON, not a JWT"),
            ("e30.e30.", "signature part is empty"),
            ("!!.e30.c2ln", "header"),
            ("e30.bm90IGpzb24.c2ln", "payload"),
        ] {
            let p = refused(token);
            let text = p.to_string();
            assert!(text.contains(says), "{token}: {text}");
            assert!(!text.contains("secret-value"), "{text}");
        }
        let no_exp = jwt(&json!({"alg": "RS256"}), &json!({"sub": "s"}));
        assert!(matches!(
            refused(&no_exp),
            FederatedProblem::NoExpiry { .. }
        ));
        let expired = jwt(
            &json!({"alg": "RS256"}),
            &json!({"exp": now, "iat": now - 600}),
        );
        let p = refused(&expired);
        assert!(
            p.to_string()
                .contains("issued 10 min ago and expired 0 s ago"),
            "{p}"
        );
    }

    #[test]
    fn a_named_audience_must_be_in_the_token() {
        let token = jwt(
            &json!({"alg": "RS256"}),
            &json!({"aud": ["a", "b"], "exp": 10}),
        );
        let mut c = checking(0);
        c.audience = Some("b");
        assert!(check(&token, &c).is_ok());
        c.audience = Some("api://AzureADTokenExchange");
        let p = check(&token, &c).unwrap_err();
        assert!(
            p.to_string()
                .contains("audience ['a', 'b'], not api://AzureADTokenExchange"),
            "{p}"
        );
    }
}
