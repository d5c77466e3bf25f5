//! `graphd emulator`: start the emulator, say where it listens, serve until SIGINT/SIGTERM.

use tokio::signal::unix::{SignalKind, signal};

use crate::emulator::Emulator;
use crate::emulator::cli::{self, EmulatorArgs};
use crate::error::{Error, Result};
use crate::{messages, output};

pub fn run(args: &EmulatorArgs) -> Result<()> {
    let config = cli::config(args)?;
    let first_app = config.apps.first().map(|a| a.client_id.clone());
    if first_app.is_none() {
        messages::warn(
            "no app is registered (--app or --apps-file): every token request will fail with AADSTS700016",
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start a runtime: {e}")))?;
    let emulator = Emulator::start(config)?;
    runtime.block_on(async {
        // Handlers first, so a signal sent as soon as the lines below are read is caught.
        let signals =
            signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
        let (mut term, mut int) =
            signals.map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
        announce(&emulator, args.print_env, first_app.as_deref())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        Ok::<(), Error>(())
    })?;
    emulator.shutdown();
    messages::info("graphd: emulator stopped");
    Ok(())
}

/// `export NAME=value` lines (`--print-env`), or a readable summary; both on stdout.
fn announce(emulator: &Emulator, print_env: bool, client_id: Option<&str>) -> Result<()> {
    let authority = crate::cloud::base_str(&emulator.authority_host());
    let graph = crate::cloud::base_str(&emulator.graph_endpoint());
    let ca = emulator.ca_file().map(|p| p.display().to_string());
    if print_env {
        let mut vars = vec![
            ("AZURE_AUTHORITY_HOST", authority),
            ("GRAPHD_GRAPH_ENDPOINT", graph),
        ];
        if let Some(ca) = ca {
            vars.push(("GRAPHD_CA_FILE", ca));
        }
        vars.push(("AZURE_TENANT_ID", emulator.tenant().to_string()));
        if let Some(id) = client_id {
            vars.push(("AZURE_CLIENT_ID", id.to_string()));
        }
        // What a GitHub Actions job with `id-token: write` has, for `graphd ... --github-oidc`
        // (docs/protocol.md#github-actions-oidc); and the Kubernetes-style token file.
        if emulator.trusts_builtin_issuer() {
            vars.push((
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                emulator.github_request_url(),
            ));
            vars.push((
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                emulator.github_request_token(),
            ));
        }
        if let Some(file) = emulator.token_file() {
            vars.push(("AZURE_FEDERATED_TOKEN_FILE", file.display().to_string()));
        }
        let text: String = vars
            .iter()
            .map(|(k, v)| format!("export {k}={}\n", crate::safe_text::shell_word(v)))
            .collect();
        output::text(&text)?;
        // Not a variable any tool reads, so on stderr: what `graphd rotate --object-id` takes
        // when the app may not read its own registration.
        if let Some(object_id) = client_id.and_then(|id| emulator.object_id(id)) {
            crate::messages::info(&format!(
                "graphd: the app's object id is {object_id} (graphd rotate --object-id)"
            ));
        }
    } else {
        let mut text = format!(
            "authority host: {authority}\ntoken endpoint: {}\ngraph endpoint: {graph}\ntenant:         {}\n",
            emulator.token_endpoint(),
            emulator.tenant()
        );
        if let Some(ca) = ca {
            text.push_str(&format!("ca file:        {ca}\n"));
        }
        if let Some(id) = client_id {
            text.push_str(&format!("client id:      {id}\n"));
            if let Some(object_id) = emulator.object_id(id) {
                text.push_str(&format!("object id:      {object_id}\n"));
            }
        }
        text.push_str(&format!("oidc issuer:    {}\n", emulator.oidc_issuer()));
        if emulator.trusts_builtin_issuer() {
            text.push_str(&format!(
                "id token url:   {} (the request token: --print-env)\n",
                emulator.github_request_url()
            ));
        }
        if let Some(file) = emulator.token_file() {
            text.push_str(&format!("token file:     {}\n", file.display()));
        }
        output::text(&text)?;
    }
    messages::info("graphd: emulator serving on 127.0.0.1; stop it with Ctrl-C or SIGTERM");
    Ok(())
}
