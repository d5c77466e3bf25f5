//! `graphd token`: print an app-only access token (or the response as JSON).

use super::Signer;
use crate::cache::TokenCache;
use crate::cli::TokenArgs;
use crate::config;
use crate::error::Result;
use crate::http::{self, Http, HttpOptions};
use crate::output;
use crate::token::{self, TokenSource};

pub fn run(args: &TokenArgs) -> Result<()> {
    let signer = Signer::prepare(&args.credential, &args.app, &args.signing)?;
    let net = config::resolve_net(&args.net, &signer.config, &signer.app, args.app.cloud)?;
    let http = Http::new(&HttpOptions {
        ca_file: net.ca_file.as_deref(),
        timeout: net.timeout,
        max_retries: net.max_retries,
    })?;
    let cache = net.token_cache.as_deref().map(TokenCache::open).transpose()?;
    let source = TokenSource { http: &http, signer: &signer, scope: &net.scope, cache };
    let token = http::runtime()?.block_on(source.get(false))?;
    // The user asked for exactly this secret, on stdout.
    if args.json {
        output::line(&token::to_json(&token))
    } else {
        output::line(token.access_token.expose_secret())
    }
}
