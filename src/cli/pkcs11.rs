//! The command line of keys in PKCS#11 tokens: the module, the PIN's sources (never a value),
//! and the checks that make a bad `pkcs11:` URI a usage error before anything runs.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;
use clap::builder::{OsStringValueParser, TypedValueParser};

/// The PKCS#11 module and the token's PIN, for a `pkcs11:` key.
#[derive(Debug, Clone, Default, Args)]
pub struct Pkcs11Args {
    /// The token's PKCS#11 library, for a pkcs11: key (or module-path= in the URI),
    /// e.g. /usr/lib/softhsm/libsofthsm2.so.
    #[arg(
        long,
        value_name = "PATH",
        env = "GRAPHD_PKCS11_MODULE",
        hide_env_values = true
    )]
    pub pkcs11_module: Option<PathBuf>,

    /// Read the token's user PIN from this file (one trailing newline is ignored).
    /// Also: GRAPHD_PKCS11_PIN, pin-source=file:PATH in the URI, or a prompt on a terminal.
    #[arg(long, value_name = "PATH", conflicts_with = "pin_stdin")]
    pub pin_file: Option<PathBuf>,

    /// Read the token's user PIN from stdin.
    #[arg(long, conflicts_with = "password_stdin")]
    pub pin_stdin: bool,
}

/// A file path (any bytes), or a `pkcs11:` URI checked now (RFC 7512; `pin-value` refused),
/// so a bad URI is a usage error. The refusal names attributes, never values.
pub(super) fn path_or_pkcs11_uri() -> impl TypedValueParser<Value = PathBuf> {
    OsStringValueParser::new().try_map(|value: OsString| {
        if let Some(text) = value.to_str().filter(|t| crate::pkcs11::uri::is_uri(t)) {
            crate::pkcs11::Uri::parse(text)
                .map_err(|e| format!("the pkcs11: URI is refused: {e}"))?;
        }
        Ok::<_, String>(PathBuf::from(value))
    })
}

/// A `pkcs11:` URI and nothing else (gen-cert writes key files itself without `--key`).
pub(super) fn pkcs11_uri(s: &str) -> Result<String, String> {
    if !crate::pkcs11::uri::is_uri(s) {
        return Err(
            "gen-cert --key takes a pkcs11: URI naming where to generate the key \
             (without --key, gen-cert writes key.pem itself)"
                .into(),
        );
    }
    crate::pkcs11::Uri::parse(s).map_err(|e| format!("the pkcs11: URI is refused: {e}"))?;
    Ok(s.to_string())
}
