//! Items as rows: which fields become columns and how a JSON value becomes a cell (the
//! table's layout is `layout`'s).

use std::borrow::Cow;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::safe_text;

/// The item's own field names in the order received (without `@odata.*` annotations), for
/// `get --all` in table or CSV form when no columns were chosen; a non-object item is one
/// `value` column.
pub fn first_fields(item: &RawValue) -> Vec<String> {
    match serde_json::from_str::<Keys>(item.get()) {
        Ok(Keys(keys)) => keys
            .into_iter()
            .filter(|k| !k.starts_with("@odata"))
            .collect(),
        Err(_) => vec!["value".into()],
    }
}

/// An object's keys in document order (serde_json's `Map` would sort them).
struct Keys(Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, serde::de::IgnoredAny)) = map.next_entry::<String, _>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// The item's values for `columns`: strings as is, arrays of scalars joined with "; ",
/// objects as JSON, missing and null as empty; a non-object item fills a `value` column.
/// For a person (a table, anything on a terminal), control characters and bidi controls are
/// shown as escapes (`safe_text`): a Graph value must not drive the terminal.
pub fn cells(item: &RawValue, columns: &[String], for_terminal: bool) -> Vec<String> {
    let parsed: Value = serde_json::from_str(item.get()).unwrap_or(Value::Null);
    let lone = |c: &String| (c == "value").then_some(&parsed);
    columns
        .iter()
        .map(|c| {
            let value = match &parsed {
                Value::Object(map) => map.get(c),
                _ => lone(c),
            };
            let text = match value {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) if a.iter().all(|v| !v.is_object() && !v.is_array()) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(other) => other.to_string(),
            };
            if for_terminal { shown(text) } else { text }
        })
        .collect()
}

/// `text` as a person may see it (see [`cells`]).
pub fn shown(text: String) -> String {
    match safe_text::escape(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}

/// A CSV cell a spreadsheet would run as a formula, made inert with a leading `'`: cells
/// that start with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP, "CSV Injection",
/// <https://owasp.org/www-community/attacks/CSV_Injection>). Excel, LibreOffice and Google
/// Sheets show the rest of the cell as text. `--csv-raw` turns this off for programs.
pub fn defuse_formula(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cells_flatten_values() {
        let item = raw(
            r#"{"id":"1","displayName":"A\tB\u001b[31m","businessPhones":["1","2"],"mail":null,"n":3,"o":{"x":1}}"#,
        );
        let cols = names(&[
            "id",
            "displayName",
            "businessPhones",
            "mail",
            "n",
            "o",
            "missing",
        ]);
        assert_eq!(
            cells(&item, &cols, true),
            ["1", "A\\tB\\u{1b}[31m", "1; 2", "", "3", r#"{"x":1}"#, ""]
        );
        assert_eq!(cells(&item, &cols, false)[1], "A\tB\u{1b}[31m");
    }

    #[test]
    fn formulas_are_defused() {
        for (cell, out) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            (" =1", " =1"),
            ("", ""),
        ] {
            assert_eq!(defuse_formula(cell.to_string()), out, "{cell:?}");
        }
    }

    #[test]
    fn scalar_items_fill_a_value_column() {
        let item = raw("42");
        assert_eq!(first_fields(&item), ["value"]);
        assert_eq!(cells(&item, &names(&["value"]), false), ["42"]);
        let fields = first_fields(&raw(r##"{"@odata.type":"#x","id":"1","a":2}"##));
        assert_eq!(fields, ["id", "a"]);
    }
}
