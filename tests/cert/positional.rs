//! Issue 10, "`graphd cert FILE` is refused": the file to inspect is positional (or `--cert`,
//! not both; the environment only when neither is given), a file of certificates only is
//! reported and accepted ("private key: not in this file"), and what is wrong is still
//! refused with exit 3 after the report.

use crate::support::fixtures::{PASSWORD, fixtures};
use crate::support::outcome::run;
use crate::support::{graphd, ossl};

/// The value of `name:` in `graphd cert`'s text report.
fn field<'a>(report: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}:");
    report
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name:?} in\n{report}"))
        .trim()
}

#[test]
fn the_file_is_positional() {
    let fx = fixtures();
    let path = fx.path("key-then-cert.pem");
    let out = run(graphd().arg("cert").arg(&path));
    out.ok();
    assert_eq!(field(&out.stdout, "file"), path.display().to_string());
    assert_eq!(field(&out.stdout, "private key"), "in this file");
    assert_eq!(field(&out.stdout, "key matches"), "yes");
    assert!(
        field(&out.stdout, "thumbprint").starts_with(&ossl::sha1_thumbprint(&fx.path("leaf.crt")))
    );

    // FILE with --key, and FILE with --json after it.
    let key = fx.path("leaf.key");
    let out = run(graphd()
        .arg("cert")
        .arg(fx.path("leaf.crt"))
        .arg("--key")
        .arg(&key));
    out.ok();
    assert_eq!(
        field(&out.stdout, "private key"),
        format!("in {}", key.display())
    );
    let out = run(graphd().arg("cert").arg(&path).arg("--json"));
    out.ok();
    let r = out.json();
    assert_eq!(r["private_key_file"], path.display().to_string());
    assert_eq!(r["key_match"], true);

    // An encrypted key: the password comes from where it always does.
    let out = run(graphd()
        .arg("cert")
        .arg(fx.path("enc-pkcs8-combined.pem"))
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD));
    out.ok();
    assert_eq!(field(&out.stdout, "key matches"), "yes");
}

#[test]
fn a_certificate_only_file_is_reported_and_accepted() {
    let fx = fixtures();
    for file in ["leaf.crt", "leaf.crt.der", "chain-certs-only.pem"] {
        let path = fx.path(file);
        let out = run(graphd().arg("cert").arg(&path));
        out.ok();
        assert_eq!(out.stderr, "", "{file}: nothing to warn about");
        assert_eq!(field(&out.stdout, "private key"), "not in this file");
        assert_eq!(field(&out.stdout, "key"), "RSA 2048 bits");
        let out = run(graphd().arg("cert").arg("--json").arg(&path));
        out.ok();
        let r = out.json();
        assert_eq!(r["private_key"], false, "{file}");
        assert_eq!(r["private_key_file"], serde_json::Value::Null, "{file}");
        assert_eq!(r["key_match"], serde_json::Value::Null, "{file}");
        assert_eq!(r["status"], "valid", "{file}");
    }
    // Expiring soon: accepted, with the usual warning.
    let out = run(graphd().arg("cert").arg(fx.path("expiring.crt")));
    out.ok();
    assert_eq!(out.warnings().len(), 1, "{}", out.stderr);
}

#[test]
fn what_is_wrong_is_still_refused_after_the_report() {
    let fx = fixtures();
    // A certificate Entra would not take, even without a key: report, then exit 3.
    for (file, problem) in [
        ("expired.crt", "the certificate expired on"),
        ("future.crt", "not valid before"),
        ("rsa1024.crt", "the RSA key has 1024 bits"),
        ("ec.crt", "the key is EC"),
    ] {
        let path = fx.path(file);
        let out = run(graphd().arg("cert").arg(&path));
        out.refused(3, Some(&path), problem);
        out.stdout_empty_or_report();
        assert_eq!(field(&out.stdout, "private key"), "not in this file");
    }
    // A key that matches no certificate.
    let path = fx.path("mismatch.pem");
    let out = run(graphd().arg("cert").arg(&path));
    out.refused(3, Some(&path), "does not match");
    assert_eq!(field(&out.stdout, "key matches").get(..2), Some("NO"));
    // --key naming a file without a key is a mistake, not a certificate-only inspection.
    let out = run(graphd()
        .arg("cert")
        .arg(fx.path("leaf.crt"))
        .arg("--key")
        .arg(fx.path("other.crt")));
    out.refused(3, Some(&fx.path("other.crt")), "no private key");
    // Unreadable.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    run(graphd().arg("cert").arg(&missing)).refused(3, Some(&missing), "no such file");
}

#[test]
fn file_and_cert_together_are_a_usage_error_and_file_beats_the_environment() {
    let fx = fixtures();
    let a = fx.path("key-then-cert.pem");
    let b = fx.path("other.pem");
    for args in [
        vec![
            a.clone().into_os_string(),
            "--cert".into(),
            b.clone().into(),
        ],
        vec!["--cert".into(), a.clone().into(), a.clone().into()],
    ] {
        let out = run(graphd().arg("cert").args(&args));
        out.refused(2, None, "<FILE> cannot be used with --cert <PATH>");
        assert_eq!(out.stdout, "");
        // Neither value is repeated: a misplaced password must not reach a log.
        assert!(!out.stderr.contains("pem"), "{}", out.stderr);
    }
    // A CI job's AZURE_CLIENT_CERTIFICATE_PATH does not stop `graphd cert FILE`; FILE wins.
    let out = run(graphd()
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &b)
        .arg("cert")
        .arg("--json")
        .arg(&a));
    out.ok();
    assert_eq!(out.json()["file"], a.display().to_string());
    // And alone, the environment still names the file.
    let out = run(graphd()
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &b)
        .args(["cert", "--json"]));
    out.ok();
    assert_eq!(out.json()["file"], b.display().to_string());
}

#[test]
fn an_encrypted_gen_cert_key_pem_is_inspected_positionally() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pw"), "key secret\n").unwrap();
    let made = graphd()
        .current_dir(tmp.path())
        .args(["gen-cert", "--encrypt-key", "--password-file", "pw"])
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = run(graphd().current_dir(tmp.path()).args([
        "cert",
        "certs/key.pem",
        "--json",
        "--password-file",
        "pw",
    ]));
    out.ok();
    let r = out.json();
    assert_eq!(r["key_match"], true);
    assert_eq!(r["private_key_file"], "certs/key.pem");
    let upload = run(graphd()
        .current_dir(tmp.path())
        .args(["cert", "certs/cert.pem"]));
    upload.ok();
    assert_eq!(field(&upload.stdout, "private key"), "not in this file");
    assert_eq!(
        field(&upload.stdout, "thumbprint"),
        r["thumbprint"]
            .as_str()
            .map(|t| format!("{t} (SHA-1, as the Azure portal shows it)"))
            .unwrap()
    );
}
