//! The one resolve step: flag > environment > `--config` file > default (the README's
//! settings table).
//!
//! clap has already merged flags with their environment variables and validated them (a bad
//! value there is a usage error, exit 2). This module reads the `--config` file once, fills
//! what is still missing from it (checked just as strictly: a bad value there is exit 3), and
//! returns settings that need no further checking. It touches no file but the config file and
//! no network: credentials are loaded later, by `identity`, from what is decided here.

use url::Url;

use crate::cli::{AppArgs, CredentialArgs, IdentityArgs, NetArgs, SigningArgs};
use crate::cloud::{self, Cloud};
use crate::credential::CredentialSource;
use crate::error::{ConfigFileProblem, Error, Result, Setting, UsageProblem};
use crate::jws::Alg;
use crate::password::PasswordSource;
use crate::pkcs11::KeySpec;
use pkcs11::resolve_key_source;

mod audience;
mod federated;
mod file;
mod net;
mod pkcs11;

pub use federated::{
    FederatedSource, FederatedSpec, GITHUB_TOKEN_ENV, GITHUB_URL_ENV, GithubEndpoint, Inspect,
    PendingSource, TOKEN_FILE_ENV, default_audience, github_url, inspect_target,
};
pub use file::{ConfigFile, OneOrMany};
use net::resolve_net;
pub use net::{DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_SECS, Net};

/// The app: which tenant, which client id, which authority.
#[derive(Debug, Clone)]
pub struct App {
    pub tenant: String,
    pub client_id: String,
    pub cloud: Cloud,
    pub authority: Url,
}

impl App {
    /// `{authority}/{tenant}/oauth2/v2.0/token`, also the assertion's `aud`.
    pub fn token_endpoint(&self) -> String {
        cloud::token_endpoint(&self.authority, &self.tenant)
    }

    /// The authority host as text, for messages.
    pub fn authority_host(&self) -> String {
        self.authority.host_str().unwrap_or_default().to_string()
    }
}

/// How the app will prove its identity, decided but not yet loaded.
#[derive(Debug)]
pub enum ProofSpec {
    /// A certificate and its private key, from files.
    Certificate(CertificateSpec),
    /// A token from another issuer, trusted through a federated identity credential.
    Federated(FederatedSpec),
}

/// Where the certificate credential comes from and how the assertion is signed.
#[derive(Debug)]
pub struct CertificateSpec {
    pub key: KeySource,
    /// `None` when nobody chose: the credential decides (`identity`).
    pub alg: Option<Alg>,
    pub send_x5c: bool,
}

/// Where the certificate and its private key are.
#[derive(Debug)]
pub enum KeySource {
    /// PEM or PFX files, and the password that opens them if they are encrypted.
    Files {
        source: CredentialSource,
        passwords: PasswordSource,
    },
    /// A key inside a PKCS#11 token (RFC 7512 URI); its certificate in a file or the token.
    Pkcs11(Box<KeySpec>),
}

/// Everything a command that signs or calls the network needs, resolved once.
#[derive(Debug)]
pub struct Settings {
    pub app: App,
    pub proof: ProofSpec,
    pub net: Net,
}

impl Settings {
    /// Resolves the identity and network settings: the config file is read here, once.
    pub fn resolve(identity: &IdentityArgs, net: &NetArgs) -> Result<Self> {
        let cfg = ConfigFile::load(identity.app.config.as_deref())?;
        let app = resolve_app(&identity.app, &cfg)?;
        let proof = resolve_proof(identity, &cfg, app.cloud)?;
        let net = resolve_net(net, &cfg, &app, identity.app.cloud)?;
        Ok(Settings { app, proof, net })
    }
}

/// Resolves only the app (`graphd consent-url`), reading the config file once.
pub fn app_only(args: &AppArgs) -> Result<App> {
    resolve_app(args, &ConfigFile::load(args.config.as_deref())?)
}

/// The cloud whose authority host this is, if it is a known one.
fn cloud_of_authority(url: &Url) -> Option<Cloud> {
    let base = cloud::base_str(url);
    [Cloud::Public, Cloud::Usgov, Cloud::China]
        .into_iter()
        .find(|c| c.authority_host() == base)
}

fn missing(setting: Setting) -> Error {
    Error::Usage(UsageProblem::Missing(setting))
}

/// Resolves tenant, client id, cloud and authority host.
fn resolve_app(args: &AppArgs, cfg: &ConfigFile) -> Result<App> {
    let authority_parts = cfg.authority_parts()?;
    let tenant = match (&args.tenant, &cfg.tenant, &authority_parts) {
        (Some(t), _, _) => t.clone(),
        (None, Some(t), _) => cloud::check_tenant(t).map_err(|e| cfg.bad("tenant", e))?,
        (None, None, Some((_, t))) => {
            cloud::check_tenant(t).map_err(|e| cfg.bad("authority", e))?
        }
        (None, None, None) => return Err(missing(Setting::Tenant)),
    };
    let client_id = match (&args.client_id, &cfg.client_id) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => cloud::check_client_id(c).map_err(|e| cfg.bad("client_id", e))?,
        (None, None) => return Err(missing(Setting::ClientId)),
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
    Ok(App {
        tenant,
        client_id,
        cloud,
        authority,
    })
}

fn endpoint(known: &str) -> Url {
    cloud::parse_endpoint(known).expect("built-in cloud endpoints are valid URLs")
}

/// Resolves the proof: a certificate credential or a federated token (`federated` holds the
/// precedence rules).
fn resolve_proof(identity: &IdentityArgs, cfg: &ConfigFile, cloud: Cloud) -> Result<ProofSpec> {
    let (cred, fed, signing) = (&identity.credential, &identity.federated, &identity.signing);
    if let federated::Choice::Federated(source) = federated::choose(cred, fed, cfg)? {
        return Ok(ProofSpec::Federated(federated::spec(
            source,
            fed,
            Some(signing),
            cloud,
        )?));
    }
    federated::no_audience_for_a_certificate(cred, fed, cfg)?;
    certificate_proof(cred, signing, cfg)
}

/// The certificate proof (`--cert`, the environment or the config file).
fn certificate_proof(
    cred: &CredentialArgs,
    signing: &SigningArgs,
    cfg: &ConfigFile,
) -> Result<ProofSpec> {
    let key = resolve_key_source(cred, cfg)?;
    let alg = match (signing.alg, &cfg.alg) {
        (Some(a), _) => Some(a),
        (None, Some(name)) => Some(
            Alg::from_name(&name.to_ascii_uppercase())
                .ok_or_else(|| cfg.bad("alg", "must be PS256 or RS256"))?,
        ),
        (None, None) => None,
    };
    Ok(ProofSpec::Certificate(CertificateSpec {
        key,
        alg,
        send_x5c: signing.send_x5c || cfg.send_x5c.unwrap_or(false),
    }))
}

/// Resolves where the credential and its password come from.
fn resolve_credential(
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
        return Err(missing(Setting::Credential));
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

impl ConfigFile {
    /// A field of this file with an unusable value (exit 3, naming the field, never the value).
    pub(crate) fn bad(&self, field: &'static str, why: impl std::fmt::Display) -> Error {
        self.problem(ConfigFileProblem::Field {
            field,
            why: why.to_string(),
        })
    }
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
