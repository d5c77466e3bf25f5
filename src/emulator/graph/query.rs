//! OData query options for `/users`: `$top`, `$select`, `$filter` (a basic subset),
//! `$count`, `$skiptoken` (docs/protocol.md#listing-users). Anything else Graph refuses is refused too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::users::{Prop, SINGLE_ONLY, User};

/// A Graph error before it is dressed: status, `code`, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub fn fail(status: u16, code: &'static str, message: impl Into<String>) -> Fail {
    Fail {
        status,
        code,
        message: message.into(),
    }
}

pub fn bad(message: impl Into<String>) -> Fail {
    fail(400, "Request_BadRequest", message)
}

pub fn unsupported(message: impl Into<String>) -> Fail {
    fail(400, "Request_UnsupportedQuery", message)
}

/// One option of a query string, as Graph reads it.
pub struct QueryOption<'a> {
    /// The name in lower case (Graph's `$` options are case-insensitive).
    pub key: String,
    /// The name as the client sent it, for messages.
    pub sent: String,
    pub value: String,
    /// The `name=value` part as it came.
    pub raw: &'a str,
}

/// The options of a query string in order; a `$` option given twice is refused, as Graph
/// refuses it.
pub fn options(raw: &str) -> Result<Vec<QueryOption<'_>>, Fail> {
    let mut out: Vec<QueryOption<'_>> = Vec::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = url::form_urlencoded::parse(part.as_bytes())
            .next()
            .unwrap_or_default();
        let key = k.to_ascii_lowercase();
        if key.starts_with('$') && out.iter().any(|o| o.key == key) {
            return Err(bad(format!(
                "Query option '{k}' was specified more than once, but it must be specified at most once."
            )));
        }
        out.push(QueryOption {
            key,
            sent: k.into_owned(),
            value: v.into_owned(),
            raw: part,
        });
    }
    Ok(out)
}

/// Parsed query options of a users request.
#[derive(Debug, Default)]
pub struct Query {
    pub top: Option<u64>,
    pub select: Option<Vec<Prop>>,
    /// Properties named in `$select` that only a single user has (null there, 501 on lists).
    pub single_only: Vec<String>,
    pub filter: Option<Filter>,
    /// The `$filter` text, which a skiptoken is bound to.
    pub filter_text: String,
    pub count: bool,
    pub skiptoken: Option<String>,
    /// The raw `key=value` parts other than `$skiptoken`, as the client encoded them, for the
    /// nextLink (docs/protocol.md#paging: it carries the original query options).
    pub passthrough: Vec<String>,
}

/// A supported `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `prop eq 'text'` (case-insensitive, as Graph compares directory strings).
    Eq(Prop, String),
    /// `accountEnabled eq true|false`.
    Enabled(bool),
    /// `startswith(prop,'text')` (case-insensitive).
    StartsWith(Prop, String),
}

impl Filter {
    pub fn matches(&self, user: &User<'_>, scratch: &mut Vec<u8>) -> bool {
        match self {
            Filter::Enabled(b) => user.enabled() == *b,
            Filter::Eq(p, v) => user
                .text(*p, scratch)
                .is_some_and(|t| t.eq_ignore_ascii_case(v)),
            Filter::StartsWith(p, v) => user.text(*p, scratch).is_some_and(|t| {
                t.len() >= v.len() && t.as_bytes()[..v.len()].eq_ignore_ascii_case(v.as_bytes())
            }),
        }
    }
}

/// Parses the query string; `advanced` is whether `ConsistencyLevel: eventual` was sent.
pub fn parse(raw: &str, advanced: bool) -> Result<Query, Fail> {
    let mut q = Query::default();
    for QueryOption {
        key,
        sent: k,
        value: v,
        raw: part,
    } in options(raw)?
    {
        if key == "$skiptoken" {
            q.skiptoken = Some(v.to_string());
            continue;
        }
        q.passthrough.push(part.to_string());
        match key.as_str() {
            "$top" => q.top = Some(top(&v)?),
            "$select" => select(&v, &mut q)?,
            "$filter" => {
                q.filter = Some(filter(&v, advanced)?);
                q.filter_text = v.to_string();
            }
            "$count" => {
                q.count = match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(bad(format!(
                            "'{v}' is not a valid value for $count; use true or false."
                        )));
                    }
                }
            }
            "$skip" => return Err(bad("'$skip' is not supported by the service.")),
            "$orderby" | "$search" | "$expand" | "$format" | "$apply" => {
                return Err(unsupported(format!("The emulator does not support '{k}'.")));
            }
            other if other.starts_with('$') => {
                return Err(bad(format!("The query parameter '{k}' is not supported.")));
            }
            // Graph ignores parameters without `$` it does not know.
            _ => {}
        }
    }
    Ok(q)
}

