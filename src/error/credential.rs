//! Why a credential file cannot be used, in words, with the hint that says what to do.
//! Never holds file contents.

use std::fmt;

use super::FileProblem;

/// Which credential a password belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encrypted {
    Pfx,
    Key,
}

impl fmt::Display for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encrypted::Pfx => "PFX (PKCS#12) file",
            Encrypted::Key => "encrypted private key",
        })
    }
}

/// Why a credential file cannot be used. Never holds file contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialProblem {
    /// The file itself cannot be read (missing, a directory, a FIFO, too large, empty...).
    File(FileProblem),
    NotUtf8Password,
    Unrecognized,
    TruncatedPem {
        label: String,
        line: usize,
    },
    CorruptPem {
        label: String,
        line: usize,
    },
    UnsupportedPem {
        label: String,
        line: usize,
    },
    NoPrivateKey,
    NoCertificate,
    MultipleKeys,
    KeyMismatch {
        certificates: usize,
    },
    NotRsa {
        kind: String,
    },
    WeakKey {
        bits: u32,
    },
    Expired {
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    PasswordRequired(Encrypted),
    WrongPassword(Encrypted),
    CorruptPfx,
    LegacyPfxUnsupported,
    ThumbprintMismatch {
        configured: String,
        actual: String,
    },
    /// PS256 needs the certificate's SHA-256 thumbprint, which a SHA-1 thumbprint alone cannot give.
    NeedCertificateForPs256,
    /// A `-----BEGIN` marker without a plausible label (the label is not echoed: it may be key data).
    MalformedPem {
        line: usize,
    },
    /// PEM (or PKCS#12) holding neither a private key nor a certificate: a CSR, a public key.
    NothingUsable,
    /// The `--password-file` (or config `password_file`) cannot be used, for this reason.
    PasswordFile(FileProblem),
    /// The certificate file now holds another certificate than when graphd started.
    ChangedWhileRunning,
    /// An encrypted PFX without an integrity MAC (`-nomac`), which OpenSSL 3.0 cannot open.
    PfxWithoutMac,
    /// A PFX whose key derivations ask for more iterations than any real tool writes (one
    /// derivation over the limit, or, with `total`, all of them together).
    PfxTooCostly {
        iterations: u64,
        total: bool,
    },
}

impl fmt::Display for CredentialProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CredentialProblem::*;
        match self {
            File(FileProblem::IsDirectory) => {
                f.write_str("is a directory, not a certificate or key file")
            }
            File(problem) => write!(f, "{problem}"),
            NotUtf8Password => f.write_str("the password is not valid UTF-8"),
            Unrecognized => f.write_str("holds neither PEM nor PKCS#12 (PFX) data"),
            TruncatedPem { label, line } => {
                write!(f, "the {label} PEM block at line {line} has no END line (truncated?)")
            }
            CorruptPem { label, line } => write!(f, "the {label} PEM block at line {line} is corrupt"),
            UnsupportedPem { label, line } => {
                write!(f, "the {label} PEM block at line {line} is not a supported key or certificate")
            }
            NoPrivateKey => f.write_str("holds a certificate but no private key"),
            NoCertificate => f.write_str("holds a private key but no certificate"),
            MultipleKeys => f.write_str("holds more than one private key"),
            KeyMismatch { certificates: 1 } => {
                f.write_str("the private key does not match the certificate")
            }
            KeyMismatch { certificates } => {
                write!(f, "the private key matches none of the {certificates} certificates")
            }
            NotRsa { kind } => write!(
                f,
                "the key is {kind}; Entra ID accepts only RSA keys for certificate credentials"
            ),
            WeakKey { bits } => write!(
                f,
                "the RSA key has {bits} bits; Entra ID requires at least 2048 (AADSTS50032)"
            ),
            Expired { not_after } => write!(f, "the certificate expired on {not_after}"),
            NotYetValid { not_before } => {
                write!(f, "the certificate is not valid before {not_before}")
            }
            PasswordRequired(what) => {
                write!(f, "the {what} is password-protected and no password was given")
            }
            WrongPassword(what) => write!(f, "wrong password for the {what}"),
            CorruptPfx => f.write_str("the PKCS#12 (PFX) data is corrupt or uses an unsupported algorithm"),
            LegacyPfxUnsupported => f.write_str(
                "the PFX uses legacy encryption (RC2/3DES) and OpenSSL's legacy provider is not available",
            ),
            ThumbprintMismatch { configured, actual } => write!(
                f,
                "the configured thumbprint {configured} is not the certificate's ({actual})"
            ),
            NeedCertificateForPs256 => f.write_str(
                "PS256 needs the certificate (for its SHA-256 thumbprint); only a SHA-1 thumbprint was given",
            ),
            MalformedPem { line } => write!(f, "the PEM BEGIN marker at line {line} is malformed"),
            NothingUsable => f.write_str("holds no private key or certificate"),
            PasswordFile(problem) => write!(f, "cannot use it as the password file: {problem}"),
            ChangedWhileRunning => f.write_str(
                "the file now holds another certificate than when graphd started (was it rotated meanwhile?)",
            ),
            PfxWithoutMac => f.write_str(
                "the PFX is encrypted but has no integrity MAC (made with -nomac); OpenSSL cannot open it",
            ),
            PfxTooCostly { iterations, total } => write!(
                f,
                "the PFX asks for {iterations} key-derivation iterations{}, far more than any tool \
                 writes (at most {} allowed); not opened, as that would take minutes of CPU",
                if *total { " in all" } else { "" },
                if *total {
                    "2000000 in all"
                } else {
                    "1000000 each"
                }
            ),
        }
    }
}

