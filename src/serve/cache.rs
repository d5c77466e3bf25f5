//! The in-memory token cache of `graphd serve`: one access token per resource, refreshed
//! ahead of expiry, fetched once however many requests wait for it, and kept in service
//! while the token service fails.
//!
//! - A token is served as it is until its refresh point: 5 minutes before it expires, or half
//!   its lifetime when that is shorter (the 5 minutes MSAL's managed identity client itself
//!   treats as expired, docs/protocol.md#app-service-managed-identity).
//! - After that point the next request starts one fetch (single flight: every request that
//!   arrives meanwhile waits for the same fetch). A request that still holds a usable token
//!   waits at most [`STALE_WAIT`] for it, then gets the old token.
//! - A failed fetch is remembered for [`FAILURE_HOLD`]: meanwhile requests get the old token
//!   while it is usable, else the failure, without asking the token service again (clients
//!   retry 500s at once; those retries must not each reach Entra).
//!
//! Times are `Instant`s (monotonic); only `expires_on` is wall-clock, for the answer. The map
//! is bounded by the resources the endpoint serves. It never logs: the fetch function does.
//! What a request gets at a given instant is decided by `entry`; this module runs the fetches.

mod entry;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::secret::AccessToken;
use entry::{Entry, Plan};

pub use entry::{Cached, MIN_REMAINING, REFRESH_AHEAD};

/// How long a failed fetch is answered from memory before the token service is asked again.
pub const FAILURE_HOLD: Duration = Duration::from_secs(5);
/// How long a request that holds a usable token waits for a refresh before getting it.
pub const STALE_WAIT: Duration = Duration::from_secs(3);

/// A token as the token service gave it.
#[derive(Debug)]
pub struct Fresh {
    pub token: AccessToken,
    /// Seconds, from the token response.
    pub expires_in: i64,
    /// Unix seconds: local receipt time + `expires_in`.
    pub expires_on: i64,
}

/// Why no token could be had: one line for the client's 500 (an `Error`'s Display: names,
/// codes and ids, never a secret).
#[derive(Debug)]
pub struct Failure {
    pub message: String,
}

/// What a request gets.
#[derive(Debug, Clone)]
pub enum Lookup {
    Token(Arc<Cached>),
    Failed(Arc<Failure>),
}

type FetchFuture = Pin<Box<dyn Future<Output = Result<Fresh, Failure>> + Send>>;

/// Gets a token for a resource from the token service.
pub type Fetch = Box<dyn Fn(&str) -> FetchFuture + Send + Sync>;

/// One fetch in progress; waiters subscribe to it.
type Flight = Arc<watch::Sender<Option<Lookup>>>;

/// Tokens by resource (the resource as configured: the caller has matched it already).
pub struct TokenCache {
    entries: Mutex<HashMap<String, Entry>>,
    fetch: Fetch,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

/// Clears the flight of a fetch task that ends without landing (a panic, or the runtime
/// shutting down), so the resource is not stuck behind it.
struct FlightGuard {
    cache: Arc<TokenCache>,
    resource: String,
    armed: bool,
}

impl FlightGuard {
    /// The fetch landed: nothing to clear.
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if self.armed
            && let Some(entry) = self.cache.lock().get_mut(&self.resource)
        {
            entry.flight = None;
        }
    }
}