fn top(v: &str) -> Result<u64, Fail> {
    match v.trim().parse::<u64>() {
        Ok(n) if (1..=999).contains(&n) => Ok(n),
        Ok(_) => Err(bad(format!(
            "Invalid page size specified: '{v}'. Must be between 1 and 999 inclusive."
        ))),
        Err(_) => Err(bad(format!(
            "Invalid value '{v}' for $top query option found. The $top query option requires a non-negative integer value."
        ))),
    }
}

/// Parses a `$select` list into `q` (shared with the delta function).
pub fn select(v: &str, q: &mut Query) -> Result<(), Fail> {
    let mut props = Vec::new();
    for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if let Some(p) = Prop::from_name(name) {
            if !props.contains(&p) {
                props.push(p);
            }
        } else if let Some(s) = SINGLE_ONLY.iter().find(|s| s.eq_ignore_ascii_case(name)) {
            q.single_only.push((*s).to_string());
        } else {
            return Err(bad(format!(
                "Could not find a property named '{name}' on type 'microsoft.graph.user'."
            )));
        }
    }
    if props.is_empty() && q.single_only.is_empty() {
        return Err(bad("$select must name at least one property."));
    }
    q.select = Some(props);
    Ok(())
}

/// `prop eq 'x'`, `accountEnabled eq true`, `startswith(prop,'x')`. Advanced operators
/// (`ne`, `not`, `endswith`) need `ConsistencyLevel: eventual` and `$count=true` in Graph
/// (docs/protocol.md#advanced-queries); the emulator refuses them either way, with Graph's message when the
/// parameters are missing.
pub fn filter(text: &str, advanced: bool) -> Result<Filter, Fail> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    for op in ["endswith", "ne", "not"] {
        let used = if op == "ne" {
            lower.contains(" ne ")
        } else {
            lower.starts_with(op) && lower[op.len()..].trim_start().starts_with('(')
        };
        if used {
            return Err(if advanced {
                unsupported(format!("The emulator does not support operator '{op}'."))
            } else {
                unsupported(format!(
                    "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count with a value of true and set the ConsistencyLevel header to eventual."
                ))
            });
        }
    }
    if lower.starts_with("startswith") {
        let inner = t["startswith".len()..].trim();
        let inner = inner
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| unsupported("Unsupported or invalid query filter clause specified."))?;
        let (prop, lit) = inner
            .split_once(',')
            .ok_or_else(|| unsupported("startswith takes a property and a string."))?;
        let prop = text_prop(prop.trim())?;
        return Ok(Filter::StartsWith(prop, string_literal(lit.trim())?));
    }
    let mut words = t.splitn(3, ' ');
    let (Some(prop), Some(op), Some(value)) = (words.next(), words.next(), words.next()) else {
        return Err(unsupported(
            "Unsupported or invalid query filter clause specified.",
        ));
    };
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported(format!(
            "Unsupported query: the emulator supports 'eq' and 'startswith', not '{op}'."
        )));
    }
    let value = value.trim();
    if prop.eq_ignore_ascii_case("accountEnabled") {
        return match value.to_ascii_lowercase().as_str() {
            "true" => Ok(Filter::Enabled(true)),
            "false" => Ok(Filter::Enabled(false)),
            _ => Err(bad(
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'.",
            )),
        };
    }
    Ok(Filter::Eq(text_prop(prop)?, string_literal(value)?))
}

fn text_prop(name: &str) -> Result<Prop, Fail> {
    match Prop::from_name(name) {
        Some(p) if p.is_text() => Ok(p),
        Some(p) => Err(unsupported(format!(
            "Unsupported query: '{}' cannot be used with this operator.",
            p.name()
        ))),
        None => Err(bad(format!(
            "Could not find a property named '{name}' on type 'microsoft.graph.user'."
        ))),
    }
}

/// `'text'` with `''` for a quote.
fn string_literal(s: &str) -> Result<String, Fail> {
    let inner = s
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .ok_or_else(|| {
            unsupported(
                "Unsupported or invalid query filter clause specified: expected a quoted string.",
            )
        })?;
    if inner.replace("''", "").contains('\'') {
        return Err(unsupported(
            "Unsupported or invalid query filter clause specified: unbalanced quotes.",
        ));
    }
    Ok(inner.replace("''", "'"))
}

