//! The retry policy: which answers are transient, how long `Retry-After` asks to wait, and
//! the backoff used when it says nothing.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

/// The longest `Retry-After` graphd waits out. A longer one is not waited for and not
/// pre-empted either: the command fails at once (exit 6) and says how long the service asked
/// for, so graphd never sends a request the service asked it not to send yet.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// First backoff step when the server gives no `Retry-After`; doubles per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Requested waits are kept below this before any arithmetic (a year: far past any cap).
const WAIT_CEILING_SECS: f64 = 365.0 * 86_400.0;

/// Statuses worth retrying (issue 4; Graph's retry guidance, docs/protocol.md#throttling).
pub fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The wait a `Retry-After` value asks for: integer or fractional seconds, or an HTTP-date
/// (RFC 9110 §10.2.3) measured from `now`. `None` for anything unparsable, in which case the
/// caller backs off on its own. Not capped here: the caller compares with [`MAX_RETRY_AFTER`].
///
/// `now` should be the response's own `Date` when it has one: the HTTP-date is on the
/// server's clock, and this machine's clock may be off (the skew behind AADSTS700024).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = v.parse().ok()?;
        if !secs.is_finite() {
            return None;
        }
        return Some(Duration::from_secs_f64(secs.clamp(0.0, WAIT_CEILING_SECS)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or_default())
}

/// The clock a response's `Retry-After` date is measured against: its `Date`, else ours.
pub fn server_now(date_header: Option<&str>) -> SystemTime {
    date_header
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .unwrap_or_else(SystemTime::now)
}

/// Exponential backoff with jitter: half the step fixed, half random.
pub fn backoff(attempt: u32) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_MAX);
    let half = step / 2;
    let jitter = half.mul_f64(f64::from(uuid::Uuid::new_v4().as_bytes()[0]) / 255.0);
    half + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 2.128 ", now),
            Some(Duration::from_secs_f64(2.128))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("3600", now),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs_f64(WAIT_CEILING_SECS))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(5)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        for bad in ["", "-1", "soon", "1e3", "1.2.3", "NaN"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn dates_are_read_on_the_servers_clock() {
        // The server runs an hour ahead of us: its date 5 s ahead of its own clock is a
        // 5 s wait, not an hour and 5 s.
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_003_600);
        let date_header = httpdate::fmt_http_date(server);
        let retry = httpdate::fmt_http_date(server + Duration::from_secs(5));
        assert_eq!(
            parse_retry_after(&retry, server_now(Some(&date_header))),
            Some(Duration::from_secs(5))
        );
        assert!(server_now(Some("not a date")) > server);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..40 {
            let d = backoff(attempt);
            let step = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_MAX);
            assert!(d >= step / 2 && d <= step, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn transient_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 302, 400, 401, 403, 404, 501] {
            assert!(!is_transient(StatusCode::from_u16(s).unwrap()));
        }
    }
}
