//! `graphd consent-url`: print the admin consent URL for the app.

use crate::cli::ConsentArgs;
use crate::error::Result;
use crate::{consent, messages, output, settings};

pub fn run(args: &ConsentArgs) -> Result<()> {
    let app = settings::app_only(&args.app)?;
    let url = consent::url(&app, args.v1, args.redirect_uri.as_ref());
    output::line(url.as_str())?;
    messages::info(
        "open it signed in as a Global Administrator or Privileged Role Administrator of the tenant: \
         it grants the application permissions configured on the app registration",
    );
    Ok(())
}
