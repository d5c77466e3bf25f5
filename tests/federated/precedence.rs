//! One proof per run: two explicit ones are a usage error; a flag beats the environment;
//! a certificate and a token file both from the environment: the certificate wins (the Azure
//! SDKs' EnvironmentCredential comes before WorkloadIdentityCredential), and `-v` says so.

use graphd::emulator::{AppRegistration, DEFAULT_AUDIENCE, EmulatorConfig};

use super::*;
use crate::support::Pair;
use crate::support::emulator::shared_cert;
use crate::support::outcome::run;

/// The app with both a certificate and federated credentials.
fn start_both() -> crate::support::emulator::TestEmulator {
    start_federated(EmulatorConfig {
        apps: vec![AppRegistration {
            certificates: vec![shared_cert()],
            ..app()
        }],
        ..EmulatorConfig::default()
    })
}

fn valid_file(dir: &Path) -> PathBuf {
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    token_file(dir, "token", &token)
}

#[test]
fn certificate_and_token_file_both_from_the_environment_the_certificate_wins() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_both();
    let out = run(graphd_app(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined)
        .env("AZURE_FEDERATED_TOKEN_FILE", valid_file(dir.path()))
        .args(["-v", "token"]));
    out.ok();
    assert!(
        out.stderr.contains("AZURE_CLIENT_CERTIFICATE_PATH and AZURE_FEDERATED_TOKEN_FILE are both set: the certificate is used"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("graphd: identity: certificate"),
        "{}",
        out.stderr
    );
    assert!(emu.federated_uses().is_empty());
}

#[test]
fn a_flag_beats_the_environment_either_way() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_both();
    let file = valid_file(dir.path());
    // A federated flag over a certificate from the environment.
    let out = run(graphd_app(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined)
        .arg("-v")
        .arg("token")
        .arg("--federated-token-file")
        .arg(&file));
    out.ok();
    assert!(
        out.stderr.contains(
            "--federated-token-file (a flag) is used; AZURE_CLIENT_CERTIFICATE_PATH is ignored"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(emu.federated_uses().len(), 1);
    let out = run(graphd_github(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined)
        .args(["token", "--github-oidc"]));
    out.ok();
    assert_eq!(emu.federated_uses().len(), 2);
    // A certificate flag over a token file from the environment.
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &file)
        .arg("-v")
        .arg("token")
        .arg("--cert")
        .arg(&Pair::shared().combined));
    out.ok();
    assert!(out.stderr.contains("the certificate given on the command line is used; AZURE_FEDERATED_TOKEN_FILE is ignored"), "{}", out.stderr);
    assert_eq!(emu.federated_uses().len(), 2);
}

#[test]
fn two_explicit_proofs_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_both();
    let file = valid_file(dir.path());
    let cert = Pair::shared().combined.display().to_string();
    let file = file.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--cert", &cert, "--github-oidc"],
            "--cert and --github-oidc both say how the app proves its identity",
        ),
        (
            vec!["--cert", &cert, "--federated-token-file", &file],
            "--cert and --federated-token-file",
        ),
        (
            vec!["--cert", &cert, "--federated-token-env", "T"],
            "--cert and --federated-token-env",
        ),
        (
            vec!["--github-oidc", "--federated-token-file", &file],
            "cannot be used with",
        ),
        (
            vec!["--federated-token-env", "T", "--github-oidc"],
            "cannot be used with",
        ),
        (vec!["--key", &cert, "--github-oidc"], "cannot be used with"),
        (
            vec!["--github-oidc", "--password-file", &file],
            "cannot be used with",
        ),
        (vec!["--github-oidc", "--alg", "RS256"], "invalid --alg"),
        (
            vec!["--cert", &cert, "--federated-audience", "api://x"],
            "--federated-audience goes with a federated credential",
        ),
    ];
    for (args, says) in cases {
        let out = run(graphd_github(&emu).arg("token").args(&args));
        out.refused(2, None, says);
    }
    assert_eq!(emu.counters().token.requests, 0);
}

