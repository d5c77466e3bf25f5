//! `graphd rotate` and `graphd cert --expires-within` (issue 13), end to end against the
//! emulator: real `graphd gen-cert` credentials, real rotations, and the emulator's
//! application objects with `addKey` / `removeKey` checked as strictly as Graph documents
//! them (docs/protocol.md#certificate-self-rotation).

mod end_to_end;
mod expiry;
mod failures;
mod proofs;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use graphd::emulator::{AppRegistration, Emulator, EmulatorConfig, KeyCredentialInfo, Side};
use openssl::hash::{MessageDigest, hash};
use openssl::x509::X509;

use crate::support::emulator::{graphd_at, start_with};
use crate::support::outcome::{Outcome, run};
use crate::support::{CLIENT_ID, graphd};

/// A credential made by `graphd gen-cert` in a directory of its own.
pub struct Cred {
    /// Holds `certs/` and anything else a test writes; removed with the test.
    pub dir: tempfile::TempDir,
    /// `certs/key.pem`: key and certificate.
    pub key: PathBuf,
    /// `certs/cert.pem`: the certificate to upload.
    pub cert: PathBuf,
}

impl Cred {
    /// `graphd gen-cert --out DIR/certs EXTRA...`; `pw` (if any) is written to `DIR/pw` first.
    pub fn new(extra: &[&str], pw: Option<&str>) -> Cred {
        let dir = tempfile::tempdir().unwrap();
        if let Some(pw) = pw {
            std::fs::write(dir.path().join("pw"), format!("{pw}\n")).unwrap();
        }
        let out = graphd()
            .current_dir(dir.path())
            .args(["gen-cert", "--out", "certs"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let certs = dir.path().join("certs");
        Cred {
            key: certs.join("key.pem"),
            cert: certs.join("cert.pem"),
            dir,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The certificate as the emulator registers it (the upload).
    pub fn x509(&self) -> X509 {
        X509::from_pem(&std::fs::read(&self.cert).unwrap()).unwrap()
    }

    /// Names in `certs/`, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("certs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// The app `CLIENT_ID` with `cred`'s certificate and `roles`.
pub fn app(cred: &Cred, roles: &[&str]) -> AppRegistration {
    AppRegistration {
        client_id: CLIENT_ID.into(),
        certificates: vec![cred.x509()],
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// An emulator with `cred`'s app and a key propagation delay.
pub fn emulator(
    cred: &Cred,
    roles: &[&str],
    propagation_ms: u64,
) -> crate::support::emulator::TestEmulator {
    start_with(EmulatorConfig {
        apps: vec![app(cred, roles)],
        key_propagation_ms: propagation_ms,
        ..EmulatorConfig::default()
    })
}

/// `graphd rotate` for `cred`'s key.pem against `emu`.
pub fn rotate(emu: &Emulator, key: &Path) -> Command {
    let mut cmd = graphd_at(emu);
    cmd.env("AZURE_CLIENT_CERTIFICATE_PATH", key).arg("rotate");
    cmd
}

/// `graphd token` with the credential at `path` (any extra arguments after).
pub fn token(emu: &Emulator, path: &Path, extra: &[&str]) -> Outcome {
    let mut cmd = graphd_at(emu);
    cmd.env("AZURE_CLIENT_CERTIFICATE_PATH", path)
        .arg("token")
        .args(extra);
    run(&mut cmd)
}

/// The SHA-1 thumbprint (hex, upper case) of the first certificate in a PEM.
pub fn thumbprint_of(pem: &[u8]) -> String {
    let cert = X509::from_pem(pem).expect("a certificate in the PEM");
    hash(MessageDigest::sha1(), &cert.to_der().unwrap())
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The app's key credentials' thumbprints, in order.
pub fn registered(emu: &Emulator) -> Vec<String> {
    credentials(emu).into_iter().map(|c| c.thumbprint).collect()
}

pub fn credentials(emu: &Emulator) -> Vec<KeyCredentialInfo> {
    emu.key_credentials(CLIENT_ID)
        .expect("the app is registered")
}

/// Statuses of the token requests the emulator answered, in order.
pub fn token_statuses(emu: &Emulator) -> Vec<u16> {
    emu.requests()
        .iter()
        .filter(|r| r.side == Side::Token && r.path.ends_with("/oauth2/v2.0/token"))
        .map(|r| r.status)
        .collect()
}

/// `METHOD path status` of every Graph request, in order (paths without queries).
pub fn graph_calls(emu: &Emulator) -> Vec<String> {
    emu.requests()
        .iter()
        .filter(|r| r.side == Side::Graph)
        .map(|r| {
            let path = r.path.split('?').next().unwrap_or("");
            format!("{} {path} {}", r.method, r.status)
        })
        .collect()
}

/// Today (UTC) as `YYYY-MM-DD`, as backups and display names carry it.
pub fn today() -> String {
    graphd::clock::rfc3339(graphd::clock::now_unix())[..10].to_string()
}

/// The error contract of a failed rotation: exit `code`, one `graphd: error: rotate step
/// N/7 (...) failed: ...` line naming `step`, a hint after it; returns the error and hint.
pub fn failed_at(out: &Outcome, code: i32, step: u8) -> (String, String) {
    assert_eq!(
        out.code,
        Some(code),
        "exit code:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let errors: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("graphd: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line:\n{}", out.stderr);
    let error = lines[errors[0]];
    assert!(
        error.starts_with(&format!("graphd: error: rotate step {step}/7 (")),
        "the error names step {step}:\n{}",
        out.stderr
    );
    let hint = lines.get(errors[0] + 1).copied().unwrap_or("");
    assert!(
        hint.starts_with("hint: "),
        "a hint follows:\n{}",
        out.stderr
    );
    (error.to_string(), hint.to_string())
}

/// Nothing of a private key PEM (its base64 lines) appears in `text`, and no JWT either.
pub fn no_secrets(text: &str, key_pems: &[&[u8]]) {
    for pem in key_pems {
        let pem = String::from_utf8_lossy(pem);
        let mut inside = false;
        for line in pem.lines() {
            if line.starts_with("-----BEGIN") {
                inside = line.contains("PRIVATE KEY");
                continue;
            }
            if inside && line.len() >= 16 && !line.contains(':') {
                assert!(!text.contains(line), "a private key line leaked: {line}");
            }
        }
    }
    // A JWS header or payload starts with `eyJ` (`{"`): no proof, assertion or token.
    assert!(!text.contains("eyJ"), "a JWT leaked:\n{text}");
}
