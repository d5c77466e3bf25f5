//! Tests for `graphd gen-cert` (and, in `consent`, `graphd consent-url`): the files it writes
//! are checked with `graphd cert` and with the `openssl` CLI, as a user would check them.

mod combined;
mod consent;
mod end_to_end;
mod protected;
mod refusals;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command as StdCommand, Output};

use crate::support::{CLIENT_ID, graphd};

/// Runs `openssl` in `dir` and returns what it printed (stdout then stderr).
pub fn openssl_text(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = StdCommand::new("openssl")
        .args(args)
        .current_dir(dir)
        .env("PW", "pfx secret")
        .output()
        .expect("the openssl command-line tool is installed");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Runs `graphd gen-cert ARGS` in `dir` (the default `--out certs` is relative to it).
pub fn gen_cert(dir: &Path, args: &[&str]) -> Output {
    graphd()
        .current_dir(dir)
        .arg("gen-cert")
        .args(args)
        .output()
        .unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Names in `dir`, sorted: nothing else (no temporary file) may be there.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `graphd cert --json` of a credential, as JSON.
pub fn cert_report(dir: &Path, args: &[&str], password: Option<&str>) -> serde_json::Value {
    let mut cmd = graphd();
    cmd.current_dir(dir).arg("cert").arg("--json").args(args);
    if let Some(pw) = password {
        cmd.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", pw);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "graphd cert {args:?}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The base64 lines of the private key blocks of a PEM file (key.pem also holds the
/// certificate, which is public), none of which may ever reach stdout or stderr.
fn pem_body_lines(path: &Path) -> Vec<String> {
    let mut in_key = false;
    let mut lines = Vec::new();
    for l in std::fs::read_to_string(path).unwrap().lines() {
        if l.starts_with("-----BEGIN") {
            in_key = l.contains("PRIVATE KEY");
        } else if l.starts_with("-----END") {
            in_key = false;
        } else if in_key && l.len() > 16 {
            lines.push(l.to_string());
        }
    }
    assert!(!lines.is_empty(), "{} holds a private key", path.display());
    lines
}

pub fn assert_no_key_material(out: &Output, key: &Path) {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
    assert!(!all.contains("PRIVATE KEY"), "{all}");
    for line in pem_body_lines(key) {
        assert!(!all.contains(&line), "a line of the key was printed");
    }
}

/// Whether the certificate expires between `days` minus and plus one hour from now.
fn expires_in_days(dir: &Path, cert: &str, days: u64) -> bool {
    let before = (days * 86_400 - 3600).to_string();
    let after = (days * 86_400 + 3600).to_string();
    let (valid_before, _) =
        openssl_text(dir, &["x509", "-in", cert, "-noout", "-checkend", &before]);
    let (valid_after, _) = openssl_text(dir, &["x509", "-in", cert, "-noout", "-checkend", &after]);
    valid_before && !valid_after
}

#[test]
fn default_run_writes_a_pair_that_graphd_and_openssl_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = gen_cert(dir, &["--client-id", CLIENT_ID]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let certs = dir.join("certs");
    assert_eq!(listing(&certs), ["cert.pem", "key.pem"]);
    assert_eq!(mode(&certs), 0o700, "a created directory is private");
    assert_eq!(mode(&certs.join("key.pem")), 0o600);

    // stdout is exactly the certificate: `graphd gen-cert > upload.cer`.
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        stdout.as_bytes(),
        std::fs::read(certs.join("cert.pem")).unwrap()
    );
    assert!(
        stdout.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("-----END CERTIFICATE-----\n"), "{stdout}");
    assert_eq!(stdout.matches("-----BEGIN").count(), 1);
    assert_no_key_material(&out, &certs.join("key.pem"));
    let key = std::fs::read_to_string(certs.join("key.pem")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8");

    // What openssl sees.
    let (ok, text) = openssl_text(&certs, &["x509", "-in", "cert.pem", "-noout", "-text"]);
    assert!(ok, "{text}");
    for expected in [
        "Version: 3 (0x2)",
        "Signature Algorithm: sha256WithRSAEncryption",
        "Subject: CN = graphd",
        "Issuer: CN = graphd",
        "Public-Key: (2048 bit)",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Key Usage: critical\n                Digital Signature\n",
        "X509v3 Extended Key Usage: \n                TLS Web Client Authentication\n",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let (_, serial) = openssl_text(&certs, &["x509", "-in", "cert.pem", "-noout", "-serial"]);
    let serial = serial.trim().strip_prefix("serial=").unwrap();
    assert_eq!(serial.len(), 32, "16 bytes: {serial}");
    assert!(
        u8::from_str_radix(&serial[..2], 16).unwrap() < 0x80,
        "positive: {serial}"
    );
    assert!(expires_in_days(&certs, "cert.pem", 365));
    let (_, from_key) = openssl_text(&certs, &["pkey", "-in", "key.pem", "-pubout"]);
    let (_, from_cert) = openssl_text(&certs, &["x509", "-in", "cert.pem", "-noout", "-pubkey"]);
    assert!(from_key.contains("BEGIN PUBLIC KEY"), "{from_key}");
    assert_eq!(from_key, from_cert, "the key matches the certificate");

    // What graphd sees, and what gen-cert said about it.
    let report = cert_report(&certs, &["--cert", "cert.pem", "--key", "key.pem"], None);
    assert_eq!(report["key_match"], true);
    assert_eq!(report["key_bits"], 2048);
    let thumbprint = report["thumbprint"].as_str().unwrap();
    let (_, fingerprint) = openssl_text(
        &certs,
        &["x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha1"],
    );
    assert!(
        fingerprint.replace(':', "").contains(thumbprint),
        "{fingerprint} vs {thumbprint}"
    );
    assert!(err.contains(thumbprint), "{err}");
    assert!(err.contains(report["x5t#S256"].as_str().unwrap()), "{err}");
    assert!(
        err.contains(&report["not_after"].as_str().unwrap()[..10]),
        "expiry date: {err}"
    );
    for expected in [
        "certs/key.pem",
        "Certificates & secrets",
        "Upload certificate",
        &format!("az ad app credential reset --id {CLIENT_ID} --cert @certs/cert.pem --append"),
        "without it, az removes every existing secret and certificate",
        "User.Read.All",
        "graphd consent-url",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn size_subject_and_days_are_as_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let args = [
        "--out",
        "o",
        "--key-size",
        "3072",
        "--days",
        "30",
        "--subject",
        "/CN=ci-runner/O=Contoso, Inc./C=de",
    ];
    let out = gen_cert(dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("<client-id>"),
        "a placeholder without --client-id"
    );
    let o = dir.join("o");
    let (_, text) = openssl_text(&o, &["x509", "-in", "cert.pem", "-noout", "-text"]);
    assert!(text.contains("Public-Key: (3072 bit)"), "{text}");
    assert!(
        text.contains("Subject: CN = ci-runner, O = \"Contoso, Inc.\", C = DE"),
        "{text}"
    );
    assert!(expires_in_days(&o, "cert.pem", 30));
    let report = cert_report(&o, &["--cert", "cert.pem", "--key", "key.pem"], None);
    assert_eq!(report["key_bits"], 3072);
    assert_eq!(report["subject"], "CN=ci-runner, O=Contoso, Inc., C=DE");

    let out = gen_cert(
        dir,
        &["--out", "p", "--subject", r"CN=comma,O=Contoso\, Inc."],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = cert_report(
        &dir.join("p"),
        &["--cert", "cert.pem", "--key", "key.pem"],
        None,
    );
    assert_eq!(report["subject"], "CN=comma, O=Contoso, Inc.");
}

#[test]
fn a_second_run_changes_nothing_and_force_replaces() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("pw"), "pfx secret").unwrap();
    let first = gen_cert(dir, &["--pfx", "--password-file", "pw"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let certs = dir.join("certs");
    let snapshot = |names: &[&str]| -> Vec<(Vec<u8>, std::time::SystemTime)> {
        names
            .iter()
            .map(|n| {
                let p = certs.join(n);
                (
                    std::fs::read(&p).unwrap(),
                    std::fs::metadata(&p).unwrap().modified().unwrap(),
                )
            })
            .collect()
    };
    let names = ["cert.pem", "graphd.pfx", "key.pem"];
    let before = snapshot(&names);

    let again = gen_cert(dir, &["--pfx", "--password-file", "pw"]);
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));
    let err = stderr(&again);
    assert!(
        err.starts_with("graphd: error: certs/key.pem already exists\nhint: "),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(again.stdout.is_empty());
    assert_eq!(snapshot(&names), before, "bytes and mtimes unchanged");
    assert_eq!(listing(&certs), names, "no temporary file left");

    // Any one existing target is enough to refuse, and nothing else is written.
    std::fs::remove_file(certs.join("key.pem")).unwrap();
    let again = gen_cert(dir, &["--pfx", "--password-file", "pw"]);
    assert_eq!(again.status.code(), Some(3));
    assert!(
        stderr(&again).contains("certs/cert.pem already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(listing(&certs), ["cert.pem", "graphd.pfx"]);

    // --force replaces every file, atomically, with the same modes; a symlink in the way is
    // replaced itself, never followed.
    let victim = dir.join("victim");
    std::fs::write(&victim, "not yours").unwrap();
    std::os::unix::fs::symlink(&victim, certs.join("key.pem")).unwrap();
    let forced = gen_cert(dir, &["--pfx", "--password-file", "pw", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not yours");
    assert!(
        std::fs::symlink_metadata(certs.join("key.pem"))
            .unwrap()
            .is_file()
    );
    assert_eq!(mode(&certs.join("key.pem")), 0o600);
    assert_eq!(mode(&certs.join("graphd.pfx")), 0o600);
    assert_eq!(listing(&certs), names);
    assert_ne!(
        std::fs::read(certs.join("cert.pem")).unwrap(),
        before[0].0,
        "a new certificate"
    );
    let report = cert_report(&certs, &["--cert", "cert.pem", "--key", "key.pem"], None);
    assert_eq!(report["key_match"], true);
    assert!(stderr(&forced).contains(report["thumbprint"].as_str().unwrap()));
}
