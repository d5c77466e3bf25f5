//! Finding objects in a token and reading what graphd may know about them: a private key's
//! label, id, type, public half and protection attributes; certificates' DER.
//!
//! Only public attributes are read. A private key's secret components are never asked for:
//! a sensitive key would refuse anyway, and graphd has no use for them.

use cryptoki::mechanism::MechanismType;
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle,
};
use openssl::bn::BigNum;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use openssl::x509::X509;

use super::session::Token;
use super::uri::{Uri, id_text};
use crate::error::Result;

/// A private key in the token, as far as its attributes say.
#[derive(Debug)]
pub struct KeyObject {
    pub handle: ObjectHandle,
    pub label: String,
    pub id: Vec<u8>,
    /// `RSA`, `EC`, ... (from `CKA_KEY_TYPE`).
    pub key_type: String,
    /// The public half, for RSA keys (`CKA_MODULUS`, `CKA_PUBLIC_EXPONENT`).
    pub public: Option<PKey<Public>>,
    pub bits: u32,
    pub sensitive: Option<bool>,
    pub extractable: Option<bool>,
    pub always_sensitive: Option<bool>,
    pub never_extractable: Option<bool>,
    /// Generated inside the token (`CKA_LOCAL`).
    pub local: Option<bool>,
    pub always_authenticate: bool,
    /// `CKA_ALLOWED_MECHANISMS`, when the key has one.
    pub allowed: Option<Vec<MechanismType>>,
}

impl KeyObject {
    /// `object=app-key;id=%01`, as lists and messages name it.
    pub fn name(&self) -> String {
        object_name(&self.label, &self.id)
    }
}

/// `object=LABEL;id=%..`, as in a URI.
pub fn object_name(label: &str, id: &[u8]) -> String {
    let mut parts = Vec::new();
    if !label.is_empty() {
        parts.push(format!("object={label}"));
    }
    if !id.is_empty() {
        parts.push(format!("id={}", id_text(id)));
    }
    if parts.is_empty() {
        "(no label, no id)".into()
    } else {
        parts.join(";")
    }
}

/// The template that selects objects of `class` by the URI's label and id.
pub fn template(class: ObjectClass, uri: &Uri) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if class == ObjectClass::CERTIFICATE {
        t.push(Attribute::CertificateType(CertificateType::X_509));
    }
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

/// The handles of every object matching `template`.
pub fn find(token: &Token, template: &[Attribute]) -> Result<Vec<ObjectHandle>> {
    token
        .session()?
        .find_objects(template)
        .map_err(|e| token.error("searching its objects (C_FindObjects)", &e))
}

/// Label and id of an object.
pub fn label_and_id(token: &Token, handle: ObjectHandle) -> Result<(String, Vec<u8>)> {
    let attrs = token
        .session()?
        .get_attributes(handle, &[AttributeType::Label, AttributeType::Id])
        .map_err(|e| token.error("reading an object's label and id", &e))?;
    let mut label = String::new();
    let mut id = Vec::new();
    for a in attrs {
        match a {
            Attribute::Label(l) => label = String::from_utf8_lossy(&l).into_owned(),
            Attribute::Id(i) => id = i,
            _ => {}
        }
    }
    Ok((label, id))
}

/// Reads a private key's public attributes.
pub fn key_object(token: &Token, handle: ObjectHandle) -> Result<KeyObject> {
    use AttributeType as T;
    let attrs = token
        .session()?
        .get_attributes(
            handle,
            &[
                T::Label,
                T::Id,
                T::KeyType,
                T::Modulus,
                T::PublicExponent,
                T::Sensitive,
                T::Extractable,
                T::AlwaysSensitive,
                T::NeverExtractable,
                T::Local,
                T::AlwaysAuthenticate,
                T::AllowedMechanisms,
            ],
        )
        .map_err(|e| token.error("reading the key's attributes", &e))?;
    let mut key = KeyObject {
        handle,
        label: String::new(),
        id: Vec::new(),
        key_type: "unknown".into(),
        public: None,
        bits: 0,
        sensitive: None,
        extractable: None,
        always_sensitive: None,
        never_extractable: None,
        local: None,
        always_authenticate: false,
        allowed: None,
    };
    let (mut modulus, mut exponent) = (None, None);
    for a in attrs {
        match a {
            Attribute::Label(l) => key.label = String::from_utf8_lossy(&l).into_owned(),
            Attribute::Id(i) => key.id = i,
            Attribute::KeyType(t) => key.key_type = key_type_name(t),
            Attribute::Modulus(m) => modulus = Some(m),
            Attribute::PublicExponent(e) => exponent = Some(e),
            Attribute::Sensitive(b) => key.sensitive = Some(b),
            Attribute::Extractable(b) => key.extractable = Some(b),
            Attribute::AlwaysSensitive(b) => key.always_sensitive = Some(b),
            Attribute::NeverExtractable(b) => key.never_extractable = Some(b),
            Attribute::Local(b) => key.local = Some(b),
            Attribute::AlwaysAuthenticate(b) => key.always_authenticate = b,
            Attribute::AllowedMechanisms(m) => key.allowed = Some(m),
            _ => {}
        }
    }
    if key.key_type == "RSA"
        && let (Some(n), Some(e)) = (modulus, exponent)
    {
        key.public = rsa_public(&n, &e);
        key.bits = key.public.as_ref().map_or(0, |p| p.bits());
    }
    Ok(key)
}

