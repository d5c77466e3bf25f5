//! What the certificate file says without touching the private key: the leaf certificate's
//! thumbprints and validity, for the token cache lookup.
//!
//! A cache hit needs only the thumbprint, so it must not pay for parsing (or decrypting, or
//! prompting for the password of) the key, nor for initialising OpenSSL: this reads the
//! certificate file, decodes only its certificate blocks (PEM) or the file itself (DER),
//! reads them with the small DER reader in `der.rs` and hashes them with ring. It answers
//! `None` whenever the leaf is not certain without the key (a PFX, several unrelated
//! certificates, a configured thumbprint to compare) or the certificate is not valid now: the
//! full load then decides, with all of its checks and their explanations.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::der::{self, CertInfo};
use super::{CredentialSource, EXPIRY_WARNING_DAYS, MAX_CREDENTIAL_FILE, Thumbprints, pem};
use crate::clock;
use crate::error::CertFile;
use crate::fileio;

/// The public half of a certificate credential, as far as it is known before the key is read.
#[derive(Debug, Clone)]
pub struct Peek {
    pub thumbprints: Thumbprints,
    /// The leaf certificate's DER (public), for whoever wants more than the thumbprint.
    pub leaf_der: Vec<u8>,
    /// The file the certificate is in, and what else it holds (for the upload hint).
    pub path: PathBuf,
    pub file_kind: CertFile,
    pub not_after: i64,
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
        let mut certs: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut has_key = false;
        for block in pem::blocks(&data).ok()? {
            match block.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => certs.push(block.der().ok()?),
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
        (vec![data], CertFile::Certificates)
    };
    let infos: Vec<CertInfo<'_>> = certs
        .iter()
        .map(|c| der::cert_info(c))
        .collect::<Option<_>>()?;
    let leaf = leaf_of(&infos)?;
    let info = infos[leaf];
    let now = clock::now_unix();
    if info.not_before > now || info.not_after < now {
        // Refused by the full load, with the dates.
        return None;
    }
    let mut warnings = Vec::new();
    if info.not_after - now < EXPIRY_WARNING_DAYS * 86_400 {
        warnings.push(super::expiry_warning(&source.cert, info.not_after, now));
    }
    Some(Peek {
        thumbprints: Thumbprints::of_der(&certs[leaf]),
        leaf_der: certs[leaf].to_vec(),
        path: source.cert.clone(),
        file_kind,
        not_after: info.not_after,
        warnings,
    })
}

/// The one certificate that issued none of the others (the end of the chain), if exactly one.
fn leaf_of(certs: &[CertInfo<'_>]) -> Option<usize> {
    if certs.len() == 1 {
        return Some(0);
    }
    let issues_another = |i: usize| {
        let c = &certs[i];
        certs
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && other.issuer == c.subject && other != c)
    };
    let mut ends = (0..certs.len()).filter(|i| !issues_another(*i));
    let leaf = ends.next()?;
    ends.next().is_none().then_some(leaf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info<'a>(issuer: &'a [u8], subject: &'a [u8]) -> CertInfo<'a> {
        CertInfo {
            issuer,
            subject,
            not_before: 0,
            not_after: 1,
        }
    }

    #[test]
    fn the_leaf_is_the_end_of_the_chain_in_any_order() {
        let root = info(b"root", b"root");
        let inter = info(b"root", b"inter");
        let leaf = info(b"inter", b"leaf");
        assert_eq!(leaf_of(&[leaf]), Some(0));
        assert_eq!(leaf_of(&[root, inter, leaf]), Some(2));
        assert_eq!(leaf_of(&[inter, leaf, root]), Some(1));
        // Two unrelated certificates: which one is the key's is not known without the key.
        assert_eq!(leaf_of(&[leaf, info(b"x", b"y")]), None);
    }
}
