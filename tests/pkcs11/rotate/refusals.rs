//! Rotations of a token key that stop: before the swap (the token is left exactly as it
//! was), at the swap when the token refuses a rename (left as it was, the new key offered by
//! its URI), and at step 0 for a key that could never be renamed or a URI that names no
//! object.

use std::path::PathBuf;

use cryptoki::object::{Attribute, CertificateType, KeyType, ObjectClass};
use cryptoki::session::UserType;
use openssl::pkey::PKey;
use openssl::x509::X509;

use super::super::inproc::{child_at, session, session_as};
use super::super::{generated, imported};
use super::{assertion_kid, emulator, graphd, labelled, objects};
use crate::rotate::{failed_at, registered, thumbprint_of, today};
use crate::support::Pair;
use crate::support::softhsm::{SO_PIN, SoftHsm};

#[test]
fn a_failure_before_the_swap_leaves_the_token_exactly_as_it_was() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = generated(&hsm, "app-key");
    // The new key never reaches the token side: step 5 gives up, removes it from the app.
    let emu = emulator(&cert, 3_600_000);
    let uri = "pkcs11:token=graphd;object=app-key";
    let before = objects(&hsm);
    let registered_before = registered(&emu);

    let out = graphd(&hsm, &emu, "rotate", uri, &["--propagation-timeout", "1"]);
    let (error, hint) = failed_at(&out, 4, 5);
    assert!(error.contains("AADSTS700027"), "{error}");
    assert!(hint.contains("removed again"), "{hint}");
    assert!(
        out.stderr
            .contains("destroyed the new key pair and certificate"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert_eq!(
        objects(&hsm),
        before,
        "labels, ids and objects as they were"
    );
    assert_eq!(registered(&emu), registered_before);

    // A refused proof (step 4) too.
    let out = graphd(
        &hsm,
        &emu,
        "rotate",
        uri,
        &["--proof-audience", "00000003-0000-0000-c000-000000000000"],
    );
    let (_, hint) = failed_at(&out, 5, 4);
    assert!(hint.contains("nothing was changed"), "{hint}");
    assert_eq!(objects(&hsm), before);
    assert_eq!(registered(&emu), registered_before);

    // The old key works, with the same command line.
    let emu = emulator(&cert, 0);
    graphd(&hsm, &emu, "token", uri, &[]).ok();
}

#[test]
fn a_token_that_refuses_the_rename_is_left_as_it_was_and_the_new_key_offered() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = imported(&hsm, 2048);
    // The certificate next to the key is a trusted one, which SoftHSM never lets anyone
    // modify (CKA_TRUSTED): the swap is refused at its third rename.
    child_at(
        &hsm,
        "pkcs11::rotate::refusals::child_store_trusted_certificate",
        &[("GRAPHD_TEST_CERT", cert.clone())],
    )
    .ok();
    let emu = emulator(&cert, 0);
    let uri = "pkcs11:token=graphd;object=app-key";
    let before = objects(&hsm);
    assert_eq!(labelled(&before, "app-key").len(), 3, "{before:?}");

    let out = graphd(&hsm, &emu, "rotate", uri, &["--remove-old"]);
    let (error, hint) = failed_at(&out, 3, 6);
    assert!(error.contains("CKR_ATTRIBUTE_READ_ONLY"), "{error}");
    assert!(
        error.contains("the current certificate object=app-key;id=%01"),
        "{error}"
    );
    assert!(hint.contains("are as they were"), "{hint}");
    assert!(hint.contains("--remove-old"), "{hint}");
    // The rotation produced a working key: its certificate is on stdout, registered, and the
    // hint names its URI (and how to undo it).
    let new_thumb = thumbprint_of(out.stdout.as_bytes());
    assert_eq!(registered(&emu).len(), 2, "nothing removed");
    assert!(hint.contains("az ad app credential delete"), "{hint}");
    let new_uri = hint
        .split("works as '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("the hint names the new URI: {hint}"));
    assert!(
        new_uri.contains(&format!("object=app-key.next-{}", today())),
        "{new_uri}"
    );

    // The current objects are exactly as they were; the new ones sit under the .next label.
    let after = objects(&hsm);
    let next = format!("app-key.next-{}", today());
    assert_eq!(labelled(&after, &next).len(), 3, "{after:?}");
    let unchanged: Vec<String> = after
        .iter()
        .filter(|l| !l.contains(&next))
        .cloned()
        .collect();
    assert_eq!(unchanged, before);

    // Both keys work: the same command line (old key), and the URI the hint gives.
    assert_eq!(
        assertion_kid(&hsm, &emu, uri, &[]),
        thumbprint_of(&std::fs::read(&cert).unwrap())
    );
    graphd(&hsm, &emu, "token", uri, &[]).ok();
    assert_eq!(assertion_kid(&hsm, &emu, new_uri, &[]), new_thumb);
    graphd(&hsm, &emu, "token", new_uri, &[]).ok();
}

#[test]
#[ignore = "run by a_token_that_refuses_the_rename_is_left_as_it_was_and_the_new_key_offered in a child process"]
fn child_store_trusted_certificate() {
    // The security officer stores it: only the SO may set CKA_TRUSTED.
    let (_ctx, session) = session_as(UserType::So, SO_PIN);
    let path = PathBuf::from(std::env::var_os("GRAPHD_TEST_CERT").unwrap());
    let cert = X509::from_pem(&std::fs::read(path).unwrap()).unwrap();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Trusted(true),
            Attribute::Label(b"app-key".to_vec()),
            Attribute::Id(vec![1]),
            Attribute::Subject(cert.subject_name().to_der().unwrap()),
            Attribute::Value(cert.to_der().unwrap()),
        ])
        .unwrap();
    session.logout().unwrap();
}

