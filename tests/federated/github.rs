//! `--github-oidc`: a fresh GitHub Actions ID token for every token request, asked for with
//! the job's request token (docs/protocol.md#github-actions-oidc).

use graphd::emulator::{
    EmulatorConfig, FaultAction, FaultRule, FederatedCredential, IssuerRef, Side,
};

use super::*;
use crate::support::outcome::run;

/// The paths of the ID token requests the emulator received.
fn id_token_requests(emu: &Emulator) -> Vec<String> {
    emu.requests()
        .into_iter()
        .filter(|r| r.side == Side::Token && r.path.starts_with("/oidc/idtoken"))
        .map(|r| r.path)
        .collect()
}

#[test]
fn one_id_token_request_per_token_request() {
    let emu = start_federated(EmulatorConfig {
        users: 3,
        faults: vec![FaultRule::graph(FaultAction::ExpireTokens).skip(1)],
        ..EmulatorConfig::default()
    });
    let out = run(graphd_github(&emu).args([
        "list-users",
        "--github-oidc",
        "--top",
        "1",
        "-o",
        "ndjson",
    ]));
    out.ok();
    assert_eq!(out.stdout.lines().count(), 3);
    // Two token requests (the first access token expired mid-listing), two ID tokens.
    assert_eq!(
        emu.counters().token.requests - emu.oidc_counters().requests,
        2
    );
    assert_eq!(emu.oidc_counters().requests, 2);
    assert_eq!(emu.oidc_counters().issued, 2);
    assert_eq!(emu.federated_uses().len(), 2);
    let paths = id_token_requests(&emu);
    for p in &paths {
        assert_eq!(
            p, "/oidc/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange",
            "the runner's query is kept and the audience appended"
        );
    }
    let records = emu.requests();
    assert!(
        records
            .iter()
            .filter(|r| r.path.starts_with("/oidc/"))
            .all(|r| r.authorization)
    );
}

#[test]
fn graphd_token_works_offline_against_the_emulator() {
    let emu = start();
    let out = run(graphd_github(&emu).args(["token", "--github-oidc", "--json"]));
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(emu.oidc_counters().issued, 1);
    let used = &emu.federated_uses()[0];
    assert_eq!(
        (used.issuer.as_str(), used.subject.as_str()),
        (emu.oidc_issuer().as_str(), SUBJECT)
    );
    assert!(!out.stdout.contains(&emu.github_request_token()));
}

#[test]
fn outside_a_job_the_hint_names_the_permission() {
    let emu = start();
    let out = run(graphd_app(&emu).args(["token", "--github-oidc"]));
    let line = out.refused(
        3,
        None,
        "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN not set",
    );
    assert!(line.contains("--github-oidc"), "{line}");
    assert!(
        hint(&out.stderr).contains("permissions: id-token: write"),
        "{}",
        out.stderr
    );
    let out = run(graphd_app(&emu)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", emu.github_request_url())
        .args(["token", "--github-oidc"]));
    out.refused(3, None, "ACTIONS_ID_TOKEN_REQUEST_TOKEN not set");
    let out = run(graphd_app(&emu)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://example.com/idtoken?api-version=2.0",
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-Xy77")
        .args(["token", "--github-oidc"]));
    out.refused(3, None, "is not an https URL");
    assert!(!out.stderr.contains("request-token-Xy77"));
    assert_eq!(emu.counters().token.requests, 0);
}

#[test]
fn a_refused_request_token_is_exit_3_and_never_shown() {
    let emu = start();
    let wrong = "wrong-request-token-Q2w9";
    for verbose in [false, true] {
        let mut cmd = graphd_app(&emu);
        if verbose {
            cmd.arg("-v");
        }
        let out = run(cmd
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", emu.github_request_url())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", wrong)
            .args(["token", "--github-oidc"]));
        if verbose {
            assert_eq!(out.code, Some(3));
            assert!(
                out.stderr.contains("/oidc/idtoken?... -> 401"),
                "{}",
                out.stderr
            );
        } else {
            out.refused(3, None, "refused (HTTP 401)");
        }
        assert!(
            hint(&out.stderr).contains("id-token: write"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains(wrong), "{}", out.stderr);
    }
    assert_eq!(emu.oidc_counters().issued, 0);
}

#[test]
fn transient_failures_of_github_are_retried() {
    let emu = start();
    emu.oidc_fail_next(&[503, 500]);
    let out = run(graphd_github(&emu).args(["token", "--github-oidc", "-v"]));
    out.ok();
    assert_eq!(emu.oidc_counters().requests, 3);
    assert_eq!(emu.oidc_counters().issued, 1);
    assert!(
        out.stderr.contains("/oidc/idtoken?... -> 503"),
        "{}",
        out.stderr
    );
    emu.oidc_fail_next(&[503; 3]);
    let out = run(graphd_github(&emu).args(["token", "--github-oidc", "--max-retries", "2"]));
    out.refused(6, None, "HTTP 503");
}

#[test]
fn the_audience_follows_the_cloud_or_the_flag() {
    let usgov = "api://AzureADTokenExchangeUSGov";
    let emu = start_federated(EmulatorConfig {
        federated: vec![
            FederatedCredential::new(CLIENT_ID, IssuerRef::Builtin, SUBJECT, usgov),
            FederatedCredential::new(CLIENT_ID, IssuerRef::Builtin, "other", "api://custom"),
        ],
        ..EmulatorConfig::default()
    });
    // --cloud usgov picks the documented US Government audience; the emulator's endpoints
    // still come from the environment (they beat --cloud).
    run(graphd_github(&emu).args([
        "token",
        "--github-oidc",
        "--cloud",
        "usgov",
        "--scope",
        "https://graph.microsoft.com/.default",
    ]))
    .ok();
    assert!(
        id_token_requests(&emu)[0].ends_with("&audience=api%3A%2F%2FAzureADTokenExchangeUSGov"),
        "{:?}",
        id_token_requests(&emu)
    );
    let out = run(graphd_github(&emu).args([
        "token",
        "--github-oidc",
        "--federated-audience",
        "api://custom",
    ]));
    // Asked for api://custom, the token's subject is SUBJECT: 700212 from the emulator.
    out.refused(4, None, "AADSTS700212");
    assert!(
        hint(&out.stderr).contains("graphd asked GitHub for audience 'api://custom'"),
        "{}",
        out.stderr
    );
}
