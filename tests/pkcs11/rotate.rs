//! `graphd rotate` with a key in a PKCS#11 token (issue 13 with issue 12): the new key is made
//! inside the same SoftHSM token, proven against the strict emulator, and swapped in by
//! renaming objects, so the URI the user runs with names the new key afterwards. The token's
//! objects are listed (label, id, class, protection) through cryptoki in a child process,
//! before and after, to show what changed and what did not.

mod refusals;

use std::path::{Path, PathBuf};

use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use graphd::emulator::{AppRegistration, EmulatorConfig};
use openssl::x509::X509;

use super::inproc::{child_at, session};
use super::{at, generated, imported};
use crate::rotate::{registered, thumbprint_of, today};
use crate::support::CLIENT_ID;
use crate::support::emulator::{TestEmulator, start_with};
use crate::support::outcome::{Outcome, run};
use crate::support::softhsm::{PIN, SO_PIN, SoftHsm};

/// An emulator where the app has `cert` and may read its own registration.
fn emulator(cert: &Path, propagation_ms: u64) -> TestEmulator {
    let cert = X509::from_pem(&std::fs::read(cert).unwrap()).unwrap();
    start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.to_string(),
            certificates: vec![cert],
            roles: vec!["Application.Read.All".into()],
        }],
        key_propagation_ms: propagation_ms,
        ..EmulatorConfig::default()
    })
}

/// `graphd CMD --key URI --pin-file PIN EXTRA...` against `emu`.
fn graphd(hsm: &SoftHsm, emu: &TestEmulator, cmd: &str, uri: &str, extra: &[&str]) -> Outcome {
    let mut c = at(emu, hsm.graphd());
    c.args([cmd, "--key", uri, "--pin-file"])
        .arg(hsm.pin_file())
        .args(extra);
    let o = run(&mut c);
    let all = format!("{}{}", o.stdout, o.stderr);
    assert!(!all.contains(PIN), "the PIN leaked:\n{all}");
    assert!(!all.contains(SO_PIN), "the SO PIN leaked:\n{all}");
    if cmd == "rotate" {
        // No proof, assertion or token (a JWS segment starts with `eyJ`).
        assert!(!all.contains("eyJ"), "a JWT leaked:\n{all}");
    }
    o
}

/// Every object in the token `graphd`, one line each (`class label=... id=...`, with the
/// protection of private keys), sorted.
fn objects(hsm: &SoftHsm) -> Vec<String> {
    let o = child_at(hsm, "pkcs11::rotate::child_list_objects", &[]);
    let mut lines: Vec<String> = o
        .stderr
        .lines()
        // libtest may print its own `test ... ` on the same line as the first one.
        .filter_map(|l| {
            l.split_once("OBJECT ")
                .map(|(_, object)| object.to_string())
        })
        .collect();
    lines.sort();
    lines
}

#[test]
#[ignore = "run by the rotation tests in a child process, to list the token's objects"]
fn child_list_objects() {
    let (_ctx, session) = session();
    for h in session.find_objects(&[]).unwrap() {
        let attrs = session
            .get_attributes(
                h,
                &[
                    AttributeType::Class,
                    AttributeType::Label,
                    AttributeType::Id,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::NeverExtractable,
                    AttributeType::Local,
                ],
            )
            .unwrap();
        let mut line = String::new();
        let mut flags = Vec::new();
        for a in attrs {
            match a {
                Attribute::Class(c) if c == ObjectClass::PRIVATE_KEY => {
                    line.insert_str(0, "private")
                }
                Attribute::Class(c) if c == ObjectClass::PUBLIC_KEY => line.insert_str(0, "public"),
                Attribute::Class(c) if c == ObjectClass::CERTIFICATE => line.insert_str(0, "cert"),
                Attribute::Class(c) => line.insert_str(0, &c.to_string()),
                Attribute::Label(l) => line += &format!(" label={}", String::from_utf8(l).unwrap()),
                Attribute::Id(i) => line += &format!(" id={}", hex(&i)),
                Attribute::Sensitive(b) => flags.push(format!("sensitive={b}")),
                Attribute::Extractable(b) => flags.push(format!("extractable={b}")),
                Attribute::NeverExtractable(b) => flags.push(format!("never_extractable={b}")),
                Attribute::Local(b) => flags.push(format!("local={b}")),
                _ => {}
            }
        }
        if line.starts_with("private") {
            line += &format!(" {}", flags.join(" "));
        }
        eprintln!("OBJECT {line}");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The objects whose label is `label`, without the label and flags: `class id=...`.
fn labelled<'a>(all: &'a [String], label: &str) -> Vec<&'a str> {
    all.iter()
        .filter(|l| l.contains(&format!(" label={label} ")))
        .map(String::as_str)
        .collect()
}

