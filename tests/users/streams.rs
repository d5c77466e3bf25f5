//! stdout and stderr as streams: a reader that leaves early (`graphd list-users | head -3`),
//! and progress only on a terminal.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use super::*;
use crate::support::terminal;

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    for format in ["ndjson", "json", "csv", "table"] {
        let emu = start(25_000);
        let mut child = spawnable(&graphd_at(&emu))
            .args(["list-users", "-o", format])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `head -3`: read three lines, then close the pipe.
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..3 {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            assert!(line.ends_with('\n'), "{format}: {line:?}");
        }
        drop(stdout);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{format}: {status:?}, {err}");
        assert_eq!(err, "", "{format}: nothing on stderr");
        // It stopped paging when the reader left: 25,000 users are 26 pages.
        let pages = graph_requests(&emu).len();
        assert!(pages < 26, "{format}: {pages} pages fetched");
    }
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let emu = start(3000);
    for args in [
        &["list-users", "--top", "500"][..],
        &["get", "--all", "/v1.0/users?$top=500"][..],
    ] {
        let out = graphd_at(&emu).args(args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}: stderr is a pipe here");
        assert_in_order(&json_array(&out.stdout), 3000);
    }
    // --count still reports the total, and nothing else.
    let out = graphd_at(&emu)
        .args(["list-users", "--count", "-o", "ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "graphd: 3000 users in total (@odata.count)\n",
        "the total, and nothing else"
    );
    assert_in_order(&ndjson(&out.stdout), 3000);
}

/// Runs `graphd ARGS` on a terminal, so stdout and stderr are a terminal; returns what the
/// terminal showed.
fn on_a_terminal(emu: &Emulator, args: &str) -> String {
    let mut cmd = graphd_at(emu);
    cmd.args(args.split_whitespace());
    let out = terminal::on_a_terminal(&cmd)
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // What erases the progress line before results are printed.
    String::from_utf8_lossy(&out.stdout).replace("\x1b[K", "")
}

#[test]
fn progress_on_a_terminal_unless_quiet() {
    let emu = start(3000);
    let shown = on_a_terminal(&emu, "list-users --top 500 -o ndjson");
    assert!(
        shown.contains("3000 users, 6 pages"),
        "the final count: {shown:.300}"
    );
    // The progress line never splits a result line: every one is a whole user, in order.
    let users: Vec<Value> = shown
        .split(['\r', '\n'])
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a split line ({e}): {l}")))
        .collect();
    assert_in_order(&users, 3000);
    let quiet = on_a_terminal(&emu, "list-users --top 500 -o ndjson --quiet");
    assert!(!quiet.contains("users,"), "{quiet:.300}");
    assert_in_order(&ndjson(quiet.as_bytes()), 3000);
}

#[test]
fn verbose_traces_hold_no_token_and_no_skiptoken() {
    let emu = start(2500);
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    // The token graphd will use, printed by `graphd token` into the shared cache.
    let token = graphd_at(&emu)
        .args(["token", "--token-cache", dir])
        .output()
        .unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert!(token.len() > 100);

    let out = graphd_at(&emu)
        .args(["-v", "list-users", "--token-cache", dir, "-o", "ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        emu.counters().tokens_issued,
        1,
        "the listing used the cached token"
    );
    let err = stderr(&out);
    assert!(err.lines().count() >= 3, "a trace line per page: {err}");
    for secret in [
        &token[..],
        &token[token.len() - 40..],
        "skiptoken",
        "Bearer",
    ] {
        assert!(!err.contains(secret), "{secret:.20}... in the -v output");
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token[..]));
}
