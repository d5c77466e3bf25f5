//! The emulator's side: its OIDC issuer (discovery, JWKS, the GitHub-shaped endpoint), the
//! limits on federated credentials, the apps file, the token file, and `--print-env`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use graphd::emulator::{
    DEFAULT_AUDIENCE, Emulator, EmulatorConfig, FederatedCredential, IssuerRef, MAX_PER_APP,
    TokenFileConfig,
};
use graphd::jws::{self, Alg};
use openssl::bn::BigNum;
use openssl::rsa::Rsa;

use super::*;
use crate::emulator::{client, send};
use crate::support::outcome::run;
use crate::support::scratch;

#[tokio::test]
async fn the_issuer_publishes_discovery_and_keys_that_verify_its_tokens() {
    let emu = start();
    let issuer = emu.oidc_issuer();
    assert_eq!(issuer, format!("{}oidc", emu.authority_host()));
    let discovery = send(client().get(format!("{issuer}/.well-known/openid-configuration"))).await;
    assert_eq!(discovery.status, 200);
    let d = discovery.json();
    assert_eq!(d["issuer"], issuer.as_str());
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let jwks = send(client().get(d["jwks_uri"].as_str().unwrap()))
        .await
        .json();
    let key = &jwks["keys"][0];
    let n =
        BigNum::from_slice(&URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap()).unwrap();
    let e =
        BigNum::from_slice(&URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap()).unwrap();
    let public = PKey::from_rsa(Rsa::from_public_components(n, e).unwrap()).unwrap();

    let token = emu.mint_id_token(SUBJECT, DEFAULT_AUDIENCE, 300).unwrap();
    let (h, p, s) = jws::split(&token).unwrap();
    let sig = URL_SAFE_NO_PAD.decode(s).unwrap();
    assert!(jws::verify(
        Alg::RS256,
        &public,
        format!("{h}.{p}").as_bytes(),
        &sig
    ));
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
    assert_eq!(header["kid"], key["kid"]);
}

#[tokio::test]
async fn the_github_shaped_endpoint_wants_the_request_token() {
    let emu = start();
    let url = format!(
        "{}&audience=api%3A%2F%2FAzureADTokenExchange",
        emu.github_request_url()
    );
    let none = send(client().get(&url)).await;
    assert_eq!(none.status, 401);
    let wrong = send(client().get(&url).bearer_auth("not-the-token")).await;
    assert_eq!(wrong.status, 401);
    let ok = send(client().get(&url).bearer_auth(emu.github_request_token())).await;
    assert_eq!(ok.status, 200);
    let v = ok.json();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(v["value"].as_str().unwrap().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], DEFAULT_AUDIENCE);
    assert_eq!(claims["sub"], SUBJECT);
    assert_eq!(claims["iss"], emu.oidc_issuer().as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    // Without an audience, GitHub's default: the owner's URL.
    let default = send(
        client()
            .get(emu.github_request_url())
            .bearer_auth(emu.github_request_token()),
    )
    .await;
    let v = default.json();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(v["value"].as_str().unwrap().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "https://github.com/Octo-Org");
    assert_eq!(emu.oidc_counters().requests, 4);
    assert_eq!(emu.oidc_counters().issued, 2);
}

