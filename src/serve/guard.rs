//! Who may ask `graphd serve` for a token: the checks every request passes before its query
//! is read, and the `IDENTITY_HEADER` value they compare against.
//!
//! The defences of a local token endpoint: only `GET` on the one path; a `Host` that is this
//! loopback address and port (a page on a rebinding DNS name reaches 127.0.0.1 under its own
//! name); nothing a web browser adds to every request (`Origin`, `Sec-Fetch-*`); no body; and
//! the secret header, compared in constant time. This module must never log, format or echo
//! the secret header's value, nor a refused request's own value of it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::header::{CONTENT_LENGTH, HOST, HeaderMap, ORIGIN, TRANSFER_ENCODING};
use hyper::{Method, Uri};
use zeroize::Zeroize;

use super::protocol::Refusal;
use crate::error::{Error, Result};
use crate::secret::IdentityHeader;

/// The token path, as in `IDENTITY_ENDPOINT` (App Service uses a path of its own; clients
/// take the whole URL from the variable). Microsoft's samples append `/?resource=...` to the
/// variable, so the path with a trailing `/` is the same endpoint.
pub const PATH: &str = "/msi/token";

/// The request header that carries `IDENTITY_HEADER` (App Service REST reference).
pub const SECRET_HEADER: &str = "x-identity-header";

/// Bytes of randomness in a new identity header: 256 bits.
const SECRET_BYTES: usize = 32;

