//! Certificate credentials: any PEM or PFX a user has -> one RSA key, its certificate, the chain.
//!
//! Files are recognised by content, never by name. Loading refuses what Entra ID would refuse
//! later (non-RSA keys, RSA below 2048 bits, a key that matches no certificate, a certificate
//! outside its validity window), so the failure is local, early and explained (`checks`).
//! This module never prints key material and never keeps a copy of it outside OpenSSL's
//! `PKey` (which clears private components when freed) or zeroizing buffers.

mod checks;
mod der;
mod peek;
mod pem;
mod pfx;
mod pfx_cost;
pub mod report;
mod thumbprint;

use std::fmt;
use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::{X509, X509Ref};

use checks::expiry_warning;
pub use checks::{check_certificate, check_key, check_validity, find_leaf, key_kind, order_chain};
pub use peek::{Peek, peek};
pub use pfx::ensure_legacy_provider;
pub use thumbprint::Thumbprints;

use crate::clock;
use crate::error::{CertFile, ConfigProblem, CredentialProblem, Error, Result};
use crate::fileio;
use crate::password::PasswordSource;

/// The largest credential file graphd reads: a PEM chain of a dozen certificates is ~25 KiB.
pub const MAX_CREDENTIAL_FILE: u64 = 1024 * 1024;

/// Entra ID's minimum RSA key size (AADSTS50032).
pub const MIN_RSA_BITS: u32 = 2048;
/// A certificate expiring sooner than this loads with a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Where the credential comes from: `--cert`, `--key`, and a configured SHA-1 thumbprint.
#[derive(Debug, Clone, Default)]
pub struct CredentialSource {
    pub cert: PathBuf,
    pub key: Option<PathBuf>,
    /// The quickstart's `thumbprint`: with a key-only file it stands in for the certificate.
    pub thumbprint: Option<String>,
}

/// Everything found in the credential files, before any rule is applied.
#[derive(Default)]
pub struct Material {
    pub keys: Vec<PKey<Private>>,
    pub certs: Vec<X509>,
    /// The file the (first) private key came from.
    pub key_path: Option<PathBuf>,
    /// What each file read held, in reading order (for hints: never read a file twice).
    pub files: Vec<(PathBuf, CertFile)>,
    /// How many of `keys` a (non-empty) password protected in their file.
    pub protected_keys: usize,
    /// Files holding a key no password protects that other users can read, with their mode:
    /// warned about once the credential is accepted (`Credential::from_material`).
    pub exposed_keys: Vec<(PathBuf, u32)>,
}

/// Reads one credential file (PEM, PFX, DER certificate or DER key) into `material`.
pub fn read_into(
    path: &Path,
    passwords: &mut PasswordSource,
    material: &mut Material,
) -> Result<()> {
    let file = fileio::read_bounded_file(path, MAX_CREDENTIAL_FILE)
        .map_err(|p| Error::credential(Some(path), CredentialProblem::File(p)))?;
    let (keys, protected) = (material.keys.len(), material.protected_keys);
    read_bytes(&file.bytes, path, passwords, material)?;
    let unprotected = (material.keys.len() - keys) > (material.protected_keys - protected);
    if unprotected && file.readable_by_others() {
        material.exposed_keys.push((path.to_path_buf(), file.mode));
    }
    Ok(())
}

/// Warns, once per file, that `path` holds a private key no password protects and that other
/// users may read it (`mode`): anyone who can read it can sign in as the app. OpenSSH refuses
/// such a key ("UNPROTECTED PRIVATE KEY FILE!"); graphd says how to fix it and carries on.
fn warn_key_readable_by_others(path: &Path, mode: u32) {
    crate::messages::warn_once(&format!(
        "{} holds an unencrypted private key that other users can read (mode {mode:04o}); \
         anyone who reads it can sign in as the app: chmod 600 {}",
        path.display(),
        crate::safe_text::shell_word(&path.display().to_string())
    ));
}

