//! The `--fault SPEC` mini-syntax (documented on [`FaultRule::parse`]). This module depends
//! on `fault` (the rule types), never the other way round.

use std::time::Duration;

use super::fault::{FaultAction, FaultRule, HUGE_BODY_DEFAULT, RetryAfter, Side};
use super::sts::aadsts;

impl FaultRule {
    /// Parses the `--fault` mini-syntax:
    ///
    /// ```text
    /// SIDE:ACTION[,KEY=VALUE]...
    ///   SIDE      token | graph
    ///   ACTION    429 | 500 | 502 | 503 | 504   that status, with the side's error body
    ///             slow=MS                       answer normally after MS milliseconds
    ///             hang                          never answer
    ///             drop                          close the connection without answering
    ///             truncated                     200, JSON cut off in the middle
    ///             not-json[=STATUS]             a plain-text body (status 200 by default)
    ///             html[=STATUS]                 an HTML error page (status 200 by default)
    ///             huge[=BYTES]                  a valid JSON body of BYTES (default 10 MB)
    ///             aadsts=CODE                   token side: Entra's error for that code
    ///             next-link=URL                 graph side: a users page whose nextLink is URL
    ///             redirect=URL                  302 Found with Location: URL
    ///   KEYS      retry-after=N | N.N | date:N  (statuses) Retry-After as integer seconds,
    ///                                           fractional seconds, or an HTTP-date N s ahead
    ///             count=N | all                 how many requests (default 1)
    ///             skip=M                        let M requests through first (default 0)
    ///             every=K                       every K-th request (default 1)
    /// ```
    ///
    /// For example `graph:429,retry-after=2,count=3` or `token:aadsts=7000222`.
    pub fn parse(spec: &str) -> Result<FaultRule, String> {
        parse(spec)
    }
}

impl std::str::FromStr for FaultRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultRule::parse(s)
    }
}

/// Largest `huge=BYTES` accepted: the body is built in memory.
const HUGE_BODY_MAX: usize = 256 * 1024 * 1024;
/// Longest `slow=MS`: an hour (`hang` is for never).
const SLOW_MAX_MS: u64 = 3_600_000;
/// Longest `retry-after` in any form: a day, as graphd's own cap on waits is far below it.
const RETRY_AFTER_MAX_SECS: u64 = 86_400;

pub fn parse(spec: &str) -> Result<FaultRule, String> {
    let spec = spec.trim();
    let (side, rest) = spec
        .split_once(':')
        .ok_or_else(|| format!("fault {spec:?} has no side: write token:ACTION or graph:ACTION"))?;
    let side = match side.trim().to_ascii_lowercase().as_str() {
        "token" => Side::Token,
        "graph" => Side::Graph,
        other => return Err(format!("fault side {other:?} is neither token nor graph")),
    };
    let mut parts = rest.split(',').map(str::trim);
    let action_text = parts.next().unwrap_or("");
    let (name, arg) = match action_text.split_once('=') {
        Some((n, a)) => (n.trim().to_ascii_lowercase(), Some(a.trim())),
        None => (action_text.to_ascii_lowercase(), None),
    };
    let mut rule = FaultRule {
        side,
        schedule: Default::default(),
        action: action(side, &name, arg)?,
    };
    for part in parts.filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("fault option {part:?} is not KEY=VALUE"))?;
        apply_option(&mut rule, &key.trim().to_ascii_lowercase(), value.trim())?;
    }
    Ok(rule)
}

