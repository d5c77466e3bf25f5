//! Issue 11: GitHub's request token and every external JWT (a token file's, a variable's, a
//! GitHub ID token) never reach stdout or stderr, on success and failure, quiet, with `-v` and
//! with `GRAPHD_LOG=trace`. `graphd token` prints the access token it was asked for; any
//! other JWT in the output is a leak. ID tokens minted during a run are unknown to the test,
//! so the output is also scanned for any JWT whose issuer is a federated one.

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graphd::emulator::DEFAULT_AUDIENCE;

use crate::federated::{
    ISSUER, SUBJECT, claims, graphd_app, graphd_github, start, test_issuer, token_file,
};
use crate::support::graphd;
use crate::support::outcome::{Outcome, run};

/// Every `eyJ...` run of base64url-and-dots in `text` that has three parts: the JWTs in it.
fn jwts(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(tail.len());
        let candidate = &tail[..end];
        if candidate.split('.').count() >= 3 {
            out.push(candidate);
        }
        rest = &tail[end.max(3)..];
    }
    out
}

fn issuer_of(jwt: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    v["iss"].as_str().map(str::to_string)
}

fn three_ways(name: &str, make: &dyn Fn() -> Command) -> Vec<(String, Outcome)> {
    let mut out = Vec::new();
    for (how, verbose, log) in [
        ("quiet", false, false),
        ("-v", true, false),
        ("trace", false, true),
    ] {
        let mut cmd = make();
        if log {
            cmd.env("GRAPHD_LOG", "trace");
        }
        let mut full = Command::new(cmd.get_program());
        full.env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                full.env(k, v);
            }
        }
        if verbose {
            full.arg("-v");
        }
        full.args(cmd.get_args());
        out.push((format!("{name} ({how})"), run(&mut full)));
    }
    out
}

#[test]
fn no_federated_token_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start();
    let t = test_issuer();
    let valid = t.token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let wrong_subject = t.token(&claims(
        ISSUER,
        "repo:o/r:pull_request",
        DEFAULT_AUDIENCE,
        600,
    ));
    let mut stale_claims = claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 0);
    stale_claims["exp"] = (crate::federated::now() - 60).into();
    let stale = t.token(&stale_claims);
    let file_tokens = [valid.clone(), wrong_subject.clone(), stale.clone()];
    let (valid_file, wrong_file, stale_file) = (
        token_file(dir.path(), "valid", &valid),
        token_file(dir.path(), "wrong", &wrong_subject),
        token_file(dir.path(), "stale", &stale),
    );
    let wrong_request_token = "wrong-request-token-Lk3j9";
    let request_token = emu.github_request_token();

    let mut runs: Vec<(String, Outcome)> = Vec::new();
    let add = |runs: &mut Vec<(String, Outcome)>, name: &str, make: &dyn Fn() -> Command| {
        runs.extend(three_ways(name, make));
    };
    add(&mut runs, "token github", &|| {
        let mut c = graphd_github(&emu);
        c.args(["token", "--github-oidc", "--json"]);
        c
    });
    add(&mut runs, "list-users github", &|| {
        let mut c = graphd_github(&emu);
        c.args(["list-users", "--github-oidc", "--max", "2"]);
        c
    });
    add(&mut runs, "assertion github", &|| {
        let mut c = graphd_github(&emu);
        c.args(["assertion", "--github-oidc"]);
        c
    });
    add(&mut runs, "assertion github claims", &|| {
        let mut c = graphd_github(&emu);
        c.args(["assertion", "--github-oidc", "--claims"]);
        c
    });
    add(&mut runs, "github wrong request token", &|| {
        let mut c = graphd_app(&emu);
        c.env("ACTIONS_ID_TOKEN_REQUEST_URL", emu.github_request_url())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", wrong_request_token)
            .args(["token", "--github-oidc"]);
        c
    });
    for (name, file) in [
        ("file valid", &valid_file),
        ("file refused", &wrong_file),
        ("file expired", &stale_file),
    ] {
        add(&mut runs, name, &|| {
            let mut c = graphd_app(&emu);
            c.env("AZURE_FEDERATED_TOKEN_FILE", file).arg("token");
            c
        });
        add(&mut runs, &format!("{name} claims"), &|| {
            let mut c = graphd_app(&emu);
            c.env("AZURE_FEDERATED_TOKEN_FILE", file)
                .args(["assertion", "--claims"]);
            c
        });
        add(&mut runs, &format!("{name} cert"), &|| {
            let mut c = graphd();
            c.env("AZURE_FEDERATED_TOKEN_FILE", file)
                .args(["cert", "--json"]);
            c
        });
    }
    add(&mut runs, "variable", &|| {
        let mut c = graphd_app(&emu);
        c.env("CI_ID_TOKEN", &valid).args([
            "list-users",
            "--federated-token-env",
            "CI_ID_TOKEN",
            "--max",
            "1",
        ]);
        c
    });
    add(&mut runs, "demo", &|| {
        let mut c = graphd();
        c.args(["demo", "--federated", "--users", "3"]);
        c
    });

    let federated_issuers = [ISSUER.to_string(), emu.oidc_issuer()];
    let mut failures = 0;
    for (name, out) in &runs {
        assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
        if out.code != Some(0) {
            failures += 1;
        }
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            for secret in [request_token.as_str(), wrong_request_token] {
                assert!(
                    !text.contains(secret),
                    "{name}: {stream} shows a request token"
                );
            }
            for token in &file_tokens {
                let signature = token.rsplit('.').next().unwrap();
                assert!(
                    !text.contains(signature),
                    "{name}: {stream} shows a token file's token"
                );
            }
            for jwt in jwts(text) {
                let iss = issuer_of(jwt).unwrap_or_default();
                assert!(
                    !federated_issuers.contains(&iss),
                    "{name}: {stream} shows a federated token from {iss}"
                );
            }
        }
    }
    assert!(failures >= 12, "the error paths ran: {failures}");
    assert!(
        emu.oidc_counters().issued >= 9,
        "GitHub ID tokens were minted and used"
    );
}

#[test]
fn the_scanner_finds_a_jwt() {
    let jwt = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 60));
    let text = format!("graphd: x {jwt}, y");
    assert_eq!(jwts(&text), [jwt.as_str()]);
    assert_eq!(issuer_of(&jwt).as_deref(), Some(ISSUER));
}
