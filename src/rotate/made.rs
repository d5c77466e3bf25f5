//! The new credential between steps 2 and 6: files staged next to the current ones, or a key
//! pair and certificate made inside the token under temporary names. Either proves itself
//! through an identity of its own (step 5), and is discarded when a step before 6 fails, so
//! that nothing of a failed run is left behind.

use openssl::x509::X509Ref;
use zeroize::Zeroizing;

use super::files::{CredentialFiles, Layout, NewContents, StagedFiles};
use super::{Prepared, Target, token};
use crate::client::Client;
use crate::credential::{Thumbprints, openssl_bug};
use crate::error::{Error, Result};
use crate::gen_cert::{self, Generated, Request};
use crate::identity::Identity;
use crate::messages;
use crate::password::PasswordSource;
use crate::safe_text::shell_word;
use crate::secret::Password;
use crate::settings::{CertificateSpec, KeySource, ProofSpec};

/// The new key and its certificate, not yet in place.
pub(super) enum Made {
    Files {
        generated: Generated,
        staged: StagedFiles,
    },
    Token(Box<token::Made>),
}

impl Made {
    /// Step 2: a new key as the current one is kept: in files of the same layout, or in the
    /// same token.
    pub(super) fn generate(p: &Prepared<'_>) -> Result<Made> {
        match &p.target {
            Target::Files {
                files,
                new_password,
            } => {
                let generated = gen_cert::generate(&Request {
                    subject: &p.plan.subject,
                    days: p.plan.days,
                    key_bits: p.plan.key_bits,
                })?;
                let contents = new_contents(&generated, files, new_password.as_ref())?;
                let staged = files.stage(&NewContents {
                    files: contents.iter().map(|c| c.as_slice()).collect(),
                })?;
                Ok(Made::Files { generated, staged })
            }
            Target::Token(t) => Ok(Made::Token(Box::new(t.generate(&p.plan)?))),
        }
    }

    pub(super) fn certificate(&self) -> &X509Ref {
        match self {
            Made::Files { generated, .. } => generated.certificate(),
            Made::Token(t) => t.certificate(),
        }
    }

    pub(super) fn thumbprints(&self) -> Result<Thumbprints> {
        Thumbprints::of_cert(self.certificate())
    }

    pub(super) fn cert_pem(&self) -> Result<Vec<u8>> {
        self.certificate().to_pem().map_err(openssl_bug)
    }

    /// Where the new key is, for step 2's report.
    pub(super) fn whereabouts(&self) -> String {
        match self {
            Made::Files { generated, .. } => format!("RSA {} bits", generated.key_bits()),
            Made::Token(t) => format!(
                "RSA {} bits inside the token, sensitive and not extractable, as {}",
                t.key_bits(),
                shell_word(&t.uri().to_string())
            ),
        }
    }

    /// The identity of the new key, loaded as it will be from now on: from the staged files,
    /// or from the token's new objects.
    pub(super) fn identity(&self, client: &Client, p: &Prepared<'_>) -> Result<Identity> {
        let app = client.identity.app().clone();
        match (self, &p.target) {
            (Made::Files { staged, .. }, Target::Files { new_password, .. }) => {
                let passwords = match new_password {
                    Some(pw) => PasswordSource::fixed(pw.clone()),
                    None => PasswordSource::none(),
                };
                Identity::new(
                    app,
                    ProofSpec::Certificate(CertificateSpec {
                        key: KeySource::Files {
                            source: staged.source(),
                            passwords,
                        },
                        alg: p.alg,
                        send_x5c: p.send_x5c,
                    }),
                )
            }
            (Made::Token(t), Target::Token(current)) => {
                t.identity(app, current.spec(), p.alg, p.send_x5c)
            }
            _ => Err(Error::Internal(
                "the new key is not kept where the current one is".into(),
            )),
        }
    }

    /// Removes what step 2 made, after a later step failed; says what is left, if anything.
    pub(super) fn discard(self) -> Option<String> {
        match self {
            // Dropping the staged files removes them.
            Made::Files { .. } => None,
            Made::Token(t) => {
                let uri = shell_word(&t.uri().to_string());
                match (*t).discard() {
                    Ok(()) => {
                        messages::info(&format!(
                            "rotate: destroyed the new key pair and certificate ({uri}) again; the token's objects are as they were"
                        ));
                        None
                    }
                    Err(e) => Some(format!(
                        "the new objects {uri} could not be destroyed ({e}): remove them with the token's own tool"
                    )),
                }
            }
        }
    }
}

/// The new files' contents, in the current layout, under the current password.
fn new_contents(
    g: &Generated,
    files: &CredentialFiles,
    password: Option<&Password>,
) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    Ok(match files.layout() {
        Layout::Combined => vec![g.credential_pem(password)?],
        Layout::Pair if files.key_file_holds_certificate() => {
            vec![Zeroizing::new(g.cert_pem()?), g.credential_pem(password)?]
        }
        Layout::Pair => vec![Zeroizing::new(g.cert_pem()?), g.key_pem(password)?],
        Layout::Pfx => {
            let empty = Password::new(String::new());
            vec![g.pfx(password.unwrap_or(&empty))?]
        }
        Layout::Certificate => vec![Zeroizing::new(g.cert_pem()?)],
    })
}
