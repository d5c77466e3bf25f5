//! Findings 4 and 5: a token service's answer is trusted only within bounds. An absurd
//! `expires_in` and an access token with characters outside the bearer-token alphabet are
//! "the token service answered an unusable token" (exit 4): nothing is printed, nothing is
//! cached, and the token never reaches a header.

use crate::support::scripted::{ScriptedServer, token_reply};
use crate::token::{graphd_via, run};

fn answer(access_token: &str, expires_in: &str) -> Vec<u8> {
    token_reply(&format!(
        r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{access_token}"}}"#
    ))
}

/// Runs `graphd token --token-cache DIR` against a server that answers `reply`; the run must
/// be refused as an unusable token, with nothing on stdout and nothing cached.
#[track_caller]
fn refused_and_not_cached(reply: Vec<u8>) {
    let server = ScriptedServer::start(vec![reply]);
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("cache");
    let out = run(graphd_via(&server.origin()).args([
        "token",
        "--max-retries",
        "0",
        "--token-cache",
        cache_dir.to_str().unwrap(),
    ]))
    .expect_code(4);
    let (error, hint) = out.error_and_hint();
    assert!(error.contains("unusable token"), "{error}");
    assert!(!hint.is_empty());
    let cached: Vec<_> = std::fs::read_dir(&cache_dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(cached.is_empty(), "cached: {cached:?}");
}

#[test]
fn finding_4_an_endless_expires_in_is_refused() {
    refused_and_not_cached(answer("eyJ0eXAiOiJKV1QifQ.e30.c2ln", "9223372036854775807"));
    refused_and_not_cached(answer(
        "eyJ0eXAiOiJKV1QifQ.e30.c2ln",
        "\"9223372036854775807\"",
    ));
}

#[test]
fn finding_4_a_long_lifetime_is_cut_to_a_day() {
    let server = ScriptedServer::start(vec![answer("eyJ0eXAiOiJKV1QifQ.e30.c2ln", "100800")]);
    let out = run(graphd_via(&server.origin()).args(["token", "--json"])).expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["expires_in"], 86_400, "{json}");
}

#[test]
fn finding_5_a_token_with_control_characters_is_refused() {
    for bad in [
        r"eyJ0.e30\r\nX-Injected: 1",
        r"eyJ0.e30\u0000sig",
        r"\u001b]0;owned\u0007\u001b[2J",
        "eyJ0 e30 sig",
    ] {
        refused_and_not_cached(answer(bad, "3599"));
    }
}
