//! The commands the leak test runs: successes and every error path, each three ways.

use std::path::{Path, PathBuf};

use crate::support::fixtures::{PASSWORD, UNICODE_PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::outcome::{Outcome, run};
use crate::support::{CLIENT_ID, TENANT, graphd};

/// One command, run three ways: quiet, `-v`, `GRAPHD_LOG=trace`.
pub struct Scenario {
    pub name: String,
    pub args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
}

fn scenario(name: &str, args: &[&str]) -> Scenario {
    Scenario {
        name: name.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        stdin: None,
    }
}

impl Scenario {
    fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.into());
        self
    }

    pub fn runs(&self) -> Vec<(String, Outcome)> {
        let mut out = Vec::new();
        for (how, verbose, log) in [
            ("quiet", false, false),
            ("-v", true, false),
            ("GRAPHD_LOG=trace", false, true),
        ] {
            let mut cmd = graphd();
            if verbose {
                cmd.arg("-v");
            }
            cmd.args(&self.args);
            for (k, v) in &self.env {
                cmd.env(k, v);
            }
            if log {
                cmd.env("GRAPHD_LOG", "trace");
            }
            if let Some(s) = &self.stdin {
                cmd.write_stdin(s.clone());
            }
            out.push((format!("{} ({how})", self.name), run(&mut cmd)));
        }
        out
    }
}

pub fn p(name: &str) -> String {
    fixtures().path(name).display().to_string()
}