#[test]
fn without_any_credential_the_hint_offers_the_secretless_ways() {
    let emu = start();
    let out = run(graphd_app(&emu).arg("token"));
    out.refused(2, None, "no certificate given");
    assert!(
        hint(&out.stderr).contains("--github-oidc"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_token_file_from_the_environment_beats_the_config_files_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_both();
    let config = dir.path().join("parameters.json");
    std::fs::write(
        &config,
        serde_json::json!({"cert": Pair::shared().combined}).to_string(),
    )
    .unwrap();
    let out = run(graphd_app(&emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", valid_file(dir.path()))
        .arg("-v")
        .arg("token")
        .arg("--config")
        .arg(&config));
    out.ok();
    assert!(
        out.stderr.contains(
            "AZURE_FEDERATED_TOKEN_FILE is used; the --config file's certificate is ignored"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(emu.federated_uses().len(), 1);
}

/// Where a value came from is what clap saw, not a comparison of values: `--cert X` is a
/// flag even when `AZURE_CLIENT_CERTIFICATE_PATH` holds X too, so it still conflicts with a
/// federated flag (the same run without the flag uses the federated token).
#[test]
fn a_cert_flag_is_a_flag_whatever_the_variable_holds() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_both();
    let file = valid_file(dir.path()).display().to_string();
    let cert = Pair::shared().combined.display().to_string();
    // The same path as the flag, and another (never read: the refusal comes first).
    let other = dir.path().join("other.pem");
    for variable in [&Pair::shared().combined, &other] {
        let federated: [(&[&str], &str); 3] = [
            (&["--github-oidc"], "--github-oidc"),
            (&["--federated-token-file", &file], "--federated-token-file"),
            (&["--federated-token-env", "T"], "--federated-token-env"),
        ];
        for (flags, name) in federated {
            let out = run(graphd_github(&emu)
                .env("AZURE_CLIENT_CERTIFICATE_PATH", variable)
                .arg("token")
                .args(["--cert", &cert])
                .args(flags));
            let error = out.refused(
                2,
                None,
                &format!("--cert and {name} both say how the app proves its identity; give one"),
            );
            assert!(!error.contains("AZURE_CLIENT_CERTIFICATE_PATH"), "{error}");
        }
        // The audience check names the flag, not the variable, as where the certificate came from.
        let out = run(graphd_app(&emu)
            .env("AZURE_CLIENT_CERTIFICATE_PATH", variable)
            .args(["token", "--cert", &cert, "--federated-audience", "api://x"]));
        out.refused(
            2,
            None,
            "--federated-audience goes with a federated credential, but this run uses the certificate from --cert",
        );
    }
    assert_eq!(emu.counters().token.requests, 0, "nothing was sent");
}

#[test]
fn a_federated_flag_beats_the_certificate_variable_and_v_says_so() {
    let emu = start_both();
    let out = run(graphd_github(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined)
        .args(["-v", "token", "--github-oidc"]));
    out.ok();
    assert!(
        out.stderr.contains(
            "proof: --github-oidc (a flag) is used; AZURE_CLIENT_CERTIFICATE_PATH is ignored"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        emu.federated_uses().len(),
        1,
        "the federated token was used"
    );
    assert_eq!(emu.oidc_counters().issued, 1, "GitHub's endpoint was asked");
    // An empty variable is no certificate at all: nothing to ignore, nothing to conflict with.
    let out = run(graphd_github(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", "")
        .args(["-v", "token", "--github-oidc"]));
    out.ok();
    assert!(
        !out.stderr.contains("AZURE_CLIENT_CERTIFICATE_PATH"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.federated_uses().len(), 2);
    let out = run(graphd_app(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", "")
        .arg("token"));
    out.refused(2, None, "no certificate given");
}

/// Both only from the environment: the certificate, and `-v` says why. The same token file
/// given as a flag is a flag, and wins.
#[test]
fn both_variables_the_certificate_wins_a_flag_of_the_same_file_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_both();
    let file = valid_file(dir.path());
    let both = || {
        let mut cmd = graphd_app(&emu);
        cmd.env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined)
            .env("AZURE_FEDERATED_TOKEN_FILE", &file);
        cmd
    };
    let out = run(both().args(["-v", "list-users", "--max", "1"]));
    out.ok();
    assert!(
        out.stderr.contains(
            "proof: AZURE_CLIENT_CERTIFICATE_PATH and AZURE_FEDERATED_TOKEN_FILE are both set: \
             the certificate is used"
        ),
        "{}",
        out.stderr
    );
    assert!(emu.federated_uses().is_empty());
    assert_eq!(emu.counters().token.requests, 1);
    let out = run(both()
        .args(["-v", "token", "--federated-token-file"])
        .arg(&file));
    out.ok();
    assert!(
        out.stderr.contains(
            "proof: --federated-token-file (a flag) is used; AZURE_CLIENT_CERTIFICATE_PATH is ignored"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(emu.federated_uses().len(), 1);
}