impl CredentialProblem {
    pub fn hint(&self) -> Option<String> {
        use CredentialProblem::*;
        let h = match self {
            File(
                FileProblem::NotFound | FileProblem::IsDirectory | FileProblem::NotRegularFile,
            ) => "check the path given with --cert, --key or AZURE_CLIENT_CERTIFICATE_PATH",
            File(FileProblem::TooLarge { .. } | FileProblem::Empty) | Unrecognized => {
                "pass a PEM file (key and certificate) or a PFX/PKCS#12 file; `graphd gen-cert` makes one"
            }
            NotUtf8Password => "save the password as UTF-8 text",
            TruncatedPem { .. } | CorruptPem { .. } => {
                "the file was cut or altered; export or copy it again"
            }
            UnsupportedPem { .. } | NotRsa { .. } => {
                "create an RSA key and certificate with `graphd gen-cert`, then upload the certificate"
            }
            NoPrivateKey => "give the key too: --key KEY.pem, or a PEM or PFX holding both",
            NoCertificate => {
                "give the certificate too: --cert CERT.pem --key KEY.pem, or a PEM or PFX holding both"
            }
            MultipleKeys => "keep one private key per file, or pass the key with --key",
            KeyMismatch { .. } => {
                "the key and certificate come from different pairs; use the certificate made with this key"
            }
            WeakKey { .. } => "create a new key: graphd gen-cert --key-size 2048 (or larger)",
            Expired { .. } => {
                "create a new certificate (graphd gen-cert), upload it to the app registration, and use it"
            }
            NotYetValid { .. } => {
                "check this machine's clock, or wait until the certificate is valid"
            }
            PasswordRequired(_) => {
                "set AZURE_CLIENT_CERTIFICATE_PASSWORD, or use --password-file FILE or --password-stdin"
            }
            WrongPassword(_) => {
                "check AZURE_CLIENT_CERTIFICATE_PASSWORD, --password-file or --password-stdin (a trailing newline in a file is ignored)"
            }
            CorruptPfx => {
                "export the PFX again, or convert it to PEM with `openssl pkcs12 -in FILE -nodes`"
            }
            LegacyPfxUnsupported => {
                "install OpenSSL's legacy provider (ossl-modules/legacy.so), or re-export the PFX with modern encryption"
            }
            ThumbprintMismatch { .. } => {
                "remove \"thumbprint\" from the config, or point it at the matching certificate"
            }
            NeedCertificateForPs256 => {
                "use --alg RS256 (x5t, SHA-1), or give the certificate with --cert to use PS256"
            }
            MalformedPem { .. } => {
                "each PEM block must start with -----BEGIN LABEL----- (5 dashes, a capitalized label); export or copy the file again"
            }
            NothingUsable => {
                "pass a PEM file holding the private key and its certificate, or a PFX/PKCS#12 file; `graphd gen-cert` makes one"
            }
            File(other) => other.generic_hint().unwrap_or_default(),
            PasswordFile(_) => {
                "--password-file (or \"password_file\" in --config) must name a readable regular file holding the password"
            }
            ChangedWhileRunning => "run the command again: it reads the new certificate",
            PfxWithoutMac => {
                "convert it to PEM with `openssl pkcs12 -in FILE -nodes -out cred.pem` (then chmod 600 cred.pem), or export the PFX again with a MAC"
            }
            PfxTooCostly { .. } => {
                "export the credential again with the tool's usual settings (OpenSSL writes 2048 iterations, \
                 Java keytool 10000); a PFX from an untrusted source may be made to stall whatever opens it"
            }
        };
        Some(h.to_string())
    }
}
