//! The one error type of graphd: what failed, the hint that says what to do, the exit code.
//!
//! All user-facing wording lives here. An error names files, hosts, codes and ids; it never
//! carries the contents of a key, password, assertion, token or response body, because every
//! error ends up on stderr and in CI logs.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

mod refusal;

pub use refusal::{CertFile, EntraError, RefusalContext, TokenRefusal, printable};

/// Exit codes, stable and documented in README.md and ../shared/spec/cli.md.
pub mod exit {
    pub const OK: u8 = 0;
    pub const UNEXPECTED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CREDENTIAL: u8 = 3;
    pub const TOKEN: u8 = 4;
    pub const GRAPH: u8 = 5;
    pub const NETWORK: u8 = 6;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// Bad command-line use: a missing setting, conflicting options (exit 2).
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// A configuration problem outside argv: the `--config` file, an environment value (exit 3).
    Config {
        message: String,
        hint: Option<String>,
    },
    /// A certificate, key, PFX or password file that cannot be used (exit 3).
    Credential {
        path: Option<PathBuf>,
        problem: CredentialProblem,
    },
    /// A local file graphd writes (gen-cert output, token cache) could not be written (exit 3).
    File {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
        hint: Option<String>,
    },
    /// A file graphd refuses to replace (exit 3).
    Exists { path: PathBuf },
    /// The token service answered with an error (exit 4).
    TokenRefused(Box<TokenRefusal>),
    /// The token service answered with something that is not a usable token response (exit 4).
    TokenResponse {
        host: String,
        status: u16,
        problem: String,
    },
    /// Microsoft Graph answered with an error (exit 5).
    Graph(Box<GraphFailure>),
    /// A URL whose origin is not the configured Graph origin: the token is not sent there (exit 5).
    ForeignOrigin {
        url_host: String,
        graph_origin: String,
    },
    /// Network, TLS or timeout, after any retries (exit 6).
    Network {
        host: String,
        kind: NetworkKind,
        detail: String,
        attempts: u32,
    },
    /// Writing the result to stdout failed for a reason other than a closed pipe (exit 1).
    Output(io::Error),
    /// A bug or an impossible state (exit 1).
    Internal(String),
}

