//! What a token endpoint's answer means (docs/protocol.md#token-response,
//! docs/protocol.md#token-errors): a usable bearer token, an Entra refusal, or something
//! malformed, and why.
//!
//! Pure (no I/O, no clock), so it can be fuzzed and tested without a server. It never puts
//! any part of a body into a message (a success body holds the token), and never accepts a
//! token that could not travel as a bearer header or that claims to live absurdly long.

use serde::Deserialize;

use super::{ABSURD_EXPIRES_IN_SECS, MAX_TOKEN_LIFETIME_SECS, Token};
use crate::error::EntraError;
use crate::secret::AccessToken;

#[derive(Deserialize)]
struct Success {
    access_token: Option<AccessToken>,
    token_type: Option<String>,
    expires_in: Option<Seconds>,
    ext_expires_in: Option<Seconds>,
}

/// `expires_in` as a number or a numeric string (MSAL-GO tolerates both, docs/protocol.md#token-response).
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(i64),
    Text(String),
}

impl Seconds {
    fn get(&self) -> Option<i64> {
        match self {
            Seconds::Number(n) => Some(*n),
            Seconds::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// What a token endpoint's answer means.
#[derive(Debug)]
pub enum Answer {
    Token(Token),
    /// An Entra error response (docs/protocol.md#token-errors).
    Refused(EntraError),
    /// Anything else: what was wrong with it, for the error message (never the body).
    Malformed(String),
}

/// Interprets a token endpoint answer (status, whether it claimed to be HTML, body) received
/// at `now`. Pure, so it can be fuzzed and tested without a server.
pub fn interpret(status: u16, html: bool, body: &[u8], now: i64) -> Answer {
    let malformed = |problem: &str| Answer::Malformed(problem.to_string());
    if !(200..300).contains(&status) {
        return match serde_json::from_slice::<EntraError>(body) {
            Ok(e) if !e.error.is_empty() || e.code().is_some() => Answer::Refused(e),
            _ if html => malformed("an HTML page, not an Entra error"),
            _ => malformed("a body that is not an Entra error"),
        };
    }
    let parsed: Success = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(_) if html => return malformed("an HTML page instead of a token response"),
        Err(_) => return malformed("a body that is not a JSON token response"),
    };
    let Some(access_token) = parsed.access_token else {
        return malformed("a JSON body without access_token");
    };
    if access_token.expose_secret().trim().is_empty() {
        return malformed("an empty access_token");
    }
    if !is_bearer_token(access_token.expose_secret()) {
        // Said without the token: its characters are the problem, not its value.
        return malformed(
            "an unusable token: the access_token holds characters a bearer token cannot (RFC 6750 §2.1)",
        );
    }
    let token_type = parsed.token_type.unwrap_or_default();
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Answer::Malformed(format!("token_type {token_type:?}, not Bearer"));
    }
    let Some(expires_in) = parsed
        .expires_in
        .as_ref()
        .and_then(Seconds::get)
        .filter(|s| *s > 0)
    else {
        return malformed("no usable expires_in");
    };
    if expires_in > ABSURD_EXPIRES_IN_SECS {
        return Answer::Malformed(format!(
            "an unusable token: expires_in {expires_in} s is more than 7 days (Entra's tokens live at most 28 hours)"
        ));
    }
    let expires_in = expires_in.min(MAX_TOKEN_LIFETIME_SECS);
    Answer::Token(Token {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        expires_on: now.saturating_add(expires_in),
        // Informational only (`--json`); an implausible value is left out, not trusted.
        ext_expires_in: parsed
            .ext_expires_in
            .as_ref()
            .and_then(Seconds::get)
            .filter(|s| (1..=ABSURD_EXPIRES_IN_SECS).contains(s)),
    })
}

/// Whether `token` is a bearer token as RFC 6750 §2.1 writes it (`b64token`: letters, digits,
/// `-._~+/`, then any `=` padding), which covers JWTs (RFC 7519: base64url parts joined by
/// `.`). Anything else (CR, LF, NUL, ESC, spaces, other non-ASCII) would be printed to a
/// terminal, stored in the cache, and refused by the HTTP stack as a header value.
pub fn is_bearer_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(a: Answer) -> Token {
        match a {
            Answer::Token(t) => t,
            other => panic!("expected a token, got {other:?}"),
        }
    }

