//! `gen-cert --key pkcs11:...`'s token side: an RSA key pair generated inside the token
//! (`CKA_SENSITIVE` true, `CKA_EXTRACTABLE` false, signing only), and the certificate stored
//! in the token next to it (same label and id).
//!
//! What the token made is read back and checked: a key the token reports as extractable or not
//! sensitive is destroyed again and refused. Objects already in the token are never replaced
//! unless the caller says so, and then only after the new ones exist.

use std::sync::Arc;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, CertificateType, KeyType, ObjectClass, ObjectHandle};
use openssl::x509::X509Ref;

use super::module::Module;
use super::objects::{self, KeyObject};
use super::pin::PinSource;
use super::session::Token;
use super::sign::{self, TokenKey, Ways};
use super::uri::Uri;
use crate::error::{Error, Pkcs11Problem, Result};

/// A token opened read-write and logged in, for generating a key in it.
#[derive(Debug)]
pub struct KeyMaker {
    token: Arc<Token>,
    label: String,
    id: Vec<u8>,
}

/// The new key: ready to sign, with what the token says about it.
#[derive(Debug)]
pub struct NewKey {
    pub key: TokenKey,
    pub object: KeyObject,
    handles: Vec<ObjectHandle>,
}

impl NewKey {
    /// The private key, the public key, then the certificate once it is stored.
    pub fn handles(&self) -> &[ObjectHandle] {
        &self.handles
    }
}

