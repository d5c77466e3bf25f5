//! Issue 11, secretless CI: federated credentials (a Kubernetes token file, GitHub Actions
//! OIDC, a token in a variable) against the in-process emulator, whose apps here have no
//! certificate at all. Every accepted and refused case, each refusal code with its hint, the
//! source precedence rules, and the emulator's own side (its issuer, its strict validation).
//!
//! Nothing sleeps: a token file is rewritten by an emulator hook when an access token is
//! issued, and an access token "expires" by the emulator's `expired-token` fault.

mod commands;
mod emulator_side;
mod env;
mod file;
mod github;
mod precedence;
mod refusals;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graphd::emulator::{
    AppRegistration, DEFAULT_AUDIENCE, Emulator, EmulatorConfig, FederatedCredential, IssuerKeys,
    IssuerRef,
};
use graphd::jws::{self, Alg};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::{Value, json};

use crate::support::emulator::start_with;
use crate::support::{CLIENT_ID, graphd};

/// The subject of the tests' GitHub-shaped tokens.
pub const SUBJECT: &str = "repo:Octo-Org/app:environment:Prod";
/// The issuer the tests sign for with their own key (its JWKS given to the emulator).
pub const ISSUER: &str = "https://issuer.example";

/// The app `CLIENT_ID` with no certificate, allowed to read users.
pub fn app() -> AppRegistration {
    AppRegistration {
        client_id: CLIENT_ID.to_string(),
        certificates: Vec::new(),
        roles: vec!["User.Read.All".into()],
    }
}

/// A credential of `CLIENT_ID`.
pub fn credential(issuer: IssuerRef, subject: &str) -> FederatedCredential {
    FederatedCredential::new(CLIENT_ID, issuer, subject, DEFAULT_AUDIENCE)
}

/// An emulator whose app trusts the built-in issuer for `SUBJECT` (its ID token endpoint
/// mints that subject) and the test issuer for `SUBJECT`.
pub fn start() -> crate::support::emulator::TestEmulator {
    start_federated(EmulatorConfig::default())
}

/// As [`start`], from `config` (its `federated` list, when not empty, replaces the default).
pub fn start_federated(config: EmulatorConfig) -> crate::support::emulator::TestEmulator {
    let federated = if config.federated.is_empty() {
        vec![
            credential(IssuerRef::Builtin, SUBJECT),
            credential(IssuerRef::Url(ISSUER.into()), SUBJECT),
        ]
    } else {
        config.federated.clone()
    };
    let mut issuer_keys = config.issuer_keys.clone();
    issuer_keys.push(test_issuer().keys(ISSUER));
    start_with(EmulatorConfig {
        apps: if config.apps.is_empty() {
            vec![app()]
        } else {
            config.apps.clone()
        },
        federated,
        issuer_keys,
        oidc: graphd::emulator::OidcConfig {
            subject: SUBJECT.into(),
            ..config.oidc.clone()
        },
        ..config
    })
}

/// `graphd` for the app at `emu`, with no credential at all in the environment.
pub fn graphd_app(emu: &Emulator) -> Command {
    let mut cmd = graphd();
    cmd.env("AZURE_AUTHORITY_HOST", emu.authority_host().as_str())
        .env("GRAPHD_GRAPH_ENDPOINT", emu.graph_endpoint().as_str())
        .env("AZURE_TENANT_ID", emu.tenant())
        .env("AZURE_CLIENT_ID", CLIENT_ID);
    cmd
}

/// `graphd` as in a GitHub Actions job with `id-token: write`, against `emu`.
pub fn graphd_github(emu: &Emulator) -> Command {
    let mut cmd = graphd_app(emu);
    cmd.env("ACTIONS_ID_TOKEN_REQUEST_URL", emu.github_request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", emu.github_request_token());
    cmd
}

/// Unix seconds now.
pub fn now() -> i64 {
    graphd::clock::now_unix()
}

/// Claims as an OIDC issuer writes them, valid for `lifetime` seconds from now.
pub fn claims(iss: &str, sub: &str, aud: &str, lifetime: i64) -> Value {
    let t = now();
    json!({
        "iss": iss, "sub": sub, "aud": aud,
        "iat": t, "nbf": t, "exp": t + lifetime,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// The tests' own issuer: an RSA key and its JWKS.
pub struct TestIssuer {
    pub key: PKey<Private>,
    pub kid: String,
}

/// One key for the whole test process (RSA key generation is slow).
pub fn test_issuer() -> &'static TestIssuer {
    static ISSUER_KEY: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER_KEY.get_or_init(|| TestIssuer {
        key: PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
        kid: "test-key-1".into(),
    })
}

impl TestIssuer {
    /// The JWKS of this key, for `issuer`.
    pub fn keys(&self, issuer: &str) -> IssuerKeys {
        let rsa = self.key.rsa().unwrap();
        IssuerKeys {
            issuer: issuer.into(),
            jwks: json!({"keys": [{
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
                "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
            }]}),
        }
    }

    /// An RS256 token with this key's `kid`.
    pub fn token(&self, claims: &Value) -> String {
        self.token_with(
            Alg::RS256,
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
            &self.key,
        )
    }

    pub fn token_with(
        &self,
        alg: Alg,
        header: &Value,
        claims: &Value,
        key: &PKey<Private>,
    ) -> String {
        jws::encode(alg, key, header, claims).unwrap().to_string()
    }
}

/// Writes `token` into a new file `name` under `dir`.
pub fn token_file(dir: &Path, name: &str, token: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, token).unwrap();
    path
}

/// The `hint: ...` line of a run's stderr.
pub fn hint(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .unwrap_or_default()
        .to_string()
}
