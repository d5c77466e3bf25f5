//! `graphd rotate`: resolve the identity, keep what the new key needs from the settings (the
//! password source, or the token's URI, module and PIN source; the signing options), run the
//! rotation, print the new certificate.

use std::time::Duration;

use crate::cli::RotateArgs;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::rotate::{self, Current, CurrentKey, Options};
use crate::settings::{KeySource, ProofSpec, Settings};
use crate::{http, output};

pub fn run(args: &RotateArgs, settings: Settings) -> Result<()> {
    // The settings move into the client; what the new file needs is taken first.
    let unsupported = |why: &str| {
        Error::Rotate(Box::new(crate::error::RotateFailure {
            step: crate::error::RotateStep::Check,
            cause: crate::error::RotateCause::Problem(
                crate::error::RotateProblem::UnsupportedCredential { why: why.into() },
            ),
            done: Vec::new(),
            todo: None,
        }))
    };
    let spec = match &settings.proof {
        ProofSpec::Certificate(spec) => spec,
        ProofSpec::Federated(_) => {
            return Err(unsupported(
                "the app proves itself with a federated token, not a certificate",
            ));
        }
    };
    let key = match &spec.key {
        KeySource::Files { source, passwords } => CurrentKey::Files {
            source: source.clone(),
            passwords: passwords.reopen(),
        },
        KeySource::Pkcs11(spec) => CurrentKey::Token(spec.clone()),
    };
    let current = Current {
        key,
        alg: spec.alg,
        send_x5c: spec.send_x5c,
    };
    let options = Options {
        object_id: args.object_id.clone(),
        old_key_id: args.old_key_id.clone(),
        remove_old: args.remove_old,
        dry_run: args.dry_run,
        propagation_timeout: Duration::from_secs(args.propagation_timeout),
        audience: args.proof_audience.clone(),
        subject: args.subject.clone(),
        days: args.days,
        key_size: args.key_size,
    };
    let client = Client::new(settings)?;
    let outcome = http::runtime()?.block_on(rotate::run(&client, current, &options))?;
    if let Some(pem) = &outcome.cert_pem {
        // PEM is ASCII; the new certificate is the result, even when removing the old failed.
        output::text(&String::from_utf8_lossy(pem))?;
    }
    match outcome.late_failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
