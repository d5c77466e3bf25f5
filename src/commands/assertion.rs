//! `graphd assertion`: print a signed client assertion, or with `--claims` its decoded header
//! and claims. A federated credential's token is another issuer's and is never printed: only
//! its claims, with `--claims`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::cli::{AssertionArgs, NetArgs};
use crate::error::{Error, FederatedProblem, Result, UsageProblem};
use crate::http::{self, Http, HttpOptions};
use crate::identity::{self, FederatedProof, Identity, Proof};
use crate::settings::Settings;
use crate::{clock, messages, output};

pub fn run(args: &AssertionArgs) -> Result<()> {
    // No network flags here; the CA file for a GitHub endpoint behind the emulator's TLS
    // comes from the environment as for every other command.
    let net = NetArgs {
        ca_file: std::env::var_os("GRAPHD_CA_FILE").map(PathBuf::from),
        ..NetArgs::default()
    };
    let settings = Settings::resolve(&args.identity, &net)?;
    let net = settings.net.clone();
    let identity = Identity::new(settings.app, settings.proof)?;
    match identity.proof() {
        Proof::Certificate(c) => {
            let app = identity.app();
            let assertion = c.assertion(&app.token_endpoint(), &app.client_id)?;
            if args.claims {
                return print_claims(assertion.expose_secret());
            }
            // The user asked for exactly this secret, on stdout.
            output::secret_line(assertion.expose_secret())
        }
        Proof::Federated(f) => {
            if !args.claims {
                return Err(Error::Usage(UsageProblem::FederatedAssertion));
            }
            let http = Http::new(&HttpOptions {
                ca_file: net.ca_file.as_deref(),
                timeout: net.timeout,
                max_retries: net.max_retries,
            })?;
            let read = http::runtime()?.block_on(f.fetch(&http))?;
            federated_claims(f, read.token.expose_secret())
        }
    }
}

/// The decoded header and claims of a federated token, with its origin; a warning when it
/// has expired (shown anyway: this is how the user finds out why).
fn federated_claims(f: &FederatedProof, token: &str) -> Result<()> {
    let origin = f.origin();
    let (header, payload) = identity::federated_decode(token).map_err(|why| {
        Error::Federated(Box::new(FederatedProblem::NotAJwt {
            origin: origin.clone(),
            why,
        }))
    })?;
    let facts = identity::federated_facts(&header, &payload);
    let now = clock::now_unix();
    if let Some(exp) = facts.exp.filter(|e| *e <= now) {
        messages::warn(&format!(
            "this token expired {} ago ({}); Entra ID would refuse it (AADSTS700024)",
            crate::error::rounded_span(now - exp),
            clock::rfc3339(exp)
        ));
    }
    output::json(&json!({
        "source": origin.to_string(),
        "header": Value::Object(header),
        "claims": Value::Object(payload),
    }))
}

/// `{"header": ..., "claims": ...}` of a JWS graphd made.
fn print_claims(jwt: &str) -> Result<()> {
    let (header, payload) = identity::federated_decode(jwt)
        .map_err(|why| Error::Internal(format!("the assertion graphd signed: {why}")))?;
    output::json(&json!({
        "header": Value::Object(header),
        "claims": Value::Object(payload),
    }))
}
