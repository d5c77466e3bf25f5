//! Each refusal of a federated token: the emulator answers with Entra's code, status and
//! error shape (docs/protocol.md#federation-errors), and graphd's hint shows the token's real
//! `iss`/`sub`/`aud` and the credential that would match.

use graphd::emulator::{
    AppRegistration, DEFAULT_AUDIENCE, EmulatorConfig, FederatedCredential, IssuerRef,
};
use graphd::jws::Alg;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::json;

use super::*;
use crate::emulator::{assert_refused, post_assertion};
use crate::support::outcome::run;

const OTHER_APP: &str = "bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee";
const UNREACHABLE: &str = "https://unreachable.example";

/// One refusal: the token, what the emulator answers, what graphd's message and hint say.
struct Case {
    name: &'static str,
    token: String,
    code: u64,
    status: u16,
    error: &'static str,
    hint_says: Vec<String>,
}

fn case(name: &'static str, token: String, code: u64, hint_says: &[&str]) -> Case {
    let (status, error) = match code {
        70_021 | 50_166 | 5_002_738 => (400, "invalid_request"),
        _ => (401, "invalid_client"),
    };
    Case {
        name,
        token,
        code,
        status,
        error,
        hint_says: hint_says.iter().map(|s| s.to_string()).collect(),
    }
}

fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600);
    edit(&mut c);
    c
}

async fn check(emu: &Emulator, c: &Case) {
    let answer = post_assertion(emu, &c.token).await;
    assert_refused(&answer, c.status, c.code, c.error, c.name);
    let dir = tempfile::tempdir().unwrap();
    let path = token_file(dir.path(), "token", &c.token);
    let out = run(graphd_app(emu)
        .env("AZURE_FEDERATED_TOKEN_FILE", &path)
        .arg("token"));
    out.refused(4, None, &format!("AADSTS{}", c.code));
    let h = hint(&out.stderr);
    for says in &c.hint_says {
        assert!(
            h.contains(says.as_str()),
            "{}: hint lacks {says:?}:\n{h}",
            c.name
        );
    }
    let signature = c.token.rsplit('.').next().unwrap();
    assert!(
        !out.stderr.contains(signature),
        "{}: the token leaked",
        c.name
    );
}

#[tokio::test]
async fn each_refusal_has_entras_shape_and_a_hint_with_the_tokens_claims() {
    let emu = start_federated(EmulatorConfig {
        federated: vec![
            credential(IssuerRef::Url(ISSUER.into()), SUBJECT),
            credential(IssuerRef::Url(UNREACHABLE.into()), SUBJECT),
        ],
        ..EmulatorConfig::default()
    });
    let t = test_issuer();
    let create = format!("az ad app federated-credential create --id {CLIENT_ID} --parameters '");
    let other_key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let kid_header = json!({"alg": "RS256", "typ": "JWT", "kid": t.kid});
    let cases = [
        case(
            "issuer with a trailing slash",
            t.token(&with(|c| c["iss"] = json!(format!("{ISSUER}/")))),
            700_211,
            &[
                &format!("iss '{ISSUER}/'"),
                "ends with '/'",
                &create,
                &format!(r#""issuer":"{ISSUER}/""#),
            ],
        ),
        case(
            "another subject",
            t.token(&with(|c| {
                c["sub"] = json!("repo:Octo-Org/app:ref:refs/heads/main")
            })),
            700_213,
            &[
                "sub 'repo:Octo-Org/app:ref:refs/heads/main'",
                &format!("iss '{ISSUER}'"),
                r#""subject":"repo:Octo-Org/app:ref:refs/heads/main""#,
            ],
        ),
        case(
            "the subject in another case",
            t.token(&with(|c| c["sub"] = json!(SUBJECT.to_lowercase()))),
            7_002_138,
            &[
                &format!("sub '{}'", SUBJECT.to_lowercase()),
                "case-sensitively",
                &create,
            ],
        ),
        case(
            "another audience",
            t.token(&with(|c| c["aud"] = json!(["api://other"]))),
            700_212,
            &["aud 'api://other'", r#""audiences":["api://other"]"#],
        ),
        case(
            "a key the issuer does not publish",
            t.token_with(
                Alg::RS256,
                &json!({"alg": "RS256", "kid": "rotated-away"}),
                &with(|_| {}),
                &t.key,
            ),
            7_000_272,
            &[
                "kid 'rotated-away'",
                &format!("{ISSUER}/.well-known/openid-configuration"),
            ],
        ),
        case(
            "signed PS256",
            t.token_with(
                Alg::PS256,
                &json!({"alg": "PS256", "kid": t.kid}),
                &with(|_| {}),
                &t.key,
            ),
            5_002_738,
            &["signed with 'PS256'", "RS256"],
        ),
        case(
            "an issuer the service cannot reach",
            t.token(&with(|c| c["iss"] = json!(UNREACHABLE))),
            50_166,
            &[&format!("{UNREACHABLE}/.well-known/openid-configuration")],
        ),
        case(
            "signed by another key",
            t.token_with(Alg::RS256, &kid_header, &with(|_| {}), &other_key),
            700_027,
            &[
                "does not verify with the keys the issuer publishes",
                &format!("iss '{ISSUER}'"),
            ],
        ),
        case(
            "not yet valid",
            t.token(&with(|c| c["nbf"] = json!(now() + 3600))),
            700_024,
            &["is not valid before", "60 min from now"],
        ),
    ];
    for c in &cases {
        check(&emu, c).await;
    }
    assert!(emu.federated_uses().is_empty());
}

#[tokio::test]
async fn an_app_without_federated_credentials_is_70021() {
    let emu = start_federated(EmulatorConfig {
        apps: vec![
            app(),
            AppRegistration {
                client_id: OTHER_APP.into(),
                ..app()
            },
        ],
        federated: vec![FederatedCredential::new(
            OTHER_APP,
            IssuerRef::Url(ISSUER.into()),
            SUBJECT,
            DEFAULT_AUDIENCE,
        )],
        ..EmulatorConfig::default()
    });
    let c = case(
        "no federated credential at all",
        test_issuer().token(&with(|_| {})),
        70_021,
        &[
            "propagating",
            &format!("sub '{SUBJECT}'"),
            &format!("--id {CLIENT_ID}"),
        ],
    );
    check(&emu, &c).await;
    let body = post_assertion(&emu, &c.token).await.json();
    let d = body["error_description"].as_str().unwrap();
    assert!(
        d.contains(&format!("Assertion Subject: '{SUBJECT}'")),
        "{d}"
    );
}

#[tokio::test]
async fn a_token_expired_by_the_services_clock_names_its_age() {
    // The emulator's clock runs an hour ahead: the token is still valid here, not there.
    let emu = start_federated(EmulatorConfig {
        clock_offset_secs: 3600,
        ..EmulatorConfig::default()
    });
    let token = test_issuer().token(&claims(ISSUER, SUBJECT, DEFAULT_AUDIENCE, 600));
    let c = case(
        "expired at the service",
        token,
        700_024,
        &[
            "was issued",
            "expires at",
            "is the file being refreshed?",
            "this machine's clock is 60 min behind",
        ],
    );
    check(&emu, &c).await;
}
