//! Percent-encoding for URLs (RFC 3986 §2.1), one character set for the whole crate: query
//! values graphd sends, and path segments the emulator reads.
//!
//! It never uses the form encoding (`application/x-www-form-urlencoded`), whose `+` for a space
//! a server reading RFC 3986 takes for a plus sign; form bodies and query strings a server
//! parses as forms are `url::form_urlencoded`'s. It owns no I/O and imports nothing of graphd.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What graphd percent-encodes: every byte but RFC 3986's unreserved characters
/// (`ALPHA / DIGIT / "-" / "." / "_" / "~"`, §2.3), so a value means the same to every
/// parser. Microsoft Graph's query parameter guidance asks for this
/// (<https://learn.microsoft.com/en-us/graph/query-parameters#encoding-query-parameters>).
pub const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `key=value` for a query string, with the value (UTF-8) percent-encoded by [`ENCODED`]: a
/// space is `%20` and a `+` is `%2B`. The key goes as is: graphd's keys are literals such as
/// `$filter`.
pub fn pair(key: &str, value: &str) -> String {
    format!("{key}={}", utf8_percent_encode(value, ENCODED))
}

/// A URL path segment with its percent-escapes decoded (RFC 3986 §2.1); a `+` stays a plus
/// sign, and bytes that are not UTF-8 become U+FFFD.
pub fn decode_segment(segment: &str) -> Cow<'_, str> {
    percent_decode_str(segment).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_rfc_3986_encoded() {
        assert_eq!(
            pair("$filter", "userPrincipalName eq 'a+b@x.com'"),
            "$filter=userPrincipalName%20eq%20%27a%2Bb%40x.com%27"
        );
        assert_eq!(
            pair("$select", "id,displayName"),
            "$select=id%2CdisplayName"
        );
        // Unreserved characters stay; everything else, `*` and UTF-8 included, is encoded.
        assert_eq!(pair("k", "A-z.0_9~"), "k=A-z.0_9~");
        assert_eq!(
            pair("k", "a&b=c#d/e?f*g%h"),
            "k=a%26b%3Dc%23d%2Fe%3Ff%2Ag%25h"
        );
        assert_eq!(pair("k", "Zoë"), "k=Zo%C3%AB");
    }

    #[test]
    fn segments_decode_with_plus_kept() {
        assert_eq!(decode_segment("a%2Bb%40x.com"), "a+b@x.com");
        assert_eq!(decode_segment("a+b@x.com"), "a+b@x.com");
        assert_eq!(decode_segment("Zo%C3%AB%20Q"), "Zoë Q");
        // A malformed escape is kept as text; bytes that are not UTF-8 are replaced.
        assert_eq!(decode_segment("100%"), "100%");
        assert_eq!(decode_segment("%FF"), "\u{fffd}");
        // Every value survives a round trip.
        let value = "userPrincipalName eq 'ä+b@x.com' & 50%";
        let encoded = pair("k", value);
        assert_eq!(decode_segment(&encoded["k=".len()..]), value);
    }
}