/// Decodes the contents of one credential file (PEM, PFX, DER certificate or DER key) into
/// `material`; `path` only names the file in messages. [`read_into`] without the file system,
/// so the decoding can be fuzzed.
pub fn read_bytes(
    data: &[u8],
    path: &Path,
    passwords: &mut PasswordSource,
    material: &mut Material,
) -> Result<()> {
    let keys_before = material.keys.len();
    let certs_before = material.certs.len();
    let mut kind = CertFile::Certificates;
    if pem::looks_like_pem(data) {
        pem::decode(data, path, passwords, material)?;
        if material.keys.len() > keys_before {
            kind = CertFile::PemWithKey;
        }
    } else if let Some(p12) = pfx::parse(data) {
        pfx::decode(&p12, data, path, passwords, material)?;
        kind = CertFile::Pfx;
    } else if let Ok(cert) = X509::from_der(data) {
        material.certs.push(cert);
    } else if let Ok(key) = PKey::private_key_from_der(data) {
        material.keys.push(key);
        kind = CertFile::PemWithKey;
    } else {
        return Err(Error::credential(
            Some(path),
            CredentialProblem::Unrecognized,
        ));
    }
    if material.keys.len() == keys_before && material.certs.len() == certs_before {
        // A CSR, a public key, parameters: PEM, but nothing graphd can use.
        return Err(Error::credential(
            Some(path),
            CredentialProblem::NothingUsable,
        ));
    }
    if material.keys.len() > keys_before && material.key_path.is_none() {
        material.key_path = Some(path.to_path_buf());
    }
    material.files.push((path.to_path_buf(), kind));
    Ok(())
}

/// Reads the files named by `source`.
pub fn read_material(
    source: &CredentialSource,
    passwords: &mut PasswordSource,
) -> Result<Material> {
    let mut material = Material::default();
    read_into(&source.cert, passwords, &mut material)?;
    if let Some(key) = &source.key {
        read_into(key, passwords, &mut material)?;
    }
    // The same key given twice (a combined PEM passed as --cert and --key) is one key.
    let mut unique: Vec<PKey<Private>> = Vec::with_capacity(material.keys.len());
    for k in material.keys.drain(..) {
        if !unique.iter().any(|u| u.public_eq(&k)) {
            unique.push(k);
        }
    }
    material.keys = unique;
    // Likewise a certificate in both files (gen-cert's key.pem holds the key and its
    // certificate; cert.pem the certificate again): one certificate, not a chain of two.
    let mut seen: Vec<Vec<u8>> = Vec::with_capacity(material.certs.len());
    material.certs.retain(|c| match c.to_der() {
        Ok(der) if seen.contains(&der) => false,
        Ok(der) => {
            seen.push(der);
            true
        }
        Err(_) => true,
    });
    Ok(material)
}

/// Loads and checks a credential.
pub fn load(source: &CredentialSource, passwords: &mut PasswordSource) -> Result<Credential> {
    let material = read_material(source, passwords)?;
    Credential::from_material(material, source)
}

/// A loaded, checked credential: an RSA key of at least 2048 bits and, normally, its
/// certificate with the rest of the chain.
pub struct Credential {
    key: PKey<Private>,
    /// Leaf first, then its issuers, then any other certificates in file order.
    chain: Vec<X509>,
    thumbprints: Thumbprints,
    path: PathBuf,
    /// What the file at `path` holds, for the upload command in a refusal's hint.
    file_kind: CertFile,
    not_after: Option<i64>,
    warnings: Vec<String>,
}

