//! Every credential encoding a real user may hold, made once per test process with the
//! `openssl` command-line tool (where real users' files come from) into a temp dir.
//!
//! The recipes live in one place, tests/fixtures/README.md: the builder runs that page's `sh`
//! blocks, in order, in two stages (the main key first, which most tests need, then the
//! rest). What the page shows is what made the files, so the two cannot drift. Nothing here
//! is committed: the keys exist only for the life of the test process.

use std::os::unix::fs::PermissionsExt;
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
        let dir = first_stage().dir.clone();
        run(&dir, &stages().1);
        Fixtures { dir }
    })
}

/// The files of the README's first stage only (the main key and its encodings, which hold
/// the shared credential): what most emulator tests need, without waiting for the rest.
pub fn first_stage() -> &'static Fixtures {
    static FIRST: OnceLock<Fixtures> = OnceLock::new();
    FIRST.get_or_init(|| {
        let dir = scratch().path().join("fixtures");
        std::fs::create_dir_all(&dir).expect("fixture dir");
        run(&dir, &stages().0);
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

/// The `sh` fenced blocks of a Markdown page, in order. Other blocks (`text`, untagged)
/// are not recipes.
pub fn sh_block_list(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (current.as_mut(), fence) {
            (None, Some(tag)) => {
                if tag.trim() == "sh" {
                    current = Some(String::new());
                }
            }
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The `sh` blocks of a Markdown page as one script.
pub fn sh_blocks(markdown: &str) -> String {
    sh_block_list(markdown).concat()
}

/// Where the README's first stage ends.
const FIRST_STAGE_END: &str = "<!-- fixtures: end of the first stage -->";

/// The two scripts: the blocks before the mark, and the first block (the passwords) followed
/// by the blocks after it.
fn stages() -> (String, String) {
    let (first, rest) = README
        .split_once(FIRST_STAGE_END)
        .expect("tests/fixtures/README.md marks the end of the first stage");
    let passwords = sh_block_list(first).into_iter().next().unwrap_or_default();
    (sh_blocks(first), passwords + &sh_blocks(rest))
}

/// What a stage prints last: the three passwords it defined, to compare with ours.
const ECHO_PASSWORDS: &str = "printf '%s\\n' \"$PW\" \"$WRONG_PW\" \"$UNICODE_PW\"\n";

/// Runs one stage of the README's recipes in `dir` (`sh -eu -x`: the first failing command
/// stops it, and the trace shows which one), then checks the passwords it used are ours.
fn run(dir: &Path, stage: &str) {
    let script = format!("{stage}{ECHO_PASSWORDS}");
    let out = Command::new("sh")
        .args(["-eu", "-x", "-c", &script])
        .current_dir(dir)
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    assert!(
        out.status.success(),
        "the recipes in tests/fixtures/README.md failed ({}); the end of the trace:\n{}",
        out.status,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    // Private, as keys and passwords should be: graphd warns about a key or password file
    // others can read (issue 16); the tests of that warning make their own files.
    for entry in std::fs::read_dir(dir).expect("fixture dir").flatten() {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .expect("chmod 600");
        }
    }
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let printed: Vec<&str> = stdout.lines().rev().take(3).collect();
    assert_eq!(
        printed,
        [UNICODE_PASSWORD, WRONG_PASSWORD, PASSWORD],
        "the README's $PW, $WRONG_PW, $UNICODE_PW must be the constants in fixtures.rs"
    );
}
