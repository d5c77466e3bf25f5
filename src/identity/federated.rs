//! The federated proof (docs/protocol.md#workload-identity-federation): a JWT from another
//! issuer (a Kubernetes service account, GitHub Actions, any OIDC provider) sent unmodified as
//! the client assertion of an app whose federated identity credential trusts that issuer,
//! subject and audience.
//!
//! The token is fetched again for every token request: a file is re-read (the kubelet
//! rewrites it at 80% of its lifetime, docs/protocol.md#kubernetes-token-file), GitHub is asked
//! for a new ID token, a variable is read again. Its claims are decoded (not verified) and what
//! the token service would certainly refuse is refused here, with exit 3. The token itself
//! never reaches a log, an error, the token cache key or a Debug print; its claims (issuer,
//! subject, audience, times) are not secret and feed `-v` and the refusal hints.

mod claims;
mod github;

use std::fmt;
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

pub use claims::{decode, facts};
pub use github::request_url as github_request_url;

use crate::clock;
use crate::error::{
    Error, ExternalClaims, FederatedFacts, FederatedProblem, Result, TokenOrigin, printable,
};
use crate::fileio;
use crate::http::Http;
use crate::messages;
use crate::secret::FederatedToken;
use crate::settings::{FederatedSource, FederatedSpec};

/// The largest token file read: a projected service account token is about 1 KiB.
pub const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// A federated credential: where its token comes from and what the last one said.
pub struct FederatedProof {
    source: FederatedSource,
    audience: String,
    audience_explicit: bool,
    last: Mutex<Option<Seen>>,
}

/// The last token's claims and when it was read, for hints.
#[derive(Clone)]
struct Seen {
    claims: ExternalClaims,
    read_at: i64,
    written_at: Option<i64>,
}

/// A token as read, with the file's modification time when it came from a file.
pub struct Read {
    pub token: FederatedToken,
    pub written_at: Option<i64>,
}

impl FederatedProof {
    pub fn new(spec: FederatedSpec) -> Self {
        FederatedProof {
            source: spec.source,
            audience: spec.audience,
            audience_explicit: spec.audience_explicit,
            last: Mutex::new(None),
        }
    }

    pub fn origin(&self) -> TokenOrigin {
        self.source.origin()
    }

    /// The token as it is now, read or asked for, not yet checked (`graphd assertion
    /// --claims` shows even an expired one).
    pub async fn fetch(&self, http: &Http) -> Result<Read> {
        Ok(match &self.source {
            FederatedSource::GitHub(endpoint) => Read {
                token: github::id_token(http, endpoint, &self.audience).await?,
                written_at: None,
            },
            local => read_local(local)?,
        })
    }

    /// The token for one token request: read or asked for now, decoded and checked.
    pub async fn token(&self, http: &Http) -> Result<FederatedToken> {
        let read = self.fetch(http).await?;
        let now = clock::now_unix();
        let origin = self.origin();
        let claims = claims::check(
            read.token.expose_secret(),
            &claims::Check {
                origin: &origin,
                now,
                written_at: read.written_at,
                audience: self.audience_explicit.then_some(self.audience.as_str()),
            },
        )
        .map_err(|p| Error::Federated(Box::new(p)))?;
        messages::trace(&format!(
            "federated token from the {origin}: {}",
            describe_claims(&claims, now)
        ));
        if let Ok(mut last) = self.last.lock() {
            *last = Some(Seen {
                claims,
                read_at: now,
                written_at: read.written_at,
            });
        }
        Ok(read.token)
    }

    /// Non-secret facts telling this credential's tokens apart in the token cache: the
    /// source, and for a file or variable the current token's issuer and subject (read now,
    /// never the token itself).
    pub fn cache_id(&self) -> String {
        let peek = |source: &FederatedSource| {
            let read = read_local(source).ok()?;
            let (header, payload) = decode(read.token.expose_secret()).ok()?;
            let c = facts(&header, &payload);
            Some(format!(
                " iss={} sub={}",
                c.iss.unwrap_or_default(),
                c.sub.unwrap_or_default()
            ))
        };
        match &self.source {
            FederatedSource::File { path, .. } => format!(
                "federated file {}{}",
                path.display(),
                peek(&self.source).unwrap_or_default()
            ),
            FederatedSource::Env(name) => format!(
                "federated env {name}{}",
                peek(&self.source).unwrap_or_default()
            ),
            FederatedSource::GitHub(g) => format!(
                "federated github {}{} aud={}",
                crate::http::host_of(&g.url),
                g.url.path(),
                self.audience
            ),
        }
    }