impl Error {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn config(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Config {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn credential(path: Option<&Path>, problem: CredentialProblem) -> Self {
        Error::Credential {
            path: path.map(Path::to_path_buf),
            problem,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => exit::USAGE,
            Error::Config { .. }
            | Error::Credential { .. }
            | Error::File { .. }
            | Error::Exists { .. } => exit::CREDENTIAL,
            Error::TokenRefused(_) | Error::TokenResponse { .. } => exit::TOKEN,
            Error::Graph(_) | Error::ForeignOrigin { .. } => exit::GRAPH,
            Error::Network { .. } => exit::NETWORK,
            Error::Output(_) | Error::Internal(_) => exit::UNEXPECTED,
        }
    }

    /// What the user should try next, printed as `hint: ...` under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } | Error::Config { hint, .. } | Error::File { hint, .. } => {
                hint.clone()
            }
            Error::Credential { problem, .. } => problem.hint(),
            Error::Exists { .. } => {
                Some("nothing was changed; pass --force to replace it, or choose another --out".into())
            }
            Error::TokenRefused(r) => r.hint(),
            Error::TokenResponse { .. } => Some(
                "is --authority-host (AZURE_AUTHORITY_HOST) the Entra token service? a proxy or \
                 captive portal may be answering instead"
                    .into(),
            ),
            Error::Graph(g) => g.hint.clone(),
            Error::ForeignOrigin { .. } => Some(
                "graphd sends the token only to the Graph endpoint (--graph / --cloud); \
                 pass a path such as /v1.0/users, or a URL on that endpoint"
                    .into(),
            ),
            Error::Network { kind, .. } => Some(kind.hint().into()),
            Error::Output(_) => None,
            Error::Internal(_) => Some(
                "this is a bug in graphd; please report it with the command you ran (never the key)"
                    .into(),
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage { message, .. } | Error::Config { message, .. } => f.write_str(message),
            Error::Credential {
                path: Some(path),
                problem,
            } => {
                write!(f, "{}: {problem}", path.display())
            }
            Error::Credential {
                path: None,
                problem,
            } => write!(f, "{problem}"),
            Error::File {
                path,
                action,
                source,
                ..
            } => {
                write!(
                    f,
                    "cannot {action} {}: {}",
                    path.display(),
                    io_reason(source)
                )
            }
            Error::Exists { path } => write!(f, "{} already exists", path.display()),
            Error::TokenRefused(r) => write!(f, "{r}"),
            Error::TokenResponse {
                host,
                status,
                problem,
            } => {
                write!(
                    f,
                    "token service at {host} answered HTTP {status} with {problem}"
                )
            }
            Error::Graph(g) => write!(f, "{g}"),
            Error::ForeignOrigin {
                url_host,
                graph_origin,
            } => write!(
                f,
                "refusing to send the token to {url_host}: it is not the Graph endpoint {graph_origin}"
            ),
            Error::Network {
                host,
                kind,
                detail,
                attempts,
            } => {
                write!(f, "{} {host}: {detail}", kind.describe())?;
                if *attempts > 1 {
                    write!(f, " (after {attempts} attempts)")?;
                }
                Ok(())
            }
            Error::Output(e) => write!(f, "cannot write output: {}", io_reason(e)),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// The errors of `graphd gen-cert` (its output directory, its files, the new password), built
/// on the general variants so that exit codes and hints need no new match arm.
impl Error {
    /// `--out` names something that is not a directory.
    pub fn out_not_directory(out: &Path) -> Self {
        Error::File {
            path: out.to_path_buf(),
            action: "write into",
            source: io::Error::new(io::ErrorKind::NotADirectory, "it is not a directory"),
            hint: Some("pass --out with a directory (created with mode 0700 if missing)".into()),
        }
    }

    /// `--out` is missing and cannot be created because its parent is missing too.
    pub fn out_parent_missing(out: &Path, parent: &Path) -> Self {
        Error::File {
            path: out.to_path_buf(),
            action: "create the directory",
            source: io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", parent.display()),
            ),
            hint: Some(format!(
                "create {} first, or pass another --out",
                parent.display()
            )),
        }
    }

    /// One of gen-cert's files (or its directory) could not be written; nothing partial stays.
    pub fn out_write(path: &Path, action: &'static str, source: io::Error) -> Self {
        use io::ErrorKind::*;
        let hint = match source.kind() {
            PermissionDenied | ReadOnlyFilesystem => {
                "this user cannot write there: pass another --out, or fix the directory's permissions"
            }
            StorageFull | QuotaExceeded => "free some disk space, or pass another --out",
            _ => "pass another --out, or check the directory",
        };
        Error::File {
            path: path.to_path_buf(),
            action,
            source,
            hint: Some(format!("{hint}; no partial file was left behind")),
        }
    }

    /// A file gen-cert would replace is a directory, which `--force` does not replace.
    pub fn out_target_is_directory(path: &Path) -> Self {
        Error::File {
            path: path.to_path_buf(),
            action: "replace",
            source: io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
            hint: Some("move it away, or pass another --out; nothing was changed".into()),
        }
    }

    /// `--pfx` or `--encrypt-key` (named by `flags`) without any password source.
    pub fn new_password_required(flags: &str) -> Self {
        Error::config(
            format!("{flags}: a password is needed and none was given"),
            Some(
                "pass --password-file FILE or --password-stdin, or set AZURE_CLIENT_CERTIFICATE_PASSWORD \
                 (on a terminal graphd asks for it)"
                    .to_string(),
            ),
        )
    }

    /// An empty password for a file graphd is about to encrypt.
    pub fn empty_new_password() -> Self {
        Error::config(
            "the new password is empty",
            Some("an encrypted key or PFX needs a non-empty password".to_string()),
        )
    }

    /// The confirmation typed at the prompt differs from the first entry.
    pub fn passwords_differ() -> Self {
        Error::config(
            "the two passwords typed do not match",
            Some("run the command again and type the same password twice".to_string()),
        )
    }
}

/// An io::Error's reason without the "(os error N)" noise.
pub fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

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
    NotFound,
    IsDirectory,
    NotRegularFile,
    PermissionDenied,
    Unreadable(String),
    TooLarge {
        limit: u64,
    },
    Empty,
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
    BadThumbprint,
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
    SymlinkLoop,
    /// The `--password-file` (or config `password_file`) cannot be used, for this reason.
    PasswordFile(Box<CredentialProblem>),
    /// An encrypted PFX without an integrity MAC (`-nomac`), which OpenSSL 3.0 cannot open.
    PfxWithoutMac,
}

impl fmt::Display for CredentialProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CredentialProblem::*;
        match self {
            NotFound => f.write_str("no such file"),
            IsDirectory => f.write_str("is a directory, not a certificate or key file"),
            NotRegularFile => f.write_str("is not a regular file (a FIFO, socket or device?)"),
            PermissionDenied => f.write_str("permission denied"),
            Unreadable(reason) => write!(f, "cannot read: {reason}"),
            TooLarge { limit } => write!(
                f,
                "is larger than {} KiB, far more than any key, certificate or password file needs; not read",
                limit / 1024
            ),
            Empty => f.write_str("is empty"),
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
            BadThumbprint => f.write_str("the thumbprint is not 40 hexadecimal digits (a SHA-1 thumbprint)"),
            ThumbprintMismatch { configured, actual } => write!(
                f,
                "the configured thumbprint {configured} is not the certificate's ({actual})"
            ),
            NeedCertificateForPs256 => f.write_str(
                "PS256 needs the certificate (for its SHA-256 thumbprint); only a SHA-1 thumbprint was given",
            ),
            MalformedPem { line } => write!(f, "the PEM BEGIN marker at line {line} is malformed"),
            NothingUsable => f.write_str("holds no private key or certificate"),
            SymlinkLoop => f.write_str("is a symbolic link loop"),
            PasswordFile(problem) => write!(f, "cannot use it as the password file: {problem}"),
            PfxWithoutMac => f.write_str(
                "the PFX is encrypted but has no integrity MAC (made with -nomac); OpenSSL cannot open it",
            ),
        }
    }
}

