//! Settings resolution: flag > environment > `--config` file > default (README "Settings").
//!
//! clap has already merged flags with their environment variables and validated them (a bad
//! value there is a usage error, exit 2). This module fills what is still missing from the
//! `--config` file, which is checked just as strictly (a bad value there is exit 3), and
//! returns settings that need no further checking.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::cli::{AppArgs, CredentialArgs, NetArgs, SigningArgs};
use crate::cloud::{self, Cloud};
use crate::credential::CredentialSource;
use crate::error::{Error, Result};
use crate::jws::Alg;
use crate::password::PasswordSource;

mod file;

pub use file::{ConfigFile, OneOrMany};

pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The app, tenant and endpoints, checked.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub tenant: String,
    pub client_id: String,
    pub cloud: Cloud,
    pub authority: Url,
}

impl AppSettings {
    /// `{authority}/{tenant}/oauth2/v2.0/token`, also the assertion's `aud`.
    pub fn token_endpoint(&self) -> String {
        cloud::token_endpoint(&self.authority, &self.tenant)
    }

    /// The authority host as text, for messages.
    pub fn authority_host(&self) -> String {
        self.authority.host_str().unwrap_or_default().to_string()
    }
}

/// The cloud whose authority host this is, if it is a known one.
fn cloud_of_authority(url: &Url) -> Option<Cloud> {
    let base = cloud::base_str(url);
    [Cloud::Public, Cloud::Usgov, Cloud::China]
        .into_iter()
        .find(|c| c.authority_host() == base)
}

/// Resolves tenant, client id, cloud and authority host.
pub fn resolve_app(args: &AppArgs, cfg: &ConfigFile) -> Result<AppSettings> {
    let authority_parts = cfg.authority_parts()?;
    let tenant = match (&args.tenant, &cfg.tenant, &authority_parts) {
        (Some(t), _, _) => t.clone(),
        (None, Some(t), _) => cloud::check_tenant(t).map_err(|e| cfg.bad("tenant", e))?,
        (None, None, Some((_, t))) => {
            cloud::check_tenant(t).map_err(|e| cfg.bad("authority", e))?
        }
        (None, None, None) => {
            return Err(Error::usage(
                "no tenant given",
                Some(
                    "pass --tenant or set AZURE_TENANT_ID (the directory ID or a verified domain)"
                        .to_string(),
                ),
            ));
        }
    };
    let client_id = match (&args.client_id, &cfg.client_id) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => cloud::check_client_id(c).map_err(|e| cfg.bad("client_id", e))?,
        (None, None) => {
            return Err(Error::usage(
                "no client id given",
                Some("pass --client-id or set AZURE_CLIENT_ID (the app registration's Application (client) ID)".to_string()),
            ));
        }
    };
    let cfg_authority = match (&cfg.authority_host, &authority_parts) {
        (Some(h), _) => Some(cloud::parse_endpoint(h).map_err(|e| cfg.bad("authority_host", e))?),
        (None, Some((u, _))) => Some(u.clone()),
        (None, None) => None,
    };
    let cfg_cloud = cfg.cloud()?;
    let authority = args
        .authority_host
        .clone()
        .or_else(|| args.cloud.map(|c| endpoint(c.authority_host())))
        .or(cfg_authority)
        .unwrap_or_else(|| endpoint(cfg_cloud.unwrap_or_default().authority_host()));
    let cloud = args
        .cloud
        .or(cfg_cloud)
        .or_else(|| cloud_of_authority(&authority))
        .unwrap_or_default();
    Ok(AppSettings {
        tenant,
        client_id,
        cloud,
        authority,
    })
}

fn endpoint(known: &str) -> Url {
    cloud::parse_endpoint(known).expect("built-in cloud endpoints are valid URLs")
}

