//! Federated credentials (docs/protocol.md#workload-identity-federation) as errors see them:
//! where the external token came from, the claims it carried (issuer, subject, audience and
//! times are not secret), and why it cannot be sent (exit 3), each with its hint.
//!
//! Nothing here ever holds the token, GitHub's request token or a token file's contents.

use std::fmt;
use std::path::PathBuf;

use super::{FileProblem, printable};

/// Where a federated token comes from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    /// `--federated-token-file`, or `AZURE_FEDERATED_TOKEN_FILE` when `from_env`.
    File { path: PathBuf, from_env: bool },
    /// `--github-oidc`: GitHub Actions' ID token endpoint at this host.
    GitHub { host: String },
    /// `--federated-token-env NAME`.
    Env { name: String },
}

impl fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenOrigin::File {
                path,
                from_env: true,
            } => write!(
                f,
                "token file {} (AZURE_FEDERATED_TOKEN_FILE)",
                path.display()
            ),
            TokenOrigin::File { path, .. } => write!(f, "token file {}", path.display()),
            TokenOrigin::GitHub { host } => write!(f, "GitHub Actions' ID token endpoint {host}"),
            TokenOrigin::Env { name } => write!(f, "environment variable {name}"),
        }
    }
}

/// The claims of an external token, decoded but not verified (the token service verifies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalClaims {
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    /// `aud` as a list (RFC 7519 §4.1.3 allows a string or an array).
    pub aud: Vec<String>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
}

/// What refusal hints may say about a federated proof: the origin, the audience graphd asks
/// for, and the claims of the token sent last (none before the first request).
#[derive(Debug, Clone)]
pub struct FederatedFacts {
    pub origin: TokenOrigin,
    pub audience: String,
    pub claims: Option<ExternalClaims>,
    /// When graphd read or received that token (unix seconds).
    pub read_at: Option<i64>,
    /// When the token file was last written (its modification time), for the file origin.
    pub written_at: Option<i64>,
}