/// A fresh `IDENTITY_HEADER` value: 256 bits from OpenSSL's CSPRNG, base64url without
/// padding (43 characters, safe in a header, a URL and a shell word).
pub fn new_identity_header() -> Result<IdentityHeader> {
    let mut bytes = [0u8; SECRET_BYTES];
    openssl::rand::rand_bytes(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for the identity header: {e}")))?;
    let value = URL_SAFE_NO_PAD.encode(bytes);
    bytes.zeroize();
    Ok(IdentityHeader::new(value))
}

/// The checks of one endpoint: its port and its secret header.
pub struct Guard {
    port: u16,
    secret: IdentityHeader,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Guard {
    pub fn new(port: u16, secret: IdentityHeader) -> Self {
        Guard { port, secret }
    }

    /// Checks a request's method, target, headers and body framing; the first refusal wins,
    /// in an order that tells a client without the secret nothing about the resources served.
    pub fn check(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        if method != Method::GET {
            return Err(Refusal::new(
                405,
                "only GET is served (GET IDENTITY_ENDPOINT?resource=...&api-version=2019-08-01)",
            ));
        }
        self.check_host(uri, headers)?;
        if headers.contains_key(ORIGIN)
            || headers
                .keys()
                .any(|name| name.as_str().starts_with("sec-fetch-"))
        {
            return Err(Refusal::new(
                403,
                "requests from a web browser (Origin or Sec-Fetch-* headers) are refused",
            ));
        }
        let path = uri.path();
        if path != PATH && path.strip_suffix('/') != Some(PATH) {
            return Err(Refusal::new(
                404,
                format!("no such endpoint; tokens are served at {PATH}"),
            ));
        }
        let has_body = headers.contains_key(TRANSFER_ENCODING)
            || headers
                .get(CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() != b"0");
        if has_body {
            return Err(Refusal::new(400, "a token request has no body"));
        }
        self.check_secret(headers)
    }

    /// `Host` (and an absolute-form target's authority) must be this endpoint under a
    /// loopback name: DNS rebinding sends the attacker's own name.
    fn check_host(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let refused = || {
            Refusal::new(
                403,
                format!(
                    "the Host header must be 127.0.0.1:{} (requests addressed to another name are refused)",
                    self.port
                ),
            )
        };
        let mut hosts = headers.get_all(HOST).iter();
        let (Some(host), None) = (hosts.next(), hosts.next()) else {
            return Err(refused());
        };
        let ours = |authority: &[u8]| {
            let Some(i) = authority.iter().rposition(|b| *b == b':') else {
                return false;
            };
            let (name, port) = (&authority[..i], &authority[i + 1..]);
            port == self.port.to_string().as_bytes()
                && (name == b"127.0.0.1" || name.eq_ignore_ascii_case(b"localhost"))
        };
        if !ours(host.as_bytes()) {
            return Err(refused());
        }
        if let Some(authority) = uri.authority()
            && !ours(authority.as_str().as_bytes())
        {
            return Err(refused());
        }
        Ok(())
    }

    /// Exactly one `X-IDENTITY-HEADER`, equal to the secret. The lengths are compared first
    /// (the length is public: 43 characters), then the bytes in constant time.
    fn check_secret(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut values = headers.get_all(SECRET_HEADER).iter();
        let (Some(given), None) = (values.next(), values.next()) else {
            return Err(Refusal::new(
                401,
                "send the value of IDENTITY_HEADER in one X-IDENTITY-HEADER header",
            ));
        };
        let expected = self.secret.expose_secret().as_bytes();
        let given = given.as_bytes();
        if given.len() != expected.len() || !openssl::memcmp::eq(given, expected) {
            return Err(Refusal::new(
                401,
                "the X-IDENTITY-HEADER value is not this endpoint's IDENTITY_HEADER",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    const PORT: u16 = 40123;

    fn guard() -> (Guard, String) {
        let secret = new_identity_header().unwrap();
        let value = secret.expose_secret().to_string();
        (Guard::new(PORT, secret), value)
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn status(g: &Guard, method: Method, target: &str, h: &[(&str, &str)]) -> u16 {
        match g.check(&method, &target.parse().unwrap(), &headers(h)) {
            Ok(()) => 200,
            Err(r) => r.status,
        }
    }

    #[test]
    fn the_header_is_256_random_bits_and_shell_safe() {
        let (a, b) = (
            new_identity_header().unwrap(),
            new_identity_header().unwrap(),
        );
        assert_eq!(a.expose_secret().len(), 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(
            a.expose_secret()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert!(!format!("{a:?} {:?}", guard().0).contains(a.expose_secret()));
    }

    #[test]
    fn each_defence_refuses() {
        let (g, secret) = guard();
        let host = format!("127.0.0.1:{PORT}");
        let ok = [("host", host.as_str()), (SECRET_HEADER, secret.as_str())];
        let t = "/msi/token?resource=x&api-version=2019-08-01";
        assert_eq!(status(&g, Method::GET, t, &ok), 200);
        assert_eq!(status(&g, Method::GET, "/msi/token/?a=b", &ok), 200);
        let localhost = format!("LocalHost:{PORT}");
        assert_eq!(
            status(
                &g,
                Method::GET,
                t,
                &[("host", &localhost), (SECRET_HEADER, &secret)]
            ),
            200
        );
        assert_eq!(status(&g, Method::POST, t, &ok), 405);
        assert_eq!(status(&g, Method::HEAD, t, &ok), 405);
        for bad_host in [
            "evil.example:40123".to_string(),
            "127.0.0.1".to_string(),
            "127.0.0.1:40124".to_string(),
            "127.0.0.2:40123".to_string(),
            format!("[::1]:{PORT}"),
        ] {
            assert_eq!(
                status(
                    &g,
                    Method::GET,
                    t,
                    &[("host", &bad_host), (SECRET_HEADER, &secret)]
                ),
                403,
                "{bad_host}"
            );
        }
        assert_eq!(status(&g, Method::GET, t, &[(SECRET_HEADER, &secret)]), 403);
        assert_eq!(
            status(
                &g,
                Method::GET,
                t,
                &[("host", &host), ("host", &host), (SECRET_HEADER, &secret)]
            ),
            403
        );
        let absolute = "http://evil.example:40123/msi/token?resource=x";
        assert_eq!(status(&g, Method::GET, absolute, &ok), 403);
        for browser in [
            ("origin", "http://evil.example"),
            ("sec-fetch-mode", "no-cors"),
        ] {
            let mut h = ok.to_vec();
            h.push(browser);
            assert_eq!(status(&g, Method::GET, t, &h), 403, "{browser:?}");
        }
        assert_eq!(status(&g, Method::GET, "/msi/tokens", &ok), 404);
        assert_eq!(status(&g, Method::GET, "/", &ok), 404);
        let mut with_body = ok.to_vec();
        with_body.push(("content-length", "5"));
        assert_eq!(status(&g, Method::GET, t, &with_body), 400);
        let mut chunked = ok.to_vec();
        chunked.push(("transfer-encoding", "chunked"));
        assert_eq!(status(&g, Method::GET, t, &chunked), 400);
        let mut empty_body = ok.to_vec();
        empty_body.push(("content-length", "0"));
        assert_eq!(status(&g, Method::GET, t, &empty_body), 200);
    }

    #[test]
    fn the_secret_must_match_exactly_once() {
        let (g, secret) = guard();
        let host = format!("127.0.0.1:{PORT}");
        let t = "/msi/token";
        let mut wrong = secret.clone().into_bytes();
        wrong[42] = if wrong[42] == b'A' { b'B' } else { b'A' };
        let wrong = String::from_utf8(wrong).unwrap();
        for h in [
            vec![("host", host.as_str())],
            vec![("host", &host), (SECRET_HEADER, "")],
            vec![("host", &host), (SECRET_HEADER, &wrong)],
            vec![("host", &host), (SECRET_HEADER, &secret[..42])],
            vec![("host", &host), (SECRET_HEADER, &format!("{secret}x"))],
            vec![
                ("host", &host),
                (SECRET_HEADER, &secret),
                (SECRET_HEADER, &secret),
            ],
        ] {
            let r = g
                .check(&Method::GET, &t.parse().unwrap(), &headers(&h))
                .unwrap_err();
            assert_eq!(r.status, 401);
            assert!(!r.message.contains(&secret[..8]), "{}", r.message);
        }
        assert_eq!(
            status(
                &g,
                Method::GET,
                t,
                &[("host", &host), ("X-Identity-Header", &secret)]
            ),
            200
        );
    }
}
