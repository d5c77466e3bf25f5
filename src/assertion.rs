//! RFC 7523 client assertions for Entra ID certificate credentials.
//!
//! The header choice lives here and only here. Microsoft's certificate-credentials page
//! (<https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials>, ms.date
//! 2025-01-04) specifies `PS256` with `x5t#S256`; older copies of the page, ADFS and the Azure
//! SDKs for Python and Rust use `RS256` with the SHA-1 `x5t`. graphd defaults to the current
//! form and offers the older one with `--alg RS256` (docs/protocol.md#assertion-header).

use serde::Serialize;

use crate::clock;
use crate::credential::Thumbprints;
use crate::error::{CredentialProblem, Result};
use crate::jws::{self, Alg, SigningKey};
use crate::messages;
use crate::secret::ClientAssertion;

/// Assertion lifetime: Microsoft recommends 5-10 minutes after `nbf`
/// (docs/protocol.md#assertion-claims).
pub const LIFETIME_SECS: i64 = 600;

/// The algorithm and the thumbprint header of an identity's assertions, chosen once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderChoice {
    pub alg: Alg,
    /// `x5t` (SHA-1) with RS256, `x5t#S256` with PS256: base64url without padding.
    thumbprint: String,
}

impl HeaderChoice {
    /// PS256 with `x5t#S256` unless RS256 was asked for, or only a SHA-1 thumbprint is known
    /// (the quickstart's key file plus `thumbprint`), which allows RS256 with `x5t` only.
    pub fn choose(
        asked: Option<Alg>,
        thumbprints: &Thumbprints,
    ) -> Result<Self, CredentialProblem> {
        let s256 = thumbprints.x5t_s256();
        match (asked, s256) {
            (Some(Alg::PS256), None) => Err(CredentialProblem::NeedCertificateForPs256),
            (Some(Alg::PS256) | None, Some(thumbprint)) => Ok(HeaderChoice {
                alg: Alg::PS256,
                thumbprint,
            }),
            (Some(Alg::RS256), _) => Ok(HeaderChoice {
                alg: Alg::RS256,
                thumbprint: thumbprints.x5t(),
            }),
            (None, None) => {
                messages::trace(
                    "only a SHA-1 thumbprint is configured: signing with RS256 and x5t",
                );
                Ok(HeaderChoice {
                    alg: Alg::RS256,
                    thumbprint: thumbprints.x5t(),
                })
            }
        }
    }
}

/// What an assertion is for.
#[derive(Debug, Clone)]
pub struct AssertionParams<'a> {
    /// The exact token endpoint URL the assertion will be posted to
    /// (docs/protocol.md#assertion-audience).
    pub audience: &'a str,
    pub client_id: &'a str,
    pub header: &'a HeaderChoice,
    /// The chain for `x5c` (standard base64 of each DER certificate, leaf first), for subject
    /// name + issuer authentication (docs/protocol.md#x5c-chain); `None` to leave `x5c` out.
    pub x5c: Option<&'a [String]>,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<&'a str>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5c: Option<&'a [String]>,
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
pub fn build(
    key: &(impl SigningKey + ?Sized),
    params: &AssertionParams<'_>,
) -> Result<ClientAssertion> {
    build_at(key, params, clock::now_unix())
}

/// As [`build`], at a given time (tests, and the emulator's own checks).
pub fn build_at(
    key: &(impl SigningKey + ?Sized),
    params: &AssertionParams<'_>,
    now: i64,
) -> Result<ClientAssertion> {
    let choice = params.header;
    let (x5t, x5t_s256) = match choice.alg {
        Alg::PS256 => (None, Some(choice.thumbprint.as_str())),
        Alg::RS256 => (Some(choice.thumbprint.as_str()), None),
    };
    let header = Header {
        alg: choice.alg.as_str(),
        typ: "JWT",
        x5t,
        x5t_s256,
        x5c: params.x5c,
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
    let mut jwt = jws::encode(choice.alg, key, &header, &claims)?;
    Ok(ClientAssertion::new(std::mem::take(&mut *jwt)))
}
