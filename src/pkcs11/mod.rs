//! Keys that never leave hardware: a private key in a PKCS#11 token (an HSM, a TPM through
//! tpm2-pkcs11, a YubiKey through ykcs11, SoftHSM) named by an RFC 7512 `pkcs11:` URI.
//!
//! The token's module is loaded at run time (`module`), one session is opened and the user
//! logged in at most once per process (`session`), the key signs assertions inside the token
//! through [`TokenKey`], a [`crate::jws::SigningKey`] (`sign`), and `gen-cert --key pkcs11:`
//! generates the key pair in the token and stores the certificate next to it (`keygen`).
//!
//! This module never reads a private key's value, never keeps the PIN after `C_Login`, and
//! never logs or formats a PIN; see docs/protocol.md#pkcs11 for the protocol facts.

mod credential;
pub mod keygen;
mod module;
pub mod objects;
mod pin;
pub mod relabel;
mod session;
mod sign;
pub mod uri;

use std::path::PathBuf;

use cryptoki::error::RvError;

pub use credential::{Found, TokenCredential};
pub use module::{Module, installed_modules};
pub use objects::{CertObject, KeyObject, object_name};
pub use pin::{PIN_ENV, PinSource};
pub use session::{Token, TokenFacts};
pub use sign::{TokenKey, Way, Ways};
pub use uri::{ObjectType, Uri};

/// A key in a token, as the command line named it; nothing opened yet.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// The private key (`--key`, or `--cert` when it is a `pkcs11:` URI and `--key` is not).
    pub key: Uri,
    pub cert: CertFrom,
    /// The module: `--pkcs11-module`, `GRAPHD_PKCS11_MODULE` or the URI's `module-path`.
    pub module: PathBuf,
    pub pin: PinSource,
}

/// Where the key's certificate comes from.
#[derive(Debug, Clone)]
pub enum CertFrom {
    /// `--cert FILE`: PEM or DER, chain allowed.
    File(PathBuf),
    /// `--cert pkcs11:...`: a certificate object in the same token.
    Token(Box<Uri>),
    /// The certificate object next to the key: the URI's label and id, else the key's id.
    NextToKey,
}

/// What PKCS#11 work this process did: the promise is one login, whatever the signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// `C_Login` calls, right PIN or wrong.
    pub logins: u64,
    /// Signatures made inside tokens.
    pub signatures: u64,
}

/// This process's [`Stats`].
pub fn stats() -> Stats {
    Stats {
        logins: session::logins(),
        signatures: sign::signatures(),
    }
}

/// A PKCS#11 return value's `CKR_*` name (`PinIncorrect` -> `CKR_PIN_INCORRECT`), as the
/// specification and vendors' documentation spell it.
pub fn ckr_name(rv: &RvError) -> String {
    let debug = format!("{rv:?}");
    let (name, arg) = match debug.split_once('(') {
        Some((n, rest)) => (n.to_string(), Some(rest.trim_end_matches(')').to_string())),
        None => (debug, None),
    };
    let mut out = String::from("CKR");
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    match arg {
        Some(a) => format!("{out} ({a})"),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_are_named_as_the_specification_does() {
        assert_eq!(ckr_name(&RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(
            ckr_name(&RvError::UserNotLoggedIn),
            "CKR_USER_NOT_LOGGED_IN"
        );
        assert_eq!(ckr_name(&RvError::DeviceRemoved), "CKR_DEVICE_REMOVED");
        assert_eq!(ckr_name(&RvError::PinLenRange), "CKR_PIN_LEN_RANGE");
        assert_eq!(
            ckr_name(&RvError::VendorDefined(0x8000_0001)),
            "CKR_VENDOR_DEFINED (2147483649)"
        );
    }
}
