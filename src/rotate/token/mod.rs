//! Rotating a key that lives in a PKCS#11 token. The new RSA key pair is generated inside the
//! same token (sensitive, not extractable, signing only, as `gen-cert --key pkcs11:` makes
//! it) under names of its own (`LABEL.next-DATE`, a fresh random id), and its self-signed
//! certificate is signed through the token and stored next to it. Once the new key has been
//! proven, `swap` renames the objects so that the URI the user runs with names the new key and
//! certificate, and the old ones are kept as `LABEL.previous-DATE`.
//!
//! Until that rename the token's existing objects are not touched, and a failure destroys the
//! new objects again: the token is left as it was. Nothing else is ever destroyed. The login
//! is the current key's (one per process); this module never sees the PIN and never asks a
//! token for a private key's value.

mod find;
mod swap;

use std::sync::Arc;

use cryptoki::object::ObjectHandle;
use openssl::x509::{X509, X509Ref};

use super::files::{CredentialFiles, NewContents, StagedFiles};
use super::plan::{Plan, TokenPlan};
use crate::credential::openssl_bug;
use crate::error::{Error, Result, RotateCause, RotateProblem};
use crate::gen_cert;
use crate::identity::{App, CertificateProof, Identity};
use crate::jws::Alg;
use crate::pkcs11::keygen::{KeyMaker, NewKey};
use crate::pkcs11::objects::{self, object_name};
use crate::pkcs11::{CertFrom, KeySpec, Token, Uri};
use crate::settings::{CertificateSpec, KeySource, ProofSpec};

use find::{current_objects, describe_all, first_free};
pub(super) use swap::SwapFailed;

/// What kind of object, as messages say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PrivateKey,
    PublicKey,
    Certificate,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private key",
            Kind::PublicKey => "public key",
            Kind::Certificate => "certificate",
        }
    }
}

/// One object of the current key pair or certificate, with the names it has now.
#[derive(Debug, Clone)]
struct Object {
    handle: ObjectHandle,
    kind: Kind,
    label: String,
    id: Vec<u8>,
}

impl Object {
    /// `the private key object=app-key;id=%01`.
    fn describe(&self) -> String {
        format!(
            "the {} {}",
            self.kind.as_str(),
            object_name(&self.label, &self.id)
        )
    }
}

/// The current key in its token, as step 0 found it.
pub(super) struct InToken {
    spec: KeySpec,
    /// The current credential's session (read-only, logged in).
    token: Arc<Token>,
    /// The private key first, then its public key and certificate objects.
    old: Vec<Object>,
    next_label: String,
    /// What each old label gets appended in step 6: `.previous-DATE` (`.N` when taken).
    previous: String,
    /// The URI selects by `id=`: ids change hands too.
    swap_ids: bool,
    cert_file: Option<CredentialFiles>,
    /// The current certificate, which no certificate object the URI names may hold after.
    old_leaf: X509,
}

/// The label objects without one are named after.
const UNLABELLED: &str = "graphd";

fn base(label: &str) -> &str {
    if label.is_empty() { UNLABELLED } else { label }
}

/// Step 0 for a key in a token: the objects that hold the current key and certificate, that
/// each can be renamed, and the names the new and the old objects will take. The key is
/// loaded (logged in) already.
pub(super) fn check(
    proof: &CertificateProof,
    spec: KeySpec,
    leaf: &X509Ref,
    date: &str,
) -> Result<(InToken, TokenPlan), RotateCause> {
    let credential = proof
        .token_credential()
        .ok_or_else(|| Error::Internal("the key is not in a token".into()))?;
    let token = credential.token().clone();
    let key_uri = credential.key_uri().clone();
    let cert_uri = match &spec.cert {
        CertFrom::Token(u) => Some(u.as_ref().clone()),
        CertFrom::File(_) | CertFrom::NextToKey => None,
    };
    for (setting, uri) in [("--key", Some(&key_uri)), ("--cert", cert_uri.as_ref())] {
        if let Some(u) = uri.filter(|u| u.object.is_none() && u.id.is_none()) {
            return Err(RotateProblem::UnnamedObject {
                setting,
                uri: u.to_string(),
            }
            .into());
        }
    }
    if token.write_protected()? {
        return Err(RotateProblem::UnsupportedCredential {
            why: format!(
                "token {} is write-protected (CKF_WRITE_PROTECTED): the new key cannot be made in it",
                token.name()
            ),
        }
        .into());
    }
    let old = current_objects(&token, &key_uri, cert_uri.as_ref(), leaf)?;
    for o in &old {
        if !objects::modifiable(&token, o.handle)? {
            return Err(RotateProblem::NotRenamable {
                token: token.name(),
                object: o.describe(),
            }
            .into());
        }
    }
    let key_label = old[0].label.clone();
    let next = first_free(&token, |n| {
        vec![format!("{}.next-{date}{n}", base(&key_label))]
    })?;
    let next_label = format!("{}.next-{date}{next}", base(&key_label));
    let n = first_free(&token, |n| {
        old.iter()
            .map(|o| format!("{}.previous-{date}{n}", base(&o.label)))
            .collect()
    })?;
    let previous = format!(".previous-{date}{n}");
    let swap_ids = key_uri.id.is_some() || cert_uri.as_ref().is_some_and(|u| u.id.is_some());
    let (cert, cert_file) = match &spec.cert {
        CertFrom::File(path) => (
            format!("from {}", path.display()),
            Some(CredentialFiles::read_certificate(path)?),
        ),
        CertFrom::Token(u) => (format!("in the token, {u}"), None),
        CertFrom::NextToKey => ("in the token next to the key".to_string(), None),
    };
    let facts = token.facts();
    let plan = TokenPlan {
        token: format!(
            "{} ({}, serial {})",
            token.name(),
            facts.model,
            facts.serial
        ),
        key: key_uri.to_string(),
        cert,
        cert_file: cert_file.as_ref().map(|f| f.shown()[0].to_path_buf()),
        objects: describe_all(
            &old.iter()
                .map(|o| (o.kind.as_str(), object_name(&o.label, &o.id)))
                .collect::<Vec<_>>(),
        ),
        next_label: next_label.clone(),
        previous_label: format!("{}{previous}", base(&key_label)),
        swap_ids,
    };
    let in_token = InToken {
        spec,
        token,
        old,
        next_label,
        previous,
        swap_ids,
        cert_file,
        old_leaf: leaf.to_owned(),
    };
    Ok((in_token, plan))
}

