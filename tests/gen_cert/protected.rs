//! gen-cert's password-protected outputs: the encrypted PKCS#8 key and the PFX, checked with
//! the `openssl` CLI (algorithms, wrong passwords) and with `graphd cert`.

use super::{assert_no_key_material, cert_report, gen_cert, listing, mode, openssl_text, stderr};
use crate::support::graphd;

#[test]
fn encrypted_key_needs_its_password() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("pw"), "key secret\n").unwrap();
    let out = gen_cert(dir, &["--encrypt-key", "--password-file", "pw"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let certs = dir.join("certs");
    assert_no_key_material(&out, &certs.join("key.pem"));
    assert!(!stderr(&out).contains("key secret"));
    let key = std::fs::read_to_string(certs.join("key.pem")).unwrap();
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{key}"
    );
    let (_, asn1) = openssl_text(&certs, &["asn1parse", "-in", "key.pem"]);
    for alg in [":PBES2", ":PBKDF2", ":hmacWithSHA256", ":aes-256-cbc"] {
        assert!(asn1.contains(alg), "{alg} in {asn1}");
    }
    let (ok, _) = openssl_text(
        &certs,
        &["pkey", "-in", "key.pem", "-noout", "-passin", "pass:wrong"],
    );
    assert!(!ok, "a wrong password must not open the key");
    let (ok, text) = openssl_text(
        &certs,
        &["pkey", "-in", "key.pem", "-noout", "-passin", "file:../pw"],
    );
    assert!(ok, "{text}");

    let refused = graphd()
        .current_dir(&certs)
        .args(["cert", "--cert", "cert.pem", "--key", "key.pem"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("password"),
        "{}",
        stderr(&refused)
    );
    let report = cert_report(
        &certs,
        &["--cert", "cert.pem", "--key", "key.pem"],
        Some("key secret"),
    );
    assert_eq!(report["key_match"], true);
}

#[test]
fn pfx_holds_key_and_certificate_under_modern_encryption() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = graphd()
        .current_dir(dir)
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pfx secret")
        .args(["gen-cert", "--pfx"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let certs = dir.join("certs");
    assert_eq!(listing(&certs), ["cert.pem", "graphd.pfx", "key.pem"]);
    assert_eq!(mode(&certs.join("graphd.pfx")), 0o600);
    assert!(!stderr(&out).contains("pfx secret"));

    let (ok, info) = openssl_text(
        &certs,
        &[
            "pkcs12",
            "-info",
            "-in",
            "graphd.pfx",
            "-noout",
            "-passin",
            "env:PW",
        ],
    );
    assert!(ok, "{info}");
    assert!(info.contains("MAC: sha256"), "{info}");
    assert_eq!(
        info.matches("PBES2, PBKDF2, AES-256-CBC").count(),
        2,
        "both bags: {info}"
    );
    let (ok, _) = openssl_text(
        &certs,
        &[
            "pkcs12",
            "-in",
            "graphd.pfx",
            "-noout",
            "-passin",
            "pass:wrong",
        ],
    );
    assert!(!ok, "a wrong password must not open the PFX");

    let from_pfx = cert_report(&certs, &["--cert", "graphd.pfx"], Some("pfx secret"));
    let from_pem = cert_report(&certs, &["--cert", "cert.pem", "--key", "key.pem"], None);
    assert_eq!(from_pfx["key_match"], true);
    assert_eq!(from_pfx["thumbprint"], from_pem["thumbprint"]);

    // --password-stdin, and one password for both files.
    let out = graphd()
        .current_dir(dir)
        .args([
            "gen-cert",
            "--out",
            "both",
            "--pfx",
            "--encrypt-key",
            "--password-stdin",
        ])
        .write_stdin("pfx secret\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let both = dir.join("both");
    let (ok, text) = openssl_text(
        &both,
        &["pkcs12", "-in", "graphd.pfx", "-noout", "-passin", "env:PW"],
    );
    assert!(ok, "{text}");
    let (ok, text) = openssl_text(
        &both,
        &["pkey", "-in", "key.pem", "-noout", "-passin", "env:PW"],
    );
    assert!(ok, "{text}");
}
