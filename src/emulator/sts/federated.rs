//! A federated token as the client assertion (docs/protocol.md#workload-identity-federation),
//! validated as Entra validates it, each failure with Entra's code and text
//! (docs/protocol.md#federation-errors).
//!
//! Order: the token's shape; the issuer among the app's federated credentials (Entra fetches
//! no metadata for an issuer nobody trusts); RS256 only; the issuer's keys and the key by `kid`;
//! the signature; `exp`/`nbf` with the same rule as certificate assertions; the subject, exact
//! and case-sensitive; the audience. Which of two failures Entra reports first when a token
//! has both is unconfirmed: the order above is the emulator's
//! (docs/protocol.md#federation-in-the-emulator).

use openssl::pkey::{PKey, Public};
use serde_json::{Map, Value};

use super::aadsts::{CERT_DOC, Refusal};
use super::assertion::{NBF_SKEW_SECS, lenient_b64};
use crate::emulator::federation::{FederatedCredential, FederatedUse, IssuerRef, Registry};
use crate::emulator::oidc;
use crate::emulator::state::App;
use crate::jws::{self, Alg};

/// The link Entra's federation errors carry.
const WIF_DOC: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

fn malformed(detail: &str) -> Refusal {
    Refusal::new(
        50_027,
        format!("JWT token is invalid or malformed. {detail}"),
    )
}

fn object(segment: &str) -> Option<Map<String, Value>> {
    match serde_json::from_slice(&lenient_b64(segment)?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Whether `assertion` is to be judged as a federated token: its `iss` is not the client id,
/// and its header does not name a certificate registered on the app (then it is a certificate
/// assertion with a wrong issuer, judged as such; docs/protocol.md#federation-in-the-emulator).
pub fn is_federated(assertion: &str, app: &App) -> bool {
    let Some((h, p, _)) = jws::split(assertion.trim()) else {
        return false;
    };
    let (Some(header), Some(claims)) = (object(h), object(p)) else {
        return false;
    };
    let Some(iss) = claims.get("iss").and_then(Value::as_str) else {
        return false;
    };
    if iss.eq_ignore_ascii_case(&app.client_id) {
        return false;
    }
    let thumb = |name: &str| {
        header
            .get(name)
            .and_then(Value::as_str)
            .and_then(lenient_b64)
    };
    let registered = thumb("x5t#S256")
        .is_some_and(|t| app.certs.iter().any(|c| c.sha256[..] == t[..]))
        || thumb("x5t").is_some_and(|t| app.certs.iter().any(|c| c.sha1[..] == t[..]));
    !registered
}

fn text<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    map.get(name).and_then(Value::as_str)
}

fn time(map: &Map<String, Value>, name: &str) -> Result<Option<i64>, Refusal> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| malformed(&format!("The '{name}' claim is not a number."))),
        Some(_) => Err(malformed(&format!("The '{name}' claim is not a number."))),
    }
}

/// Entra's time text (.NET round-trip form).
fn net_time(unix: i64) -> String {
    crate::clock::rfc3339(unix).replace('Z', ".0000000Z")
}

