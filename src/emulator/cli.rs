//! `graphd emulator` arguments, and turning them (plus `--apps-file`, read by `cli_apps`)
//! into an [`EmulatorConfig`].

use std::net::Ipv4Addr;
use std::path::PathBuf;

use openssl::x509::X509;

use super::cli_apps::apps_file;
use super::cli_federation::FederationArgs;
use super::{
    AppRegistration, DEFAULT_TENANT, DEFAULT_USERS, EmulatorConfig, FaultRule,
    MAX_CLOCK_OFFSET_SECS, MAX_TOKEN_LIFETIME_SECS, MAX_USERS,
};
use crate::credential;
use crate::error::Result;
use crate::messages;

pub use super::cli_apps::load_certificates;

const AFTER_HELP: &str = "\
Apps: --app CLIENT_ID=CERT_PATH[:ROLE,...]  e.g. --app 0000...=cert.pem:User.Read.All
  CERT_PATH is any PEM (or DER) file holding the certificate; a key in it is ignored.
  --app CLIENT_ID:ROLE,... registers an app without a certificate (federated credentials only).
  With no role the app gets tokens without roles, and Graph answers 403.
  --apps-file FILE: JSON [{\"client_id\": \"...\", \"certificate\": \"cert.pem\", \"roles\": [\"User.Read.All\"],
  \"federated\": [{\"issuer\": \"emulator\", \"subject\": \"...\", \"audiences\": [\"api://AzureADTokenExchange\"]}]}]
  (or {\"apps\": [...], \"issuers\": [{\"issuer\": URL, \"jwks\": \"jwks.json\"}]}; \"certificates\": [...]
  for several; paths relative to FILE).

Federated credentials (secretless CI): --federated CLIENT_ID=ISSUER,SUBJECT[,AUDIENCE]
  ISSUER is a URL, or `emulator` for the built-in OIDC issuer at {authority}/oidc (discovery,
  JWKS, and a GitHub Actions-shaped ID token endpoint: --print-env prints
  ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN). AUDIENCE defaults to
  api://AzureADTokenExchange. Another issuer's keys: --issuer-jwks ISSUER=JWKS_FILE.
  --token-file PATH keeps a Kubernetes-style token file fresh (AZURE_FEDERATED_TOKEN_FILE).
  e.g. --app 0000...:User.Read.All --federated 0000...=emulator,repo:octo/app:ref:refs/heads/main
  Each app has an application object: GET /v1.0/applications/{object-id} or
  /v1.0/applications(appId='CLIENT_ID') (roles Application.Read.All, .ReadWrite.OwnedBy or
  .ReadWrite.All), and POST .../addKey and .../removeKey with a proof of possession.

Faults: --fault SIDE:ACTION[,KEY=VALUE]...  (repeatable; the first matching rule answers)
  SIDE     token (token requests only) | graph
  ACTION   429 | 500 | 502 | 503 | 504    that status with the side's error body
           slow=MS                        answer normally after MS milliseconds
           hang | drop                    never answer | close the connection
           truncated                      200 with JSON cut in the middle
           not-json[=STATUS] | html[=STATUS]   a plain-text or HTML body (200 by default)
           huge[=BYTES]                   a valid JSON body of BYTES (default 10 MB)
           aadsts=CODE                    token side: Entra's error for that AADSTS code
           next-link=URL                  graph side: a users page whose nextLink is URL
           redirect=URL                   302 Found with Location: URL (clients must not follow)
           expired-token                  graph side: 401 as for an expired token; every token
                                          issued so far counts as expired
  KEYS     retry-after=N | N.N | date:N   Retry-After: seconds, fractional, HTTP-date N s ahead
           count=N | all (default 1), skip=M (default 0), every=K (default 1)
  e.g. --fault graph:429,retry-after=2,count=3   --fault token:aadsts=7000222,skip=1

A changing tenant (for /v1.0/users/delta): --churn N applies N random changes a minute;
  or change it on demand through the emulator-only admin endpoint on the Graph port:
  curl -X POST \"$GRAPHD_GRAPH_ENDPOINT/_emulator/tenant/changes?create=3&update=5&delete=2\"
  (update, delete, deletePermanently: a count or comma-separated ids; restore=IDS;
  props=jobTitle,...; churn=N), GET /_emulator/tenant, POST .../expire-delta-tokens,
  POST .../reset-delta-sync.";

/// Run the local Entra token endpoint + Graph emulator (127.0.0.1 only).
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct EmulatorArgs {
    /// Token-side port (the authority host); 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,

    /// Graph-side port (a different origin); 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub graph_port: u16,

    /// Listen address: only 127.0.0.1 is accepted, the emulator hands tokens to anyone who reaches it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", value_parser = loopback_only)]
    pub bind: Ipv4Addr,

    /// Serve HTTPS with a generated CA (trust it with --ca-file / GRAPHD_CA_FILE).
    #[arg(long)]
    pub tls: bool,

    /// Write the CA certificate (PEM) here; with --tls.
    #[arg(long, value_name = "PATH", requires = "tls")]
    pub ca_out: Option<PathBuf>,

    /// Number of synthetic users on the Graph side (at most 10^12).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_USERS, value_parser = clap::value_parser!(u64).range(0..=MAX_USERS))]
    pub users: u64,

    /// Register an app: CLIENT_ID=CERT_PATH[:ROLE,...] (repeatable).
    #[arg(long = "app", value_name = "CLIENT_ID=CERT_PATH[:ROLE,...]", value_parser = parse_app)]
    pub apps: Vec<AppSpec>,

    /// Register the apps listed in a JSON file.
    #[arg(long, value_name = "FILE")]
    pub apps_file: Option<PathBuf>,

    /// The tenant served: a GUID or domain.
    #[arg(long, value_name = "TENANT", default_value = DEFAULT_TENANT, value_parser = crate::cloud::check_tenant)]
    pub tenant: String,

    /// Refuse a client assertion whose jti was already used (Entra itself does not).
    #[arg(long)]
    pub strict_jti: bool,

    /// Inject a fault (repeatable); syntax below.
    #[arg(long = "fault", value_name = "SPEC", value_parser = FaultRule::parse)]
    pub faults: Vec<FaultRule>,

    /// Print `export NAME=value` lines for graphd and the Azure SDKs, then keep serving.
    #[arg(long)]
    pub print_env: bool,

    /// Lifetime (expires_in) of issued access tokens, in seconds (1-86400).
    #[arg(long, value_name = "SECS", default_value_t = 3599, value_parser = clap::value_parser!(i64).range(1..=MAX_TOKEN_LIFETIME_SECS))]
    pub token_lifetime: i64,

    /// Federated credentials, the built-in OIDC issuer and the token file.
    #[command(flatten)]
    pub federation: FederationArgs,

    /// Run the emulator's clock this many seconds ahead (negative: behind) to test clock skew;
    /// at most ten years either way.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(i64).range(-MAX_CLOCK_OFFSET_SECS..=MAX_CLOCK_OFFSET_SECS)
    )]
    pub clock_offset: i64,

    /// Apply N random changes a minute to the users (created, updated, deleted), for demos of
    /// `list-users --delta` (at most 1,000,000).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub churn: u64,

    /// Age in seconds after which delta tokens are refused as expired (Graph: 7 days).
    #[arg(long, value_name = "SECS", default_value_t = super::DEFAULT_TOKEN_LIFETIME_SECS, value_parser = clap::value_parser!(i64).range(1..))]
    pub delta_token_lifetime: i64,
    /// Milliseconds before a key added with Graph's addKey is accepted by the token side
    /// (Entra takes a while; AADSTS700027 until then). Removed keys stop working at once.
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub key_propagation_ms: u64,
}

/// One `--app` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    pub client_id: String,
    /// `None` for an app registered without a certificate.
    pub cert: Option<PathBuf>,
    pub roles: Vec<String>,
}

