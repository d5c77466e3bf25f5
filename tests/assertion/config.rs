//! Settings resolution for `graphd assertion`: flags > `AZURE_*` environment > `--config` file
//! > defaults, and the MSAL Python quickstart's `parameters.json` as it ships.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Jwt, signed, token_endpoint};
use crate::support::fixtures::{PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::outcome::run;
use crate::support::{graphd, ossl};

const TENANT_FILE: &str = "f11e0000-0000-4000-8000-000000000001";
const TENANT_ENV: &str = "e22e0000-0000-4000-8000-000000000002";
const TENANT_FLAG: &str = "f33a0000-0000-4000-8000-000000000003";
const CLIENT_FILE: &str = "c11e0000-0000-4000-8000-00000000000a";
const CLIENT_ENV: &str = "c22e0000-0000-4000-8000-00000000000b";
const CLIENT_FLAG: &str = "c33a0000-0000-4000-8000-00000000000c";

fn write_config(dir: &Path, value: &serde_json::Value) -> PathBuf {
    let p = dir.join("parameters.json");
    std::fs::write(&p, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    p
}

/// The quickstart's certificate variant: a key-only `private_key_file` next to the config,
/// the certificate's SHA-1 `thumbprint`, no certificate.
fn quickstart(dir: &Path, thumbprint: &str) -> PathBuf {
    std::fs::copy(fixtures().path("leaf.pkcs1.key"), dir.join("server.pem")).unwrap();
    write_config(
        dir,
        &json!({
            "authority": format!("https://login.microsoftonline.com/{TENANT_FILE}"),
            "client_id": CLIENT_FILE,
            "scope": ["https://graph.microsoft.com/.default"],
            "thumbprint": thumbprint,
            "private_key_file": "server.pem",
            "endpoint": "https://graph.microsoft.com/v1.0/users"
        }),
    )
}

#[test]
fn quickstart_key_and_sha1_thumbprint_sign_rs256_with_x5t() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let hex = ossl::sha1_thumbprint(&fx.path("leaf.crt"));
    // As the portal shows it, and as `openssl x509 -fingerprint` prints it.
    let colons: Vec<String> = hex
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_lowercase())
        .collect();
    for thumbprint in [hex.clone(), colons.join(":")] {
        let config = quickstart(dir.path(), &thumbprint);
        let jwt = signed(&run(graphd().args(["assertion", "--config"]).arg(&config)));
        let x5t = ossl::der_digest_b64url(&fx.path("leaf.crt.der"), "sha1", dir.path());
        assert_eq!(
            jwt.header,
            json!({"alg": "RS256", "typ": "JWT", "x5t": x5t})
        );
        assert_eq!(
            jwt.claims["aud"],
            token_endpoint("https://login.microsoftonline.com", TENANT_FILE)
        );
        assert_eq!(jwt.claims["iss"], CLIENT_FILE);
        assert!(jwt.openssl_verifies(&fx.path("leaf.pub"), false));
    }
    let config = quickstart(dir.path(), &hex);
    let key = dir.path().join("server.pem");

    // PS256 needs the SHA-256 thumbprint, which only the certificate gives.
    let out = run(graphd()
        .args(["assertion", "--alg", "PS256", "--config"])
        .arg(&config));
    out.refused(3, Some(&key), "PS256 needs the certificate");
    assert!(out.stderr.contains("--alg RS256"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let out = run(graphd()
        .args(["assertion", "--send-x5c", "--config"])
        .arg(&config));
    out.refused(2, None, "--send-x5c needs the certificate");

    // graphd cert describes what it has: the key and the configured thumbprint.
    let out = run(graphd().args(["cert", "--json", "--config"]).arg(&config));
    out.ok();
    let r = out.json();
    assert_eq!(r["thumbprint"], hex);
    assert_eq!(
        r["x5t"],
        jwt_x5t(&run(graphd().args(["assertion", "--config"]).arg(&config)))
    );
    assert_eq!(r["key_bits"], 2048);
    assert_eq!(r["certificate"], serde_json::Value::Null);
}

fn jwt_x5t(out: &crate::support::outcome::Outcome) -> serde_json::Value {
    Jwt::parse(&out.stdout).header["x5t"].clone()
}

#[test]
fn quickstart_with_a_certificate_checks_the_thumbprint() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let good = ossl::sha1_thumbprint(&fx.path("leaf.crt"));
    std::fs::copy(fx.path("key-then-cert.pem"), dir.path().join("server.pem")).unwrap();
    let mut params = json!({
        "authority": format!("https://login.microsoftonline.com/{TENANT_FILE}"),
        "client_id": CLIENT_FILE,
        "thumbprint": good,
        "private_key_file": "server.pem",
    });
    let config = write_config(dir.path(), &params);
    let jwt = signed(&run(graphd().args(["assertion", "--config"]).arg(&config)));
    assert_eq!(
        jwt.header["alg"], "PS256",
        "with the certificate at hand, the current default"
    );
    let other = ossl::sha1_thumbprint(&fx.path("other.crt"));
    params["thumbprint"] = json!(other);
    let config = write_config(dir.path(), &params);
    let out = run(graphd().args(["assertion", "--config"]).arg(&config));
    let line = out.refused(
        3,
        Some(&dir.path().join("server.pem")),
        "is not the certificate's",
    );
    assert!(line.contains(&other) && line.contains(&good), "{line}");
    // A certificate from a flag or the environment replaces the config's credential, its
    // thumbprint included.
    let mut cmd = graphd();
    cmd.args(["assertion", "--config"])
        .arg(&config)
        .arg("--cert")
        .arg(fx.path("other.pem"));
    signed(&run(&mut cmd));
    let mut cmd = graphd();
    cmd.args(["assertion", "--config"]).arg(&config).env(
        "AZURE_CLIENT_CERTIFICATE_PATH",
        fx.path("cert-then-key.pem"),
    );
    signed(&run(&mut cmd));
    params["thumbprint"] = json!("not-a-thumbprint");
    let config = write_config(dir.path(), &params);
    run(graphd().args(["assertion", "--config"]).arg(&config)).refused(3, None, "thumbprint");
}

#[test]
fn config_cert_and_private_key_file_are_used_together() {
    // graphd's `cert` with the quickstart's `private_key_file` as its key.
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &json!({"tenant": TENANT_FILE, "client_id": CLIENT_FILE, "cert": fx.path("leaf.crt"), "private_key_file": fx.path("leaf.key")}),
    );
    let jwt = signed(&run(graphd().args(["assertion", "--config"]).arg(&config)));
    assert!(jwt.openssl_verifies(&fx.path("leaf.pub"), true));
}

