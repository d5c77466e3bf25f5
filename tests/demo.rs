//! Tests for `graphd demo`: the whole flow, with nothing set up and nothing left behind.

mod first_steps;

use serde_json::Value;

use crate::support::emulator::start;
use crate::support::graphd;
use crate::users::emulator_listing;

/// The demo's table is the header and the first `shown` of `total` users, cell by cell, as
/// an emulator with the same number of users serves them (synthetic users depend only on
/// their index and the tenant's domain, the same for both). A cell may be cut with `…`; an
/// id never is.
fn assert_shows_first_users(stdout: &str, shown: usize, total: u64) {
    let table: Vec<Vec<char>> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("id "))
        .take_while(|l| !l.is_empty())
        .map(|l| l.chars().collect())
        .collect();
    assert!(!table.is_empty(), "no table in:\n{stdout}");
    let header: String = table[0].iter().collect();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        ["id", "displayName", "userPrincipalName", "mail"],
        "{stdout}"
    );
    let starts: Vec<usize> = columns
        .iter()
        .map(|c| header.find(c).expect("a column in the header"))
        .collect();
    let emu = start(total);
    let users = emulator_listing(&emu, &format!("/v1.0/users?$top={shown}"));
    let rows = &table[1..];
    assert_eq!(rows.len(), shown, "{stdout}");
    for (row, user) in rows.iter().zip(&users) {
        for (k, column) in columns.iter().enumerate() {
            let end = starts.get(k + 1).map_or(row.len(), |s| (*s).min(row.len()));
            let cell: String = row[starts[k].min(row.len())..end].iter().collect();
            let cell = cell.trim_end();
            let full = match &user[*column] {
                Value::String(s) => s.as_str(),
                _ => "",
            };
            let cut = cell
                .strip_suffix('…')
                .is_some_and(|kept| *column != "id" && full.starts_with(kept));
            assert!(
                cell == full || cut,
                "{column}: {cell:?} vs {full:?}\n{stdout}"
            );
        }
    }
}

#[test]
fn demo_runs_every_step_and_cleans_up() {
    let out = graphd()
        .args(["demo", "--users", "12", "--show", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    // A newcomer's first run warns about nothing (the certificate is far from expiry).
    assert!(stderr.is_empty(), "{stderr}");
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
    assert_shows_first_users(&stdout, 3, 12);
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
