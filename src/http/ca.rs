//! `--ca-file` (`GRAPHD_CA_FILE`): extra trusted roots, read and checked before any request.

use std::path::Path;

use crate::error::{Error, Result};

/// The PEM certificates of `--ca-file`.
pub fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let bytes = crate::credential::read_limited(path, crate::credential::MAX_CREDENTIAL_FILE)
        .map_err(|e| match e {
            Error::Credential { problem, .. } => Error::config(
                format!("CA file {}: {problem}", path.display()),
                Some(
                    "--ca-file (GRAPHD_CA_FILE) takes a PEM file of trusted root certificates"
                        .to_string(),
                ),
            ),
            other => other,
        })?;
    let certs = crate::credential::certificates_from_pem(&bytes)
        .map_err(|problem| Error::config(format!("CA file {}: {problem}", path.display()), None))?;
    if certs.is_empty() {
        return Err(Error::config(
            format!("CA file {} holds no PEM certificate", path.display()),
            Some("--ca-file takes PEM (-----BEGIN CERTIFICATE-----) root certificates".to_string()),
        ));
    }
    certs
        .iter()
        .map(|c| {
            c.to_der()
                .ok()
                .and_then(|der| reqwest::Certificate::from_der(&der).ok())
                .ok_or_else(|| {
                    Error::config(
                        format!("CA file {}: a certificate cannot be used", path.display()),
                        None,
                    )
                })
        })
        .collect()
}