/// The new key pair and certificate, made in the token under their temporary names.
pub(super) struct Made {
    maker: KeyMaker,
    key: NewKey,
    cert: X509,
    staged: Option<StagedFiles>,
    /// The user's URI with the new objects' temporary label and id.
    uri: Uri,
}

impl InToken {
    /// Step 2: the new key pair inside the token (a read-write session beside the current
    /// one), its certificate signed through the token and stored next to it, and the new
    /// certificate file staged when the certificate is in one.
    pub(super) fn generate(&self, plan: &Plan) -> Result<Made> {
        let rw = Arc::new(self.token.beside_read_write()?);
        // Logged in already (the login belongs to the application): no PIN is read here.
        rw.login(&self.spec.pin)?;
        let mut id = vec![0u8; 16];
        openssl::rand::rand_bytes(&mut id).map_err(openssl_bug)?;
        let maker = KeyMaker::beside(rw, self.next_label.clone(), id.clone());
        let mut key = maker.generate(plan.key_bits)?;
        let made = (|| {
            let cert =
                gen_cert::self_signed_for(key.key.public_key(), &plan.subject, plan.days, |tbs| {
                    key.key.sign(Alg::RS256, tbs)
                })?;
            maker.store_certificate(&mut key, &cert)?;
            let staged = match &self.cert_file {
                Some(files) => {
                    let pem = cert.to_pem().map_err(openssl_bug)?;
                    Some(files.stage(&NewContents {
                        files: vec![pem.as_slice()],
                    })?)
                }
                None => None,
            };
            Ok((cert, staged))
        })();
        let (cert, staged) = match made {
            Ok(made) => made,
            Err(e) => {
                maker.undo(key);
                return Err(e);
            }
        };
        let uri = Uri {
            object: Some(self.next_label.clone()),
            id: Some(id),
            kind: None,
            ..self.spec.key.clone()
        };
        Ok(Made {
            maker,
            key,
            cert,
            staged,
            uri,
        })
    }
}

impl Made {
    pub(super) fn certificate(&self) -> &X509Ref {
        &self.cert
    }

    pub(super) fn key_bits(&self) -> u32 {
        self.key.object.bits
    }

    /// The new objects' URI until step 6 renames them.
    pub(super) fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The identity of the new key: its objects by their temporary names, the certificate
    /// next to it, the same module and PIN source (the login is already done).
    pub(super) fn identity(
        &self,
        app: App,
        spec: &KeySpec,
        alg: Option<Alg>,
        send_x5c: bool,
    ) -> Result<Identity> {
        Identity::new(
            app,
            ProofSpec::Certificate(CertificateSpec {
                key: KeySource::Pkcs11(Box::new(KeySpec {
                    key: self.uri.clone(),
                    cert: CertFrom::NextToKey,
                    module: spec.module.clone(),
                    pin: spec.pin.clone(),
                })),
                alg,
                send_x5c,
            }),
        )
    }

    /// Destroys what step 2 made (a later step failed); the staged file goes with it.
    pub(super) fn discard(self) -> Result<()> {
        self.maker.discard(self.key)
    }
}

impl InToken {
    pub(super) fn spec(&self) -> &KeySpec {
        &self.spec
    }
}
