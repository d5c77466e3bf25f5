//! `--ca-file` (`GRAPHD_CA_FILE`): extra trusted roots, read and checked before any request.

use std::path::Path;

use crate::error::{CaFileProblem, ConfigProblem, Error, Result};
use crate::fileio;

/// The largest CA file graphd reads: a system bundle is ~200 KiB.
const MAX_CA_FILE: u64 = 4 * 1024 * 1024;

/// The PEM certificates of `--ca-file`.
pub fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let fail = |problem| {
        Error::Config(ConfigProblem::CaFile {
            path: path.to_path_buf(),
            problem,
        })
    };
    let bytes =
        fileio::read_bounded(path, MAX_CA_FILE).map_err(|p| fail(CaFileProblem::File(p)))?;
    let certs = crate::credential::certificates_from_pem(&bytes)
        .map_err(|p| fail(CaFileProblem::Pem(p)))?;
    if certs.is_empty() {
        return Err(fail(CaFileProblem::NoCertificate));
    }
    certs
        .iter()
        .map(|c| {
            c.to_der()
                .ok()
                .and_then(|der| reqwest::Certificate::from_der(&der).ok())
                .ok_or_else(|| fail(CaFileProblem::Unusable))
        })
        .collect()
}
