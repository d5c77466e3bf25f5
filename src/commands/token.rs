//! `graphd token`: print an app-only access token (or the response as JSON).

use super::session::Session;
use crate::cli::TokenArgs;
use crate::error::Result;
use crate::http;
use crate::output;
use crate::token;

pub fn run(args: &TokenArgs) -> Result<()> {
    let session = Session::new(&args.credential, &args.app, &args.signing, &args.net)?;
    let tokens = session.tokens()?;
    let token = http::runtime()?.block_on(tokens.get(false))?;
    // The user asked for exactly this secret, on stdout.
    if args.json {
        output::line(&token::to_json(&token))
    } else {
        output::line(token.access_token.expose_secret())
    }
}
