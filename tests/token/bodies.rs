//! Answers that are not a usable token response: exit 4 with a clear message that never
//! echoes the body, no panic, nothing on stdout; and a redirect that is not followed.

use graphd::emulator::{EmulatorConfig, FaultAction, FaultRule};

use super::{Run, graphd_via, run, token};
use crate::support::emulator::{start, start_with};
use crate::support::scripted::{ScriptedServer, reply, token_reply};

#[track_caller]
fn malformed(run: Run, words: &[&str]) {
    let run = run.expect_code(4);
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("token service at 127.0.0.1:"), "{error}");
    for w in words {
        assert!(error.contains(w), "{w:?} not in {error}");
    }
    assert!(hint.contains("--authority-host"), "{hint}");
}

fn emulator_answering(action: FaultAction) -> crate::support::emulator::TestEmulator {
    start_with(EmulatorConfig {
        users: 0,
        faults: vec![FaultRule::token(action)],
        ..EmulatorConfig::default()
    })
}

#[test]
fn emulator_faults_that_are_not_token_responses() {
    let cases: [(FaultAction, &[&str]); 5] = [
        (FaultAction::Html(200), &["HTTP 200", "HTML page"]),
        (FaultAction::Html(404), &["HTTP 404", "HTML page"]),
        (FaultAction::NotJson(200), &["not a JSON token response"]),
        (FaultAction::TruncatedJson, &["not a JSON token response"]),
        (
            FaultAction::HugeBody(10 * 1024 * 1024),
            &["larger than 1 MiB"],
        ),
    ];
    for (action, words) in cases {
        let emu = emulator_answering(action.clone());
        malformed(token(&emu, &["--max-retries", "2"]), words);
        assert_eq!(
            emu.counters().token.requests,
            1,
            "{action:?}: a malformed answer is not retried"
        );
    }
}

#[test]
fn scripted_answers_that_are_not_usable_tokens() {
    let cases: [(Vec<u8>, &[&str]); 5] = [
        (
            token_reply(r#"{"token_type":"Bearer","expires_in":3599}"#),
            &["without access_token"],
        ),
        (
            token_reply(
                r#"{"token_type":"pop","expires_in":3599,"access_token":"pop.token.value"}"#,
            ),
            &["\"pop\", not Bearer"],
        ),
        (
            token_reply(r#"{"token_type":"Bearer","access_token":"no.expiry.value"}"#),
            &["expires_in"],
        ),
        (
            reply(
                400,
                &[("Content-Type", "text/plain")],
                b"bad request, no JSON",
            ),
            &["HTTP 400", "not an Entra error"],
        ),
        (
            // A huge body with no Content-Length to stop early.
            {
                let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"access_token\":\""
                    .to_vec();
                r.resize(r.len() + 3 * 1024 * 1024, b'A');
                r
            },
            &["larger than 1 MiB"],
        ),
    ];
    for (answer, words) in cases {
        let server = ScriptedServer::start([answer]);
        let run = run(graphd_via(&server.origin()).arg("token"));
        for secret in ["pop.token.value", "no.expiry.value"] {
            assert!(!run.stderr.contains(secret), "{run:#?}");
        }
        malformed(run, words);
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let elsewhere = start(0);
    let emu = emulator_answering(FaultAction::Redirect(elsewhere.token_endpoint()));
    let elsewhere_host = graphd::http::host_of(&elsewhere.authority_host());
    malformed(
        token(&emu, &[]),
        &[
            "HTTP 302",
            &format!("a redirect to {elsewhere_host}"),
            "does not follow",
        ],
    );
    assert_eq!(emu.counters().token.requests, 1);
    assert_eq!(
        elsewhere.counters().token.requests,
        0,
        "the redirect was followed"
    );
}
