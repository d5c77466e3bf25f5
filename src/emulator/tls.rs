//! `--tls`: a throwaway CA and a server certificate for 127.0.0.1 and localhost (made with
//! rcgen, ECDSA P-256), served by rustls through `tokio-rustls`.
//!
//! The CA has the extensions strict verifiers insist on (Python 3.13's `VERIFY_X509_STRICT`,
//! OpenSSL's `-x509_strict`, Go, rustls-webpki; RFC 5280 §4.2.1): critical basicConstraints
//! CA:TRUE, critical keyUsage keyCertSign + cRLSign, subject and authority key identifiers.
//! The leaf has critical basicConstraints CA:FALSE, keyUsage digitalSignature, serverAuth, its
//! SANs and both key identifiers. Each emulator gets new keys (P-256 keys take microseconds)
//! and certificates with random serials. This module never touches user credentials: those
//! are OpenSSL's.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use zeroize::Zeroizing;

/// How far back a certificate's validity starts, so a client whose clock lags still accepts it.
const BACKDATE: Duration = Duration::from_secs(3600);
/// How long a certificate is valid: longer than any emulator runs.
const VALIDITY: Duration = Duration::from_secs(30 * 86_400);
const ORGANIZATION: &str = "graphd emulator (test only)";

/// The CA certificate (PEM, for clients to trust) and the acceptor serving the leaf.
pub struct TlsMaterial {
    pub ca_pem: Vec<u8>,
    pub acceptor: TlsAcceptor,
}

/// A CA and the server certificate it signed (DER), with the server's private key.
struct Issued {
    ca: Certificate,
    leaf: Certificate,
    leaf_key: Zeroizing<KeyPair>,
}

