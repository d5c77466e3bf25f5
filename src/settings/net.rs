//! The network settings: the Graph endpoint, the token scope (whose audience `audience`
//! checks), the CA file, the timeout, the retries and the token cache, each from the flag,
//! the environment (through clap), the `--config` file or the cloud's default.
//!
//! It reads no file (the config file is already loaded) and touches no network: a CA file or
//! a token cache named here is opened later, by `http` and `token_cache`.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::{App, ConfigFile, OneOrMany, audience, endpoint};
use crate::cli::NetArgs;
use crate::cloud::{self, Cloud};
use crate::error::Result;

pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// Network settings, checked.
#[derive(Debug, Clone)]
pub struct Net {
    pub graph: Url,
    pub scope: String,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub max_retries: u32,
    pub token_cache: Option<PathBuf>,
}

pub(super) fn resolve_net(
    args: &NetArgs,
    cfg: &ConfigFile,
    app: &App,
    cloud_flag: Option<Cloud>,
) -> Result<Net> {
    let cfg_graph = match (&cfg.graph, &cfg.endpoint) {
        (Some(g), _) => Some(cloud::parse_endpoint(g).map_err(|e| cfg.bad("graph", e))?),
        (None, Some(e)) => {
            let url = cloud::parse_endpoint(e).map_err(|why| cfg.bad("endpoint", why))?;
            Some(endpoint(&url.origin().ascii_serialization()))
        }
        (None, None) => None,
    };
    let graph = args
        .graph
        .clone()
        .or_else(|| cloud_flag.map(|c| endpoint(c.graph())))
        .or(cfg_graph)
        .unwrap_or_else(|| endpoint(app.cloud.graph()));
    let scope = match (&args.scope, &cfg.scope) {
        (Some(s), _) => s.clone(),
        (None, Some(OneOrMany::One(s))) => s.clone(),
        (None, Some(OneOrMany::Many(v))) if v.len() == 1 => v[0].clone(),
        (None, Some(OneOrMany::Many(_))) => {
            return Err(cfg.bad(
                "scope",
                "app-only tokens take exactly one scope, <resource>/.default",
            ));
        }
        (None, None) => app.cloud.graph_scope(),
    };
    // Only `--scope` on the command line vouches for a non-Graph host: a config file's scope
    // comes with the config file's endpoint.
    audience::check(&graph, &scope, args.scope.is_some(), app.cloud)?;
    Ok(Net {
        graph,
        scope,
        ca_file: args
            .ca_file
            .clone()
            .or_else(|| cfg.ca_file.as_deref().map(|p| cfg.relative(p))),
        timeout: Duration::from_secs(args.timeout.or(cfg.timeout).unwrap_or(DEFAULT_TIMEOUT_SECS)),
        max_retries: args
            .max_retries
            .or(cfg.max_retries)
            .unwrap_or(DEFAULT_MAX_RETRIES),
        token_cache: args
            .token_cache
            .clone()
            .or_else(|| cfg.token_cache.as_deref().map(|p| cfg.relative(p))),
    })
}
