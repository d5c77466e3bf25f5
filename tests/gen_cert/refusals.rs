//! gen-cert's refusals: one `graphd: error:` line and a hint, the documented exit code, and
//! nothing left behind (no directory, no temporary file, no user file touched).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Output, Stdio};

use super::{gen_cert, listing, mode, openssl_text, stderr};
use crate::support::permissions::graphd_bound_by_permissions;
use crate::support::{graphd, terminal};

fn assert_refused(out: &Output, code: i32, says: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one error line and one hint: {err}");
    assert!(lines[0].starts_with("graphd: error: "), "{err}");
    assert!(lines[0].contains(says), "expected {says:?} in {err}");
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
}

#[test]
fn bad_values_are_usage_errors_that_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--days", "0"], "--days"),
        (&["--days", "3651"], "3650"),
        (&["--days", "ten"], "--days"),
        (&["--key-size", "1024"], "2048, 3072, 4096"),
        (&["--key-size", "8192"], "--key-size"),
        (&["--key-size", "2049"], "--key-size"),
        (&["--subject", ""], "empty"),
        (&["--subject", "graphd"], "not NAME=VALUE"),
        (&["--subject", "CN=Contoso, Inc."], r"\,"),
        (&["--subject", "XX=1"], "unknown attribute"),
        (&["--subject", "C=USA"], "two-letter"),
        (&["--subject", "/CN=a//O=b"], "empty component"),
        (&["--password-file", "pw"], "--encrypt-key|--pfx"),
        (&["--password-stdin"], "--encrypt-key|--pfx"),
    ];
    for (args, says) in cases {
        let out = gen_cert(tmp.path(), args);
        assert_refused(&out, 2, says);
        assert!(listing(tmp.path()).is_empty(), "{args:?} wrote something");
    }
}

#[test]
fn a_pfx_or_encrypted_key_without_a_password_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["--pfx"][..], "--pfx"),
        (&["--encrypt-key"][..], "--encrypt-key"),
        (&["--encrypt-key", "--pfx"][..], "--encrypt-key and --pfx"),
    ] {
        let out = gen_cert(tmp.path(), args);
        assert_refused(&out, 3, says);
        assert!(
            stderr(&out).contains("--password-file"),
            "the hint says how"
        );
        assert!(listing(tmp.path()).is_empty(), "{args:?} wrote something");
    }
    std::fs::write(tmp.path().join("pw"), "\n").unwrap();
    let out = gen_cert(tmp.path(), &["--pfx", "--password-file", "pw"]);
    assert_refused(&out, 3, "empty");
    std::fs::write(tmp.path().join("pw"), b"\xff\xfe").unwrap();
    let out = gen_cert(tmp.path(), &["--pfx", "--password-file", "pw"]);
    assert_refused(&out, 3, "UTF-8");
    assert_eq!(listing(tmp.path()), ["pw"]);
}

#[test]
fn output_directory_problems_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("file"), "mine").unwrap();

    let out = gen_cert(dir, &["--out", "file"]);
    assert_refused(&out, 3, "file: it is not a directory");
    assert_eq!(std::fs::read_to_string(dir.join("file")).unwrap(), "mine");

    let out = gen_cert(dir, &["--out", "no/such/certs"]);
    assert_refused(&out, 3, "no/such does not exist");
    assert!(
        stderr(&out).contains("hint: create no/such first"),
        "{}",
        stderr(&out)
    );

    let out = gen_cert(dir, &["--out", "file/certs"]);
    assert_refused(&out, 3, "file/certs");

    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::create_dir(dir.join("d/key.pem")).unwrap();
    let out = gen_cert(dir, &["--out", "d", "--force"]);
    assert_refused(&out, 3, "d/key.pem: it is a directory");

    assert_eq!(listing(dir), ["d", "file"]);
    assert_eq!(listing(&dir.join("d")), ["key.pem"]);
}

#[test]
fn an_unwritable_directory_is_refused_and_left_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    // As root, graphd runs without the capabilities that would let it write anyway.
    let out = graphd_bound_by_permissions()
        .current_dir(tmp.path())
        .args(["gen-cert", "--out", "ro"])
        .output()
        .unwrap();
    assert_refused(&out, 3, "cannot write ro/key.pem");
    assert!(stderr(&out).contains("another --out"), "{}", stderr(&out));
    assert!(listing(&ro).is_empty(), "no temporary file left behind");
}

/// Runs `graphd gen-cert ARGS` in `dir` on a terminal and types `typed`.
fn on_a_terminal(dir: &Path, args: &str, typed: &str) -> Output {
    let mut cmd = graphd();
    cmd.current_dir(dir)
        .arg("gen-cert")
        .args(args.split_whitespace());
    let mut child = terminal::on_a_terminal(&cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_terminal_prompt_asks_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = on_a_terminal(dir, "--out tty --pfx", "tty secret\ntty secret\n");
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("New password for tty/graphd.pfx"),
        "{screen}"
    );
    assert!(screen.contains("Repeat the password"), "{screen}");
    let (ok, text) = openssl_text(
        &dir.join("tty"),
        &[
            "pkcs12",
            "-in",
            "graphd.pfx",
            "-noout",
            "-passin",
            "pass:tty secret",
        ],
    );
    assert!(ok, "{text}");
    assert_eq!(mode(&dir.join("tty/graphd.pfx")), 0o600);

    let out = on_a_terminal(dir, "--out typo --pfx", "tty secret\ntty secrte\n");
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(3), "{screen}");
    assert!(
        screen.contains("graphd: error: the two passwords typed do not match"),
        "{screen}"
    );
    assert_eq!(listing(dir), ["tty"], "nothing written after a typo");
}
