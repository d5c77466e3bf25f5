//! `graphd emulator` arguments, and turning them (plus `--apps-file`) into an
//! [`EmulatorConfig`].

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use openssl::x509::X509;
use serde::Deserialize;

use super::{
    AppRegistration, DEFAULT_TENANT, DEFAULT_USERS, EmulatorConfig, FaultRule,
    MAX_CLOCK_OFFSET_SECS, MAX_TOKEN_LIFETIME_SECS, MAX_USERS,
};
use crate::credential::{self, MAX_CREDENTIAL_FILE};
use crate::error::{CredentialProblem, Error, Result};
use crate::messages;

const AFTER_HELP: &str = "\
Apps: --app CLIENT_ID=CERT_PATH[:ROLE,...]  e.g. --app 0000...=cert.pem:User.Read.All
  CERT_PATH is any PEM (or DER) file holding the certificate; a key in it is ignored.
  With no role the app gets tokens without roles, and Graph answers 403.
  --apps-file FILE: JSON [{\"client_id\": \"...\", \"certificate\": \"cert.pem\", \"roles\": [\"User.Read.All\"]}]
  (or {\"apps\": [...]}; \"certificates\": [...] for several; paths relative to FILE).

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
  KEYS     retry-after=N | N.N | date:N   Retry-After: seconds, fractional, HTTP-date N s ahead
           count=N | all (default 1), skip=M (default 0), every=K (default 1)
  e.g. --fault graph:429,retry-after=2,count=3   --fault token:aadsts=7000222,skip=1";

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
}

/// One `--app` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    pub client_id: String,
    pub cert: PathBuf,
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
/// no path separator, so `C:\certs\a.pem` style paths keep working.
pub fn parse_app(s: &str) -> std::result::Result<AppSpec, String> {
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
    let roles = roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    Ok(AppSpec {
        client_id,
        cert: PathBuf::from(path),
        roles,
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AppsFile {
    List(Vec<AppEntry>),
    Object { apps: Vec<AppEntry> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    client_id: String,
    #[serde(default)]
    certificate: Option<PathBuf>,
    #[serde(default)]
    certificates: Vec<PathBuf>,
    #[serde(default)]
    roles: Vec<String>,
}

/// The configuration the arguments describe; reads certificate and apps files.
pub fn config(args: &EmulatorArgs) -> Result<EmulatorConfig> {
    let mut apps = Vec::new();
    for spec in &args.apps {
        apps.push(AppRegistration {
            client_id: spec.client_id.clone(),
            certificates: load_certificates(&spec.cert)?,
            roles: spec.roles.clone(),
        });
    }
    if let Some(file) = &args.apps_file {
        apps.extend(apps_file(file)?);
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
    })
}

fn apps_file(file: &Path) -> Result<Vec<AppRegistration>> {
    let bad = |detail: String| {
        Error::Config(crate::error::ConfigProblem::AppsFile {
            path: file.to_path_buf(),
            detail,
        })
    };
    let text =
        crate::fileio::read_bounded(file, MAX_CREDENTIAL_FILE).map_err(|p| bad(p.to_string()))?;
    let parsed: AppsFile =
        serde_json::from_slice(&text).map_err(|e| bad(format!("not a valid apps file ({e})")))?;
    let entries = match parsed {
        AppsFile::List(l) | AppsFile::Object { apps: l } => l,
    };
    let base = file.parent().unwrap_or(Path::new("."));
    let mut apps = Vec::with_capacity(entries.len());
    for e in entries {
        let client_id = crate::cloud::check_client_id(&e.client_id).map_err(bad)?;
        let paths: Vec<PathBuf> = e.certificate.into_iter().chain(e.certificates).collect();
        if paths.is_empty() {
            return Err(bad(format!("app {client_id} lists no certificate")));
        }
        let mut certificates = Vec::new();
        for p in paths {
            certificates.extend(load_certificates(&base.join(p))?);
        }
        apps.push(AppRegistration {
            client_id,
            certificates,
            roles: e.roles,
        });
    }
    Ok(apps)
}

/// The certificates in a PEM (any key in it ignored) or DER file.
pub fn load_certificates(path: &Path) -> Result<Vec<X509>> {
    let data = crate::fileio::read_bounded(path, MAX_CREDENTIAL_FILE)
        .map_err(|p| Error::credential(Some(path), CredentialProblem::File(p)))?;
    let certs = if data.starts_with(b"-----") || data.windows(11).any(|w| w == b"-----BEGIN ") {
        credential::certificates_from_pem(&data).map_err(|p| Error::credential(Some(path), p))?
    } else {
        X509::from_der(&data).map(|c| vec![c]).unwrap_or_default()
    };
    if certs.is_empty() {
        return Err(Error::credential(
            Some(path),
            CredentialProblem::Unrecognized,
        ));
    }
    Ok(certs)
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
        assert_eq!(a.cert, PathBuf::from("certs/app.pem"));
        assert_eq!(a.roles, ["User.Read.All", "Directory.Read.All"]);
        let none = parse_app(&format!("{ID}=app.pem")).unwrap();
        assert!(none.roles.is_empty());
        let empty = parse_app(&format!("{ID}=app.pem:")).unwrap();
        assert_eq!(empty.cert, PathBuf::from("app.pem"));
        assert!(empty.roles.is_empty());
        let windows = parse_app(&format!("{ID}=C:\\certs\\a.pem")).unwrap();
        assert_eq!(windows.cert, PathBuf::from("C:\\certs\\a.pem"));
        assert!(parse_app("not-a-guid=a.pem").is_err());
        assert!(parse_app(ID).is_err());
        assert!(parse_app(&format!("{ID}=:User.Read.All")).is_err());
        assert!(loopback_only("0.0.0.0").is_err());
        assert!(loopback_only("192.168.1.2").is_err());
        assert_eq!(loopback_only("127.0.0.1").unwrap(), Ipv4Addr::LOCALHOST);
    }
}