#[test]
fn a_key_that_cannot_be_renamed_or_named_is_refused_before_anything_is_sent() {
    let hsm = SoftHsm::with_token("graphd");
    let pair = Pair::new(hsm.dir(), "fixed", 2048, 365);
    child_at(
        &hsm,
        "pkcs11::rotate::refusals::child_import_unmodifiable_key",
        &[("GRAPHD_TEST_KEY", pair.key.clone())],
    )
    .ok();
    let emu = emulator(&pair.cert, 0);
    let before = objects(&hsm);
    let cert_arg = pair.cert.to_str().unwrap();
    let out = graphd(
        &hsm,
        &emu,
        "rotate",
        "pkcs11:token=graphd;object=fixed",
        &["--cert", cert_arg],
    );
    let (error, hint) = failed_at(&out, 3, 0);
    assert!(
        error.contains("the private key object=fixed;id=%02"),
        "{error}"
    );
    assert!(error.contains("CKA_MODIFIABLE is false"), "{error}");
    assert!(
        hint.contains("nothing was changed") && hint.contains("gen-cert"),
        "{hint}"
    );
    // A URI that names no object would name both keys once the new one exists.
    let out = graphd(
        &hsm,
        &emu,
        "rotate",
        "pkcs11:token=graphd",
        &["--cert", cert_arg],
    );
    let (error, hint) = failed_at(&out, 3, 0);
    assert!(error.contains("neither object= nor id="), "{error}");
    assert!(hint.contains("object=LABEL"), "{hint}");

    let c = emu.counters();
    assert_eq!((c.token.requests, c.graph.requests), (0, 0));
    assert_eq!(objects(&hsm), before);
}

#[test]
#[ignore = "run by a_key_that_cannot_be_renamed_or_named_is_refused_before_anything_is_sent in a child process"]
fn child_import_unmodifiable_key() {
    let (_ctx, session) = session();
    let path = PathBuf::from(std::env::var_os("GRAPHD_TEST_KEY").unwrap());
    let key = PKey::private_key_from_pem(&std::fs::read(path).unwrap()).unwrap();
    let rsa = key.rsa().unwrap();
    let n = |b: Option<&openssl::bn::BigNumRef>| b.unwrap().to_vec();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
            Attribute::Modifiable(false),
            Attribute::Label(b"fixed".to_vec()),
            Attribute::Id(vec![2]),
            Attribute::Modulus(rsa.n().to_vec()),
            Attribute::PublicExponent(rsa.e().to_vec()),
            Attribute::PrivateExponent(rsa.d().to_vec()),
            Attribute::Prime1(n(rsa.p())),
            Attribute::Prime2(n(rsa.q())),
            Attribute::Exponent1(n(rsa.dmp1())),
            Attribute::Exponent2(n(rsa.dmq1())),
            Attribute::Coefficient(n(rsa.iqmp())),
        ])
        .unwrap();
    session.logout().unwrap();
}
