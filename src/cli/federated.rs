//! The federated credential flags (docs/protocol.md#workload-identity-federation) and their
//! value checks, which never repeat what they refuse: a token pasted where a variable's name
//! belongs must not reach stderr.

use std::path::PathBuf;

use clap::Args;

/// A federated credential: a short-lived token from another issuer instead of a certificate
/// (docs/protocol.md#workload-identity-federation). One proof per run: these conflict with each
/// other and with certificate options given on the command line; `settings` decides between
/// a certificate and a token file that both come from the environment.
#[derive(Debug, Clone, Args)]
pub struct FederatedArgs {
    /// Federated credential: a JWT from another issuer (Kubernetes, any OIDC provider) in this
    /// file, read again for every token request. Also: AZURE_FEDERATED_TOKEN_FILE.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["github_oidc", "federated_token_env", "key", "password_file", "password_stdin"])]
    pub federated_token_file: Option<PathBuf>,

    /// Federated credential in GitHub Actions (the job needs `permissions: id-token: write`):
    /// a fresh ID token from GitHub for every token request.
    #[arg(long, conflicts_with_all = ["federated_token_env", "key", "password_file", "password_stdin"])]
    pub github_oidc: bool,

    /// Federated credential from this environment variable (GitLab CI `id_tokens`, other CI
    /// systems): its NAME, never the token itself.
    #[arg(long, value_name = "NAME", value_parser = env_name, conflicts_with_all = ["key", "password_file", "password_stdin"])]
    pub federated_token_env: Option<String>,

    /// Audience of the federated token [default: api://AzureADTokenExchange, or the US
    /// Government and China clouds' own value].
    #[arg(long, value_name = "AUD", value_parser = audience)]
    pub federated_audience: Option<String>,
}

/// An environment variable's name (`--federated-token-env`). A token given here by mistake
/// is refused without being repeated: argv is visible to every user of the machine.
fn env_name(s: &str) -> Result<String, String> {
    let name = s.trim();
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 256;
    if ok {
        Ok(name.to_string())
    } else if name.contains('.') && name.len() > 40 {
        Err("this looks like a token: pass the NAME of the variable that holds it, never the token (argv is visible to every user of the machine)".into())
    } else {
        Err(
            "not an environment variable name (letters, digits and _, not starting with a digit)"
                .into(),
        )
    }
}

/// A federated credential audience: one value of at most 600 characters (docs/protocol.md#federated-credential-limits).
fn audience(s: &str) -> Result<String, String> {
    let aud = s.trim();
    if aud.is_empty() || aud.chars().count() > 600 || aud.chars().any(char::is_whitespace) {
        return Err("an audience is one value of 1 to 600 characters without spaces, e.g. api://AzureADTokenExchange".into());
    }
    Ok(aud.to_string())
}
