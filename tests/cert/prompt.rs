//! The no-echo password prompt, on a real pseudo-terminal made by util-linux `script`:
//! graphd asks only when stdin is a terminal, names the file, and the typed password is
//! never echoed back.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;

use crate::support::fixtures::{PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::graphd;
use crate::support::terminal::on_a_terminal;

/// Runs `graphd cert --cert FILE` on a pty; types `password` once the prompt has appeared
/// (waiting on the prompt text, not on time). Returns (exit code, everything the pty showed).
fn on_terminal(file: &Path, password: &str) -> (Option<i32>, String) {
    let mut child = on_a_terminal(graphd().args(["cert", "--cert"]).arg(file))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    // Until the prompt shows (or graphd ends without one, which the caller's checks catch).
    while !String::from_utf8_lossy(&seen).contains("Password for the ") {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    // Echo is off by the time the prompt is written, so the password must not show.
    let _ = stdin.write_all(format!("{password}\n").as_bytes());
    drop(stdin);
    stdout.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&seen).replace('\r', ""),
    )
}

#[test]
fn prompts_without_echo_on_a_terminal() {
    let fx = fixtures();
    let file = fx.path("enc-pkcs8-combined.pem");
    let (code, shown) = on_terminal(&file, PASSWORD);
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains(&format!(
            "Password for the encrypted private key {}: ",
            file.display()
        )),
        "{shown}"
    );
    assert!(shown.contains("key matches: yes"), "{shown}");
    assert!(
        !shown.contains(PASSWORD),
        "the password was echoed: {shown}"
    );

    let pfx = fx.path("legacy.pfx");
    let (code, shown) = on_terminal(&pfx, WRONG_PASSWORD);
    assert_eq!(code, Some(3), "{shown}");
    assert!(
        shown.contains("Password for the PFX (PKCS#12) file"),
        "{shown}"
    );
    assert!(
        shown.contains("wrong password for the PFX (PKCS#12) file"),
        "{shown}"
    );
    assert!(
        !shown.contains(WRONG_PASSWORD),
        "the password was echoed: {shown}"
    );
    assert!(!shown.contains("panicked"), "{shown}");
}
