//! What every command that calls the network works with, built once from the resolved
//! settings: the identity, the network settings, the one HTTP client, and where tokens come
//! from (the token cache when one is configured and holds a fresh token, else the token
//! service, and then the cache is updated).

use crate::error::Result;
use crate::http::{Http, HttpOptions};
use crate::identity::Identity;
use crate::settings::{Net, Settings};
use crate::token::{self, Token};
use crate::token_cache::{CacheKey, TokenCache};

/// An identity and the means to get it tokens.
#[derive(Debug)]
pub struct Client {
    pub identity: Identity,
    pub net: Net,
    pub http: Http,
    cache: Option<TokenCache>,
}

impl Client {
    /// Builds the identity (reading the certificate, not yet the key), the HTTP client's
    /// options and the token cache from `settings`. Nothing is sent yet.
    pub fn new(settings: Settings) -> Result<Self> {
        let Settings { app, proof, net } = settings;
        let identity = Identity::new(app, proof)?;
        let http = Http::new(&HttpOptions {
            ca_file: net.ca_file.as_deref(),
            timeout: net.timeout,
            max_retries: net.max_retries,
        })?;
        let cache = net
            .token_cache
            .as_deref()
            .map(TokenCache::open)
            .transpose()?;
        Ok(Client {
            identity,
            net,
            http,
            cache,
        })
    }

    fn cache_key(&self) -> CacheKey {
        let app = self.identity.app();
        CacheKey {
            authority: crate::cloud::base_str(&app.authority),
            tenant: app.tenant.clone(),
            client_id: app.client_id.clone(),
            scope: self.net.scope.clone(),
            credential: self.identity.cache_id(),
        }
    }

    /// A token for the configured scope valid for at least 5 more minutes; `fresh` skips the
    /// cache (after Graph refused a token).
    pub async fn token(&self, fresh: bool) -> Result<Token> {
        let key = self.cache.as_ref().map(|_| self.cache_key());
        if let (Some(cache), Some(key), false) = (&self.cache, &key, fresh)
            && let Some(token) = cache.get(key)
        {
            return Ok(token);
        }
        let token = token::request(&self.http, &self.identity, &self.net.scope).await?;
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            // A cache that cannot be written must not fail the command that got a token.
            if let Err(e) = cache.put(key, &token) {
                crate::messages::warn(&format!("{e}"));
            }
        }
        Ok(token)
    }
}
