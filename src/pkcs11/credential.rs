//! A certificate credential whose private key is in a token: the token opened, the
//! certificate found (in a file, or in the token next to the key), the key found after
//! logging in and checked as a key file would be (RSA, 2048+ bits, matches the certificate).
//!
//! The certificate is looked at before any login, so a token served from graphd's token cache
//! never asks for the PIN; [`TokenCredential::load`] logs in on first use, once per process.

use std::path::PathBuf;
use std::sync::Arc;

use cryptoki::mechanism::MechanismType;
use cryptoki::object::ObjectClass;
use openssl::x509::X509;

use super::module::Module;
use super::objects::{self, KeyObject};
use super::pin::PinSource;
use super::session::Token;
use super::sign::{self, TokenKey, Ways};
use super::uri::{ObjectType, Uri};
use super::{CertFrom, KeySpec};
use crate::credential::{self, CredentialSource, MIN_RSA_BITS, Material};
use crate::error::{CertFile, Error, Pkcs11Problem, Result};
use crate::jws::Alg;
use crate::password::PasswordSource;

/// The token, and the certificates that may be the key's.
#[derive(Debug)]
pub struct TokenCredential {
    key_uri: Uri,
    pins: PinSource,
    token: Arc<Token>,
    offers: Vec<MechanismType>,
    /// From the file (all of it, chain included), or the token's objects the URI names.
    candidates: Vec<X509>,
    /// Where the certificate came from, for messages: a file or a URI.
    cert_name: String,
    cert_file: Option<(PathBuf, CertFile)>,
    /// The certificate is to be found next to the key, by its id, once the key is known.
    next_to_key: bool,
}

/// What was found after logging in, nothing refused yet (`graphd cert` reports it as it is).
#[derive(Debug)]
pub struct Found {
    pub key: KeyObject,
    /// Leaf first, then its issuers; empty when no certificate matches the key.
    pub chain: Vec<X509>,
    pub ways: Ways,
    /// The certificate's origin: a file path or a `pkcs11:` URI.
    pub cert_name: String,
}

impl TokenCredential {
    /// Opens the token and looks for the certificate, without logging in.
    pub fn open(spec: KeySpec) -> Result<Self> {
        let KeySpec {
            key,
            cert,
            module,
            pin,
        } = spec;
        check_kind("--key", &key, ObjectType::Private)?;
        if let CertFrom::Token(c) = &cert {
            check_kind("--cert", c, ObjectType::Cert)?;
        }
        let token = Arc::new(Token::open(Module::open(&module)?, &key, false)?);
        let offers = sign::signing_mechanisms(&token)?;
        let mut cred = TokenCredential {
            key_uri: key.clone(),
            pins: pin,
            token,
            offers,
            candidates: Vec::new(),
            cert_name: String::new(),
            cert_file: None,
            next_to_key: false,
        };
        match cert {
            CertFrom::File(path) => {
                let source = CredentialSource {
                    cert: path.clone(),
                    key: None,
                    thumbprint: None,
                };
                let mut material = Material::default();
                credential::read_into(&source.cert, &mut PasswordSource::none(), &mut material)?;
                let kind = material
                    .files
                    .first()
                    .map_or(CertFile::Certificates, |f| f.1);
                cred.candidates = material.certs;
                cred.cert_name = path.display().to_string();
                cred.cert_file = Some((path, kind));
            }
            CertFrom::Token(uri) => {
                cred.candidates = cred.token_certs(&uri)?;
                cred.cert_name = cred.cert_uri(&uri);
            }
            CertFrom::NextToKey => {
                let uri = key.with_kind(Some(ObjectType::Cert));
                if key.object.is_some() || key.id.is_some() {
                    cred.candidates = cred.token_certs(&uri)?;
                }
                cred.cert_name = cred.cert_uri(&uri);
                cred.next_to_key = true;
            }
        }
        Ok(cred)
    }

    fn token_certs(&self, uri: &Uri) -> Result<Vec<X509>> {
        let template = objects::template(ObjectClass::CERTIFICATE, uri);
        Ok(objects::certificates(&self.token, &template)?
            .into_iter()
            .map(|c| c.cert)
            .collect())
    }

    /// `uri` on this token: its label in front, no module.
    fn cert_uri(&self, uri: &Uri) -> String {
        Uri {
            token: uri
                .token
                .clone()
                .or_else(|| Some(self.token.facts().label.clone())),
            kind: Some(ObjectType::Cert),
            ..uri.clone()
        }
        .to_string()
    }

    /// The certificate file, when the certificate is in one (for the upload hint).
    pub fn cert_file(&self) -> Option<&(PathBuf, CertFile)> {
        self.cert_file.as_ref()
    }

    /// The leaf certificate, when it is certain before logging in: a file `credential::peek`
    /// can read, or exactly one certificate object.
    pub fn leaf_before_login(&self) -> Option<X509> {
        match &self.cert_file {
            Some((path, _)) => {
                let peek = credential::peek(&CredentialSource {
                    cert: path.clone(),
                    key: None,
                    thumbprint: None,
                })?;
                self.candidates
                    .iter()
                    .find(|c| {
                        credential::Thumbprints::of_cert(c)
                            .is_ok_and(|t| t.sha1 == peek.thumbprints.sha1)
                    })
                    .cloned()
            }
            None if self.candidates.len() == 1 => self.candidates.first().cloned(),
            None => None,
        }
    }

