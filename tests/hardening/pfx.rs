//! Finding 6: a PFX cannot make graphd burn CPU. Its iteration counts are read before OpenSSL
//! derives any key; over the limits (1,000,000 for one derivation, 2,000,000 in all: far
//! above the 2,048 OpenSSL writes and Java keytool's 10,000) it is refused with exit 3,
//! before any password is asked for.

use std::path::Path;

use crate::support::fixtures::{PASSWORD, fixtures};
use crate::support::outcome::run;
use crate::support::{graphd, openssl};

/// A PFX of the fixture key made by the openssl CLI with `iter` iterations for the key, the
/// certificates and the MAC.
fn pfx_with(dir: &Path, iter: u32, name: &str) -> std::path::PathBuf {
    let fx = fixtures();
    let out = dir.join(name);
    let iter = iter.to_string();
    let pass = format!("pass:{PASSWORD}");
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            fx.path("leaf.key").to_str().unwrap(),
            "-in",
            fx.path("leaf.crt").to_str().unwrap(),
            "-iter",
            &iter,
            "-passout",
            &pass,
            "-out",
            out.to_str().unwrap(),
        ],
    );
    out
}

fn cert_run(pfx: &Path) -> crate::support::outcome::Outcome {
    run(graphd().args([
        "cert",
        "--cert",
        pfx.to_str().unwrap(),
        "--password-file",
        fixtures().path("password.txt").to_str().unwrap(),
    ]))
}

#[test]
fn finding_6_a_pfx_asking_for_absurd_iterations_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A valid PFX, just over the limit: OpenSSL would open it.
    let over = pfx_with(dir.path(), 1_000_001, "over.pfx");
    let out = cert_run(&over);
    let line = out.refused(3, Some(&over), "asks for 1000001 key-derivation iterations");
    assert!(line.contains("at most 1000000 each"), "{line}");
    assert!(
        out.stderr.contains("hint: export the credential again"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "nothing reported from a PFX that was not opened"
    );

    // One patched as an attacker would: every count 8,388,607 (0x7fffff, same length as the
    // 65,538 it replaces), MAC and all.
    let modest = pfx_with(dir.path(), 65_538, "modest.pfx");
    cert_run(&modest).ok();
    let mut der = std::fs::read(&modest).unwrap();
    let mut patched = 0;
    for at in 0..der.len() - 4 {
        if der[at..at + 5] == [0x02, 0x03, 0x01, 0x00, 0x02] {
            der[at + 2..at + 5].copy_from_slice(&[0x7f, 0xff, 0xff]);
            patched += 1;
        }
    }
    assert_eq!(
        patched, 3,
        "the MAC's, the certificates' and the key's counts"
    );
    let hostile = dir.path().join("hostile.pfx");
    std::fs::write(&hostile, der).unwrap();
    let out = cert_run(&hostile);
    out.refused(
        3,
        Some(&hostile),
        "asks for 8388607 key-derivation iterations",
    );

    // OpenSSL 3's defaults and a legacy (RC2/3DES, SHA-1 MAC) export open as before.
    for name in ["default.pfx", "legacy.pfx"] {
        cert_run(&fixtures().path(name)).ok();
    }
}