/// Resolves where the credential and its password come from.
pub fn resolve_credential(
    args: &CredentialArgs,
    cfg: &ConfigFile,
) -> Result<(CredentialSource, PasswordSource)> {
    // The config's credential (cert, key, private_key_file, thumbprint) is one unit: a
    // certificate from a flag or the environment replaces all of it.
    let from_config = args.cert.is_none();
    let cert = args
        .cert
        .clone()
        .or_else(|| cfg.cert.as_deref().map(|c| cfg.relative(c)))
        .or_else(|| cfg.private_key_file.as_deref().map(|k| cfg.relative(k)));
    let cfg_key = || {
        let key = cfg.key.as_deref().or(match cfg.cert {
            // With graphd's `cert`, the quickstart's `private_key_file` is the key.
            Some(_) => cfg.private_key_file.as_deref(),
            None => None,
        });
        key.map(|k| cfg.relative(k))
    };
    let key = args
        .key
        .clone()
        .or_else(|| if from_config { cfg_key() } else { None });
    let Some(cert) = cert else {
        return Err(Error::usage(
            "no certificate given",
            Some(
                "pass --cert PATH (PEM or PFX) or set AZURE_CLIENT_CERTIFICATE_PATH; `graphd gen-cert` creates one"
                    .to_string(),
            ),
        ));
    };
    // Flag > environment > file: the config's password_file only when neither
    // --password-stdin nor AZURE_CLIENT_CERTIFICATE_PASSWORD gives one.
    let password_file = args.password_file.clone().or_else(|| {
        if args.password_stdin || std::env::var_os(crate::password::PASSWORD_ENV).is_some() {
            None
        } else {
            cfg.password_file.as_deref().map(|p| cfg.relative(p))
        }
    });
    let source = CredentialSource {
        cert,
        key,
        thumbprint: if from_config {
            cfg.thumbprint.clone()
        } else {
            None
        },
    };
    Ok((
        source,
        PasswordSource::new(password_file, args.password_stdin),
    ))
}

/// Signing choices; `alg` stays `None` when nobody chose, so the credential can decide.
#[derive(Debug, Clone, Copy)]
pub struct SigningSettings {
    pub alg: Option<Alg>,
    pub send_x5c: bool,
}

pub fn resolve_signing(args: &SigningArgs, cfg: &ConfigFile) -> Result<SigningSettings> {
    let alg = match (args.alg, &cfg.alg) {
        (Some(a), _) => Some(a),
        (None, Some(name)) => Some(
            Alg::from_name(&name.to_ascii_uppercase())
                .ok_or_else(|| cfg.bad("alg", "must be PS256 or RS256"))?,
        ),
        (None, None) => None,
    };
    Ok(SigningSettings {
        alg,
        send_x5c: args.send_x5c || cfg.send_x5c.unwrap_or(false),
    })
}

/// Network settings, checked.
#[derive(Debug, Clone)]
pub struct NetSettings {
    pub graph: Url,
    pub scope: String,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub max_retries: u32,
    pub token_cache: Option<PathBuf>,
}

pub fn resolve_net(
    args: &NetArgs,
    cfg: &ConfigFile,
    app: &AppSettings,
    cloud_flag: Option<Cloud>,
) -> Result<NetSettings> {
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
    Ok(NetSettings {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> Result<ConfigFile> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("parameters.json");
        std::fs::write(&p, json).unwrap();
        ConfigFile::load(Some(&p))
    }

    fn no_args() -> AppArgs {
        AppArgs {
            tenant: None,
            client_id: None,
            cloud: None,
            authority_host: None,
            config: None,
        }
    }

    #[test]
    fn quickstart_parameters_resolve() {
        let c = cfg(r#"{
            "authority": "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            "client_id": "11111111-2222-3333-4444-555555555555",
            "scope": ["https://graph.microsoft.com/.default"],
            "thumbprint": "AB:CD",
            "private_key_file": "server.pem",
            "endpoint": "https://graph.microsoft.com/v1.0/users"
        }"#)
        .unwrap();
        let app = resolve_app(&no_args(), &c).unwrap();
        assert_eq!(app.tenant, "contoso.onmicrosoft.com");
        assert_eq!(
            app.token_endpoint(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(c.private_key_file.is_some());
    }

    #[test]
    fn secrets_unknown_fields_and_placeholders_are_refused() {
        let e = cfg(r#"{"secret": "abc123-very-secret"}"#).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(!e.to_string().contains("abc123"));
        let e = cfg(r#"{"tennant": "x"}"#).unwrap_err();
        assert!(e.to_string().contains("tennant"), "{e}");
        assert!(cfg("{not json").is_err());
        let c = cfg(r#"{"authority": "https://login.microsoftonline.com/Enter_the_Tenant_Name_Here", "client_id": "11111111-2222-3333-4444-555555555555"}"#).unwrap();
        let e = resolve_app(&no_args(), &c).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("Enter_the_Tenant_Name_Here"));
    }

    #[test]
    fn flags_beat_the_file_and_clouds_follow_the_authority() {
        let c = cfg(r#"{"tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555", "authority_host": "https://login.microsoftonline.us"}"#).unwrap();
        let mut args = no_args();
        let app = resolve_app(&args, &c).unwrap();
        assert_eq!(app.cloud, Cloud::Usgov);
        args.tenant = Some("fabrikam.com".into());
        args.cloud = Some(Cloud::China);
        let app = resolve_app(&args, &c).unwrap();
        assert_eq!(app.tenant, "fabrikam.com");
        assert_eq!(
            cloud::base_str(&app.authority),
            "https://login.chinacloudapi.cn"
        );
    }
}