fn loopback_only(s: &str) -> std::result::Result<Ipv4Addr, String> {
    match s.trim() {
        "127.0.0.1" | "localhost" => Ok(Ipv4Addr::LOCALHOST),
        _ => Err(
            "the emulator listens on 127.0.0.1 only: it issues tokens to anyone who can reach it"
                .into(),
        ),
    }
}

/// `CLIENT_ID=CERT_PATH[:ROLE,...]`. The roles are after the last `:` when that part holds
/// no path separator, so `C:\certs\a.pem` style paths keep working. `CLIENT_ID:ROLE,...`
/// registers an app without a certificate (for federated credentials).
pub fn parse_app(s: &str) -> std::result::Result<AppSpec, String> {
    if !s.contains('=')
        && let Some((id, roles)) = s.split_once(':')
    {
        return Ok(AppSpec {
            client_id: crate::cloud::check_client_id(id)?,
            cert: None,
            roles: split_roles(roles),
        });
    }
    let (id, rest) = s
        .split_once('=')
        .ok_or_else(|| "the value is not CLIENT_ID=CERT_PATH[:ROLE,...]".to_string())?;
    let client_id = crate::cloud::check_client_id(id)?;
    let (path, roles) = match rest.rsplit_once(':') {
        Some((p, r)) if !r.contains(['/', '\\']) => (p, r),
        _ => (rest, ""),
    };
    if path.trim().is_empty() {
        return Err("the value names no certificate file (CLIENT_ID=CERT_PATH[:ROLE,...])".into());
    }
    Ok(AppSpec {
        client_id,
        cert: Some(PathBuf::from(path)),
        roles: split_roles(roles),
    })
}

