//! `graphd emulator`'s federation options (docs/protocol.md#workload-identity-federation):
//! `--federated`, `--issuer-jwks`, the built-in issuer's `--oidc-*` and the Kubernetes-style
//! `--token-file`, and the apps file's `federated` and `issuers` entries, in the shapes Graph
//! gives them (`federatedIdentityCredential`: exactly one audience).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{FederatedCredential, IssuerKeys, IssuerRef, OidcConfig, TokenFileConfig};
use crate::credential::MAX_CREDENTIAL_FILE;
use crate::error::{ConfigProblem, Error, Result};

/// The federation options of `graphd emulator`.
#[derive(Debug, clap::Args)]
pub struct FederationArgs {
    /// Trust a federated credential: `CLIENT_ID=ISSUER,SUBJECT[,AUDIENCE]` (repeatable; ISSUER
    /// `emulator` is the built-in issuer).
    #[arg(long = "federated", value_name = "CLIENT_ID=ISSUER,SUBJECT[,AUDIENCE]", value_parser = FederatedCredential::parse)]
    pub federated: Vec<FederatedCredential>,

    /// The JWKS of an issuer the emulator cannot fetch: ISSUER=JWKS_FILE (repeatable).
    #[arg(long = "issuer-jwks", value_name = "ISSUER=JWKS_FILE", value_parser = parse_issuer_jwks)]
    pub issuer_jwks: Vec<(String, PathBuf)>,

    /// `sub` of the ID tokens the GitHub-shaped endpoint mints.
    #[arg(
        long,
        value_name = "SUB",
        default_value = "repo:graphd-emulator/demo:ref:refs/heads/main"
    )]
    pub oidc_subject: String,

    /// Lifetime of those ID tokens, in seconds (GitHub's: about 300).
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub oidc_token_lifetime: i64,

    /// Write a Kubernetes-style federated token file here and rewrite it at 80% of its lifetime.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// `sub` of the token file's tokens.
    #[arg(
        long,
        value_name = "SUB",
        default_value = "system:serviceaccount:default:graphd",
        requires = "token_file"
    )]
    pub token_file_subject: String,

    /// Lifetime of the token file's tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600, value_parser = clap::value_parser!(i64).range(600..=86_400), requires = "token_file")]
    pub token_file_lifetime: i64,
}

/// What the federation options configure.
pub struct Federation {
    pub federated: Vec<FederatedCredential>,
    pub issuer_keys: Vec<IssuerKeys>,
    pub oidc: OidcConfig,
    pub token_file: Option<TokenFileConfig>,
}

impl FederationArgs {
    /// The configuration the options describe; reads the JWKS files.
    pub fn config(&self) -> Result<Federation> {
        let mut issuer_keys = Vec::new();
        for (issuer, path) in &self.issuer_jwks {
            issuer_keys.push(IssuerKeys {
                issuer: issuer.clone(),
                jwks: read_jwks(path)?,
            });
        }
        Ok(Federation {
            federated: self.federated.clone(),
            issuer_keys,
            oidc: OidcConfig {
                subject: self.oidc_subject.clone(),
                lifetime_secs: self.oidc_token_lifetime,
            },
            token_file: self.token_file.as_ref().map(|path| TokenFileConfig {
                subject: self.token_file_subject.clone(),
                lifetime_secs: self.token_file_lifetime,
                ..TokenFileConfig::new(path.clone())
            }),
        })
    }
}

/// `ISSUER=JWKS_FILE`: the issuer is everything before the last `=` (a URL may hold `=`).
fn parse_issuer_jwks(s: &str) -> std::result::Result<(String, PathBuf), String> {
    match s.rsplit_once('=') {
        Some((issuer, path)) if !issuer.trim().is_empty() && !path.trim().is_empty() => {
            Ok((issuer.trim().to_string(), PathBuf::from(path.trim())))
        }
        _ => Err("write ISSUER=JWKS_FILE".into()),
    }
}

/// A federated credential in the apps file, in Graph's `federatedIdentityCredential` shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FicEntry {
    #[serde(default)]
    name: Option<String>,
    issuer: String,
    subject: String,
    audiences: Vec<String>,
    /// Accepted as Graph has it; not used.
    #[serde(default, rename = "description")]
    _description: Option<String>,
}

/// An issuer's JWKS file, for an issuer the emulator cannot fetch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerEntry {
    issuer: String,
    jwks: PathBuf,
}

/// The credentials of app `client_id` from its apps-file entries.
pub fn credentials(
    client_id: &str,
    entries: Vec<FicEntry>,
) -> std::result::Result<Vec<FederatedCredential>, String> {
    entries
        .into_iter()
        .map(|f| {
            let [audience] = f.audiences.as_slice() else {
                return Err(format!(
                    "app {client_id}: a federated credential has exactly one audience"
                ));
            };
            let mut credential = FederatedCredential::new(
                client_id,
                IssuerRef::parse(&f.issuer),
                &f.subject,
                audience,
            );
            if let Some(name) = f.name {
                credential.name = name;
            }
            Ok(credential)
        })
        .collect()
}

/// The issuers' keys from the apps file's `issuers` (JWKS paths relative to `base`).
pub fn issuer_keys(base: &Path, entries: Vec<IssuerEntry>) -> Result<Vec<IssuerKeys>> {
    entries
        .into_iter()
        .map(|i| {
            Ok(IssuerKeys {
                issuer: i.issuer,
                jwks: read_jwks(&base.join(i.jwks))?,
            })
        })
        .collect()
}

/// A JWKS file (RFC 7517), as JSON, checked.
fn read_jwks(path: &Path) -> Result<serde_json::Value> {
    let bad = |detail: String| {
        Error::Config(ConfigProblem::AppsFile {
            path: path.to_path_buf(),
            detail,
        })
    };
    let bytes =
        crate::fileio::read_bounded(path, MAX_CREDENTIAL_FILE).map_err(|p| bad(p.to_string()))?;
    let jwks: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a JWKS ({e})")))?;
    super::federation::parse_jwks(&jwks).map_err(bad)?;
    Ok(jwks)
}