impl CredentialProblem {
    pub fn hint(&self) -> Option<String> {
        use CredentialProblem::*;
        let h = match self {
            NotFound | IsDirectory | NotRegularFile => {
                "check the path given with --cert, --key or AZURE_CLIENT_CERTIFICATE_PATH"
            }
            PermissionDenied => {
                "make the file readable by this user, and by nobody else (chmod 600)"
            }
            Unreadable(_) => "check the path and that the file is readable",
            TooLarge { .. } | Empty | Unrecognized => {
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
            BadThumbprint => "copy the thumbprint shown in the portal (Certificates & secrets)",
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
            SymlinkLoop => "the path is a symbolic link that points back to itself; fix the link",
            PasswordFile(_) => {
                "--password-file (or \"password_file\" in --config) must name a readable regular file holding the password"
            }
            PfxWithoutMac => {
                "convert it to PEM with `openssl pkcs12 -in FILE -nodes -out cred.pem` (then chmod 600 cred.pem), or export the PFX again with a MAC"
            }
        };
        Some(h.to_string())
    }
}

/// The classes of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    Connect,
    Timeout,
    Tls,
    Server,
    Other,
}

impl NetworkKind {
    fn describe(self) -> &'static str {
        match self {
            NetworkKind::Connect => "cannot connect to",
            NetworkKind::Timeout => "timed out waiting for",
            NetworkKind::Tls => "TLS failure with",
            NetworkKind::Server => "server failure at",
            NetworkKind::Other => "network error with",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            NetworkKind::Connect => {
                "check the host, your network and HTTPS_PROXY/NO_PROXY; `graphd demo` works offline"
            }
            NetworkKind::Timeout => {
                "the service is slow or unreachable; raise --timeout or try again later"
            }
            NetworkKind::Tls => {
                "if a TLS-inspecting proxy or the emulator is in the way, trust its CA with --ca-file (GRAPHD_CA_FILE)"
            }
            NetworkKind::Server => {
                "the service is failing or throttling; try again later or raise --max-retries"
            }
            NetworkKind::Other => "check your network and proxy settings",
        }
    }
}

