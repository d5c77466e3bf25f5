//! What the certificate file says without touching the private key: the leaf certificate's
//! thumbprints and validity, for the token cache lookup.
//!
//! A cache hit needs only the thumbprint, so it must not pay for parsing (or decrypting, or
//! prompting for the password of) the key. This reads the certificate file, decodes only its
//! certificate blocks (PEM) or the file itself (DER), and answers `None` whenever the leaf is
//! not certain without the key (a PFX, several unrelated certificates, a configured thumbprint
//! to compare): the full load then decides, with all of its checks.

use std::path::PathBuf;

use openssl::x509::X509;

use super::{CredentialSource, EXPIRY_WARNING_DAYS, MAX_CREDENTIAL_FILE, Thumbprints, pem};
use crate::clock;
use crate::error::CertFile;
use crate::fileio;

/// The public half of a certificate credential, as far as it is known before the key is read.
#[derive(Debug, Clone)]
pub struct Peek {
    pub thumbprints: Thumbprints,
    /// The file the certificate is in, and what else it holds (for the upload hint).
    pub path: PathBuf,
    pub file_kind: CertFile,
    pub not_after: Option<i64>,
    /// The certificate's subject, for `-v`.
    pub subject: String,
    /// The expiry warning the full load would print.
    pub warnings: Vec<String>,
}

/// The leaf certificate of `source.cert` when it is certain without the key, and valid now.
/// Every unusual case answers `None` (never an error): the full load explains it.
pub fn peek(source: &CredentialSource) -> Option<Peek> {
    if source.thumbprint.is_some() {
        // The configured thumbprint must be compared with the certificate: the full load does.
        return None;
    }
    let data = fileio::read_bounded(&source.cert, MAX_CREDENTIAL_FILE).ok()?;
    let (certs, file_kind) = if pem::looks_like_pem(&data) {
        let blocks = pem::blocks(&data).ok()?;
        let mut certs = Vec::new();
        let mut has_key = false;
        for block in &blocks {
            match block.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => {
                    certs.push(X509::from_der(&block.der().ok()?).ok()?);
                }
                label if label.ends_with("PRIVATE KEY") => has_key = true,
                _ => {}
            }
        }
        let kind = if has_key {
            CertFile::PemWithKey
        } else {
            CertFile::Certificates
        };
        (certs, kind)
    } else {
        (vec![X509::from_der(&data).ok()?], CertFile::Certificates)
    };
    let leaf = leaf_of(&certs)?;
    let now = clock::now_unix();
    let not_before = clock::asn1_to_unix(leaf.not_before());
    let not_after = clock::asn1_to_unix(leaf.not_after());
    if not_before.is_some_and(|nb| nb > now) || not_after.is_some_and(|na| na < now) {
        // Refused by the full load, with the dates.
        return None;
    }
    let mut warnings = Vec::new();
    if let Some(na) = not_after.filter(|na| *na - now < EXPIRY_WARNING_DAYS * 86_400) {
        warnings.push(super::expiry_warning(&source.cert, na, now));
    }
    Some(Peek {
        thumbprints: Thumbprints::of_cert(leaf).ok()?,
        path: source.cert.clone(),
        file_kind,
        not_after,
        subject: super::report::name_to_string(leaf.subject_name()),
        warnings,
    })
}

/// The one certificate that issued none of the others (the end of the chain), if exactly one.
fn leaf_of(certs: &[X509]) -> Option<&X509> {
    if certs.len() == 1 {
        return certs.first();
    }
    let issues_another = |c: &X509| {
        certs.iter().any(|other| {
            !std::ptr::eq(c, other)
                && other
                    .issuer_name()
                    .try_cmp(c.subject_name())
                    .is_ok_and(|o| o.is_eq())
                && other.to_der().ok() != c.to_der().ok()
        })
    };
    let mut ends = certs.iter().filter(|c| !issues_another(c));
    let leaf = ends.next()?;
    ends.next().is_none().then_some(leaf)
}
