//! Text from elsewhere (Graph's JSON keys and values, a certificate's names, a server's error
//! text) made safe to show to a person: it must not drive the terminal or reorder what is
//! shown around it.
//!
//! C0 and C1 control characters and DEL start escape sequences (ECMA-48: a title change, a
//! screen clear, a hyperlink, in some terminals a write-back of the screen), and the Unicode
//! bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder the text
//! after them (the "Trojan Source" attack, CVE-2021-42574). Each such character is shown as a
//! visible escape instead; everything else is left alone. A leaf module: it depends on
//! nothing in graphd.

use std::borrow::Cow;

/// Whether `c` is a bidirectional embedding, override or isolate control (Unicode UAX #9,
/// §2.1-§2.2): U+202A-U+202E and U+2066-U+2069.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` must not reach a terminal as it is: a C0 or C1 control, DEL, or a bidi
/// control.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `text` with every unsafe character written as a visible escape: `\t`, `\n`, `\r`, and
/// `\u{1b}`-style escapes for the rest (`\u{202e}` for a right-to-left override). Borrowed
/// when there is nothing to escape, as is almost always the case.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `word` as one POSIX shell word, for a command printed in a hint or a message so it can be
/// pasted as shown: as it is when it holds only characters no shell treats specially, else
/// single-quoted (a `'` inside becomes `'\''`).
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        use super::shell_word;
        assert_eq!(shell_word("@certs/cert.pem"), "@certs/cert.pem");
        assert_eq!(shell_word("http://127.0.0.1:4000"), "http://127.0.0.1:4000");
        assert_eq!(shell_word("@my certs/cert.pem"), "'@my certs/cert.pem'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }

    use super::*;

    #[test]
    fn controls_and_bidi_become_visible_escapes() {
        assert!(matches!(escape("Adele Vance"), Cow::Borrowed(_)));
        assert_eq!(escape("日本語 Ünïcödé"), "日本語 Ünïcödé");
        assert_eq!(escape("a\tb\nc\rd"), "a\\tb\\nc\\rd");
        assert_eq!(
            escape("x\u{1b}]0;owned\u{7}\u{1b}[2J"),
            "x\\u{1b}]0;owned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(escape("\u{9b}31m\u{7f}\0"), "\\u{9b}31m\\u{7f}\\u{0}");
        assert_eq!(
            escape("user\u{202E}fdp.exe\u{2066}x\u{2069}"),
            "user\\u{202e}fdp.exe\\u{2066}x\\u{2069}"
        );
        // Right-to-left text itself, and the marks that go with it, are not controls.
        assert_eq!(escape("שלום \u{200F}مرحبا"), "שלום \u{200F}مرحبا");
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{2067}', '\u{2068}',
        ] {
            assert!(!escape(&c.to_string()).contains(c));
        }
    }
}
