//! Tests for `graphd token` against the in-process emulator.

use crate::support::emulator::{graphd_at, start};

#[test]
fn prints_a_token_from_the_emulator() {
    let emu = start(0);
    let out = graphd_at(&emu)
        .arg("token")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let token = String::from_utf8(out).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "a JWT");
    assert_eq!(emu.counters().token.requests, 1);
}
