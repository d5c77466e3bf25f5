//! The loopback Entra token endpoint + Microsoft Graph emulator behind `graphd emulator`,
//! `graphd demo` and graphd's own tests.
//!
//! It is strict on purpose: assertions are validated as Entra validates them and answers use
//! Entra's and Graph's error shapes (see `docs/protocol.md`), so a
//! client that passes against it has met the real rules. It listens on 127.0.0.1 only, on two
//! ports (token side and Graph side are different origins, as login.microsoftonline.com and
//! graph.microsoft.com are), runs on its own thread and tokio runtime, and stops when its
//! handle is dropped. It never logs a token or an assertion.

pub mod cli;
mod cli_apps;
mod cli_federation;
mod fault;
mod fault_parse;
mod federated_api;
mod federation;
mod graph;
mod hooks;
mod inject;
mod keys;
mod oidc;
mod panics;
mod respond;
mod server;
mod start;
mod state;
mod sts;
mod tenant;
mod tls;
mod token_file;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use openssl::x509::X509;
use url::Url;

use crate::clock;
use crate::error::{Error, Result, UsageProblem};

pub use fault::{FaultAction, FaultRule, RetryAfter, Schedule, Side};
pub use federation::{
    DEFAULT_AUDIENCE, FederatedCredential, FederatedUse, IssuerKeys, IssuerRef, MAX_PER_APP,
};
pub use graph::READ_USERS_ROLES;
pub use graph::tenant::{DEFAULT_TOKEN_LIFETIME_SECS, TenantChanges};
pub use oidc::{OidcConfig, OidcCounters};
pub use state::{Counters, RequestRecord, SideCounters};
pub use sts::assertion::NBF_SKEW_SECS;
pub use sts::checker::AssertionChecker;
pub use token_file::TokenFileConfig;

/// The tenant the emulator serves unless told otherwise (its last group spells "graphd").
pub const DEFAULT_TENANT: &str = "e7a1d0c5-0b5e-4d2a-9c3f-677261706864";

/// Users served by default.
pub const DEFAULT_USERS: u64 = 250;

/// The most synthetic users (ids carry the index in 60 bits).
pub const MAX_USERS: u64 = 1_000_000_000_000;

/// The furthest the emulator's clock may run ahead of or behind the real one: ten years, far
/// beyond any skew worth testing, and far from where `now + offset` could overflow.
pub const MAX_CLOCK_OFFSET_SECS: i64 = 10 * 366 * 86_400;

/// The longest `expires_in` the emulator issues: a day (Entra's own stay under 28 hours).
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 86_400;

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Tenant GUID or domain; tokens are issued only on `/{tenant}/...`.
    pub tenant: String,
    pub apps: Vec<AppRegistration>,
    /// Number of synthetic users on the Graph side.
    pub users: u64,
    /// Serve HTTPS with a generated CA and a server certificate for 127.0.0.1 and localhost.
    pub tls: bool,
    /// Where to write the CA certificate (PEM) with `tls`; else a temp file the handle owns.
    pub ca_out: Option<PathBuf>,
    /// Token-side port; 0 picks a free one.
    pub token_port: u16,
    /// Graph-side port; 0 picks a free one.
    pub graph_port: u16,
    /// Refuse a client assertion whose `jti` was seen before (Entra does not; docs/protocol.md#assertion-time-window).
    pub strict_jti: bool,
    /// `expires_in` of issued tokens (Entra's sample: 3599).
    pub token_lifetime_secs: i64,
    /// The emulator's clock minus the real one: simulates clock skew (AADSTS700024).
    pub clock_offset_secs: i64,
    /// The initial fault plan.
    pub faults: Vec<FaultRule>,
    /// Age after which a delta or skip token is refused with `syncStateNotFound`.
    pub delta_token_lifetime_secs: i64,
    /// Random changes to the tenant per minute (created, updated, deleted users); 0: none.
    pub churn_per_minute: u64,
    /// Federated identity credentials of the apps (docs/protocol.md#workload-identity-federation).
    pub federated: Vec<FederatedCredential>,
    /// The keys of issuers other than the built-in one, which the emulator cannot fetch.
    pub issuer_keys: Vec<IssuerKeys>,
    /// The built-in issuer's GitHub-shaped ID token endpoint.
    pub oidc: OidcConfig,
    /// A Kubernetes-style token file the emulator writes and keeps fresh.
    pub token_file: Option<TokenFileConfig>,
    /// How long a key added with Graph's `addKey` takes to reach the token side (new keys
    /// propagate; removed keys stop working at once).
    pub key_propagation_ms: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            tenant: DEFAULT_TENANT.to_string(),
            apps: Vec::new(),
            users: DEFAULT_USERS,
            tls: false,
            ca_out: None,
            token_port: 0,
            graph_port: 0,
            strict_jti: false,
            token_lifetime_secs: 3599,
            clock_offset_secs: 0,
            faults: Vec::new(),
            delta_token_lifetime_secs: DEFAULT_TOKEN_LIFETIME_SECS,
            churn_per_minute: 0,
            federated: Vec::new(),
            issuer_keys: Vec::new(),
            oidc: OidcConfig::default(),
            token_file: None,
            key_propagation_ms: 0,
        }
    }
}

