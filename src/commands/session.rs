//! What every command that calls the network needs, built once: the signer, the network
//! settings, the one HTTP client and the token cache.

use crate::cache::TokenCache;
use crate::cli::{AppArgs, CredentialArgs, NetArgs, SigningArgs};
use crate::config::{self, NetSettings};
use crate::error::Result;
use crate::http::{Http, HttpOptions};
use crate::signer::Signer;
use crate::token::TokenSource;

pub struct Session {
    pub signer: Signer,
    pub net: NetSettings,
    pub http: Http,
    cache_dir: Option<std::path::PathBuf>,
}

impl Session {
    pub fn new(
        cred: &CredentialArgs,
        app: &AppArgs,
        signing: &SigningArgs,
        net: &NetArgs,
    ) -> Result<Self> {
        let signer = Signer::prepare(cred, app, signing)?;
        let net = config::resolve_net(net, &signer.config, &signer.app, app.cloud)?;
        let http = Http::new(&HttpOptions {
            ca_file: net.ca_file.as_deref(),
            timeout: net.timeout,
            max_retries: net.max_retries,
        })?;
        let cache_dir = net.token_cache.clone();
        Ok(Session {
            signer,
            net,
            http,
            cache_dir,
        })
    }

    /// The token source: cache first when one is configured.
    pub fn tokens(&self) -> Result<TokenSource<'_>> {
        let cache = self
            .cache_dir
            .as_deref()
            .map(TokenCache::open)
            .transpose()?;
        Ok(TokenSource {
            http: &self.http,
            signer: &self.signer,
            scope: &self.net.scope,
            cache,
        })
    }
}
