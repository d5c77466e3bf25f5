//! What the running emulator remembers: registered apps, the fault plan, counters, the
//! request log, used `jti`s and which issued tokens are still honoured.
//!
//! One `Mutex` guards it; it is never held across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{Id, PKey, Public};
use openssl::x509::X509;

use super::AppRegistration;
use super::fault::{FaultAction, FaultRule, Side};
use crate::clock;

/// The request log keeps this many entries, dropping the oldest.
const LOG_CAPACITY: usize = 100_000;

/// Request, fault and retry counts of one side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SideCounters {
    /// Every request received on this side's port.
    pub requests: u64,
    /// Requests answered by (or delayed, hung or dropped by) a fault rule.
    pub faults: u64,
    /// Requests that arrived before a `Retry-After` the emulator sent on this side had elapsed.
    pub early: u64,
}

/// A snapshot of the emulator's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub token: SideCounters,
    pub graph: SideCounters,
    /// Access tokens issued.
    pub tokens_issued: u64,
}

impl Counters {
    pub fn side(&self, side: Side) -> &SideCounters {
        match side {
            Side::Token => &self.token,
            Side::Graph => &self.graph,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut SideCounters {
        match side {
            Side::Token => &mut self.token,
            Side::Graph => &mut self.graph,
        }
    }
}

/// One request as the emulator saw it. Never holds the `Authorization` value or a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub side: Side,
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub consistency_level: Option<String>,
    pub client_request_id: Option<String>,
    pub user_agent: Option<String>,
    pub retry_attempt: Option<String>,
    /// Whether an `Authorization` header was present (its value is never kept).
    pub authorization: bool,
    /// The status sent; 0 when no response was sent (a `hang` or `drop` fault).
    pub status: u16,
    /// The fault that shaped the answer, if any (its `Debug` form).
    pub fault: Option<String>,
    /// Whether it arrived before a `Retry-After` sent on this side had elapsed.
    pub early: bool,
    /// Arrival time since the emulator started.
    pub at: Duration,
}

/// A registered certificate (a key credential of its app) with what validation needs,
/// computed once.
#[derive(Clone)]
pub struct RegisteredCert {
    /// Graph's `keyId`.
    pub key_id: String,
    /// Graph's `displayName`.
    pub display_name: Option<String>,
    /// Graph's `customKeyIdentifier`: the SHA-1 thumbprint as upper-case hex unless the
    /// `addKey` request gave one.
    pub custom_key_identifier: String,
    /// When the token side starts accepting it (a key added with `addKey` propagates);
    /// `None`: from the start.
    pub usable_from: Option<Instant>,
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
    pub der: Vec<u8>,
    pub public_key: Option<PKey<Public>>,
    pub rsa_bits: Option<u32>,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
}

impl RegisteredCert {
    /// A certificate registered when the app was: its keyId is derived from the
    /// certificate, so it is the same in every run.
    fn new(cert: &X509) -> Option<Self> {
        let mut c = Self::of(cert)?;
        c.key_id = super::keys::derived_guid(&["keyCredential", &c.thumbprint_hex()]);
        Some(c)
    }

    /// A certificate added through `addKey`: a new keyId, usable for tokens from `usable_from`.
    pub fn added(
        cert: &X509,
        display_name: Option<String>,
        custom_key_identifier: Option<String>,
        usable_from: Instant,
    ) -> Option<Self> {
        let mut c = Self::of(cert)?;
        c.key_id = uuid::Uuid::new_v4().to_string();
        c.display_name = display_name;
        if let Some(id) = custom_key_identifier {
            c.custom_key_identifier = id;
        }
        c.usable_from = Some(usable_from);
        Some(c)
    }

