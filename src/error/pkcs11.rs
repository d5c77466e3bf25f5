//! Why a key in a PKCS#11 token cannot be used, in words, with the hint that says what to do
//! (worded in `hints`).
//!
//! Never holds a PIN or key material: messages name the module file, the token's label, the
//! object's label and id, the PKCS#11 return value (`CKR_*`) and where the PIN came from.

use std::fmt;
use std::path::PathBuf;

use super::FileProblem;

mod hints;

pub use hints::KNOWN_MODULES;

/// What the token's flags say about its user PIN (`CK_TOKEN_INFO.flags`, PKCS#11 v2.40 §3.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinFlags {
    /// `CKF_USER_PIN_COUNT_LOW`: a wrong PIN was entered since the last right one.
    pub count_low: bool,
    /// `CKF_USER_PIN_FINAL_TRY`: one more wrong PIN locks it.
    pub final_try: bool,
    /// `CKF_USER_PIN_LOCKED`.
    pub locked: bool,
}

impl PinFlags {
    /// The flags in words, or `None` when the token sets none.
    pub fn describe(&self) -> Option<String> {
        let mut said = Vec::new();
        if self.locked {
            said.push("the user PIN is now locked (CKF_USER_PIN_LOCKED)");
        } else if self.final_try {
            said.push("one more wrong PIN locks it (CKF_USER_PIN_FINAL_TRY)");
        } else if self.count_low {
            said.push("a wrong PIN was entered since the last right one (CKF_USER_PIN_COUNT_LOW)");
        }
        (!said.is_empty()).then(|| said.join("; "))
    }
}

/// Why a key in a PKCS#11 token cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pkcs11Problem {
    /// No module from the flag, the environment or the URI (exit 2).
    NoModule,
    /// `--pkcs11-module` and the URI's `module-path` disagree (exit 2).
    ModuleConflict {
        flag: PathBuf,
        uri: PathBuf,
    },
    /// `--key` or `--cert` names an object of the wrong class (exit 2).
    WrongType {
        setting: &'static str,
        kind: &'static str,
    },
    ModuleNotFound {
        path: PathBuf,
        /// The usual modules present on this machine.
        found: Vec<PathBuf>,
    },
    NotAModule {
        path: PathBuf,
        reason: String,
    },
    ModuleFailed {
        path: PathBuf,
        during: &'static str,
        rv: String,
    },
    TokenNotFound {
        wanted: String,
        present: Vec<String>,
    },
    SeveralTokens {
        wanted: String,
        matching: Vec<String>,
    },
    PinMissing {
        token: String,
    },
    PinFile {
        path: PathBuf,
        problem: FileProblem,
    },
    PinInput {
        from: String,
        reason: String,
    },
    PinLength {
        token: String,
        from: String,
        len: usize,
        min: usize,
        max: usize,
    },
    WrongPin {
        token: String,
        from: String,
        flags: PinFlags,
    },
    PinLocked {
        token: String,
    },
    PinExpired {
        token: String,
    },
    KeyNotFound {
        wanted: String,
        token: String,
        present: Vec<String>,
    },
    SeveralKeys {
        wanted: String,
        matching: Vec<String>,
    },
    NotRsa {
        wanted: String,
        kind: String,
    },
    WeakKey {
        wanted: String,
        bits: u32,
    },
    /// The token (or the key's `CKA_ALLOWED_MECHANISMS`) offers no mechanism for `alg`.
    NoMechanism {
        token: String,
        alg: &'static str,
    },
    AlwaysAuthenticate {
        wanted: String,
    },
    KeyMismatch {
        wanted: String,
        cert: String,
    },
    NoCertificate {
        wanted: String,
    },
    ObjectExists {
        token: String,
        objects: Vec<String>,
    },
    /// gen-cert: the token made a key that can leave it; it was destroyed again.
    Unprotected {
        token: String,
        what: &'static str,
    },
    /// A PKCS#11 call failed: while doing what, and its `CKR_*` value.
    Token {
        token: String,
        during: &'static str,
        rv: String,
    },
    /// The token's signature did not verify with the key's own public key.
    BadSignature {
        token: String,
    },
}

