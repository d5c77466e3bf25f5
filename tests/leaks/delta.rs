//! `list-users --delta STATE_FILE` (issue 15), quiet, with `-v` and with `GRAPHD_LOG=trace`:
//! a first round, a second round after changes made through the emulator's API (throttled,
//! its connection dropped and its access token expired on the way), and the refusals of a
//! state for another query, tampered, expired or reset. No key and no JWT (assertion, access
//! token) reaches stdout or stderr, and no sync position either: neither a deltaLink saved in
//! the state file nor any token graphd sent to users/delta (every query the emulator
//! recorded), as `commands::delta` promises.

use std::path::Path;

use graphd::emulator::{FaultAction, FaultRule, RetryAfter, Side};
use serde_json::Value;

use super::{Secrets, Way};
use crate::support::Pair;
use crate::support::emulator::{TestEmulator, graphd_at, start};
use crate::support::outcome::{Outcome, run};

const USERS: u64 = 40;

/// A deltaLink (or nextLink) as the state holds it, and its token alone.
fn link_needles(secrets: &mut Secrets, link: &str) {
    secrets.add(link);
    let query = link.split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&') {
        if let Some((name, value)) = pair.split_once('=')
            && name.ends_with("token")
            && value.len() >= 8
        {
            secrets.add(value);
        }
    }
}

fn saved_link(state: &Path) -> String {
    let saved: Value = serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap();
    saved["delta_link"].as_str().unwrap().to_string()
}

/// A copy of `state` at `to` whose delta_link is `link`.
fn tampered(state: &Path, to: &Path, link: &str) {
    let mut saved: Value = serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap();
    saved["delta_link"] = link.into();
    std::fs::write(to, saved.to_string()).unwrap();
    std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

/// A refusal ran for the reason meant: its exit code and the words of its error.
fn refused(out: Outcome, code: i32, says: &str) -> Outcome {
    assert_eq!(out.code, Some(code), "{says}:\n{}", out.stderr);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("graphd: error: "))
        .unwrap_or_default();
    assert!(error.contains(says), "{says}:\n{}", out.stderr);
    out
}

