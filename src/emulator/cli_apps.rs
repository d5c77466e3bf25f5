//! `graphd emulator --apps-file FILE` and the certificate files `--app` names, read into
//! registrations: the JSON (a list of apps, or an object with `apps` and `issuers`), each
//! app's certificates, roles and federated credentials, and the issuers' keys. Paths in the
//! file are relative to it.
//!
//! It reads only the files named, bounded (`fileio`), takes only certificates from them (a
//! private key next to one is ignored, never loaded), and refuses an app entry with a field
//! it does not know rather than ignoring it.

use std::path::{Path, PathBuf};

use openssl::x509::X509;
use serde::Deserialize;

use super::cli_federation::{self, FicEntry, IssuerEntry};
use super::{AppRegistration, FederatedCredential, IssuerKeys};
use crate::credential::{self, MAX_CREDENTIAL_FILE};
use crate::error::{CredentialProblem, Error, Result};

#[derive(Deserialize)]
#[serde(untagged)]
enum AppsFile {
    List(Vec<AppEntry>),
    Object {
        apps: Vec<AppEntry>,
        #[serde(default)]
        issuers: Vec<IssuerEntry>,
    },
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
    #[serde(default)]
    federated: Vec<FicEntry>,
}

/// What an apps file registers.
pub(super) struct FromFile {
    pub(super) apps: Vec<AppRegistration>,
    pub(super) federated: Vec<FederatedCredential>,
    pub(super) issuer_keys: Vec<IssuerKeys>,
}

/// Reads an apps file (`--apps-file`): its apps, their certificates and federated
/// credentials, and the issuers' keys.
pub(super) fn apps_file(file: &Path) -> Result<FromFile> {
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
    let (entries, issuers) = match parsed {
        AppsFile::List(l) => (l, Vec::new()),
        AppsFile::Object { apps, issuers } => (apps, issuers),
    };
    let base = file.parent().unwrap_or(Path::new("."));
    let mut out = FromFile {
        apps: Vec::with_capacity(entries.len()),
        federated: Vec::new(),
        issuer_keys: Vec::new(),
    };
    for e in entries {
        let client_id = crate::cloud::check_client_id(&e.client_id).map_err(bad)?;
        let paths: Vec<PathBuf> = e.certificate.into_iter().chain(e.certificates).collect();
        if paths.is_empty() && e.federated.is_empty() {
            return Err(bad(format!(
                "app {client_id} lists no certificate and no federated credential"
            )));
        }
        let mut certificates = Vec::new();
        for p in paths {
            certificates.extend(load_certificates(&base.join(p))?);
        }
        out.federated
            .extend(cli_federation::credentials(&client_id, e.federated).map_err(bad)?);
        out.apps.push(AppRegistration {
            client_id,
            certificates,
            roles: e.roles,
        });
    }
    out.issuer_keys = cli_federation::issuer_keys(base, issuers)?;
    Ok(out)
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