    /// Where the certificate comes from: its file, or its `pkcs11:` URI.
    pub fn cert_name(&self) -> &str {
        &self.cert_name
    }

    pub fn key_uri(&self) -> &Uri {
        &self.key_uri
    }

    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }

    /// Logs in (once) and finds the key and its certificate; refuses nothing about them.
    pub fn find(&self) -> Result<Found> {
        self.token.login(&self.pins)?;
        let wanted = self.key_uri.to_string();
        let handles = objects::find(
            &self.token,
            &objects::template(ObjectClass::PRIVATE_KEY, &self.key_uri),
        )?;
        let handle = match handles.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::Pkcs11(Pkcs11Problem::KeyNotFound {
                    wanted,
                    token: self.token.name(),
                    present: objects::private_key_names(&self.token)?,
                }));
            }
            several => {
                let mut matching = Vec::new();
                for h in several {
                    let (label, id) = objects::label_and_id(&self.token, *h)?;
                    matching.push(objects::object_name(&label, &id));
                }
                return Err(Error::Pkcs11(Pkcs11Problem::SeveralKeys {
                    wanted,
                    matching,
                }));
            }
        };
        let key = objects::key_object(&self.token, handle)?;
        let mut candidates = self.candidates.clone();
        let mut cert_name = self.cert_name.clone();
        if self.next_to_key && !key.id.is_empty() {
            // Private key objects are often invisible before login: look again, by the
            // key's own id.
            let by_id = Uri {
                id: Some(key.id.clone()),
                ..Uri::default()
            };
            let found = self.token_certs(&by_id)?;
            if !found.is_empty() {
                cert_name = self.cert_uri(&by_id);
                candidates = found;
            }
        }
        let chain = match key
            .public
            .as_ref()
            .and_then(|p| credential::find_leaf(p, &candidates))
        {
            Some(leaf) if self.cert_file.is_some() => credential::order_chain(candidates, leaf),
            Some(leaf) => self.chain_in_token(candidates.swap_remove(leaf))?,
            None => Vec::new(),
        };
        let ways = Ways::choose(&self.offers, key.allowed.as_deref());
        Ok(Found {
            key,
            chain,
            ways,
            cert_name,
        })
    }

    /// The leaf, then each issuer the token holds (for `x5c`), never unrelated certificates.
    fn chain_in_token(&self, leaf: X509) -> Result<Vec<X509>> {
        let mut all = self.token_certs(&Uri::default())?;
        let mut chain = vec![leaf];
        loop {
            let last = chain.last().expect("the chain starts with the leaf");
            let issuer = all.iter().position(|c| {
                last.issuer_name()
                    .try_cmp(c.subject_name())
                    .is_ok_and(|o| o.is_eq())
                    && c.to_der().ok() != last.to_der().ok()
            });
            match issuer {
                Some(i) if chain.len() < 10 => chain.push(all.swap_remove(i)),
                _ => return Ok(chain),
            }
        }
    }

    /// [`find`](Self::find), then every check a key file gets, and a signing mechanism for
    /// `alg`: the key, ready to sign, and the chain.
    pub fn load(&self, alg: Alg) -> Result<(TokenKey, Vec<X509>, Vec<String>)> {
        let found = self.find()?;
        let wanted = self.key_uri.to_string();
        let key = &found.key;
        let Some(public) = key.public.clone().filter(|_| key.key_type == "RSA") else {
            return Err(Error::Pkcs11(Pkcs11Problem::NotRsa {
                wanted,
                kind: key.key_type.clone(),
            }));
        };
        if key.bits < MIN_RSA_BITS {
            return Err(Error::Pkcs11(Pkcs11Problem::WeakKey {
                wanted,
                bits: key.bits,
            }));
        }
        if key.always_authenticate {
            return Err(Error::Pkcs11(Pkcs11Problem::AlwaysAuthenticate { wanted }));
        }
        if found.ways.get(alg).is_none() {
            return Err(Error::Pkcs11(Pkcs11Problem::NoMechanism {
                token: self.token.name(),
                alg: alg.as_str(),
            }));
        }
        if found.chain.is_empty() {
            return Err(Error::Pkcs11(
                if self.candidates.is_empty() && self.cert_file.is_none() && self.next_to_key {
                    Pkcs11Problem::NoCertificate { wanted }
                } else {
                    Pkcs11Problem::KeyMismatch {
                        wanted,
                        cert: found.cert_name.clone(),
                    }
                },
            ));
        }
        let path = PathBuf::from(&found.cert_name);
        let (_, warnings) = credential::check_validity(&found.chain[0], &path)?;
        crate::messages::trace(&format!(
            "pkcs11: key {} in token {}: RSA {} bits, signing {} with {}",
            key.name(),
            self.token.name(),
            key.bits,
            alg.as_str(),
            found.ways.get(alg).map_or("-", |w| w.describe())
        ));
        let token_key = TokenKey::new(self.token.clone(), key.handle, public, found.ways);
        Ok((token_key, found.chain, warnings))
    }
}

/// `--key` must name a private key, `--cert` a certificate (or say no type at all).
fn check_kind(setting: &'static str, uri: &Uri, want: ObjectType) -> Result<()> {
    match uri.kind {
        Some(k) if k != want => Err(Error::Pkcs11(Pkcs11Problem::WrongType {
            setting,
            kind: k.as_str(),
        })),
        _ => Ok(()),
    }
}