impl fmt::Display for Pkcs11Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Pkcs11Problem::*;
        match self {
            NoModule => f.write_str("no PKCS#11 module (the token's library) was given"),
            ModuleConflict { flag, uri } => write!(
                f,
                "--pkcs11-module names {} but the URI's module-path names {}",
                flag.display(),
                uri.display()
            ),
            WrongType { setting, kind } => write!(
                f,
                "{setting} names a {kind} object (type={kind}), not what {setting} takes"
            ),
            ModuleNotFound { path, .. } => {
                write!(f, "PKCS#11 module {}: no such file", path.display())
            }
            NotAModule { path, reason } => {
                write!(f, "{} is not a PKCS#11 module: {reason}", path.display())
            }
            ModuleFailed { path, during, rv } => write!(
                f,
                "the PKCS#11 module {} failed {during}: {rv}",
                path.display()
            ),
            TokenNotFound { wanted, .. } => write!(f, "no token matches {wanted}"),
            SeveralTokens { wanted, matching } => write!(
                f,
                "{} tokens match {wanted}: {}",
                matching.len(),
                matching.join(", ")
            ),
            PinMissing { token } => write!(
                f,
                "token {token} needs its user PIN, and none was given (and there is no terminal to ask on)"
            ),
            PinFile { path, problem } => {
                write!(f, "cannot read the PIN file {}: {problem}", path.display())
            }
            PinInput { from, reason } => write!(f, "cannot read the PIN {from}: {reason}"),
            PinLength {
                token,
                from,
                len,
                min,
                max,
            } => write!(
                f,
                "the PIN {from} has {len} characters, but token {token} takes {min} to {max}; \
                 it was not tried, so no attempt was used"
            ),
            WrongPin { token, from, .. } => write!(
                f,
                "token {token} refused the PIN {from} (CKR_PIN_INCORRECT); graphd does not try \
                 again: tokens lock after a few wrong PINs"
            ),
            PinLocked { token } => write!(
                f,
                "the user PIN of token {token} is locked (CKR_PIN_LOCKED); nothing was tried"
            ),
            PinExpired { token } => write!(
                f,
                "token {token} wants its user PIN changed before use (CKR_PIN_EXPIRED)"
            ),
            KeyNotFound { wanted, token, .. } => {
                write!(f, "no private key matches {wanted} in token {token}")
            }
            SeveralKeys { wanted, matching } => write!(
                f,
                "{} private keys match {wanted}: {}",
                matching.len(),
                matching.join(", ")
            ),
            NotRsa { wanted, kind } => write!(
                f,
                "the key {wanted} is {kind}, not RSA: Entra ID accepts only RSA certificate credentials"
            ),
            WeakKey { wanted, bits } => write!(
                f,
                "the key {wanted} is RSA {bits} bits, below Entra ID's minimum of 2048 (AADSTS50032)"
            ),
            NoMechanism { token, alg } => match *alg {
                "PS256" => write!(
                    f,
                    "token {token} offers no RSA-PSS signature for this key (neither \
                     CKM_RSA_PKCS_PSS nor CKM_SHA256_RSA_PKCS_PSS), which PS256 needs"
                ),
                _ => write!(
                    f,
                    "token {token} offers no PKCS#1 v1.5 signature for this key (neither \
                     CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS), which {alg} needs"
                ),
            },
            AlwaysAuthenticate { wanted } => write!(
                f,
                "the key {wanted} wants the PIN again for every signature \
                 (CKA_ALWAYS_AUTHENTICATE), and graphd keeps no PIN after logging in"
            ),
            KeyMismatch { wanted, cert } => write!(
                f,
                "the key {wanted} does not belong to the certificate {cert}"
            ),
            NoCertificate { wanted } => write!(
                f,
                "the token holds no certificate for the key {wanted} (none with its id or label)"
            ),
            ObjectExists { token, objects } => {
                write!(f, "token {token} already holds {}", objects.join(", "))
            }
            Unprotected { token, what } => write!(
                f,
                "token {token} generated a key that is {what}; graphd destroyed it again"
            ),
            Token { token, during, rv } => {
                write!(f, "token {token} failed while {during}: {rv}")
            }
            BadSignature { token } => write!(
                f,
                "token {token} made a signature that does not verify with the key's own public \
                 key; it was not used"
            ),
        }
    }
}

impl Pkcs11Problem {
    /// 2 for command lines that cannot work, 3 for everything the token or module says.
    pub fn exit_code(&self) -> u8 {
        match self {
            Pkcs11Problem::NoModule
            | Pkcs11Problem::ModuleConflict { .. }
            | Pkcs11Problem::WrongType { .. } => super::exit::USAGE,
            _ => super::exit::CREDENTIAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_flags_are_said_most_severe_first() {
        assert_eq!(PinFlags::default().describe(), None);
        let low = PinFlags {
            count_low: true,
            ..PinFlags::default()
        };
        assert!(low.describe().unwrap().contains("CKF_USER_PIN_COUNT_LOW"));
        let last = PinFlags {
            count_low: true,
            final_try: true,
            locked: false,
        };
        assert!(last.describe().unwrap().contains("CKF_USER_PIN_FINAL_TRY"));
        let locked = PinFlags {
            locked: true,
            ..last
        };
        assert!(locked.describe().unwrap().contains("CKF_USER_PIN_LOCKED"));
        let wrong = Pkcs11Problem::WrongPin {
            token: "'t'".into(),
            from: "from --pin-file p".into(),
            flags: last,
        };
        assert!(
            wrong
                .hint()
                .unwrap()
                .contains("one more wrong PIN locks it")
        );
        assert_eq!(wrong.exit_code(), 3);
        assert_eq!(Pkcs11Problem::NoModule.exit_code(), 2);
    }
}
