//! Settings resolution: flag > environment > `--config` file > default (cli.md).
//!
//! clap has already merged flags with their environment variables and validated them (a bad
//! value there is a usage error, exit 2). This module fills what is still missing from the
//! `--config` file, which is checked just as strictly (a bad value there is exit 3), and
//! returns settings that need no further checking.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::cli::{AppArgs, CredentialArgs, NetArgs, SigningArgs};
use crate::cloud::{self, Cloud};
use crate::credential::{CredentialSource, read_limited};
use crate::error::{Error, Result};
use crate::jws::Alg;
use crate::password::PasswordSource;

const MAX_CONFIG_FILE: u64 = 1024 * 1024;
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The `--config` file: the MSAL Python quickstart's `parameters.json` fields plus graphd's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    // The quickstart's names.
    /// `https://login.microsoftonline.com/{tenant}`.
    pub authority: Option<String>,
    pub client_id: Option<String>,
    /// A string or the quickstart's one-element array.
    pub scope: Option<OneOrMany>,
    /// The quickstart's Graph URL (`https://graph.microsoft.com/v1.0/users`): its origin is used.
    pub endpoint: Option<String>,
    /// The certificate variant's SHA-1 thumbprint (hex).
    pub thumbprint: Option<String>,
    /// The certificate variant's key file (relative to the config file).
    pub private_key_file: Option<PathBuf>,
    /// The secret variant's client secret: refused.
    pub secret: Option<serde_json::Value>,
    // graphd's names.
    pub tenant: Option<String>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
    pub cloud: Option<String>,
    pub authority_host: Option<String>,
    pub graph: Option<String>,
    pub alg: Option<String>,
    pub send_x5c: Option<bool>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Option<u64>,
    pub max_retries: Option<u32>,
    pub token_cache: Option<PathBuf>,
    #[serde(skip)]
    dir: PathBuf,
    #[serde(skip)]
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl ConfigFile {
    /// Reads and checks a config file; `None` path gives an empty config.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(ConfigFile::default());
        };
        let bytes = read_limited(path, MAX_CONFIG_FILE).map_err(|e| match e {
            Error::Credential { problem, .. } => Error::config(
                format!("config file {}: {problem}", path.display()),
                Some("pass a JSON file such as the quickstart's parameters.json".to_string()),
            ),
            other => other,
        })?;
        let hint = || {
            Some(
                "accepted fields: authority, client_id, scope, endpoint, thumbprint, private_key_file \
                 (the quickstart's), tenant, cert, key, password_file, cloud, authority_host, graph, alg, \
                 send_x5c, ca_file, timeout, max_retries, token_cache"
                    .to_string(),
            )
        };
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::config(
                format!(
                    "config file {}: not JSON: {}",
                    path.display(),
                    unquoted(&e.to_string())
                ),
                Some(
                    "the file must be a JSON object such as the quickstart's parameters.json"
                        .to_string(),
                ),
            )
        })?;
        // Checked before the fields, so a secret is refused (with its hint) whatever else is there.
        if value.get("secret").is_some() {
            return Err(Error::config(
                format!(
                    "config file {} holds a client secret; graphd authenticates with a certificate only",
                    path.display()
                ),
                Some(
                    "remove \"secret\" and revoke it (it sat in a file), run `graphd gen-cert`, upload the certificate, \
                     and set \"private_key_file\" or pass --cert"
                        .to_string(),
                ),
            ));
        }
        let mut cfg = ConfigFile::deserialize(&value).map_err(|e| {
            // serde names no field for a wrong type: find it by trying each field alone.
            let field = value.as_object().and_then(|fields| {
                fields.iter().find_map(|(name, v)| {
                    let alone = serde_json::json!({ name: v });
                    ConfigFile::deserialize(&alone)
                        .is_err()
                        .then(|| name.clone())
                })
            });
            let at = field.map(|f| format!("{f}: ")).unwrap_or_default();
            Error::config(
                format!(
                    "config file {}: {at}{}",
                    path.display(),
                    unquoted(&e.to_string())
                ),
                hint(),
            )
        })?;
        cfg.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.path = path.to_path_buf();
        Ok(cfg)
    }

    fn bad(&self, field: &str, why: impl std::fmt::Display) -> Error {
        Error::config(
            format!("config file {}: {field}: {why}", self.path.display()),
            Some(format!(
                "fix \"{field}\" in {}, or override it with a flag",
                self.path.display()
            )),
        )
    }

    /// A path from the file, relative to the file's directory.
    fn relative(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    /// `authority` split into host and tenant.
    fn authority_parts(&self) -> Result<Option<(Url, String)>> {
        let Some(a) = &self.authority else {
            return Ok(None);
        };
        let mut url = cloud::parse_endpoint(a).map_err(|e| self.bad("authority", e))?;
        let path = url.path().trim_matches('/').to_string();
        let (prefix, tenant) = match path.rsplit_once('/') {
            Some((p, t)) => (format!("/{p}"), t.to_string()),
            None => (String::new(), path),
        };
        if tenant.is_empty() {
            return Err(self.bad(
                "authority",
                "has no tenant (https://login.microsoftonline.com/<tenant>)",
            ));
        }
        url.set_path(&prefix);
        Ok(Some((url, tenant)))
    }

    fn cloud(&self) -> Result<Option<Cloud>> {
        match &self.cloud {
            None => Ok(None),
            Some(c) => <Cloud as clap::ValueEnum>::from_str(c, true)
                .map(Some)
                .map_err(|_| self.bad("cloud", "must be public, usgov, usgov-dod or china")),
        }
    }
}

/// serde's message without the quoted values it echoes (`invalid type: string "..."`): a
/// value in the wrong field may be a secret, and errors end up in CI logs.
fn unquoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        let mut escaped = false;
        for q in chars.by_ref() {
            match q {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => break,
                _ => escaped = false,
            }
        }
        if out.ends_with(' ') {
            out.pop();
        }
    }
    out
}

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
    fn serde_messages_lose_their_quoted_values() {
        assert_eq!(
            unquoted(r#"invalid type: string "hunter2 \" x", expected u64 at line 3 column 41"#),
            "invalid type: string, expected u64 at line 3 column 41"
        );
        assert_eq!(
            unquoted("unknown field `tennant`, expected one of `a`"),
            "unknown field `tennant`, expected one of `a`"
        );
        let e = cfg(r#"{"tenant": "contoso.com", "send_x5c": "hunter2"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("send_x5c: invalid type: string, expected a boolean"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
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
