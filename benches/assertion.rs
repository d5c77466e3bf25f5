//! Building and signing one client assertion with an RSA-2048 key, PS256 and RS256
//! (target: at most 2 ms each), and loading the credential files it is signed with.
//!
//! `cargo bench --bench assertion`. Speed is measured here, never asserted in tests.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use graphd::assertion::{AssertionParams, HeaderChoice, build};
use graphd::credential::{self, Credential, CredentialSource, Material};
use graphd::jws::Alg;
use graphd::password::PasswordSource;
use graphd::secret::Password;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509Builder, X509NameBuilder};

const AUDIENCE: &str =
    "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token";
const CLIENT_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

/// A fresh RSA-2048 key and a self-signed certificate valid for a year.
fn key_and_cert() -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).expect("keygen")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "graphd bench").expect("cn");
    let name = name.build();
    let mut b = X509Builder::new().expect("builder");
    b.set_version(2).expect("version");
    b.set_serial_number(
        &BigNum::from_u32(1)
            .expect("bn")
            .to_asn1_integer()
            .expect("serial"),
    )
    .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("nb");
    b.set_not_after(&Asn1Time::days_from_now(365).expect("time"))
        .expect("na");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    (key, b.build())
}

fn signing(c: &mut Criterion) {
    let (key, cert) = key_and_cert();
    let source = CredentialSource {
        cert: "bench.pem".into(),
        ..Default::default()
    };
    let material = Material {
        keys: vec![key],
        certs: vec![cert],
        ..Default::default()
    };
    let credential = Credential::from_material(material, &source).expect("a valid credential");
    for alg in [Alg::PS256, Alg::RS256] {
        let header = HeaderChoice::choose(Some(alg), credential.thumbprints()).expect("header");
        let params = AssertionParams {
            audience: AUDIENCE,
            client_id: CLIENT_ID,
            header: &header,
            x5c: None,
        };
        c.bench_function(
            &format!("assertion build+sign RSA-2048 {}", alg.as_str()),
            |b| b.iter(|| black_box(build(black_box(credential.key()), &params).expect("signs"))),
        );
    }
}

/// Loading is the other half of `graphd assertion`'s work: PEM, and PFX (which needs
/// OpenSSL's legacy provider only for legacy files).
fn loading(c: &mut Criterion) {
    let (key, cert) = key_and_cert();
    let dir = tempfile::tempdir().expect("temp dir");
    let pem = dir.path().join("cred.pem");
    let mut text = key.private_key_to_pem_pkcs8().expect("pem");
    text.extend(cert.to_pem().expect("pem"));
    std::fs::write(&pem, text).expect("write");
    let pfx = dir.path().join("cred.pfx");
    let p12 = Pkcs12::builder()
        .name("bench")
        .pkey(&key)
        .cert(&cert)
        .build2("bench-pw")
        .expect("pfx");
    std::fs::write(&pfx, p12.to_der().expect("der")).expect("write");

    let load = |path: &Path, password: Option<&str>| {
        let source = CredentialSource {
            cert: path.to_path_buf(),
            ..Default::default()
        };
        let mut pw = match password {
            Some(p) => PasswordSource::fixed(Password::new(p.to_string())),
            None => PasswordSource::none(),
        };
        credential::load(&source, &mut pw).expect("loads")
    };
    c.bench_function("load PEM (PKCS#8 key + certificate)", |b| {
        b.iter(|| black_box(load(&pem, None)))
    });
    c.bench_function("load PFX (AES-256, PBKDF2 2048 iterations)", |b| {
        b.iter(|| black_box(load(&pfx, Some("bench-pw"))))
    });
}

criterion_group!(benches, signing, loading);
criterion_main!(benches);
