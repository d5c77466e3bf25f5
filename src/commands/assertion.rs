//! `graphd assertion`: print a signed client assertion.

use crate::cli::{AssertionArgs, NetArgs};
use crate::error::Result;
use crate::identity::Identity;
use crate::settings::Settings;

pub fn run(args: &AssertionArgs) -> Result<()> {
    let settings = Settings::resolve(&args.identity, &NetArgs::default())?;
    let identity = Identity::new(settings.app, settings.proof)?;
    let assertion = http_free_assertion(&identity)?;
    // The user asked for exactly this secret, on stdout.
    crate::output::secret_line(assertion.expose_secret())
}

/// The assertion a token request's first attempt would send. A certificate proof needs no
/// network to make one.
fn http_free_assertion(identity: &Identity) -> Result<crate::secret::ClientAssertion> {
    match identity.proof() {
        crate::identity::Proof::Certificate(c) => {
            let app = identity.app();
            c.assertion(&app.token_endpoint(), &app.client_id)
        }
    }
}
