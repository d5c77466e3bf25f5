//! Issue 10, what a newcomer sees in the demo: the users table in full when stdout is not a
//! terminal (no identifier cut with `…`), and closing lines that use gen-cert's key.pem as
//! the one credential file.

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