/// An app registration: its client id, the certificates uploaded to it, and the application
/// permissions (Graph `roles`) consented for it.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    pub client_id: String,
    pub certificates: Vec<X509>,
    pub roles: Vec<String>,
}

/// One key credential of a registered application, as [`Emulator::key_credentials`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredentialInfo {
    pub key_id: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    pub display_name: Option<String>,
    /// The certificate's validity, unix seconds.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// Whether the token side accepts it yet (see [`EmulatorConfig::key_propagation_ms`]).
    pub usable_for_tokens: bool,
}

/// What every request handler shares: settings fixed at start, and the mutable [`state::State`].
pub(crate) struct Shared {
    pub tenant: String,
    /// The tenant GUID (derived from the domain when the tenant is a domain).
    pub tenant_id: String,
    /// The users' UPN domain.
    pub domain: String,
    pub strict_jti: bool,
    pub token_lifetime: i64,
    pub clock_offset: i64,
    /// See [`EmulatorConfig::key_propagation_ms`].
    pub key_propagation: std::time::Duration,
    pub scheme: &'static str,
    pub token_port: u16,
    pub graph_port: u16,
    pub token_origin: String,
    pub graph_origin: String,
    pub started: Instant,
    /// Per-emulator secret mixed into skiptokens.
    pub salt: u64,
    pub state: state::State,
    /// The directory's changes since start, and which delta tokens are honoured.
    pub directory: graph::tenant::Tenant,
    pub key: &'static keys::SigningKey,
    pub federation: federation::Registry,
    pub oidc: oidc::Issuer,
    pub hooks: hooks::Hooks,
    pub token_file: Option<token_file::TokenFile>,
}

impl Shared {
    /// The emulator's clock, unix seconds.
    pub fn now(&self) -> i64 {
        clock::now_unix().saturating_add(self.clock_offset)
    }

    pub fn is_tenant(&self, t: &str) -> bool {
        t.eq_ignore_ascii_case(&self.tenant) || t.eq_ignore_ascii_case(&self.tenant_id)
    }

    /// `iss` of issued tokens: Entra's v1 issuer (docs/protocol.md#access-token).
    pub fn token_issuer(&self) -> String {
        format!("https://sts.windows.net/{}/", self.tenant_id)
    }

