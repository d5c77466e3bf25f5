//! Choosing between a certificate and a federated token, and where the token comes from
//! (docs/protocol.md#workload-identity-federation).
//!
//! One proof per run. Two chosen on the command line (`--cert` and `--github-oidc`) is a
//! usage error (clap refuses most pairs; `--cert` against a federated flag is refused here,
//! from clap's record of where the certificate came from, `CredentialArgs::cert_from_env`,
//! so the same path in `AZURE_CLIENT_CERTIFICATE_PATH` does not turn a flag into an
//! environment value). A flag beats the environment, which beats the `--config` file. When
//! a certificate and a token file both come only from the environment, the certificate wins,
//! as the Azure SDKs' `EnvironmentCredential` comes before `WorkloadIdentityCredential` in
//! `DefaultAzureCredential`; `-v` says which was used.
//!
//! GitHub's request token is read here (into its redacting type) so the identity never looks
//! at the environment for it; token files and variables are read by the identity, per request.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use url::Url;

use super::file::ConfigFile;
use crate::cli::{CERT_ENV, CredentialArgs, FederatedArgs, SigningArgs};
use crate::cloud::{self, Cloud};
use crate::error::{Error, FederatedProblem, Result, TokenOrigin, UsageProblem};
use crate::messages;
use crate::secret::GithubRequestToken;

/// The variable the Azure workload identity webhook sets (docs/protocol.md#kubernetes-token-file).
pub const TOKEN_FILE_ENV: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// What a GitHub Actions job with `id-token: write` has (docs/protocol.md#github-actions-oidc).
pub const GITHUB_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const GITHUB_TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// A federated credential, decided but not yet read.
#[derive(Debug)]
pub struct FederatedSpec {
    pub source: FederatedSource,
    /// The audience to ask GitHub for, and to check a token against when `audience_explicit`.
    pub audience: String,
    pub audience_explicit: bool,
}

/// Where the external token comes from.
#[derive(Debug)]
pub enum FederatedSource {
    /// A file read again for every token request; `from_env` when `AZURE_FEDERATED_TOKEN_FILE`.
    File { path: PathBuf, from_env: bool },
    /// GitHub Actions' ID token endpoint, asked for a new token for every token request.
    GitHub(GithubEndpoint),
    /// An environment variable, by name.
    Env(String),
}

/// GitHub's ID token endpoint for this job and the request token that buys from it.
#[derive(Debug)]
pub struct GithubEndpoint {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`: it already carries a query string.
    pub url: Url,
    pub request_token: GithubRequestToken,
}

impl FederatedSource {
    /// Where the token comes from, for messages.
    pub fn origin(&self) -> TokenOrigin {
        match self {
            FederatedSource::File { path, from_env } => TokenOrigin::File {
                path: path.clone(),
                from_env: *from_env,
            },
            FederatedSource::GitHub(g) => TokenOrigin::GitHub {
                host: crate::http::host_of(&g.url),
            },
            FederatedSource::Env(name) => TokenOrigin::Env { name: name.clone() },
        }
    }
}

/// The audience federated credentials expect in `cloud`: `api://AzureADTokenExchange`, and
/// the values Microsoft documents for the US Government and China clouds
/// (docs/protocol.md#workload-identity-federation).
pub fn default_audience(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => "api://AzureADTokenExchange",
        Cloud::Usgov | Cloud::UsgovDod => "api://AzureADTokenExchangeUSGov",
        Cloud::China => "api://AzureADTokenExchangeChina",
    }
}

/// Which proof the arguments, the environment and the config file choose.
pub enum Choice {
    Certificate,
    Federated(PendingSource),
}

/// A federated source before GitHub's variables are read.
pub enum PendingSource {
    File { path: PathBuf, from_env: bool },
    GitHub,
    Env(String),
}

