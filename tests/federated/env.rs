//! `--federated-token-env NAME`: the token in an environment variable (GitLab CI `id_tokens`,
//! other CI systems), read for every token request; the name, never the token, in argv.

use graphd::emulator::DEFAULT_AUDIENCE;

use super::*;
use crate::support::outcome::run;

#[test]
fn a_token_in_a_variable_is_used() {
    let emu = start();
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let out = run(graphd_app(&emu)
        .env("GITLAB_OIDC_TOKEN", format!(" {token}\n"))
        .args(["token", "--federated-token-env", "GITLAB_OIDC_TOKEN", "-v"]));
    out.ok();
    assert!(
        out.stderr
            .contains("federated credential from the environment variable GITLAB_OIDC_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("sub {SUBJECT}")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&token));
    assert_eq!(emu.federated_uses().len(), 1);
}

#[test]
fn an_unset_variable_says_how_to_set_it() {
    let emu = start();
    let out = run(graphd_app(&emu).args(["token", "--federated-token-env", "CI_ID_TOKEN"]));
    out.refused(
        3,
        None,
        "environment variable CI_ID_TOKEN (--federated-token-env) is not set",
    );
    assert!(hint(&out.stderr).contains("id_tokens"), "{}", out.stderr);
}

#[test]
fn a_token_given_as_the_name_is_refused_and_not_repeated() {
    let emu = start();
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let out = run(graphd_app(&emu).args(["token", "--federated-token-env", &token]));
    out.refused(2, None, "looks like a token");
    assert!(!out.stderr.contains(&token[..20]), "{}", out.stderr);
    assert_eq!(emu.counters().token.requests, 0);
}
