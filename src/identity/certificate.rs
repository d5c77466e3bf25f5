//! The certificate proof: an RSA key signs an RFC 7523 assertion that names its certificate.
//!
//! The certificate is looked at when the identity is built (`credential::peek`): that gives
//! the thumbprint for the token cache and the header choice, without parsing, decrypting or
//! prompting for the private key. The key is loaded on the first assertion, once per process,
//! with every check of `credential::load`; a token served from the cache never loads it.
//! When the certificate cannot be known without the key (a PFX, an ambiguous chain, a
//! configured thumbprint), the whole credential is loaded at once instead.
//!
//! A key in a PKCS#11 token works the same way: the token is opened and its certificate (or
//! the `--cert` file) looked at first; the login, the key lookup and its checks happen on the
//! first assertion, once per process (`pkcs11::TokenCredential`).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::x509::X509;

use super::ProofHints;
use crate::assertion::{self, AssertionParams, HeaderChoice};
use crate::credential::{self, Credential, CredentialSource, Peek, Thumbprints};
use crate::error::{CertFile, CredentialProblem, Error, Result, UsageProblem};
use crate::jws::{Alg, SigningKey};
use crate::messages;
use crate::password::PasswordSource;
use crate::pkcs11::{KeySpec, TokenCredential, TokenKey};
use crate::secret::ClientAssertion;
use crate::settings::{CertificateSpec, KeySource};

/// A certificate credential, its key loaded on first use.
pub struct CertificateProof {
    holder: Holder,
    header: HeaderChoice,
    send_x5c: bool,
    public: Public,
    loaded: OnceLock<Loaded>,
}

/// Where the key is, and what loading it needs.
enum Holder {
    Files {
        source: CredentialSource,
        /// Asked at most once, when the key is loaded (a prompt, stdin, a file).
        passwords: Mutex<PasswordSource>,
    },
    Token {
        credential: Box<TokenCredential>,
        /// One loader at a time: one login.
        loading: Mutex<()>,
    },
}

/// What is known of the certificate before the key is read.
#[derive(Debug, Clone)]
struct Public {
    thumbprints: Thumbprints,
    has_certificate: bool,
    path: std::path::PathBuf,
    file_kind: CertFile,
    /// The leaf certificate's DER (public), read by OpenSSL only for `-v`.
    leaf_der: Option<Vec<u8>>,
    /// The certificate is an object in a token: no file to upload.
    in_token: bool,
}

/// The private key (wherever it lives) and the certificate chain, once loaded.
struct Loaded {
    key: Box<dyn SigningKey + Send + Sync>,
    /// Leaf first; empty when only a thumbprint is configured.
    chain: Vec<X509>,
    x5c: Option<Vec<String>>,
}

impl Loaded {
    fn new(credential: Credential, send_x5c: bool) -> Result<Self> {
        let x5c = x5c_of(credential.chain(), send_x5c)?;
        let (key, chain) = credential.into_parts();
        Ok(Loaded {
            key: Box::new(key),
            chain,
            x5c,
        })
    }
}

impl Loaded {
    fn from_token(key: TokenKey, chain: Vec<X509>, send_x5c: bool) -> Result<Self> {
        let x5c = x5c_of(&chain, send_x5c)?;
        Ok(Loaded {
            key: Box::new(key),
            chain,
            x5c,
        })
    }
}

impl CertificateProof {
    /// Looks at the certificate and decides the header; loads the key only when the
    /// certificate cannot be known without it.
    pub fn new(spec: CertificateSpec) -> Result<Self> {
        let CertificateSpec { key, alg, send_x5c } = spec;
        let loaded = OnceLock::new();
        let (source, mut passwords) = match key {
            KeySource::Files { source, passwords } => (source, passwords),
            KeySource::Pkcs11(spec) => return Self::in_token(*spec, alg, send_x5c),
        };
        let public = match credential::peek(&source) {
            Some(peek) => {
                for w in &peek.warnings {
                    messages::warn(w);
                }
                Public::from_peek(&peek)
            }
            None => {
                let credential = load(&source, &mut passwords, true)?;
                let public = Public::from_credential(&credential);
                let _ = loaded.set(Loaded::new(credential, send_x5c)?);
                public
            }
        };
        let header = HeaderChoice::choose(alg, &public.thumbprints)
            .map_err(|p| Error::credential(Some(&public.path), p))?;
        if send_x5c && !public.has_certificate {
            return Err(Error::Usage(UsageProblem::X5cWithoutCertificate));
        }
        Ok(CertificateProof {
            holder: Holder::Files {
                source,
                passwords: Mutex::new(passwords),
            },
            header,
            send_x5c,
            public,
            loaded,
        })
    }

