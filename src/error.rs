//! The one error type of graphd: what failed, the hint that says what to do, the exit code.
//!
//! All user-facing wording lives here. An error names files, hosts, codes and ids; it never
//! carries the contents of a key, password, assertion, token or response body, because every
//! error ends up on stderr and in CI logs.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

mod config;
mod credential;
mod delta;
mod federated;
mod federated_refusal;
mod file;
mod gen_cert;
mod graph;
mod pkcs11;
mod refusal;
mod rotate;
mod uri;
mod usage;

pub use config::{CaFileProblem, ConfigFileProblem, ConfigProblem, NewPasswordProblem};
pub use credential::{CredentialProblem, Encrypted};
pub use delta::DeltaProblem;
pub use federated::{
    ExternalClaims, FederatedFacts, FederatedProblem, TokenOrigin, span as rounded_span,
};
pub use file::{DirProblem, FileProblem};
pub use graph::{GraphFailure, GraphHintContext};
pub use pkcs11::{KNOWN_MODULES, PinFlags, Pkcs11Problem};
pub use refusal::{CertFile, EntraError, RefusalContext, TokenRefusal, printable};
pub use rotate::{Cause as RotateCause, RotateFailure, RotateProblem, Step as RotateStep};
pub use uri::UriProblem;
pub use usage::{Setting, UsageProblem};

/// Exit codes, stable and documented in README.md's exit-code table.
pub mod exit {
    pub const OK: u8 = 0;
    pub const UNEXPECTED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CREDENTIAL: u8 = 3;
    pub const TOKEN: u8 = 4;
    pub const GRAPH: u8 = 5;
    pub const NETWORK: u8 = 6;
    /// `graphd cert --expires-within DAYS`: still valid, but not for DAYS more days.
    pub const EXPIRES_SOON: u8 = 7;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// Bad command-line use: a missing setting, conflicting options (exit 2).
    Usage(UsageProblem),
    /// A configuration problem outside argv: the `--config` file, an environment value (exit 3).
    Config(ConfigProblem),
    /// A certificate, key, PFX or password file that cannot be used (exit 3).
    Credential {
        path: Option<PathBuf>,
        problem: CredentialProblem,
    },
    /// A federated token (Kubernetes, GitHub Actions, any OIDC issuer) that cannot be sent (exit 3).
    Federated(Box<FederatedProblem>),
    /// A key in a PKCS#11 token that cannot be used (exit 3; 2 for a command line that cannot work).
    Pkcs11(Pkcs11Problem),
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
    /// `list-users --delta`: its state file, or a sync state Graph no longer honours (exit 3 or 5).
    Delta(Box<DeltaProblem>),
    /// `graphd rotate` stopped at a step (the exit code is the cause's).
    Rotate(Box<RotateFailure>),
    /// `graphd cert --expires-within DAYS`: the certificate is valid, but expires within
    /// DAYS (exit 7).
    ExpiresWithin {
        path: PathBuf,
        not_after: String,
        days_left: i64,
        within: u32,
    },
    /// Writing the result to stdout failed for a reason other than a closed pipe (exit 1).
    Output(io::Error),
    /// A bug or an impossible state (exit 1).
    Internal(String),
}

impl Error {
    pub fn credential(path: Option<&Path>, problem: CredentialProblem) -> Self {
        Error::Credential {
            path: path.map(Path::to_path_buf),
            problem,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_)
            | Error::Federated(_)
            | Error::Credential { .. }
            | Error::File { .. }
            | Error::Exists { .. } => exit::CREDENTIAL,
            Error::Pkcs11(p) => p.exit_code(),
            Error::TokenRefused(_) | Error::TokenResponse { .. } => exit::TOKEN,
            Error::Graph(_) | Error::ForeignOrigin { .. } => exit::GRAPH,
            Error::Network { .. } => exit::NETWORK,
            Error::Delta(d) => d.exit_code(),
            Error::Rotate(r) => r.exit_code(),
            Error::ExpiresWithin { .. } => exit::EXPIRES_SOON,
            Error::Output(_) | Error::Internal(_) => exit::UNEXPECTED,
        }
    }

    /// What the user should try next, printed as `hint: ...` under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage(p) => p.hint(),
            Error::Config(p) => p.hint(),
            Error::File { hint, .. } => hint.clone(),
            Error::Credential { problem, .. } => problem.hint(),
            Error::Federated(p) => p.hint(),
            Error::Pkcs11(p) => p.hint(),
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
            Error::Delta(d) => d.hint(),
            Error::Rotate(r) => r.hint(),
            Error::ExpiresWithin { path, .. } => Some(format!(
                "rotate it before it expires: graphd rotate --cert {} (see \"Rotating certificates\" in the README)",
                crate::safe_text::shell_word(&path.display().to_string())
            )),
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
            Error::Usage(p) => write!(f, "{p}"),
            Error::Config(p) => write!(f, "{p}"),
            Error::Federated(p) => write!(f, "{p}"),
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
            Error::Pkcs11(p) => write!(f, "{p}"),
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
            Error::Delta(d) => write!(f, "{d}"),
            Error::Rotate(r) => write!(f, "{r}"),
            Error::ExpiresWithin {
                path,
                not_after,
                days_left,
                within,
            } => write!(
                f,
                "{}: the certificate expires on {not_after}, in {days_left} days (within {within})",
                path.display()
            ),
            Error::Output(e) => write!(f, "cannot write output: {}", io_reason(e)),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<DeltaProblem> for Error {
    fn from(d: DeltaProblem) -> Self {
        Error::Delta(Box::new(d))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(
            Error::Usage(UsageProblem::Missing(Setting::Tenant)).exit_code(),
            2
        );
        assert_eq!(
            Error::credential(None, CredentialProblem::File(FileProblem::Empty)).exit_code(),
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
        let graph = GraphFailure {
            method: "GET",
            status: 500,
            code: Some("c\r".into()),
            message: Some("m\u{1b}]0;x\u{7}".into()),
            request_id: Some("r\n".into()),
            path: "/v1.0/users".into(),
            hint: None,
        };
        assert!(!graph.to_string().chars().any(char::is_control), "{graph}");
    }
}
