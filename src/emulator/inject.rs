//! What an injected fault answers instead of the normal handler, and the `Retry-After`
//! bookkeeping behind the "early" counters.

use std::time::{Duration, Instant, SystemTime};

use super::fault::{FaultAction, RetryAfter, Side};
use super::respond::{self, Ctx, Resp};
use super::sts::aadsts::Refusal;
use super::{graph, sts};

/// The answer a fault gives instead of the normal one.
pub(super) fn fault_response(action: &FaultAction, side: Side, ctx: &Ctx) -> Resp {
    match action {
        FaultAction::Status {
            status,
            retry_after,
        } => {
            let mut r = match side {
                Side::Token => {
                    let code = if *status == 429 { 90_055 } else { 90_033 };
                    let mut r = sts::refusal_response(&Refusal::generic(code), ctx);
                    *r.status_mut() = hyper::StatusCode::from_u16(*status)
                        .unwrap_or(hyper::StatusCode::SERVICE_UNAVAILABLE);
                    r
                }
                Side::Graph => graph::error(&graph_status_fail(*status), ctx),
            };
            if let Some(ra) = retry_after {
                set_retry_after(&mut r, *ra, side, ctx);
            }
            r
        }
        FaultAction::TruncatedJson => respond::truncated(sample_body(side, ctx).as_bytes()),
        FaultAction::NotJson(status) => respond::not_json(*status),
        FaultAction::Html(status) => respond::html_page(*status),
        FaultAction::HugeBody(size) => match side {
            Side::Token => respond::huge_json(
                *size,
                "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"",
                "\"}",
            ),
            Side::Graph => respond::huge_json(*size, "{\"value\":[{\"id\":\"", "\"}]}"),
        },
        FaultAction::Entra(code) => sts::refusal_response(&Refusal::generic(*code), ctx),
        FaultAction::Redirect(url) => {
            let mut r = respond::with_body(302, respond::TEXT, "");
            respond::set_header(&mut r, "location", url);
            r
        }
        // Handled before the normal handlers run.
        FaultAction::Delay(_)
        | FaultAction::ExpireTokens
        | FaultAction::Hang
        | FaultAction::Drop
        | FaultAction::Panic
        | FaultAction::NextLink(_) => respond::with_body(500, respond::TEXT, ""),
    }
}

/// Graph's body for an injected status (docs/protocol.md#throttling, #graph-errors).
fn graph_status_fail(status: u16) -> graph::query::Fail {
    let (code, message) = match status {
        429 => ("TooManyRequests", "Please retry again later."),
        503 => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. You may repeat the request after a delay, which may be specified in a Retry-After header.",
        ),
        504 => (
            "gatewayTimeout",
            "The server, while acting as a proxy, did not receive a timely response from the upstream server it needed to access in attempting to complete the request.",
        ),
        502 => (
            "badGateway",
            "The server received an invalid response from an upstream server.",
        ),
        _ => ("generalException", "An unspecified error has occurred."),
    };
    graph::query::fail(status, code, message)
}

/// A plausible 200 body of the side, to cut in half.
fn sample_body(side: Side, ctx: &Ctx) -> String {
    match side {
        Side::Token => "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJl\"}".to_string(),
        Side::Graph => format!(
            "{{\"@odata.context\":\"{}/v1.0/$metadata#users\",\"value\":[{{\"displayName\":\"Adele Vance\",\"id\":\"00000000-0000-4000-8000-000000000000\"}},{{\"displayName\":\"Alex Wilber\",\"id\":\"00000000-0000-4000-8000-000000000001\"}}]}}",
            ctx.origin
        ),
    }
}

fn set_retry_after(r: &mut Resp, ra: RetryAfter, side: Side, ctx: &Ctx) {
    let now = Instant::now();
    let (value, wait) = match ra {
        RetryAfter::Seconds(s) => (s.to_string(), Duration::from_secs(s)),
        RetryAfter::Fractional(s) => (format!("{s}"), ra.wait()),
        RetryAfter::HttpDate(s) => {
            // Whole seconds on the emulator's clock, rounded up so the wait is at least `s`.
            let clock = emulator_time(ctx);
            let exact = clock
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            let date_secs = exact
                .as_secs()
                .saturating_add(s)
                .saturating_add(u64::from(exact.subsec_nanos() > 0));
            let date = SystemTime::UNIX_EPOCH + Duration::from_secs(date_secs);
            let wait = Duration::from_secs(date_secs).saturating_sub(exact);
            (httpdate::fmt_http_date(date), wait)
        }
    };
    respond::set_header(r, "retry-after", &value);
    ctx.shared
        .state
        .retry_after_sent(side, now.checked_add(wait).unwrap_or(now));
}

/// The emulator's clock as a `SystemTime` (the real one plus the configured offset).
pub(super) fn emulator_time(ctx: &Ctx) -> SystemTime {
    let offset = ctx.shared.clock_offset;
    let magnitude = Duration::from_secs(offset.unsigned_abs());
    let now = SystemTime::now();
    // The offset is range-checked at start; saturate anyway rather than panic on a clock.
    let shifted = if offset >= 0 {
        now.checked_add(magnitude)
    } else {
        now.checked_sub(magnitude)
    };
    shifted.unwrap_or(now)
}