/// The `id=` of an object line.
fn id_of(line: &str) -> &str {
    line.split(' ')
        .find_map(|w| w.strip_prefix("id="))
        .unwrap_or("")
}

/// The token request's assertion header thumbprint: the certificate `graphd assertion` signs
/// with, as SHA-1 hex.
fn assertion_kid(hsm: &SoftHsm, emu: &TestEmulator, uri: &str, extra: &[&str]) -> String {
    let mut args = vec!["--alg", "RS256"];
    args.extend_from_slice(extra);
    let o = graphd(hsm, emu, "assertion", uri, &args);
    o.ok();
    let h = super::header(&o.stdout);
    let x5t = h["x5t"].as_str().unwrap();
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, x5t).unwrap();
    raw.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn a_token_key_rotates_in_place_and_the_old_one_is_removed() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = generated(&hsm, "app-key");
    let emu = emulator(&cert, 0);
    let uri = "pkcs11:token=graphd;object=app-key";
    let old_thumb = thumbprint_of(&std::fs::read(&cert).unwrap());
    let before = objects(&hsm);
    assert_eq!(labelled(&before, "app-key").len(), 3, "{before:?}");

    let out = graphd(&hsm, &emu, "rotate", uri, &["-v", "--remove-old"]);
    out.ok();
    for n in 0..=7 {
        assert!(
            out.stderr.contains(&format!("rotate {n}/7 ")),
            "step {n}:\n{}",
            out.stderr
        );
    }
    assert_eq!(
        out.stderr.matches("pkcs11: logging in").count(),
        1,
        "one login for the whole rotation:\n{}",
        out.stderr
    );
    // stdout is the new certificate, and it is the one in the token now.
    let new_thumb = thumbprint_of(out.stdout.as_bytes());
    assert_ne!(new_thumb, old_thumb);
    assert_eq!(
        out.stdout.matches("-----BEGIN").count(),
        1,
        "{}",
        out.stdout
    );
    assert_eq!(
        registered(&emu),
        std::slice::from_ref(&new_thumb),
        "only the new key is registered"
    );

    // The URI names the new key pair and certificate; the old ones are kept, renamed.
    let after = objects(&hsm);
    let previous = format!("app-key.previous-{}", today());
    let now = labelled(&after, "app-key");
    let kept = labelled(&after, &previous);
    assert_eq!((now.len(), kept.len(), after.len()), (3, 3, 6), "{after:?}");
    let old_id = id_of(before[0].as_str());
    assert!(kept.iter().all(|l| id_of(l) == old_id), "{kept:?}");
    assert!(
        now.iter()
            .all(|l| id_of(l) != old_id && id_of(l).len() == 32),
        "{now:?}"
    );
    // The new private key was generated inside the token and can never leave it.
    let private = now.iter().find(|l| l.starts_with("private")).unwrap();
    for flag in [
        "sensitive=true",
        "extractable=false",
        "never_extractable=true",
        "local=true",
    ] {
        assert!(private.contains(flag), "{flag}: {private}");
    }
    assert!(!after.iter().any(|l| l.contains(".next-")), "{after:?}");

    // The same command line signs with the new key; the old key is refused by Entra.
    assert_eq!(assertion_kid(&hsm, &emu, uri, &[]), new_thumb);
    let t = graphd(&hsm, &emu, "token", uri, &[]);
    t.ok();
    let old_uri = format!("pkcs11:token=graphd;object={previous}");
    assert_eq!(assertion_kid(&hsm, &emu, &old_uri, &[]), old_thumb);
    graphd(&hsm, &emu, "token", &old_uri, &[]).refused(4, None, "AADSTS700027");

    // A second rotation the same day keeps both earlier key pairs under names of their own.
    let again = graphd(&hsm, &emu, "rotate", uri, &[]);
    again.ok();
    let third = thumbprint_of(again.stdout.as_bytes());
    let after = objects(&hsm);
    assert_eq!(labelled(&after, "app-key").len(), 3, "{after:?}");
    assert_eq!(labelled(&after, &previous).len(), 3, "{after:?}");
    assert_eq!(
        labelled(&after, &format!("{previous}.2")).len(),
        3,
        "{after:?}"
    );
    assert_eq!(assertion_kid(&hsm, &emu, uri, &[]), third);
    let second_uri = format!("pkcs11:token=graphd;object={previous}.2");
    assert_eq!(assertion_kid(&hsm, &emu, &second_uri, &[]), new_thumb);
    assert_eq!(registered(&emu), [new_thumb, third]);
}

