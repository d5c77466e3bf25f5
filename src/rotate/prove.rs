//! Proving a new key before relying on it: a token request signed with it, repeated with
//! backoff while the token service answers AADSTS700027 ("the key was not found"), because a
//! key added to an application takes a while to reach every node of the token service
//! (docs/protocol.md#certificate-self-rotation).
//!
//! The token obtained is dropped at once: it only shows that the key works.

use std::time::{Duration, Instant};

use crate::error::{Error, Result, RotateCause, RotateProblem};
use crate::http::Http;
use crate::identity::Identity;
use crate::messages;
use crate::token;

/// The token service's code for a key it does not know (docs/protocol.md#aadsts-codes).
const KEY_NOT_FOUND: u64 = 700_027;
/// First wait after a refusal; doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(10);

/// How the proof went.
#[derive(Debug, Clone, Copy)]
pub struct Proven {
    pub attempts: u32,
    pub waited: Duration,
}

/// The wait before attempt `attempt + 1` (attempt counts from 1).
pub fn wait_after(attempt: u32) -> Duration {
    FIRST_WAIT
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(8))
        .min(MAX_WAIT)
}

/// Gets a token for `scope` with `identity` (the new key), waiting out AADSTS700027 for at
/// most `timeout`. Any other refusal or failure ends it at once.
pub async fn prove(
    http: &Http,
    identity: &Identity,
    scope: &str,
    timeout: Duration,
) -> Result<Proven, RotateCause> {
    let start = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        match token::request(http, identity, scope).await {
            Ok(_token) => {
                return Ok(Proven {
                    attempts,
                    waited: start.elapsed(),
                });
            }
            Err(Error::TokenRefused(r)) if r.entra.code() == Some(KEY_NOT_FOUND) => {
                let elapsed = start.elapsed();
                if elapsed >= timeout {
                    return Err(RotateCause::Problem(RotateProblem::NotPropagated {
                        waited_secs: elapsed.as_secs(),
                        attempts,
                    }));
                }
                let wait = wait_after(attempts).min(timeout - elapsed);
                messages::info(&format!(
                    "rotate 5/7: the token service does not know the new key yet (AADSTS700027); \
                     trying again in {:.1} s",
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(RotateCause::Error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_are_capped() {
        assert_eq!(wait_after(1), Duration::from_secs(1));
        assert_eq!(wait_after(2), Duration::from_secs(2));
        assert_eq!(wait_after(3), Duration::from_secs(4));
        assert_eq!(wait_after(5), MAX_WAIT);
        assert_eq!(wait_after(u32::MAX), MAX_WAIT);
    }
}