impl TokenCache {
    pub fn new(fetch: Fetch) -> Arc<Self> {
        Arc::new(TokenCache {
            entries: Mutex::new(HashMap::new()),
            fetch,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // No code panics while holding it; a poisoned map is still a consistent map.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A token for `resource`: cached, or fetched (once for all who wait), or the failure.
    pub async fn get(self: &Arc<Self>, resource: &str) -> Lookup {
        let now = Instant::now();
        let (stale, mut waiting) = {
            let mut entries = self.lock();
            if let Some(entry) = entries.get(resource) {
                match entry.plan(now) {
                    Plan::Serve(t) => return Lookup::Token(t),
                    Plan::Fail(f) => return Lookup::Failed(f),
                    Plan::Fetch => {}
                }
            }
            let entry = entries.entry(resource.to_string()).or_default();
            let flight = match &entry.flight {
                Some(flight) => Arc::clone(flight),
                None => self.start(resource, entry),
            };
            (entry.usable(now), flight.subscribe())
        };
        let landed = async move {
            match waiting.wait_for(Option::is_some).await {
                Ok(value) => value.clone(),
                Err(_) => None,
            }
        };
        let outcome = match &stale {
            Some(_) => tokio::time::timeout(STALE_WAIT, landed)
                .await
                .ok()
                .flatten(),
            None => landed.await,
        };
        let still_usable = || stale.clone().filter(|t| t.usable(Instant::now()));
        match outcome {
            Some(Lookup::Token(t)) => Lookup::Token(t),
            Some(Lookup::Failed(f)) => still_usable().map_or(Lookup::Failed(f), Lookup::Token),
            // Still fetching after STALE_WAIT, or the fetch was abandoned.
            None => still_usable().map_or_else(
                || {
                    Lookup::Failed(Arc::new(Failure {
                        message: "the token request was abandoned (graphd serve is stopping)"
                            .into(),
                    }))
                },
                Lookup::Token,
            ),
        }
    }

    /// Caches a token got elsewhere (the first one, fetched before serving starts).
    pub fn seed(&self, resource: &str, fresh: Fresh) {
        let cached = Arc::new(Cached::new(fresh, Instant::now()));
        self.lock().entry(resource.to_string()).or_default().token = Some(cached);
    }

    /// Starts the one fetch for `resource`, recorded in its entry.
    fn start(self: &Arc<Self>, resource: &str, entry: &mut Entry) -> Flight {
        let (tx, _) = watch::channel(None);
        let flight = Arc::new(tx);
        entry.flight = Some(Arc::clone(&flight));
        let future = (self.fetch)(resource);
        let mut guard = FlightGuard {
            cache: Arc::clone(self),
            resource: resource.to_string(),
            armed: true,
        };
        let sender = Arc::clone(&flight);
        tokio::spawn(async move {
            let result = future.await;
            let outcome = guard.cache.land(&guard.resource, result);
            guard.disarm();
            sender.send_replace(Some(outcome));
        });
        flight
    }

    /// Records a fetch's result and ends its flight.
    fn land(&self, resource: &str, result: Result<Fresh, Failure>) -> Lookup {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entries.entry(resource.to_string()).or_default();
        entry.flight = None;
        match result {
            Ok(fresh) => {
                let cached = Arc::new(Cached::new(fresh, now));
                entry.token = Some(Arc::clone(&cached));
                entry.failure = None;
                Lookup::Token(cached)
            }
            Err(failure) => {
                let failure = Arc::new(failure);
                entry.failure = Some((Arc::clone(&failure), now + FAILURE_HOLD));
                Lookup::Failed(failure)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    use super::*;

    fn fresh(secs: i64) -> Fresh {
        Fresh {
            token: AccessToken::new(format!("token-{secs}")),
            expires_in: secs,
            expires_on: 1_700_000_000 + secs,
        }
    }

    fn cached(lifetime: i64, obtained: Instant) -> Arc<Cached> {
        Arc::new(Cached::new(fresh(lifetime), obtained))
    }

    fn failure() -> Failure {
        Failure {
            message: "token service refused: AADSTS700027".into(),
        }
    }

    #[test]
    fn refresh_points() {
        let t0 = Instant::now();
        let hour = cached(3599, t0);
        assert_eq!(hour.refresh_at - t0, Duration::from_secs(3299));
        let short = cached(120, t0);
        assert_eq!(short.refresh_at - t0, Duration::from_secs(60));
        assert!(short.usable(t0 + Duration::from_secs(117)));
        assert!(!short.usable(t0 + Duration::from_secs(118)));
    }

    #[test]
    fn plans_over_a_tokens_life() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut e = Entry::default();
        assert!(matches!(e.plan(t0), Plan::Fetch));
        e.token = Some(cached(3599, t0));
        assert!(matches!(e.plan(at(3298)), Plan::Serve(_)));
        assert!(matches!(e.plan(at(3300)), Plan::Fetch));
        // The refresh failed at 3300: the old token is served while usable, then the failure.
        e.failure = Some((Arc::new(failure()), at(3300) + FAILURE_HOLD));
        assert!(matches!(e.plan(at(3302)), Plan::Serve(_)));
        assert!(matches!(e.plan(at(3305)), Plan::Fetch), "the hold is over");
        e.failure = Some((Arc::new(failure()), at(3600)));
        assert!(
            matches!(e.plan(at(3597)), Plan::Fail(_)),
            "too close to expiry"
        );
    }

    /// A fetch that counts its calls and answers when the gate opens, in order of `answers`.
    fn gated(calls: Arc<AtomicUsize>, gate: Arc<Notify>, answers: Vec<Result<i64, ()>>) -> Fetch {
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        Box::new(move |_resource: &str| {
            calls.fetch_add(1, Ordering::SeqCst);
            let gate = Arc::clone(&gate);
            let next = answers.lock().unwrap().next().unwrap_or(Err(()));
            Box::pin(async move {
                gate.notified().await;
                next.map(fresh).map_err(|()| failure())
            })
        })
    }

    #[tokio::test]
    async fn one_fetch_for_a_hundred_cold_requests() {
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let cache = TokenCache::new(gated(Arc::clone(&calls), Arc::clone(&gate), vec![Ok(3599)]));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let cache = Arc::clone(&cache);
            tasks.spawn(async move { cache.get("https://graph.microsoft.com").await });
        }
        // Every request is waiting on the one flight before the token service answers.
        loop {
            let waiting = cache
                .lock()
                .get("https://graph.microsoft.com")
                .and_then(|e| e.flight.as_ref().map(|f| f.receiver_count()));
            if waiting == Some(100) {
                break;
            }
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        let mut tokens = 0;
        while let Some(done) = tasks.join_next().await {
            match done.unwrap() {
                Lookup::Token(t) => {
                    assert_eq!(t.token.expose_secret(), "token-3599");
                    tokens += 1;
                }
                Lookup::Failed(f) => panic!("{}", f.message),
            }
        }
        assert_eq!((tokens, calls.load(Ordering::SeqCst)), (100, 1));
        // And the next request is a cache hit.
        assert!(matches!(
            cache.get("https://graph.microsoft.com").await,
            Lookup::Token(_)
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_serves_the_old_token_then_the_failure() {
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let cache = TokenCache::new(gated(Arc::clone(&calls), Arc::clone(&gate), vec![Err(())]));
        let now = Instant::now();
        // A token past its refresh point, with 200 s left.
        let Some(obtained) = now.checked_sub(Duration::from_secs(3399)) else {
            return; // a machine up for less than an hour: the plan test covers this
        };
        cache.lock().entry("r".into()).or_default().token = Some(cached(3599, obtained));
        gate.notify_one();
        match cache.get("r").await {
            Lookup::Token(t) => assert_eq!(t.token.expose_secret(), "token-3599"),
            Lookup::Failed(f) => panic!("{}", f.message),
        }
        // Within the hold, no new fetch; still the old token.
        assert!(matches!(cache.get("r").await, Lookup::Token(_)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The old token expires: the failure is what is left.
        let expired = cached(1, obtained);
        cache.lock().get_mut("r").unwrap().token = Some(expired);
        match cache.get("r").await {
            Lookup::Failed(f) => assert!(f.message.contains("AADSTS700027")),
            Lookup::Token(_) => panic!("an unusable token was served"),
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_abandoned_fetch_does_not_block_the_resource() {
        let cache = TokenCache::new(Box::new(|_: &str| -> FetchFuture {
            Box::pin(async { panic!("the fetch task dies") })
        }));
        assert!(matches!(cache.get("r").await, Lookup::Failed(_)));
        assert!(cache.lock().get("r").unwrap().flight.is_none());
    }
}
