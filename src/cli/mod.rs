//! The command line: clap derive types and environment variables only. No logic beyond
//! value parsing; `settings` turns these into checked settings, `render` turns clap's parse
//! errors into graphd's one-line error and hint.
//!
//! Team conventions for this file:
//! - `///` comments are the help text: write them for users, first line short.
//! - Environment names follow the Azure SDKs' `EnvironmentCredential` (`AZURE_*`), graphd's
//!   own use `GRAPHD_*`; no variable's value is ever shown in help (`hide_env_values` on every
//!   `env` argument: an authority or proxy URL can carry a password; a unit test checks).
//! - Secrets never come from a flag value: passwords come from a file, stdin, the environment
//!   or a prompt. Do not add a `--password VALUE`.
//! - Values are validated here with `value_parser` so that a bad flag or variable is a usage
//!   error (exit 2) before anything else runs.
//! - Argument groups shared by subcommands are `#[command(flatten)]` structs.

mod federated;
mod pkcs11;
pub mod render;

pub use federated::FederatedArgs;

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use url::Url;

use crate::cloud;
use crate::output::OutputFormat;
pub use pkcs11::Pkcs11Args;
use pkcs11::{path_or_pkcs11_uri, pkcs11_uri};

mod cert_args;
mod common_args;
mod rotate_args;

pub use cert_args::CertArgs;
pub use common_args::{AppArgs, CERT_ENV, CredentialArgs, IdentityArgs, NetArgs, SigningArgs};
pub use rotate_args::RotateArgs;

/// Call Microsoft Graph as an app, with a certificate instead of a client secret.
#[derive(Debug, Parser)]
#[command(
    name = "graphd",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 ok, 1 unexpected, 2 usage, 3 local credential or configuration, \
