//! Every credential graphd must refuse: one `graphd: error: <path>: <problem>` line, a hint, exit
//! code 3, no panic; `graphd cert` still prints its report when there is a certificate, and
//! `graphd assertion` refuses the same file the same way with nothing on stdout.

use super::{Case, Pw, case, cert_json, with_credential};
use crate::support::fixtures::{PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::outcome::{Outcome, run};
use crate::support::{graphd, graphd_app};

/// Runs `graphd cert --json` and `graphd assertion` on `c`; both must refuse with `problem`
/// naming `blamed` (a fixture name, default the `--cert` file). Returns the cert outcome.
fn refused(c: &Case, blamed: Option<&str>, problem: &str) -> Outcome {
    let fx = fixtures();
    let path = fx.path(blamed.unwrap_or(c.cert));
    let mut cert = graphd();
    cert.args(["cert", "--json"]);
    with_credential(&mut cert, c);
    let out = run(&mut cert);
    out.refused(3, Some(&path), problem);
    out.stdout_empty_or_report();

    let mut assertion = graphd_app("assertion");
    with_credential(&mut assertion, c);
    let signed = run(&mut assertion);
    let line = signed.refused(3, Some(&path), problem);
    assert_eq!(
        signed.stdout, "",
        "{}: no assertion for a refused credential",
        c.what
    );
    assert_eq!(
        line,
        out.stderr.lines().next().unwrap(),
        "{}: same error from cert and assertion",
        c.what
    );
    out
}

#[test]
fn non_rsa_keys_are_refused_with_the_report_shown() {
    for (file, kind) in [
        ("ec.pem", "EC"),
        ("ec-sec1.pem", "EC"),
        ("ed25519.pem", "Ed25519"),
    ] {
        let out = refused(
            &case(file, file, None, Pw::None),
            None,
            &format!("the key is {kind}; Entra ID accepts only RSA"),
        );
        let r = out.json();
        assert_eq!(r["key_type"], kind, "{file}");
        assert_eq!(r["key_match"], true, "{file}");
    }
    // The key alone, in the EC-specific (SEC1) and generic (PKCS#8) encodings.
    for key in ["ec.key", "ec.sec1.key"] {
        let out = refused(
            &case(key, "ec.crt", Some(key), Pw::None),
            Some(key),
            "the key is EC",
        );
        out.stdout_empty_or_report();
    }
}

#[test]
fn weak_rsa_is_refused() {
    let out = refused(
        &case("rsa1024", "rsa1024.pem", None, Pw::None),
        None,
        "the RSA key has 1024 bits",
    );
    assert!(out.stderr.contains("AADSTS50032"), "{}", out.stderr);
    assert_eq!(out.json()["key_bits"], 1024);
}

#[test]
fn key_and_certificate_that_do_not_match_are_refused() {
    let out = refused(
        &case("mismatch", "mismatch.pem", None, Pw::None),
        None,
        "does not match the certificate",
    );
    assert_eq!(out.json()["key_match"], false);
    let out = refused(
        &case("mismatch chain", "mismatch-chain.pem", None, Pw::None),
        None,
        "matches none of the 3 certificates",
    );
    assert_eq!(out.json()["chain_length"], 3);
    refused(
        &case("separate files", "leaf.crt", Some("other.key"), Pw::None),
        None,
        "does not match",
    );
}

#[test]
fn two_different_keys_are_refused() {
    refused(
        &case("two keys", "key-then-cert.pem", Some("other.key"), Pw::None),
        Some("key-then-cert.pem"),
        "holds more than one private key",
    );
    // The same key twice (a combined PEM given as --cert and --key) is one key.
    let fx = fixtures();
    let mut cmd = graphd();
    cmd.args(["cert", "--cert"])
        .arg(fx.path("key-then-cert.pem"));
    cmd.arg("--key").arg(fx.path("leaf.pkcs1.key"));
    run(&mut cmd).ok();
}

#[test]
fn certificates_outside_their_validity_are_refused() {
    let out = refused(
        &case("expired", "expired.pem", None, Pw::None),
        None,
        "the certificate expired on 2021-01-01T00:00:00Z",
    );
    assert_eq!(out.json()["status"], "expired");
    let out = refused(
        &case("future", "future.pem", None, Pw::None),
        None,
        "the certificate is not valid before 2099-01-01T00:00:00Z",
    );
    assert_eq!(out.json()["status"], "not yet valid");
}

#[test]
fn wrong_and_missing_passwords_are_refused() {
    let wrong = "wrong password for the";
    let missing = "is password-protected and no password was given";
    for file in ["enc-pkcs8-combined.pem", "legacy-enc-combined.pem"] {
        refused(
            &case(file, file, None, Pw::Env(WRONG_PASSWORD)),
            None,
            &format!("{wrong} encrypted private key"),
        );
        refused(
            &case(file, file, None, Pw::Stdin(WRONG_PASSWORD)),
            None,
            wrong,
        );
        // stdin is not a terminal in tests: with no password given, no prompt is possible.
        refused(&case(file, file, None, Pw::None), None, missing);
    }
    for file in ["default.pfx", "legacy.pfx", "chain.pfx"] {
        refused(
            &case(file, file, None, Pw::Env(WRONG_PASSWORD)),
            None,
            &format!("{wrong} PFX (PKCS#12) file"),
        );
        refused(&case(file, file, None, Pw::None), None, missing);
    }
    // The error blames the key file when the encrypted key is a file of its own.
    refused(
        &case(
            "--key",
            "leaf.crt",
            Some("leaf.enc.key"),
            Pw::Env(WRONG_PASSWORD),
        ),
        Some("leaf.enc.key"),
        wrong,
    );
    refused(
        &case("--key", "leaf.crt", Some("leaf.legacy-enc.key"), Pw::None),
        Some("leaf.legacy-enc.key"),
        missing,
    );
    // The right password for another file is still wrong.
    let fx = fixtures();
    let mut cmd = graphd();
    cmd.args(["cert", "--cert"]).arg(fx.path("default.pfx"));
    cmd.arg("--password-file")
        .arg(fx.path("wrong-password.txt"));
    run(&mut cmd).refused(3, Some(&fx.path("default.pfx")), wrong);
    assert_ne!(PASSWORD, WRONG_PASSWORD);
}

#[test]
fn encrypted_pfx_without_mac_is_refused_for_what_it_is() {
    // OpenSSL 3.0 cannot open it; it used to be called corrupt, whatever the password.
    let problem = "the PFX is encrypted but has no integrity MAC";
    for pw in [Pw::Env(PASSWORD), Pw::Env(WRONG_PASSWORD), Pw::None] {
        let out = refused(&case("no MAC", "no-mac.pfx", None, pw), None, problem);
        assert!(
            out.stderr.contains("openssl pkcs12 -in FILE -nodes"),
            "{}",
            out.stderr
        );
    }
    // The unencrypted PFX without a MAC still loads.
    let fx = fixtures();
    run(graphd()
        .args(["cert", "--cert"])
        .arg(fx.path("no-password.pfx")))
    .ok();
}

#[test]
fn certificate_without_key_is_inspected_but_key_without_certificate_is_refused() {
    // A lone certificate is described and accepted by `graphd cert` (issue 10); a command
    // that must sign with it refuses it.
    for file in ["leaf.crt", "leaf.crt.der"] {
        let c = case("cert only", file, None, Pw::None);
        let out = cert_json(&c);
        out.ok();
        assert_eq!(out.json()["private_key"], false);
        assert_eq!(out.json()["private_key_file"], serde_json::Value::Null);
        let mut assertion = graphd();
        assertion.args([
            "assertion",
            "--tenant",
            crate::support::TENANT,
            "--client-id",
            crate::support::CLIENT_ID,
        ]);
        with_credential(&mut assertion, &c);
        run(&mut assertion).refused(
            3,
            Some(&fixtures().path(file)),
            "holds a certificate but no private key",
        );
    }
    let out = refused(
        &case("key only", "leaf.key", None, Pw::None),
        None,
        "holds a private key but no certificate",
    );
    assert_eq!(out.stdout, "", "no certificate, nothing to report");
    refused(
        &case("DER key only", "leaf.key.der", None, Pw::None),
        None,
        "no certificate",
    );
    refused(
        &case("PKCS#1 key only", "leaf.pkcs1.key", None, Pw::None),
        None,
        "no certificate",
    );
    // Two certificates files and no key: the key file given is not a key.
    refused(
        &case("two certs", "leaf.crt", Some("other.crt"), Pw::None),
        Some("other.crt"),
        "no private key",
    );
}
