//! RFC 7523 client assertions for Entra ID certificate credentials.
//!
//! The header choice lives here and only here. Microsoft's certificate-credentials page
//! (<https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials>, ms.date
//! 2025-01-04) specifies `PS256` with `x5t#S256`; older copies of the page, ADFS and the Azure
//! SDKs for Python and Rust use `RS256` with the SHA-1 `x5t`. graphd defaults to the current
//! form and offers the older one with `--alg RS256` (docs/protocol.md#assertion-header).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::clock;
use crate::credential::Credential;
use crate::error::{CredentialProblem, Error, Result};
use crate::jws::{self, Alg};
use crate::secret::ClientAssertion;

/// Assertion lifetime: Microsoft recommends 5-10 minutes after `nbf` (docs/protocol.md#assertion-claims).
pub const LIFETIME_SECS: i64 = 600;

/// What an assertion is for.
#[derive(Debug, Clone)]
pub struct AssertionParams<'a> {
    /// The exact token endpoint URL the assertion will be posted to (docs/protocol.md#assertion-audience).
    pub audience: &'a str,
    pub client_id: &'a str,
    pub alg: Alg,
    /// Put the chain in `x5c` for subject name + issuer authentication (docs/protocol.md#x5c-chain).
    pub send_x5c: bool,
}

#[derive(Serialize)]
struct Header {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<String>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5c: Option<Vec<String>>,
}

/// The claims, as JSON numbers and strings (docs/protocol.md#inferred-rules).
#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

/// Builds and signs a client assertion valid from now for [`LIFETIME_SECS`].
pub fn build(credential: &Credential, params: &AssertionParams<'_>) -> Result<ClientAssertion> {
    build_at(credential, params, clock::now_unix())
}

/// As [`build`], at a given time (tests, and the emulator's own checks).
pub fn build_at(
    credential: &Credential,
    params: &AssertionParams<'_>,
    now: i64,
) -> Result<ClientAssertion> {
    let thumbprints = credential.thumbprints();
    let (x5t, x5t_s256) = match params.alg {
        Alg::PS256 => {
            let s256 = thumbprints.x5t_s256().ok_or_else(|| {
                Error::credential(
                    Some(credential.path()),
                    CredentialProblem::NeedCertificateForPs256,
                )
            })?;
            (None, Some(s256))
        }
        Alg::RS256 => (Some(thumbprints.x5t()), None),
    };
    let x5c = if params.send_x5c {
        if credential.chain().is_empty() {
            return Err(Error::usage(
                "--send-x5c needs the certificate, but only a thumbprint was configured",
                Some("give the certificate with --cert (a PEM or PFX holding it)".to_string()),
            ));
        }
        let mut chain = Vec::with_capacity(credential.chain().len());
        for cert in credential.chain() {
            let der = cert
                .to_der()
                .map_err(|e| Error::Internal(format!("OpenSSL: {e}")))?;
            chain.push(STANDARD.encode(der));
        }
        Some(chain)
    } else {
        None
    };
    let header = Header {
        alg: params.alg.as_str(),
        typ: "JWT",
        x5t,
        x5t_s256,
        x5c,
    };
    let claims = Claims {
        aud: params.audience,
        iss: params.client_id,
        sub: params.client_id,
        // uuid's v4 draws from the OS RNG (getrandom).
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: now,
        iat: now,
        exp: now + LIFETIME_SECS,
    };
    let mut jwt = jws::encode(params.alg, credential.key(), &header, &claims)
        .map_err(|e| Error::Internal(format!("signing the assertion failed: {e}")))?;
    Ok(ClientAssertion::new(std::mem::take(&mut *jwt)))
}
