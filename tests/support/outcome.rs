//! Running `graphd` and checking what it did: exit code, the one-line error, the hint,
//! what stdout holds, and that nothing panicked.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

/// What one run of graphd produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A guard, not a timed assertion: a run that blocks (on a FIFO, a prompt) is killed after
/// this long and then fails on its exit code, instead of hanging the whole suite.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// Runs `cmd` with stdin closed (never a terminal, so graphd can never prompt).
pub fn run(cmd: &mut Command) -> Outcome {
    let out = cmd.timeout(HANG_GUARD).output().expect("graphd runs");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

impl Outcome {
    fn context(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "graphd panicked:\n{}",
            self.context()
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "graphd panicked:\n{}",
            self.context()
        );
    }

    /// Exit 0, no error line, no panic.
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success:\n{}", self.context());
        assert!(
            !self.stderr.contains("graphd: error:"),
            "{}",
            self.context()
        );
        self.no_panic();
        self
    }

    /// The refusal contract: exit `code`; stderr's first line is `graphd: error: <path>: ...`
    /// containing `problem`; the next line is `hint: ...`; nothing panicked.
    /// Returns the error line.
    pub fn refused(&self, code: i32, path: Option<&Path>, problem: &str) -> String {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}:\n{}",
            self.context()
        );
        self.no_panic();
        let mut lines = self.stderr.lines();
        let first = lines.next().unwrap_or_default();
        let prefix = match path {
            Some(p) => format!("graphd: error: {}: ", p.display()),
            None => "graphd: error: ".to_string(),
        };
        assert!(
            first.starts_with(&prefix),
            "first stderr line should start with {prefix:?}:\n{}",
            self.context()
        );
        assert!(
            first.contains(problem),
            "error should say {problem:?}:\n{}",
            self.context()
        );
        let hint = lines.next().unwrap_or_default();
        assert!(
            hint.starts_with("hint: ") && hint.len() > "hint: ".len() + 10,
            "a hint line should follow the error:\n{}",
            self.context()
        );
        assert_eq!(
            self.stderr
                .lines()
                .filter(|l| l.starts_with("graphd: error:"))
                .count(),
            1,
            "exactly one error line:\n{}",
            self.context()
        );
        first.to_string()
    }

    /// stdout is empty, or a complete `graphd cert` report (text or JSON).
    pub fn stdout_empty_or_report(&self) -> &Self {
        let out = self.stdout.trim();
        if out.is_empty() {
            return self;
        }
        if out.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(out)
                .unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", self.context()));
            for field in [
                "subject",
                "thumbprint",
                "x5t",
                "x5t#S256",
                "key_type",
                "key_bits",
                "chain_length",
            ] {
                assert!(
                    v.get(field).is_some(),
                    "report lacks {field}:\n{}",
                    self.context()
                );
            }
        } else {
            for field in [
                "subject:",
                "thumbprint:",
                "x5t:",
                "x5t#S256:",
                "key:",
                "chain:",
            ] {
                assert!(
                    out.lines().any(|l| l.starts_with(field)),
                    "report lacks {field}:\n{}",
                    self.context()
                );
            }
        }
        self
    }

    /// The `graphd cert --json` report.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.context()))
    }

    /// Lines of stderr starting with `graphd: warning:`.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("graphd: warning:"))
            .collect()
    }
}
