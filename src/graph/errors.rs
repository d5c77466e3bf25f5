//! Graph's refusals, read and reduced (docs/protocol.md#graph-errors): the error body's
//! `code`, `message` and `innerError.request-id`, and the `GraphFailure` built from them with
//! its hint (whose wording lives in `error`).
//!
//! It never keeps a response body, and never passes a server's message on as sent: it is
//! flattened to one line and bounded.

use serde::Deserialize;
use url::Url;

use super::Graph;
use crate::error::{Error, GraphFailure, GraphHintContext};

impl Graph<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn failure(
        &self,
        method: &'static str,
        status: u16,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        url: &Url,
        hint: Option<String>,
    ) -> Error {
        let hint = hint.or_else(|| self.hint_for(status, code.as_deref(), message.as_deref(), url));
        Error::Graph(Box::new(GraphFailure {
            method,
            status,
            code,
            message,
            request_id,
            path: url.path().to_string(),
            hint,
        }))
    }

    fn hint_for(
        &self,
        status: u16,
        code: Option<&str>,
        message: Option<&str>,
        url: &Url,
    ) -> Option<String> {
        let consent_url = crate::consent::url(self.client.identity.app(), false, None);
        GraphFailure::hint_for(
            status,
            code,
            &GraphHintContext {
                path: url.path(),
                query: url.query(),
                message,
                graph_origin: &self.base.origin().ascii_serialization(),
                consent_url: consent_url.as_str(),
            },
        )
    }
}

/// `code`, `message` and `innerError.request-id` of a Graph error body (docs/protocol.md#graph-errors).
pub(super) fn parse_error(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: Option<String>,
        message: Option<String>,
        #[serde(rename = "innerError")]
        inner: Option<InnerError>,
    }
    #[derive(Deserialize)]
    struct InnerError {
        #[serde(rename = "request-id")]
        request_id: Option<String>,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(b) => (
            b.error.code,
            b.error.message.map(|m| one_line(&m)),
            b.error.inner.and_then(|i| i.request_id),
        ),
        Err(_) => (None, None, None),
    }
}

/// A server-supplied message on one line, bounded.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        format!("{}...", flat.chars().take(300).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges\n to complete the operation.","innerError":{"date":"2024-01-01T00:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
        let (code, message, id) = parse_error(body);
        assert_eq!(code.as_deref(), Some("Authorization_RequestDenied"));
        assert_eq!(
            message.as_deref(),
            Some("Insufficient privileges to complete the operation.")
        );
        assert_eq!(id.as_deref(), Some("r-1"));
        assert_eq!(parse_error(b"<html>"), (None, None, None));
    }
}