fn split_roles(roles: &str) -> Vec<String> {
    roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect()
}

/// The configuration the arguments describe; reads certificate and apps files.
pub fn config(args: &EmulatorArgs) -> Result<EmulatorConfig> {
    let mut apps = Vec::new();
    for spec in &args.apps {
        apps.push(AppRegistration {
            client_id: spec.client_id.clone(),
            certificates: match &spec.cert {
                Some(cert) => load_certificates(cert)?,
                None => Vec::new(),
            },
            roles: spec.roles.clone(),
        });
    }
    let mut federation = args.federation.config()?;
    if let Some(file) = &args.apps_file {
        let from_file = apps_file(file)?;
        apps.extend(from_file.apps);
        federation.federated.extend(from_file.federated);
        federation.issuer_keys.extend(from_file.issuer_keys);
    }
    for app in &apps {
        for cert in &app.certificates {
            warn_unusable(&app.client_id, cert);
        }
    }
    Ok(EmulatorConfig {
        tenant: args.tenant.clone(),
        apps,
        users: args.users,
        tls: args.tls,
        ca_out: args.ca_out.clone(),
        token_port: args.port,
        graph_port: args.graph_port,
        strict_jti: args.strict_jti,
        token_lifetime_secs: args.token_lifetime,
        clock_offset_secs: args.clock_offset,
        faults: args.faults.clone(),
        delta_token_lifetime_secs: args.delta_token_lifetime,
        churn_per_minute: args.churn,
        federated: federation.federated,
        issuer_keys: federation.issuer_keys,
        oidc: federation.oidc,
        token_file: federation.token_file,
        key_propagation_ms: args.key_propagation_ms,
    })
}

/// Registration succeeds (Entra refuses at sign-in), but say now what will fail.
fn warn_unusable(client_id: &str, cert: &X509) {
    let Ok(key) = cert.public_key() else { return };
    if key.id() != openssl::pkey::Id::RSA {
        messages::warn(&format!(
            "app {client_id}: the certificate's key is not RSA; token requests with it will fail (AADSTS700027)"
        ));
    } else if key.bits() < credential::MIN_RSA_BITS {
        messages::warn(&format!(
            "app {client_id}: the certificate has a {}-bit key; token requests with it will fail (AADSTS50032)",
            key.bits()
        ));
    }
    if crate::clock::asn1_to_unix(cert.not_after()).is_some_and(|t| t < crate::clock::now_unix()) {
        messages::warn(&format!(
            "app {client_id}: the certificate has expired; token requests with it will fail (AADSTS700027)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    #[test]
    fn app_specs() {
        let a = parse_app(&format!(
            "{ID}=certs/app.pem:User.Read.All, Directory.Read.All"
        ))
        .unwrap();
        assert_eq!(a.cert, Some(PathBuf::from("certs/app.pem")));
        assert_eq!(a.roles, ["User.Read.All", "Directory.Read.All"]);
        let none = parse_app(&format!("{ID}=app.pem")).unwrap();
        assert!(none.roles.is_empty());
        let empty = parse_app(&format!("{ID}=app.pem:")).unwrap();
        assert_eq!(empty.cert, Some(PathBuf::from("app.pem")));
        assert!(empty.roles.is_empty());
        let windows = parse_app(&format!("{ID}=C:\\certs\\a.pem")).unwrap();
        assert_eq!(windows.cert, Some(PathBuf::from("C:\\certs\\a.pem")));
        let federated_only = parse_app(&format!("{ID}:User.Read.All")).unwrap();
        assert_eq!(federated_only.cert, None);
        assert_eq!(federated_only.roles, ["User.Read.All"]);
        assert!(parse_app("not-a-guid=a.pem").is_err());
        assert!(parse_app(ID).is_err());
        assert!(parse_app(&format!("{ID}=:User.Read.All")).is_err());
        assert!(loopback_only("0.0.0.0").is_err());
        assert!(loopback_only("192.168.1.2").is_err());
        assert_eq!(loopback_only("127.0.0.1").unwrap(), Ipv4Addr::LOCALHOST);
    }
}