4 token service refused, 5 Graph refused, 6 network/TLS/timeout, 7 cert --expires-within: \
expires soon.\n\
Run `graphd demo` to see the whole flow against the built-in emulator, with no tenant."
)]
pub struct Cli {
    /// Diagnostics on stderr (method, host, path, status, request ids); secrets are redacted.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate an RSA key and a self-signed certificate to upload to an app registration.
    GenCert(GenCertArgs),
    /// Inspect a credential file: subject, validity, key, thumbprints, chain, key match.
    Cert(CertArgs),
    /// Replace the app's certificate with a new one through Graph (addKey), unattended.
    Rotate(RotateArgs),
    /// Build and sign a client assertion (JWT) and print it.
    Assertion(AssertionArgs),
    /// Get an app-only access token and print it.
    Token(TokenArgs),
    /// List every user (GET /v1.0/users, all pages).
    ListUsers(ListUsersArgs),
    /// Any Graph GET, by path (/v1.0/...) or URL on the Graph endpoint.
    Get(GetArgs),
    /// Print the admin consent URL for the app.
    ConsentUrl(ConsentArgs),
    /// Run the local Entra token endpoint + Graph emulator (loopback only).
    Emulator(crate::emulator::cli::EmulatorArgs),
    /// Run the whole flow against an in-process emulator: certificate, token, users.
    Demo(DemoArgs),
    /// Serve the app's tokens to every tool of the job (App Service managed identity protocol, loopback only).
    Serve(ServeArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct AssertionArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,

    /// Print the decoded header and claims as JSON instead of the assertion (nothing secret;
    /// the one output for a federated credential).
    #[arg(long)]
    pub claims: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub net: NetArgs,

    /// Print the token response as JSON, with expires_on (unix seconds).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListUsersArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub net: NetArgs,

    /// Properties to return, comma-separated ($select).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub select: Vec<String>,

    /// OData filter ($filter), e.g. "startswith(displayName,'A')".
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Page size ($top), 1-999; with --delta, the preferred page size (Prefer:
    /// odata.maxpagesize), which Graph caps.
    #[arg(long, value_name = "N", default_value_t = 999, value_parser = clap::value_parser!(u16).range(1..=999))]
    pub top: u16,

    /// Stop after N users.
    #[arg(long, value_name = "N")]
    pub max: Option<u64>,

    /// Ask for the total ($count=true, ConsistencyLevel: eventual) and print it on stderr.
    #[arg(long)]
    pub count: bool,

    /// Incremental sync (GET /v1.0/users/delta): only users created, changed or deleted
    /// since the last run; STATE_FILE keeps where that run ended (none yet: everyone).
    #[arg(long, value_name = "STATE_FILE", conflicts_with_all = ["max", "count"])]
    pub delta: Option<PathBuf>,

    /// With --delta: start over with a full round, whatever STATE_FILE holds.
    #[arg(long, requires = "delta")]
    pub delta_reset: bool,

    /// With --delta: when Graph no longer accepts the saved state (expired after 7 days, or
    /// reset), start over with a full round instead of failing.
    #[arg(long, requires = "delta")]
    pub delta_reset_on_expiry: bool,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,

    /// CSV cells exactly as received, for programs reading the CSV. By default a cell that
    /// starts with =, +, -, @, a tab or a carriage return gets a leading ' so that a
    /// spreadsheet shows it as text instead of running it as a formula (CSV injection).
    #[arg(long)]
    pub csv_raw: bool,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub net: NetArgs,

    /// A path such as /v1.0/users/{id}, or a full URL on the Graph endpoint.
    pub path_or_url: String,

    /// Follow @odata.nextLink and print every item of every page.
    #[arg(long)]
    pub all: bool,

    /// Indent the JSON (2 spaces); the default when stdout is a terminal.
    #[arg(long, conflicts_with_all = ["compact", "all"])]
    pub pretty: bool,

    /// JSON on one line, as Graph sends it; the default when stdout is not a terminal.
    #[arg(long, conflicts_with = "all")]
    pub compact: bool,

    /// Output format for --all.
    #[arg(long, short = 'o', value_enum, default_value_t, requires = "all")]
    pub output: OutputFormat,

    /// CSV cells exactly as received, for programs reading the CSV. By default a cell that
    /// starts with =, +, -, @, a tab or a carriage return gets a leading ' so that a
    /// spreadsheet shows it as text instead of running it as a formula (CSV injection).
    #[arg(long, requires = "all")]
    pub csv_raw: bool,

    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ConsentArgs {
    #[command(flatten)]
    pub app: AppArgs,

    /// Print the v1 form (/adminconsent without scope) instead of the v2 form.
    #[arg(long)]
    pub v1: bool,

    /// Where Entra sends the admin after consenting (must be registered on the app).
    #[arg(long, value_name = "URL")]
    pub redirect_uri: Option<Url>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("protected").args(["encrypt_key", "pfx"]).multiple(true)))]
pub struct GenCertArgs {
    /// Directory to write key.pem and cert.pem into (created with mode 0700).
    #[arg(long, value_name = "DIR", default_value = "certs")]
    pub out: PathBuf,

    /// Certificate subject, e.g. "CN=graphd-ci,O=Contoso" or "/CN=graphd-ci/O=Contoso"
    /// (CN, O, OU, L, ST, C, STREET, DC, emailAddress, serialNumber, title; `\,` escapes a comma).
    #[arg(long, default_value = "CN=graphd", value_parser = crate::gen_cert::Subject::parse)]
    pub subject: crate::gen_cert::Subject,

    /// Validity in days (1-3650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,

    /// RSA key size: 2048, 3072 or 4096.
    #[arg(long, value_name = "BITS", default_value_t = 2048, value_parser = key_size)]
    pub key_size: u32,

    /// Encrypt key.pem (AES-256) under a password (--password-file, --password-stdin,
    /// AZURE_CLIENT_CERTIFICATE_PASSWORD, or a prompt).
    #[arg(long)]
    pub encrypt_key: bool,