#[test]
fn a_client_secret_in_the_config_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Sup3rS3cret~client~secret~value";
    let config = write_config(
        dir.path(),
        &json!({"authority": format!("https://login.microsoftonline.com/{TENANT_FILE}"), "client_id": CLIENT_FILE,
                "scope": ["https://graph.microsoft.com/.default"], "secret": secret,
                "endpoint": "https://graph.microsoft.com/v1.0/users"}),
    );
    let out = run(graphd().args(["assertion", "--config"]).arg(&config));
    let line = out.refused(3, None, "holds a client secret");
    assert!(line.contains(&config.display().to_string()), "{line}");
    assert!(out.stderr.contains("gen-cert"), "{}", out.stderr);
    assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
}

#[test]
fn bad_config_values_are_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixtures();
    let cert = fx.path("key-then-cert.pem");
    for (value, problem) in [
        (
            json!({"tenant": "common", "client_id": CLIENT_FILE}),
            "names many tenants",
        ),
        (
            json!({"authority": "https://login.microsoftonline.com/organizations", "client_id": CLIENT_FILE}),
            "names many tenants",
        ),
        (
            json!({"tenant": TENANT_FILE, "client_id": "my-app"}),
            "is not a GUID",
        ),
        (
            json!({"tenant": TENANT_FILE, "client_id": CLIENT_FILE, "authority_host": "http://login.example.com"}),
            "plain http",
        ),
        (
            json!({"tenant": TENANT_FILE, "client_id": CLIENT_FILE, "alg": "HS256"}),
            "must be PS256 or RS256",
        ),
        (
            json!({"tenant": TENANT_FILE, "client_id": CLIENT_FILE, "tennant": "x"}),
            "tennant",
        ),
    ] {
        let config = write_config(dir.path(), &value);
        let out = run(graphd()
            .args(["assertion", "--cert"])
            .arg(&cert)
            .arg("--config")
            .arg(&config));
        let line = out.refused(3, None, problem);
        assert!(
            line.contains(&config.display().to_string()),
            "names the config file: {line}"
        );
    }
    // A value of the wrong type is not echoed: it may be a secret typed into the wrong field.
    let config = write_config(
        dir.path(),
        &json!({"tenant": TENANT_FILE, "timeout": "hunter2-in-the-wrong-field"}),
    );
    let out = run(graphd()
        .args(["assertion", "--cert"])
        .arg(&cert)
        .arg("--config")
        .arg(&config));
    out.refused(3, None, "timeout");
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    let missing = dir.path().join("missing.json");
    let out = run(graphd()
        .args(["assertion", "--cert"])
        .arg(&cert)
        .arg("--config")
        .arg(&missing));
    out.refused(3, None, "no such file");
}