#[test]
fn a_key_named_by_id_with_a_certificate_file_keeps_both_keys_working() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = imported(&hsm, 2048);
    let emu = emulator(&cert, 0);
    let original = std::fs::read(&cert).unwrap();
    let uri = "pkcs11:token=graphd;id=%01";
    let cert_arg = cert.to_str().unwrap();
    let out = graphd(&hsm, &emu, "rotate", uri, &["--cert", cert_arg]);
    out.ok();
    assert!(out.stderr.contains("rotate 7/7 kept"), "{}", out.stderr);

    // The file holds the new certificate, the previous one is kept next to it.
    let backup = PathBuf::from(format!("{}.previous-{}", cert.display(), today()));
    assert_eq!(std::fs::read(&backup).unwrap(), original);
    assert_eq!(std::fs::read_to_string(&cert).unwrap(), out.stdout);
    assert_eq!(registered(&emu).len(), 2);

    // id=%01 names the new key pair (and the certificate stored next to it); the old pair
    // has the new objects' fresh id and the .previous label.
    let after = objects(&hsm);
    let previous = format!("app-key.previous-{}", today());
    let now = labelled(&after, "app-key");
    assert_eq!(now.len(), 3, "key pair and certificate: {after:?}");
    assert!(now.iter().all(|l| id_of(l) == "01"), "{now:?}");
    let kept = labelled(&after, &previous);
    assert_eq!(kept.len(), 2, "the imported pair: {after:?}");
    assert!(
        kept.iter()
            .all(|l| id_of(l) != "01" && id_of(l).len() == 32),
        "{kept:?}"
    );

    // Without --remove-old both keys work: the same command line, and the previous objects
    // with the previous file.
    let new_thumb = thumbprint_of(out.stdout.as_bytes());
    assert_eq!(
        assertion_kid(&hsm, &emu, uri, &["--cert", cert_arg]),
        new_thumb
    );
    graphd(&hsm, &emu, "token", uri, &["--cert", cert_arg]).ok();
    // Without --cert: the certificate next to the key.
    graphd(&hsm, &emu, "token", uri, &[]).ok();
    let old_uri = format!("pkcs11:token=graphd;object={previous}");
    graphd(
        &hsm,
        &emu,
        "token",
        &old_uri,
        &["--cert", backup.to_str().unwrap()],
    )
    .ok();
}

#[test]
fn dry_run_creates_no_object_and_sends_nothing() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = generated(&hsm, "app-key");
    let emu = emulator(&cert, 0);
    let before = objects(&hsm);
    let out = graphd(
        &hsm,
        &emu,
        "rotate",
        "pkcs11:token=graphd;object=app-key",
        &["--dry-run", "--remove-old"],
    );
    out.ok();
    assert_eq!(out.stdout, "");
    let c = emu.counters();
    assert_eq!((c.token.requests, c.graph.requests), (0, 0));
    assert_eq!(objects(&hsm), before, "no object created, none renamed");
    for part in [
        "nothing created or changed in the token",
        &format!("object=app-key.next-{}", today()),
        &format!("object=app-key.previous-{}", today()),
        "inside token 'graphd'",
        "\"aud\":\"00000002-0000-0000-c000-000000000000\"",
    ] {
        assert!(out.stderr.contains(part), "{part}:\n{}", out.stderr);
    }
}
