//! Issue 10, output on a terminal: tables are fitted to the terminal's width without ever
//! cutting an `id`. Each run is on a real pseudo-terminal made by util-linux `script`, as
//! tests/cert/prompt.rs does for the password prompt; `stty cols N` sizes it.

use std::io::Read;
use std::process::{Command, Stdio};

use super::*;

/// `word` as one POSIX shell word.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Runs `cmd` (graphd with its arguments and environment) on a pseudo-terminal, after the
/// shell commands in `setup` (e.g. `stty cols 120;`). Returns the exit code and what the
/// terminal showed (stdout and stderr both; `\r` removed).
pub fn on_terminal(cmd: &assert_cmd::Command, setup: &str) -> (Option<i32>, String) {
    let std_cmd = spawnable(cmd);
    let mut line = format!(
        "{setup} exec {}",
        quoted(&std_cmd.get_program().to_string_lossy())
    );
    for arg in std_cmd.get_args() {
        line.push(' ');
        line.push_str(&quoted(&arg.to_string_lossy()));
    }
    let mut script = Command::new("script");
    script.args(["-qfec", &line, "/dev/null"]).env_clear();
    for (key, value) in std_cmd.get_envs() {
        if let Some(value) = value {
            script.env(key, value);
        }
    }
    let mut child = script
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is installed (it provides the terminal for this test)");
    // stdin stays open (and empty) until graphd is done: `script` ends with graphd.
    let stdin = child.stdin.take();
    let mut shown = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut shown)
        .unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&shown).replace('\r', ""),
    )
}

/// The table lines of a terminal's output: from the header on.
fn table_lines(shown: &str) -> Vec<&str> {
    shown
        .lines()
        .skip_while(|l| !l.starts_with("id "))
        .collect()
}

#[test]
fn a_table_fits_the_terminal_and_never_cuts_the_id() {
    let emu = start(300);
    let users = emulator_listing(&emu, "/v1.0/users?$top=999");
    let table = || {
        let mut cmd = graphd_at(&emu);
        cmd.args(["list-users", "--output", "table", "--quiet"]);
        cmd
    };

    // COLUMNS says 100: every line fits, the ids are whole, the long addresses are cut.
    let (code, shown) = on_terminal(table().env("COLUMNS", "100"), "stty cols 250;");
    assert_eq!(code, Some(0), "{shown}");
    let lines = table_lines(&shown);
    assert_eq!(lines.len(), 301, "{shown}");
    assert!(
        lines[0].contains("userPrincipalName"),
        "the header is whole"
    );
    let mut cut = 0;
    for (line, user) in lines[1..].iter().zip(&users) {
        assert!(line.chars().count() <= 100, "{line}");
        let id = user["id"].as_str().unwrap();
        assert!(line.starts_with(&format!("{id}  ")), "{line}");
        if line.contains('…') {
            cut += 1;
        }
    }
    assert!(cut > 0, "the addresses do not fit in 100 columns:\n{shown}");

    // No COLUMNS: the terminal's own size (250) is used, and everything fits whole.
    let (code, shown) = on_terminal(&table(), "stty cols 250;");
    assert_eq!(code, Some(0), "{shown}");
    let lines = table_lines(&shown);
    assert_eq!(lines.len(), 301, "{shown}");
    assert!(!shown.contains('…'), "{shown}");
    for (line, user) in lines[1..].iter().zip(&users) {
        assert!(line.chars().count() <= 250, "{line}");
        let upn = user["userPrincipalName"].as_str().unwrap();
        assert!(line.contains(&format!("  {upn}  ")), "{line}");
    }

    // Narrower than the ids themselves: the ids are still whole (the terminal wraps).
    let (code, shown) = on_terminal(table().env("COLUMNS", "30"), "");
    assert_eq!(code, Some(0), "{shown}");
    for (line, user) in table_lines(&shown)[1..].iter().zip(&users) {
        assert!(line.starts_with(user["id"].as_str().unwrap()), "{line}");
    }
}