/// Makes a CA and a server certificate signed by it, and a TLS 1.2/1.3 acceptor serving the
/// leaf and the CA (the chain a client expects) with ALPN `http/1.1`.
pub fn generate() -> Result<TlsMaterial, String> {
    let issued = issue(crate::clock::now_unix())?;
    let chain = vec![issued.leaf.der().clone(), issued.ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        issued.leaf_key.serialized_der().to_vec(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| format!("cannot configure the emulator's TLS server: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_pem: issued.ca.pem().into_bytes(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

/// The CA and the leaf, valid from an hour before `now` (unix seconds) for 30 days.
fn issue(now: i64) -> Result<Issued, String> {
    let key = || KeyPair::generate().map(Zeroizing::new);
    let ca_key = key().map_err(|e| format!("cannot create the emulator CA key: {e}"))?;
    let leaf_key = key().map_err(|e| format!("cannot create the server key: {e}"))?;

    let mut ca = params("graphd emulator CA", now);
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca
        .self_signed(&*ca_key)
        .map_err(|e| format!("cannot create the emulator CA: {e}"))?;

    let mut leaf = params("127.0.0.1", now);
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let localhost = "localhost"
        .try_into()
        .map_err(|e| format!("cannot name the server certificate: {e}"))?;
    leaf.subject_alt_names = vec![
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::DnsName(localhost),
    ];
    let issuer = Issuer::new(ca, &*ca_key);
    let leaf_cert = leaf
        .signed_by(&*leaf_key, &issuer)
        .map_err(|e| format!("cannot create the server certificate: {e}"))?;
    Ok(Issued {
        ca: ca_cert,
        leaf: leaf_cert,
        leaf_key,
    })
}

/// Subject `O=graphd emulator (test only), CN=<cn>`, a random positive 128-bit serial
/// (RFC 5280 §4.1.2.2), validity around `now`, and an authority key identifier.
fn params(cn: &str, now: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, ORGANIZATION);
    name.push(DnType::CommonName, cn);
    p.distinguished_name = name;
    let mut serial = super::keys::random::<16>();
    // Positive, and 16 bytes long in DER (no leading zero byte).
    serial[0] = (serial[0] & 0x7f) | 0x40;
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    let now = Duration::from_secs(u64::try_from(now).unwrap_or(0));
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    p.not_before = epoch + now.saturating_sub(BACKDATE);
    p.not_after = epoch + now + VALIDITY;
    p.use_authority_key_identifier_extension = true;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::nid::Nid;
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::verify::X509VerifyFlags;
    use openssl::x509::{X509, X509StoreContext, X509VerifyResult};

    const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn x509(cert: &Certificate) -> X509 {
        X509::from_der(cert.der()).unwrap()
    }

    /// OpenSSL's verdict on the chain with `-x509_strict`, at `at` (unix seconds).
    fn verify_strict(ca: &X509, leaf: &X509, at: i64) -> X509VerifyResult {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(ca.clone()).unwrap();
        store.set_flags(X509VerifyFlags::X509_STRICT).unwrap();
        let mut params = openssl::x509::verify::X509VerifyParam::new().unwrap();
        params.set_time(at);
        params.set_flags(X509VerifyFlags::X509_STRICT).unwrap();
        store.set_param(&params).unwrap();
        let store = store.build();
        let mut ctx = X509StoreContext::new().unwrap();
        ctx.init(&store, leaf, &Stack::new().unwrap(), |c| {
            c.verify_cert()?;
            Ok(c.error())
        })
        .unwrap()
    }

    /// `openssl x509 -text` of a certificate.
    fn text(cert: &X509) -> String {
        String::from_utf8(cert.to_text().unwrap()).unwrap()
    }

    #[test]
    fn the_chain_passes_strict_verification_within_its_validity_only() {
        let issued = issue(NOW).unwrap();
        let (ca, leaf) = (x509(&issued.ca), x509(&issued.leaf));
        assert_eq!(verify_strict(&ca, &leaf, NOW), X509VerifyResult::OK);
        assert_eq!(verify_strict(&ca, &leaf, NOW - 3500), X509VerifyResult::OK);
        assert_eq!(
            verify_strict(&ca, &leaf, NOW - 3700).error_string(),
            "certificate is not yet valid"
        );
        assert_eq!(
            verify_strict(&ca, &leaf, NOW + 31 * 86_400).error_string(),
            "certificate has expired"
        );
        // A CA from another emulator does not vouch for this leaf.
        let other = x509(&issue(NOW).unwrap().ca);
        assert_ne!(verify_strict(&other, &leaf, NOW), X509VerifyResult::OK);
    }

    #[test]
    fn the_ca_has_the_extensions_strict_verifiers_insist_on() {
        let issued = issue(NOW).unwrap();
        let ca = text(&x509(&issued.ca));
        for needed in [
            "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0",
            "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
            "X509v3 Subject Key Identifier:",
            "X509v3 Authority Key Identifier:",
            "Subject: O=graphd emulator (test only), CN=graphd emulator CA",
        ] {
            assert!(ca.contains(needed), "{needed:?} missing from\n{ca}");
        }
    }

    #[test]
    fn the_leaf_serves_loopback_names_only() {
        let issued = issue(NOW).unwrap();
        let (ca, leaf) = (x509(&issued.ca), x509(&issued.leaf));
        let shown = text(&leaf);
        for needed in [
            "X509v3 Basic Constraints: critical\n                CA:FALSE",
            "X509v3 Key Usage: critical\n                Digital Signature",
            "X509v3 Extended Key Usage: \n                TLS Web Server Authentication",
            "DNS:localhost",
            "IP Address:127.0.0.1",
            "X509v3 Subject Key Identifier:",
        ] {
            assert!(shown.contains(needed), "{needed:?} missing from\n{shown}");
        }
        let sans = leaf.subject_alt_names().unwrap();
        assert_eq!(sans.len(), 2, "{shown}");
        // The leaf's authority key identifier is the CA's subject key identifier.
        assert_eq!(
            leaf.authority_key_id().unwrap().as_slice(),
            ca.subject_key_id().unwrap().as_slice()
        );
        assert_eq!(
            leaf.issuer_name().to_der().unwrap(),
            ca.subject_name().to_der().unwrap()
        );
        let cn = leaf.subject_name().entries_by_nid(Nid::COMMONNAME).next();
        assert_eq!(cn.unwrap().data().as_slice(), b"127.0.0.1");
    }

    #[test]
    fn every_certificate_gets_its_own_key_and_serial() {
        let (a, b) = (issue(NOW).unwrap(), issue(NOW).unwrap());
        let (a_ca, b_ca) = (x509(&a.ca), x509(&b.ca));
        assert_ne!(
            a_ca.serial_number().to_bn().unwrap(),
            b_ca.serial_number().to_bn().unwrap()
        );
        assert_ne!(
            a_ca.serial_number().to_bn().unwrap(),
            x509(&a.leaf).serial_number().to_bn().unwrap()
        );
        assert_ne!(
            a_ca.subject_key_id().unwrap().as_slice(),
            b_ca.subject_key_id().unwrap().as_slice()
        );
        assert_eq!(a_ca.serial_number().to_bn().unwrap().num_bytes(), 16);
    }

    #[test]
    fn generate_gives_the_ca_pem_clients_trust() {
        let material = generate().unwrap();
        let certs = X509::stack_from_pem(&material.ca_pem).unwrap();
        assert_eq!(certs.len(), 1);
        assert!(text(&certs[0]).contains("CA:TRUE"));
        assert!(!String::from_utf8_lossy(&material.ca_pem).contains("PRIVATE KEY"));
    }
}
