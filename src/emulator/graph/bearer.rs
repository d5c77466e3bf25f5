//! The bearer check in front of every Graph request: the `Authorization` header must carry an
//! access token this emulator issued (RS256 under its key, Graph's audience, its issuer,
//! within `nbf`..`exp`, not revoked), answered with Graph's own 401 messages otherwise
//! (docs/protocol.md#access-token, docs/protocol.md#graph-errors).
//!
//! It never accepts a token it did not sign or one past its time, whatever its claims say
//! (a lenient check would make every test a lie), and never echoes the token in an error.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::HeaderMap;
use serde_json::{Map, Value};

use super::query::{Fail, fail};
use crate::emulator::keys::{self, GRAPH_APP_ID, GRAPH_RESOURCE};
use crate::emulator::respond::Ctx;

fn unauthorized(message: &str) -> Fail {
    fail(401, "InvalidAuthenticationToken", message)
}

/// Who a valid bearer token stands for.
pub struct Caller {
    /// Application permissions (`roles`).
    pub roles: Vec<String>,
    /// The calling app's client id (`appid`).
    pub app_id: String,
    /// `app` for an app-only token (docs/protocol.md#access-token).
    pub idtyp: String,
}

/// Checks the bearer token and returns who it stands for.
pub(super) fn authenticate(headers: &HeaderMap, ctx: &Ctx) -> Result<Caller, Fail> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    if value.is_empty() {
        return Err(unauthorized("Access token is empty."));
    }
    let parse_failed = || unauthorized("CompactToken parsing failed with error code: 80049217");
    let token = match value.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => return Err(parse_failed()),
    };
    let (h, p, s) = crate::jws::split(token).ok_or_else(parse_failed)?;
    let decode = |seg: &str| {
        URL_SAFE_NO_PAD
            .decode(seg)
            .ok()
            .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
    };
    let header = decode(h).ok_or_else(parse_failed)?;
    let claims = decode(p).ok_or_else(parse_failed)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| parse_failed())?;
    let validation = |what: &str| unauthorized(&format!("Access token validation failure. {what}"));
    let signed = header.get("alg").and_then(Value::as_str) == Some("RS256")
        && ctx
            .shared
            .key
            .verify(&token.as_bytes()[..h.len() + 1 + p.len()], &signature);
    if !signed {
        return Err(validation("Invalid signature."));
    }
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    if ![GRAPH_RESOURCE, GRAPH_APP_ID, "https://graph.microsoft.com/"].contains(&aud) {
        return Err(validation("Invalid audience."));
    }
    if claims.get("iss").and_then(Value::as_str) != Some(ctx.shared.token_issuer().as_str()) {
        return Err(validation("Invalid issuer."));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    let revoked = claims
        .get("uti")
        .and_then(Value::as_str)
        .and_then(keys::uti_seq)
        .is_none_or(|seq| ctx.shared.state.token_revoked(seq));
    if exp <= ctx.now || nbf > ctx.now || revoked {
        return Err(unauthorized(
            "Access token has expired or is not yet valid.",
        ));
    }
    let roles = match claims.get("roles") {
        Some(Value::Array(r)) => r
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(Caller {
        roles,
        app_id: text("appid"),
        idtyp: text("idtyp"),
    })
}
