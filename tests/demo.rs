//! Tests for `graphd demo`: the whole flow, with nothing set up and nothing left behind.

mod first_steps;

use crate::support::graphd;

#[test]
fn demo_runs_every_step_and_cleans_up() {
    let out = graphd()
        .args(["demo", "--users", "12", "--show", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    for step in [
        "1. certificate",
        "2. emulator",
        "3. token",
        "4. users",
        "the first 3 of 12",
    ] {
        assert!(stdout.contains(step), "{step} missing from:\n{stdout}");
    }
    assert!(stdout.contains("roles User.Read.All"), "{stdout}");
    // Three user rows under the header.
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("id "))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), 4, "{stdout}");
    // A JWT starts with eyJ: neither the assertion nor the token is printed.
    assert!(
        !stdout.contains("eyJ") && !stderr.contains("eyJ"),
        "a token was printed"
    );
    // The temporary directory with the key is gone.
    let tmp = stdout
        .split(" in ")
        .nth(1)
        .and_then(|s| s.lines().next())
        .unwrap()
        .trim();
    assert!(tmp.contains("graphd-demo-"), "{tmp}");
    assert!(!std::path::Path::new(tmp).exists(), "{tmp} left behind");
}
