//! The argument groups the commands share (`#[command(flatten)]`): which app, in which tenant
//! and cloud (`AppArgs`); how it proves its identity (`CredentialArgs`, `SigningArgs`, with
//! `FederatedArgs` and `Pkcs11Args`, together `IdentityArgs`); how graphd reaches the network
//! (`NetArgs`).
//!
//! The conventions at the top of `cli` hold here: no secret ever comes from a flag value,
//! and no environment variable's value is shown in help (`hide_env_values` on every `env`
//! argument).

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, Command, FromArgMatches};
use url::Url;

use super::{FederatedArgs, Pkcs11Args, path_or_pkcs11_uri};
use crate::cloud::{self, Cloud};
use crate::jws::Alg;

/// The certificate variable of azure-identity's `EnvironmentCredential`.
pub const CERT_ENV: &str = "AZURE_CLIENT_CERTIFICATE_PATH";

/// Where the certificate and private key come from, and where `--cert`'s value came from.
///
/// clap counts a value taken from the environment as given, so the precedence rules
/// (one proof per run; a flag beats the environment) cannot tell `--cert X` from
/// `AZURE_CLIENT_CERTIFICATE_PATH=X` by the value. clap's own record of each value's source
/// (`ArgMatches::value_source`) is kept here, in `cert_from_env`, so `settings` never guesses.
#[derive(Debug, Clone, Default)]
pub struct CredentialArgs {
    /// `--cert`, else a non-empty `AZURE_CLIENT_CERTIFICATE_PATH`.
    pub cert: Option<PathBuf>,
    /// Whether `cert` is `AZURE_CLIENT_CERTIFICATE_PATH`'s value rather than a `--cert` flag.
    pub cert_from_env: bool,
    pub key: Option<PathBuf>,
    pub pkcs11: Pkcs11Args,
    pub password_file: Option<PathBuf>,
    pub password_stdin: bool,
}

/// The credential options as clap derives them (the help text lives here). The group keeps
/// the name it had before the wrapper, so the command clap builds is unchanged.
#[derive(Debug, Args)]
#[group(id = "CredentialArgs")]
struct CredentialFlags {
    /// Certificate and private key: PEM (any order, chain allowed) or PFX/PKCS#12, detected by
    /// content; or a pkcs11: URI (certificate and key in a token).
    #[arg(
        long,
        value_name = "PATH",
        env = CERT_ENV,
        hide_env_values = true,
        value_parser = path_or_pkcs11_uri()
    )]
    cert: Option<PathBuf>,

    /// The private key in its own PEM file, when --cert holds only certificates; or an RFC 7512
    /// pkcs11: URI of a key in a token, e.g. 'pkcs11:token=graphd;object=app-key'.
    #[arg(long, value_name = "PATH|URI", value_parser = path_or_pkcs11_uri())]
    key: Option<PathBuf>,

    #[command(flatten)]
    pkcs11: Pkcs11Args,

    /// Read the key or PFX password from this file (one trailing newline is ignored).
    /// Also: AZURE_CLIENT_CERTIFICATE_PASSWORD, or a prompt on a terminal.
    #[arg(long, value_name = "PATH", conflicts_with = "password_stdin")]
    password_file: Option<PathBuf>,

    /// Read the key or PFX password from stdin.
    #[arg(long)]
    password_stdin: bool,
}

impl CredentialArgs {
    fn from_flags(flags: CredentialFlags, cert_source: Option<ValueSource>) -> Self {
        let CredentialFlags {
            cert,
            key,
            pkcs11,
            password_file,
            password_stdin,
        } = flags;
        let cert_from_env = cert_source == Some(ValueSource::EnvVariable);
        // An empty variable is an unset one (as graphd reads AZURE_FEDERATED_TOKEN_FILE):
        // CI systems set a variable to "" when the secret or setting behind it is missing.
        let cert = cert.filter(|c| !(cert_from_env && c.as_os_str().is_empty()));
        CredentialArgs {
            cert_from_env: cert_from_env && cert.is_some(),
            cert,
            key,
            pkcs11,
            password_file,
            password_stdin,
        }
    }
}

impl FromArgMatches for CredentialArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = CredentialFlags::from_arg_matches(matches)?;
        Ok(CredentialArgs::from_flags(
            flags,
            matches.value_source("cert"),
        ))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = CredentialArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for CredentialArgs {
    fn group_id() -> Option<clap::Id> {
        CredentialFlags::group_id()
    }

    fn augment_args(cmd: Command) -> Command {
        CredentialFlags::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        CredentialFlags::augment_args_for_update(cmd)
    }
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

#[cfg(test)]
mod tests {
    use clap::parser::ValueSource;

    use super::{CredentialArgs, CredentialFlags, Pkcs11Args};

    fn flags(cert: Option<&str>) -> CredentialFlags {
        CredentialFlags {
            cert: cert.map(Into::into),
            key: None,
            pkcs11: Pkcs11Args::default(),
            password_file: None,
            password_stdin: false,
        }
    }

    #[test]
    fn the_certificate_knows_where_it_came_from() {
        let from = |cert, source| CredentialArgs::from_flags(flags(cert), source);
        let c = from(Some("a.pem"), Some(ValueSource::EnvVariable));
        assert_eq!(
            (c.cert.unwrap().to_str(), c.cert_from_env),
            (Some("a.pem"), true)
        );
        let c = from(Some("a.pem"), Some(ValueSource::CommandLine));
        assert_eq!(
            (c.cert.unwrap().to_str(), c.cert_from_env),
            (Some("a.pem"), false)
        );
        // An empty variable is no certificate; an empty flag is a flag (and fails as a path).
        let c = from(Some(""), Some(ValueSource::EnvVariable));
        assert!(c.cert.is_none() && !c.cert_from_env);
        let c = from(Some(""), Some(ValueSource::CommandLine));
        assert_eq!(
            (c.cert.unwrap().to_str(), c.cert_from_env),
            (Some(""), false)
        );
        let c = from(None, None);
        assert!(c.cert.is_none() && !c.cert_from_env);
    }

    #[test]
    fn a_cert_flag_is_a_flag() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["graphd", "token", "--cert", "a.pem"]).unwrap();
        let crate::cli::Command::Token(t) = cli.command else {
            panic!("token")
        };
        let c = t.identity.credential;
        assert_eq!(
            (c.cert.unwrap().to_str(), c.cert_from_env),
            (Some("a.pem"), false)
        );
    }
}
