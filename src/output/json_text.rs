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
