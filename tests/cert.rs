//! Tests for `graphd cert` (issue 2): every real credential encoding loads, every report value
//! agrees with the openssl CLI, and every unusable file is refused with one line, a hint and
//! exit code 3, the report still printed when there is a certificate to describe.

mod files;
mod positional;
mod prompt;
mod refusals;
mod report;

use crate::support::fixtures::{PASSWORD, UNICODE_PASSWORD, fixtures};
use crate::support::outcome::{Outcome, run};
use crate::support::{graphd, graphd_app, ossl};

/// How the password reaches graphd.
#[derive(Debug, Clone, Copy)]
pub enum Pw {
    None,
    Env(&'static str),
    File,
    Stdin(&'static str),
}

/// One way of handing graphd a credential.
#[derive(Debug, Clone)]
pub struct Case {
    pub what: &'static str,
    pub cert: &'static str,
    pub key: Option<&'static str>,
    pub pw: Pw,
}

const fn case(what: &'static str, cert: &'static str, key: Option<&'static str>, pw: Pw) -> Case {
    Case {
        what,
        cert,
        key,
        pw,
    }
}

/// The credential arguments (and environment) of `case` on `cmd`.
pub fn with_credential(cmd: &mut assert_cmd::Command, c: &Case) {
    let fx = fixtures();
    cmd.arg("--cert").arg(fx.path(c.cert));
    if let Some(k) = c.key {
        cmd.arg("--key").arg(fx.path(k));
    }
    match c.pw {
        Pw::None => {}
        Pw::Env(pw) => {
            cmd.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", pw);
        }
        Pw::File => {
            cmd.arg("--password-file").arg(fx.path("password.txt"));
        }
        Pw::Stdin(pw) => {
            cmd.arg("--password-stdin").write_stdin(format!("{pw}\n"));
        }
    }
}

pub fn cert_json(c: &Case) -> Outcome {
    let mut cmd = graphd();
    cmd.args(["cert", "--json"]);
    with_credential(&mut cmd, c);
    run(&mut cmd)
}

/// Every encoding of the one 2048-bit key, with its self-signed certificate `leaf.crt`.
const LEAF_CASES: &[Case] = &[
    case(
        "PKCS#8 key then certificate",
        "key-then-cert.pem",
        None,
        Pw::None,
    ),
    case(
        "certificate then PKCS#8 key",
        "cert-then-key.pem",
        None,
        Pw::None,
    ),
    case(
        "PKCS#1 (BEGIN RSA PRIVATE KEY) + certificate",
        "pkcs1-combined.pem",
        None,
        Pw::None,
    ),
    case(
        "separate files, PKCS#8 key",
        "leaf.crt",
        Some("leaf.key"),
        Pw::None,
    ),
    case(
        "separate files, PKCS#1 key",
        "leaf.crt",
        Some("leaf.pkcs1.key"),
        Pw::None,
    ),
    case(
        "key given as --cert, certificate as --key",
        "leaf.key",
        Some("leaf.crt"),
        Pw::None,
    ),
    case(
        "DER certificate + DER PKCS#8 key",
        "leaf.crt.der",
        Some("leaf.key.der"),
        Pw::None,
    ),
    case(
        "DER certificate + DER PKCS#1 key",
        "leaf.crt.der",
        Some("leaf.pkcs1.key.der"),
        Pw::None,
    ),
    case(
        "PEM certificate + DER key",
        "leaf.crt",
        Some("leaf.key.der"),
        Pw::None,
    ),
    case(
        "encrypted PKCS#8, password from the environment",
        "enc-pkcs8-combined.pem",
        None,
        Pw::Env(PASSWORD),
    ),
    case(
        "encrypted PKCS#8, --password-file",
        "enc-pkcs8-combined.pem",
        None,
        Pw::File,
    ),
    case(
        "encrypted PKCS#8, --password-stdin",
        "enc-pkcs8-combined.pem",
        None,
        Pw::Stdin(PASSWORD),
    ),
    case(
        "encrypted PKCS#8 in its own file",
        "leaf.crt",
        Some("leaf.enc.key"),
        Pw::File,
    ),
    case(
        "legacy Proc-Type encrypted PKCS#1",
        "legacy-enc-combined.pem",
        None,
        Pw::Env(PASSWORD),
    ),
    case(
        "legacy encrypted PKCS#1 in its own file",
        "leaf.crt",
        Some("leaf.legacy-enc.key"),
        Pw::Stdin(PASSWORD),
    ),
    case(
        "PFX, OpenSSL 3 defaults (AES-256, PBKDF2)",
        "default.pfx",
        None,
        Pw::Env(PASSWORD),
    ),
    case(
        "PFX, -legacy (RC2-40, 3DES, SHA-1 MAC)",
        "legacy.pfx",
        None,
        Pw::File,
    ),
    case(
        "PFX with an empty password, none given",
        "empty-password.pfx",
        None,
        Pw::None,
    ),
    case(
        "PFX with an empty password, empty one given",
        "empty-password.pfx",
        None,
        Pw::Env(""),
    ),
    case(
        "PFX with no password at all",
        "no-password.pfx",
        None,
        Pw::None,
    ),
    case(
        "PFX with a non-ASCII password",
        "unicode-password.pfx",
        None,
        Pw::Env(UNICODE_PASSWORD),
    ),
    // A password set for every CI job may meet a file that needs none.
    case(
        "unencrypted PEM with a password in the environment",
        "key-then-cert.pem",
        None,
        Pw::Env(PASSWORD),
    ),
    case(
        "password-less PFX with a password in the environment",
        "empty-password.pfx",
        None,
        Pw::Env(PASSWORD),
    ),
];

/// The chained leaf (`chained.crt`, issued by an intermediate under a root), key `leaf.key`.
const CHAIN_CASES: &[Case] = &[
    case("chain, key first", "chain-key-first.pem", None, Pw::None),
    case(
        "chain, leaf in the middle, key after it",
        "chain-leaf-middle.pem",
        None,
        Pw::None,
    ),
    case(
        "chain file + separate key",
        "chain-certs-only.pem",
        Some("leaf.key"),
        Pw::None,
    ),
    case("PFX with a chain", "chain.pfx", None, Pw::Env(PASSWORD)),
];

fn expect_report(c: &Case, cert_pem: &str, bits: u64, chain: u64) {
    let fx = fixtures();
    let out = cert_json(c);
    out.ok();
    let r = out.json();
    let what = c.what;
    assert_eq!(
        r["thumbprint"],
        ossl::sha1_thumbprint(&fx.path(cert_pem)),
        "{what}"
    );
    assert_eq!(r["key_type"], "RSA", "{what}");
    assert_eq!(r["key_bits"], bits, "{what}");
    assert_eq!(r["private_key"], true, "{what}");
    assert_eq!(r["key_match"], true, "{what}");
    assert_eq!(r["chain_length"], chain, "{what}");
    assert_eq!(r["status"], "valid", "{what}");
    assert!(out.warnings().is_empty(), "{what}: {}", out.stderr);
}

#[test]
fn every_encoding_of_one_key_loads() {
    for c in LEAF_CASES {
        expect_report(c, "leaf.crt", 2048, 1);
    }
}

#[test]
fn chains_load_whatever_the_order_and_the_leaf_is_the_keys_certificate() {
    for c in CHAIN_CASES {
        expect_report(c, "chained.crt", 2048, 3);
    }
}

#[test]
fn larger_rsa_keys_load() {
    expect_report(
        &case("RSA 3072", "rsa3072.pem", None, Pw::None),
        "rsa3072.crt",
        3072,
        1,
    );
    expect_report(
        &case("RSA 4096, certificate first", "rsa4096.pem", None, Pw::None),
        "rsa4096.crt",
        4096,
        1,
    );
}

#[test]
fn every_encoding_signs_an_assertion() {
    for c in LEAF_CASES.iter().chain(CHAIN_CASES) {
        let mut cmd = graphd_app("assertion");
        with_credential(&mut cmd, c);
        let out = run(&mut cmd);
        out.ok();
        assert_eq!(
            out.stdout.trim().split('.').count(),
            3,
            "{}: {}",
            c.what,
            out.stdout
        );
    }
}

#[test]
fn pem_flattened_onto_one_line_loads() {
    // CI secret stores sometimes turn a PEM file's newlines into spaces.
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(fx.read("chain-leaf-middle.pem")).unwrap();
    let flat = dir.path().join("flat.pem");
    std::fs::write(&flat, text.replace('\n', " ")).unwrap();
    assert_eq!(std::fs::read_to_string(&flat).unwrap().lines().count(), 1);
    let out = run(graphd().args(["cert", "--json", "--cert"]).arg(&flat));
    out.ok();
    assert_eq!(
        out.json()["thumbprint"],
        ossl::sha1_thumbprint(&fx.path("chained.crt"))
    );
    assert_eq!(out.json()["chain_length"], 3);
}
