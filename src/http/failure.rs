//! Transport failures (connect, timeout, TLS, ...) as graphd reports them: a class for the
//! exit code and hint, and a short reason without the URL (it may carry a query).

use std::error::Error as _;
use std::time::Duration;

use crate::error::NetworkKind;

/// A transport error's class and a message without the URL (it may carry a query).
pub fn classify(e: &reqwest::Error, timeout: Option<Duration>) -> (NetworkKind, String) {
    let mut innermost = e.to_string();
    let mut tls = false;
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        let lower = text.to_ascii_lowercase();
        if s.is::<native_tls::Error>()
            || lower.contains("certificate")
            || lower.contains("ssl")
            || lower.contains("tls")
            || lower.contains("handshake")
        {
            tls = true;
        }
        innermost = text;
        source = s.source();
    }
    let kind = if tls {
        NetworkKind::Tls
    } else if e.is_timeout() {
        NetworkKind::Timeout
    } else if e.is_connect() {
        NetworkKind::Connect
    } else {
        NetworkKind::Other
    };
    let detail = match kind {
        NetworkKind::Timeout => match timeout {
            Some(t) => format!("no answer within {} s (--timeout)", t.as_secs()),
            None => "no answer within --timeout".to_string(),
        },
        NetworkKind::Tls => tls_detail(&innermost),
        _ => crate::error::io_reason(&std::io::Error::other(innermost)),
    };
    (kind, detail)
}

/// OpenSSL's `error:0A000086:SSL routines:FUNC:REASON:FILE:LINE:` reduced to its reason.
fn tls_detail(text: &str) -> String {
    let reason = match text.trim().strip_prefix("error:") {
        Some(rest) => rest.split(':').nth(3).unwrap_or(text).trim(),
        None => text.trim(),
    };
    if reason.contains("certificate verify failed") {
        format!("the server's certificate is not trusted ({reason})")
    } else {
        reason.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_errors_are_reduced_to_their_reason() {
        assert_eq!(
            tls_detail(
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:"
            ),
            "the server's certificate is not trusted (certificate verify failed)"
        );
        assert_eq!(tls_detail("handshake failure"), "handshake failure");
    }
}
