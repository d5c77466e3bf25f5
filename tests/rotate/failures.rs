//! A failure at each step: the error names the step, the current key still works and is on
//! disk unchanged, and a key added by the failed run is removed again (or the hint says how).

use std::time::{Duration, Instant};

use graphd::emulator::{FaultAction, FaultRule, Schedule};

use super::*;

/// What must hold after any failed run before step 6: files as they were, the app's keys as
/// they were, the current key working.
fn unchanged(cred: &Cred, emu: &Emulator, original: &[u8], before: &[String]) {
    assert_eq!(
        std::fs::read(&cred.key).unwrap(),
        original,
        "key.pem unchanged"
    );
    assert_eq!(
        cred.listing(),
        ["cert.pem", "key.pem"],
        "no backup, no staged file left"
    );
    assert_eq!(
        registered(emu),
        before,
        "the application's keys are as they were"
    );
    token(emu, &cred.key, &[]).ok();
}

fn rule(side: Side, action: FaultAction, skip: u64) -> FaultRule {
    FaultRule {
        side,
        action,
        schedule: Schedule {
            skip,
            count: None,
            every: 1,
        },
    }
}

fn status(code: u16) -> FaultAction {
    FaultAction::Status {
        status: code,
        retry_after: None,
    }
}

#[test]
fn step_0_a_password_from_stdin_cannot_encrypt_the_new_key() {
    let cred = Cred::new(
        &["--encrypt-key", "--password-file", "pw"],
        Some("stdin pw"),
    );
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let original = std::fs::read(&cred.key).unwrap();
    let before = registered(&emu);
    let out = run(rotate(&emu, &cred.key)
        .arg("--password-stdin")
        .write_stdin("stdin pw\n"));
    let (_, hint) = failed_at(&out, 2, 0);
    assert!(hint.contains("--password-file"), "{hint}");
    assert!(hint.contains("nothing was changed"), "{hint}");
    assert_eq!(
        (emu.counters().token.requests, emu.counters().graph.requests),
        (0, 0)
    );
    assert_eq!(std::fs::read(&cred.key).unwrap(), original);
    assert_eq!(cred.listing(), ["cert.pem", "key.pem"]);
    assert_eq!(registered(&emu), before);
}

#[test]
fn step_1_an_app_that_cannot_read_itself_is_told_to_pass_object_id() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &[], 0);
    let (original, before) = (std::fs::read(&cred.key).unwrap(), registered(&emu));
    let out = run(rotate(&emu, &cred.key).arg("--remove-old"));
    let (error, hint) = failed_at(&out, 5, 1);
    assert!(error.contains("Authorization_RequestDenied"), "{error}");
    assert!(
        hint.contains("--object-id") && hint.contains("nothing was changed"),
        "{hint}"
    );
    unchanged(&cred, &emu, &original, &before);
}

#[test]
fn step_1_remove_old_without_a_way_to_find_the_old_key() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &[], 0);
    let (original, before) = (std::fs::read(&cred.key).unwrap(), registered(&emu));
    let object_id = emu.object_id(CLIENT_ID).unwrap();
    let out = run(rotate(&emu, &cred.key).args(["--remove-old", "--object-id", &object_id]));
    let (_, hint) = failed_at(&out, 5, 1);
    assert!(hint.contains("--old-key-id"), "{hint}");
    // Refused before addKey: only the read was sent.
    assert_eq!(graph_calls(&emu).len(), 1, "{:?}", graph_calls(&emu));
    unchanged(&cred, &emu, &original, &before);
}

#[test]
fn step_4_a_refused_proof_changes_nothing() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let (original, before) = (std::fs::read(&cred.key).unwrap(), registered(&emu));
    // Microsoft Graph's app id instead of the documented audience (microsoft-graph-docs#10686).
    let out =
        run(rotate(&emu, &cred.key)
            .args(["--proof-audience", "00000003-0000-0000-c000-000000000000"]));
    let (error, hint) = failed_at(&out, 5, 4);
    assert!(
        error.contains("Authentication_MissingOrMalformed"),
        "{error}"
    );
    assert!(error.contains("POST /v1.0/applications/"), "{error}");
    assert!(hint.contains("proof of possession"), "{hint}");
    unchanged(&cred, &emu, &original, &before);
}

#[test]
fn step_4_an_unanswered_addkey_says_the_key_may_have_been_added() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let (original, before) = (std::fs::read(&cred.key).unwrap(), registered(&emu));
    emu.set_faults(vec![rule(Side::Graph, status(503), 1)]);
    let out = run(rotate(&emu, &cred.key).args(["--max-retries", "0"]));
    let (_, hint) = failed_at(&out, 6, 4);
    assert!(hint.contains("may have been added"), "{hint}");
    emu.set_faults(Vec::new());
    unchanged(&cred, &emu, &original, &before);
}

