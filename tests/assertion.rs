//! Tests for `graphd assertion` (issue 2), checked independently of graphd's signing code:
//! signatures are verified by `openssl dgst -verify` with the certificate's public key,
//! thumbprints recomputed from the DER by `openssl dgst`, and every claim checked.

mod config;
mod endpoints;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::support::fixtures::fixtures;
use crate::support::outcome::{Outcome, run};
use crate::support::{CLIENT_ID, TENANT, graphd_app, ossl};

/// A compact JWS taken apart.
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
    /// `header.payload`, the signed bytes.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jwt {
    pub fn parse(text: &str) -> Jwt {
        let token = text.trim();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "a compact JWS: {token}");
        for p in &parts {
            assert!(
                !p.contains(['=', '+', '/']),
                "segments are unpadded base64url: {p}"
            );
        }
        let json = |seg: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
        };
        Jwt {
            header: json(parts[0]),
            claims: json(parts[1]),
            signing_input: format!("{}.{}", parts[0], parts[1]),
            signature: URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        }
    }

    /// Whether `openssl dgst -sha256 -verify` accepts the signature under `public_key`,
    /// with PSS (salt 32, MGF1-SHA-256) or PKCS#1 v1.5 padding.
    pub fn openssl_verifies(&self, public_key: &Path, pss: bool) -> bool {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("input");
        let sig = dir.path().join("sig.bin");
        std::fs::write(&data, &self.signing_input).unwrap();
        std::fs::write(&sig, &self.signature).unwrap();
        ossl::verify(public_key, &data, &sig, pss)
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `graphd assertion --tenant T --client-id C` plus `args`.
pub fn assertion(args: &[&str], cert: &str) -> Outcome {
    let mut cmd = graphd_app("assertion");
    cmd.arg("--cert").arg(fixtures().path(cert));
    cmd.args(args);
    run(&mut cmd)
}

/// Success, exactly one line on stdout, nothing on stderr; the parsed JWT.
pub fn signed(out: &Outcome) -> Jwt {
    out.ok();
    assert_eq!(out.stderr, "", "nothing but the JWT, on stdout");
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.ends_with('\n'));
    Jwt::parse(&out.stdout)
}

pub fn token_endpoint(authority: &str, tenant: &str) -> String {
    format!("{authority}/{tenant}/oauth2/v2.0/token")
}

/// Every claim: exactly aud, iss, sub, jti, nbf, iat, exp, as strings and JSON integers.
fn check_claims(jwt: &Jwt, aud: &str, client_id: &str, before: i64, after: i64) {
    let c = jwt.claims.as_object().unwrap();
    let mut names: Vec<&str> = c.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["aud", "exp", "iat", "iss", "jti", "nbf", "sub"]);
    assert_eq!(c["aud"], aud, "aud is the exact token endpoint, one string");
    assert_eq!(c["iss"], client_id);
    assert_eq!(c["sub"], client_id);
    let jti = c["jti"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(jti).unwrap();
    assert_eq!(uuid.get_version_num(), 4, "a random (v4) UUID: {jti}");
    assert_eq!(
        jti,
        uuid.hyphenated().to_string(),
        "canonical lowercase form"
    );
    for t in ["nbf", "iat", "exp"] {
        assert!(
            c[t].is_i64(),
            "{t} is a JSON integer, not a string: {}",
            c[t]
        );
    }
    let (nbf, iat, exp) = (
        c["nbf"].as_i64().unwrap(),
        c["iat"].as_i64().unwrap(),
        c["exp"].as_i64().unwrap(),
    );
    assert_eq!(nbf, iat);
    assert!(
        (before..=after).contains(&iat),
        "iat {iat} is the time of the run [{before}, {after}]"
    );
    assert_eq!(exp, iat + 600);
}

#[test]
fn ps256_by_default_with_x5t_s256_verified_by_openssl() {
    let fx = fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let before = now();
    let jwt = signed(&assertion(&[], "key-then-cert.pem"));
    let after = now();
    let s256 = ossl::der_digest_b64url(&fx.path("leaf.crt.der"), "sha256", tmp.path());
    assert_eq!(
        jwt.header,
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": s256})
    );
    assert_eq!(s256.len(), 43);
    check_claims(
        &jwt,
        &token_endpoint("https://login.microsoftonline.com", TENANT),
        CLIENT_ID,
        before,
        after,
    );
    let public = fx.path("leaf.pub");
    assert!(
        jwt.openssl_verifies(&public, true),
        "PSS, SHA-256, MGF1-SHA-256, salt 32"
    );
    assert!(!jwt.openssl_verifies(&public, false), "not PKCS#1 v1.5");
    assert!(
        !jwt.openssl_verifies(&fx.path("other.pub"), true),
        "not under another key"
    );
    // PSS is randomized: the same claims never give the same signature; both verify.
    assert_eq!(jwt.signature.len(), 256);
}

