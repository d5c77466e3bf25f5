//! Client assertion validation, as strict as Entra ID and no stricter than real clients need
//! (docs/protocol.md#inferred-rules).
//!
//! Accepted on purpose, because shipping clients send them (docs/protocol.md#what-peers-send): RS256 and
//! PS256; `x5t` and `x5t#S256` in base64url or standard base64, padded or not; `x5c` as a
//! string or an array (of base64 DER, or of base64 PEM text as the Rust SDK sends); JWS
//! segments with `=` padding; `nbf`/`exp` as numeric strings; no `nbf`, no `iat`; a reused
//! `jti`. Refused: everything else that is wrong, each with Entra's code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::x509::X509;
use serde_json::{Map, Value};

use super::aadsts::{CERT_DOC, Refusal};
use crate::emulator::state::{App, RegisteredCert};
use crate::jws::{self, Alg};

/// How far in the future `nbf` may be: five minutes, the default clock skew of Microsoft's
/// token validation libraries (IdentityModel `TokenValidationParameters.DefaultClockSkew`).
/// Entra's own tolerance is unconfirmed (docs/protocol.md#assertion-time-window). `exp` gets no skew: it must be ahead.
pub const NBF_SKEW_SECS: i64 = 300;

/// What the token endpoint needs from an accepted assertion.
#[derive(Debug)]
pub struct Checked {
    pub jti: Option<String>,
    pub exp: i64,
}

/// What the assertion is checked against.
pub struct Expect<'a> {
    pub client_id: &'a str,
    /// The exact token endpoint URL that was called (the required `aud`).
    pub audience: &'a str,
    pub now: i64,
}

fn malformed(detail: &str) -> Refusal {
    Refusal::new(
        50_027,
        format!("JWT token is invalid or malformed. {detail}"),
    )
}

/// base64url or standard base64, padded or not (docs/protocol.md#what-peers-send).
pub fn lenient_b64(text: &str) -> Option<Vec<u8>> {
    let cleaned: String = text
        .trim_end_matches('=')
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(cleaned).ok()
}

fn json_object(segment: &str, what: &str) -> Result<Map<String, Value>, Refusal> {
    let bytes =
        lenient_b64(segment).ok_or_else(|| malformed(&format!("The {what} is not base64url.")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed(&format!("The {what} is not a JSON object."))),
    }
}

/// Validates `assertion` for `app`.
pub fn validate(assertion: &str, app: &App, expect: &Expect<'_>) -> Result<Checked, Refusal> {
    let (h, p, s) =
        jws::split(assertion.trim()).ok_or_else(|| malformed("It does not have three parts."))?;
    let header = json_object(h, "header")?;
    let claims = json_object(p, "payload")?;
    let signature = lenient_b64(s).ok_or_else(|| malformed("The signature is not base64url."))?;
    if header.contains_key("crit") {
        return Err(malformed("The 'crit' header is not supported."));
    }
    let alg = match header.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        _ => return Err(malformed("The 'alg' header is missing.")),
    };
    // Entra supports RSA certificates only (docs/protocol.md#assertion-header); which code it gives for another
    // algorithm is unconfirmed, 700027 is its signature-validation code.
    let alg = Alg::from_name(alg).ok_or_else(|| {
        Refusal::new(700_027, format!("Client assertion failed signature validation. [Reason - The signing algorithm '{alg}' is not supported; use RS256 or PS256.]"))
    })?;
    let x5c = x5c_leaf(&header)?;
    let (cert, thumbprint_hex) = find_key(&header, x5c.as_deref(), app)?;
    let window = key_window(cert);
    if let Some(leaf) = &x5c {
        // MSAL Python documents a wrongly ordered x5c chain as AADSTS700027 (docs/protocol.md#x5c-chain).
        if *leaf != cert.der {
            return Err(Refusal::new(
                700_027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - The first certificate in x5c is not the certificate of the key used., Thumbprint of key used by client: '{thumbprint_hex}']"
                ),
            ));
        }
    }
    match cert.rsa_bits {
        None => return Err(key_failed(&thumbprint_hex, &window)),
        Some(bits) if bits < crate::credential::MIN_RSA_BITS => {
            return Err(Refusal::new(
                50_032,
                format!(
                    "WeakRsaKey - RSA key size {bits} is less than the minimum required 2048 bits."
                ),
            ));
        }
        Some(_) => {}
    }
    // Which code Entra gives for an expired registered certificate is unconfirmed (docs/protocol.md#aadsts-codes);
    // its 700027 texts echo the found key's Start/End window, so that is what is sent.
    let expired = cert.not_after.is_some_and(|t| t < expect.now);
    let early = cert.not_before.is_some_and(|t| t > expect.now);
    if expired || early {
        let reason = if expired {
            "The key used is expired."
        } else {
            "The key used is not yet valid."
        };
        return Err(Refusal::new(
            700_027,
            format!(
                "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{thumbprint_hex}', Found key '{window}']"
            ),
        ));
    }
    let verified = cert.public_key.as_ref().is_some_and(|key| {
        let input_len = h.len() + 1 + p.len();
        jws::verify(
            alg,
            key,
            &assertion.trim().as_bytes()[..input_len],
            &signature,
        )
    });
    if !verified {
        return Err(key_failed(&thumbprint_hex, &window));
    }
    check_claims(&claims, expect)
}