/// One way's rounds and refusals against a fresh emulator; every run, named.
fn rounds(
    way: Way,
    emu: &TestEmulator,
    dir: &Path,
    secrets: &mut Secrets,
) -> Vec<(String, Outcome)> {
    let state = dir.join("users.state");
    let list = |state: &Path, extra: &[&str]| {
        let mut cmd = graphd_at(emu);
        cmd.arg("list-users")
            .arg("--delta")
            .arg(state)
            .args(["-o", "ndjson"])
            .args(extra);
        run(way.apply(&mut cmd))
    };
    let mut runs = Vec::new();

    let first = list(&state, &["--top", "10"]);
    first.ok();
    assert_eq!(
        first.stdout.lines().count() as u64,
        USERS,
        "{way:?}: everyone"
    );
    link_needles(secrets, &saved_link(&state));
    runs.push(("first round".to_string(), first));

    // Changes through the emulator's API, then a round through throttling, a dropped
    // connection and an expired access token (each retried on the same page).
    emu.create_users(3).unwrap();
    for i in [5, 25] {
        emu.update_user(&emu.user_id(i), &[]).unwrap();
    }
    emu.delete_user(&emu.user_id(7)).unwrap();
    emu.delete_user_permanently(&emu.user_id(9)).unwrap();
    emu.set_faults(vec![
        FaultRule::graph(FaultAction::Status {
            status: 429,
            retry_after: Some(RetryAfter::Seconds(0)),
        }),
        FaultRule::graph(FaultAction::Drop).skip(2),
        FaultRule::graph(FaultAction::ExpireTokens).skip(4),
    ]);
    let second = list(&state, &["--top", "3"]);
    emu.set_faults(Vec::new());
    second.ok();
    assert_eq!(second.stdout.lines().count(), 7, "{way:?}: the changes");
    assert!(
        second.stdout.contains("\"@removed\""),
        "{way:?}: {}",
        second.stdout
    );
    let statuses: Vec<u16> = emu
        .requests()
        .iter()
        .filter(|r| r.side == Side::Graph)
        .map(|r| r.status)
        .collect();
    for status in [429, 0, 401] {
        assert!(statuses.contains(&status), "{way:?}: {statuses:?}");
    }
    link_needles(secrets, &saved_link(&state));
    runs.push(("second round".to_string(), second));

    // Refusals: another query on this state; a state tampered with; an expired, a reset sync.
    runs.push((
        "another query".into(),
        refused(
            list(&state, &["--select", "id,displayName"]),
            3,
            "was saved for another $select",
        ),
    ));
    let graph = graphd::cloud::base_str(&emu.graph_endpoint());
    // Each tampered link carries a token of its own: none may be shown, whatever is refused.
    let token = |n: u8| format!("TamperedSecretToken{n}");
    for (n, name, link, code, says) in [
        (
            1,
            "foreign link",
            format!(
                "https://graph.example.net/v1.0/users/delta?$deltatoken={}",
                token(1)
            ),
            3,
            "its delta_link is not on the Graph endpoint",
        ),
        (
            2,
            "not users/delta",
            format!("{graph}/v1.0/groups/delta?$deltatoken={}", token(2)),
            3,
            "its delta_link is not a users/delta link",
        ),
        (
            3,
            "unknown token",
            format!("{graph}/v1.0/users/delta?$deltatoken={}", token(3)),
            5,
            "The state token is not valid.",
        ),
        (
            4,
            "not a url",
            format!("{} is no link", token(4)),
            3,
            "its delta_link is not a URL",
        ),
    ] {
        let copy = dir.join(format!("tampered-{n}.state"));
        tampered(&state, &copy, &link);
        secrets.add(link);
        secrets.add(token(n));
        runs.push((name.to_string(), refused(list(&copy, &[]), code, says)));
    }
    emu.expire_delta_tokens();
    runs.push((
        "expired".into(),
        refused(list(&state, &[]), 5, "(HTTP 400, syncStateNotFound)"),
    ));
    let again = list(&state, &["--delta-reset-on-expiry"]);
    again.ok();
    link_needles(secrets, &saved_link(&state));
    runs.push(("expired, reset on expiry".into(), again));
    emu.reset_delta_sync();
    runs.push((
        "reset".into(),
        refused(list(&state, &[]), 5, "(HTTP 410, resyncRequired)"),
    ));

    // Every token graphd sent to users/delta (nextLinks and deltaLinks), as received.
    for r in emu.requests() {
        if r.side == Side::Graph && r.path.contains("/users/delta?") {
            link_needles(secrets, &r.path);
        }
    }
    runs
}

#[test]
fn delta_rounds_show_no_key_no_token_and_no_sync_state() {
    let mut secrets = Secrets::none();
    let public = vec![crate::support::emulator::shared_cert().to_der().unwrap()];
    secrets.add_key(&std::fs::read(&Pair::shared().key).unwrap(), None, &public);
    let mut all = Vec::new();
    for way in Way::ALL {
        let emu = start(USERS);
        let dir = tempfile::tempdir().unwrap();
        for (name, out) in rounds(way, &emu, dir.path(), &mut secrets) {
            all.push((way, format!("{name} ({way:?})"), out));
        }
    }
    // Three ways: each saved four links and sent a dozen tokens, all of them needles.
    assert!(
        secrets.needles.len() > 400,
        "{} needles",
        secrets.needles.len()
    );
    let mut failures = 0;
    for (way, name, out) in &all {
        assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
        if out.code != Some(0) {
            failures += 1;
            assert!(
                out.stderr.contains("graphd: error:") && out.stderr.contains("\nhint: "),
                "{name}: {}",
                out.stderr
            );
        }
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            secrets.assert_absent(&format!("{name}: {stream}"), text);
            // A JWS header or payload starts with `eyJ` (`{"`): no assertion, no access token.
            assert!(!text.contains("eyJ"), "{name}: {stream} shows a JWT");
            assert!(
                !text.contains("token="),
                "{name}: {stream} shows a state token"
            );
        }
        // The traces say something: each request, redacted, and the retries.
        if way.traces() && name.starts_with("second round") {
            for expected in ["GET ", "/v1.0/users/delta?... -> 429", "retrying in "] {
                assert!(
                    out.stderr.contains(expected),
                    "{name}: no {expected:?} in\n{}",
                    out.stderr
                );
            }
        }
    }
    assert_eq!(failures, 3 * 7, "every refusal ran, three ways");
}
