//! Issue 10, what a newcomer meets first: the demo's users table in full when stdout is not
//! a terminal (no identifier cut with `…`), its closing lines using gen-cert's key.pem as the
//! one credential file, and a README that says how to install graphd before running it.

use crate::support::graphd;

#[test]
fn the_demo_table_is_whole_and_its_last_lines_use_key_pem() {
    let out = graphd()
        .args(["demo", "--users", "40", "--show", "25"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains('…'), "nothing is cut in a pipe:\n{stdout}");
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("id "))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), 26, "{stdout}");
    for row in &table[1..] {
        let upn = row
            .split_whitespace()
            .find(|w| w.contains('@'))
            .unwrap_or_else(|| panic!("no userPrincipalName in {row}"));
        assert!(upn.ends_with(".onmicrosoft.com"), "{row}");
    }
    let closing = stdout
        .split("The same against a real tenant:")
        .nth(1)
        .unwrap();
    assert!(
        closing.contains("graphd list-users --cert certs/key.pem --output table"),
        "{closing}"
    );
    assert!(!closing.contains("--key"), "{closing}");
}

/// The README tells a newcomer how to install graphd before its first `graphd` command, and
/// uses plain `graphd` from then on; its first two lines, the quick start, stay as they are.
#[test]
fn the_readme_installs_graphd_before_using_it() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    assert!(
        lines[2].starts_with("    cargo run --release -- demo "),
        "{}",
        lines[2]
    );
    // The second line is the test command, and CI runs exactly that.
    let test_command = lines[3].split('#').next().unwrap().trim();
    assert_eq!(test_command, "scripts/test.sh");
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == test_command),
        "CI must run the README's test command:\n{ci}"
    );
    // Command lines in the README's shell blocks, after the quick start.
    let mut commands = Vec::new();
    let mut in_block = false;
    for (i, line) in lines.iter().enumerate().skip(4) {
        if line.starts_with("```") {
            in_block = !in_block;
        } else if in_block {
            commands.push((i, line.trim()));
        }
    }
    let install = commands
        .iter()
        .find(|(_, c)| c.starts_with("cargo install --locked --path ."))
        .map(|(i, _)| *i)
        .expect("an install command");
    let first_use = commands
        .iter()
        .find(|(_, c)| c.starts_with("graphd "))
        .map(|(i, _)| *i)
        .expect("a graphd command");
    assert!(
        install < first_use,
        "install (line {install}) before use (line {first_use})"
    );
    assert!(install < 30, "near the top: line {install}");
    assert!(
        commands.iter().all(|(_, c)| !c.starts_with("cargo run")),
        "plain graphd after the quick start"
    );
}
