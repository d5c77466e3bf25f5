//! How `list-users --delta` runs go wrong, and that none of it loses a change: a state file
//! for another query, a file that is not a state, a sync state Graph expired or reset, a
//! run cut short by a closed pipe, SIGTERM or a Graph 503 beyond retries, and two runs on
//! one state file.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};

use graphd::emulator::{FaultAction, FaultRule};

use super::*;

/// Kills the child if a test fails while it runs.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `list-users --delta STATE -o ndjson` started with stdout and stderr piped; returns once
/// its first line is out (so it holds the state file's lock), with that reader.
fn started(emu: &Emulator, state: &Path) -> (Running, BufReader<std::process::ChildStdout>) {
    let mut child = Running(
        spawnable(&graphd_at(emu))
            .args(["list-users", "-o", "ndjson", "--delta"])
            .arg(state)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with('{'), "first line: {line:?}");
    (child, out)
}

fn child_stderr(child: &mut Running) -> String {
    let mut err = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn a_state_for_another_query_is_refused_until_reset() {
    let emu = start(40);
    let dir = state_dir();
    let state = path_in(&dir, "s");
    delta_ok(&emu, &state, &["--select", "displayName"]);
    let saved = state_bytes(&state);
    let out = delta(&emu, &state, &["--select", "mail"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("was saved for another $select (displayname), not this one (mail)"),
        "{err}"
    );
    assert!(
        err.contains("hint: ") && err.contains("--delta-reset"),
        "{err}"
    );
    assert_eq!(state_bytes(&state), saved, "the state is untouched");
    // The same query in another order and case is the same query.
    delta_ok(&emu, &state, &["--select", " DisplayName"]);
    let all = ndjson(&delta_ok(
        &emu,
        &state,
        &["-o", "ndjson", "--select", "mail", "--delta-reset"],
    ));
    assert_eq!(all.len(), 40, "a full round");
    let now: Value = serde_json::from_slice(&state_bytes(&state)).unwrap();
    assert_eq!(now["select"], serde_json::json!(["mail"]));

    // A file graphd did not write is never replaced, not even with --delta-reset.
    let other = path_in(&dir, "notes.txt");
    std::fs::write(&other, "remember the milk\n").unwrap();
    // Private, so it is refused for what it holds rather than for its mode.
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    for reset in [&[][..], &["--delta-reset"][..]] {
        let out = delta(&emu, &other, reset);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("is not a graphd delta state file"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(&other).unwrap(),
            "remember the milk\n"
        );
    }
}

#[test]
fn a_saved_link_off_the_graph_endpoint_is_never_followed() {
    let emu = start(5);
    let dir = state_dir();
    let state = path_in(&dir, "s");
    delta_ok(&emu, &state, &[]);
    let foreign = crate::support::scripted::ScriptedServer::silent();
    let mut saved: Value = serde_json::from_slice(&state_bytes(&state)).unwrap();
    saved["delta_link"] = format!("{}/v1.0/users/delta?$deltatoken=x", foreign.origin()).into();
    std::fs::write(&state, saved.to_string()).unwrap();
    let out = delta(&emu, &state, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not on the Graph endpoint"),
        "{}",
        stderr(&out)
    );
    foreign.assert_untouched();
}

#[test]
fn an_expired_or_reset_sync_state_is_exit_5_unless_told_to_start_over() {
    let emu = start(60);
    let dir = state_dir();
    let state = path_in(&dir, "s");
    delta_ok(&emu, &state, &[]);
    for (make_stale, shown) in [
        (
            Emulator::expire_delta_tokens as fn(&Emulator),
            "(HTTP 400, syncStateNotFound)",
        ),
        (Emulator::reset_delta_sync, "(HTTP 410, resyncRequired)"),
    ] {
        make_stale(&emu);
        let saved = state_bytes(&state);
        let out = delta(&emu, &state, &["-o", "ndjson"]);
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("graphd: error: Graph no longer accepts the sync state in"),
            "{err}"
        );
        assert!(err.contains(shown), "{err}");
        assert!(err.contains("--delta-reset-on-expiry"), "{err}");
        assert!(out.stdout.is_empty());
        assert_eq!(state_bytes(&state), saved);

        let out = delta(&emu, &state, &["-o", "ndjson", "--delta-reset-on-expiry"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(ndjson(&out.stdout).len(), 60, "a full round");
        let err = stderr(&out);
        assert!(
            err.contains("graphd: warning: Graph no longer accepts the saved sync state"),
            "{err}"
        );
        assert!(err.contains("60 changed, 0 removed (full round)"), "{err}");
        assert!(ndjson(&delta_ok(&emu, &state, &["-o", "ndjson"])).is_empty());
    }
}

#[test]
fn an_interrupted_run_leaves_the_old_state_and_the_next_run_repeats() {
    let emu = start(100);
    let dir = state_dir();
    let state = path_in(&dir, "s");
    delta_ok(&emu, &state, &[]);
    let saved = state_bytes(&state);
    // Enough changes that the output outgrows any pipe buffer: 15 pages, ~1 MB.
    let created: BTreeSet<String> = emu.create_users(3000).unwrap().into_iter().collect();

    // 1. The reader leaves (`| head -3`): exit 0 as for any listing, the state stays.
    let (mut child, mut out) = started(&emu, &state);
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
    }
    drop(out);
    let err = child_stderr(&mut child);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}: {err}");
    assert!(
        err.contains("was not updated; the next run starts from the same point"),
        "{err}"
    );
    assert_eq!(state_bytes(&state), saved);

    // 2. SIGTERM mid-round.
    let (mut child, out) = started(&emu, &state);
    let pid = rustix::process::Pid::from_raw(child.0.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.0.wait().unwrap();
    drop(out);
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert_eq!(state_bytes(&state), saved);

    // 3. Graph fails after two pages, beyond the retries.
    emu.set_faults(vec![
        FaultRule::graph(FaultAction::Status {
            status: 503,
            retry_after: None,
        })
        .skip(2)
        .always(),
    ]);
    let out = delta(&emu, &state, &["-o", "ndjson", "--max-retries", "0"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert_eq!(ndjson(&out.stdout).len(), 400, "two pages were printed");
    assert!(stderr(&out).contains("was not updated"), "{}", stderr(&out));
    assert_eq!(state_bytes(&state), saved);
    emu.set_faults(Vec::new());

    // The next run prints every change again, then the state moves on.
    let items = ndjson(&delta_ok(&emu, &state, &["-o", "ndjson"]));
    assert_eq!(id_set(&items), created);
    assert_ne!(state_bytes(&state), saved);
    assert!(delta_ok(&emu, &state, &["-o", "ndjson"]).is_empty());
}

#[test]
fn two_runs_cannot_share_a_state_file() {
    let emu = start(5000);
    let dir = state_dir();
    let state = path_in(&dir, "s");
    // The first run holds the lock while it waits for its reader.
    let (mut first, mut out) = started(&emu, &state);
    let second = delta(&emu, &state, &["-o", "ndjson"]);
    assert_eq!(second.status.code(), Some(3), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(
        err.contains(&format!(
            "is in use by another graphd run (pid {})",
            first.0.id()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: two runs must not share a state file"),
        "{err}"
    );
    assert!(second.stdout.is_empty());
    // The first run is unaffected and saves its state.
    let mut rest = Vec::new();
    out.read_to_end(&mut rest).unwrap();
    let err = child_stderr(&mut first);
    assert!(first.0.wait().unwrap().success(), "{err}");
    assert_eq!(ndjson(&rest).len(), 4999);
    assert!(
        err.contains("5000 changed, 0 removed (full round)"),
        "{err}"
    );
    // Once it ended, the state file is free again.
    assert!(delta_ok(&emu, &state, &["-o", "ndjson"]).is_empty());
}