#[test]
fn graphs_limits_on_federated_credentials_hold_at_start() {
    let many: Vec<FederatedCredential> = (0..=MAX_PER_APP)
        .map(|i| credential(IssuerRef::Builtin, &format!("subject-{i}")))
        .collect();
    let start = |federated: Vec<FederatedCredential>| {
        Emulator::start(EmulatorConfig {
            apps: vec![app()],
            federated,
            ..EmulatorConfig::default()
        })
    };
    assert!(start(many[..MAX_PER_APP].to_vec()).is_ok());
    let e = start(many.clone()).unwrap_err().to_string();
    assert!(
        e.contains("at most 20 federated credentials per app"),
        "{e}"
    );
    let e = start(vec![many[0].clone(), many[0].clone()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    let e = Emulator::start(EmulatorConfig {
        federated: vec![many[0].clone()],
        ..EmulatorConfig::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("is not registered"), "{e}");
}

#[test]
fn the_token_file_is_rewritten_and_a_users_file_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let emu = start_federated(EmulatorConfig {
        token_file: Some(TokenFileConfig::new(path.clone())),
        ..EmulatorConfig::default()
    });
    let first = std::fs::read_to_string(&path).unwrap();
    emu.refresh_token_file().unwrap();
    let second = std::fs::read_to_string(&path).unwrap();
    assert_ne!(first, second);
    assert_eq!(emu.token_file_writes(), 2);
    drop(emu);
    let mine = dir.path().join("notes.txt");
    std::fs::write(&mine, "my notes, not a token\n").unwrap();
    let e = Emulator::start(EmulatorConfig {
        apps: vec![app()],
        token_file: Some(TokenFileConfig::new(mine.clone())),
        ..EmulatorConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "my notes, not a token\n"
    );
}

#[test]
fn the_apps_file_takes_federated_credentials_and_issuer_keys() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, test_issuer().keys(ISSUER).jwks.to_string()).unwrap();
    let apps = dir.path().join("apps.json");
    std::fs::write(
        &apps,
        serde_json::json!({
            "apps": [{
                "client_id": CLIENT_ID,
                "roles": ["User.Read.All"],
                "federated": [{"name": "ci-main", "issuer": ISSUER, "subject": SUBJECT,
                               "audiences": [DEFAULT_AUDIENCE], "description": "CI"}],
            }],
            "issuers": [{"issuer": ISSUER, "jwks": "jwks.json"}],
        })
        .to_string(),
    )
    .unwrap();
    let args = emulator_args(&["--apps-file", apps.to_str().unwrap()]);
    let config = graphd::emulator::cli::config(&args).unwrap();
    assert_eq!(config.federated.len(), 1);
    assert_eq!(config.federated[0].name, "ci-main");
    let emu = crate::support::emulator::start_with(config);
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let path = token_file(dir.path(), "token", &token);
    run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .arg("token"))
    .ok();
    assert_eq!(emu.federated_uses()[0].credential, "ci-main");
    // Two audiences: Graph refuses such a credential.
    std::fs::write(
        &apps,
        serde_json::json!([{"client_id": CLIENT_ID, "federated": [{"issuer": ISSUER,
            "subject": SUBJECT, "audiences": ["a", "b"]}]}])
        .to_string(),
    )
    .unwrap();
    let args = emulator_args(&["--apps-file", apps.to_str().unwrap()]);
    let e = graphd::emulator::cli::config(&args)
        .unwrap_err()
        .to_string();
    assert!(e.contains("exactly one audience"), "{e}");
}

/// `graphd emulator ARGS`, parsed.
fn emulator_args(args: &[&str]) -> graphd::emulator::cli::EmulatorArgs {
    use clap::Parser;
    let argv = ["graphd", "emulator"]
        .into_iter()
        .chain(args.iter().copied());
    match graphd::cli::Cli::try_parse_from(argv).unwrap().command {
        graphd::cli::Command::Emulator(a) => a,
        other => panic!("parsed as {other:?}"),
    }
}

/// Kills the child if a test fails before it is stopped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn print_env_gives_a_github_job_and_a_kubernetes_pod_offline() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("azure-identity-token");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_graphd"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", scratch().path())
        .args([
            "emulator",
            "--print-env",
            "--app",
            &format!("{CLIENT_ID}:User.Read.All"),
            "--federated",
            &format!("{CLIENT_ID}=emulator,repo:octo/app:ref:refs/heads/main"),
            "--federated",
            &format!("{CLIENT_ID}=emulator,system:serviceaccount:default:graphd"),
            "--oidc-subject",
            "repo:octo/app:ref:refs/heads/main",
            "--token-file",
        ])
        .arg(&token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = Running(cmd.spawn().unwrap());
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let mut vars = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the emulator ended early"
        );
        let (k, v) = line
            .trim_end()
            .strip_prefix("export ")
            .unwrap()
            .split_once('=')
            .unwrap();
        vars.push((k.to_string(), v.trim_matches('\'').to_string()));
        if k == "AZURE_FEDERATED_TOKEN_FILE" {
            break;
        }
    }
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    for name in [
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_CLIENT_ID",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let with_env = |cmd: &mut Command, skip: &str| {
        for (k, v) in &vars {
            if k != skip {
                cmd.env(k, v);
            }
        }
    };
    let mut github = graphd();
    with_env(&mut github, "AZURE_FEDERATED_TOKEN_FILE");
    run(github.args(["list-users", "--github-oidc", "--max", "2"])).ok();
    let mut pod = graphd();
    with_env(&mut pod, "ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    run(pod.args(["list-users", "--max", "2"])).ok();
    let pid = rustix::process::Pid::from_raw(child.0.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    assert!(child.0.wait().unwrap().success());
}
