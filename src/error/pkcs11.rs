//! Why a key in a PKCS#11 token cannot be used, in words, with the hint that says what to do.
//!
//! Never holds a PIN or key material: messages name the module file, the token's label, the
//! object's label and id, the PKCS#11 return value (`CKR_*`) and where the PIN came from.

use std::fmt;
use std::path::PathBuf;

use super::FileProblem;

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

/// The usual module of each kind of token, for hints (Debian paths; docs/protocol.md#pkcs11).
pub const KNOWN_MODULES: &[(&str, &str)] = &[
    ("SoftHSM", "/usr/lib/softhsm/libsofthsm2.so"),
    ("YubiKey (ykcs11)", "/usr/lib/x86_64-linux-gnu/libykcs11.so"),
    (
        "TPM 2.0 (tpm2-pkcs11)",
        "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so",
    ),
    (
        "smart cards (OpenSC)",
        "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    ),
];

const PIN_SOURCES: &str = "--pin-file PATH, --pin-stdin, GRAPHD_PKCS11_PIN, or ?pin-source=file:PATH in the URI (never pin-value=)";

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

    pub fn hint(&self) -> Option<String> {
        use Pkcs11Problem::*;
        let hint = match self {
            NoModule => format!(
                "pass --pkcs11-module PATH, set GRAPHD_PKCS11_MODULE, or add ?module-path=PATH to \
                 the URI; {}",
                examples()
            ),
            ModuleConflict { .. } => "give the module once: drop --pkcs11-module or the URI's module-path".into(),
            WrongType { setting, .. } => match *setting {
                "--cert" => "--cert takes a certificate (type=cert, or no type)".into(),
                _ => format!("{setting} takes the private key (type=private, or no type)"),
            },
            ModuleNotFound { found, .. } if found.is_empty() => format!(
                "install the token's module (Debian: softhsm2, ykcs11, libtpm2-pkcs11-1, opensc-pkcs11) \
                 or correct the path; {}",
                examples()
            ),
            ModuleNotFound { found, .. } => format!(
                "PKCS#11 modules on this machine: {}",
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            NotAModule { .. } => format!(
                "pass the token's PKCS#11 library (a shared object exporting C_GetFunctionList); {}",
                examples()
            ),
            ModuleFailed { path, .. } if path.to_string_lossy().contains("softhsm") => {
                "check SoftHSM's configuration: SOFTHSM2_CONF and the directories.tokendir it names".into()
            }
            ModuleFailed { .. } => "check the module's own configuration and its vendor's documentation".into(),
            TokenNotFound { present, .. } if present.is_empty() => {
                "no token is present: insert it, or initialize one (SoftHSM: softhsm2-util --init-token --free --label NAME)".into()
            }
            TokenNotFound { present, .. } => format!(
                "tokens present: {}; name one with token= (its label) or serial=",
                present.join(", ")
            ),
            SeveralTokens { .. } => "add token= (the label), serial= or slot-id= to the URI".into(),
            PinMissing { .. } => format!("give the PIN with {PIN_SOURCES}"),
            PinFile { .. } => "give a readable file holding the PIN (one trailing newline is ignored), mode 0600".into(),
            PinInput { .. } => format!("give the PIN with {PIN_SOURCES}"),
            PinLength { .. } => "check what the PIN source holds (one trailing newline is ignored)".into(),
            WrongPin { flags, .. } => match flags.describe() {
                Some(said) => format!("the token reports: {said}; correct the PIN source before the next run"),
                None => "correct the PIN source before the next run".into(),
            },
            PinLocked { .. } => "unlock the user PIN with the SO PIN, using the token's own tool \
                 (OpenSC: pkcs11-tool --login --login-type so --init-pin; YubiKey: ykman piv access unblock-pin)".into(),
            PinExpired { .. } => "change the user PIN with the token's own tool (pkcs11-tool --change-pin), then run again".into(),
            KeyNotFound { present, .. } if present.is_empty() => {
                "the token holds no private key (is the PIN the user's?); `graphd gen-cert --key 'pkcs11:token=...;object=NAME'` generates one in it".into()
            }
            KeyNotFound { present, .. } => format!(
                "private keys in the token: {}; name one with object= (its label) or id=",
                present.join(", ")
            ),
            SeveralKeys { .. } => "add id= or object= to the URI to pick one".into(),
            NotRsa { .. } | WeakKey { .. } => {
                "generate an RSA key of 2048 bits or more in the token: graphd gen-cert --key 'pkcs11:token=...;object=NAME'".into()
            }
            NoMechanism { alg, .. } => match *alg {
                "PS256" => "sign with PKCS#1 v1.5 instead: --alg RS256 (header x5t); Entra ID accepts both".into(),
                _ => "sign with RSA-PSS instead: --alg PS256".into(),
            },
            AlwaysAuthenticate { .. } => "use a key whose PIN is asked once per session (YubiKey PIV: slot 9a, id=%01, not slot 9c)".into(),
            KeyMismatch { .. } => "pass this key's certificate (graphd cert 'pkcs11:...' shows the token's), or the key of this certificate".into(),
            NoCertificate { .. } => "pass the certificate with --cert FILE, or store it in the token next to the key \
                 (graphd gen-cert --key does; pkcs11-tool --write-object cert.der --type cert --id ID)".into(),
            ObjectExists { .. } => "pass --force to replace them (the old key is destroyed: certificates made from it \
                 stop working), or choose another object= / id=".into(),
            Unprotected { .. } => "this token cannot keep a key inside it; use another token".into(),
            Token { rv, .. } => match rv.as_str() {
                "CKR_DEVICE_REMOVED" | "CKR_TOKEN_NOT_PRESENT" => "the token was removed: insert it and run again".into(),
                "CKR_TOKEN_WRITE_PROTECTED" => "the token is read-only".into(),
                "CKR_DEVICE_MEMORY" => "the token is full: remove objects it no longer needs".into(),
                "CKR_USER_NOT_LOGGED_IN" => "the token logged graphd out; run again".into(),
                _ => "check the token with its vendor's tool, and run again".into(),
            },
            BadSignature { .. } => "the token or its module is misbehaving; try another module version".into(),
        };
        Some(hint)
    }
}

/// The usual modules, for hints.
fn examples() -> String {
    let list: Vec<String> = KNOWN_MODULES
        .iter()
        .map(|(what, path)| format!("{path} ({what})"))
        .collect();
    format!("e.g. {}", list.join(", "))
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