/// An RSA public key from its modulus and exponent (big-endian bytes).
pub fn rsa_public(modulus: &[u8], exponent: &[u8]) -> Option<PKey<Public>> {
    let rsa = Rsa::from_public_components(
        BigNum::from_slice(modulus).ok()?,
        BigNum::from_slice(exponent).ok()?,
    )
    .ok()?;
    PKey::from_rsa(rsa).ok()
}

fn key_type_name(t: KeyType) -> String {
    if t == KeyType::RSA {
        "RSA".into()
    } else if t == KeyType::EC {
        "EC".into()
    } else if t == KeyType::EC_EDWARDS {
        "EdDSA".into()
    } else if t == KeyType::DSA {
        "DSA".into()
    } else {
        t.to_string().trim_start_matches("CKK_").to_string()
    }
}

/// A certificate object: where it is, what it is called, the certificate.
#[derive(Debug)]
pub struct CertObject {
    pub handle: ObjectHandle,
    pub label: String,
    pub id: Vec<u8>,
    pub cert: X509,
}

/// Every X.509 certificate matching `template` (objects that do not parse are skipped).
pub fn certificates(token: &Token, template: &[Attribute]) -> Result<Vec<CertObject>> {
    let mut out = Vec::new();
    for handle in find(token, template)? {
        let attrs = token
            .session()?
            .get_attributes(
                handle,
                &[
                    AttributeType::Label,
                    AttributeType::Id,
                    AttributeType::Value,
                ],
            )
            .map_err(|e| token.error("reading a certificate", &e))?;
        let (mut label, mut id, mut der) = (String::new(), Vec::new(), None);
        for a in attrs {
            match a {
                Attribute::Label(l) => label = String::from_utf8_lossy(&l).into_owned(),
                Attribute::Id(i) => id = i,
                Attribute::Value(v) => der = Some(v),
                _ => {}
            }
        }
        if let Some(cert) = der.and_then(|d| X509::from_der(&d).ok()) {
            out.push(CertObject {
                handle,
                label,
                id,
                cert,
            });
        }
    }
    Ok(out)
}

/// Whether the object may be changed (`CKA_MODIFIABLE`, true when the token does not say,
/// as PKCS#11 v2.40 base §4.4 makes it the default).
pub fn modifiable(token: &Token, handle: ObjectHandle) -> Result<bool> {
    let attrs = token
        .session()?
        .get_attributes(handle, &[AttributeType::Modifiable])
        .map_err(|e| token.error("reading an object's CKA_MODIFIABLE", &e))?;
    Ok(attrs
        .iter()
        .all(|a| !matches!(a, Attribute::Modifiable(false))))
}

/// Whether any object (of any class visible in this session) has the label `label`.
pub fn label_in_use(token: &Token, label: &str) -> Result<bool> {
    Ok(!find(token, &[Attribute::Label(label.as_bytes().to_vec())])?.is_empty())
}

/// An RSA public key object's modulus (`CKA_MODULUS`), if it has one.
pub fn modulus(token: &Token, handle: ObjectHandle) -> Result<Option<Vec<u8>>> {
    let attrs = token
        .session()?
        .get_attributes(handle, &[AttributeType::Modulus])
        .map_err(|e| token.error("reading a public key's modulus", &e))?;
    Ok(attrs.into_iter().find_map(|a| match a {
        Attribute::Modulus(m) => Some(m),
        _ => None,
    }))
}

/// The names of every private key in the token (after login), for hints.
pub fn private_key_names(token: &Token) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for h in find(token, &[Attribute::Class(ObjectClass::PRIVATE_KEY)])? {
        let (label, id) = label_and_id(token, h)?;
        names.push(object_name(&label, &id));
    }
    names.sort();
    Ok(names)
}
