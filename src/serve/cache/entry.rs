//! One resource's entry in `graphd serve`'s token cache, and what a request arriving at a
//! given instant gets from it (`Entry::plan`): the cached token until its refresh point;
//! after a failed fetch, the old token while it is usable, else the failure, until the hold
//! ends; otherwise a new fetch.
//!
//! Pure policy: the instant is given, never read; it starts no task, holds no lock, and
//! never logs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Failure, Flight, Fresh};
use crate::secret::AccessToken;

/// How long before expiry a token is refreshed, at most (half the lifetime when shorter).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(300);
/// A token with less left than this is not served from the cache any more.
pub const MIN_REMAINING: Duration = Duration::from_secs(2);

/// A cached token and its times.
#[derive(Debug)]
pub struct Cached {
    pub token: AccessToken,
    pub expires_on: i64,
    pub(super) expires_at: Instant,
    pub(super) refresh_at: Instant,
}

impl Cached {
    /// Places `fresh`, received at `obtained`, on the monotonic clock.
    pub fn new(fresh: Fresh, obtained: Instant) -> Self {
        let lifetime = Duration::from_secs(u64::try_from(fresh.expires_in).unwrap_or(0));
        let ahead = REFRESH_AHEAD.min(lifetime / 2);
        let expires_at = obtained + lifetime;
        Cached {
            token: fresh.token,
            expires_on: fresh.expires_on,
            expires_at,
            refresh_at: expires_at - ahead,
        }
    }

    /// Whether it may still be handed out at `now`.
    pub(super) fn usable(&self, now: Instant) -> bool {
        now + MIN_REMAINING < self.expires_at
    }
}

#[derive(Default)]
pub(super) struct Entry {
    pub(super) token: Option<Arc<Cached>>,
    /// The last failed fetch, answered until the instant.
    pub(super) failure: Option<(Arc<Failure>, Instant)>,
    pub(super) flight: Option<Flight>,
}

/// What the cache does for a request at a given instant.
#[derive(Debug)]
pub(super) enum Plan {
    Serve(Arc<Cached>),
    Fail(Arc<Failure>),
    Fetch,
}

impl Entry {
    pub(super) fn plan(&self, now: Instant) -> Plan {
        if let Some(t) = self.token.as_ref().filter(|t| now < t.refresh_at) {
            return Plan::Serve(Arc::clone(t));
        }
        if let Some((failure, until)) = &self.failure
            && now < *until
        {
            return match self.usable(now) {
                Some(t) => Plan::Serve(t),
                None => Plan::Fail(Arc::clone(failure)),
            };
        }
        Plan::Fetch
    }

    pub(super) fn usable(&self, now: Instant) -> Option<Arc<Cached>> {
        self.token.as_ref().filter(|t| t.usable(now)).cloned()
    }
}
