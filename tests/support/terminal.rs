//! A real terminal for graphd: util-linux `script` runs it on a pseudo-terminal, as an
//! interactive user would (prompts, progress lines, a TTY-only behaviour). `script` is part of
//! util-linux, on every Debian machine; a test that needs it fails if it is missing.

use std::ffi::OsStr;
use std::process::Command;

use assert_cmd::Command as AssertCommand;

/// `script -qec 'COMMAND' /dev/null` for `cmd` (program, arguments, environment and working
/// directory carried over): what graphd writes to the terminal comes out on the returned
/// command's stdout, and what is written to its stdin is typed on the terminal.
pub fn on_a_terminal(cmd: &AssertCommand) -> Command {
    let available = Command::new("script").arg("--version").output();
    assert!(
        available.is_ok_and(|o| o.status.success()),
        "this test needs util-linux `script` to give graphd a terminal (apt-get install util-linux)"
    );
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]).env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    // `script` runs the line with $SHELL.
    script.env("SHELL", "/bin/sh");
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    script
}

/// One shell word: single-quoted, with any `'` closed, escaped and reopened.
fn quote(word: &OsStr) -> String {
    let word = word.to_str().expect("a UTF-8 argument");
    format!("'{}'", word.replace('\'', r"'\''"))
}