    /// Also write graphd.pfx (AES-256/PBKDF2) holding key and certificate; needs a password.
    #[arg(long)]
    pub pfx: bool,

    /// Read the password for --encrypt-key / --pfx from this file (one trailing newline is ignored).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "password_stdin",
        requires = "protected"
    )]
    pub password_file: Option<PathBuf>,

    /// Read the password for --encrypt-key / --pfx from stdin.
    #[arg(long, requires = "protected")]
    pub password_stdin: bool,

    /// Replace existing files (atomically).
    #[arg(long)]
    pub force: bool,

    /// Application (client) ID, to print the exact upload command.
    #[arg(long, value_name = "GUID", env = "AZURE_CLIENT_ID", hide_env_values = true, value_parser = cloud::check_client_id)]
    pub client_id: Option<String>,

    /// Generate the key inside a PKCS#11 token instead of key.pem, e.g.
    /// 'pkcs11:token=graphd;object=app-key': it never leaves the token; the certificate is
    /// stored next to it and written to cert.pem.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "protected")]
    pub key: Option<String>,

    #[command(flatten)]
    pub pkcs11: Pkcs11Args,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of synthetic users in the emulator.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(0..=crate::emulator::MAX_USERS))]
    pub users: u64,

    /// How many users to print.
    #[arg(long, default_value_t = 5)]
    pub show: usize,

    /// The secretless flow instead: a GitHub Actions-style ID token exchanged through a
    /// federated credential, no certificate at all.
    #[arg(long)]
    pub federated: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Tools find the endpoint with IDENTITY_ENDPOINT and IDENTITY_HEADER (azure-identity's \
ManagedIdentityCredential / DefaultAzureCredential, MSAL's ManagedIdentityClient, az login --identity).\n\
Start it in the background and source its lines:\n  \
mkfifo serve.env; graphd serve --print-env > serve.env & . ./serve.env; ...; kill %1\n\
IDENTITY_HEADER works like the credential for as long as graphd serve runs: keep it out of logs."
)]
pub struct ServeArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub net: NetArgs,

    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,

    /// Listen address: only 127.0.0.1 is accepted (whoever reaches the endpoint with the header gets tokens).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", value_parser = serve_loopback_only)]
    pub bind: std::net::Ipv4Addr,

    /// Also hand out tokens for this resource (repeatable), e.g. `https://management.azure.com`
    /// [always served: the cloud's Graph, or the resource of --scope].
    #[arg(long = "allow-resource", value_name = "URL", value_parser = crate::resource::parse_resource)]
    pub allow_resources: Vec<String>,

    /// Print `export IDENTITY_ENDPOINT=...` and `export IDENTITY_HEADER=...` once listening, then keep serving.
    #[arg(long)]
    pub print_env: bool,
}

fn serve_loopback_only(s: &str) -> Result<std::net::Ipv4Addr, String> {
    match s.trim() {
        "127.0.0.1" | "localhost" => Ok(std::net::Ipv4Addr::LOCALHOST),
        _ => Err("graphd serve listens on 127.0.0.1 only: it hands out tokens to whoever reaches it with the header".into()),
    }
}

/// RSA sizes Entra accepts and gen-cert offers.
fn key_size(s: &str) -> Result<u32, String> {
    match s.trim() {
        "2048" => Ok(2048),
        "3072" => Ok(3072),
        "4096" => Ok(4096),
        _ => Err("the key size must be one of 2048, 3072, 4096".into()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Help never shows an environment variable's value: `AZURE_AUTHORITY_HOST` or a proxy can
    /// hold `user:password@`, and help text ends up in CI logs.
    #[test]
    fn no_help_shows_an_environment_value() {
        fn walk(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                if arg.get_env().is_some() {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "{path} --{} shows its environment value in --help",
                        arg.get_id()
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&Cli::command(), "graphd");
    }
}
