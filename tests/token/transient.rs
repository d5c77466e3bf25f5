//! Transient failures: retried and then successful, or retried until `--max-retries` runs out
//! (exit 6); `Retry-After` in each form is waited out, which the emulator's early-request
//! counter proves without the test timing anything.

use graphd::emulator::{EmulatorConfig, FaultAction, FaultRule, RetryAfter};

use super::{graphd_via, run, token};
use crate::support::emulator::start_with;
use crate::support::scripted::{NobodyListening, ScriptedServer, good_token};

fn with_faults(faults: Vec<FaultRule>) -> crate::support::emulator::TestEmulator {
    start_with(EmulatorConfig {
        users: 0,
        faults,
        ..EmulatorConfig::default()
    })
}

fn status(status: u16, retry_after: Option<RetryAfter>) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after,
    }
}

#[test]
fn throttling_is_waited_out_in_every_retry_after_form() {
    for ra in [
        RetryAfter::Seconds(1),
        RetryAfter::Fractional(0.35),
        RetryAfter::HttpDate(1),
    ] {
        let emu = with_faults(vec![FaultRule::token(status(429, Some(ra)))]);
        let run = token(&emu, &["--max-retries", "1", "-v"]).expect_code(0);
        let c = emu.counters();
        assert_eq!(c.token.requests, 2, "{ra:?}");
        assert_eq!(c.token.faults, 1, "{ra:?}");
        assert_eq!(
            c.token.early, 0,
            "{ra:?}: retried before Retry-After elapsed"
        );
        assert!(run.stderr.contains("(Retry-After)"), "{run:#?}");
    }
}

#[test]
fn an_http_date_is_read_on_the_servers_clock() {
    // The service's clock is 200 s ahead of ours (the assertion is still valid): its
    // Retry-After date is 201 s away on our clock, yet means "in a second" on its own.
    let emu = start_with(EmulatorConfig {
        users: 0,
        clock_offset_secs: 200,
        faults: vec![FaultRule::token(status(503, Some(RetryAfter::HttpDate(1))))],
        ..EmulatorConfig::default()
    });
    token(&emu, &["--max-retries", "1"]).expect_code(0);
    let c = emu.counters();
    assert_eq!((c.token.requests, c.token.early), (2, 0));
}

#[test]
fn server_errors_are_retried_with_backoff() {
    for code in [500, 502, 503, 504] {
        let emu = with_faults(vec![FaultRule::token(status(code, None)).times(2)]);
        token(&emu, &["--max-retries", "2"]).expect_code(0);
        let c = emu.counters();
        assert_eq!((c.token.requests, c.tokens_issued), (3, 1), "HTTP {code}");
    }
    // Entra's own throttling (AADSTS90055 comes as 429) is transient too.
    let emu = with_faults(vec![FaultRule::token(FaultAction::Entra(90_055))]);
    token(&emu, &["--max-retries", "1"]).expect_code(0);
    assert_eq!(emu.counters().token.requests, 2);
}

#[test]
fn retries_run_out_with_exit_6() {
    let emu = with_faults(vec![
        FaultRule::token(status(503, Some(RetryAfter::Fractional(0.05)))).always(),
    ]);
    let run = token(&emu, &["--max-retries", "2"]).expect_code(6);
    let (error, hint) = run.error_and_hint();
    assert!(
        error.contains("503") && error.contains("after 3 attempts"),
        "{error}"
    );
    assert!(hint.contains("--max-retries"), "{hint}");
    let c = emu.counters();
    assert_eq!((c.token.requests, c.token.early), (3, 0));

    // --max-retries 0: one attempt only.
    let emu = with_faults(vec![FaultRule::token(status(429, None)).always()]);
    token(&emu, &["--max-retries", "0"]).expect_code(6);
    assert_eq!(emu.counters().token.requests, 1);
}

#[test]
fn a_retry_after_beyond_the_cap_fails_at_once_instead_of_retrying_early() {
    let emu = with_faults(vec![FaultRule::token(status(
        429,
        Some(RetryAfter::Seconds(120)),
    ))]);
    let run = token(&emu, &["--max-retries", "3"]).expect_code(6);
    let (error, _) = run.error_and_hint();
    assert!(error.contains("asked to wait 120 s"), "{error}");
    let c = emu.counters();
    assert_eq!((c.token.requests, c.token.early), (1, 0));
}

#[test]
fn a_slow_answer_past_the_timeout_is_retried() {
    let emu = with_faults(vec![FaultRule::token(FaultAction::Delay(
        std::time::Duration::from_millis(2500),
    ))]);
    token(&emu, &["--timeout", "1", "--max-retries", "1"]).expect_code(0);
    assert_eq!(emu.counters().token.requests, 2);

    let emu = with_faults(vec![FaultRule::token(FaultAction::Hang).always()]);
    let run = token(&emu, &["--timeout", "1", "--max-retries", "1"]).expect_code(6);
    let (error, hint) = run.error_and_hint();
    assert!(
        error.contains("timed out") && error.contains("after 2 attempts"),
        "{error}"
    );
    assert!(hint.contains("--timeout"), "{hint}");
    assert_eq!(emu.counters().token.requests, 2);
}

#[test]
fn broken_connections_are_retried() {
    // Closed before any answer.
    let emu = with_faults(vec![FaultRule::token(FaultAction::Drop)]);
    token(&emu, &["--max-retries", "1"]).expect_code(0);
    assert_eq!(emu.counters().token.requests, 2);

    // Closed in the middle of the body.
    let cut = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{\"token_type\":\"Bearer\",\"acc"
        .to_vec();
    let server = ScriptedServer::start([cut, good_token("whole.token.value")]);
    let run =
        run(graphd_via(&server.origin()).args(["token", "--max-retries", "1"])).expect_code(0);
    assert_eq!(run.stdout, "whole.token.value\n");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn nobody_listening_is_retried_then_exit_6() {
    let nobody = NobodyListening::new();
    let run =
        run(graphd_via(&nobody.origin()).args(["token", "--max-retries", "2"])).expect_code(6);
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("cannot connect to 127.0.0.1:"), "{error}");
    assert!(error.contains("after 3 attempts"), "{error}");
    assert!(!error.contains("os error"), "{error}");
    assert!(hint.contains("HTTPS_PROXY"), "{hint}");
}
