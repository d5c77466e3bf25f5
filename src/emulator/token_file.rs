//! A token file in the Kubernetes form (docs/protocol.md#kubernetes-token-file): a projected
//! service account token from the built-in issuer, written atomically (readers never see a
//! torn file) at start and rewritten at 80% of its lifetime, as the kubelet does, so
//! `AZURE_FEDERATED_TOKEN_FILE` can point at it.
//!
//! It replaces only a file that holds nothing or a JWT (its own, from an earlier run): a user's
//! file is never overwritten.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::federation::DEFAULT_AUDIENCE;
use super::oidc;
use crate::error::{Error, FileProblem, Result};
use crate::fileio::{self, Replace};

/// Where and what to write.
#[derive(Debug, Clone)]
pub struct TokenFileConfig {
    pub path: PathBuf,
    /// `system:serviceaccount:NAMESPACE:NAME`.
    pub subject: String,
    pub audience: String,
    /// The projected token's lifetime, seconds (the workload identity webhook's default: 3600).
    pub lifetime_secs: i64,
}

impl TokenFileConfig {
    /// A file for the `default` namespace's `graphd` service account, audience
    /// `api://AzureADTokenExchange`, one hour.
    pub fn new(path: PathBuf) -> Self {
        TokenFileConfig {
            path,
            subject: "system:serviceaccount:default:graphd".into(),
            audience: DEFAULT_AUDIENCE.into(),
            lifetime_secs: 3600,
        }
    }
}

/// The file being kept fresh.
pub struct TokenFile {
    pub config: TokenFileConfig,
    issuer: String,
    writes: AtomicU64,
}

impl TokenFile {
    /// Checks that the file may be written; nothing is written yet.
    pub fn prepare(config: TokenFileConfig, issuer: &str) -> Result<Self> {
        match fileio::read_bounded(&config.path, 64 * 1024) {
            Ok(existing) => {
                let text = String::from_utf8_lossy(&existing);
                if text.trim().split('.').count() != 3 {
                    return Err(Error::Exists {
                        path: config.path.clone(),
                    });
                }
            }
            Err(FileProblem::NotFound | FileProblem::Empty) => {}
            Err(problem) => {
                return Err(Error::File {
                    path: config.path.clone(),
                    action: "write the token file",
                    source: std::io::Error::other(problem.to_string()),
                    hint: Some("pass --token-file with a path graphd may create".into()),
                });
            }
        }
        Ok(TokenFile {
            config,
            issuer: issuer.to_string(),
            writes: AtomicU64::new(0),
        })
    }

    /// Writes a new token, valid from `now`.
    pub fn write(&self, now: i64) -> Result<()> {
        let c = &self.config;
        let token =
            oidc::mint_kubernetes(&self.issuer, &c.subject, &c.audience, now, c.lifetime_secs)
                .map_err(Error::Internal)?;
        fileio::write_atomic(&c.path, token.as_bytes(), 0o600, Replace::Atomically).map_err(
            |e| Error::File {
                path: c.path.clone(),
                action: "write",
                source: e,
                hint: None,
            },
        )?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// How often it is rewritten: at 80% of the token's lifetime.
    pub fn refresh_every(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.config.lifetime_secs.max(1)).unwrap_or(1) * 800)
    }

    /// How many times it was written.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }
}
