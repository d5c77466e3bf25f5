//! The proof of possession Graph's `addKey` and `removeKey` require: a short JWT signed with
//! the private key of one of the application's currently valid certificates
//! (<https://learn.microsoft.com/graph/application-rollkey-prooftoken>,
//! docs/protocol.md#certificate-self-rotation).
//!
//! Claims: `aud` the Azure AD Graph app id `00000002-0000-0000-c000-000000000000`, `iss` the
//! application's object id (not its appId), `nbf` now and `exp` `nbf` + 10 minutes, plus `iat`
//! as Microsoft's C# sample (`JsonWebTokenHandler`) adds it. Header: RS256 with `x5t` (base64url
//! SHA-1 of the certificate) and `kid` (the SHA-1 thumbprint as upper-case hex), which is what
//! that sample's `X509SigningCredentials` writes; the page itself does not describe the
//! header. Segments are base64url without `=` padding: Graph answers
//! `Authentication_MissingOrMalformed` to a padded proof.
//!
//! It signs through [`SigningKey`] only, so a key in hardware signs the same proof. It never
//! prints the signed proof: [`PossessionProof`] is a redacting secret type, and
//! [`ProofClaims`] (what `--dry-run` shows) holds no signature.

use std::fmt;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::credential::Thumbprints;
use crate::error::Result;
use crate::jws::{self, Alg, SigningKey};

/// The audience Graph documents for the proof: the Azure AD Graph application id.
pub const AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// `exp` - `nbf`: the 10 minutes the documentation asks for, and the most Graph allows.
pub const LIFETIME_SECS: i64 = 600;

/// The proof's header (RFC 7515 §4.1: `alg`, `typ`, `x5t` §4.1.7, `kid` §4.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofHeader {
    pub alg: &'static str,
    pub typ: &'static str,
    pub x5t: String,
    pub kid: String,
}

/// The proof's claims: public, and what `--dry-run` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofClaims {
    pub aud: String,
    pub iss: String,
    pub nbf: i64,
    pub exp: i64,
    pub iat: i64,
}

/// A signed proof. Whoever holds it can add or remove keys on the application for ten
/// minutes (with a Graph token of that application), so it is handled as a secret.
pub struct PossessionProof(Zeroizing<String>);

impl PossessionProof {
    /// The compact JWS.
    ///
    /// # Security
    ///
    /// Only for the body of the `addKey` / `removeKey` request. Never log or print it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PossessionProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PossessionProof([redacted])")
    }
}

/// The header for a proof signed by the key of the certificate with these thumbprints.
pub fn header(signer: &Thumbprints) -> ProofHeader {
    ProofHeader {
        alg: Alg::RS256.as_str(),
        typ: "JWT",
        x5t: signer.x5t(),
        kid: signer.sha1_hex(),
    }
}

/// The claims of a proof for the application `object_id`, valid from `now` for
/// [`LIFETIME_SECS`]. `audience` is [`AUDIENCE`] unless overridden (a hidden flag, until the
/// audience is confirmed against a real tenant).
pub fn claims(object_id: &str, audience: &str, now: i64) -> ProofClaims {
    ProofClaims {
        aud: audience.to_string(),
        iss: object_id.to_string(),
        nbf: now,
        exp: now + LIFETIME_SECS,
        iat: now,
    }
}

/// Signs a proof: `base64url(header).base64url(claims).base64url(RS256 signature)`, unpadded.
pub fn sign(
    key: &(dyn SigningKey + Send + Sync),
    header: &ProofHeader,
    claims: &ProofClaims,
) -> Result<PossessionProof> {
    let jwt = jws::encode(Alg::RS256, key, header, claims)?;
    Ok(PossessionProof(jwt))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use serde_json::Value;

    use super::*;

    const OBJECT_ID: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";

    fn thumbprints() -> Thumbprints {
        Thumbprints::of_der(b"not really a certificate, but any bytes have digests")
    }

    fn segment(s: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap()
    }

    #[test]
    fn claims_follow_the_documentation() {
        let c = claims(OBJECT_ID, AUDIENCE, 1_700_000_000);
        assert_eq!(c.aud, "00000002-0000-0000-c000-000000000000");
        assert_eq!(c.iss, OBJECT_ID);
        assert_eq!((c.nbf, c.iat), (1_700_000_000, 1_700_000_000));
        assert_eq!(c.exp - c.nbf, 600, "nbf + 10 minutes");
    }

    #[test]
    fn header_names_the_certificate_as_the_csharp_sample_does() {
        let t = thumbprints();
        let h = header(&t);
        assert_eq!(h.alg, "RS256");
        assert_eq!(h.typ, "JWT");
        assert_eq!(URL_SAFE_NO_PAD.decode(&h.x5t).unwrap(), t.sha1);
        assert_eq!(h.kid.len(), 40);
        assert_eq!(h.kid, h.kid.to_ascii_uppercase());
        assert_eq!(h.kid, t.sha1_hex());
    }

    #[test]
    fn a_signed_proof_is_unpadded_rs256_and_verifies() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let t = thumbprints();
        // Lengths that would need padding in standard base64 are common; try several issuers.
        for object_id in [OBJECT_ID, "a", "ab", "abc"] {
            let c = claims(object_id, AUDIENCE, 1_700_000_001);
            let proof = sign(&key, &header(&t), &c).unwrap();
            let text = proof.expose_secret();
            assert!(!text.contains('='), "no padding: {text}");
            assert!(!text.contains('+') && !text.contains('/'), "base64url");
            let (h, p, s) = jws::split(text).unwrap();
            let hv = segment(h);
            assert_eq!(hv["alg"], "RS256");
            assert_eq!(hv["x5t"], t.x5t());
            assert_eq!(hv["kid"], t.sha1_hex());
            let pv = segment(p);
            assert_eq!(pv["aud"], AUDIENCE);
            assert_eq!(pv["iss"], object_id);
            assert_eq!(
                pv["exp"].as_i64().unwrap() - pv["nbf"].as_i64().unwrap(),
                600
            );
            let sig = URL_SAFE_NO_PAD.decode(s).unwrap();
            assert!(jws::verify(
                Alg::RS256,
                &key,
                format!("{h}.{p}").as_bytes(),
                &sig
            ));
        }
    }

    #[test]
    fn the_proof_is_never_shown() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let proof = sign(
            &key,
            &header(&thumbprints()),
            &claims(OBJECT_ID, AUDIENCE, 1),
        )
        .unwrap();
        let shown = format!("{proof:?}");
        assert_eq!(shown, "PossessionProof([redacted])");
        assert!(!shown.contains("eyJ"));
        // What --dry-run prints has no signature in it.
        let claims_json = serde_json::to_string(&claims(OBJECT_ID, AUDIENCE, 1)).unwrap();
        assert!(!claims_json.contains('.'), "{claims_json}");
    }
}