#[test]
fn step_5_a_key_that_never_propagates_is_removed_again() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 3_600_000);
    let (original, before) = (std::fs::read(&cred.key).unwrap(), registered(&emu));
    let out = run(rotate(&emu, &cred.key).args(["--propagation-timeout", "1"]));
    let (error, hint) = failed_at(&out, 4, 5);
    assert!(error.contains("AADSTS700027"), "{error}");
    assert!(hint.contains("removed again"), "{hint}");
    assert!(hint.contains("--propagation-timeout"), "{hint}");
    let calls = graph_calls(&emu);
    assert!(
        calls.last().unwrap().ends_with("/removeKey 204"),
        "{calls:?}"
    );
    unchanged(&cred, &emu, &original, &before);
}

#[test]
fn step_5_when_the_rollback_fails_too_the_hint_says_what_to_remove() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let original = std::fs::read(&cred.key).unwrap();
    // The token service fails for the new key; Graph fails the removeKey of the rollback.
    emu.set_faults(vec![
        rule(Side::Token, status(500), 1),
        rule(Side::Graph, status(503), 2),
    ]);
    let out = run(rotate(&emu, &cred.key).args(["--max-retries", "0"]));
    let (_, hint) = failed_at(&out, 6, 5);
    emu.set_faults(Vec::new());
    let added = credentials(&emu).pop().unwrap();
    assert_eq!(
        registered(&emu).len(),
        2,
        "the rollback failed: the new key is still there"
    );
    assert!(
        hint.contains(&format!(
            "az ad app credential delete --id {CLIENT_ID} --key-id {}",
            added.key_id
        )),
        "{hint}"
    );
    assert!(hint.contains("unchanged"), "{hint}");
    assert_eq!(std::fs::read(&cred.key).unwrap(), original);
    token(&emu, &cred.key, &[]).ok();
}

/// Waits (without sleeping blindly) until `done` holds; fails the test after `limit`.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn step_6_a_file_changed_meanwhile_is_kept_and_the_new_key_removed() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let before = registered(&emu);
    // The new key's token request (the second one) is held for a while: the file changes then.
    emu.set_faults(vec![FaultRule {
        side: Side::Token,
        action: FaultAction::Delay(Duration::from_secs(5)),
        schedule: Schedule {
            skip: 1,
            count: Some(1),
            every: 1,
        },
    }]);
    let child = crate::support::emulator::spawnable(&rotate(&emu, &cred.key))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(
        Duration::from_secs(60),
        "the new key's token request",
        || emu.counters().token.requests >= 2,
    );
    let theirs = b"another process wrote this\n";
    std::fs::write(&cred.key, theirs).unwrap();
    let out = child.wait_with_output().unwrap();
    let out = Outcome {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    let (error, hint) = failed_at(&out, 3, 6);
    assert!(error.contains("changed on disk"), "{error}");
    assert!(hint.contains("removed again"), "{hint}");
    assert_eq!(std::fs::read(&cred.key).unwrap(), theirs, "not replaced");
    assert_eq!(cred.listing(), ["cert.pem", "key.pem"]);
    assert_eq!(registered(&emu), before);
    assert_eq!(out.stdout, "");
}

#[test]
fn step_7_a_failed_removal_keeps_the_new_key_and_says_how_to_finish() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let old_key_id = credentials(&emu)[0].key_id.clone();
    // Graph calls: read, addKey, then removeKey fails.
    emu.set_faults(vec![rule(Side::Graph, status(503), 2)]);
    let out = run(rotate(&emu, &cred.key).args(["--remove-old", "--max-retries", "0"]));
    let (_, hint) = failed_at(&out, 6, 7);
    emu.set_faults(Vec::new());
    // The rotation itself happened: the certificate is on stdout and in key.pem, and works.
    assert_eq!(
        thumbprint_of(out.stdout.as_bytes()),
        registered(&emu)[1],
        "stdout is the new certificate"
    );
    assert!(
        hint.contains(&format!(
            "az ad app credential delete --id {CLIENT_ID} --key-id {old_key_id}"
        )),
        "{hint}"
    );
    assert!(hint.contains("the new key works and is in place"), "{hint}");
    token(&emu, &cred.key, &[]).ok();
    let backup = cred.path(&format!("certs/key.pem.previous-{}", today()));
    token(&emu, &backup, &[]).ok();
}