impl KeyMaker {
    /// Opens the token `uri` names (read-write) and logs in. The new objects take the URI's
    /// `object` label and its `id`, or a fresh random 16-byte id.
    pub fn open(module: Module, uri: &Uri, pins: &PinSource) -> Result<KeyMaker> {
        let label = uri.object.clone().unwrap_or_default();
        let token = Arc::new(Token::open(module, uri, true)?);
        token.login(pins)?;
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => {
                let mut id = vec![0u8; 16];
                openssl::rand::rand_bytes(&mut id).map_err(crate::credential::openssl_bug)?;
                id
            }
        };
        Ok(KeyMaker { token, label, id })
    }

    /// A maker on `token` (opened read-write and logged in) whose objects take `label` and
    /// `id`: `graphd rotate` names the new key apart from the current one until it works.
    pub fn beside(token: Arc<Token>, label: String, id: Vec<u8>) -> KeyMaker {
        KeyMaker { token, label, id }
    }

    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// Every key or certificate object with the new objects' label or id.
    pub fn existing(&self) -> Result<Vec<(ObjectHandle, String)>> {
        let mut out: Vec<(ObjectHandle, String)> = Vec::new();
        for (class, what) in [
            (ObjectClass::PRIVATE_KEY, "a private key"),
            (ObjectClass::PUBLIC_KEY, "a public key"),
            (ObjectClass::CERTIFICATE, "a certificate"),
        ] {
            let mut templates = vec![vec![
                Attribute::Class(class),
                Attribute::Id(self.id.clone()),
            ]];
            if !self.label.is_empty() {
                templates.push(vec![
                    Attribute::Class(class),
                    Attribute::Label(self.label.as_bytes().to_vec()),
                ]);
            }
            for t in templates {
                for h in objects::find(&self.token, &t)? {
                    if out.iter().all(|(seen, _)| *seen != h) {
                        let (label, id) = objects::label_and_id(&self.token, h)?;
                        out.push((h, format!("{what} ({})", objects::object_name(&label, &id))));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Generates an RSA key pair of `bits` inside the token and checks it cannot leave it.
    pub fn generate(&self, bits: u32) -> Result<NewKey> {
        let mut common = vec![
            Attribute::Token(true),
            Attribute::Id(self.id.clone()),
            Attribute::KeyType(KeyType::RSA),
        ];
        if !self.label.is_empty() {
            common.push(Attribute::Label(self.label.as_bytes().to_vec()));
        }
        let mut public = common.clone();
        public.extend([
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Private(false),
            Attribute::ModulusBits(u64::from(bits).into()),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
        ]);
        let mut private = common;
        private.extend([
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
        ]);
        let (pub_handle, priv_handle) = self
            .token
            .session()?
            .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
            .map_err(|e| {
                self.token
                    .error("generating the key pair (C_GenerateKeyPair)", &e)
            })?;
        let handles = vec![priv_handle, pub_handle];
        let checked = self.check_new(priv_handle);
        let (object, key) = match checked {
            Ok(ok) => ok,
            Err(e) => {
                self.destroy(&handles);
                return Err(e);
            }
        };
        Ok(NewKey {
            key,
            object,
            handles,
        })
    }

    fn check_new(&self, handle: ObjectHandle) -> Result<(KeyObject, TokenKey)> {
        let object = objects::key_object(&self.token, handle)?;
        let token = self.token.name();
        let unprotected = |what| {
            Error::Pkcs11(Pkcs11Problem::Unprotected {
                token: token.clone(),
                what,
            })
        };
        if object.sensitive != Some(true) {
            return Err(unprotected("not sensitive (CKA_SENSITIVE is not true)"));
        }
        if object.extractable != Some(false) {
            return Err(unprotected("extractable (CKA_EXTRACTABLE is not false)"));
        }
        let public = object
            .public
            .clone()
            .ok_or_else(|| Error::Internal("the new RSA key has no readable modulus".into()))?;
        let ways = Ways::choose(
            &sign::signing_mechanisms(&self.token)?,
            object.allowed.as_deref(),
        );
        if ways.rs256.is_none() {
            return Err(Error::Pkcs11(Pkcs11Problem::NoMechanism {
                token,
                alg: "RS256",
            }));
        }
        let key = TokenKey::new(self.token.clone(), handle, public, ways);
        Ok((object, key))
    }

    /// Stores `cert` in the token with the new key's label and id.
    pub fn store_certificate(&self, new: &mut NewKey, cert: &X509Ref) -> Result<()> {
        let bug = crate::credential::openssl_bug;
        let der = cert.to_der().map_err(bug)?;
        let mut template = vec![
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Id(self.id.clone()),
            Attribute::Subject(cert.subject_name().to_der().map_err(bug)?),
            Attribute::Issuer(cert.issuer_name().to_der().map_err(bug)?),
            Attribute::SerialNumber(der_integer(
                &cert.serial_number().to_bn().map_err(bug)?.to_vec(),
            )),
            Attribute::Value(der),
        ];
        if !self.label.is_empty() {
            template.push(Attribute::Label(self.label.as_bytes().to_vec()));
        }
        let handle = self
            .token
            .session()?
            .create_object(&template)
            .map_err(|e| {
                self.token
                    .error("storing the certificate (C_CreateObject)", &e)
            })?;
        new.handles.push(handle);
        Ok(())
    }

    /// Removes what `generate` and `store_certificate` made, when a later step failed.
    pub fn undo(&self, new: NewKey) {
        self.destroy(&new.handles);
    }

    /// As [`undo`](Self::undo), but says when the token refused to destroy one of them.
    pub fn discard(&self, new: NewKey) -> Result<()> {
        let session = self.token.session()?;
        let mut first = None;
        for h in &new.handles {
            if let Err(e) = session.destroy_object(*h) {
                first.get_or_insert(e);
            }
        }
        match first {
            None => Ok(()),
            Some(e) => Err(self
                .token
                .error("destroying the new objects (C_DestroyObject)", &e)),
        }
    }

    /// Destroys objects, best effort (the caller is already failing or replacing them).
    pub fn destroy(&self, handles: &[ObjectHandle]) {
        if let Ok(session) = self.token.session() {
            for h in handles {
                let _ = session.destroy_object(*h);
            }
        }
    }
}

/// A non-negative integer as DER (`CKA_SERIAL_NUMBER` holds the DER INTEGER, PKCS#11 v2.40
/// §4.6.3): tag, length, then the big-endian bytes with a leading zero if the top bit is set.
fn der_integer(magnitude: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    let mut out = vec![0x02, content.len() as u8];
    out.extend(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_der_integers() {
        assert_eq!(der_integer(&[0x40, 0x01]), vec![0x02, 0x02, 0x40, 0x01]);
        assert_eq!(der_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(&[]), vec![0x02, 0x01, 0x00]);
    }
}
