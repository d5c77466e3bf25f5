//! Starting an emulator: checks, the two loopback listeners, TLS material and the CA file,
//! the shared state, and the server thread.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot;

use super::federation::Registry;
use super::graph::tenant::Tenant;
use super::hooks::Hooks;
use super::oidc::{self, Issuer};
use super::state::State;
use super::token_file::TokenFile;
use super::{Emulator, EmulatorConfig, Shared, keys, server, tls};
use crate::error::{Error, Result};

/// Binds, prepares TLS and the shared state, and starts the server thread.
pub fn start(config: EmulatorConfig) -> Result<Emulator> {
    super::check(&config)?;
    let key = keys::signing_key().map_err(Error::Internal)?;
    let token_listener = bind(config.token_port)?;
    let graph_listener = bind(config.graph_port)?;
    let port = |l: &StdListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|e| Error::Internal(e.to_string()))
    };
    let (token_port, graph_port) = (port(&token_listener)?, port(&graph_listener)?);
    let (acceptor, ca_file, ca_temp) = if config.tls {
        let material = tls::generate().map_err(Error::Internal)?;
        let (path, temp) = write_ca(&material.ca_pem, config.ca_out.as_deref())?;
        (Some(material.acceptor), Some(path), temp)
    } else {
        (None, None, None)
    };
    let scheme = if config.tls { "https" } else { "http" };
    let tenant = config.tenant.trim().to_ascii_lowercase();
    let tenant_id = if crate::cloud::is_guid(&tenant) {
        tenant.clone()
    } else {
        keys::derived_guid(&["tenant", &tenant])
    };
    let domain = if crate::cloud::is_guid(&tenant) {
        "graphd-emulator.onmicrosoft.com".to_string()
    } else {
        tenant.clone()
    };
    let token_origin = format!("{scheme}://127.0.0.1:{token_port}");
    let builtin_issuer = format!("{token_origin}{}", oidc::PATH);
    let federation = Registry::new(&config.federated, &config.issuer_keys, &builtin_issuer)
        .map_err(|why| {
            Error::Usage(crate::error::UsageProblem::Invalid {
                flag: "--issuer-jwks",
                why,
            })
        })?;
    let token_file = config
        .token_file
        .map(|t| TokenFile::prepare(t, &builtin_issuer))
        .transpose()?;
    let shared = Arc::new(Shared {
        tenant,
        tenant_id,
        domain,
        strict_jti: config.strict_jti,
        token_lifetime: config.token_lifetime_secs,
        clock_offset: config.clock_offset_secs,
        key_propagation: std::time::Duration::from_millis(config.key_propagation_ms),
        scheme,
        token_port,
        graph_port,
        token_origin,
        graph_origin: format!("{scheme}://127.0.0.1:{graph_port}"),
        started: Instant::now(),
        salt: u64::from_be_bytes(keys::random::<8>()),
        state: State::new(config.apps, config.faults),
        directory: Tenant::new(
            config.users,
            config.delta_token_lifetime_secs,
            u64::from_be_bytes(keys::random::<8>()),
        ),
        key,
        federation,
        oidc: Issuer::new(config.oidc),
        hooks: Hooks::default(),
        token_file,
    });
    if let Some(t) = &shared.token_file {
        t.write(shared.now())?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the emulator runtime: {e}")))?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let serving = Arc::clone(&shared);
    let churn = config.churn_per_minute;
    let thread = std::thread::Builder::new()
        .name("graphd-emulator".into())
        .spawn(move || {
            runtime.block_on(async move {
                if churn > 0 {
                    tokio::spawn(Tenant::churn(Arc::clone(&serving), churn));
                }
                if serving.token_file.is_some() {
                    tokio::spawn(refresh_token_file(Arc::clone(&serving)));
                }
                server::serve(token_listener, graph_listener, acceptor, serving, stop_rx).await
            })
        })
        .map_err(|e| Error::Internal(format!("cannot start the emulator thread: {e}")))?;
    let url = |origin: &str| url::Url::parse(origin).map_err(|e| Error::Internal(e.to_string()));
    Ok(Emulator {
        authority: url(&shared.token_origin)?,
        graph: url(&shared.graph_origin)?,
        shared,
        ca_file,
        _ca_temp: ca_temp,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// Rewrites the token file at 80% of its lifetime, as the kubelet does, until the runtime
/// stops.
async fn refresh_token_file(shared: Arc<Shared>) {
    let Some(file) = &shared.token_file else {
        return;
    };
    loop {
        tokio::time::sleep(file.refresh_every()).await;
        if let Err(e) = file.write(shared.now()) {
            crate::messages::warn(&format!("emulator: {e}"));
        }
    }
}

/// 127.0.0.1 only: the emulator hands out tokens to anyone who can reach it.
fn bind(port: u16) -> Result<StdListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = StdListener::bind(addr).map_err(|e| {
        Error::Config(crate::error::ConfigProblem::Listen {
            addr: addr.to_string(),
            reason: crate::error::io_reason(&e),
        })
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(listener)
}

/// Writes the CA PEM to `out` (replacing only a file that holds certificates and nothing
/// else, atomically), or to a temp file deleted with the handle.
fn write_ca(pem: &[u8], out: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempPath>)> {
    let Some(path) = out else {
        let file = tempfile::Builder::new()
            .prefix("graphd-emulator-ca-")
            .suffix(".pem")
            .tempfile()
            .map_err(|e| Error::File {
                path: std::env::temp_dir(),
                action: "create a file in",
                source: e,
                hint: None,
            })?;
        std::fs::write(file.path(), pem).map_err(|e| Error::File {
            path: file.path().to_path_buf(),
            action: "write",
            source: e,
            hint: None,
        })?;
        let temp = file.into_temp_path();
        return Ok((temp.to_path_buf(), Some(temp)));
    };
    if let Ok(existing) = std::fs::read(path) {
        let only_certs = crate::credential::certificates_from_pem(&existing)
            .is_ok_and(|c| !c.is_empty())
            && !String::from_utf8_lossy(&existing).contains("PRIVATE KEY");
        if !only_certs {
            return Err(Error::Exists {
                path: path.to_path_buf(),
            });
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: io::Error| Error::File {
        path: path.to_path_buf(),
        action: "write",
        source: e,
        hint: None,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    io::Write::write_all(&mut tmp, pem).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok((path.to_path_buf(), None))
}
