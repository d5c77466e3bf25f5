//! The bad-input and fault matrix (issue 7): one table per family (files, flags and
//! environment, servers), each case asserting the same things:
//! - the exit code;
//! - the first line of stderr (`graphd: error: ` and the words that say what failed), and a
//!   `hint: ` line after it;
//! - stdout empty or valid (JSON, or `graphd cert`'s report for a file it then refuses);
//! - no panic;
//! - no file the user owns changed (bytes, mode, mtime), and none added.
//!
//! All failures of a table are collected and reported together.

mod files;
mod flags;
mod servers;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// One row of a matrix.
pub struct Case {
    pub name: String,
    pub args: Vec<OsString>,
    pub env: Vec<(String, OsString)>,
    /// Expected exit code.
    pub code: i32,
    /// Words the first stderr line must contain (after `graphd: error: `); empty for success.
    pub says: String,
}

impl Case {
    pub fn new(name: &str, code: i32, says: &str) -> Case {
        Case {
            name: name.into(),
            args: Vec::new(),
            env: Vec::new(),
            code,
            says: says.into(),
        }
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }
}

/// What a file looked like: type, mode, size, mtime and (for regular files) the bytes' digest.
type Snapshot = BTreeMap<PathBuf, (u32, u64, i64, i64, Vec<u8>)>;

fn snapshot(roots: &[PathBuf]) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack: Vec<PathBuf> = roots.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let digest = if meta.file_type().is_file() && meta.len() < 8 * 1024 * 1024 {
            openssl::sha::sha256(&std::fs::read(&p).unwrap_or_default()).to_vec()
        } else {
            Vec::new()
        };
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            stack.extend(entries.flatten().map(|e| e.path()));
        }
        let kind = if meta.file_type().is_fifo() {
            1 << 20
        } else {
            0
        };
        out.insert(
            p,
            (
                meta.mode() | kind,
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
                digest,
            ),
        );
    }
    out
}

/// Runs every case in `dir` (the working directory, whose files are the user's) with the
/// base command `base`, and panics with every failure at once.
pub fn run_all(dir: &Path, base: impl Fn() -> Command, cases: Vec<Case>) {
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(dir, base(), case))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Runs one case with `cmd`; `Some(what went wrong)` if it did not behave.
pub fn check(dir: &Path, mut cmd: Command, case: &Case) -> Option<String> {
    let roots = [dir.to_path_buf()];
    let before = snapshot(&roots);
    cmd.current_dir(dir)
        .args(&case.args)
        .timeout(Duration::from_secs(120));
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("graphd runs");
    let after = snapshot(&roots);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut wrong = Vec::new();
    if out.status.code() != Some(case.code) {
        wrong.push(format!(
            "exit {:?}, expected {}",
            out.status.code(),
            case.code
        ));
    }
    let first = stderr.lines().next().unwrap_or("");
    if case.code != 0 {
        if !first.starts_with("graphd: error: ") || !first.contains(case.says.as_str()) {
            wrong.push(format!("first stderr line {first:?} lacks {:?}", case.says));
        }
        if !stderr.lines().skip(1).any(|l| l.starts_with("hint: ")) {
            wrong.push("no hint line".into());
        }
    } else if stderr.contains("graphd: error:") {
        wrong.push("an error on success".into());
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        wrong.push("panicked".into());
    }
    if !stdout_is_valid(&stdout) {
        wrong.push(format!(
            "stdout is neither empty nor valid: {:?}",
            stdout.chars().take(200).collect::<String>()
        ));
    }
    if before != after {
        let changed: Vec<_> = after
            .keys()
            .chain(before.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        wrong.push(format!("user files changed: {changed:?}"));
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "{}: {}\n  stderr: {}",
            case.name,
            wrong.join("; "),
            stderr.trim_end().replace('\n', "\n          ")
        )
    })
}

/// Empty, JSON (one document, or one per line), or the text report of `graphd cert`.
fn stdout_is_valid(stdout: &str) -> bool {
    let s = stdout.trim();
    s.is_empty()
        || serde_json::from_str::<serde_json::Value>(s).is_ok()
        || s.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        || (s.lines().next().is_some_and(|l| l.starts_with("file:"))
            && s.lines().all(|l| {
                l.starts_with(' ')
                    || l.split_once(':')
                        .is_some_and(|(k, _)| !k.is_empty() && k.len() <= 12)
            }))
}

/// A fresh working directory for a table.
pub fn workdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn the_matrix_has_at_least_sixty_cases() {
    let dir = workdir();
    let n = files::cases(dir.path()).len() + flags::cases(dir.path()).len() + servers::CASES;
    assert!(n >= 60, "only {n} cases");
}
