//! `graphd assertion`: print a signed client assertion.

use super::Signer;
use crate::cli::AssertionArgs;
use crate::error::Result;

pub fn run(args: &AssertionArgs) -> Result<()> {
    let signer = Signer::prepare(&args.credential, &args.app, &args.signing)?;
    let assertion = signer.assertion()?;
    // The user asked for exactly this secret, on stdout.
    crate::output::line(assertion.expose_secret())
}
