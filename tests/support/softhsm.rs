//! SoftHSM2 tokens for the PKCS#11 tests. Each test makes its own token directory and config
//! (`SOFTHSM2_CONF`), so tests never share a token and never touch the system's. A machine
//! without SoftHSM fails these tests (scripts/test.sh installs it), it never skips them.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

use super::graphd;

/// The user PIN of every test token: distinctive, so the leak tests can search for it.
pub const PIN: &str = "7391-hsm-pin-QzX";
/// The security officer's PIN.
pub const SO_PIN: &str = "5820-so-pin-WvK";

/// Where Debian's softhsm2 package puts the module.
const MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];

/// The SoftHSM2 module; panics (failing the test) when SoftHSM2 is not installed.
pub fn module() -> PathBuf {
    MODULES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("SoftHSM2 is not installed: scripts/test.sh installs it (apt-get install softhsm2)")
}

/// A private SoftHSM2 configuration and token directory.
pub struct SoftHsm {
    dir: tempfile::TempDir,
}

impl SoftHsm {
    /// A SoftHSM with one token labelled `label`, user PIN [`PIN`].
    pub fn with_token(label: &str) -> SoftHsm {
        let hsm = SoftHsm::empty();
        hsm.init_token(label);
        hsm
    }

    /// A SoftHSM with no token yet.
    pub fn empty() -> SoftHsm {
        module();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tokens")).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("pin.txt"), format!("{PIN}\n")).unwrap();
        SoftHsm { dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    /// A file holding [`PIN`] and a newline.
    pub fn pin_file(&self) -> PathBuf {
        self.dir.path().join("pin.txt")
    }

    /// Runs `softhsm2-util` with this config, panicking with its output on failure.
    pub fn util(&self, args: &[&str]) -> String {
        let out = StdCommand::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .expect("softhsm2-util runs (apt-get install softhsm2)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "softhsm2-util {args:?}: {text}");
        text
    }

    pub fn init_token(&self, label: &str) {
        self.util(&[
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ]);
    }

    /// Imports a PKCS#8 PEM private key (and its public half) into `token`.
    pub fn import(&self, token: &str, key_pem: &Path, label: &str, id_hex: &str) {
        self.util(&[
            "--import",
            key_pem.to_str().unwrap(),
            "--token",
            token,
            "--label",
            label,
            "--id",
            id_hex,
            "--pin",
            PIN,
        ]);
    }

    /// `graphd` with this SoftHSM's config and the module in the environment.
    pub fn graphd(&self) -> Command {
        let mut cmd = graphd();
        cmd.env("SOFTHSM2_CONF", self.conf())
            .env("GRAPHD_PKCS11_MODULE", module());
        cmd
    }
}
