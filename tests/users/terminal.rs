//! Issue 10, output on a terminal: tables are fitted to the terminal's width without ever
//! cutting an `id`, and `get` indents JSON there (and only there, unless asked). Each run is
//! on a real pseudo-terminal made by util-linux `script`, as tests/cert/prompt.rs does for
//! the password prompt; `stty cols N` sizes it.

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

/// Graph's own answer to `path`, fetched without graphd.
fn raw_answer(emu: &Emulator, path: &str) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let token = crate::emulator::token(emu).await;
        let answer = crate::emulator::graph_get(emu, path, &token).await;
        assert_eq!(answer.status, 200);
        answer.body
    })
}

#[test]
fn get_indents_json_on_a_terminal_and_passes_it_through_elsewhere() {
    let emu = start(20);
    let users = emulator_listing(&emu, "/v1.0/users");
    let path = format!("/v1.0/users/{}", users[7]["id"].as_str().unwrap());
    let as_received = raw_answer(&emu, &path);
    assert!(
        !as_received.contains(&b'\n'),
        "Graph's answers are one line"
    );
    let get = |args: &[&str]| {
        let mut cmd = graphd_at(&emu);
        cmd.arg("get").arg(&path).args(args);
        cmd
    };

    // A pipe: as received, byte for byte; --pretty indents; --compact is the same line.
    let piped = get(&[]).output().unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(piped.stdout, [&as_received[..], b"\n"].concat());
    let compact = get(&["--compact"]).output().unwrap();
    assert_eq!(compact.stdout, piped.stdout);
    let pretty = String::from_utf8(get(&["--pretty"]).output().unwrap().stdout).unwrap();
    let lines: Vec<&str> = pretty.lines().collect();
    assert_eq!(lines[0], "{");
    assert!(
        lines[1].starts_with("  \"@odata.context\": \""),
        "two spaces, Graph's member order:\n{pretty}"
    );
    assert_eq!(lines.last(), Some(&"}"));
    assert!(lines.len() > 10, "{pretty}");
    assert_eq!(
        serde_json::from_str::<Value>(&pretty).unwrap(),
        serde_json::from_slice::<Value>(&as_received).unwrap()
    );

    // A terminal: indented by default, one line with --compact.
    let (code, shown) = on_terminal(&get(&[]), "");
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(shown, pretty, "the same indented text as --pretty");
    let (code, shown) = on_terminal(&get(&["--compact"]), "");
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(shown.as_bytes(), piped.stdout);

    // Not JSON (/$count is text/plain): byte for byte, on a terminal too.
    let (code, shown) = on_terminal(
        graphd_at(&emu).args(["get", "/v1.0/users/$count", "--pretty"]),
        "",
    );
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(shown, "20\n");
}

#[test]
fn pretty_and_compact_exclude_each_other_and_all() {
    let emu = start(1);
    for args in [
        &["--pretty", "--compact"][..],
        &["--all", "--pretty"],
        &["--all", "--compact"],
    ] {
        let out = graphd_at(&emu)
            .args(["get", "/v1.0/users"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("graphd: error: "), "{err}");
        assert!(
            err.contains("cannot be used with"),
            "a conflict, not an unknown flag: {err}"
        );
    }
    // Each alone is accepted.
    for flag in ["--pretty", "--compact"] {
        let out = graphd_at(&emu)
            .args(["get", "/v1.0/users", flag])
            .output()
            .unwrap();
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
    }
    assert_eq!(graph_requests(&emu).len(), 2, "refused before any request");
}
