//! Issue 10, "`graphd list-users --cert key.pem` fails after `graphd gen-cert`": gen-cert's
//! `key.pem` is the credential (the private key followed by its certificate, mode 0600) and
//! `--cert certs/key.pem` alone is enough; `cert.pem` stays the public upload file, and the
//! separate-files form keeps working.

use graphd::emulator::{AppRegistration, EmulatorConfig};
use openssl::x509::X509;

use super::{cert_report, gen_cert, listing, mode, stderr};
use crate::support::CLIENT_ID;
use crate::support::emulator::{graphd_at, start_with};

/// The emulator with `cert` uploaded to the app `CLIENT_ID` (User.Read.All), and 7 users.
fn emulator_with(cert: X509) -> crate::support::emulator::TestEmulator {
    start_with(EmulatorConfig {
        users: 7,
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.into(),
            certificates: vec![cert],
            roles: vec!["User.Read.All".into()],
        }],
        ..EmulatorConfig::default()
    })
}

#[test]
fn key_pem_holds_the_key_then_its_certificate_and_is_enough_for_list_users() {
    let tmp = tempfile::tempdir().unwrap();
    let out = gen_cert(tmp.path(), &["--client-id", CLIENT_ID]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let certs = tmp.path().join("certs");
    assert_eq!(listing(&certs), ["cert.pem", "key.pem"]);
    assert_eq!(mode(&certs.join("key.pem")), 0o600);
    assert_eq!(mode(&certs.join("cert.pem")), 0o644);

    // key.pem: one PKCS#8 key, then exactly the certificate that cert.pem holds.
    let key_pem = std::fs::read_to_string(certs.join("key.pem")).unwrap();
    let cert_pem = std::fs::read_to_string(certs.join("cert.pem")).unwrap();
    assert!(
        key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "key first"
    );
    assert_eq!(key_pem.matches("-----BEGIN PRIVATE KEY-----").count(), 1);
    assert_eq!(
        key_pem.matches("-----BEGIN").count(),
        2,
        "a key and a certificate"
    );
    assert!(
        key_pem.ends_with(&cert_pem),
        "the certificate in key.pem is cert.pem's"
    );
    // cert.pem is the public upload file: no key in it, and it is what gen-cert printed.
    assert!(!cert_pem.contains("PRIVATE KEY"));
    assert_eq!(out.stdout, cert_pem.as_bytes());

    // The printed next steps use the one file.
    assert!(err.contains("--cert certs/key.pem"), "{err}");
    assert!(
        !err.contains("--key"),
        "no separate --key in the next steps: {err}"
    );

    // The usage graphd is known by: list-users with --cert key.pem and nothing else.
    let emu = emulator_with(X509::from_pem(cert_pem.as_bytes()).unwrap());
    let users = graphd_at(&emu)
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .current_dir(tmp.path())
        .args([
            "list-users",
            "--cert",
            "certs/key.pem",
            "--output",
            "ndjson",
        ])
        .output()
        .unwrap();
    assert!(users.status.success(), "{}", stderr(&users));
    assert_eq!(String::from_utf8(users.stdout).unwrap().lines().count(), 7);
    // The same file from the Azure SDKs' environment variable.
    let token = graphd_at(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", certs.join("key.pem"))
        .arg("token")
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", stderr(&token));
    assert_eq!(emu.counters().token.requests, 2);

    // graphd cert describes key.pem as a whole credential, its certificate once.
    let report = cert_report(&certs, &["--cert", "key.pem"], None);
    assert_eq!(report["key_match"], true);
    assert_eq!(report["private_key"], true);
    assert_eq!(report["chain_length"], 1);
}

#[test]
fn separate_files_still_work_and_count_the_certificate_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = gen_cert(tmp.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let certs = tmp.path().join("certs");
    // cert.pem + key.pem: the certificate is in both files, and is one certificate.
    let report = cert_report(&certs, &["--cert", "cert.pem", "--key", "key.pem"], None);
    assert_eq!(report["key_match"], true);
    assert_eq!(report["chain_length"], 1, "{report}");
    let emu = emulator_with(X509::from_pem(&out.stdout).unwrap());
    let token = graphd_at(&emu)
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .current_dir(&certs)
        .args([
            "token",
            "--send-x5c",
            "--cert",
            "cert.pem",
            "--key",
            "key.pem",
        ])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", stderr(&token));
}

#[test]
fn an_encrypted_key_pem_keeps_its_certificate_readable() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pw"), "key secret\n").unwrap();
    let out = gen_cert(tmp.path(), &["--encrypt-key", "--password-file", "pw"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("--cert certs/key.pem --password-file <file>"),
        "{err}"
    );
    let certs = tmp.path().join("certs");
    let key_pem = std::fs::read_to_string(certs.join("key.pem")).unwrap();
    assert!(key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert!(
        !key_pem.contains("-----BEGIN PRIVATE KEY-----"),
        "no clear key"
    );
    assert!(key_pem.ends_with(&std::fs::read_to_string(certs.join("cert.pem")).unwrap()));

    let report = cert_report(&certs, &["--cert", "key.pem"], Some("key secret"));
    assert_eq!(report["key_match"], true);
    assert_eq!(report["private_key"], true);
    // Without the password there is no key to match: refused, exit 3, never a prompt here.
    let refused = crate::support::graphd()
        .current_dir(&certs)
        .args(["cert", "--cert", "key.pem"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
}
