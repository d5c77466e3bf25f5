//! What to try next for each `Pkcs11Problem` (the `hint:` line), and the usual modules the
//! hints name.
//!
//! A hint names flags, files, tools and `CKR_*` values; never a PIN, and never a value the
//! user typed (a PIN put where a label belongs must not be repeated).

use super::Pkcs11Problem;

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
    /// What to try next.
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