    /// The key is in a PKCS#11 token; the certificate in a file or next to the key.
    fn in_token(spec: KeySpec, alg: Option<Alg>, send_x5c: bool) -> Result<Self> {
        let credential = TokenCredential::open(spec)?;
        let loaded = OnceLock::new();
        let public = match credential.leaf_before_login() {
            Some(leaf) => {
                let path = PathBuf::from(credential.cert_name());
                let (_, warnings) = credential::check_validity(&leaf, &path)?;
                for w in &warnings {
                    messages::warn(w);
                }
                Public::from_token_cert(&leaf, &credential)?
            }
            None => {
                // Which certificate is the key's is known only once the key is found.
                let (key, chain, warnings) = credential.load(alg.unwrap_or(Alg::PS256))?;
                for w in &warnings {
                    messages::warn(w);
                }
                let public = Public::from_token_cert(&chain[0], &credential)?;
                let _ = loaded.set(Loaded::from_token(key, chain, send_x5c)?);
                public
            }
        };
        let header = HeaderChoice::choose(alg, &public.thumbprints)
            .map_err(|p| Error::credential(Some(&public.path), p))?;
        Ok(CertificateProof {
            holder: Holder::Token {
                credential: Box::new(credential),
                loading: Mutex::new(()),
            },
            header,
            send_x5c,
            public,
            loaded,
        })
    }

    pub fn thumbprints(&self) -> &Thumbprints {
        &self.public.thumbprints
    }

    /// The algorithm and thumbprint header every assertion carries.
    pub fn header(&self) -> &HeaderChoice {
        &self.header
    }

    /// The private key, loading it now if this is the first use. It signs in place: a key
    /// in hardware never leaves it.
    pub fn signing_key(&self) -> Result<&(dyn SigningKey + Send + Sync)> {
        Ok(self.loaded()?.key.as_ref())
    }

    /// The certificate chain, leaf first (empty when only a thumbprint is configured),
    /// loading the credential now if this is the first use.
    pub fn chain(&self) -> Result<&[X509]> {
        Ok(&self.loaded()?.chain)
    }

    /// The token credential, when the key is in a PKCS#11 token (`graphd rotate` makes the
    /// new key next to it).
    pub fn token_credential(&self) -> Option<&TokenCredential> {
        match &self.holder {
            Holder::Token { credential, .. } => Some(credential),
            Holder::Files { .. } => None,
        }
    }

    /// Where the certificate came from.
    pub fn path(&self) -> &std::path::Path {
        &self.public.path
    }

    fn loaded(&self) -> Result<&Loaded> {
        if let Some(l) = self.loaded.get() {
            return Ok(l);
        }
        let poisoned = || Error::Internal("the key loader was poisoned".into());
        let changed = || {
            Error::credential(
                Some(&self.public.path),
                CredentialProblem::ChangedWhileRunning,
            )
        };
        let loaded = match &self.holder {
            Holder::Files { source, passwords } => {
                // One loader at a time: the password is asked for once.
                let mut passwords = passwords.lock().map_err(|_| poisoned())?;
                if let Some(l) = self.loaded.get() {
                    return Ok(l);
                }
                // The certificate was looked at already (its expiry warning said once).
                let credential = load(source, &mut passwords, false)?;
                if credential.thumbprints().sha1 != self.public.thumbprints.sha1 {
                    return Err(changed());
                }
                Loaded::new(credential, self.send_x5c)?
            }
            Holder::Token {
                credential,
                loading,
            } => {
                // One loader at a time: one login.
                let _one = loading.lock().map_err(|_| poisoned())?;
                if let Some(l) = self.loaded.get() {
                    return Ok(l);
                }
                let (key, chain, _) = credential.load(self.header.alg)?;
                if Thumbprints::of_cert(&chain[0])?.sha1 != self.public.thumbprints.sha1 {
                    return Err(changed());
                }
                Loaded::from_token(key, chain, self.send_x5c)?
            }
        };
        Ok(self.loaded.get_or_init(|| loaded))
    }

