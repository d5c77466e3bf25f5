//! Transport failures (connect, timeout, TLS, ...) as graphd reports them: a class for the
//! exit code and hint, and a short reason without the URL (it may carry a query).

use std::error::Error as _;
use std::time::Duration;

use crate::error::NetworkKind;

/// A transport error's class and a message without the URL (it may carry a query).
pub fn classify(e: &reqwest::Error, timeout: Option<Duration>) -> (NetworkKind, String) {
    let mut innermost = text_without_url(e);
    let mut tls = false;
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        let lower = text.to_ascii_lowercase();
        if s.is::<rustls::Error>()
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
        NetworkKind::Tls => tls_detail(&innermost, super::ca::roots_override().as_deref()),
        _ => crate::error::io_reason(&std::io::Error::other(innermost)),
    };
    (kind, detail)
}

/// reqwest's own text for `e` with its URL redacted: reqwest puts the whole URL, query and
/// all, in the text of an error that has no cause below it.
pub fn text_without_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(url.as_str(), &crate::messages::redact_url(url)),
        None => text,
    }
}

/// rustls' certificate errors in words; anything else as rustls says it. `roots_override`
/// names the variables that replaced the system's roots, if any (`ca::roots_override`).
fn tls_detail(text: &str, roots_override: Option<&str>) -> String {
    let text = text.trim();
    let Some(reason) = text.strip_prefix("invalid peer certificate: ") else {
        return text.to_string();
    };
    if reason.starts_with("UnknownIssuer") {
        match roots_override {
            // The usual cause when these are set: they replace the system's roots.
            Some(vars) => format!(
                "the server's certificate is not trusted (unknown issuer); trusted roots come \
                 from {vars}, not the system's, and from --ca-file"
            ),
            None => "the server's certificate is not trusted (unknown issuer)".into(),
        }
    } else if reason.starts_with("Expired") {
        "the server's certificate has expired".into()
    } else if reason.starts_with("NotValidForName") {
        "the server's certificate is not valid for this host name".into()
    } else if reason.starts_with("Revoked") {
        "the server's certificate is revoked".into()
    } else {
        format!("the server's certificate was refused ({reason})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_are_put_in_words() {
        assert_eq!(
            tls_detail("invalid peer certificate: UnknownIssuer", None),
            "the server's certificate is not trusted (unknown issuer)"
        );
        assert_eq!(
            tls_detail(
                "invalid peer certificate: UnknownIssuer",
                Some("SSL_CERT_FILE=/x.pem")
            ),
            "the server's certificate is not trusted (unknown issuer); trusted roots come from \
             SSL_CERT_FILE=/x.pem, not the system's, and from --ca-file"
        );
        assert_eq!(
            tls_detail(
                "invalid peer certificate: NotValidForNameContext { expected: .. }",
                None
            ),
            "the server's certificate is not valid for this host name"
        );
        assert_eq!(
            tls_detail("received corrupt message", None),
            "received corrupt message"
        );
    }

    #[test]
    fn an_error_text_never_carries_the_query() {
        // A header value reqwest refuses, with the URL attached as reqwest attaches it to the
        // errors of a request it sent.
        crate::http::install_crypto_provider();
        let url = "https://graph.example/v1.0/users?$skiptoken=SECRETPAGE";
        let e = reqwest::Client::new()
            .get(url)
            .header("x-probe", "a\nb")
            .build()
            .expect_err("a newline in a header value is refused")
            .with_url(url.parse().unwrap());
        assert!(
            e.url().is_some(),
            "the probe must be an error that names its URL: {e}"
        );
        let text = text_without_url(&e);
        assert!(!text.contains("SECRETPAGE"), "{text}");
        assert!(
            text.contains("https://graph.example/v1.0/users?..."),
            "{text}"
        );
    }
}
