//! The rules Entra ID applies to a certificate credential, applied here first so that a
//! refusal is local, early and explained: an RSA key of at least [`MIN_RSA_BITS`] bits, a
//! certificate within its validity window (with a warning within [`EXPIRY_WARNING_DAYS`] of
//! its end), the leaf that matches the key, and the chain in `x5c` order.
//!
//! It reads no file and never touches private key material beyond asking a key its type,
//! size and public half.

use std::path::Path;

use openssl::pkey::{HasPublic, Id, PKeyRef};
use openssl::x509::{X509, X509Ref};

use super::{EXPIRY_WARNING_DAYS, MIN_RSA_BITS};
use crate::clock;
use crate::error::{CredentialProblem, Error, Result};

/// Refuses a certificate outside its validity window (naming `path`); returns its expiry
/// and the warning for one that expires within [`EXPIRY_WARNING_DAYS`].
pub fn check_validity(cert: &X509Ref, path: &Path) -> Result<(Option<i64>, Vec<String>)> {
    let now = clock::now_unix();
    let not_before = clock::asn1_to_unix(cert.not_before());
    let not_after = clock::asn1_to_unix(cert.not_after());
    if let Some(nb) = not_before.filter(|nb| *nb > now) {
        return Err(Error::credential(
            Some(path),
            CredentialProblem::NotYetValid {
                not_before: clock::rfc3339(nb),
            },
        ));
    }
    if let Some(na) = not_after.filter(|na| *na < now) {
        return Err(Error::credential(
            Some(path),
            CredentialProblem::Expired {
                not_after: clock::rfc3339(na),
            },
        ));
    }
    let mut warnings = Vec::new();
    if let Some(na) = not_after.filter(|na| *na - now < EXPIRY_WARNING_DAYS * 86_400) {
        warnings.push(expiry_warning(path, na, now));
    }
    Ok((not_after, warnings))
}

/// A certificate on its own (`graphd cert` on a file of certificates only): one Entra ID
/// would accept as a credential, RSA of at least 2048 bits and within its validity window.
/// Returns the warnings worth showing.
pub fn check_certificate(cert: &X509Ref, path: &Path) -> Result<Vec<String>> {
    let public = cert.public_key().map_err(|_| {
        Error::credential(
            Some(path),
            CredentialProblem::NotRsa {
                kind: "unknown".into(),
            },
        )
    })?;
    check_key(&public).map_err(|p| Error::credential(Some(path), p))?;
    check_validity(cert, path).map(|(_, warnings)| warnings)
}

/// The warning for a certificate that expires within [`EXPIRY_WARNING_DAYS`].
pub(super) fn expiry_warning(path: &Path, not_after: i64, now: i64) -> String {
    format!(
        "the certificate in {} expires on {} (in {} days): create and upload a new one soon (graphd gen-cert)",
        path.display(),
        clock::rfc3339(not_after),
        (not_after - now) / 86_400
    )
}

/// RSA, at least 2048 bits.
pub fn check_key<T: HasPublic>(key: &PKeyRef<T>) -> Result<(), CredentialProblem> {
    if key.id() != Id::RSA {
        return Err(CredentialProblem::NotRsa {
            kind: key_kind(key.id()),
        });
    }
    if key.bits() < MIN_RSA_BITS {
        return Err(CredentialProblem::WeakKey { bits: key.bits() });
    }
    Ok(())
}

/// A readable name for a key type.
pub fn key_kind(id: Id) -> String {
    match id {
        Id::RSA => "RSA",
        Id::RSA_PSS => "RSA-PSS (restricted)",
        Id::EC => "EC",
        Id::DSA => "DSA",
        Id::ED25519 => "Ed25519",
        Id::ED448 => "Ed448",
        Id::X25519 => "X25519",
        Id::DH => "DH",
        _ => "not RSA",
    }
    .to_string()
}

/// The certificate whose public key is the key's, wherever it stands.
pub fn find_leaf<T: HasPublic>(key: &PKeyRef<T>, certs: &[X509]) -> Option<usize> {
    certs
        .iter()
        .position(|c| c.public_key().is_ok_and(|pk| pk.public_eq(key)))
}

/// Leaf first, then each issuer found among the rest, then the remaining certificates.
pub fn order_chain(mut certs: Vec<X509>, leaf: usize) -> Vec<X509> {
    let mut chain = vec![certs.remove(leaf)];
    // A self-signed certificate is its own issuer: the DER comparison stops the walk there.
    loop {
        let last = chain.last().expect("chain starts with the leaf");
        let issuer = certs.iter().position(|c| {
            last.issuer_name()
                .try_cmp(c.subject_name())
                .is_ok_and(|o| o.is_eq())
                && c.to_der().ok() != last.to_der().ok()
        });
        match issuer {
            Some(i) => chain.push(certs.remove(i)),
            None => break,
        }
    }
    chain.extend(certs);
    chain
}
