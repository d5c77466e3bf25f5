//! `graphd token`: print an app-only access token (or the response as JSON).

use crate::cli::TokenArgs;
use crate::client::Client;
use crate::error::Result;
use crate::settings::Settings;
use crate::{http, output, token};

pub fn run(args: &TokenArgs, settings: Settings) -> Result<()> {
    let client = Client::new(settings)?;
    let token = http::runtime()?.block_on(client.token(false))?;
    // The user asked for exactly this secret, on stdout.
    if args.json {
        output::secret_line(&token::to_json(&token))
    } else {
        output::secret_line(token.access_token.expose_secret())
    }
}
