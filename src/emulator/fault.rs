//! Fault injection: which requests misbehave, and how.
//!
//! A [`FaultRule`] names a side (token endpoint or Graph), a schedule over that side's
//! requests and an action. Every rule counts every request of its side (on the token side:
//! token requests only, not discovery or JWKS, because those are what clients retry), so a
//! rule's schedule does not depend on the other rules; when several rules select the same
//! request, the first in the plan answers it.
//!
//! The command line takes the same plan as `--fault SPEC`; the syntax is documented on
//! [`FaultRule::parse`] and in `graphd emulator --help`.

use std::fmt;
use std::time::Duration;

/// Which listener a rule or a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The Entra-shaped token endpoint (`POST /{tenant}/oauth2/v2.0/token`).
    Token,
    /// The Graph-shaped API.
    Graph,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Token => "token",
            Side::Graph => "graph",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a `Retry-After` header is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryAfter {
    /// Integer seconds, as Entra sends (`Retry-After: 2`).
    Seconds(u64),
    /// Decimal seconds, as Graph's throttling sample shows (`Retry-After: 2.128`).
    Fractional(f64),
    /// An HTTP-date this many seconds ahead (RFC 9110 §10.2.3).
    HttpDate(u64),
}

impl RetryAfter {
    /// How long the client is asked to wait.
    pub fn wait(self) -> Duration {
        match self {
            RetryAfter::Seconds(s) | RetryAfter::HttpDate(s) => Duration::from_secs(s),
            RetryAfter::Fractional(s) => Duration::from_secs_f64(s.max(0.0)),
        }
    }
}

/// What a selected request gets instead of (or on top of) the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// This HTTP status (429, 500, 502, 503, 504) with the side's error body, and optionally
    /// a `Retry-After` header.
    Status {
        status: u16,
        retry_after: Option<RetryAfter>,
    },
    /// Wait, then answer normally.
    Delay(Duration),
    /// Read the request and never answer (until the emulator shuts down).
    Hang,
    /// Close the connection without answering.
    Drop,
    /// A 200 `application/json` body cut off in the middle.
    TruncatedJson,
    /// A body that is not JSON, with this status (200 by default).
    NotJson(u16),
    /// An HTML error page (a proxy or captive portal), with this status (200 by default).
    Html(u16),
    /// A syntactically valid JSON body of this many bytes (10 MB by default).
    HugeBody(usize),
    /// An Entra error by AADSTS code, with Entra's `error`, status and text (token side).
    Entra(u32),
    /// A normal users page whose `@odata.nextLink` points at this URL (Graph side).
    NextLink(String),
    /// `302 Found` with `Location` set to this URL (either side): clients must not follow it.
    Redirect(String),
    /// The handler panics: for graphd's own tests of the emulator's panic guard, which
    /// answers `500` and records the panic ([`Emulator::panics`](super::Emulator::panics)).
    /// `--fault` does not offer it.
    #[doc(hidden)]
    Panic,
    /// Every access token issued so far counts as expired from now on, then the request is
    /// answered normally (Graph side: a 401 for its now expired token, as Graph answers).
    ExpireTokens,
}

/// Default size of [`FaultAction::HugeBody`]: 10 MB.
pub const HUGE_BODY_DEFAULT: usize = 10 * 1024 * 1024;

/// Which requests of a side a rule selects: skip the first `skip`, then every `every`-th,
/// at most `count` times (`None`: without end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub skip: u64,
    pub every: u64,
    pub count: Option<u64>,
}

impl Default for Schedule {
    /// The next request only.
    fn default() -> Self {
        Schedule {
            skip: 0,
            every: 1,
            count: Some(1),
        }
    }
}

impl Schedule {
    /// Whether the side's `n`-th request (0-based) is selected.
    pub fn selects(&self, n: u64) -> bool {
        let every = self.every.max(1);
        if n < self.skip || !(n - self.skip).is_multiple_of(every) {
            return false;
        }
        self.count.is_none_or(|c| (n - self.skip) / every < c)
    }
}

/// One entry of the fault plan.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub side: Side,
    pub schedule: Schedule,
    pub action: FaultAction,
}

impl FaultRule {
    /// A rule for the next token request; adjust with [`times`](Self::times),
    /// [`always`](Self::always), [`skip`](Self::skip), [`every`](Self::every).
    pub fn token(action: FaultAction) -> Self {
        FaultRule {
            side: Side::Token,
            schedule: Schedule::default(),
            action,
        }
    }

    /// A rule for the next Graph request.
    pub fn graph(action: FaultAction) -> Self {
        FaultRule {
            side: Side::Graph,
            schedule: Schedule::default(),
            action,
        }
    }

    /// Select `n` requests instead of one.
    pub fn times(mut self, n: u64) -> Self {
        self.schedule.count = Some(n);
        self
    }

    /// Select without end.
    pub fn always(mut self) -> Self {
        self.schedule.count = None;
        self
    }

    /// Let the first `m` requests of the side through first.
    pub fn skip(mut self, m: u64) -> Self {
        self.schedule.skip = m;
        self
    }

    /// Select every `k`-th request (from the first selected one).
    pub fn every(mut self, k: u64) -> Self {
        self.schedule.every = k.max(1);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_select_by_index() {
        let next_two = Schedule {
            skip: 0,
            every: 1,
            count: Some(2),
        };
        assert_eq!(
            (0..5).map(|n| next_two.selects(n)).collect::<Vec<_>>(),
            [true, true, false, false, false]
        );
        let every_third_after_one = Schedule {
            skip: 1,
            every: 3,
            count: None,
        };
        let picked: Vec<u64> = (0..12)
            .filter(|n| every_third_after_one.selects(*n))
            .collect();
        assert_eq!(picked, [1, 4, 7, 10]);
        let twice_every_other = Schedule {
            skip: 2,
            every: 2,
            count: Some(2),
        };
        let picked: Vec<u64> = (0..12).filter(|n| twice_every_other.selects(*n)).collect();
        assert_eq!(picked, [2, 4]);
    }

    #[test]
    fn builder_sets_the_schedule() {
        let r = FaultRule::graph(FaultAction::Hang)
            .times(3)
            .skip(2)
            .every(2);
        assert_eq!(
            r.schedule,
            Schedule {
                skip: 2,
                every: 2,
                count: Some(3)
            }
        );
        assert_eq!(
            FaultRule::token(FaultAction::Drop).always().schedule.count,
            None
        );
    }
}