fn action(side: Side, name: &str, arg: Option<&str>) -> Result<FaultAction, String> {
    let no_arg = |a: FaultAction| match arg {
        None => Ok(a),
        Some(_) => Err(format!("fault action {name:?} takes no value")),
    };
    match name {
        "429" | "500" | "502" | "503" | "504" => {
            let status = name.parse().map_err(|_| format!("bad status {name:?}"))?;
            no_arg(FaultAction::Status {
                status,
                retry_after: None,
            })
        }
        "slow" => {
            let ms = number(arg.ok_or("slow needs milliseconds: slow=1500")?, "slow")?;
            if ms > SLOW_MAX_MS {
                return Err(format!(
                    "slow={ms}: at most {SLOW_MAX_MS} (an hour); use hang to never answer"
                ));
            }
            Ok(FaultAction::Delay(Duration::from_millis(ms)))
        }
        "hang" => no_arg(FaultAction::Hang),
        "drop" => no_arg(FaultAction::Drop),
        "truncated" => no_arg(FaultAction::TruncatedJson),
        "not-json" => Ok(FaultAction::NotJson(status_arg(arg)?)),
        "html" => Ok(FaultAction::Html(status_arg(arg)?)),
        "huge" => {
            let bytes = match arg {
                Some(a) => usize::try_from(number(a, "huge")?)
                    .map_err(|_| "huge: too large".to_string())?,
                None => HUGE_BODY_DEFAULT,
            };
            if !(64..=HUGE_BODY_MAX).contains(&bytes) {
                return Err(format!(
                    "huge={bytes}: choose between 64 bytes and {HUGE_BODY_MAX}"
                ));
            }
            Ok(FaultAction::HugeBody(bytes))
        }
        "aadsts" => {
            if side != Side::Token {
                return Err("aadsts=CODE is a token-side fault: write token:aadsts=CODE".into());
            }
            let code = arg.ok_or("aadsts needs a code: aadsts=7000222")?;
            let code = code
                .trim_start_matches("AADSTS")
                .trim_start_matches("aadsts");
            let code = u32::try_from(number(code, "aadsts")?)
                .map_err(|_| "aadsts: no such code".to_string())?;
            if aadsts::lookup(code).is_none() {
                return Err(format!(
                    "the emulator does not know AADSTS{code}; known: {}",
                    aadsts::known_codes()
                ));
            }
            Ok(FaultAction::Entra(code))
        }
        "next-link" => {
            if side != Side::Graph {
                return Err(
                    "next-link=URL is a graph-side fault: write graph:next-link=URL".into(),
                );
            }
            let url =
                arg.ok_or("next-link needs a URL: next-link=https://elsewhere.example/v1.0/users")?;
            url::Url::parse(url).map_err(|e| format!("next-link {url:?} is not a URL ({e})"))?;
            Ok(FaultAction::NextLink(url.to_string()))
        }
        "redirect" => {
            let url = arg.ok_or("redirect needs a URL: redirect=https://elsewhere.example/")?;
            url::Url::parse(url).map_err(|e| format!("redirect {url:?} is not a URL ({e})"))?;
            Ok(FaultAction::Redirect(url.to_string()))
        }
        "expired-token" => no_arg(FaultAction::ExpireTokens),
        "" => Err("fault has no action after the side".into()),
        other => Err(format!(
            "unknown fault action {other:?}; use 429, 500, 502, 503, 504, slow=MS, hang, drop, truncated, \
             not-json, html, huge, aadsts=CODE, next-link=URL, redirect=URL or expired-token"
        )),
    }
}

fn apply_option(rule: &mut FaultRule, key: &str, value: &str) -> Result<(), String> {
    match key {
        "retry-after" => {
            let FaultAction::Status { retry_after, .. } = &mut rule.action else {
                return Err(
                    "retry-after goes with a status fault (429, 500, 502, 503, 504)".into(),
                );
            };
            *retry_after = Some(parse_retry_after(value)?);
        }
        "count" if value.eq_ignore_ascii_case("all") => rule.schedule.count = None,
        "count" => rule.schedule.count = Some(number(value, "count")?),
        "skip" => rule.schedule.skip = number(value, "skip")?,
        "every" => {
            let k = number(value, "every")?;
            if k == 0 {
                return Err("every=0: use 1 or more".into());
            }
            rule.schedule.every = k;
        }
        other => {
            return Err(format!(
                "unknown fault option {other:?}; use retry-after, count, skip or every"
            ));
        }
    }
    Ok(())
}

fn parse_retry_after(value: &str) -> Result<RetryAfter, String> {
    let within = |secs: u64| {
        if secs <= RETRY_AFTER_MAX_SECS {
            Ok(secs)
        } else {
            Err(format!(
                "retry-after {value:?} is out of range (at most {RETRY_AFTER_MAX_SECS} seconds)"
            ))
        }
    };
    if let Some(secs) = value.strip_prefix("date:") {
        return Ok(RetryAfter::HttpDate(within(number(
            secs,
            "retry-after=date:",
        )?)?));
    }
    if value.contains('.') {
        let secs: f64 = value
            .parse()
            .map_err(|_| format!("retry-after {value:?} is not a number of seconds"))?;
        if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
            return Err(format!("retry-after {value:?} is out of range"));
        }
        return Ok(RetryAfter::Fractional(secs));
    }
    Ok(RetryAfter::Seconds(within(number(value, "retry-after")?)?))
}