    /// What refusal hints may say: the origin and the claims of the token sent last.
    pub fn hints(&self) -> FederatedFacts {
        let seen = self.last.lock().ok().and_then(|l| l.clone());
        FederatedFacts {
            origin: self.origin(),
            audience: self.audience.clone(),
            claims: seen.as_ref().map(|s| s.claims.clone()),
            read_at: seen.as_ref().map(|s| s.read_at),
            written_at: seen.and_then(|s| s.written_at),
        }
    }

    pub fn describe(&self) -> String {
        match &self.source {
            FederatedSource::GitHub(_) => format!(
                "federated credential from the {} (audience {}), a new ID token for every token request",
                self.origin(),
                self.audience
            ),
            _ => format!(
                "federated credential from the {}, read again for every token request",
                self.origin()
            ),
        }
    }
}

impl fmt::Debug for FederatedProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederatedProof")
            .field("origin", &self.origin())
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Reads the token of a file or variable source, surrounding whitespace trimmed (GitHub's
/// needs the network: [`FederatedProof::fetch`]).
pub fn read_local(source: &FederatedSource) -> Result<Read> {
    match source {
        FederatedSource::File { path, from_env } => read_file(path, *from_env),
        FederatedSource::Env(name) => read_env(name),
        FederatedSource::GitHub(_) => Err(Error::Internal(
            "a GitHub ID token cannot be read locally".into(),
        )),
    }
}

/// A token file, bounded and FIFO-safe (`fileio`), with its modification time.
pub fn read_file(path: &std::path::Path, from_env: bool) -> Result<Read> {
    let fail = |problem| {
        Error::Federated(Box::new(FederatedProblem::File {
            path: path.to_path_buf(),
            from_env,
            problem,
        }))
    };
    let bytes = fileio::read_bounded(path, MAX_TOKEN_FILE).map_err(fail)?;
    let written_at = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    let origin = TokenOrigin::File {
        path: path.to_path_buf(),
        from_env,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::Federated(Box::new(FederatedProblem::NotAJwt {
            origin,
            why: "it is not text",
        }))
    })?;
    Ok(Read {
        token: FederatedToken::new(trimmed(text).to_string()),
        written_at,
    })
}

/// A token in an environment variable.
pub fn read_env(name: &str) -> Result<Read> {
    let problem = match std::env::var(name) {
        Ok(value) => {
            let value = zeroize::Zeroizing::new(value);
            if !trimmed(&value).is_empty() {
                return Ok(Read {
                    token: FederatedToken::new(trimmed(&value).to_string()),
                    written_at: None,
                });
            }
            FederatedProblem::EnvUnset { name: name.into() }
        }
        Err(std::env::VarError::NotPresent) => FederatedProblem::EnvUnset { name: name.into() },
        Err(std::env::VarError::NotUnicode(_)) => {
            FederatedProblem::EnvNotUnicode { name: name.into() }
        }
    };
    Err(Error::Federated(Box::new(problem)))
}

/// Checks `token` as a token request would, now, without a named audience (`graphd cert`).
pub fn check_now(
    token: &str,
    origin: &TokenOrigin,
    written_at: Option<i64>,
) -> Result<ExternalClaims> {
    claims::check(
        token,
        &claims::Check {
            origin,
            now: clock::now_unix(),
            written_at,
            audience: None,
        },
    )
    .map_err(|p| Error::Federated(Box::new(p)))
}

/// Without surrounding whitespace and a byte order mark (an editor's).
fn trimmed(text: &str) -> &str {
    text.trim().trim_start_matches('\u{feff}').trim()
}

/// The claims for `-v`: issuer, subject, audience, expiry (none of them secret).
pub fn describe_claims(c: &ExternalClaims, now: i64) -> String {
    let show = |v: &Option<String>| printable(v.as_deref().unwrap_or("(none)"), 300);
    let expires = c.exp.map_or_else(
        || "no exp".to_string(),
        |e| {
            format!(
                "expires {} (in {})",
                clock::rfc3339(e),
                crate::error::rounded_span(e - now)
            )
        },
    );
    format!(
        "iss {}, sub {}, aud {}, {expires}",
        show(&c.iss),
        show(&c.sub),
        printable(&c.aud.join(" "), 300)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_a_bom_around_the_token_are_ignored() {
        assert_eq!(trimmed("\u{feff}a.b.c\n"), "a.b.c");
        assert_eq!(trimmed("  a.b.c \r\n"), "a.b.c");
    }

    #[test]
    fn debug_shows_the_origin_only() {
        let proof = FederatedProof::new(FederatedSpec {
            source: FederatedSource::Env("CI_JOB_JWT".into()),
            audience: "api://AzureADTokenExchange".into(),
            audience_explicit: false,
        });
        let shown = format!("{proof:?}");
        assert!(shown.contains("CI_JOB_JWT"), "{shown}");
        assert!(proof.describe().contains("environment variable CI_JOB_JWT"));
    }
}