/// A Microsoft Graph error (facts §7.4), already reduced to what is shown.
#[derive(Debug, Clone)]
pub struct GraphFailure {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub path: String,
    pub hint: Option<String>,
}

/// What a Graph hint may need to know besides the status and `code`.
#[derive(Debug, Clone, Copy)]
pub struct GraphHintContext<'a> {
    /// The request path, e.g. `/v1.0/users`.
    pub path: &'a str,
    /// The configured Graph origin, e.g. `https://graph.microsoft.com`.
    pub graph_origin: &'a str,
    /// The app's admin consent URL (`consent::url`), for a 403.
    pub consent_url: &'a str,
}

impl GraphFailure {
    /// The hint for a Graph error answer (facts §7.3, §7.4): branch on the status and `code`,
    /// never on the message, as Graph's error guidance says.
    pub fn hint_for(status: u16, code: Option<&str>, ctx: &GraphHintContext<'_>) -> Option<String> {
        let users = ctx.path.contains("/users");
        let advanced = "advanced queries (ne, not, endsWith, $search, $count) need \
                        ConsistencyLevel: eventual: add --count to list-users, or $count=true to \
                        the query of graphd get (graphd then sends the header)";
        Some(match (status, code) {
            (403, _) => format!(
                "the app needs the Microsoft Graph application permission {} with admin consent \
                 (App registrations > API permissions > Add a permission > Microsoft Graph > \
                 Application permissions); an admin can consent at: {}",
                if users {
                    "User.Read.All"
                } else {
                    "this API requires (for users: User.Read.All)"
                },
                ctx.consent_url
            ),
            (401, _) => format!(
                "Graph did not accept the token: check that --scope is this Graph endpoint's \
                 /.default and that --cloud or --graph matches the token service ({})",
                ctx.graph_origin
            ),
            (400, Some("Request_UnsupportedQuery")) => advanced.into(),
            (400, Some("Request_BadRequest")) if ctx.path.ends_with("/$count") => advanced.into(),
            (400, Some("Directory_ExpiredPageToken")) => {
                "the page token expired; run the command again to start a new listing".into()
            }
            (400, _) => {
                "check the query options: $select names, $filter syntax, $top between 1 and 999"
                    .into()
            }
            (404, _) => "check the path (e.g. /v1.0/users/{id}) and that the object exists".into(),
            (501, _) => "some properties can be selected only when getting a single user \
                         (/v1.0/users/{id}); drop them from --select"
                .into(),
            (s, _) if (300..400).contains(&s) => "request the final URL directly".into(),
            _ => return None,
        })
    }

    /// The hint for a nextLink chain that loops back (a server or proxy bug).
    pub fn looping_next_link_hint() -> String {
        "Graph itself never does this: is a proxy rewriting the paging links? the items \
         printed so far may repeat"
            .into()
    }

    /// The hint for a 2xx answer that is not a page of a collection.
    pub fn not_a_collection_hint() -> String {
        "--all and list-users need a collection (a JSON object with \"value\"); without --all, \
         graphd get prints any answer as it is. Is --graph (GRAPHD_GRAPH_ENDPOINT) the Graph endpoint?"
            .into()
    }
}

impl fmt::Display for GraphFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (200..300).contains(&self.status) {
            write!(
                f,
                "unusable answer from Graph to GET {} (HTTP {}",
                self.path, self.status
            )?;
        } else {
            write!(f, "Graph refused GET {} (HTTP {}", self.path, self.status)?;
        }
        if let Some(code) = &self.code {
            write!(f, ", {code}")?;
        }
        f.write_str(")")?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {id}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::usage("x", None).exit_code(), 2);
        assert_eq!(
            Error::credential(None, CredentialProblem::Empty).exit_code(),
            3
        );
        let n = Error::Network {
            host: "h".into(),
            kind: NetworkKind::Timeout,
            detail: "d".into(),
            attempts: 4,
        };
        assert_eq!(n.exit_code(), 6);
        assert!(n.to_string().ends_with("(after 4 attempts)"));
    }
}