impl Credential {
    /// Applies Entra's rules to what was read.
    pub fn from_material(mut m: Material, source: &CredentialSource) -> Result<Self> {
        // The file a key problem is blamed on: where the key was found, else where the user
        // said it would be (--key), else the one file given.
        let key_path = m
            .key_path
            .clone()
            .or_else(|| source.key.clone())
            .unwrap_or_else(|| source.cert.clone());
        let key_fail = |p| Error::credential(Some(&key_path), p);
        let cert_fail = |p| Error::credential(Some(&source.cert), p);
        if m.keys.len() > 1 {
            return Err(key_fail(CredentialProblem::MultipleKeys));
        }
        let Some(key) = m.keys.pop() else {
            return Err(if m.certs.is_empty() {
                cert_fail(CredentialProblem::NothingUsable)
            } else {
                key_fail(CredentialProblem::NoPrivateKey)
            });
        };
        check_key(&key).map_err(key_fail)?;
        let configured = match &source.thumbprint {
            Some(t) => Some(
                Thumbprints::from_sha1_hex(t).ok_or(Error::Config(ConfigProblem::Thumbprint))?,
            ),
            None => None,
        };
        if m.certs.is_empty() {
            // The quickstart's own shape: a key file plus the certificate's SHA-1 thumbprint.
            if configured.is_some() {
                for (path, mode) in &m.exposed_keys {
                    warn_key_readable_by_others(path, *mode);
                }
            }
            return match configured {
                Some(thumbprints) => Ok(Credential {
                    key,
                    chain: Vec::new(),
                    thumbprints,
                    path: key_path,
                    file_kind: CertFile::PemWithKey,
                    not_after: None,
                    warnings: Vec::new(),
                }),
                None => Err(key_fail(CredentialProblem::NoCertificate)),
            };
        }
        let file_kind = m
            .files
            .iter()
            .find(|(p, _)| *p == source.cert)
            .map_or(CertFile::Certificates, |(_, k)| *k);
        let leaf = find_leaf(&key, &m.certs).ok_or_else(|| {
            cert_fail(CredentialProblem::KeyMismatch {
                certificates: m.certs.len(),
            })
        })?;
        let chain = order_chain(m.certs, leaf);
        let thumbprints = Thumbprints::of_cert(&chain[0])?;
        if let Some(c) = configured
            && c.sha1 != thumbprints.sha1
        {
            return Err(cert_fail(CredentialProblem::ThumbprintMismatch {
                configured: c.sha1_hex(),
                actual: thumbprints.sha1_hex(),
            }));
        }
        let (not_after, warnings) = check_validity(&chain[0], &source.cert)?;
        for (path, mode) in &m.exposed_keys {
            warn_key_readable_by_others(path, *mode);
        }
        Ok(Credential {
            key,
            chain,
            thumbprints,
            path: source.cert.clone(),
            file_kind,
            not_after,
            warnings,
        })
    }

    /// The private key.
    ///
    /// # Security
    ///
    /// For signing only. Never serialize it.
    pub fn key(&self) -> &PKeyRef<Private> {
        &self.key
    }

    /// The key and the chain (leaf first), for a holder that keeps them apart.
    pub fn into_parts(self) -> (PKey<Private>, Vec<X509>) {
        (self.key, self.chain)
    }

    /// The leaf certificate, unless only a thumbprint was configured.
    pub fn certificate(&self) -> Option<&X509Ref> {
        self.chain.first().map(|c| &**c)
    }

    /// Leaf first, then issuers: the order `x5c` requires (RFC 7515 §4.1.6).
    pub fn chain(&self) -> &[X509] {
        &self.chain
    }

    pub fn thumbprints(&self) -> &Thumbprints {
        &self.thumbprints
    }

    /// The file the certificate came from (for hints such as the upload command).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the certificate file holds (certificates only, PEM with the key, PFX), as read.
    pub fn file_kind(&self) -> CertFile {
        self.file_kind
    }

    pub fn not_after(&self) -> Option<i64> {
        self.not_after
    }

    /// Things worth telling the user that do not stop the run (an expiry within 30 days).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field(
                "subject",
                &self
                    .certificate()
                    .map(|c| report::name_to_string(c.subject_name())),
            )
            .field("thumbprint", &self.thumbprints.sha1_hex())
            .field("not_after", &self.not_after.map(clock::rfc3339))
            .finish_non_exhaustive()
    }
}

/// Certificates in a PEM file, ignoring any key next to them (the emulator's registrations).
pub fn certificates_from_pem(data: &[u8]) -> Result<Vec<X509>, CredentialProblem> {
    let mut out = Vec::new();
    for block in pem::blocks(data)? {
        if matches!(block.label.as_str(), "CERTIFICATE" | "X509 CERTIFICATE") {
            let der = block.der()?;
            out.push(
                X509::from_der(&der).map_err(|_| CredentialProblem::CorruptPem {
                    label: block.label.clone(),
                    line: block.line,
                })?,
            );
        }
    }
    Ok(out)
}

pub(crate) fn openssl_bug(e: openssl::error::ErrorStack) -> Error {
    Error::Internal(format!("OpenSSL: {e}"))
}