impl PendingSource {
    pub fn origin(&self) -> TokenOrigin {
        match self {
            PendingSource::File { path, from_env } => TokenOrigin::File {
                path: path.clone(),
                from_env: *from_env,
            },
            PendingSource::GitHub => TokenOrigin::GitHub {
                host: "(ACTIONS_ID_TOKEN_REQUEST_URL)".into(),
            },
            PendingSource::Env(name) => TokenOrigin::Env { name: name.clone() },
        }
    }
}

fn env_nonempty(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// Applies the precedence rules (module docs).
pub fn choose(cred: &CredentialArgs, fed: &FederatedArgs, cfg: &ConfigFile) -> Result<Choice> {
    let cert_from_env = cred.cert_from_env;
    let cert_flag = if cred.key.is_some() {
        Some("--key")
    } else if cred.cert.is_some() && !cert_from_env {
        Some("--cert")
    } else {
        None
    };
    let flag = if fed.github_oidc {
        Some(("--github-oidc", PendingSource::GitHub))
    } else if let Some(path) = &fed.federated_token_file {
        Some((
            "--federated-token-file",
            PendingSource::File {
                path: path.clone(),
                from_env: false,
            },
        ))
    } else {
        fed.federated_token_env
            .as_ref()
            .map(|name| ("--federated-token-env", PendingSource::Env(name.clone())))
    };
    if let (Some((federated, _)), Some(cert)) = (&flag, cert_flag) {
        return Err(Error::Usage(UsageProblem::TwoProofs {
            first: cert,
            second: federated,
        }));
    }
    if let Some((name, source)) = flag {
        if cert_from_env {
            messages::trace(&format!(
                "proof: {name} (a flag) is used; {CERT_ENV} is ignored"
            ));
        }
        return Ok(Choice::Federated(source));
    }
    let env_file = env_nonempty(TOKEN_FILE_ENV).map(PathBuf::from);
    if cert_flag.is_some() {
        if env_file.is_some() {
            messages::trace(&format!(
                "proof: the certificate given on the command line is used; {TOKEN_FILE_ENV} is ignored"
            ));
        }
        return Ok(Choice::Certificate);
    }
    match env_file {
        Some(_) if cert_from_env => {
            messages::trace(&format!(
                "proof: {CERT_ENV} and {TOKEN_FILE_ENV} are both set: the certificate is used, as \
                 the Azure SDKs' EnvironmentCredential comes before WorkloadIdentityCredential \
                 (pass --federated-token-file to use the token file)"
            ));
            Ok(Choice::Certificate)
        }
        Some(path) => {
            if cfg.cert.is_some() || cfg.private_key_file.is_some() {
                messages::trace(&format!(
                    "proof: {TOKEN_FILE_ENV} is used; the --config file's certificate is ignored \
                     (the environment beats the config file)"
                ));
            }
            Ok(Choice::Federated(PendingSource::File {
                path,
                from_env: true,
            }))
        }
        None => Ok(Choice::Certificate),
    }
}

/// The federated credential for `source`, reading GitHub's variables when it is GitHub.
pub fn spec(
    source: PendingSource,
    fed: &FederatedArgs,
    signing: Option<&SigningArgs>,
    cloud: Cloud,
) -> Result<FederatedSpec> {
    if signing.is_some_and(|s| s.alg.is_some()) {
        return Err(Error::Usage(UsageProblem::Invalid {
            flag: "--alg",
            why: "it applies to certificate assertions; a federated token is sent as its issuer signed it"
                .into(),
        }));
    }
    let source = match source {
        PendingSource::File { path, from_env } => FederatedSource::File { path, from_env },
        PendingSource::Env(name) => FederatedSource::Env(name),
        PendingSource::GitHub => FederatedSource::GitHub(github_from_env()?),
    };
    let audience = fed
        .federated_audience
        .clone()
        .unwrap_or_else(|| default_audience(cloud).to_string());
    Ok(FederatedSpec {
        source,
        audience,
        audience_explicit: fed.federated_audience.is_some(),
    })
}

/// What `graphd cert` inspects: a certificate credential, or a federated token's source.
pub enum Inspect {
    Certificate(super::KeySource),
    Federated(PendingSource),
}

/// Resolves what `graphd cert` looks at, with the same precedence as every other command.
pub fn inspect_target(
    args: &CredentialArgs,
    fed: &FederatedArgs,
    config: Option<&Path>,
) -> Result<Inspect> {
    let cfg = ConfigFile::load(config)?;
    match choose(args, fed, &cfg)? {
        Choice::Federated(source) => Ok(Inspect::Federated(source)),
        Choice::Certificate => Ok(Inspect::Certificate(super::pkcs11::resolve_key_source(
            args, &cfg,
        )?)),
    }
}

/// `--federated-audience` while a certificate was chosen: a usage error, unless there is no
/// certificate at all (then the missing credential is the error to report).
pub fn no_audience_for_a_certificate(
    cred: &CredentialArgs,
    fed: &FederatedArgs,
    cfg: &ConfigFile,
) -> Result<()> {
    let has_certificate =
        cred.cert.is_some() || cfg.cert.is_some() || cfg.private_key_file.is_some();
    if fed.federated_audience.is_none() || !has_certificate {
        return Ok(());
    }
    let certificate_from = match &cred.cert {
        Some(_) if cred.cert_from_env => CERT_ENV,
        Some(_) => "--cert",
        None => "the --config file",
    };
    Err(Error::Usage(UsageProblem::AudienceWithoutFederated {
        certificate_from,
    }))
}

/// `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, checked.
fn github_from_env() -> Result<GithubEndpoint> {
    let url = env_nonempty(GITHUB_URL_ENV).and_then(|v| v.into_string().ok());
    let token = env_nonempty(GITHUB_TOKEN_ENV).and_then(|v| v.into_string().ok());
    let mut missing = Vec::new();
    if url.is_none() {
        missing.push(GITHUB_URL_ENV);
    }
    if token.is_none() {
        missing.push(GITHUB_TOKEN_ENV);
    }
    let (Some(url), Some(token)) = (url, token) else {
        return Err(Error::Federated(Box::new(
            FederatedProblem::GithubVariablesMissing { missing },
        )));
    };
    Ok(GithubEndpoint {
        url: github_url(&url)?,
        request_token: GithubRequestToken::new(token),
    })
}

/// The ID token URL under graphd's URL policy (`https://`, plain `http://` for loopback
/// only, no user name or password): the request token is sent there.
pub fn github_url(text: &str) -> Result<Url> {
    let bad = |why: &str| {
        Error::Federated(Box::new(FederatedProblem::GithubUrl {
            why: why.to_string(),
        }))
    };
    let url = Url::parse(text.trim()).map_err(|_| bad("is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if cloud::is_loopback(&url) => {}
        _ => return Err(bad("is not an https URL")),
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must name a host and carry no user name or password"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_has_its_audience() {
        assert_eq!(
            default_audience(Cloud::Public),
            "api://AzureADTokenExchange"
        );
        assert_eq!(
            default_audience(Cloud::UsgovDod),
            "api://AzureADTokenExchangeUSGov"
        );
        assert_eq!(
            default_audience(Cloud::China),
            "api://AzureADTokenExchangeChina"
        );
    }

    #[test]
    fn the_request_token_goes_to_https_or_loopback_only() {
        assert!(
            github_url("https://pipelines.actions.githubusercontent.com/x/idtoken?api-version=2.0")
                .is_ok()
        );
        assert!(github_url("http://127.0.0.1:4000/oidc/idtoken?api-version=2.0").is_ok());
        assert!(github_url("http://example.com/idtoken").is_err());
        assert!(github_url("https://u:p@example.com/idtoken").is_err());
        assert!(github_url("not a url").is_err());
    }
}
