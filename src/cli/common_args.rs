//! The argument groups the commands share (`#[command(flatten)]`): which app, in which tenant
//! and cloud (`AppArgs`); how it proves its identity (`CredentialArgs`, `SigningArgs`, with
//! `FederatedArgs` and `Pkcs11Args`, together `IdentityArgs`); how graphd reaches the network
//! (`NetArgs`).
//!
//! The conventions at the top of `cli` hold here: no secret ever comes from a flag value,
//! and no environment variable's value is shown in help (`hide_env_values` on every `env`
//! argument).

use std::path::PathBuf;

use clap::{ArgAction, Args};
use url::Url;

use super::{FederatedArgs, Pkcs11Args, path_or_pkcs11_uri};
use crate::cloud::{self, Cloud};
use crate::jws::Alg;

/// Where the certificate and private key come from.
#[derive(Debug, Clone, Args)]
pub struct CredentialArgs {
    /// Certificate and private key: PEM (any order, chain allowed) or PFX/PKCS#12, detected by
    /// content; or a pkcs11: URI (certificate and key in a token).
    #[arg(
        long,
        value_name = "PATH",
        env = "AZURE_CLIENT_CERTIFICATE_PATH",
        hide_env_values = true,
        value_parser = path_or_pkcs11_uri()
    )]
    pub cert: Option<PathBuf>,

    /// The private key in its own PEM file, when --cert holds only certificates; or an RFC 7512
    /// pkcs11: URI of a key in a token, e.g. 'pkcs11:token=graphd;object=app-key'.
    #[arg(long, value_name = "PATH|URI", value_parser = path_or_pkcs11_uri())]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub pkcs11: Pkcs11Args,

    /// Read the key or PFX password from this file (one trailing newline is ignored).
    /// Also: AZURE_CLIENT_CERTIFICATE_PASSWORD, or a prompt on a terminal.
    #[arg(long, value_name = "PATH", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,

    /// Read the key or PFX password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Which app, in which tenant and cloud.
#[derive(Debug, Clone, Args)]
pub struct AppArgs {
    /// Tenant: directory (tenant) ID or verified domain; not common/organizations/consumers.
    #[arg(long, value_name = "TENANT", env = "AZURE_TENANT_ID", hide_env_values = true, value_parser = cloud::check_tenant)]
    pub tenant: Option<String>,

    /// Application (client) ID of the app registration.
    #[arg(long, value_name = "GUID", env = "AZURE_CLIENT_ID", hide_env_values = true, value_parser = cloud::check_client_id)]
    pub client_id: Option<String>,

    /// National cloud: sets the authority host and Graph endpoint together.
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,

    /// Token service host (overrides --cloud), e.g. login.microsoftonline.us.
    #[arg(long, value_name = "URL", env = "AZURE_AUTHORITY_HOST", hide_env_values = true, value_parser = cloud::parse_endpoint)]
    pub authority_host: Option<Url>,

    /// JSON settings; accepts the MSAL Python quickstart's parameters.json.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The app and how it proves its identity: what every command that signs or gets tokens takes.
#[derive(Debug, Clone, Args)]
pub struct IdentityArgs {
    #[command(flatten)]
    pub credential: CredentialArgs,
    #[command(flatten)]
    pub federated: FederatedArgs,
    #[command(flatten)]
    pub app: AppArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// How the assertion is signed.
#[derive(Debug, Clone, Args)]
pub struct SigningArgs {
    /// Signature algorithm: PS256 (header x5t#S256; default) or RS256 (header x5t; ADFS, older authorities).
    #[arg(long, value_enum, ignore_case = true)]
    pub alg: Option<Alg>,

    /// Send the certificate chain in x5c (subject name + issuer authentication).
    #[arg(long, env = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", hide_env_values = true, value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub send_x5c: bool,
}

/// How graphd talks to the network.
#[derive(Debug, Clone, Default, Args)]
pub struct NetArgs {
    /// Graph base URL (overrides --cloud).
    #[arg(long, value_name = "URL", env = "GRAPHD_GRAPH_ENDPOINT", hide_env_values = true, value_parser = cloud::parse_endpoint)]
    pub graph: Option<Url>,

    /// Token scope [default: the cloud's Graph /.default].
    #[arg(long)]
    pub scope: Option<String>,

    /// Extra trusted root certificates (PEM): a TLS-inspecting proxy, the emulator's CA.
    #[arg(
        long,
        value_name = "PATH",
        env = "GRAPHD_CA_FILE",
        hide_env_values = true
    )]
    pub ca_file: Option<PathBuf>,

    /// Seconds allowed for each request [default: 30].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,

    /// Retries of transient failures: connection errors, timeouts, 429, 5xx [default: 3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub max_retries: Option<u32>,

    /// Opt-in on-disk cache of access tokens (directory created with mode 0700).
    #[arg(
        long,
        value_name = "DIR",
        env = "GRAPHD_TOKEN_CACHE",
        hide_env_values = true
    )]
    pub token_cache: Option<PathBuf>,
}
