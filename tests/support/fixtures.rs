//! Every credential encoding a real user may hold, made once per test process with the
//! `openssl` command-line tool (where real users' files come from) into a temp dir.
//!
//! The recipes live in one place, tests/fixtures/README.md: the builder runs that page's `sh`
//! blocks, in order, as one script. What the page shows is what made the files, so the two
//! cannot drift. Nothing here is committed: the keys exist only for the life of the test
//! process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::scratch;

/// The recipes: the fixtures README, read at compile time.
pub const README: &str = include_str!("../fixtures/README.md");

/// The password of every encrypted fixture (PFX, encrypted PKCS#8, legacy PKCS#1).
/// Distinctive, so the leak test can look for it in any output. `$PW` in the README.
pub const PASSWORD: &str = "Fixture-pw-9d41c7e2";
/// A password that opens none of the fixtures. `$WRONG_PW` in the README.
pub const WRONG_PASSWORD: &str = "Wrong-pw-5b0e83aa";
/// A PFX password outside ASCII, with spaces: PKCS#12 encodes it as BMPString.
/// `$UNICODE_PW` in the README.
pub const UNICODE_PASSWORD: &str = "pässwörd mit Ümlaut";

/// The fixture set: `path(name)` for a file, plus the few facts tests compare against.
pub struct Fixtures {
    pub dir: PathBuf,
}

/// The fixture set shared by every test of the process (RSA key generation is slow).
pub fn fixtures() -> &'static Fixtures {
    static FX: OnceLock<Fixtures> = OnceLock::new();
    FX.get_or_init(|| {
        let dir = scratch().path().join("fixtures");
        std::fs::create_dir_all(&dir).expect("fixture dir");
        build(&dir);
        Fixtures { dir }
    })
}

impl Fixtures {
    /// A fixture file; panics (naming it) if the recipes did not make it.
    pub fn path(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        assert!(
            p.exists(),
            "no fixture named {name} (see tests/fixtures/README.md)"
        );
        p
    }

    /// The bytes of a fixture file.
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("fixture readable")
    }
}

/// The contents of the `sh` fenced blocks of a Markdown page, in order, as one script.
/// Other blocks (`text`, untagged) are not part of it.
pub fn sh_blocks(markdown: &str) -> String {
    let mut script = String::new();
    let mut inside = false;
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (inside, fence) {
            (false, Some(tag)) => inside = tag.trim() == "sh",
            (true, Some(_)) => inside = false,
            (true, None) => {
                script.push_str(line);
                script.push('\n');
            }
            (false, None) => {}
        }
    }
    script
}

/// What the script prints last: the three passwords it defined, to compare with ours.
const ECHO_PASSWORDS: &str = "printf '%s\\n' \"$PW\" \"$WRONG_PW\" \"$UNICODE_PW\"\n";

/// Runs the README's recipes in `dir` (`sh -eu -x`: the first failing command stops it, and
/// the trace shows which one), then checks the passwords they used are ours.
fn build(dir: &Path) {
    let script = sh_blocks(README) + ECHO_PASSWORDS;
    let out = Command::new("sh")
        .args(["-eu", "-x", "-c", &script])
        .current_dir(dir)
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the recipes in tests/fixtures/README.md failed ({}); the end of the trace:\n{}",
        out.status,
        stderr
            .lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let printed: Vec<&str> = stdout.lines().rev().take(3).collect();
    assert_eq!(
        printed,
        [UNICODE_PASSWORD, WRONG_PASSWORD, PASSWORD],
        "the README's $PW, $WRONG_PW, $UNICODE_PW must be the constants in fixtures.rs"
    );
}