fn key_failed(thumbprint_hex: &str, window: &str) -> Refusal {
    Refusal::new(
        700_027,
        format!(
            "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '{thumbprint_hex}', Found key '{window}']"
        ),
    )
}

fn key_window(cert: &RegisteredCert) -> String {
    let f = |t: Option<i64>| t.map(us_time).unwrap_or_default();
    format!("Start={}, End={}", f(cert.not_before), f(cert.not_after))
}

/// `MM/DD/YYYY HH:MM:SS`, the form Entra's key windows use.
fn us_time(unix: i64) -> String {
    let iso = crate::clock::rfc3339(unix);
    let (date, time) = iso
        .trim_end_matches('Z')
        .split_once('T')
        .unwrap_or((&iso, ""));
    let d: Vec<&str> = date.split('-').collect();
    match d.as_slice() {
        [y, m, day] => format!("{m}/{day}/{y} {time}"),
        _ => iso.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The leaf certificate's DER from `x5c`, if present. A string or an array of strings
/// (docs/protocol.md#what-peers-send); each entry base64 of DER, or base64 of PEM text; inner whitespace allowed.
fn x5c_leaf(header: &Map<String, Value>) -> Result<Option<Vec<u8>>, Refusal> {
    let first = match header.get("x5c") {
        None => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(items)) => {
            let mut texts = Vec::with_capacity(items.len());
            for item in items {
                texts.push(
                    item.as_str()
                        .ok_or_else(|| malformed("An 'x5c' entry is not a string."))?,
                );
            }
            *texts
                .first()
                .ok_or_else(|| malformed("The 'x5c' array is empty."))?
        }
        Some(_) => {
            return Err(malformed(
                "The 'x5c' header is neither a string nor an array.",
            ));
        }
    };
    let bytes =
        lenient_b64(first).ok_or_else(|| malformed("The 'x5c' certificate is not base64."))?;
    let cert = X509::from_der(&bytes)
        .or_else(|_| X509::from_pem(&bytes))
        .map_err(|_| malformed("The 'x5c' certificate cannot be parsed."))?;
    cert.to_der()
        .map(Some)
        .map_err(|_| malformed("The 'x5c' certificate cannot be parsed."))
}

/// The registered certificate the header points at, by `x5t#S256`, `x5t`, or (with neither)
/// the `x5c` leaf; plus the thumbprint as hex for messages.
fn find_key<'a>(
    header: &Map<String, Value>,
    x5c_leaf: Option<&[u8]>,
    app: &'a App,
) -> Result<(&'a RegisteredCert, String), Refusal> {
    let decode = |name: &str| -> Result<Option<Vec<u8>>, Refusal> {
        match header.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => lenient_b64(s)
                .map(Some)
                .ok_or_else(|| malformed(&format!("The '{name}' header is not base64."))),
            Some(_) => Err(malformed(&format!("The '{name}' header is not a string."))),
        }
    };
    let s256 = decode("x5t#S256")?;
    let sha1 = decode("x5t")?;
    let not_found = |thumb: &[u8]| {
        Refusal::new(
            700_027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'. {CERT_DOC}]",
                hex(thumb),
                app.client_id
            ),
        )
    };
    let by_s256 = |t: &[u8]| app.certs.iter().find(|c| c.sha256.as_slice() == t);
    let by_sha1 = |t: &[u8]| app.certs.iter().find(|c| c.sha1.as_slice() == t);
    match (s256, sha1) {
        (Some(s), sha1) => {
            let cert = by_s256(&s).ok_or_else(|| not_found(&s))?;
            // Both given: both must name the same certificate.
            if let Some(t) = sha1.filter(|t| cert.sha1.as_slice() != t.as_slice()) {
                return Err(not_found(&t));
            }
            Ok((cert, hex(&s)))
        }
        (None, Some(t)) => by_sha1(&t)
            .map(|c| (c, hex(&t)))
            .ok_or_else(|| not_found(&t)),
        (None, None) => {
            // Unconfirmed: whether Entra falls back to the x5c leaf for a non-SNI app.
            let leaf = x5c_leaf.ok_or_else(|| not_found(&[]))?;
            app.certs
                .iter()
                .find(|c| c.der == leaf)
                .map(|c| (c, hex(&c.sha1)))
                .ok_or_else(|| {
                    let sha1 = openssl::hash::hash(openssl::hash::MessageDigest::sha1(), leaf)
                        .map(|d| d.to_vec())
                        .unwrap_or_default();
                    not_found(&sha1)
                })
        }
    }
}

