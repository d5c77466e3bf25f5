//! The running emulator's federated side, for tests, `graphd demo --federated` and embedders:
//! its OIDC issuer and GitHub-shaped ID token endpoint, the federated tokens it accepted, the
//! token file, and the hook that lets a test act between two token requests. Also the checks
//! of a configuration's federated part.

use std::path::Path;

use super::{Emulator, EmulatorConfig, FederatedUse, OidcCounters, federation, oidc};
use crate::error::{Error, Result, UsageProblem};

impl Emulator {
    /// The built-in OIDC issuer (`{authority}/oidc`), for federated credentials.
    pub fn oidc_issuer(&self) -> String {
        self.shared.federation.builtin.clone()
    }

    /// Whether a federated credential trusts the built-in issuer.
    pub fn trusts_builtin_issuer(&self) -> bool {
        self.shared.federation.uses_builtin()
    }

    /// The GitHub-shaped ID token endpoint, as `ACTIONS_ID_TOKEN_REQUEST_URL` (with a query).
    pub fn github_request_url(&self) -> String {
        format!("{}/idtoken?api-version=2.0", self.shared.federation.builtin)
    }

    /// The bearer that endpoint accepts, as `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub fn github_request_token(&self) -> String {
        self.shared.oidc.request_token.clone()
    }

    /// A token from the built-in issuer for `subject` and `audience`, valid for `lifetime`
    /// seconds from the emulator's now.
    pub fn mint_id_token(&self, subject: &str, audience: &str, lifetime: i64) -> Result<String> {
        oidc::mint(
            &self.shared.federation.builtin,
            subject,
            audience,
            self.shared.now(),
            lifetime,
        )
        .map_err(Error::Internal)
    }

    /// What the ID token endpoint has served.
    pub fn oidc_counters(&self) -> OidcCounters {
        self.shared.oidc.counters()
    }

    /// The next ID token requests are answered with these statuses, in order.
    pub fn oidc_fail_next(&self, statuses: &[u16]) {
        self.shared.oidc.fail_next(statuses);
    }

    /// The federated tokens the token endpoint accepted, oldest first.
    pub fn federated_uses(&self) -> Vec<FederatedUse> {
        self.shared.federation.uses()
    }

    /// The token file, if one is kept.
    pub fn token_file(&self) -> Option<&Path> {
        self.shared
            .token_file
            .as_ref()
            .map(|t| t.config.path.as_path())
    }

    /// How many times the token file was written (at start, then at each refresh).
    pub fn token_file_writes(&self) -> u64 {
        self.shared.token_file.as_ref().map_or(0, |t| t.writes())
    }

    /// Rewrites the token file now (as the kubelet does at 80% of the token's lifetime).
    pub fn refresh_token_file(&self) -> Result<()> {
        match &self.shared.token_file {
            Some(t) => t.write(self.shared.now()),
            None => Err(Error::Internal("no token file is configured".into())),
        }
    }

    /// Runs `hook` on the emulator's thread after each access token is issued, with the
    /// number issued so far (e.g. to rewrite a token file between two token requests).
    pub fn on_token_issued(&self, hook: impl Fn(u64) + Send + Sync + 'static) {
        self.shared
            .hooks
            .set_token_issued(std::sync::Arc::new(hook));
    }
}

/// Checks the federated part of `config` before anything is bound.
pub(super) fn check(config: &EmulatorConfig) -> Result<()> {
    let invalid = |flag, why| Error::Usage(UsageProblem::Invalid { flag, why });
    federation::check(&config.federated).map_err(|why| invalid("--federated", why))?;
    for f in &config.federated {
        if !config
            .apps
            .iter()
            .any(|a| a.client_id.eq_ignore_ascii_case(&f.client_id))
        {
            return Err(invalid(
                "--federated",
                format!(
                    "app {} is not registered: register it with --app {}:ROLE (no certificate needed)",
                    f.client_id, f.client_id
                ),
            ));
        }
    }
    if let Some(t) = &config.token_file
        && t.lifetime_secs < 600
    {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--token-file-lifetime",
            value: t.lifetime_secs.to_string(),
            allowed: "at least 600 seconds (the kubelet's minimum)",
        }));
    }
    if config.oidc.lifetime_secs < 1 {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--oidc-token-lifetime",
            value: config.oidc.lifetime_secs.to_string(),
            allowed: "at least one second",
        }));
    }
    Ok(())
}
