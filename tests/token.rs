//! `graphd token` (issue 4) against the in-process emulator: the request on the wire, every
//! refusal and its hint, transient faults and retries, malformed answers, the token cache,
//! TLS, proxies and `-v`. Each test starts its own emulator (or scripted server), so tests
//! run in parallel; nothing sleeps: waits are the client's own, checked by the emulator's
//! counters afterwards.

mod bodies;
mod cache;
mod refusals;
mod request;
pub mod scripted;
mod transient;
mod transport;

use assert_cmd::Command;
use base64::Engine as _;
use graphd::emulator::Emulator;

use crate::support::emulator::graphd_at;
use crate::support::{CLIENT_ID, Pair, TENANT, graphd};

/// What a finished `graphd` run left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the whole run when it differs.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "{self:#?}");
        self
    }

    /// A failed run's one-line error and its hint, checked for shape: exactly one
    /// `graphd: error:` line, nothing on stdout, no panic.
    #[track_caller]
    pub fn error_and_hint(&self) -> (String, String) {
        assert!(self.stdout.is_empty(), "{self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("graphd: error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{self:#?}");
        let hint = self
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("hint: "))
            .unwrap_or_default();
        (errors[0].to_string(), hint.to_string())
    }
}

/// A guard against a hung `graphd` (a FIFO opened for reading, a lost wake-up): the run is
/// killed and the test fails instead of hanging the suite. Not a speed check: every run here
/// takes seconds at most, even on a loaded machine.
pub const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs the command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.timeout(HANG_GUARD).output().expect("graphd runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `graphd token ARGS` against `emu` with the shared credential.
pub fn token(emu: &Emulator, args: &[&str]) -> Run {
    run(graphd_at(emu).arg("token").args(args))
}

/// `graphd` configured for the shared app, with `authority` as its token service.
pub fn graphd_via(authority: &str) -> Command {
    let mut cmd = graphd();
    cmd.env("AZURE_AUTHORITY_HOST", authority)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined);
    cmd
}

/// The JSON of a JWT's header (`part` 0) or claims (`part` 1).
pub fn jwt_part(jwt: &str, part: usize) -> serde_json::Value {
    let segment = jwt.trim().split('.').nth(part).expect("a JWT segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The shared certificate's SHA-1 thumbprint as the portal shows it.
pub fn shared_thumbprint() -> String {
    let cert = crate::support::emulator::shared_cert();
    let digest = cert
        .digest(openssl::hash::MessageDigest::sha1())
        .expect("digest");
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// The shared key's certificate re-issued with a `notBefore` a day back, so that an emulator
/// whose clock runs behind still finds it valid; written into `dir`, returned with its X509.
pub fn backdated_cert(dir: &std::path::Path) -> (std::path::PathBuf, openssl::x509::X509) {
    use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, x509};
    let key = PKey::private_key_from_pem(&std::fs::read(&Pair::shared().key).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "backdated").unwrap();
    let name = name.build();
    let mut b = x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(now() - 86_400).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    let path = dir.join("backdated.crt.pem");
    std::fs::write(&path, cert.to_pem().unwrap()).unwrap();
    (path, cert)
}

/// Unix seconds now.
pub fn now() -> i64 {
    graphd::clock::now_unix()
}
