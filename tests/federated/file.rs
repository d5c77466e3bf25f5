//! The Kubernetes form: `AZURE_FEDERATED_TOKEN_FILE` / `--federated-token-file`, read again
//! for every token request (docs/protocol.md#kubernetes-token-file).

use graphd::emulator::{
    DEFAULT_AUDIENCE, EmulatorConfig, FaultAction, FaultRule, IssuerRef, TokenFileConfig,
};

use super::*;
use crate::support::outcome::run;

const K8S_SUBJECT: &str = "system:serviceaccount:jobs:graphd";

#[test]
fn the_emulators_kubernetes_file_gets_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("azure-identity-token");
    let emu = start_federated(EmulatorConfig {
        federated: vec![credential(IssuerRef::Builtin, K8S_SUBJECT)],
        token_file: Some(TokenFileConfig {
            subject: K8S_SUBJECT.into(),
            ..TokenFileConfig::new(path.clone())
        }),
        ..EmulatorConfig::default()
    });
    assert_eq!(emu.token_file(), Some(path.as_path()));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .args(["list-users", "--max", "3", "-o", "ndjson"]));
    out.ok();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    let uses = emu.federated_uses();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].subject, K8S_SUBJECT);
    assert_eq!(uses[0].issuer, emu.oidc_issuer());
    // The projected token's aud is an array, as the kubelet writes it.
    let token = std::fs::read_to_string(&path).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["aud"], serde_json::json!([DEFAULT_AUDIENCE]));
    assert_eq!(payload["kubernetes.io"]["namespace"], "jobs");
}

/// The kubelet rewrites the file at 80% of the token's lifetime; a job that outlives the token
/// it read first must read the new one (Azure/login#180, azure-sdk-for-rust#1739). Here the
/// file is rewritten when the first access token is issued, and that access token expires
/// after the first page: the second token request must carry the new file's token.
#[test]
fn a_file_rewritten_mid_listing_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_federated(EmulatorConfig {
        users: 3,
        // The second Graph request finds every token issued so far expired.
        faults: vec![FaultRule::graph(FaultAction::ExpireTokens).skip(1)],
        ..EmulatorConfig::default()
    });
    let first = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 3600));
    let second = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 3600));
    let path = token_file(dir.path(), "token", &format!("{first}\n"));
    let (hook_path, rewrite) = (path.clone(), second.clone());
    emu.on_token_issued(move |n| {
        if n == 1 {
            std::fs::write(&hook_path, &rewrite).unwrap();
        }
    });
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .args(["list-users", "--top", "1", "-o", "ndjson"]));
    out.ok();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    let jti = |t: &str| {
        let p: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(t.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        p["jti"].as_str().unwrap().to_string()
    };
    let used: Vec<Option<String>> = emu.federated_uses().into_iter().map(|u| u.jti).collect();
    assert_eq!(used, [Some(jti(&first)), Some(jti(&second))]);
    assert_eq!(emu.counters().tokens_issued, 2);
    // Page 1, page 2 refused as expired, page 2 again, page 3.
    assert_eq!(emu.counters().graph.requests, 4);
}

#[test]
fn surrounding_whitespace_is_trimmed_and_the_flag_works_too() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start();
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let path = token_file(dir.path(), "padded", &format!("\u{feff}\n  {token} \r\n\n"));
    let out = run(graphd_app(&emu)
        .arg("token")
        .arg("--federated-token-file")
        .arg(&path));
    out.ok();
    assert!(out.stdout.starts_with("eyJ"), "{}", out.stdout);
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token));
    assert_eq!(emu.federated_uses().len(), 1);
}

#[test]
fn an_expired_file_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start();
    let mut c = claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 0);
    c["iat"] = (now() - 7200).into();
    c["exp"] = (now() - 3600).into();
    let token = test_issuer().token(&c);
    let path = token_file(dir.path(), "stale", &token);
    let written = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(written)
        .unwrap();
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .arg("token"));
    let line = out.refused(
        3,
        None,
        "was written 2 h ago and its token expired 60 min ago: is the file being refreshed?",
    );
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert!(line.contains("AZURE_FEDERATED_TOKEN_FILE"), "{line}");
    assert!(hint(&out.stderr).contains("kubelet"), "{}", out.stderr);
    assert_eq!(emu.counters().token.requests, 0, "nothing was sent");
    assert!(!out.stderr.contains(&token));
}

#[test]
fn files_that_hold_no_token_are_refused_precisely() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start();
    let secretish = "not-a-jwt-but-maybe-a-secret-Zq81";
    let cases = [
        ("garbage", secretish.to_string(), "no '.'"),
        (
            "json",
            r#"{"value":"x.y.z"}"#.to_string(),
            "JSON, not a JWT",
        ),
        ("blank", " \n".to_string(), "holds no token"),
        ("two-parts", "abc.def".to_string(), "three base64url parts"),
    ];
    for (name, text, says) in cases {
        let path = token_file(dir.path(), name, &text);
        let out = run(graphd_app(&emu)
            .env("AZURE_FEDERATED_TOKEN_FILE", &path)
            .arg("token"));
        out.refused(3, None, says);
        assert!(!out.stderr.contains(secretish), "{name}: {}", out.stderr);
    }
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", dir.path().join("missing"))
        .arg("token"));
    out.refused(3, None, "no such file");
    assert!(hint(&out.stderr).contains("/var/run/secrets/azure/tokens/azure-identity-token"));
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", dir.path())
        .arg("token"));
    out.refused(3, None, "is a directory");
    assert_eq!(emu.counters().token.requests, 0);
}

#[test]
fn the_token_cache_key_names_the_issuer_and_subject_never_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let emu = start();
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let path = token_file(dir.path(), "token", &token);
    for _ in 0..2 {
        run(graphd_app(&emu)
            .env("AZURE_FEDERATED_TOKEN_FILE", &path)
            .arg("token")
            .arg("--token-cache")
            .arg(&cache))
        .ok();
    }
    assert_eq!(
        emu.counters().token.requests,
        1,
        "the second run used the cache"
    );
    let entries: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let stored = std::fs::read_to_string(entries[0].as_ref().unwrap().path()).unwrap();
    assert!(
        stored.contains(&format!("iss={ISSUER} sub={SUBJECT}")),
        "{stored}"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !stored.contains(signature),
        "the external token is in the cache file"
    );
}
