//! The one error type of graphd: what failed, the hint that says what to do, the exit code.
//!
//! All user-facing wording lives here. An error names files, hosts, codes and ids; it never
//! carries the contents of a key, password, assertion, token or response body, because every
//! error ends up on stderr and in CI logs.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
                "is larger than {} KiB, too large for a certificate or key file; not read",
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

/// An Entra ID error response (facts §3.4), plus what graphd knows to make the hint useful.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EntraError {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
}

impl EntraError {
    /// The AADSTS code: the first of `error_codes`, else parsed from the description.
    pub fn code(&self) -> Option<u64> {
        self.error_codes.first().copied().or_else(|| {
            let rest = self.error_description.strip_prefix("AADSTS")?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    }

    /// The first line of the description without the code prefix and the trailing
    /// `Trace ID: ... Correlation ID: ... Timestamp: ...` lines.
    pub fn summary(&self) -> String {
        let first = self.error_description.lines().next().unwrap_or("").trim();
        let first = match first.find(" Trace ID:") {
            Some(i) => &first[..i],
            None => first,
        };
        let first = match first.split_once(": ") {
            Some((code, rest)) if code.starts_with("AADSTS") => rest,
            _ => first,
        };
        first.trim().to_string()
    }
}

/// Context gathered by the client so the hint for a refusal can name what to fix.
#[derive(Debug, Clone, Default)]
pub struct RefusalContext {
    pub host: String,
    pub tenant: String,
    pub client_id: String,
    /// SHA-1 thumbprint as hex, as the portal shows it.
    pub thumbprint_hex: Option<String>,
    pub x5t_s256: Option<String>,
    /// The certificate path, for the upload command.
    pub cert_path: Option<PathBuf>,
    /// Local clock and the server's `Date`, for time-window errors.
    pub local_time: Option<String>,
    pub server_time: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TokenRefusal {
    pub status: u16,
    pub entra: EntraError,
    pub context: RefusalContext,
}

impl fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.entra;
        write!(
            f,
            "token service at {} refused (HTTP {}",
            self.context.host, self.status
        )?;
        if !e.error.is_empty() {
            write!(f, ", {}", ServerText(&e.error))?;
        }
        f.write_str(")")?;
        match e.code() {
            Some(code) => write!(f, ": AADSTS{code}")?,
            None => f.write_str(":")?,
        }
        let summary = e.summary();
        if !summary.is_empty() {
            write!(f, " {}", ServerText(&summary))?;
        }
        if let Some(t) = &e.trace_id {
            write!(f, " [trace_id {}", ServerText(t))?;
            if let Some(c) = &e.correlation_id {
                write!(f, ", correlation_id {}", ServerText(c))?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

impl TokenRefusal {
    pub fn hint(&self) -> Option<String> {
        let c = &self.context;
        let upload = match &c.cert_path {
            Some(p) => format!(
                "az ad app credential reset --id {} --cert @{} --append",
                c.client_id,
                p.display()
            ),
            None => format!(
                "az ad app credential reset --id {} --cert @cert.pem --append",
                c.client_id
            ),
        };
        let hint = match self.entra.code()? {
            700027 => format!(
                "is this certificate uploaded to app {}? its thumbprint is {} (x5t#S256 {}); upload it with: {upload}",
                c.client_id,
                c.thumbprint_hex.as_deref().unwrap_or("unknown"),
                c.x5t_s256.as_deref().unwrap_or("unknown"),
            ),
            700016 => format!(
                "no application {} in tenant {}: check --client-id and --tenant, and that the app is registered (or consented) in that tenant",
                c.client_id, c.tenant
            ),
            90002 | 900023 => format!(
                "tenant {:?} was not found: use the directory (tenant) ID GUID or a verified domain, and the right --cloud",
                c.tenant
            ),
            700024 => format!(
                "the clock of this machine and the token service differ (local {}, server {}); sync the clock (NTP) and retry",
                c.local_time.as_deref().unwrap_or("unknown"),
                c.server_time.as_deref().unwrap_or("unknown")
            ),
            7000215 | 7000216 | 7000218 => {
                "a client secret was expected or sent; graphd authenticates with a certificate: check the app has the certificate uploaded".into()
            }
            7000222 => format!(
                "the app's credential has expired: create a new certificate (graphd gen-cert) and upload it: {upload}"
            ),
            50032 => "create a 2048-bit or larger RSA key: graphd gen-cert --key-size 2048".into(),
            700023 | 50027 => format!(
                "the assertion's audience must be the token endpoint being called ({}/{}/oauth2/v2.0/token); check --cloud / --authority-host",
                c.host, c.tenant
            ),
            70011 | 1002012 | 700022 => {
                "for app-only tokens the scope must be one resource's /.default, e.g. https://graph.microsoft.com/.default".into()
            }
            50048 => "the assertion's iss and sub must both be the client id".into(),
            9001023 => "use a tenant GUID or domain with --tenant, not common, organizations or consumers".into(),
            500011 | 650057 => {
                "the resource in --scope is not available to this app in this tenant: check --scope and the API permissions".into()
            }
            7000112 => "the application is disabled in this tenant; ask an admin to enable it".into(),
            50196 | 90055 => "too many token requests: reuse tokens (--token-cache DIR) and slow down".into(),
            _ => return None,
        };
        Some(hint)
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

impl fmt::Display for GraphFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph refused GET {} (HTTP {}", self.path, self.status)?;
        if let Some(code) = &self.code {
            write!(f, ", {}", ServerText(code))?;
        }
        f.write_str(")")?;
        if let Some(m) = &self.message {
            write!(f, ": {}", ServerText(m))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {}]", ServerText(id))?;
        }
        Ok(())
    }
}

/// Text a server sent, shown on one line: a control character (CR, LF, ESC, DEL, ...) is
/// written as its `\u{..}` escape, so an answer can neither break the one-line message
/// (cli.md) nor drive the terminal.
struct ServerText<'a>(&'a str);

impl fmt::Display for ServerText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_error_code_and_summary() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion failed signature validation. Trace ID: abc Correlation ID: def Timestamp: 2024-01-01 00:00:00Z","error_codes":[700027],"trace_id":"abc","correlation_id":"def"}"#;
        let e: EntraError = serde_json::from_str(body).unwrap();
        assert_eq!(e.code(), Some(700027));
        assert_eq!(e.summary(), "Client assertion failed signature validation.");
        let r = TokenRefusal {
            status: 401,
            entra: e,
            context: RefusalContext {
                host: "login.microsoftonline.com".into(),
                client_id: "c".into(),
                thumbprint_hex: Some("AB12".into()),
                ..Default::default()
            },
        };
        let line = r.to_string();
        assert!(line.contains("AADSTS700027"), "{line}");
        assert!(line.contains("trace_id abc, correlation_id def"), "{line}");
        assert!(!line.contains('\n'));
        assert!(r.hint().unwrap().contains("AB12"));
    }

    #[test]
    fn code_from_description_when_codes_missing() {
        let e = EntraError {
            error_description: "AADSTS90002: Tenant 'x' not found.\r\nTrace ID: 1".into(),
            ..Default::default()
        };
        assert_eq!(e.code(), Some(90002));
        assert_eq!(e.summary(), "Tenant 'x' not found.");
    }

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

    #[test]
    fn fuzz_token_refusal_with_control_characters() {
        // Found by fuzz/token_response: a server's text reached the one-line message as is.
        let body = r#"{"error":"it\r\n","error_description":"AAD f\u007fund.\u001b[2J","trace_id":"t\nx","correlation_id":"c\u0000"}"#;
        let refusal = TokenRefusal {
            status: 401,
            entra: serde_json::from_str(body).unwrap(),
            context: RefusalContext::default(),
        };
        let message = refusal.to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(message.contains(r"AAD f\u{7f}und.\u{1b}[2J"), "{message}");
        let graph = GraphFailure {
            status: 500,
            code: Some("c\r".into()),
            message: Some("m\u{1b}]0;x\u{7}".into()),
            request_id: Some("r\n".into()),
            path: "/v1.0/users".into(),
            hint: None,
        };
        assert!(!graph.to_string().chars().any(char::is_control));
    }
}