    fn malformed(a: Answer) -> String {
        match a {
            Answer::Malformed(m) => m,
            other => panic!("expected malformed, got {other:?}"),
        }
    }

    #[test]
    fn success_shapes() {
        let t = token(interpret(200, false, br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"a.b.c"}"#, 100));
        assert_eq!(
            (t.expires_in, t.expires_on, t.ext_expires_in),
            (3599, 3699, Some(3599))
        );
        let t = token(interpret(
            200,
            false,
            br#"{"token_type":"bearer","expires_in":"3599","access_token":"a.b.c"}"#,
            0,
        ));
        assert_eq!(t.expires_in, 3599);
    }

    #[test]
    fn malformed_answers_never_echo_the_body() {
        assert!(malformed(interpret(200, true, b"<html>secret</html>", 0)).contains("HTML"));
        assert!(
            malformed(interpret(
                200,
                false,
                br#"{"token_type":"Bearer","expires_in":1}"#,
                0
            ))
            .contains("without access_token")
        );
        assert!(
            malformed(interpret(
                200,
                false,
                br#"{"token_type":"pop","expires_in":1,"access_token":"x"}"#,
                0
            ))
            .contains("not Bearer")
        );
        assert!(
            malformed(interpret(
                200,
                false,
                br#"{"token_type":"Bearer","expires_in":0,"access_token":"x"}"#,
                0
            ))
            .contains("expires_in")
        );
        let m = malformed(interpret(
            200,
            false,
            br#"{"token_type":"Bearer","access_token":"secret-token"#,
            0,
        ));
        assert!(!m.contains("secret-token"));
        assert!(malformed(interpret(502, true, b"<html>bad gateway</html>", 0)).contains("HTML"));
    }

    fn answer(access_token: &str, expires_in: &str) -> Answer {
        let body = format!(
            r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{access_token}"}}"#
        );
        interpret(200, false, body.as_bytes(), 1_000)
    }

    /// Issue 16, finding 4: `expires_in` is bounded.
    #[test]
    fn absurd_lifetimes_are_refused_and_long_ones_cut() {
        for absurd in ["9223372036854775807", "\"9223372036854775807\"", "604801"] {
            let m = malformed(answer("a.b.c", absurd));
            assert!(m.contains("unusable token") && m.contains("7 days"), "{m}");
        }
        let t = token(answer("a.b.c", "100800"));
        assert_eq!((t.expires_in, t.expires_on), (86_400, 87_400));
        let t = token(answer("a.b.c", "604800"));
        assert_eq!(t.expires_in, MAX_TOKEN_LIFETIME_SECS);
        let t = token(interpret(
            200,
            false,
            br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":99999999999,"access_token":"x"}"#,
            0,
        ));
        assert_eq!(t.ext_expires_in, None);
    }

    /// Issue 16, finding 5: only the bearer-token alphabet is accepted.
    #[test]
    fn tokens_with_other_characters_are_refused() {
        for bad in [
            "a.b\\r\\nSet-Cookie: x",
            "a.b\\u0000c",
            "\\u001b]0;owned\\u0007",
            "a b",
            "t\\u00e9st",
            "a.b\\tc",
            "===",
        ] {
            let m = malformed(answer(bad, "3599"));
            assert!(m.contains("unusable token"), "{bad}: {m}");
            assert!(!m.contains("owned") && !m.contains("Set-Cookie"), "{m}");
        }
        for good in [
            "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln-_",
            "mF_9.B5f-4.1JqM",
            "abc+/def==",
            "a~b",
        ] {
            assert_eq!(
                token(answer(good, "3599")).access_token.expose_secret(),
                good
            );
        }
    }

    #[test]
    fn entra_errors_are_refusals() {
        match interpret(401, false, br#"{"error":"invalid_client","error_description":"AADSTS700027: x","error_codes":[700027]}"#, 0) {
            Answer::Refused(e) => assert_eq!(e.code(), Some(700027)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            interpret(400, false, b"{}", 0),
            Answer::Malformed(_)
        ));
    }
}
