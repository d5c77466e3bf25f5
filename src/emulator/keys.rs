//! The emulator's own token-signing key, its JWKS entry, and the app-only access tokens it
//! issues and later checks on the Graph side.
//!
//! The key is generated once per process (RSA key generation is slow and test suites start
//! many emulators) and never leaves the process.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use serde_json::{Value, json};

use crate::jws::{self, Alg};

/// Graph's application id, one of the audiences Graph accepts (docs/protocol.md#access-token).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Graph's app ID URI, the usual audience of a Graph token.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

pub struct SigningKey {
    key: PKey<Private>,
    cert_der: Vec<u8>,
    /// `kid` and `x5t`: base64url SHA-1 of the certificate, as Entra's v1 keys carry.
    pub kid: String,
}

/// The process-wide signing key (generated on first use).
pub fn signing_key() -> Result<&'static SigningKey, String> {
    static KEY: OnceLock<Result<SigningKey, String>> = OnceLock::new();
    KEY.get_or_init(|| {
        generate().map_err(|e| format!("cannot create the emulator's signing key: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

fn generate() -> Result<SigningKey, openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", "graphd emulator token signing")?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = BigNum::from_u32(1)?.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    b.set_not_after(&*Asn1Time::days_from_now(3650)?)?;
    b.sign(&key, MessageDigest::sha256())?;
    let cert_der = b.build().to_der()?;
    let kid = URL_SAFE_NO_PAD.encode(hash(MessageDigest::sha1(), &cert_der)?);
    Ok(SigningKey { key, cert_der, kid })
}

impl SigningKey {
    /// The JWKS entry (RFC 7517) with `x5c`, as Entra publishes its keys.
    pub fn jwk(&self, issuer: &str) -> Value {
        let (n, e) = match self.key.rsa() {
            Ok(rsa) => (
                URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
                URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
            ),
            Err(_) => (String::new(), String::new()),
        };
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": n,
            "e": e,
            "x5c": [STANDARD.encode(&self.cert_der)],
            "issuer": issuer,
        })
    }

    /// Signs an access token (RS256, header as Entra's v1 tokens, with its `nonce`; docs/protocol.md#access-token).
    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        let nonce = URL_SAFE_NO_PAD.encode(random::<16>());
        let header =
            json!({"typ": "JWT", "nonce": nonce, "alg": "RS256", "x5t": self.kid, "kid": self.kid});
        jws::encode(Alg::RS256, &self.key, &header, claims)
            .map(|z| z.to_string())
            .map_err(|e| format!("signing a token failed: {e}"))
    }

    /// Checks an RS256 signature by this key over `header.payload`.
    pub fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        jws::verify(Alg::RS256, &self.key, input, signature)
    }
}

/// Random bytes from OpenSSL's CSPRNG (zeroes only if it fails, which it does not on a
/// seeded system).
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let _ = openssl::rand::rand_bytes(&mut out);
    out
}

/// A GUID derived from `parts` (deterministic: the same app gets the same object id).
pub fn derived_guid(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    let digest = hash(MessageDigest::sha256(), joined.as_bytes())
        .map(|d| d.to_vec())
        .unwrap_or_else(|_| vec![0; 32]);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

/// `uti`: 22 base64url characters like Entra's, carrying the token's sequence number.
pub fn uti(seq: u64) -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&seq.to_be_bytes());
    b[8..].copy_from_slice(&random::<8>());
    URL_SAFE_NO_PAD.encode(b)
}

/// The sequence number in a `uti`, if it is one the emulator made.
pub fn uti_seq(uti: &str) -> Option<u64> {
    let b = URL_SAFE_NO_PAD.decode(uti).ok()?;
    let bytes: [u8; 8] = b.get(..8)?.try_into().ok()?;
    (b.len() == 16).then(|| u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_tokens() {
        let k = signing_key().unwrap();
        let t = k.sign(&json!({"aud": GRAPH_RESOURCE})).unwrap();
        let (h, p, s) = jws::split(&t).unwrap();
        let sig = URL_SAFE_NO_PAD.decode(s).unwrap();
        assert!(k.verify(format!("{h}.{p}").as_bytes(), &sig));
        assert!(!k.verify(format!("{h}.{p}x").as_bytes(), &sig));
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
        assert_eq!(header["kid"], k.kid.as_str());
        assert_eq!(k.jwk("i")["kid"], k.kid.as_str());
        assert_eq!(k.jwk("i")["e"], "AQAB");
    }

    #[test]
    fn uti_carries_the_sequence() {
        let u = uti(42);
        assert_eq!(u.len(), 22);
        assert_eq!(uti_seq(&u), Some(42));
        assert_eq!(uti_seq("short"), None);
        assert_eq!(derived_guid(&["a", "b"]), derived_guid(&["a", "b"]));
        assert_ne!(derived_guid(&["a", "b"]), derived_guid(&["ab"]));
        assert!(crate::cloud::is_guid(&derived_guid(&["x"])));
    }
}
