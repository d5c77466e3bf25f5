//! PKCS#12 (PFX) files: OpenSSL 3 defaults (AES-256-CBC, PBKDF2, SHA-256 MAC), legacy
//! exports (RC2-40 or 3DES, SHA-1 MAC, as old Windows and Azure Key Vault produce), empty and
//! absent passwords, and chains.

use std::path::Path;
use std::sync::OnceLock;

use openssl::error::ErrorStack;
use openssl::pkcs12::{ParsedPkcs12_2, Pkcs12};

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

/// Decrypts a PFX (`der`, parsed as `pfx`) into `material`, once its iteration counts are
/// known to be sane (`pfx_cost`): before OpenSSL derives any key, a password is asked for, or
/// the MAC is probed.
pub fn decode(
    pfx: &Pkcs12,
    der: &[u8],
    path: &Path,
    passwords: &mut PasswordSource,
    material: &mut Material,
) -> Result<()> {
    super::pfx_cost::check(der).map_err(|p| Error::credential(Some(path), p))?;
    // A failure other than the MAC's means the MAC matched: the password was right.
    let mut other_failure: Option<ErrorStack> = None;
    let parsed = with_password(Encrypted::Pfx, path, passwords, |pw| {
        match parse_with(pfx, pw) {
            Ok(p) => Some(p),
            Err(e) => {
                if !is_mac_failure(&e) {
                    other_failure = Some(e);
                }
                None
            }
        }
    });
    let (parsed, protected) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let problem = if has_no_mac(pfx) {
                CredentialProblem::PfxWithoutMac
            } else {
                match other_failure {
                    Some(f) if mentions_unsupported(&f) && !ensure_legacy_provider() => {
                        CredentialProblem::LegacyPfxUnsupported
                    }
                    Some(_) => CredentialProblem::CorruptPfx,
                    None => return Err(e),
                }
            };
            return Err(Error::credential(Some(path), problem));
        }
    };
    if protected {
        material.protected_keys += usize::from(parsed.pkey.is_some());
    }
    material.keys.extend(parsed.pkey);
    material.certs.extend(parsed.cert);
    if let Some(ca) = parsed.ca {
        material.certs.extend(ca);
    }
    Ok(())
}

/// Parses with `password`; if the MAC matched but decryption failed, loads OpenSSL's legacy
/// provider (RC2, 3DES) and tries once more. Modern PFX files never pay for loading it.
fn parse_with(pfx: &Pkcs12, password: &str) -> Result<ParsedPkcs12_2, ErrorStack> {
    pfx.parse2(password).or_else(|e| {
        if !is_mac_failure(&e) && ensure_legacy_provider() {
            pfx.parse2(password)
        } else {
            Err(e)
        }
    })
}

/// Whether the PFX has no integrity MAC. OpenSSL 3.0's PKCS12_parse verifies the MAC for
/// any non-empty password and reports "mac absent" before deriving a key, so this probe is
/// cheap; such a file can be opened only if nothing in it is encrypted.
fn has_no_mac(pfx: &Pkcs12) -> bool {
    pfx.parse2("graphd-mac-probe").err().is_some_and(|e| {
        e.errors()
            .iter()
            .any(|err| err.reason().is_some_and(|r| r.contains("mac absent")))
    })
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
