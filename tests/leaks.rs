//! No secret reaches stdout or stderr (issue 2, requirement 6): the commands run with known
//! passwords and keys, on success and on every error path, quiet and with `-v` /
//! `GRAPHD_LOG=trace`, and their output is searched for the password, every base64 line of
//! the key's PEM, the DER key in base64 chunks and the private RSA components in hex.
//! `graphd assertion`'s stdout is the one secret output allowed, and only there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::support::fixtures::{PASSWORD, UNICODE_PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::outcome::{Outcome, run};
use crate::support::{CLIENT_ID, TENANT, graphd, ossl};

/// Base64 text of `bytes` at the three byte alignments, both alphabets: every way a slice of
/// them can show up in base64.
fn base64_views(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for shift in 0..3.min(bytes.len()) {
        out.push(STANDARD.encode(&bytes[shift..]));
        out.push(URL_SAFE_NO_PAD.encode(&bytes[shift..]));
    }
    out
}

fn chunks(text: &str, size: usize) -> impl Iterator<Item = String> + '_ {
    text.as_bytes()
        .chunks(size)
        .filter(move |c| c.len() == size)
        .map(|c| String::from_utf8_lossy(c).into_owned())
}

/// The hex of one private component (`privateExponent`, `prime1`, ...) of an RSA key, as
/// `openssl rsa -text` prints it.
fn rsa_component(text: &str, name: &str) -> String {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{name}:")));
    lines.next();
    let hex: String = lines
        .take_while(|l| l.starts_with(' '))
        .flat_map(|l| l.trim().split(':').map(str::to_string).collect::<Vec<_>>())
        .collect();
    hex.trim_start_matches("00").to_string()
}

/// What must never be printed, and the public material its checks must not trip on.
struct Secrets {
    needles: BTreeSet<String>,
}

impl Secrets {
    fn new() -> Secrets {
        let fx = fixtures();
        // Base64 of everything public (certificates, public keys): a key's PEM line or DER
        // chunk that lies inside the modulus also appears in an x5c certificate, legitimately.
        let mut public = Vec::new();
        for der in [
            "leaf.crt.der",
            "chained.crt.der",
            "inter.crt.der",
            "root.crt.der",
        ] {
            public.extend(base64_views(&fx.read(der)));
        }
        for pem in ["leaf.pub", "other.pub"] {
            public.push(String::from_utf8(fx.read(pem)).unwrap().replace('\n', ""));
        }
        let is_public = |s: &str| public.iter().any(|p| p.contains(s));

        let mut needles = BTreeSet::new();
        for pw in [PASSWORD, WRONG_PASSWORD, UNICODE_PASSWORD] {
            needles.insert(pw.to_string());
        }
        for key in [
            "leaf.key",
            "leaf.pkcs1.key",
            "leaf.enc.key",
            "leaf.legacy-enc.key",
            "other.key",
            "rsa1024.key",
        ] {
            let text = String::from_utf8(fx.read(key)).unwrap();
            for line in text
                .lines()
                .filter(|l| !l.starts_with("-----") && !l.contains(':') && l.len() >= 16)
            {
                if !is_public(line) {
                    needles.insert(line.to_string());
                }
            }
        }
        for der in ["leaf.key.der", "leaf.pkcs1.key.der"] {
            for view in base64_views(&fx.read(der)) {
                needles.extend(chunks(&view, 16).filter(|c| !is_public(c)));
            }
        }
        for key in ["leaf.key", "other.key"] {
            let text = ossl::stdout(&[
                "rsa",
                "-in",
                fx.path(key).to_str().unwrap(),
                "-noout",
                "-text",
            ]);
            for name in [
                "privateExponent",
                "prime1",
                "prime2",
                "exponent1",
                "exponent2",
                "coefficient",
            ] {
                let hex = rsa_component(&text, name);
                assert!(hex.len() > 200, "{name} of {key}: {hex}");
                for c in chunks(&hex, 16) {
                    needles.insert(c.to_ascii_uppercase());
                    needles.insert(c);
                }
            }
        }
        assert!(
            needles.len() > 500,
            "the search is broad: {} needles",
            needles.len()
        );
        Secrets { needles }
    }

    /// Fails naming the secret (by kind, not value) if `text` holds any.
    fn assert_absent(&self, what: &str, text: &str) {
        for n in &self.needles {
            assert!(
                !text.contains(n.as_str()),
                "{what} leaks secret material ({} chars, starting {:?})",
                n.len(),
                &n[..4]
            );
        }
    }
}

/// One command, run three ways: quiet, `-v`, `GRAPHD_LOG=trace`.
struct Scenario {
    name: String,
    args: Vec<String>,
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

    fn runs(&self) -> Vec<(String, Outcome)> {
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

fn p(name: &str) -> String {
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

fn scenarios(dir: &Path) -> Vec<Scenario> {
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

#[test]
fn no_secret_reaches_any_output() {
    let secrets = Secrets::new();
    let dir = tempfile::tempdir().unwrap();
    let mut assertions = Vec::new();
    let mut failures = 0;
    for s in scenarios(dir.path()) {
        for (name, out) in s.runs() {
            assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
            secrets.assert_absent(&format!("{name}: stderr"), &out.stderr);
            // Even `graphd assertion`'s stdout (a JWT) holds no password or key.
            secrets.assert_absent(&format!("{name}: stdout"), &out.stdout);
            if s.args[0] == "assertion" && out.code == Some(0) {
                assertions.push((name.clone(), out.stdout.trim().to_string()));
                assert!(
                    !out.stderr.contains(out.stdout.trim()),
                    "{name}: the assertion is on stderr"
                );
            } else if out.code != Some(0) {
                failures += 1;
                assert!(
                    out.stderr.contains("graphd: error:"),
                    "{name}: {}",
                    out.stderr
                );
            }
        }
    }
    assert!(failures > 100, "the error paths ran: {failures}");
    assert!(
        assertions.len() >= 12,
        "every successful assertion scenario ran, three ways each"
    );
    // With -v, the trace shows what was loaded, never the assertion or its signature.
    for (name, jwt) in &assertions {
        let signature = jwt.rsplit('.').next().unwrap();
        assert!(signature.len() > 300, "{name}");
    }
}

#[test]
fn verbose_trace_says_something_and_nothing_secret() {
    // The leak test above is only meaningful if -v actually prints diagnostics.
    let mut cmd = graphd();
    cmd.args([
        "-v",
        "assertion",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--cert",
        &p("default.pfx"),
    ]);
    cmd.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD);
    let out = run(&mut cmd);
    out.ok();
    assert!(out.stderr.contains("graphd: credential:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&ossl::sha1_thumbprint(&fixtures().path("leaf.crt"))),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(out.stdout.trim()));
    assert!(!out.stderr.contains(PASSWORD));
}