    /// The SHA-1 thumbprint as upper-case hex.
    pub fn thumbprint_hex(&self) -> String {
        self.sha1.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// Whether the token side accepts it at `now`.
    pub fn usable_for_tokens(&self, now: Instant) -> bool {
        self.usable_from.is_none_or(|t| t <= now)
    }

    fn of(cert: &X509) -> Option<Self> {
        let der = cert.to_der().ok()?;
        let mut sha1 = [0u8; 20];
        sha1.copy_from_slice(&hash(MessageDigest::sha1(), &der).ok()?);
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&hash(MessageDigest::sha256(), &der).ok()?);
        let public_key = cert.public_key().ok();
        let rsa_bits = public_key
            .as_ref()
            .filter(|k| k.id() == Id::RSA)
            .map(|k| k.bits());
        let custom_key_identifier = sha1.iter().map(|b| format!("{b:02X}")).collect();
        Some(RegisteredCert {
            key_id: String::new(),
            display_name: None,
            custom_key_identifier,
            usable_from: None,
            sha1,
            sha256,
            der,
            public_key,
            rsa_bits,
            not_before: clock::asn1_to_unix(cert.not_before()),
            not_after: clock::asn1_to_unix(cert.not_after()),
        })
    }
}

/// A registered application.
#[derive(Clone)]
pub struct App {
    pub client_id: String,
    /// Graph's `id` of the application object (derived from the client id).
    pub object_id: String,
    pub certs: Vec<RegisteredCert>,
    pub roles: Vec<String>,
}

impl App {
    /// The registration with its certificates' digests computed; the client id lowercased.
    pub fn new(app: AppRegistration) -> Self {
        let client_id = app.client_id.to_ascii_lowercase();
        App {
            object_id: super::keys::derived_guid(&["application", &client_id]),
            client_id,
            certs: app
                .certificates
                .iter()
                .filter_map(RegisteredCert::new)
                .collect(),
            roles: app.roles,
        }
    }
}

#[derive(Default)]
struct Inner {
    apps: HashMap<String, Arc<App>>,
    faults: Vec<FaultRule>,
    /// Fault-eligible requests seen per side since the plan was set.
    seen: [u64; 2],
    retry_until: [Option<Instant>; 2],
    counters: Counters,
    log: VecDeque<RequestRecord>,
    /// `jti` -> the assertion's `exp`, for `strict_jti`.
    jtis: HashMap<String, i64>,
    /// Handlers that panicked: `side METHOD path: message`.
    panics: Vec<String>,
}

/// The emulator's mutable state.
pub struct State {
    inner: Mutex<Inner>,
    /// Sequence number of the next access token (it is carried in the token's `uti`).
    next_token: AtomicU64,
    /// Tokens with a sequence number below this are treated as expired.
    first_valid_token: AtomicU64,
}

fn index(side: Side) -> usize {
    match side {
        Side::Token => 0,
        Side::Graph => 1,
    }
}

impl State {
    pub fn new(apps: Vec<AppRegistration>, faults: Vec<FaultRule>) -> Self {
        let state = State {
            inner: Mutex::new(Inner {
                faults,
                ..Inner::default()
            }),
            next_token: AtomicU64::new(0),
            first_valid_token: AtomicU64::new(0),
        };
        for app in apps {
            state.register(app);
        }
        state
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to an emulator; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces an app (by client id, case-insensitively).
    pub fn register(&self, app: AppRegistration) {
        let entry = App::new(app);
        self.lock()
            .apps
            .insert(entry.client_id.clone(), Arc::new(entry));
    }

    /// The app, if registered.
    pub fn app(&self, client_id: &str) -> Option<Arc<App>> {
        self.lock()
            .apps
            .get(&client_id.to_ascii_lowercase())
            .cloned()
    }

    /// The app as the token side sees it at `now`: without the keys that have not
    /// propagated yet.
    pub fn app_for_tokens(&self, client_id: &str, now: Instant) -> Option<Arc<App>> {
        let app = self.app(client_id)?;
        if app.certs.iter().all(|c| c.usable_for_tokens(now)) {
            return Some(app);
        }
        let mut view = App::clone(&app);
        view.certs.retain(|c| c.usable_for_tokens(now));
        Some(Arc::new(view))
    }

    /// The app whose application object has this id.
    pub fn app_by_object_id(&self, object_id: &str) -> Option<Arc<App>> {
        self.lock()
            .apps
            .values()
            .find(|a| a.object_id.eq_ignore_ascii_case(object_id))
            .cloned()
    }

    /// Changes an app's key credentials under the lock (so two changes never lose one):
    /// `change` gets a copy and returns its answer; the copy replaces the app.
    pub fn change_app<R>(&self, client_id: &str, change: impl FnOnce(&mut App) -> R) -> Option<R> {
        let mut inner = self.lock();
        let current = inner.apps.get(&client_id.to_ascii_lowercase())?;
        let mut app = App::clone(current);
        let answer = change(&mut app);
        inner.apps.insert(app.client_id.clone(), Arc::new(app));
        Some(answer)
    }

    pub fn first_client_id(&self) -> Option<String> {
        let inner = self.lock();
        let mut ids: Vec<&String> = inner.apps.keys().collect();
        ids.sort();
        ids.first().map(|s| s.to_string())
    }

    /// Replaces the plan; schedules count from the next request.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        let mut inner = self.lock();
        inner.faults = rules;
        inner.seen = [0, 0];
    }

