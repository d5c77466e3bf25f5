//! Response building blocks shared by both sides, and the per-request context.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use super::Shared;

pub type Body = Full<Bytes>;
pub type Resp = Response<Body>;

pub const JSON: &str = "application/json; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const HTML: &str = "text/html; charset=utf-8";

/// What a handler knows about the request besides the request itself.
pub struct Ctx {
    pub shared: Arc<Shared>,
    /// The emulator's clock (unix seconds), which may be offset from the real one.
    pub now: i64,
    /// This response's request id (Graph `request-id`, Entra `trace_id`).
    pub request_id: String,
    /// The caller's `client-request-id`, when it sent a sane one.
    pub client_request_id: Option<String>,
    /// `scheme://host:port` as the client addressed this side (a loopback name only).
    pub origin: String,
}

impl Ctx {
    /// The id to echo back: the caller's, else this response's own.
    pub fn correlation_id(&self) -> &str {
        self.client_request_id
            .as_deref()
            .unwrap_or(&self.request_id)
    }
}

/// A response with a body and content type.
pub fn with_body(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

pub fn json(status: u16, body: impl Into<Bytes>) -> Resp {
    with_body(status, JSON, body)
}

/// Sets a header from text the emulator produced itself.
pub fn set_header(r: &mut Resp, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// An HTML error page such as a proxy or captive portal returns.
pub fn html_page(status: u16) -> Resp {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>{status} Error</title></head>\n<body><h1>{status}</h1>\
         <p>The proxy server received an invalid response from an upstream server.</p>\
         <hr><address>graphd emulator (injected fault)</address></body></html>\n"
    );
    with_body(status, HTML, page)
}

/// A body that is not JSON at all.
pub fn not_json(status: u16) -> Resp {
    with_body(
        status,
        TEXT,
        "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    )
}

/// A syntactically valid JSON document of `size` bytes: `head`, then filler, then `tail`.
pub fn huge_json(size: usize, head: &str, tail: &str) -> Resp {
    let fill = size.saturating_sub(head.len() + tail.len());
    let mut body = Vec::with_capacity(head.len() + fill + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.resize(head.len() + fill, b'A');
    body.extend_from_slice(tail.as_bytes());
    json(200, body)
}

/// A JSON body cut off in the middle of a string.
pub fn truncated(body: &[u8]) -> Resp {
    let cut = (body.len() / 2).max(1).min(body.len());
    json(200, Bytes::copy_from_slice(&body[..cut]))
}
