//! Graph's check of the proof of possession that `addKey` and `removeKey` carry
//! (<https://learn.microsoft.com/graph/application-rollkey-prooftoken>,
//! docs/protocol.md#certificate-self-rotation): a JWT signed with the key of one of the
//! application's currently valid certificates, `aud` `00000002-0000-0000-c000-000000000000`,
//! `iss` the application's object id, `nbf` and `exp` present with `exp` at most `nbf` + 10
//! minutes, every segment base64url without padding.
//!
//! Graph answers every defect with the same `Authentication_MissingOrMalformed`; the reason
//! returned here is for the emulator's `-v` trace only. Unlike the token side (which accepts
//! what shipping clients send), nothing lenient is accepted: the proof comes from the
//! documentation's one recipe.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::emulator::state::{App, RegisteredCert};
use crate::jws::{self, Alg};

/// The audience the documentation requires.
pub const AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";
/// The longest `exp` - `nbf`: "nbf + 10 mins".
pub const MAX_LIFETIME_SECS: i64 = 600;
/// Clock skew allowed on `nbf`, as on the token side (IdentityModel's default).
const NBF_SKEW_SECS: i64 = 300;

/// Checks `proof` for application `app` at `now`; the reason of a refusal.
pub fn check(proof: &str, app: &App, now: i64) -> Result<(), String> {
    let (h, p, s) = jws::split(proof).ok_or("the proof does not have three segments")?;
    for segment in [h, p, s] {
        let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if segment.is_empty() || !segment.bytes().all(base64url) {
            return Err("a segment is not unpadded base64url".into());
        }
    }
    let header = object(h, "header")?;
    let claims = object(p, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| "the signature is not base64url")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Alg::from_name)
        .ok_or("alg is not RS256 or PS256")?;
    let input = &proof.as_bytes()[..h.len() + 1 + p.len()];
    let candidates = named_keys(&header, app)?;
    let signed = candidates.iter().any(|c| {
        let valid = c.not_before.is_none_or(|t| t <= now) && c.not_after.is_none_or(|t| t >= now);
        valid
            && c.public_key
                .as_ref()
                .is_some_and(|k| jws::verify(alg, k, input, &signature))
    });
    if !signed {
        return Err(
            "not signed by the key of a currently valid certificate of this application".into(),
        );
    }
    match claims.get("aud") {
        Some(Value::String(aud)) if aud == AUDIENCE => {}
        _ => return Err(format!("aud is not {AUDIENCE}")),
    }
    match claims.get("iss") {
        Some(Value::String(iss)) if iss.eq_ignore_ascii_case(&app.object_id) => {}
        _ => return Err("iss is not the application's object id".into()),
    }
    let time = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .ok_or(format!("{name} is missing or not a number"))
    };
    let (nbf, exp) = (time("nbf")?, time("exp")?);
    if exp <= now {
        return Err("the proof has expired".into());
    }
    if nbf > now + NBF_SKEW_SECS {
        return Err("the proof is not valid yet".into());
    }
    if exp - nbf > MAX_LIFETIME_SECS || exp < nbf {
        return Err(format!(
            "exp - nbf is {} s; at most {MAX_LIFETIME_SECS}",
            exp - nbf
        ));
    }
    Ok(())
}

fn object(segment: &str, what: &str) -> Result<Map<String, Value>, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| format!("the {what} is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(format!("the {what} is not a JSON object")),
    }
}

/// The certificates the header names: by `x5t` (base64url SHA-1) and `kid` (hex SHA-1, as
/// `X509SecurityKey` sets it); both, when given, must name the same one. With neither, any
/// of the application's certificates may have signed.
fn named_keys<'a>(
    header: &Map<String, Value>,
    app: &'a App,
) -> Result<Vec<&'a RegisteredCert>, String> {
    let x5t = match header.get("x5t") {
        None => None,
        Some(Value::String(t)) => Some(
            URL_SAFE_NO_PAD
                .decode(t)
                .map_err(|_| "x5t is not base64url")?,
        ),
        Some(_) => return Err("x5t is not a string".into()),
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.to_ascii_uppercase()),
        Some(_) => return Err("kid is not a string".into()),
    };
    let named: Vec<&RegisteredCert> = app
        .certs
        .iter()
        .filter(|c| {
            x5t.as_ref()
                .is_none_or(|t| t.as_slice() == c.sha1.as_slice())
        })
        .filter(|c| kid.as_ref().is_none_or(|k| *k == c.thumbprint_hex()))
        .collect();
    if named.is_empty() {
        return Err("x5t / kid name no certificate of this application".into());
    }
    Ok(named)
}