    /// Counts a request, and for fault-eligible ones: whether it is early, and the fault
    /// that selects it.
    pub fn arrive(&self, side: Side, eligible: bool, now: Instant) -> (bool, Option<FaultAction>) {
        let mut inner = self.lock();
        inner.counters.side_mut(side).requests += 1;
        if !eligible {
            return (false, None);
        }
        let i = index(side);
        let early = inner.retry_until[i].is_some_and(|until| now < until);
        if early {
            inner.counters.side_mut(side).early += 1;
        }
        let n = inner.seen[i];
        inner.seen[i] += 1;
        let action = inner
            .faults
            .iter()
            .find(|r| r.side == side && r.schedule.selects(n))
            .map(|r| r.action.clone());
        if action.is_some() {
            inner.counters.side_mut(side).faults += 1;
        }
        (early, action)
    }

    /// Remembers that a `Retry-After` asked clients of `side` to wait until `until`.
    pub fn retry_after_sent(&self, side: Side, until: Instant) {
        let mut inner = self.lock();
        let slot = &mut inner.retry_until[index(side)];
        *slot = Some(slot.map_or(until, |u| u.max(until)));
    }

    pub fn record(&self, record: RequestRecord) {
        let mut inner = self.lock();
        if inner.log.len() >= LOG_CAPACITY {
            inner.log.pop_front();
        }
        inner.log.push_back(record);
    }

    pub fn counters(&self) -> Counters {
        self.lock().counters
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().log.iter().cloned().collect()
    }

    /// Records a handler that panicked (the client was answered `500`).
    pub fn handler_panicked(&self, what: String) {
        self.lock().panics.push(what);
    }

    pub fn panics(&self) -> Vec<String> {
        self.lock().panics.clone()
    }

    /// `false` if `jti` was seen before (and its assertion has not expired).
    pub fn use_jti(&self, jti: &str, exp: i64, now: i64) -> bool {
        let mut inner = self.lock();
        if inner.jtis.len() > 10_000 {
            inner.jtis.retain(|_, e| *e > now);
        }
        match inner.jtis.get(jti) {
            Some(e) if *e > now => false,
            _ => {
                inner.jtis.insert(jti.to_string(), exp);
                true
            }
        }
    }

    /// A fresh token sequence number.
    pub fn issue_token(&self) -> u64 {
        self.lock().counters.tokens_issued += 1;
        self.next_token.fetch_add(1, Ordering::SeqCst)
    }

    pub fn token_revoked(&self, seq: u64) -> bool {
        seq < self.first_valid_token.load(Ordering::SeqCst)
    }

    pub fn expire_issued_tokens(&self) {
        let next = self.next_token.load(Ordering::SeqCst);
        self.first_valid_token.store(next, Ordering::SeqCst);
    }
}
