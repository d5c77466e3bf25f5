//! Finding 1: no documentation teaches a secret in argv. The README showed
//! `curl -H "Authorization: Bearer $(graphd token ...)"`, which puts the token into curl's
//! arguments, readable by every local user with `ps`.

use std::path::Path;

use crate::support::graphd;

/// How a secret printed by graphd ends up in another command's arguments: a command
/// substitution, or a shell variable expanded into an `Authorization` header argument.
const ARGV_FORMS: &[&str] = &["$(graphd", "Bearer $"];

fn offending_lines(name: &str, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| ARGV_FORMS.iter().any(|form| line.contains(form)))
        .map(|(i, line)| format!("{name}:{}: {line}", i + 1))
        .collect()
}

#[test]
fn finding_1_no_document_puts_a_secret_in_argv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("README.md"),
        root.join("SECURITY.md"),
        root.join("certs/README.md"),
        root.join("fuzz/README.md"),
        root.join("tests/fixtures/README.md"),
    ];
    for entry in std::fs::read_dir(root.join("docs")).unwrap().flatten() {
        files.push(entry.path());
    }
    let mut bad = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        bad.extend(offending_lines(&file.display().to_string(), &text));
    }
    // Every command's help, and gen-cert's next steps (printed on stderr).
    let commands = [
        "gen-cert",
        "cert",
        "assertion",
        "token",
        "list-users",
        "get",
        "consent-url",
        "emulator",
        "demo",
        "completions",
    ];
    for cmd in std::iter::once("").chain(commands) {
        let out = graphd()
            .args([cmd, "--help"].iter().filter(|a| !a.is_empty()))
            .output()
            .unwrap();
        bad.extend(offending_lines(
            &format!("graphd {cmd} --help"),
            &String::from_utf8_lossy(&out.stdout),
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = graphd()
        .current_dir(dir.path())
        .args(["gen-cert", "--client-id", crate::support::CLIENT_ID])
        .output()
        .unwrap();
    assert!(out.status.success());
    bad.extend(offending_lines(
        "gen-cert next steps",
        &String::from_utf8_lossy(&out.stderr),
    ));
    assert!(bad.is_empty(), "secrets in argv:\n{}", bad.join("\n"));
}
