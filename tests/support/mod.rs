//! Shared test pieces. Here: the `graphd` command with a scrubbed environment and the
//! builders on top of it (`graphd_app`, `graphd_via`), the test app's ids, the shared
//! credential. Beside it:
//! - `fixtures`: credential files made by the commands tests/fixtures/README.md shows;
//! - `emulator`: the shipped emulator in-process behind a guard that fails the test if a
//!   handler panicked, and `graphd_at` / `TestEmulator::graphd` pointed at it;
//! - `scripted`: one scripted raw-TCP HTTP server, for answers no faithful service gives;
//! - `outcome`: a run's exit code, error line and hint, checked as the contract says;
//! - `ossl`: what the `openssl` CLI says about a file, the independent reference;
//! - `permissions`: permission bits that bind as root too; `terminal`: a real pty.

#![allow(dead_code)]

pub mod emulator;
pub mod fixtures;
pub mod ossl;
pub mod outcome;
pub mod permissions;
pub mod scripted;
pub mod softhsm;
pub mod terminal;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;

use assert_cmd::Command;

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

/// The binary under test.
pub const GRAPHD: &str = env!("CARGO_BIN_EXE_graphd");

/// The `graphd` binary with an environment holding nothing of the caller's: no `AZURE_*`,
/// `GRAPHD_*`, proxies or HOME, so a developer's own settings cannot leak into a test.
pub fn graphd() -> Command {
    scrubbed(GRAPHD)
}

/// `program` with the environment [`graphd`] gets.
fn scrubbed(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    for keep in ["PATH", "LANG", "SYSTEMROOT", "OPENSSL_MODULES"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("HOME", scratch().path());
    cmd
}

/// `graphd SUBCOMMAND --tenant TENANT --client-id CLIENT_ID`: the app every test signs for,
/// given on the command line; the credential (`--cert FILE`) is the caller's to add.
pub fn graphd_app(subcommand: &str) -> Command {
    let mut cmd = graphd();
    cmd.args([subcommand, "--tenant", TENANT, "--client-id", CLIENT_ID]);
    cmd
}

/// `graphd` configured through the environment, as a CI job would be, for the shared app
/// and credential with `authority` as its token service (no Graph endpoint).
pub fn graphd_via(authority: &str) -> Command {
    let mut cmd = graphd();
    cmd.env("AZURE_AUTHORITY_HOST", authority)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined);
    cmd
}

/// A directory that lives as long as the test process.
pub fn scratch() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

/// Runs `openssl` with `args` in `dir`, panicking with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = StdCommand::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command-line tool is installed");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key and self-signed certificate made by the openssl CLI, separately and combined.
#[derive(Debug, Clone)]
pub struct Pair {
    pub key: PathBuf,
    pub cert: PathBuf,
    /// key then certificate, in one PEM.
    pub combined: PathBuf,
}

impl Pair {
    /// `openssl req -x509 -newkey rsa:BITS` in `dir`, files named after `name`: for a test
    /// that needs a throwaway pair of its own. Prefer a fixture (`fixtures::fixtures()`),
    /// whose recipe is documented.
    pub fn new(dir: &Path, name: &str, bits: u32, days: i32) -> Pair {
        let key = format!("{name}.key.pem");
        let cert = format!("{name}.crt.pem");
        let newkey = format!("rsa:{bits}");
        let subj = format!("/CN={name}");
        let days = days.to_string();
        openssl(
            dir,
            &[
                "req", "-x509", "-newkey", &newkey, "-nodes", "-keyout", &key, "-out", &cert,
                "-days", &days, "-subj", &subj,
            ],
        );
        let combined = dir.join(format!("{name}.pem"));
        let mut both = std::fs::read(dir.join(&key)).unwrap();
        both.extend(std::fs::read(dir.join(&cert)).unwrap());
        std::fs::write(&combined, both).unwrap();
        // As a key file should be (graphd warns about one others can read, issue 16).
        for private in [&combined, &dir.join(&key)] {
            std::fs::set_permissions(private, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Pair {
            key: dir.join(key),
            cert: dir.join(cert),
            combined,
        }
    }

    /// The credential every emulator test uses: the fixtures' main key (`leaf.key`, 2048-bit
    /// RSA), its self-signed `leaf.crt`, and both in `key-then-cert.pem`.
    pub fn shared() -> &'static Pair {
        static PAIR: OnceLock<Pair> = OnceLock::new();
        PAIR.get_or_init(|| {
            let fx = fixtures::first_stage();
            Pair {
                key: fx.path("leaf.key"),
                cert: fx.path("leaf.crt"),
                combined: fx.path("key-then-cert.pem"),
            }
        })
    }
}
