//! The query of a `/users/delta` request: its options (`$select`, `$filter` by id,
//! `$skiptoken`, `$deltatoken`; `$top` ignored as Graph ignores it; the rest refused) and its
//! `Prefer` preferences (`odata.maxpagesize`, `return=minimal`). Parsing only: `delta.rs`
//! answers.

use hyper::HeaderMap;

use super::delta_token::{MAX_IDS, MAX_SELECT};
use super::query::{self, Fail, Query, fail};
use super::users::{self, Prop};

/// The most users on one delta page, and the page size when the client states none.
pub const MAX_PAGE: u64 = 200;

/// The query options of a delta request.
#[derive(Debug, Default)]
pub struct Options {
    pub select: Option<String>,
    pub filter: Option<String>,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
}

pub use super::query::{bad, unsupported};

pub fn options(raw: &str) -> Result<Options, Fail> {
    let mut o = Options::default();
    for query::QueryOption {
        key,
        sent: k,
        value: v,
        ..
    } in query::options(raw)?
    {
        match key.as_str() {
            "$select" => o.select = Some(v),
            "$filter" => o.filter = Some(v),
            "$skiptoken" => o.skiptoken = Some(v),
            "$deltatoken" => o.deltatoken = Some(v),
            // Graph ignores $top on users/delta; the page size is a Prefer preference.
            "$top" => {}
            "$count" | "$orderby" | "$expand" | "$search" | "$skip" | "$format" | "$apply" => {
                return Err(unsupported(format!(
                    "'{k}' is not supported on the delta function of users."
                )));
            }
            other if other.starts_with('$') => {
                return Err(bad(format!("The query parameter '{k}' is not supported.")));
            }
            _ => {}
        }
    }
    let continues = o.skiptoken.is_some()
        || o.deltatoken
            .as_deref()
            .is_some_and(|t| !t.is_empty() && t != "latest");
    if o.skiptoken.is_some() && o.deltatoken.is_some() {
        return Err(bad(
            "A request takes either $skiptoken or $deltatoken, not both.",
        ));
    }
    if continues && (o.select.is_some() || o.filter.is_some()) {
        return Err(bad(
            "The state token already carries the query options of the initial request; \
             request the nextLink or deltaLink as it was returned.",
        ));
    }
    Ok(o)
}

/// `odata.maxpagesize` and `return=minimal` from the `Prefer` headers (RFC 7240: a
/// preference the server does not understand is ignored).
pub fn preferences(headers: &HeaderMap) -> (u64, bool) {
    let mut page = MAX_PAGE;
    let mut minimal = false;
    for value in headers.get_all("prefer") {
        let Ok(text) = value.to_str() else { continue };
        for pref in text.split(',') {
            let (name, val) = pref.split_once('=').unwrap_or((pref, ""));
            let (name, val) = (name.trim(), val.trim().trim_matches('"'));
            if name.eq_ignore_ascii_case("odata.maxpagesize") {
                if let Ok(n) = val.parse::<u64>() {
                    page = n.clamp(1, MAX_PAGE);
                }
            } else if name.eq_ignore_ascii_case("return") && val.eq_ignore_ascii_case("minimal") {
                minimal = true;
            }
        }
    }
    (page, minimal)
}

/// `$select` as properties (501 for single-user-only ones, as on the collection).
pub fn selected(select: Option<&str>) -> Result<Option<Vec<Prop>>, Fail> {
    let Some(text) = select else { return Ok(None) };
    if text.len() > MAX_SELECT {
        return Err(bad("The $select option is too long."));
    }
    let mut q = Query::default();
    query::select(text, &mut q)?;
    if let Some(p) = q.single_only.first() {
        return Err(fail(
            501,
            "NotImplemented",
            format!("The property '{p}' is not supported by the delta function of users."),
        ));
    }
    Ok(q.select)
}

