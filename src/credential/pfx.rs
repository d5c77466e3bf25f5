//! PKCS#12 (PFX) files: OpenSSL 3 defaults (AES-256-CBC, PBKDF2, SHA-256 MAC), legacy
//! exports (RC2-40 or 3DES, SHA-1 MAC, as old Windows and Azure Key Vault produce), empty and
//! absent passwords, and chains.

use std::path::Path;
use std::sync::OnceLock;

use openssl::error::ErrorStack;
use openssl::pkcs12::Pkcs12;

use super::Material;
use super::pem::with_password;
use crate::error::{CredentialProblem, Encrypted, Error, Result};
use crate::password::PasswordSource;

/// Whether the bytes parse as a PKCS#12 structure (before any password is tried).
pub fn parse(der: &[u8]) -> Option<Pkcs12> {
    Pkcs12::from_der(der).ok()
}

/// Loads OpenSSL's legacy provider once, so RC2 and 3DES PFX files can be decrypted.
///
/// The default provider is retained (`retain_fallbacks`), and the provider is never unloaded:
/// it lives as long as the process. Returns whether it is available.
pub fn ensure_legacy_provider() -> bool {
    static LOADED: OnceLock<bool> = OnceLock::new();
    *LOADED.get_or_init(
        || match openssl::provider::Provider::try_load(None, "legacy", true) {
            Ok(provider) => {
                // Dropping would unload it; keep it for the life of the process.
                std::mem::forget(provider);
                true
            }
            Err(_) => false,
        },
    )
}

/// Decrypts a PFX into `material`.
pub fn decode(
    pfx: &Pkcs12,
    path: &Path,
    passwords: &mut PasswordSource,
    material: &mut Material,
) -> Result<()> {
    let legacy = ensure_legacy_provider();
    let mut other_failure: Option<ErrorStack> = None;
    let parsed = with_password(Encrypted::Pfx, path, passwords, |pw| match pfx.parse2(pw) {
        Ok(p) => Some(p),
        Err(e) => {
            if !is_mac_failure(&e) {
                other_failure = Some(e);
            }
            None
        }
    });
    let parsed = match (parsed, other_failure) {
        (Ok(p), _) => p,
        // The MAC matched but decryption failed: an algorithm this OpenSSL cannot do.
        (Err(_), Some(e)) => {
            let problem = if !legacy && mentions_unsupported(&e) {
                CredentialProblem::LegacyPfxUnsupported
            } else {
                CredentialProblem::CorruptPfx
            };
            return Err(Error::credential(Some(path), problem));
        }
        (Err(e), None) => return Err(e),
    };
    material.keys.extend(parsed.pkey);
    material.certs.extend(parsed.cert);
    if let Some(ca) = parsed.ca {
        material.certs.extend(ca);
    }
    Ok(())
}

fn is_mac_failure(e: &ErrorStack) -> bool {
    e.errors().iter().any(|err| {
        err.reason()
            .is_some_and(|r| r.contains("mac verify failure"))
    })
}

fn mentions_unsupported(e: &ErrorStack) -> bool {
    e.errors().iter().any(|err| {
        err.reason()
            .is_some_and(|r| r.contains("unsupported") || r.contains("unknown cipher"))
    })
}
