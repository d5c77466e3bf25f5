//! The guard on the in-process emulator: a handler that panics answers 500, is recorded,
//! and fails the test that owns the emulator when its handle is dropped.

use graphd::emulator::{FaultAction, FaultRule};

use crate::support::TENANT;
use crate::support::emulator::start;

/// A handler panic reaches the client as a 500, and the guard fails the test on drop.
#[test]
fn the_guard_fails_the_test_when_a_handler_panicked() {
    let emu = start(0);
    emu.set_faults(vec![FaultRule::token(FaultAction::Panic)]);
    let out = emu
        .graphd("token")
        .args(["--max-retries", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("HTTP 500"),
        "the client got a 500: {stderr}"
    );
    let panics = emu.panics();
    assert_eq!(panics.len(), 1, "{panics:?}");
    assert!(
        panics[0].starts_with(&format!("token POST /{TENANT}/oauth2/v2.0/token: ")),
        "{}",
        panics[0]
    );
    assert!(panics[0].ends_with("a fault rule asked this handler to panic"));
    // The emulator keeps serving after a panic.
    emu.graphd("token").assert().success();

    let guard = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(emu)));
    let message = guard.expect_err("dropping the handle fails the test");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.contains("the emulator's request handlers panicked (1)")
            && message.contains("a fault rule asked this handler to panic"),
        "{message}"
    );
}

#[test]
fn the_guard_is_quiet_when_no_handler_panicked() {
    let emu = start(0);
    emu.graphd("token").assert().success();
    assert!(emu.panics().is_empty());
    drop(emu);
    start(0).shutdown();
}