/// `id eq '...'` clauses joined with `or`: the only `$filter` Graph takes on users/delta.
pub fn filter_ids(text: &str, domain: &str) -> Result<Vec<u64>, Fail> {
    let refuse = || {
        unsupported(format!(
            "Unsupported filter on delta: only id eq '{{id}}' clauses joined with 'or' (at most {MAX_IDS}) are supported."
        ))
    };
    let lower = text.to_ascii_lowercase();
    let mut ids = Vec::new();
    let mut rest = (text, lower.as_str());
    loop {
        let (clause, next) = match rest.1.find(" or ") {
            Some(at) => (&rest.0[..at], Some((&rest.0[at + 4..], &rest.1[at + 4..]))),
            None => (rest.0, None),
        };
        let mut words = clause.trim().splitn(3, ' ');
        let (Some(prop), Some(op), Some(value)) = (words.next(), words.next(), words.next()) else {
            return Err(refuse());
        };
        let literal = value
            .trim()
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .filter(|v| !v.contains('\''));
        let (true, true, Some(id)) = (
            prop.eq_ignore_ascii_case("id"),
            op.eq_ignore_ascii_case("eq"),
            literal,
        ) else {
            return Err(refuse());
        };
        // An id that is not one of this emulator's users matches nothing.
        if let Some(i) = users::index_of_id(id, crate::emulator::MAX_USERS, domain) {
            ids.push(i);
        }
        if ids.len() > MAX_IDS {
            return Err(refuse());
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_graphs_delta_rules() {
        assert!(options("$select=displayName&$top=5&api-version=1").is_ok());
        assert_eq!(
            options("$orderby=x").unwrap_err().code,
            "Request_UnsupportedQuery"
        );
        assert_eq!(options("$count=true").unwrap_err().status, 400);
        assert_eq!(options("$select=a&$select=b").unwrap_err().status, 400);
        assert!(options("$skiptoken=a&$select=id").is_err());
        assert!(options("$deltatoken=a&$filter=x").is_err());
        assert!(options("$skiptoken=a&$deltatoken=b").is_err());
        // An empty $deltatoken is the initial request (the Location of a 410).
        assert!(options("$select=id&$deltatoken=").is_ok());
        assert!(options("$select=id&$deltatoken=latest").is_ok());
    }

    #[test]
    fn prefer_sets_the_page_size_up_to_the_cap() {
        let mut h = HeaderMap::new();
        assert_eq!(preferences(&h), (MAX_PAGE, false));
        h.insert("prefer", "odata.maxpagesize=50".parse().unwrap());
        assert_eq!(preferences(&h), (50, false));
        h.insert(
            "prefer",
            "return=minimal, odata.maxpagesize=999".parse().unwrap(),
        );
        assert_eq!(preferences(&h), (MAX_PAGE, true));
        h.insert("prefer", "odata.maxpagesize=lots".parse().unwrap());
        assert_eq!(preferences(&h), (MAX_PAGE, false));
    }

    #[test]
    fn filters_by_id_only() {
        let d = "contoso.example";
        let a = super::super::tenant::user_id(3, d);
        let b = super::super::tenant::user_id(9, d);
        assert_eq!(
            filter_ids(&format!(" id eq '{b}' or ID eq '{a}' OR id eq '{a}'"), d).unwrap(),
            [3, 9]
        );
        assert_eq!(
            filter_ids("id eq '00000000-0000-4000-8000-000000000000'", d).unwrap(),
            Vec::<u64>::new()
        );
        for bad in [
            "displayName eq 'x'",
            "startswith(id,'a')",
            "id ne 'x'",
            "id eq x",
            "",
        ] {
            assert_eq!(
                filter_ids(bad, d).unwrap_err().code,
                "Request_UnsupportedQuery",
                "{bad}"
            );
        }
        let many: Vec<String> = (0..51)
            .map(|i| format!("id eq '{}'", super::super::tenant::user_id(i, d)))
            .collect();
        assert!(filter_ids(&many.join(" or "), d).is_err());
    }
}