fn status_arg(arg: Option<&str>) -> Result<u16, String> {
    match arg {
        None => Ok(200),
        Some(a) => match a.parse::<u16>() {
            Ok(s) if (200..600).contains(&s) => Ok(s),
            _ => Err(format!("{a:?} is not an HTTP status between 200 and 599")),
        },
    }
}

fn number(text: &str, what: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what}: {text:?} is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::fault::Schedule;

    #[test]
    fn parses_every_action() {
        let r = parse("graph:429,retry-after=2,count=3").unwrap();
        assert_eq!(r.side, Side::Graph);
        assert_eq!(
            r.action,
            FaultAction::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(2))
            }
        );
        assert_eq!(
            r.schedule,
            Schedule {
                skip: 0,
                every: 1,
                count: Some(3)
            }
        );
        assert_eq!(
            parse("token:503,retry-after=0.25").unwrap().action,
            FaultAction::Status {
                status: 503,
                retry_after: Some(RetryAfter::Fractional(0.25))
            }
        );
        assert_eq!(
            parse("graph:429,retry-after=date:3").unwrap().action,
            FaultAction::Status {
                status: 429,
                retry_after: Some(RetryAfter::HttpDate(3))
            }
        );
        assert_eq!(
            parse("graph:slow=150").unwrap().action,
            FaultAction::Delay(Duration::from_millis(150))
        );
        assert_eq!(parse("token:hang").unwrap().action, FaultAction::Hang);
        assert_eq!(parse("token:drop").unwrap().action, FaultAction::Drop);
        assert_eq!(
            parse("token:truncated").unwrap().action,
            FaultAction::TruncatedJson
        );
        assert_eq!(
            parse("token:not-json").unwrap().action,
            FaultAction::NotJson(200)
        );
        assert_eq!(
            parse("graph:html=502").unwrap().action,
            FaultAction::Html(502)
        );
        assert_eq!(
            parse("token:huge").unwrap().action,
            FaultAction::HugeBody(HUGE_BODY_DEFAULT)
        );
        assert_eq!(
            parse("token:aadsts=AADSTS7000222").unwrap().action,
            FaultAction::Entra(7_000_222)
        );
        assert_eq!(
            parse("token:redirect=http://127.0.0.1:9/t/oauth2/v2.0/token")
                .unwrap()
                .action,
            FaultAction::Redirect("http://127.0.0.1:9/t/oauth2/v2.0/token".into())
        );
        let r = parse(
            "graph:next-link=https://evil.example/v1.0/users?$skiptoken=x,skip=1,every=2,count=all",
        )
        .unwrap();
        assert_eq!(
            r.action,
            FaultAction::NextLink("https://evil.example/v1.0/users?$skiptoken=x".into())
        );
        assert_eq!(
            r.schedule,
            Schedule {
                skip: 1,
                every: 2,
                count: None
            }
        );
    }

    #[test]
    fn refuses_mistakes_with_a_reason() {
        for bad in [
            "429",
            "web:429",
            "graph:418",
            "graph:slow",
            "graph:hang=3",
            "graph:aadsts=700027",
            "token:next-link=https://x",
            "token:aadsts=1",
            "graph:next-link=not a url",
            "token:redirect",
            "token:redirect=not a url",
            "graph:429,retry-after=soon",
            "graph:hang,retry-after=1",
            "graph:429,count=-1",
            "graph:429,every=0",
            "graph:429,colour=red",
            "graph:html=99",
            "token:huge=1",
            "token:",
            // Issue 16, finding 11: numbers that would overflow a clock.
            "graph:slow=18446744073709551615",
            "graph:429,retry-after=18446744073709551615",
            "graph:429,retry-after=date:18446744073709551615",
            "graph:429,retry-after=86401",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
    }
}