/// Why a federated token cannot be used (exit 3). Never holds the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FederatedProblem {
    /// The token file cannot be read.
    File {
        path: PathBuf,
        from_env: bool,
        problem: FileProblem,
    },
    /// `--federated-token-env NAME` names a variable that is not set.
    EnvUnset { name: String },
    /// The variable holds bytes that are not UTF-8.
    EnvNotUnicode { name: String },
    /// Only whitespace where a token should be.
    Empty { origin: TokenOrigin },
    /// Not a compact JWS (three base64url segments of JSON): what is wrong, never the text.
    NotAJwt {
        origin: TokenOrigin,
        why: &'static str,
    },
    /// No `exp` claim: the token service refuses such tokens.
    NoExpiry { origin: TokenOrigin },
    /// `exp` is already past by this machine's clock.
    Expired {
        origin: TokenOrigin,
        exp: i64,
        now: i64,
        iat: Option<i64>,
        written_at: Option<i64>,
    },
    /// `--federated-audience` was given and the token is not for it.
    AudienceMismatch {
        origin: TokenOrigin,
        aud: Vec<String>,
        wanted: String,
    },
    /// `--github-oidc` outside a job allowed to request ID tokens.
    GithubVariablesMissing { missing: Vec<&'static str> },
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` is not a URL graphd may send the request token to.
    GithubUrl { why: String },
    /// GitHub refused the ID token request.
    GithubRefused {
        host: String,
        status: u16,
        message: Option<String>,
    },
    /// GitHub answered with something that is not `{"value": "<jwt>"}`.
    GithubAnswer {
        host: String,
        status: u16,
        problem: String,
    },
}

/// `90 s`, `12 min`, `3 h`, `2 days`: a rounded duration for messages.
pub fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..120 => format!("{s} s"),
        120..7_200 => format!("{} min", (s + 30) / 60),
        7_200..172_800 => format!("{} h", (s + 1_800) / 3_600),
        _ => format!("{} days", (s + 43_200) / 86_400),
    }
}

impl fmt::Display for FederatedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use FederatedProblem::*;
        match self {
            File {
                path,
                from_env,
                problem,
            } => {
                let via = if *from_env {
                    " (AZURE_FEDERATED_TOKEN_FILE)"
                } else {
                    ""
                };
                write!(f, "federated token file {}{via}: {problem}", path.display())
            }
            EnvUnset { name } => write!(
                f,
                "environment variable {name} (--federated-token-env) is not set or empty"
            ),
            EnvNotUnicode { name } => write!(f, "environment variable {name} is not valid UTF-8"),
            Empty { origin } => write!(f, "the {origin} holds no token"),
            NotAJwt { origin, why } => {
                write!(f, "the {origin} does not hold a JWT: {why}")
            }
            NoExpiry { origin } => write!(
                f,
                "the token from the {origin} has no exp claim; Entra ID refuses tokens without one"
            ),
            Expired {
                origin,
                exp,
                now,
                iat,
                written_at,
            } => {
                let expired = span(now - exp);
                match (origin, written_at, iat) {
                    (TokenOrigin::File { .. }, Some(w), _) => write!(
                        f,
                        "the {origin} was written {} ago and its token expired {expired} ago: is the file being refreshed?",
                        span(now - w)
                    ),
                    (_, _, Some(i)) => write!(
                        f,
                        "the token from the {origin} was issued {} ago and expired {expired} ago",
                        span(now - i)
                    ),
                    _ => write!(f, "the token from the {origin} expired {expired} ago"),
                }
            }
            AudienceMismatch {
                origin,
                aud,
                wanted,
            } => write!(
                f,
                "the token from the {origin} is for audience {}, not {wanted} (--federated-audience)",
                shown_list(aud)
            ),
            GithubVariablesMissing { missing } => write!(
                f,
                "--github-oidc: {} not set: this is not a GitHub Actions job allowed to request ID tokens",
                missing.join(" and ")
            ),
            GithubUrl { why } => write!(f, "ACTIONS_ID_TOKEN_REQUEST_URL {why}"),
            GithubRefused {
                host,
                status,
                message,
            } => {
                write!(
                    f,
                    "GitHub's ID token endpoint {host} refused (HTTP {status})"
                )?;
                if let Some(m) = message {
                    write!(f, ": {}", printable(m, 300))?;
                }
                Ok(())
            }
            GithubAnswer {
                host,
                status,
                problem,
            } => write!(
                f,
                "GitHub's ID token endpoint {host} answered HTTP {status} with {problem}"
            ),
        }
    }
}

/// Claim values as they may be shown: quoted, control characters removed, bounded.
pub fn shown(value: &str) -> String {
    format!("'{}'", printable(value, 600))
}

/// A list of claim values as they may be shown.
pub fn shown_list(values: &[String]) -> String {
    match values {
        [] => "(none)".to_string(),
        [one] => shown(one),
        many => format!(
            "[{}]",
            many.iter().map(|v| shown(v)).collect::<Vec<_>>().join(", ")
        ),
    }
}

impl FederatedProblem {
    pub fn hint(&self) -> Option<String> {
        use FederatedProblem::*;
        let refresh = |origin: &TokenOrigin| {
            match origin {
            TokenOrigin::File { from_env: true, .. } => {
                "in Kubernetes the kubelet rewrites the projected service account token at 80% of its \
                 lifetime: check that the pod still mounts the azure-identity-token volume the workload \
                 identity webhook adds; graphd reads the file again for every token request"
                    .to_string()
            }
            TokenOrigin::File { .. } => {
                "whatever writes the file must replace the token before it expires; graphd reads the \
                 file again for every token request"
                    .to_string()
            }
            TokenOrigin::GitHub { .. } => {
                "graphd asks GitHub for a new ID token for every token request: check this machine's \
                 clock (NTP)"
                    .to_string()
            }
            TokenOrigin::Env { name } => format!(
                "graphd cannot refresh a token held in {name}: request a new one for this step \
                 (GitLab: id_tokens), or give graphd a file it can read again"
            ),
        }
        };
        Some(match self {
            File { problem, .. } => match problem {
                FileProblem::NotFound | FileProblem::IsDirectory | FileProblem::NotRegularFile => {
                    "check --federated-token-file or AZURE_FEDERATED_TOKEN_FILE (in Kubernetes the \
                     workload identity webhook sets it to /var/run/secrets/azure/tokens/azure-identity-token)"
                        .to_string()
                }
                FileProblem::TooLarge { .. } => {
                    "the file must hold one JWT (a few KiB); is this the right path?".to_string()
                }
                FileProblem::Empty => refresh(&TokenOrigin::File {
                    path: PathBuf::new(),
                    from_env: true,
                }),
                other => other
                    .generic_hint()
                    .unwrap_or("check the path and that the file is readable")
                    .to_string(),
            },
            EnvUnset { name } | EnvNotUnicode { name } => format!(
                "put the token in {name} before running graphd (GitLab CI: `id_tokens: {name}: aud: \
                 api://AzureADTokenExchange`), and pass the variable's name, never the token itself"
            ),
            Empty { origin } | NotAJwt { origin, .. } => match origin {
                TokenOrigin::GitHub { .. } => {
                    "ACTIONS_ID_TOKEN_REQUEST_URL must be the URL the runner set; do not override it"
                        .to_string()
                }
                _ => "a federated token is a JWT (three base64url parts separated by dots) issued \
                      by an OIDC provider such as Kubernetes, GitHub or GitLab"
                    .to_string(),
            },
            NoExpiry { .. } => {
                "use a token from an OIDC provider: they carry exp; Entra ID refuses tokens without it"
                    .to_string()
            }
            Expired { origin, .. } => refresh(origin),
            AudienceMismatch { aud, .. } => format!(
                "pass the audience the token and the app's federated credential share (--federated-audience {}), \
                 or get a token for the audience the credential expects",
                aud.first().map_or("AUD", String::as_str)
            ),
            GithubVariablesMissing { .. } => {
                "add `permissions: id-token: write` to the workflow job (GitHub sets \
                 ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN only then); \
                 outside GitHub Actions use --federated-token-file or a certificate"
                    .to_string()
            }
            GithubUrl { .. } => {
                "ACTIONS_ID_TOKEN_REQUEST_URL must be the https URL the runner set; do not override it"
                    .to_string()
            }
            GithubRefused { status: 401 | 403, .. } => {
                "the request token is valid only inside its job, and only with `permissions: \
                 id-token: write` on the job; do not reuse ACTIONS_ID_TOKEN_REQUEST_TOKEN elsewhere"
                    .to_string()
            }
            GithubRefused { .. } | GithubAnswer { .. } => {
                "retry the job; if it persists, check https://www.githubstatus.com".to_string()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_round_to_readable_units() {
        assert_eq!(span(59), "59 s");
        assert_eq!(span(-45), "45 s");
        assert_eq!(span(3_600), "60 min");
        assert_eq!(span(7_200), "2 h");
        assert_eq!(span(3 * 86_400), "3 days");
    }

    #[test]
    fn an_expired_file_says_when_it_was_written() {
        let p = FederatedProblem::Expired {
            origin: TokenOrigin::File {
                path: "/t".into(),
                from_env: true,
            },
            exp: 1_000,
            now: 1_000 + 3_600 * 2,
            iat: Some(0),
            written_at: Some(1_000 - 3_600),
        };
        assert_eq!(
            p.to_string(),
            "the token file /t (AZURE_FEDERATED_TOKEN_FILE) was written 3 h ago and its token expired 2 h ago: is the file being refreshed?"
        );
        assert!(p.hint().unwrap().contains("kubelet"));
    }

    #[test]
    fn claim_values_cannot_drive_the_terminal() {
        assert_eq!(shown("a\u{1b}[2Jb"), "'a [2Jb'");
        assert_eq!(
            shown_list(&["x".into(), "y".into()]),
            "['x', 'y']".to_string()
        );
    }
}
