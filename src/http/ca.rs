//! `--ca-file` (`GRAPHD_CA_FILE`): extra trusted roots, read and checked before any request;
//! and which roots they are added to: the system's, or those of `SSL_CERT_FILE` /
//! `SSL_CERT_DIR`.

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

/// The environment variables that replace the system's trusted roots, if any is set.
///
/// rustls' platform verifier on Linux loads roots with rustls-native-certs, which reads
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` exactly as OpenSSL documents them and, when either is
/// set, loads roots from there *instead of* the system store (an unreadable or empty file
/// then leaves no system root at all). `SSL_CERT_FILE` counts when present at all, even
/// empty; `SSL_CERT_DIR` when it names a directory (its `:`-separated list has a non-empty
/// entry). This mirrors that rule, to say it in `-v` and in TLS failures.
pub fn roots_override() -> Option<String> {
    let file = std::env::var_os("SSL_CERT_FILE");
    let dir = std::env::var_os("SSL_CERT_DIR")
        .filter(|d| std::env::split_paths(d).any(|p| !p.as_os_str().is_empty()));
    let shown = |name: &str, value: &std::ffi::OsStr| format!("{name}={}", value.to_string_lossy());
    match (file, dir) {
        (Some(f), Some(d)) => Some(format!(
            "{} and {}",
            shown("SSL_CERT_FILE", &f),
            shown("SSL_CERT_DIR", &d)
        )),
        (Some(f), None) => Some(shown("SSL_CERT_FILE", &f)),
        (None, Some(d)) => Some(shown("SSL_CERT_DIR", &d)),
        (None, None) => None,
    }
}
