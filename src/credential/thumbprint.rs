//! Certificate thumbprints: the SHA-1 and SHA-256 digests of the DER that name a certificate
//! in the portal (hex) and in assertion headers (`x5t`, `x5t#S256`, base64url).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::x509::X509Ref;
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};

use super::openssl_bug;
use crate::error::Result;

/// SHA-1 and SHA-256 digests of a certificate's DER, the basis of `x5t` and `x5t#S256`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Thumbprints {
    pub sha1: [u8; 20],
    /// Absent when only a SHA-1 thumbprint was configured, without the certificate.
    pub sha256: Option<[u8; 32]>,
}

impl Thumbprints {
    /// Digests of DER bytes (RFC 7515 §4.1.7 and §4.1.8: over the DER, not the PEM).
    ///
    /// Hashed with ring, not OpenSSL: a certificate is public, and this runs on every token
    /// cache hit, which must not pay for initialising OpenSSL (SHA-1 here names a certificate,
    /// as the portal and `x5t` do; it protects nothing).
    pub fn of_der(der: &[u8]) -> Self {
        let mut out = Thumbprints {
            sha1: [0; 20],
            sha256: Some([0; 32]),
        };
        out.sha1
            .copy_from_slice(digest(&SHA1_FOR_LEGACY_USE_ONLY, der).as_ref());
        if let Some(s) = out.sha256.as_mut() {
            s.copy_from_slice(digest(&SHA256, der).as_ref());
        }
        out
    }

    pub fn of_cert(cert: &X509Ref) -> Result<Self> {
        Ok(Self::of_der(&cert.to_der().map_err(openssl_bug)?))
    }

    /// Parses a SHA-1 thumbprint as the portal or PowerShell shows it (hex, any case,
    /// optional `:` or spaces).
    pub fn from_sha1_hex(text: &str) -> Option<Self> {
        let hex: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        if hex.len() != 40 {
            return None;
        }
        let mut sha1 = [0u8; 20];
        for (i, byte) in sha1.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Thumbprints { sha1, sha256: None })
    }

    /// Uppercase hex of the SHA-1 digest, as the Azure portal shows it.
    pub fn sha1_hex(&self) -> String {
        self.sha1.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The `x5t` header value: base64url (unpadded) of the SHA-1 digest.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha1)
    }

    /// The `x5t#S256` header value: base64url (unpadded) of the SHA-256 digest.
    pub fn x5t_s256(&self) -> Option<String> {
        self.sha256.map(|d| URL_SAFE_NO_PAD.encode(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_encodings() {
        let t = Thumbprints::of_der(b"not really a certificate");
        assert_eq!(t.sha1_hex().len(), 40);
        assert!(
            t.sha1_hex()
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(t.x5t().len(), 27);
        assert_eq!(t.x5t_s256().unwrap().len(), 43);
        assert!(!t.x5t().contains('='));
        let back = Thumbprints::from_sha1_hex(&t.sha1_hex().to_lowercase()).unwrap();
        assert_eq!(back.sha1, t.sha1);
        assert_eq!(back.x5t_s256(), None);
        let colons: Vec<String> = t.sha1.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            Thumbprints::from_sha1_hex(&colons.join(":")).unwrap().sha1,
            t.sha1
        );
        assert!(Thumbprints::from_sha1_hex("ABC").is_none());
        assert!(Thumbprints::from_sha1_hex(&"G".repeat(40)).is_none());
    }
}