#[test]
fn rs256_gives_x5t_and_pkcs1_v15() {
    let fx = fixtures();
    let tmp = tempfile::tempdir().unwrap();
    for alg in ["RS256", "rs256"] {
        let before = now();
        let jwt = signed(&assertion(&["--alg", alg], "cert-then-key.pem"));
        let after = now();
        let x5t = ossl::der_digest_b64url(&fx.path("leaf.crt.der"), "sha1", tmp.path());
        assert_eq!(
            jwt.header,
            json!({"alg": "RS256", "typ": "JWT", "x5t": x5t})
        );
        assert_eq!(x5t.len(), 27);
        check_claims(
            &jwt,
            &token_endpoint("https://login.microsoftonline.com", TENANT),
            CLIENT_ID,
            before,
            after,
        );
        assert!(
            jwt.openssl_verifies(&fx.path("leaf.pub"), false),
            "PKCS#1 v1.5 with SHA-256"
        );
        assert!(!jwt.openssl_verifies(&fx.path("leaf.pub"), true), "not PSS");
    }
}

#[test]
fn every_key_size_and_source_verifies_under_its_certificate() {
    let fx = fixtures();
    let tmp = tempfile::tempdir().unwrap();
    for (file, cert, bits, extra) in [
        ("rsa3072.pem", "rsa3072.crt", 3072, vec![]),
        ("rsa4096.pem", "rsa4096.crt", 4096, vec![]),
        ("chain-leaf-middle.pem", "chained.crt", 2048, vec![]),
        (
            "legacy.pfx",
            "leaf.crt",
            2048,
            vec!["--password-file", "password.txt"],
        ),
    ] {
        let der = tmp.path().join(format!("{cert}.der"));
        ossl::cert_der(&fx.path(cert), &der);
        let public = tmp.path().join(format!("{cert}.pub"));
        ossl::stdout(&[
            "x509",
            "-in",
            fx.path(cert).to_str().unwrap(),
            "-pubkey",
            "-noout",
            "-out",
            public.to_str().unwrap(),
        ]);
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if let Some(i) = args.iter().position(|a| a == "password.txt") {
            args[i] = fx.path("password.txt").display().to_string();
        }
        for alg in ["PS256", "RS256"] {
            let mut all: Vec<&str> = vec!["--alg", alg];
            all.extend(args.iter().map(String::as_str));
            let jwt = signed(&assertion(&all, file));
            assert_eq!(jwt.signature.len(), bits / 8, "{file} {alg}");
            assert!(
                jwt.openssl_verifies(&public, alg == "PS256"),
                "{file} {alg}"
            );
            let (name, digest) = if alg == "PS256" {
                ("x5t#S256", "sha256")
            } else {
                ("x5t", "sha1")
            };
            assert_eq!(
                jwt.header[name],
                ossl::der_digest_b64url(&der, digest, tmp.path()),
                "{file} {alg}"
            );
        }
    }
}

#[test]
fn jti_is_fresh_each_time() {
    let a = signed(&assertion(&[], "key-then-cert.pem"));
    let b = signed(&assertion(&[], "key-then-cert.pem"));
    assert_ne!(a.claims["jti"], b.claims["jti"]);
}

/// Standard base64 (with padding) of a DER file, computed by openssl.
fn openssl_b64(der: &Path) -> String {
    ossl::stdout(&["base64", "-A", "-in", der.to_str().unwrap()])
        .trim()
        .to_string()
}

#[test]
fn send_x5c_puts_the_chain_leaf_first_as_standard_base64_der() {
    let fx = fixtures();
    let expected: Vec<String> = ["chained.crt.der", "inter.crt.der", "root.crt.der"]
        .iter()
        .map(|d| openssl_b64(&fx.path(d)))
        .collect();
    let pw = fx.path("password.txt").display().to_string();
    // The leaf sits in the middle of this file, the issuers out of order; the PFX's own order
    // is OpenSSL's. x5c is leaf first either way (RFC 7515 §4.1.6).
    for (file, extra) in [
        ("chain-leaf-middle.pem", vec![]),
        ("chain.pfx", vec!["--password-file", pw.as_str()]),
    ] {
        for alg in ["PS256", "RS256"] {
            let mut args = vec!["--send-x5c", "--alg", alg];
            args.extend(extra.iter());
            let jwt = signed(&assertion(&args, file));
            let x5c: Vec<String> = jwt.header["x5c"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(x5c, expected, "{file} {alg}");
            for cert in &x5c {
                STANDARD.decode(cert).expect("standard base64");
            }
            assert!(jwt.openssl_verifies(&fx.path("leaf.pub"), alg == "PS256"));
        }
    }
    // The environment variable the Azure SDKs read turns it on too; without either, no x5c.
    for value in ["true", "1", "TRUE"] {
        let mut cmd = graphd_app("assertion");
        cmd.arg("--cert")
            .arg(fx.path("chain-key-first.pem"))
            .env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", value);
        let jwt = signed(&run(&mut cmd));
        assert_eq!(
            jwt.header["x5c"].as_array().map(Vec::len),
            Some(3),
            "{value}"
        );
    }
    for value in ["false", "0"] {
        let mut cmd = graphd_app("assertion");
        cmd.arg("--cert")
            .arg(fx.path("chain-key-first.pem"))
            .env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", value);
        assert!(
            signed(&run(&mut cmd)).header.get("x5c").is_none(),
            "{value}"
        );
    }
    let jwt = signed(&assertion(&[], "chain-key-first.pem"));
    assert!(jwt.header.get("x5c").is_none());
    // A self-signed certificate alone is a chain of one.
    let jwt = signed(&assertion(&["--send-x5c"], "key-then-cert.pem"));
    assert_eq!(
        jwt.header["x5c"],
        json!([openssl_b64(&fx.path("leaf.crt.der"))])
    );
}
