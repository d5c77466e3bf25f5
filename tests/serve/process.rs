//! The `graphd serve` process: what it prints and when, how it stops, and what it refuses to
//! start with.

use std::time::Instant;

use graphd::emulator::{AppRegistration, EmulatorConfig, FaultAction, FaultRule};
use rustix::process::Signal;

use super::*;
use crate::support::emulator::{shared_cert, start, start_with};
use crate::support::outcome::run;

const GRAPH: &str = "https://graph.microsoft.com";

#[test]
fn it_announces_itself_closes_stdout_and_stops_cleanly() {
    let emu = start(1);
    for signal in [Signal::TERM, Signal::INT] {
        // `Serve::start` has read stdout to its end: it was closed while the process runs.
        let mut serve = Serve::start(&emu, &[]);
        assert!(serve.child.try_wait().unwrap().is_none(), "still serving");
        let lines: Vec<&str> = serve.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{}", serve.stdout);
        assert!(lines[0].starts_with("export IDENTITY_ENDPOINT=http://127.0.0.1:"));
        assert!(serve.endpoint.ends_with("/msi/token"));
        assert!(lines[1].starts_with("export IDENTITY_HEADER="));
        assert_eq!(serve.header.len(), 43, "256 bits, base64url");
        assert_eq!(serve.token(GRAPH).status, 200);
        let stopped = serve.stop(signal);
        assert_eq!(stopped.code, Some(0), "{signal:?}: {}", stopped.stderr);
        assert!(
            stopped.stderr.contains("graphd: serve stopped"),
            "{}",
            stopped.stderr
        );
        assert!(!stopped.stderr.contains("error"), "{}", stopped.stderr);
    }
    // Two runs, two headers.
    let (a, b) = (Serve::start(&emu, &[]), Serve::start(&emu, &[]));
    assert_ne!(a.header, b.header);
}

#[test]
fn without_print_env_the_lines_are_plain_assignments() {
    let emu = start(1);
    let mut cmd = spawnable(&graphd_at(&emu));
    cmd.args(["serve", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"], "{out}");
}

#[test]
fn a_request_in_progress_is_answered_before_it_stops() {
    let emu = start(1);
    emu.set_faults(vec![
        FaultRule::token(FaultAction::Delay(std::time::Duration::from_secs(1))).skip(1),
    ]);
    let serve = Serve::start(
        &emu,
        &["--allow-resource", "00000003-0000-0000-c000-000000000000"],
    );
    let mut conn = serve.connect();
    let (port, header) = (serve.port, serve.header.clone());
    let pending = std::thread::spawn(move || {
        conn.send(&format!(
            "GET /msi/token?{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-IDENTITY-HEADER: {header}",
            token_query("00000003-0000-0000-c000-000000000000")
        ))
    });
    // Wait for the token request to reach the (slow) token service, then stop.
    let start = Instant::now();
    while emu.counters().token.requests < 2 {
        assert!(
            start.elapsed() < DEADLINE,
            "the refresh never reached the emulator"
        );
        std::thread::yield_now();
    }
    let stopped = serve.stop(Signal::TERM);
    assert_eq!(pending.join().unwrap().status, 200, "{}", stopped.stderr);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn only_loopback_is_served() {
    let emu = start(1);
    for addr in ["0.0.0.0", "192.168.1.10", "::1"] {
        let out = run(graphd_at(&emu).args(["serve", "--bind", addr]));
        let line = out.refused(2, None, "invalid --bind");
        assert!(line.contains("127.0.0.1 only"), "{line}");
    }
}

#[test]
fn a_port_in_use_is_a_configuration_error() {
    let emu = start(1);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(graphd_at(&emu).args(["serve", "--print-env", "--port", &port]));
    out.refused(3, None, "cannot listen on 127.0.0.1:");
    assert_eq!(out.stdout, "", "nothing announced");
    assert_eq!(
        emu.counters().token.requests,
        0,
        "nothing asked before listening"
    );
}

#[test]
fn an_identity_the_token_service_refuses_never_starts_serving() {
    // The tenant knows another app only: AADSTS700016 for graphd's.
    let emu = start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb".into(),
            certificates: vec![shared_cert()],
            roles: vec!["User.Read.All".into()],
        }],
        ..EmulatorConfig::default()
    });
    let out = run(graphd_at(&emu).args(["serve", "--print-env"]));
    out.refused(4, None, "AADSTS700016");
    assert_eq!(out.stdout, "", "no endpoint announced");
}

#[test]
fn a_stop_while_the_first_token_is_awaited_is_immediate() {
    let emu = start(1);
    emu.set_faults(vec![FaultRule::token(FaultAction::Hang)]);
    let mut cmd = spawnable(&graphd_at(&emu));
    cmd.args(["serve", "--print-env"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let start = Instant::now();
    while emu.counters().token.requests < 1 {
        assert!(start.elapsed() < DEADLINE, "no token request arrived");
        std::thread::yield_now();
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, Signal::TERM).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing announced");
}
