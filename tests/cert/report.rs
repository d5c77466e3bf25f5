//! What `graphd cert` prints: every value agrees with the openssl CLI, the text form is
//! aligned rows, a lone certificate is still described, a near expiry is warned about.

use std::path::PathBuf;

use super::{Pw, case, cert_json};
use crate::support::fixtures::fixtures;
use crate::support::outcome::run;
use crate::support::{graphd, graphd_app, ossl};

/// Compares every report value with what the openssl CLI says about the same certificate.
fn matches_openssl(file: &'static str, leaf_pem: &str, leaf_der: Option<&str>) {
    let fx = fixtures();
    let leaf = fx.path(leaf_pem);
    let tmp = tempfile::tempdir().unwrap();
    let der: PathBuf = match leaf_der {
        Some(d) => fx.path(d),
        None => {
            let p = tmp.path().join("leaf.der");
            ossl::cert_der(&leaf, &p);
            p
        }
    };
    let out = cert_json(&case("report", file, None, Pw::None));
    out.ok();
    let r = out.json();
    let (not_before, not_after) = ossl::dates(&leaf);
    assert_eq!(r["file"], fx.path(file).display().to_string());
    assert_eq!(r["subject"], ossl::subject(&leaf));
    assert_eq!(r["issuer"], ossl::issuer(&leaf));
    assert_eq!(r["serial"], ossl::serial(&leaf));
    assert_eq!(r["not_before"], not_before);
    assert_eq!(r["not_after"], not_after);
    assert_eq!(r["key_bits"], ossl::key_bits(&leaf));
    let thumbprint = r["thumbprint"].as_str().unwrap();
    assert_eq!(thumbprint, ossl::sha1_thumbprint(&leaf));
    assert_eq!(thumbprint.len(), 40);
    assert!(
        thumbprint
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
        "uppercase hex"
    );
    assert_eq!(r["x5t"], ossl::der_digest_b64url(&der, "sha1", tmp.path()));
    assert_eq!(
        r["x5t#S256"],
        ossl::der_digest_b64url(&der, "sha256", tmp.path())
    );
    for name in ["x5t", "x5t#S256"] {
        let v = r[name].as_str().unwrap();
        assert!(
            !v.contains(['=', '+', '/']),
            "{name} is unpadded base64url: {v}"
        );
    }

    // The text form carries the same values, one `name: value` line each.
    let text = run(graphd().args(["cert", "--cert"]).arg(fx.path(file)));
    text.ok().stdout_empty_or_report();
    let value = |name: &str| -> String {
        let line = text
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap();
        line[name.len() + 1..].trim().to_string()
    };
    assert_eq!(value("subject"), ossl::subject(&leaf));
    assert_eq!(value("serial"), ossl::serial(&leaf));
    assert!(
        value("thumbprint").starts_with(thumbprint),
        "{}",
        text.stdout
    );
    assert_eq!(value("x5t"), r["x5t"].as_str().unwrap());
    assert_eq!(value("x5t#S256"), r["x5t#S256"].as_str().unwrap());
    assert_eq!(value("not after"), not_after);
    assert!(
        value("key").starts_with(&format!("RSA {} bits", r["key_bits"])),
        "{}",
        text.stdout
    );
    assert_eq!(value("key matches"), "yes");
}

#[test]
fn report_values_agree_with_openssl() {
    matches_openssl("key-then-cert.pem", "leaf.crt", Some("leaf.crt.der"));
    matches_openssl(
        "chain-leaf-middle.pem",
        "chained.crt",
        Some("chained.crt.der"),
    );
    matches_openssl("rsa4096.pem", "rsa4096.crt", None);
    matches_openssl("expiring.pem", "expiring.crt", None);
}

#[test]
fn certificate_only_file_is_reported_and_accepted() {
    // `graphd cert` on a chain without its key shows the leaf, not an issuer; a file of
    // certificates only is a normal thing to inspect (issue 10), so it exits 0.
    let fx = fixtures();
    let path = fx.path("chain-certs-only.pem");
    let out = run(graphd().args(["cert", "--json", "--cert"]).arg(&path));
    out.ok();
    let r = out.json();
    assert_eq!(
        r["thumbprint"],
        ossl::sha1_thumbprint(&fx.path("chained.crt"))
    );
    assert_eq!(r["private_key"], false);
    assert_eq!(r["key_match"], serde_json::Value::Null);
    assert_eq!(r["chain_length"], 3);
}

#[test]
fn expiring_certificate_loads_with_a_warning() {
    let fx = fixtures();
    for cmd in ["cert", "assertion"] {
        let mut c = graphd_app(cmd);
        c.arg("--cert").arg(fx.path("expiring.pem"));
        if cmd == "cert" {
            c = graphd();
            c.args(["cert", "--cert"]).arg(fx.path("expiring.pem"));
        }
        let out = run(&mut c);
        out.ok();
        let warnings = out.warnings();
        assert_eq!(warnings.len(), 1, "{}", out.stderr);
        assert!(warnings[0].contains("expires on"), "{}", warnings[0]);
        assert!(
            warnings[0].contains(&fx.path("expiring.pem").display().to_string()),
            "{}",
            warnings[0]
        );
        assert!(
            !out.stdout.contains("warning"),
            "the warning goes to stderr only"
        );
    }
}

/// The text report is readable: aligned `name: value` rows, no debug noise.
#[test]
fn text_report_is_aligned_rows() {
    let fx = fixtures();
    let out = run(graphd()
        .args(["cert", "--cert"])
        .arg(fx.path("chain-key-first.pem")));
    out.ok();
    let names: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "file",
            "subject",
            "issuer",
            "serial",
            "not before",
            "not after",
            "status",
            "signature",
            "key",
            "private key",
            "key matches",
            "thumbprint",
            "x5t",
            "x5t#S256",
            "chain"
        ]
    );
    for line in out.stdout.lines() {
        let (name, value) = line.split_at(13);
        assert!(name.ends_with(": ") || name.ends_with(' '), "{line}");
        assert!(!value.starts_with(' ') && !value.is_empty(), "{line}");
    }
    assert!(
        out.stdout.contains("chain:       3 certificate(s)"),
        "{}",
        out.stdout
    );
}
