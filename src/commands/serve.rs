//! `graphd serve`: resolve the identity once, listen on 127.0.0.1, check the identity by
//! getting the first token, say where the endpoint is (stdout, then closed), serve until
//! SIGINT/SIGTERM, stop gracefully, exit 0.

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::http::{Http, HttpOptions};
use crate::identity::Identity;
use crate::secret::IdentityHeader;
use crate::serve::protocol::Allowed;
use crate::serve::{Endpoint, Service, guard};
use crate::settings::Settings;
use crate::{messages, output};

/// Runtime worker threads: the endpoint's work is small, two keep it responsive.
const SERVE_WORKERS: usize = 2;

pub fn run(args: &ServeArgs, settings: Settings) -> Result<()> {
    let Settings { app, proof, net } = settings;
    if net.token_cache.is_some() {
        messages::warn(
            "serve keeps its tokens in memory; --token-cache (GRAPHD_TOKEN_CACHE) is not used",
        );
    }
    let allowed = Allowed::new(&net.scope, &args.allow_resources);
    let identity = Arc::new(Identity::new(app, proof)?);
    let client_id = identity.app().client_id.clone();
    let http = Arc::new(Http::new(&HttpOptions {
        ca_file: net.ca_file.as_deref(),
        timeout: net.timeout,
        max_retries: net.max_retries,
    })?);
    // Two workers, unlike the one-shot commands: a token fetch (signing, a slow token
    // service) or a descheduled thread must not stall every other client (bench.sh: more
    // requests per second and a lower p99 than one thread on a busy 2-core machine).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVE_WORKERS)
        .thread_name("graphd-serve")
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        // Handlers first, so a signal sent as soon as the lines below are read is caught.
        let signals =
            signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
        let (mut term, mut int) =
            signals.map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
        let endpoint = Endpoint::bind(args.port)?;
        let url = endpoint.url.clone();
        let secret = guard::new_identity_header()?;
        let service = Service::new(identity, http, allowed, endpoint.port, secret.clone());
        // Before anyone is told where the endpoint is: a credential or registration problem
        // is this command's error, with its exit code and hint, not a 500 inside some tool.
        // A stop asked for meanwhile (a slow token service) is honoured at once.
        tokio::select! {
            warmed = service.warm() => warmed?,
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut server = tokio::spawn(crate::serve::run(endpoint, Arc::clone(&service), stop_rx));
        announce(&url, &secret, args.print_env)?;
        drop(secret);
        let resources: Vec<&str> = service.resources().collect();
        messages::info(&format!(
            "graphd: serving tokens of app {client_id} for {} at {url}; stop with Ctrl-C or SIGTERM",
            resources.join(", ")
        ));
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            ended = &mut server => return joined(ended),
        }
        let _ = stop_tx.send(true);
        joined(server.await)
    })?;
    // Connections still open after the grace period end with the runtime.
    drop(runtime);
    messages::info("graphd: serve stopped");
    Ok(())
}

fn joined(ended: std::result::Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
    ended.map_err(|e| Error::Internal(format!("the server task failed: {e}")))?
}

/// Where the endpoint is and its header, on stdout (the one place the header is ever shown),
/// then stdout is closed so that a reader waiting for end of file (`. fifo`) goes on while
/// the endpoint keeps serving. Both values are shell-safe words: a loopback URL, and
/// base64url.
fn announce(url: &str, secret: &IdentityHeader, print_env: bool) -> Result<()> {
    let header = secret.expose_secret();
    let text = Zeroizing::new(if print_env {
        format!("export IDENTITY_ENDPOINT={url}\nexport IDENTITY_HEADER={header}")
    } else {
        format!("IDENTITY_ENDPOINT={url}\nIDENTITY_HEADER={header}")
    });
    // Past the standard library's stdout buffer, which is never wiped.
    output::secret_line(&text)?;
    output::close_stdout()
}
