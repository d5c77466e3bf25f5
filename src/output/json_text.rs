//! JSON text re-laid out without being re-encoded: indented for people (two spaces, as the
//! MSAL quickstart's `json.dumps(result, indent=2)` printed it) or on one line.
//!
//! Only whitespace between tokens changes: member order, strings, escapes and numbers stay
//! byte for byte what Graph sent (a `serde_json::Value` round trip would sort the members and
//! could round large numbers). The input must be valid JSON; [`relayout`] checks.

use serde::de::IgnoredAny;

/// How a JSON body is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One line, no whitespace between tokens.
    Compact,
    /// One token per line, two spaces of indent per level; empty `{}` and `[]` stay as they are.
    Pretty,
}

/// `body` laid out as asked, when it is a JSON object or array; `None` for anything else
/// (text, a number from `/$count`, a photo), which is then written as received.
pub fn relayout(body: &[u8], layout: Layout) -> Option<Vec<u8>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'{' | b'[') || serde_json::from_slice::<IgnoredAny>(body).is_err() {
        return None;
    }
    Some(tokens(body, layout))
}

/// Walks the tokens of valid JSON, copying strings and scalars and placing whitespace.
fn tokens(body: &[u8], layout: Layout) -> Vec<u8> {
    let pretty = layout == Layout::Pretty;
    let mut out = Vec::with_capacity(if pretty { body.len() * 2 } else { body.len() });
    let mut depth = 0usize;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', 2 * depth));
    };
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        match b {
            b'"' => {
                // A string, escapes included, copied as is.
                out.push(b);
                let mut escaped = false;
                while i < body.len() {
                    let c = body[i];
                    i += 1;
                    out.push(c);
                    match c {
                        _ if escaped => escaped = false,
                        b'\\' => escaped = true,
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'{' | b'[' => {
                out.push(b);
                let next = body[i..].iter().position(|c| !c.is_ascii_whitespace());
                match next.map(|n| (n, body[i + n])) {
                    Some((n, b'}' | b']')) => {
                        out.push(body[i + n]);
                        i += n + 1;
                    }
                    _ => {
                        depth += 1;
                        if pretty {
                            newline(&mut out, depth);
                        }
                    }
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if pretty {
                    newline(&mut out, depth);
                }
                out.push(b);
            }
            b',' => {
                out.push(b);
                if pretty {
                    newline(&mut out, depth);
                }
            }
            b':' => {
                out.push(b);
                if pretty {
                    out.push(b' ');
                }
            }
            _ => out.push(b),
        }
    }
    out
}

/// Valid JSON text with the characters that must not reach a terminal as they are (DEL, C1
/// controls, bidi overrides and isolates; see `safe_text`) written as JSON `\uXXXX` escapes:
/// the same JSON value, shown safely. JSON itself already escapes C0 controls in strings, and
/// outside strings valid JSON holds none of these, so a scan of the bytes is exact: each is a
/// whole UTF-8 sequence (`7F`, `C2 80`-`C2 9F`, `E2 80 AA`-`E2 80 AE`, `E2 81 A6`-`E2 81 A9`).
pub fn escape_for_terminal(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let unsafe_at = |i: usize| -> Option<(usize, u32)> {
        match text[i..] {
            [0x7f, ..] => Some((1, 0x7f)),
            [0xc2, b @ 0x80..=0x9f, ..] => Some((2, u32::from(b))),
            [0xe2, 0x80, b @ 0xaa..=0xae, ..] => Some((3, 0x2000 + u32::from(b) - 0x80)),
            [0xe2, 0x81, b @ 0xa6..=0xa9, ..] => Some((3, 0x2040 + u32::from(b) - 0x80)),
            _ => None,
        }
    };
    if !(0..text.len()).any(|i| unsafe_at(i).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 32);
    let mut i = 0;
    while i < text.len() {
        match unsafe_at(i) {
            Some((len, code)) => {
                out.extend_from_slice(format!("\\u{code:04x}").as_bytes());
                i += len;
            }
            None => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(s: &str) -> String {
        String::from_utf8(relayout(s.as_bytes(), Layout::Pretty).unwrap()).unwrap()
    }

    #[test]
    fn pretty_is_pythons_indent_2() {
        // json.dumps(json.loads(s), indent=2, ensure_ascii=False) gives exactly this.
        let s = r#"{"@odata.context":"https://g/v1.0/$metadata#users/$entity","businessPhones":[],"id":"1","n":[1,2.25,{"x":null}],"o":{},"s":"a, b: {c} [d] \"e\" \\ é"}"#;
        let expected = r#"{
  "@odata.context": "https://g/v1.0/$metadata#users/$entity",
  "businessPhones": [],
  "id": "1",
  "n": [
    1,
    2.25,
    {
      "x": null
    }
  ],
  "o": {},
  "s": "a, b: {c} [d] \"e\" \\ é"
}"#;
        assert_eq!(pretty(s), expected);
        assert_eq!(pretty("[]"), "[]");
        assert_eq!(pretty(" [ ] "), "[]");
        assert_eq!(pretty("{ }"), "{}");
    }

    #[test]
    fn compact_removes_only_whitespace_between_tokens() {
        let s = "{\n  \"a\" : [ 1 , \"x y\\n\" ],\r\n\t\"b\": { } }\n";
        let out = relayout(s.as_bytes(), Layout::Compact).unwrap();
        assert_eq!(out, br#"{"a":[1,"x y\n"],"b":{}}"#);
        // Pretty and back is the original compact text, byte for byte.
        let graph = r#"{"value":[{"id":"1","big":123456789012345678901234567890}],"k":"\u00e9"}"#;
        let back = relayout(pretty(graph).as_bytes(), Layout::Compact).unwrap();
        assert_eq!(back, graph.as_bytes());
    }

    #[test]
    fn terminal_escapes_keep_the_json_value() {
        let text = "{\"k\u{202e}\":\"a\u{9b}31m\u{7f}b\u{2066}c\u{2069}\",\"é\":\"日本\u{200f}\"}";
        let out = escape_for_terminal(text.as_bytes());
        let shown = std::str::from_utf8(&out).unwrap();
        let expected =
            "{\"k\\u202e\":\"a\\u009b31m\\u007fb\\u2066c\\u2069\",\"é\":\"日本\u{200f}\"}";
        assert_eq!(shown, expected);
        assert!(!shown.chars().any(crate::safe_text::is_unsafe));
        let a: serde_json::Value = serde_json::from_str(text).unwrap();
        let b: serde_json::Value = serde_json::from_str(shown).unwrap();
        assert_eq!(a, b, "the same JSON value");
        assert!(matches!(
            escape_for_terminal(br#"{"a":"plain"}"#),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn anything_but_a_json_object_or_array_is_left_alone() {
        for body in [
            &b"42"[..],
            b"\"text\"",
            b"not json",
            b"{\"a\":",
            b"",
            b"\xff\xd8\xff",
        ] {
            assert_eq!(relayout(body, Layout::Pretty), None, "{body:?}");
        }
    }
}
