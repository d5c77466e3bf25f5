//! File permissions that bind in every run, whoever runs the suite. CI runs as root, and root
//! reads a mode-000 file and writes into a mode-500 directory (CAP_DAC_OVERRIDE): a test of
//! "permission denied" would then check nothing. As root, [`graphd_bound_by_permissions`]
//! runs graphd through util-linux `setpriv` with the two capabilities that bypass permission
//! bits dropped from its bounding set, so the kernel refuses it exactly as it refuses any
//! user (capabilities(7)). A test that truly needs root says so with [`require_root`]: it
//! fails with the reason instead of passing without checking anything.

use assert_cmd::Command;

use super::{GRAPHD, scrubbed};

/// Whether the test process runs as root (effective uid 0).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `graphd` (scrubbed environment, as [`super::graphd`]) for which permission bits bind: as
/// root, run by `setpriv` without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; as anyone else,
/// plain `graphd`.
pub fn graphd_bound_by_permissions() -> Command {
    if !is_root() {
        return super::graphd();
    }
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output();
    assert!(
        setpriv.is_ok_and(|o| o.status.success()),
        "running as root, this test needs util-linux `setpriv` to run graphd without the \
         capabilities that bypass file permissions (apt-get install util-linux)"
    );
    let mut cmd = scrubbed("setpriv");
    cmd.args([
        "--bounding-set=-dac_override,-dac_read_search",
        "--",
        GRAPHD,
    ]);
    cmd
}

/// Fails the test, saying why, unless it runs as root. For what only root can set up (a
/// file owned by another user); CI runs the suite as root.
#[track_caller]
pub fn require_root(to: &str) {
    assert!(
        is_root(),
        "this test needs root to {to}: CI runs the suite as root; elsewhere run it as root \
         or leave it out explicitly (cargo test -- --skip NAME)"
    );
}