    /// A new signed assertion for `audience` (the token endpoint), with a fresh `jti`.
    pub fn assertion(&self, audience: &str, client_id: &str) -> Result<ClientAssertion> {
        let loaded = self.loaded()?;
        assertion::build(
            loaded.key.as_ref(),
            &AssertionParams {
                audience,
                client_id,
                header: &self.header,
                x5c: loaded.x5c.as_deref(),
            },
        )
    }

    pub fn hints(&self) -> ProofHints {
        let t = &self.public.thumbprints;
        ProofHints {
            thumbprint_hex: Some(t.sha1_hex()),
            x5t_s256: t.x5t_s256(),
            // With only a configured thumbprint, the path is the key's: never name it for upload.
            cert_path: (self.public.has_certificate && !self.public.in_token)
                .then(|| self.public.path.clone()),
            cert_file: self.public.file_kind,
            federated: None,
        }
    }

    pub fn describe(&self) -> String {
        let subject = self
            .public
            .leaf_der
            .as_deref()
            .and_then(|der| X509::from_der(der).ok())
            .map(|c| credential::report::name_to_string(c.subject_name()));
        let key = match &self.holder {
            Holder::Files { .. } => String::new(),
            Holder::Token { credential, .. } => format!(
                ", key {} in PKCS#11 token {}",
                credential.key_uri(),
                credential.token().name()
            ),
        };
        format!(
            "certificate {} (thumbprint {}) from {}{key}, signing {}",
            subject
                .as_deref()
                .unwrap_or("(only a thumbprint is configured)"),
            self.public.thumbprints.sha1_hex(),
            self.public.path.display(),
            self.header.alg.as_str()
        )
    }
}

impl fmt::Debug for CertificateProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateProof")
            .field("thumbprint", &self.public.thumbprints.sha1_hex())
            .field("path", &self.public.path)
            .field("alg", &self.header.alg)
            .field("key_loaded", &self.loaded.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Public {
    fn from_peek(peek: &Peek) -> Self {
        Public {
            thumbprints: peek.thumbprints,
            has_certificate: true,
            path: peek.path.clone(),
            file_kind: peek.file_kind,
            leaf_der: Some(peek.leaf_der.clone()),
            in_token: false,
        }
    }

    fn from_token_cert(leaf: &X509, credential: &TokenCredential) -> Result<Self> {
        let (file_kind, in_token) = match credential.cert_file() {
            Some((_, kind)) => (*kind, false),
            None => (CertFile::Certificates, true),
        };
        Ok(Public {
            thumbprints: Thumbprints::of_cert(leaf)?,
            has_certificate: true,
            path: PathBuf::from(credential.cert_name()),
            file_kind,
            leaf_der: leaf.to_der().ok(),
            in_token,
        })
    }

    fn from_credential(c: &Credential) -> Self {
        Public {
            thumbprints: *c.thumbprints(),
            has_certificate: c.certificate().is_some(),
            path: c.path().to_path_buf(),
            file_kind: c.file_kind(),
            leaf_der: c.certificate().and_then(|cert| cert.to_der().ok()),
            in_token: false,
        }
    }
}

/// Loads the credential; `warn` prints its warnings (an expiry within 30 days).
fn load(
    source: &CredentialSource,
    passwords: &mut PasswordSource,
    warn: bool,
) -> Result<Credential> {
    let credential = credential::load(source, passwords)?;
    if warn {
        for w in credential.warnings() {
            messages::warn(w);
        }
    }
    messages::trace(&format!("credential: {credential:?}"));
    Ok(credential)
}

/// The `x5c` header value, when asked for: each certificate's DER in standard base64, leaf
/// first (RFC 7515 §4.1.6).
fn x5c_of(chain: &[X509], send_x5c: bool) -> Result<Option<Vec<String>>> {
    if !send_x5c {
        return Ok(None);
    }
    if chain.is_empty() {
        return Err(Error::Usage(UsageProblem::X5cWithoutCertificate));
    }
    chain
        .iter()
        .map(|c| {
            c.to_der()
                .map(|der| STANDARD.encode(der))
                .map_err(crate::credential::openssl_bug)
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}
