//! Command lines that cannot run (exit 2): a setting nobody gave, a value outside its range,
//! an option that needs another. Each problem says what is wrong and what to pass instead.
//!
//! clap's own parse errors are rendered by `cli::render`; these are the checks that need more
//! than one argument, or the environment and the `--config` file, to decide.

use std::fmt;

/// A setting that must come from a flag, the environment or the `--config` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Tenant,
    ClientId,
    Credential,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageProblem {
    /// Nobody gave this setting.
    Missing(Setting),
    /// `--send-x5c` with only a configured thumbprint: there is no chain to send.
    X5cWithoutCertificate,
    /// `graphd get` was given something that is neither a Graph path nor a URL.
    NotAGraphPathOrUrl { given: String, why: String },
    /// A numeric option outside what graphd accepts (library callers; clap checks argv).
    OutOfRange {
        flag: &'static str,
        value: String,
        allowed: &'static str,
    },
    /// A value graphd's checks refused, with their reason (which never repeats a secret).
    Invalid { flag: &'static str, why: String },
    /// Two proofs of identity chosen explicitly (e.g. `--cert` and `--github-oidc`).
    TwoProofs {
        first: &'static str,
        second: &'static str,
    },
    /// `graphd assertion` with a federated token, which is not graphd's to print.
    FederatedAssertion,
    /// `--federated-audience` while the run uses a certificate.
    AudienceWithoutFederated { certificate_from: &'static str },
}

impl fmt::Display for UsageProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageProblem::Missing(Setting::Tenant) => f.write_str("no tenant given"),
            UsageProblem::Missing(Setting::ClientId) => f.write_str("no client id given"),
            UsageProblem::Missing(Setting::Credential) => f.write_str("no certificate given"),
            UsageProblem::X5cWithoutCertificate => f.write_str(
                "--send-x5c needs the certificate, but only a thumbprint was configured",
            ),
            UsageProblem::NotAGraphPathOrUrl { given, why } => write!(
                f,
                "{:?} is not a Graph path or URL: {why}",
                super::printable(given, 200)
            ),
            UsageProblem::OutOfRange {
                flag,
                value,
                allowed,
            } => write!(f, "{flag} {value} is not {allowed}"),
            UsageProblem::Invalid { flag, why } => write!(f, "invalid {flag}: {why}"),
            UsageProblem::TwoProofs { first, second } => write!(
                f,
                "{first} and {second} both say how the app proves its identity; give one"
            ),
            UsageProblem::FederatedAssertion => f.write_str(
                "graphd assertion prints assertions graphd signs; with a federated credential the \
                 assertion is the other issuer's token, which graphd does not print",
            ),
            UsageProblem::AudienceWithoutFederated { certificate_from } => write!(
                f,
                "--federated-audience goes with a federated credential, but this run uses the certificate from {certificate_from}"
            ),
        }
    }
}

impl UsageProblem {
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            UsageProblem::Missing(Setting::Tenant) => {
                "pass --tenant or set AZURE_TENANT_ID (the directory ID or a verified domain)"
            }
            UsageProblem::Missing(Setting::ClientId) => {
                "pass --client-id or set AZURE_CLIENT_ID (the app registration's Application (client) ID)"
            }
            UsageProblem::Missing(Setting::Credential) => {
                "pass --cert PATH (PEM or PFX) or set AZURE_CLIENT_CERTIFICATE_PATH (`graphd gen-cert` creates one); \
                 without a long-lived secret: --github-oidc in GitHub Actions, --federated-token-file PATH \
                 (AZURE_FEDERATED_TOKEN_FILE) or --federated-token-env NAME"
            }
            UsageProblem::X5cWithoutCertificate => {
                "give the certificate with --cert (a PEM or PFX holding it)"
            }
            UsageProblem::NotAGraphPathOrUrl { .. } => {
                "pass a path such as /v1.0/users/{id}, or a URL on the Graph endpoint"
            }
            UsageProblem::OutOfRange { flag, .. } => match *flag {
                "--key-size" => "2048 is Entra ID's minimum and the usual choice",
                "--days" => "365 is the default",
                _ => "see `graphd <command> --help` for the accepted range",
            },
            UsageProblem::Invalid { .. } => "see `graphd <command> --help`",
            UsageProblem::TwoProofs { .. } => {
                "one proof per run: a certificate (--cert, --key) or a federated token \
                 (--github-oidc, --federated-token-file, --federated-token-env)"
            }
            UsageProblem::FederatedAssertion => {
                "pass --claims to see the token's decoded header and claims (issuer, subject, audience, \
                 expiry), which are not secret"
            }
            UsageProblem::AudienceWithoutFederated { .. } => {
                "a certificate given by flag, or from the environment next to AZURE_FEDERATED_TOKEN_FILE, \
                 wins; pass --federated-token-file or --github-oidc to use a federated token"
            }
        };
        Some(hint.to_string())
    }
}
