//! Shared test pieces: the `graphd` command with a scrubbed environment, and credential
//! fixtures generated with the `openssl` command-line tool, as real users make them.

#![allow(dead_code)]

pub mod emulator;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;

use assert_cmd::Command;

pub mod fixtures;
pub mod ossl;
pub mod outcome;

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

/// The `graphd` binary with an environment holding nothing of the caller's: no `AZURE_*`,
/// `GRAPHD_*`, proxies or HOME, so a developer's own settings cannot leak into a test.
pub fn graphd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graphd"));
    cmd.env_clear();
    for keep in ["PATH", "LANG", "SYSTEMROOT", "OPENSSL_MODULES"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("HOME", scratch().path());
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
    /// `openssl req -x509 -newkey rsa:BITS` in `dir`, files named after `name`.
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

    /// One 2048-bit pair shared by every test in the process (key generation is slow).
    pub fn shared() -> &'static Pair {
        static PAIR: OnceLock<Pair> = OnceLock::new();
        PAIR.get_or_init(|| Pair::new(scratch().path(), "shared", 2048, 365))
    }
}
