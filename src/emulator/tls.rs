//! `--tls`: a throwaway CA and a server certificate for 127.0.0.1 and localhost, made with
//! OpenSSL's X509 builder.
//!
//! The CA has the extensions strict verifiers insist on (Python 3.13's `VERIFY_X509_STRICT`,
//! Go, rustls-webpki): critical basicConstraints CA:TRUE, keyUsage keyCertSign, subject and
//! authority key identifiers; the leaf adds serverAuth and its SANs. Keys are made once per
//! process (RSA generation is slow); certificates are new for each emulator.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder, X509Ref};

/// The CA certificate (PEM, for clients to trust) and the server identity (for the acceptor).
pub struct TlsMaterial {
    pub ca_pem: Vec<u8>,
    pub acceptor: native_tls::TlsAcceptor,
}

struct Keys {
    ca: PKey<Private>,
    server: PKey<Private>,
}

fn keys() -> Result<&'static Keys, String> {
    static KEYS: OnceLock<Result<Keys, String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let make = || PKey::from_rsa(Rsa::generate(2048)?);
        Ok(Keys {
            ca: make().map_err(|e| e.to_string())?,
            server: make().map_err(|e| e.to_string())?,
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Makes a CA and a server certificate signed by it.
pub fn generate() -> Result<TlsMaterial, String> {
    let keys = keys()?;
    let ca = ca_cert(&keys.ca).map_err(|e| format!("cannot create the emulator CA: {e}"))?;
    let leaf = server_cert(&keys.server, &ca, &keys.ca)
        .map_err(|e| format!("cannot create the server certificate: {e}"))?;
    let ca_pem = ca.to_pem().map_err(|e| e.to_string())?;
    let mut chain = leaf.to_pem().map_err(|e| e.to_string())?;
    chain.extend_from_slice(&ca_pem);
    let key_pem = zeroize::Zeroizing::new(
        keys.server
            .private_key_to_pem_pkcs8()
            .map_err(|e| e.to_string())?,
    );
    let identity = native_tls::Identity::from_pkcs8(&chain, &key_pem).map_err(|e| e.to_string())?;
    let acceptor = native_tls::TlsAcceptor::new(identity).map_err(|e| e.to_string())?;
    Ok(TlsMaterial { ca_pem, acceptor })
}

fn builder(
    subject_cn: &str,
) -> Result<(X509Builder, openssl::x509::X509Name), openssl::error::ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("O", "graphd emulator (test only)")?;
    name.append_entry_by_text("CN", subject_cn)?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    b.set_serial_number(&*serial.to_asn1_integer()?)?;
    b.set_subject_name(&name)?;
    // A little in the past, so a client whose clock lags slightly still accepts it.
    b.set_not_before(&*Asn1Time::from_unix(crate::clock::now_unix() - 3600)?)?;
    b.set_not_after(&*Asn1Time::days_from_now(30)?)?;
    Ok((b, name))
}

fn ca_cert(key: &PKeyRef<Private>) -> Result<X509, openssl::error::ErrorStack> {
    let (mut b, name) = builder("graphd emulator CA")?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(key)?;
    b.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(false)
        .build(&b.x509v3_context(None, None))?;
    b.append_extension(aki)?;
    b.sign(key, MessageDigest::sha256())?;
    Ok(b.build())
}

fn server_cert(
    key: &PKeyRef<Private>,
    ca: &X509Ref,
    ca_key: &PKeyRef<Private>,
) -> Result<X509, openssl::error::ErrorStack> {
    let (mut b, _) = builder("127.0.0.1")?;
    b.set_issuer_name(ca.subject_name())?;
    b.set_pubkey(key)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let san = SubjectAlternativeName::new()
        .ip(&IpAddr::V4(Ipv4Addr::LOCALHOST).to_string())
        .dns("localhost")
        .build(&b.x509v3_context(Some(ca), None))?;
    b.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(ca), None))?;
    b.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&b.x509v3_context(Some(ca), None))?;
    b.append_extension(aki)?;
    b.sign(ca_key, MessageDigest::sha256())?;
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509StoreContext, X509VerifyResult};

    #[test]
    fn leaf_verifies_against_the_ca_for_loopback_names() {
        let keys = keys().unwrap();
        let ca = ca_cert(&keys.ca).unwrap();
        let leaf = server_cert(&keys.server, &ca, &keys.ca).unwrap();
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(ca.clone()).unwrap();
        let store = store.build();
        let mut ctx = X509StoreContext::new().unwrap();
        let chain = Stack::new().unwrap();
        let ok = ctx
            .init(&store, &leaf, &chain, |c| {
                c.verify_cert()?;
                Ok(c.error())
            })
            .unwrap();
        assert_eq!(ok, X509VerifyResult::OK);
        let sans: Vec<String> = leaf
            .subject_alt_names()
            .unwrap()
            .iter()
            .map(|n| {
                n.dnsname()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{:?}", n.ipaddress()))
            })
            .collect();
        assert!(sans.contains(&"localhost".to_string()));
        assert!(sans.iter().any(|s| s.contains("127, 0, 0, 1")), "{sans:?}");
        assert!(
            generate()
                .unwrap()
                .ca_pem
                .starts_with(b"-----BEGIN CERTIFICATE-----")
        );
    }
}