/// `graphd assertion` with the given flags and environment, all three sources set for
/// tenant, client id and certificate; returns (tenant in aud, iss, x5t#S256).
fn resolved(flags: bool, env: bool, config: &Path) -> (String, String, String) {
    let fx = fixtures();
    let mut cmd = graphd();
    cmd.args(["assertion", "--config"]).arg(config);
    if flags {
        cmd.args([
            "--tenant",
            TENANT_FLAG,
            "--client-id",
            CLIENT_FLAG,
            "--cert",
        ])
        .arg(fx.path("key-then-cert.pem"));
    }
    if env {
        cmd.env("AZURE_TENANT_ID", TENANT_ENV)
            .env("AZURE_CLIENT_ID", CLIENT_ENV);
        cmd.env("AZURE_CLIENT_CERTIFICATE_PATH", fx.path("rsa3072.pem"));
    }
    let jwt = signed(&run(&mut cmd));
    let aud = jwt.claims["aud"].as_str().unwrap();
    let tenant = aud.split('/').nth(3).unwrap().to_string();
    (
        tenant,
        jwt.claims["iss"].as_str().unwrap().to_string(),
        jwt.header["x5t#S256"].as_str().unwrap().to_string(),
    )
}

#[test]
fn flags_beat_environment_beats_config_file() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &json!({"tenant": TENANT_FILE, "client_id": CLIENT_FILE, "cert": fx.path("other.pem")}),
    );
    let s256 = |cert: &str| {
        let der = dir.path().join("x.der");
        ossl::cert_der(&fx.path(cert), &der);
        ossl::der_digest_b64url(&der, "sha256", dir.path())
    };
    assert_eq!(
        resolved(true, true, &config),
        (TENANT_FLAG.into(), CLIENT_FLAG.into(), s256("leaf.crt"))
    );
    assert_eq!(
        resolved(false, true, &config),
        (TENANT_ENV.into(), CLIENT_ENV.into(), s256("rsa3072.crt"))
    );
    assert_eq!(
        resolved(false, false, &config),
        (TENANT_FILE.into(), CLIENT_FILE.into(), s256("other.crt"))
    );
}

#[test]
fn password_sources_follow_the_same_precedence() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let pfx = fx.path("default.pfx");
    let wrong_file = fx.path("wrong-password.txt");
    let good_file = fx.path("password.txt");
    let cfg = |pw_file: &Path| {
        write_config(
            dir.path(),
            &json!({"tenant": TENANT_FILE, "client_id": CLIENT_FILE, "password_file": pw_file}),
        )
    };
    let attempt = |config: &Path, flag_file: Option<&Path>, env: Option<&str>| {
        let mut cmd = graphd();
        cmd.args(["assertion", "--cert"])
            .arg(&pfx)
            .arg("--config")
            .arg(config);
        if let Some(f) = flag_file {
            cmd.arg("--password-file").arg(f);
        }
        if let Some(e) = env {
            cmd.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", e);
        }
        run(&mut cmd)
    };
    // Config file alone.
    signed(&attempt(&cfg(&good_file), None, None));
    attempt(&cfg(&wrong_file), None, None).refused(3, Some(&pfx), "wrong password");
    // The environment beats the config file's password_file.
    signed(&attempt(&cfg(&wrong_file), None, Some(PASSWORD)));
    attempt(&cfg(&good_file), None, Some(WRONG_PASSWORD)).refused(3, Some(&pfx), "wrong password");
    // --password-file beats both.
    signed(&attempt(
        &cfg(&wrong_file),
        Some(&good_file),
        Some(WRONG_PASSWORD),
    ));
    // --password-stdin beats the environment and the config file.
    let mut cmd = graphd();
    cmd.args(["assertion", "--password-stdin", "--cert"])
        .arg(&pfx)
        .arg("--config")
        .arg(cfg(&wrong_file));
    cmd.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", WRONG_PASSWORD)
        .write_stdin(format!("{PASSWORD}\n"));
    signed(&run(&mut cmd));
}

#[test]
fn authority_precedence() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &json!({"authority": format!("https://login.microsoftonline.us/{TENANT_FILE}"), "client_id": CLIENT_FILE}),
    );
    let aud = |args: &[&str], env: Option<&str>| {
        let mut cmd = graphd();
        cmd.args(["assertion", "--cert"])
            .arg(fx.path("key-then-cert.pem"))
            .arg("--config")
            .arg(&config)
            .args(args);
        if let Some(h) = env {
            cmd.env("AZURE_AUTHORITY_HOST", h);
        }
        signed(&run(&mut cmd)).claims["aud"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        aud(&[], None),
        token_endpoint("https://login.microsoftonline.us", TENANT_FILE)
    );
    assert_eq!(
        aud(&["--cloud", "china"], None),
        token_endpoint("https://login.chinacloudapi.cn", TENANT_FILE)
    );
    assert_eq!(
        aud(&[], Some("https://login.partner.microsoftonline.cn")),
        token_endpoint("https://login.partner.microsoftonline.cn", TENANT_FILE)
    );
    assert_eq!(
        aud(
            &[
                "--authority-host",
                "https://sts.example.test",
                "--tenant",
                "contoso.com"
            ],
            None
        ),
        token_endpoint("https://sts.example.test", "contoso.com")
    );
}