const TOKEN_MAGIC: &[u8; 4] = b"GDpt";

/// An opaque `$skiptoken`: the next index, bound to this emulator and this `$filter`.
pub fn skiptoken(next: u64, salt: u64, filter_text: &str) -> String {
    let mut b = Vec::with_capacity(20);
    b.extend_from_slice(TOKEN_MAGIC);
    b.extend_from_slice(&next.to_be_bytes());
    b.extend_from_slice(&fingerprint(next, salt, filter_text).to_be_bytes());
    URL_SAFE_NO_PAD.encode(b)
}

/// The index a `$skiptoken` continues from, if it is genuine.
pub fn read_skiptoken(token: &str, salt: u64, filter_text: &str) -> Option<u64> {
    let b = URL_SAFE_NO_PAD.decode(token).ok()?;
    if b.len() != 20 || &b[..4] != TOKEN_MAGIC {
        return None;
    }
    let next = u64::from_be_bytes(b[4..12].try_into().ok()?);
    let fp = u64::from_be_bytes(b[12..20].try_into().ok()?);
    (fp == fingerprint(next, salt, filter_text)).then_some(next)
}

fn fingerprint(next: u64, salt: u64, filter_text: &str) -> u64 {
    // FNV-1a: tamper-evidence for an emulator, not security.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in next.to_be_bytes().iter().chain(filter_text.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        let q = parse("$top=5&%24select=displayName,ID&$count=true&api=1", false).unwrap();
        assert_eq!(q.top, Some(5));
        assert_eq!(q.select, Some(vec![Prop::DisplayName, Prop::Id]));
        assert!(q.count);
        assert_eq!(
            q.passthrough,
            ["$top=5", "%24select=displayName,ID", "$count=true", "api=1"]
        );
        assert_eq!(
            parse("$top=1000", false).unwrap_err().message,
            "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
        );
        assert_eq!(parse("$top=0", false).unwrap_err().status, 400);
        assert_eq!(parse("$top=x", false).unwrap_err().status, 400);
        assert_eq!(parse("$top=1&$top=2", false).unwrap_err().status, 400);
        assert_eq!(
            parse("$select=nope", false).unwrap_err().code,
            "Request_BadRequest"
        );
        assert_eq!(parse("$skip=3", false).unwrap_err().status, 400);
        assert_eq!(
            parse("$orderby=displayName", false).unwrap_err().code,
            "Request_UnsupportedQuery"
        );
        assert_eq!(
            parse("$select=aboutMe", false).unwrap().single_only,
            ["aboutMe"]
        );
    }

    #[test]
    fn parses_filters() {
        assert_eq!(
            filter("startswith(displayName,'Ad')", false).unwrap(),
            Filter::StartsWith(Prop::DisplayName, "Ad".into())
        );
        assert_eq!(
            filter("mail eq 'o''neil@x'", false).unwrap(),
            Filter::Eq(Prop::Mail, "o'neil@x".into())
        );
        assert_eq!(
            filter("accountEnabled eq false", false).unwrap(),
            Filter::Enabled(false)
        );
        let e = filter("displayName ne 'x'", false).unwrap_err();
        assert_eq!(e.code, "Request_UnsupportedQuery");
        assert!(e.message.contains("ConsistencyLevel"));
        assert!(
            !filter("endswith(mail,'x')", true)
                .unwrap_err()
                .message
                .contains("ConsistencyLevel")
        );
        for bad in [
            "displayName gt 'a'",
            "startswith(displayName)",
            "displayName eq x",
            "nope eq 'a'",
            "accountEnabled eq 'x'",
            "x",
        ] {
            assert!(filter(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn skiptokens_are_bound_and_tamper_evident() {
        let t = skiptoken(1234, 7, "f");
        assert_eq!(read_skiptoken(&t, 7, "f"), Some(1234));
        assert_eq!(read_skiptoken(&t, 8, "f"), None);
        assert_eq!(read_skiptoken(&t, 7, "g"), None);
        assert_eq!(read_skiptoken("garbage", 7, "f"), None);
        let mut forged = URL_SAFE_NO_PAD.decode(skiptoken(99, 7, "f")).unwrap();
        forged[11] ^= 1;
        assert_eq!(
            read_skiptoken(&URL_SAFE_NO_PAD.encode(&forged), 7, "f"),
            None
        );
    }
}
