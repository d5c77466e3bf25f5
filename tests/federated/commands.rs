//! `graphd assertion`, `graphd cert` and `graphd demo --federated` with a federated
//! credential: they print nothing secret.

use graphd::emulator::DEFAULT_AUDIENCE;

use super::*;
use crate::support::outcome::run;

#[test]
fn assertion_refuses_and_claims_shows_only_the_claims() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start();
    let out = run(graphd_github(&emu).args(["assertion", "--github-oidc"]));
    out.refused(2, None, "graphd assertion prints assertions graphd signs");
    assert!(hint(&out.stderr).contains("--claims"));
    assert_eq!(emu.oidc_counters().requests, 0, "nothing was asked for");

    let out = run(graphd_github(&emu).args(["assertion", "--github-oidc", "--claims"]));
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["claims"]["sub"], SUBJECT);
    assert_eq!(v["claims"]["aud"], DEFAULT_AUDIENCE);
    assert_eq!(v["header"]["alg"], "RS256");
    assert!(v["source"].as_str().unwrap().contains("GitHub Actions"));
    assert!(
        !out.stdout.contains("eyJ"),
        "no JWT on stdout: {}",
        out.stdout
    );

    // An expired file: shown anyway, with a warning.
    let mut c = claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 0);
    c["exp"] = (now() - 60).into();
    let token = test_issuer().token(&c);
    let path = token_file(dir.path(), "stale", &token);
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .args(["assertion", "--claims"]));
    out.ok();
    assert!(out.warnings()[0].contains("expired"), "{}", out.stderr);
    assert!(!out.stdout.contains(token.rsplit('.').next().unwrap()));
}

#[test]
fn assertion_claims_with_a_certificate_decodes_graphds_own_assertion() {
    let emu = start();
    let out = run(crate::support::emulator::graphd_at(&emu).args(["assertion", "--claims"]));
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["claims"]["iss"], CLIENT_ID);
    assert_eq!(v["header"]["alg"], "PS256");
    assert!(!out.stdout.contains("eyJ"));
}

#[test]
fn cert_reports_no_certificate_and_the_tokens_claims() {
    let dir = tempfile::tempdir().unwrap();
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let path = token_file(dir.path(), "token", &token);
    let out = run(graphd()
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .arg("cert"));
    out.ok();
    assert!(
        out.stdout.starts_with(&format!(
            "no certificate: federated credential from the token file {} (AZURE_FEDERATED_TOKEN_FILE)",
            path.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("subject:      {SUBJECT}")),
        "{}",
        out.stdout
    );
    let out = run(graphd()
        .arg("cert")
        .arg("--json")
        .arg("--federated-token-file")
        .arg(&path));
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["certificate"].is_null());
    assert_eq!(v["federated"]["iss"], ISSUER);
    assert_eq!(v["federated"]["aud"], serde_json::json!([DEFAULT_AUDIENCE]));
    let out = run(graphd().args(["cert", "--github-oidc"]));
    out.ok();
    assert!(
        out.stdout
            .starts_with("no certificate: federated credential from GitHub Actions")
    );
    assert!(!out.stdout.contains(token.rsplit('.').next().unwrap()));
    // An expired token: the report, then the refusal.
    let mut c = claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 0);
    c["exp"] = (now() - 60).into();
    let stale = token_file(dir.path(), "stale", &test_issuer().token(&c));
    let out = run(graphd()
        .env("AZURE_FEDERATED_TOKEN_FILE", &stale)
        .arg("cert"));
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stdout.contains("expires:"), "{}", out.stdout);
    assert!(
        out.stderr.contains("is the file being refreshed?"),
        "{}",
        out.stderr
    );
}

#[test]
fn demo_federated_runs_the_secretless_flow() {
    let out = run(graphd().args(["demo", "--federated", "--users", "20", "--show", "2"]));
    out.ok();
    for step in [
        "1. credential",
        "2. ID token",
        "3. token",
        "4. users",
        "permissions: {id-token: write}",
        "--github-oidc",
    ] {
        assert!(out.stdout.contains(step), "{step}: {}", out.stdout);
    }
    assert!(out.stdout.contains("no certificate and no secret"));
    assert!(
        !out.stdout.contains("eyJ"),
        "no token is printed: {}",
        out.stdout
    );
}