    /// The Graph side's origin under both loopback names (accepted as a token resource).
    pub fn graph_origins(&self) -> [String; 2] {
        let p = self.graph_port;
        [
            format!("{}://127.0.0.1:{p}", self.scheme),
            format!("{}://localhost:{p}", self.scheme),
        ]
    }
}

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    shared: Arc<Shared>,
    authority: Url,
    graph: Url,
    ca_file: Option<PathBuf>,
    /// Deletes the CA file on drop when no `ca_out` was given.
    _ca_temp: Option<tempfile::TempPath>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds both ports on 127.0.0.1, writes the CA (with `tls`) and starts serving.
    pub fn start(config: EmulatorConfig) -> Result<Emulator> {
        start::start(config)
    }

    /// The token side's origin, e.g. `http://127.0.0.1:41234` (`AZURE_AUTHORITY_HOST`).
    pub fn authority_host(&self) -> Url {
        self.authority.clone()
    }

    /// The Graph side's origin, e.g. `http://127.0.0.1:41235` (`GRAPHD_GRAPH_ENDPOINT`).
    pub fn graph_endpoint(&self) -> Url {
        self.graph.clone()
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self) -> String {
        crate::cloud::token_endpoint(&self.authority, &self.shared.tenant)
    }

    pub fn tenant(&self) -> &str {
        &self.shared.tenant
    }

    /// The CA certificate file clients must trust (with `tls`).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Registers an app, replacing any app with the same client id.
    pub fn register_app(&self, app: AppRegistration) {
        self.shared.state.register(app);
    }

    /// The object id of the application `client_id` (Graph's `id`), if registered.
    pub fn object_id(&self, client_id: &str) -> Option<String> {
        self.shared
            .state
            .app(client_id)
            .map(|a| a.object_id.clone())
    }

    /// The key credentials of the application `client_id` as they are now (also served by
    /// `GET /v1.0/applications/{id}`), if registered.
    pub fn key_credentials(&self, client_id: &str) -> Option<Vec<KeyCredentialInfo>> {
        let app = self.shared.state.app(client_id)?;
        let now = Instant::now();
        Some(
            app.certs
                .iter()
                .map(|c| KeyCredentialInfo {
                    key_id: c.key_id.clone(),
                    thumbprint: c.thumbprint_hex(),
                    display_name: c.display_name.clone(),
                    not_before: c.not_before,
                    not_after: c.not_after,
                    usable_for_tokens: c.usable_for_tokens(now),
                })
                .collect(),
        )
    }

    /// The client id of the first registered app (in sorted order), if any.
    pub fn first_client_id(&self) -> Option<String> {
        self.shared.state.first_client_id()
    }

    /// Replaces the fault plan; rule schedules count from the next request.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.shared.state.set_faults(rules);
    }

    pub fn counters(&self) -> Counters {
        self.shared.state.counters()
    }

    /// The request log (the most recent 100,000), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.state.requests()
    }

    /// Every request handler that panicked so far, as `side METHOD path: message`, oldest
    /// first. The client got a `500`; a non-empty list means a bug in the emulator.
    pub fn panics(&self) -> Vec<String> {
        self.shared.state.panics()
    }

    /// From now on, every token issued so far is rejected by the Graph side as expired.
    pub fn expire_issued_tokens(&self) {
        self.shared.state.expire_issued_tokens();
    }

    /// Stops serving and waits for the server thread to end.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("authority", &self.authority.as_str())
            .field("graph", &self.graph.as_str())
            .field("tenant", &self.shared.tenant)
            .finish_non_exhaustive()
    }
}

/// Checks a configuration before anything is bound.
fn check(config: &EmulatorConfig) -> Result<()> {
    let invalid = |flag, why| Error::Usage(UsageProblem::Invalid { flag, why });
    crate::cloud::check_tenant(&config.tenant).map_err(|why| invalid("--tenant", why))?;
    if config.users > MAX_USERS {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--users",
            value: config.users.to_string(),
            allowed: "at most 1000000000000",
        }));
    }
    if config.delta_token_lifetime_secs < 1 {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--delta-token-lifetime",
            value: config.delta_token_lifetime_secs.to_string(),
            allowed: "at least one second",
        }));
    }
    if !(1..=MAX_TOKEN_LIFETIME_SECS).contains(&config.token_lifetime_secs) {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--token-lifetime",
            value: config.token_lifetime_secs.to_string(),
            allowed: "between 1 and 86400 seconds",
        }));
    }
    if !(-MAX_CLOCK_OFFSET_SECS..=MAX_CLOCK_OFFSET_SECS).contains(&config.clock_offset_secs) {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--clock-offset",
            value: config.clock_offset_secs.to_string(),
            allowed: "within ten years (316224000 seconds) either way",
        }));
    }
    for app in &config.apps {
        crate::cloud::check_client_id(&app.client_id).map_err(|why| invalid("--app", why))?;
    }
    federated_api::check(config)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_handle_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::Emulator>();
    }
}
