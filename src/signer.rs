//! The app identity a command signs with: resolved settings, the loaded credential and the
//! algorithm, built once per process and used for every assertion.

use crate::cli::{AppArgs, CredentialArgs, SigningArgs};
use crate::config::{self, AppSettings, ConfigFile};
use crate::credential::{self, Credential};
use crate::error::{CertFile, Error, Result};
use crate::jws::Alg;
use crate::messages;

/// What every command that signs needs: the app, the loaded credential and the algorithm.
pub struct Signer {
    pub app: AppSettings,
    pub credential: Credential,
    pub alg: Alg,
    pub send_x5c: bool,
    /// The `--config` file, for the settings later steps resolve (network, Graph).
    pub config: ConfigFile,
}

impl Signer {
    /// Resolves settings (usage errors first, before any file is read), then loads the credential.
    pub fn prepare(cred: &CredentialArgs, app: &AppArgs, signing: &SigningArgs) -> Result<Self> {
        let config = ConfigFile::load(app.config.as_deref())?;
        let app = config::resolve_app(app, &config)?;
        let signing = config::resolve_signing(signing, &config)?;
        let (source, mut passwords) = config::resolve_credential(cred, &config)?;
        let credential = load_credential(&source, &mut passwords)?;
        let alg = choose_alg(signing.alg, &credential)?;
        Ok(Signer {
            app,
            credential,
            alg,
            send_x5c: signing.send_x5c,
            config,
        })
    }

    /// What the certificate file holds, for the upload command in a refusal's hint. Read
    /// again only on that error path; an unreadable file counts as certificates only.
    pub fn cert_file(&self) -> CertFile {
        let path = self.credential.path();
        let Ok(data) = credential::read_limited(path, credential::MAX_CREDENTIAL_FILE) else {
            return CertFile::Certificates;
        };
        let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
        if has(b"-----BEGIN ") {
            if has(b"PRIVATE KEY-----") {
                CertFile::PemWithKey
            } else {
                CertFile::Certificates
            }
        } else if openssl::x509::X509::from_der(&data).is_ok() {
            CertFile::Certificates
        } else {
            CertFile::Pfx
        }
    }

    /// A fresh assertion for this app's token endpoint.
    pub fn assertion(&self) -> Result<crate::secret::ClientAssertion> {
        let audience = self.app.token_endpoint();
        crate::assertion::build(
            &self.credential,
            &crate::assertion::AssertionParams {
                audience: &audience,
                client_id: &self.app.client_id,
                alg: self.alg,
                send_x5c: self.send_x5c,
            },
        )
    }
}

/// Loads a credential and prints its warnings (an expiry within 30 days).
pub fn load_credential(
    source: &credential::CredentialSource,
    passwords: &mut crate::password::PasswordSource,
) -> Result<Credential> {
    let credential = credential::load(source, passwords)?;
    for w in credential.warnings() {
        messages::warn(w);
    }
    messages::trace(&format!("credential: {credential:?}"));
    Ok(credential)
}

/// PS256 unless RS256 was asked for, or only a SHA-1 thumbprint is known.
fn choose_alg(asked: Option<Alg>, credential: &Credential) -> Result<Alg> {
    let has_s256 = credential.thumbprints().sha256.is_some();
    match asked {
        Some(Alg::PS256) if !has_s256 => Err(Error::credential(
            Some(credential.path()),
            crate::error::CredentialProblem::NeedCertificateForPs256,
        )),
        Some(alg) => Ok(alg),
        None if has_s256 => Ok(Alg::PS256),
        None => {
            messages::trace("only a SHA-1 thumbprint is configured: signing with RS256 and x5t");
            Ok(Alg::RS256)
        }
    }
}
