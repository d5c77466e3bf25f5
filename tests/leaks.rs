//! No secret reaches stdout or stderr (issue 2, requirement 6): the commands run with known
//! passwords and keys, on success and on every error path, quiet and with `-v` /
//! `GRAPHD_LOG=trace`, and their output is searched for the password, every base64 line of
//! the key's PEM, the DER key in base64 chunks and the private RSA components in hex.
//! `graphd assertion`'s stdout is the one secret output allowed, and only there.
//! Submodules do the same for federated tokens, PINs, `serve`'s header, `list-users --delta`'s
//! sync state and `rotate`'s old and new keys (these two with the `Way`s and `Secrets` here).

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::support::fixtures::{PASSWORD, UNICODE_PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::outcome::run;
use crate::support::{CLIENT_ID, TENANT, graphd, ossl};

mod delta;
mod federated;
mod pkcs11;
mod rotate;
mod scenarios;
mod serve;
use scenarios::{p, scenarios};

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

/// How a run shows its diagnostics: not at all, `-v`, or `GRAPHD_LOG=trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Quiet,
    Verbose,
    Trace,
}

impl Way {
    const ALL: [Way; 3] = [Way::Quiet, Way::Verbose, Way::Trace];

    /// `cmd` run this way (`-v` is global: it may follow the subcommand's arguments).
    fn apply(self, cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
        match self {
            Way::Quiet => cmd,
            Way::Verbose => cmd.arg("-v"),
            Way::Trace => cmd.env("GRAPHD_LOG", "trace"),
        }
    }

    /// Whether this way prints the request traces.
    fn traces(self) -> bool {
        self != Way::Quiet
    }
}

impl Secrets {
    fn none() -> Secrets {
        Secrets {
            needles: BTreeSet::new(),
        }
    }

    /// Adds a private key (PEM, encrypted under `password` if given) and its password: the
    /// PEM's base64 lines, the DER (PKCS#8 and PKCS#1) in base64 at every alignment and the
    /// private RSA components in hex, in 16-character pieces, leaving out any piece that lies
    /// in `public` (DER of certificates and public keys printed legitimately).
    fn add_key(&mut self, pem: &[u8], password: Option<&str>, public: &[Vec<u8>]) {
        use openssl::pkey::PKey;
        let key = match password {
            Some(pw) => PKey::private_key_from_pem_passphrase(pem, pw.as_bytes()),
            None => PKey::private_key_from_pem(pem),
        }
        .expect("a private key PEM");
        let rsa = key.rsa().expect("an RSA key");
        let before = self.needles.len();
        let mut views: Vec<String> = Vec::new();
        let spki = key.public_key_to_der().unwrap();
        for der in public.iter().chain([&spki]) {
            views.extend(base64_views(der));
        }
        let is_public = |s: &str| views.iter().any(|v| v.contains(s));
        let text = String::from_utf8_lossy(pem);
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("-----BEGIN") {
                inside = line.contains("PRIVATE KEY");
            } else if inside && !line.contains(':') && line.len() >= 16 && !is_public(line) {
                self.needles.insert(line.to_string());
            }
        }
        for der in [
            key.private_key_to_pkcs8().unwrap(),
            rsa.private_key_to_der().unwrap(),
        ] {
            for view in base64_views(&der) {
                self.needles
                    .extend(chunks(&view, 16).filter(|c| !is_public(c)));
            }
        }
        let components = [
            rsa.d(),
            rsa.p().unwrap(),
            rsa.q().unwrap(),
            rsa.dmp1().unwrap(),
            rsa.dmq1().unwrap(),
            rsa.iqmp().unwrap(),
        ];
        for n in components {
            let hex = n.to_hex_str().unwrap().to_string();
            for c in chunks(&hex, 16) {
                self.needles.insert(c.to_ascii_lowercase());
                self.needles.insert(c);
            }
        }
        assert!(
            self.needles.len() - before > 300,
            "the search is broad: {} needles for a key",
            self.needles.len() - before
        );
        if let Some(pw) = password {
            self.needles.insert(pw.to_string());
        }
    }

    /// Adds one exact string.
    fn add(&mut self, needle: impl Into<String>) {
        let needle = needle.into();
        assert!(
            needle.len() >= 8,
            "a needle this short would match by chance"
        );
        self.needles.insert(needle);
    }

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

/// A secret typed where an argument does not belong is not repeated in the usage error.
#[test]
fn misplaced_secrets_in_argv_are_not_echoed() {
    for args in [
        &["token", "hunter2-misplaced"][..],
        &["token", "--password=hunter2-misplaced"],
        &["assertion", "--password", "hunter2-misplaced"],
        &[
            "token",
            "--authority-host",
            "https://user:hunter2-misplaced@login.example.com",
        ],
    ] {
        let out = crate::support::graphd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("graphd: error: "), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "{args:?} echoed the secret: {stderr}"
        );
    }
}