/// Files made from the key for the error paths: cut, garbled, flattened onto one line.
fn broken_files(dir: &Path) -> Vec<PathBuf> {
    let key = String::from_utf8(fixtures().read("key-then-cert.pem")).unwrap();
    let made = [
        ("truncated.pem", key[..key.len() / 2].to_string()),
        ("garbled.pem", key.replacen("MII", "M!I", 1)),
        ("one-line.pem", key.replace('\n', " ")),
        // A flattened key whose marker lost a dash: its "label" used to be the key's base64.
        (
            "one-line-broken.pem",
            key.replace('\n', " ").replacen(
                "-----BEGIN PRIVATE KEY-----",
                "-----BEGIN PRIVATE KEY----",
                1,
            ),
        ),
        ("no-end.pem", key.replace("-----END PRIVATE KEY-----", "")),
        ("lowercase.pem", key.replace("PRIVATE KEY", "private key")),
    ];
    made.iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

pub fn scenarios(dir: &Path) -> Vec<Scenario> {
    let app = ["--tenant", TENANT, "--client-id", CLIENT_ID];
    let assertion = |name: &str, extra: &[&str]| {
        let mut args = vec!["assertion"];
        args.extend_from_slice(&app);
        args.extend_from_slice(extra);
        scenario(name, &args)
    };
    let (pw_file, wrong_file) = (p("password.txt"), p("wrong-password.txt"));
    let mut all = vec![
        // Success.
        scenario("cert pem", &["cert", "--cert", &p("key-then-cert.pem")]),
        scenario(
            "cert json pfx env",
            &["cert", "--json", "--cert", &p("default.pfx")],
        )
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
        scenario(
            "cert legacy pfx file",
            &[
                "cert",
                "--cert",
                &p("legacy.pfx"),
                "--password-file",
                &pw_file,
            ],
        ),
        scenario(
            "cert enc key stdin",
            &[
                "cert",
                "--cert",
                &p("enc-pkcs8-combined.pem"),
                "--password-stdin",
            ],
        )
        .stdin(&format!("{PASSWORD}\n")),
        scenario(
            "cert unicode pfx",
            &["cert", "--cert", &p("unicode-password.pfx")],
        )
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", UNICODE_PASSWORD),
        assertion(
            "assertion ps256",
            &[
                "--cert",
                &p("enc-pkcs8-combined.pem"),
                "--password-file",
                &pw_file,
            ],
        ),
        assertion(
            "assertion rs256 x5c",
            &["--cert", &p("chain.pfx"), "--alg", "RS256", "--send-x5c"],
        )
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
        assertion(
            "assertion legacy pkcs1",
            &["--cert", &p("legacy-enc-combined.pem")],
        )
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
        assertion(
            "assertion der",
            &["--cert", &p("leaf.crt.der"), "--key", &p("leaf.key.der")],
        ),
        // Wrong and missing passwords, every source.
        scenario("cert wrong pw env", &["cert", "--cert", &p("default.pfx")])
            .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", WRONG_PASSWORD),
        scenario(
            "cert wrong pw file",
            &[
                "cert",
                "--cert",
                &p("legacy.pfx"),
                "--password-file",
                &wrong_file,
            ],
        ),
        scenario(
            "cert wrong pw stdin",
            &[
                "cert",
                "--cert",
                &p("enc-pkcs8-combined.pem"),
                "--password-stdin",
            ],
        )
        .stdin(&format!("{WRONG_PASSWORD}\n")),
        assertion(
            "assertion wrong pw legacy key",
            &["--cert", &p("legacy-enc-combined.pem")],
        )
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", WRONG_PASSWORD),
        assertion(
            "assertion no pw",
            &["--cert", &p("leaf.crt"), "--key", &p("leaf.enc.key")],
        ),
        scenario("cert no pw pfx", &["cert", "--cert", &p("chain.pfx")]),
        // Refused credentials.
        assertion("mismatch", &["--cert", &p("mismatch.pem")]),
        assertion(
            "mismatch separate",
            &["--cert", &p("leaf.crt"), "--key", &p("other.key")],
        ),
        scenario(
            "cert mismatch chain",
            &["cert", "--json", "--cert", &p("mismatch-chain.pem")],
        ),
        assertion("expired", &["--cert", &p("expired.pem")]),
        scenario("cert future", &["cert", "--cert", &p("future.pem")]),
        assertion("weak", &["--cert", &p("rsa1024.pem")]),
        scenario("cert ec", &["cert", "--cert", &p("ec-sec1.pem")]),
        assertion("ed25519", &["--cert", &p("ed25519.pem")]),
        assertion("key only", &["--cert", &p("leaf.key")]),
        scenario(
            "cert key only pkcs1",
            &["cert", "--cert", &p("leaf.pkcs1.key")],
        ),
        assertion(
            "two keys",
            &["--cert", &p("key-then-cert.pem"), "--key", &p("other.key")],
        ),
        assertion(
            "thumbprint PS256",
            &["--cert", &p("leaf.key"), "--alg", "PS256"],
        ),
        // Usage errors with a credential at hand.
        scenario(
            "clap error",
            &["assertion", "--cert", &p("leaf.key"), "--tenant", "common"],
        ),
        scenario(
            "password flag",
            &["cert", "--cert", &p("default.pfx"), "--password", PASSWORD],
        ),
    ];
    for path in broken_files(dir) {
        let path = path.display().to_string();
        all.push(scenario("cert broken", &["cert", "--cert", &path]));
        all.push(assertion(
            "assertion broken",
            &["--cert", &p("leaf.crt"), "--key", &path],
        ));
    }
    // Config files holding secrets in the wrong places.
    let configs = [
        (
            "secret.json",
            format!(
                r#"{{"tenant": "{TENANT}", "client_id": "{CLIENT_ID}", "secret": "{PASSWORD}"}}"#
            ),
        ),
        (
            "wrong-type.json",
            format!(r#"{{"tenant": "{TENANT}", "timeout": "{PASSWORD}"}}"#),
        ),
        (
            "unknown-field.json",
            format!(r#"{{"tenant": "{TENANT}", "password": "{PASSWORD}"}}"#),
        ),
        (
            "not-json.json",
            format!(r#"{{"tenant": "{TENANT}", "password_file": {PASSWORD}}}"#),
        ),
        (
            "bad-thumbprint.json",
            format!(
                r#"{{"tenant": "{TENANT}", "client_id": "{CLIENT_ID}", "thumbprint": "{PASSWORD}"}}"#
            ),
        ),
    ];
    for (name, text) in configs {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.display().to_string();
        all.push(scenario(
            name,
            &[
                "assertion",
                "--cert",
                &p("key-then-cert.pem"),
                "--config",
                &path,
            ],
        ));
    }
    all
}