/// A time claim: a JSON number or a numeric string (MSAL.NET sends strings; docs/protocol.md#assertion-claims).
fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, Refusal> {
    let bad = || malformed(&format!("The '{name}' claim is not a number."));
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

fn string_claim<'c>(
    claims: &'c Map<String, Value>,
    name: &str,
) -> Result<Option<&'c str>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(malformed(&format!("The '{name}' claim is not a string."))),
    }
}

/// .NET's round-trip form, as Entra prints times in AADSTS700024.
fn net_time(unix: i64) -> String {
    crate::clock::rfc3339(unix).replace('Z', ".0000000Z")
}

fn check_claims(claims: &Map<String, Value>, expect: &Expect<'_>) -> Result<Checked, Refusal> {
    let audience_mismatch = || {
        Refusal::new(
            700_023,
            format!("Client assertion audience claim does not match Realm issuer. {CERT_DOC}"),
        )
    };
    match claims.get("aud") {
        Some(Value::String(aud)) if aud.eq_ignore_ascii_case(expect.audience) => {}
        Some(Value::String(_)) | None => return Err(audience_mismatch()),
        // An array (issuer + token endpoint) was refused as malformed (docs/protocol.md#assertion-audience).
        Some(_) => return Err(malformed("The 'aud' claim must be a single string.")),
    }
    let iss = string_claim(claims, "iss")?;
    let sub = string_claim(claims, "sub")?;
    if sub.is_none() || sub != iss {
        return Err(Refusal::new(
            50_048,
            format!(
                "Subject mismatches Issuer claim in the client assertion for application '{}'. {CERT_DOC}",
                expect.client_id
            ),
        ));
    }
    if !iss.is_some_and(|i| i.eq_ignore_ascii_case(expect.client_id)) {
        return Err(Refusal::new(
            700_021,
            format!(
                "Client assertion application identifier doesn't match 'client_id' parameter. {CERT_DOC}"
            ),
        ));
    }
    let exp = time_claim(claims, "exp")?;
    let nbf = time_claim(claims, "nbf")?;
    time_claim(claims, "iat")?;
    // A missing nbf shows as the epoch in Entra's text (docs/protocol.md#assertion-time-window); a missing exp is
    // treated the same way, so it is always out of range.
    let (from, until) = (nbf.unwrap_or(0), exp.unwrap_or(0));
    if from > expect.now + NBF_SKEW_SECS || until <= expect.now {
        return Err(Refusal::new(
            700_024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {CERT_DOC}",
                net_time(expect.now),
                net_time(from),
                net_time(until)
            ),
        ));
    }
    let jti = string_claim(claims, "jti")?.map(str::to_string);
    Ok(Checked { jti, exp: until })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn thumbprints_decode_in_every_encoding_clients_use() {
        let raw: Vec<u8> = (0u8..20)
            .map(|i| i.wrapping_mul(37).wrapping_add(250))
            .collect();
        let url = URL_SAFE_NO_PAD.encode(&raw);
        let std = STANDARD.encode(&raw);
        let url_padded = base64::engine::general_purpose::URL_SAFE.encode(&raw);
        for form in [
            &url,
            &std,
            &url_padded,
            &std.trim_end_matches('=').to_string(),
        ] {
            assert_eq!(lenient_b64(form).as_deref(), Some(raw.as_slice()), "{form}");
        }
        assert!(lenient_b64("not*base64").is_none());
    }

    #[test]
    fn time_formats() {
        assert_eq!(net_time(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(us_time(1_700_000_000), "11/14/2023 22:13:20");
    }
}