/// Validates a federated token presented for `app` at `now`.
pub fn validate(
    assertion: &str,
    app: &App,
    registry: &Registry,
    now: i64,
) -> Result<FederatedUse, Refusal> {
    let token = assertion.trim();
    let (h, p, s) = jws::split(token).ok_or_else(|| malformed("It does not have three parts."))?;
    let header = object(h).ok_or_else(|| malformed("The header is not a JSON object."))?;
    let claims = object(p).ok_or_else(|| malformed("The payload is not a JSON object."))?;
    let signature = lenient_b64(s).ok_or_else(|| malformed("The signature is not base64url."))?;
    let iss = text(&claims, "iss").unwrap_or("");
    let sub = text(&claims, "sub").ok_or_else(|| malformed("The 'sub' claim is missing."))?;
    let aud: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let credentials = registry.of(&app.client_id);
    if credentials.is_empty() {
        return Err(Refusal::new(
            70_021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'. {WIF_DOC}",
                aud.join(",")
            ),
        ));
    }
    // Exact, case-sensitive; an `iss` with surrounding whitespace matches nothing.
    let same_issuer: Vec<&FederatedCredential> = credentials
        .iter()
        .filter(|c| c.issuer == IssuerRef::Url(iss.to_string()))
        .collect();
    if same_issuer.is_empty() {
        return Err(Refusal::new(
            700_211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOC}"
            ),
        ));
    }
    let alg = text(&header, "alg").unwrap_or("");
    if alg != "RS256" {
        return Err(Refusal::new(
            5_002_738,
            format!("Invalid JWT token. '{alg}' is not a supported signature algorithm."),
        ));
    }
    let key = issuer_key(iss, &header, registry)?;
    let input = &token.as_bytes()[..h.len() + 1 + p.len()];
    if !jws::verify(Alg::RS256, &key, input, &signature) {
        // Unconfirmed: the code Entra gives for a bad signature on a federated token.
        return Err(Refusal::new(
            700_027,
            "Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]",
        ));
    }
    let exp = time(&claims, "exp")?;
    let (from, until) = (time(&claims, "nbf")?.unwrap_or(0), exp.unwrap_or(0));
    if from > now + NBF_SKEW_SECS || until <= now {
        return Err(Refusal::new(
            700_024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {CERT_DOC}",
                net_time(now),
                net_time(from),
                net_time(until)
            ),
        ));
    }
    let same_subject: Vec<&&FederatedCredential> =
        same_issuer.iter().filter(|c| c.subject == sub).collect();
    if same_subject.is_empty() {
        let case_only = same_issuer
            .iter()
            .any(|c| c.subject.to_lowercase() == sub.to_lowercase());
        return Err(if case_only {
            Refusal::new(
                7_002_138,
                format!(
                    "No matching federated identity record found for presented assertion subject '{sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: {WIF_DOC}. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024."
                ),
            )
        } else {
            Refusal::new(
                700_213,
                format!(
                    "No matching federated identity record found for presented assertion subject '{sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOC}"
                ),
            )
        });
    }
    let Some(matched) = same_subject
        .iter()
        .find(|c| aud.contains(&c.audience.as_str()))
    else {
        return Err(Refusal::new(
            700_212,
            format!(
                "No matching federated identity record found for presented assertion audience '{}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOC}",
                aud.join(",")
            ),
        ));
    };
    Ok(FederatedUse {
        client_id: app.client_id.clone(),
        credential: matched.name.clone(),
        issuer: iss.to_string(),
        subject: sub.to_string(),
        jti: text(&claims, "jti").map(str::to_string),
        exp: until,
    })
}

/// The issuer's key that signed the token, by `kid` (or `x5t`; or the only key when the
/// header names none).
fn issuer_key(
    iss: &str,
    header: &Map<String, Value>,
    registry: &Registry,
) -> Result<PKey<Public>, Refusal> {
    let unreachable = || Refusal::new(50_166, "Request to External OIDC endpoint failed.");
    let kid = text(header, "kid");
    let x5t = text(header, "x5t");
    let not_found = || {
        Refusal::new(
            7_000_272,
            format!(
                "The certificate with identifier {} used to sign the federated credential could not be found in the metadata of identity provider {iss}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.",
                kid.or(x5t).unwrap_or("")
            ),
        )
    };
    if iss == registry.builtin {
        let (key, builtin_kid) = oidc::public_key().map_err(|_| unreachable())?;
        return match kid {
            Some(k) if k != builtin_kid => Err(not_found()),
            _ => Ok(key),
        };
    }
    let keys = registry.keys(iss).ok_or_else(unreachable)?;
    let found = match (kid, x5t) {
        (Some(k), _) => keys.iter().find(|key| key.kid.as_deref() == Some(k)),
        (None, Some(t)) => keys.iter().find(|key| key.x5t.as_deref() == Some(t)),
        (None, None) if keys.len() == 1 => keys.first(),
        (None, None) => None,
    };
    let found = found.ok_or_else(not_found)?;
    // A key that is not RSA verifies nothing here; the algorithm check says why.
    found.rsa.clone().ok_or_else(|| {
        Refusal::new(
            5_002_738,
            format!(
                "Invalid JWT token. '{}' is not a supported signature algorithm.",
                text(header, "alg").unwrap_or("")
            ),
        )
    })
}
