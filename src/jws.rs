//! JWS compact serialization (RFC 7515) with RS256 and PS256 over OpenSSL.
//!
//! graphd signs with OpenSSL, the one constant-time RSA implementation it links, rather than
//! through `jsonwebtoken`: that crate needs aws-lc-rs (a second RSA stack) or the pure-Rust
//! `rsa` crate for its crypto, and its `EncodingKey` would hold a copy of the private key
//! that is not zeroized. The emulator verifies with the same functions.
//!
//! [`encode`] signs through [`SigningKey`], so a key that never leaves hardware (a PKCS#11
//! token) signs the same JWS as an OpenSSL key in memory.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};
use serde::Serialize;
use zeroize::Zeroizing;

/// The two signature algorithms Entra ID accepts for certificate assertions (docs/protocol.md#assertion-header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Alg {
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 bytes; header `x5t#S256`.
    #[value(name = "PS256", alias = "ps256")]
    PS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256; header `x5t` (SHA-1), for ADFS and older authorities.
    #[value(name = "RS256", alias = "rs256")]
    RS256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::PS256 => "PS256",
            Alg::RS256 => "RS256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "PS256" => Some(Alg::PS256),
            "RS256" => Some(Alg::RS256),
            _ => None,
        }
    }
}

/// base64url without padding, as JWS requires.
pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// A private key that can sign a JWS: an OpenSSL key in memory, or a key held elsewhere.
pub trait SigningKey {
    /// The RSA signature of `input` (the `header.payload` text) with `alg`.
    fn sign_jws(&self, alg: Alg, input: &[u8]) -> crate::error::Result<Vec<u8>>;

    /// The signature's length in bytes (the modulus size), to size the token once.
    fn signature_len(&self) -> usize;
}

impl SigningKey for PKeyRef<Private> {
    fn sign_jws(&self, alg: Alg, input: &[u8]) -> crate::error::Result<Vec<u8>> {
        sign(alg, self, input)
            .map_err(|e| crate::error::Error::Internal(format!("signing with OpenSSL failed: {e}")))
    }

    fn signature_len(&self) -> usize {
        self.size()
    }
}

impl SigningKey for PKey<Private> {
    fn sign_jws(&self, alg: Alg, input: &[u8]) -> crate::error::Result<Vec<u8>> {
        (**self).sign_jws(alg, input)
    }

    fn signature_len(&self) -> usize {
        self.size()
    }
}

/// Signs `input` (the `header.payload` text).
pub fn sign(alg: Alg, key: &PKeyRef<Private>, input: &[u8]) -> Result<Vec<u8>, ErrorStack> {
    let mut signer = Signer::new(MessageDigest::sha256(), key)?;
    if alg == Alg::PS256 {
        signer.set_rsa_padding(Padding::PKCS1_PSS)?;
        signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
        signer.set_rsa_mgf1_md(MessageDigest::sha256())?;
    }
    signer.sign_oneshot_to_vec(input)
}

/// Checks a signature; PS256 requires exactly a 32-byte salt, as RFC 7518 §3.5 specifies.
pub fn verify<T: HasPublic>(alg: Alg, key: &PKeyRef<T>, input: &[u8], signature: &[u8]) -> bool {
    let check = || -> Result<bool, ErrorStack> {
        let mut verifier = Verifier::new(MessageDigest::sha256(), key)?;
        if alg == Alg::PS256 {
            verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
            verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            verifier.set_rsa_mgf1_md(MessageDigest::sha256())?;
        }
        verifier.verify_oneshot(signature, input)
    };
    check().unwrap_or(false)
}

/// `base64url(header) . base64url(claims) . base64url(signature)`.
pub fn encode(
    alg: Alg,
    key: &(impl SigningKey + ?Sized),
    header: &impl Serialize,
    claims: &impl Serialize,
) -> crate::error::Result<Zeroizing<String>> {
    // Serializing plain structs of strings and numbers cannot fail.
    let header = serde_json::to_vec(header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    // Room for all three segments up front, so the string never reallocates and leaves an
    // unwiped copy of the finished token behind (a 4096-bit signature is 683 characters).
    let signature_len = key.signature_len();
    let mut out = Zeroizing::new(String::with_capacity(
        (header.len() + claims.len() + signature_len) * 4 / 3 + 8,
    ));
    URL_SAFE_NO_PAD.encode_string(&header, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut out);
    // The signature completes a bearer credential: its buffer is wiped too.
    let signature = Zeroizing::new(key.sign_jws(alg, out.as_bytes())?);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&*signature, &mut out);
    debug_assert!(out.len() <= out.capacity());
    Ok(out)
}

/// The three segments of a compact JWS, or `None` if it does not have exactly three.
pub fn split(token: &str) -> Option<(&str, &str, &str)> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((h, p, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;

    #[test]
    fn sign_and_verify_both_algorithms() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        for alg in [Alg::PS256, Alg::RS256] {
            let jws = encode(
                alg,
                &key,
                &serde_json::json!({"alg": alg.as_str()}),
                &serde_json::json!({"a": 1}),
            )
            .unwrap();
            let (h, p, s) = split(&jws).unwrap();
            let sig = URL_SAFE_NO_PAD.decode(s).unwrap();
            let input = format!("{h}.{p}");
            assert!(verify(alg, &key, input.as_bytes(), &sig));
            assert!(!verify(alg, &key, b"other", &sig));
            let other = if alg == Alg::PS256 {
                Alg::RS256
            } else {
                Alg::PS256
            };
            assert!(!verify(other, &key, input.as_bytes(), &sig));
        }
    }

    #[test]
    fn the_token_is_built_without_reallocating() {
        // A reallocation would leave an unwiped copy of the token in freed memory: the
        // capacity must still be the one asked for up front (growth at least doubles it).
        for bits in [2048, 4096] {
            let key = PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap();
            let header = serde_json::json!({"alg": "PS256", "x5c": ["A".repeat(3000)]});
            let claims = serde_json::json!({"a": 1});
            let jws = encode(Alg::PS256, &key, &header, &claims).unwrap();
            let json_len = serde_json::to_vec(&header).unwrap().len()
                + serde_json::to_vec(&claims).unwrap().len();
            assert_eq!(jws.capacity(), (json_len + bits as usize / 8) * 4 / 3 + 8);
            assert!(jws.len() <= jws.capacity());
        }
    }

    #[test]
    fn pss_with_another_salt_length_is_refused() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
        signer.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
        signer
            .set_rsa_pss_saltlen(RsaPssSaltlen::custom(20))
            .unwrap();
        signer.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
        let sig = signer.sign_oneshot_to_vec(b"x.y").unwrap();
        assert!(!verify(Alg::PS256, &key, b"x.y", &sig));
    }
}
