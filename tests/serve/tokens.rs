//! The token cache behind the endpoint, seen from outside: one upstream request for many
//! cold requests, a refresh before expiry, the old token while the token service fails, and
//! the failure once nothing usable is left. The emulator's counters say what reached it.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use graphd::emulator::{EmulatorConfig, FaultAction, FaultRule};

use super::*;
use crate::support::emulator::{start, start_with};

const GRAPH: &str = "https://graph.microsoft.com";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

fn with_lifetime(secs: i64) -> crate::support::emulator::TestEmulator {
    start_with(EmulatorConfig {
        users: 1,
        token_lifetime_secs: secs,
        ..EmulatorConfig::default()
    })
}

/// A claim of an access token the emulator issued (its own clock, unix seconds).
fn claim(token: &str, name: &str) -> i64 {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()[name]
        .as_i64()
        .unwrap()
}

fn expires_on(a: &Answer) -> i64 {
    a.json()["expires_on"].as_str().unwrap().parse().unwrap()
}

#[test]
fn a_hundred_cold_requests_make_one_token_request() {
    let emu = start(1);
    // The token service takes a second to answer the second token request (the first is
    // graph serve's own, before it announces itself): every request arrives meanwhile.
    emu.set_faults(vec![
        FaultRule::token(FaultAction::Delay(Duration::from_secs(1))).skip(1),
    ]);
    let serve = Serve::start(&emu, &["--allow-resource", GRAPH_APP_ID]);
    assert_eq!(emu.counters().token.requests, 1);
    let start_line = Arc::new(Barrier::new(100));
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let (serve, start_line) = (&serve, Arc::clone(&start_line));
                s.spawn(move || {
                    let mut conn = serve.connect();
                    start_line.wait();
                    conn.token(serve, GRAPH_APP_ID).access_token()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    let counters = emu.counters();
    assert_eq!(
        (
            counters.token.requests,
            counters.tokens_issued,
            counters.token.faults
        ),
        (2, 2, 1),
        "one token request for the hundred"
    );
}

#[test]
fn a_token_is_refreshed_before_it_expires() {
    // Ten-second tokens: refreshed after five (half the lifetime, as it is short), which
    // leaves five seconds of slack on a loaded machine.
    let emu = with_lifetime(10);
    let serve = Serve::start(&emu, &[]);
    let first = serve.token(GRAPH);
    let first_token = first.access_token();
    let seen = poll_until(&serve, GRAPH, |a| {
        a.status != 200 || a.access_token() != first_token
    });
    let last = seen.last().unwrap();
    let second_token = last.access_token();
    assert!(expires_on(last) > expires_on(&first));
    assert!(
        seen.iter().all(|a| a.status == 200),
        "never a failure: {:?}",
        seen.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert_ne!(first_token, second_token);
    // The new token was issued while the first was still valid, by the token service's clock.
    assert!(
        claim(&second_token, "iat") < claim(&first_token, "exp"),
        "refreshed ahead of expiry"
    );
    // Every poll before the refresh was answered from the cache.
    assert_eq!(emu.counters().tokens_issued, 2);
}

#[test]
fn the_cached_token_is_served_while_the_token_service_fails() {
    // Refreshed after six seconds, usable until ten (two are kept in hand).
    let emu = with_lifetime(12);
    let serve = Serve::start(&emu, &["--max-retries", "0"]);
    let token = serve.token(GRAPH).access_token();
    emu.set_faults(vec![
        FaultRule::token(FaultAction::Status {
            status: 503,
            retry_after: None,
        })
        .always(),
    ]);
    // Poll until the refresh has been tried and refused.
    let seen = poll_until(&serve, GRAPH, |_| emu.counters().token.faults >= 1);
    for a in &seen {
        assert_eq!(a.access_token(), token, "the old token, while it is valid");
    }
    assert_eq!(emu.counters().tokens_issued, 1);
    assert!(
        serve
            .stderr()
            .contains("graphd: warning: serve: no token for https://graph.microsoft.com"),
        "{}",
        serve.stderr()
    );
}

#[test]
fn once_the_token_expires_the_failure_is_answered_with_its_aadsts_code() {
    let emu = with_lifetime(6);
    let serve = Serve::start(&emu, &["--max-retries", "0"]);
    let token = serve.token(GRAPH).access_token();
    emu.set_faults(vec![FaultRule::token(FaultAction::Entra(700027)).always()]);
    let seen = poll_until(&serve, GRAPH, |a| a.status != 200);
    let (last, before) = seen.split_last().unwrap();
    for a in before {
        assert_eq!(a.access_token(), token);
    }
    let message = last.refusal(500);
    assert!(
        message.contains("AADSTS700027") && message.contains(GRAPH),
        "{message}"
    );
    assert_eq!(emu.counters().tokens_issued, 1);
}
