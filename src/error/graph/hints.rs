//! The wording of the hints for Graph's 400 and 404 answers, each built from the request:
//! the path segment Graph did not know, the query options that were sent, the id that was
//! not found. Everything shown comes from graphd's own request, passed through `printable`;
//! Graph's message only points at which segment of that request it refused.

use super::{ADVANCED_REFERENCE, API_REFERENCE, GraphHintContext, QUERY_REFERENCE, printable};

/// The query options of the request, by name (lowercase, `$` included) and value.
#[derive(Debug, Default)]
pub struct QueryOptions {
    pub names: Vec<String>,
    values: Vec<String>,
}

impl QueryOptions {
    /// The `$`-options of a query string (`%24top` is `$top`); other parameters are Graph's
    /// to ignore.
    pub fn parse(query: Option<&str>) -> Self {
        let mut q = QueryOptions::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let name = k.trim().to_ascii_lowercase();
            if name.starts_with('$') {
                q.names.push(name);
                q.values.push(v.into_owned());
            }
        }
        q
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(&self.values[i])
    }

    /// Whether graphd sent `ConsistencyLevel: eventual` (it does when the URL asks for
    /// `$count` or `$search`, as `list-users --count` does).
    fn advanced(&self) -> bool {
        self.has("$count") || self.has("$search")
    }
}

/// Advanced queries need `ConsistencyLevel: eventual` and `$count=true`.
pub fn advanced_needed() -> String {
    "advanced queries (ne, not, endsWith, $search, $count, $orderby on most properties) need \
     ConsistencyLevel: eventual and $count=true: add --count to list-users, or $count=true to \
     the query of graphd get (graphd then sends the header)"
        .into()
}

/// `Request_UnsupportedQuery`: a query that needs the advanced-query parameters without
/// them, a `$filter` Graph cannot read, or, with the parameters sent, a query beyond what
/// this resource supports.
pub fn unsupported_query_hint(q: &QueryOptions) -> String {
    if !q.advanced() {
        let filter = q.value("$filter").map(str::to_ascii_lowercase);
        let advanced_filter = filter.as_deref().is_some_and(|f| {
            f.contains(" ne ")
                || ["not", "endswith"].iter().any(|op| {
                    f.match_indices(op)
                        .any(|(i, _)| f[i + op.len()..].trim_start().starts_with('('))
                })
        });
        if filter.is_some() && !advanced_filter && !q.has("$orderby") {
            return format!(
                "check the $filter syntax: property eq 'value', startswith(property,'value'), \
                 strings in single quotes; see {QUERY_REFERENCE}"
            );
        }
        return advanced_needed();
    }
    let options: Vec<&str> = ["$filter", "$orderby", "$search"]
        .into_iter()
        .filter(|o| q.has(o))
        .collect();
    let which = if options.is_empty() {
        "the query".to_string()
    } else {
        options.join(" and ")
    };
    format!(
        "ConsistencyLevel: eventual and $count were sent, so {which} asks for something this \
         resource does not support even as an advanced query: see {ADVANCED_REFERENCE} for the \
         operators and properties each resource supports"
    )
}

/// A 400 from the directory about the query options: advice on each option that was sent.
pub fn query_hint(q: &QueryOptions) -> String {
    if q.has("$skip") {
        return "directory resources such as /users do not support $skip: drop it; graphd \
                follows @odata.nextLink for you (graphd get --all, list-users)"
            .into();
    }
    if let Some(top) = q.value("$top")
        && !top
            .trim()
            .parse::<u16>()
            .is_ok_and(|n| (1..=999).contains(&n))
    {
        return "$top takes a number from 1 to 999 (list-users --top)".into();
    }
    let mut advice = Vec::new();
    if q.has("$select") {
        advice.push("$select names properties of the resource, comma-separated (users: id, displayName, mail, ...)");
    }
    if q.has("$filter") {
        advice.push("$filter takes OData syntax: property eq 'value', startswith(property,'value'), strings in single quotes");
    }
    if q.has("$orderby") {
        advice.push("$orderby takes a property, then asc or desc");
    }
    if q.has("$count") {
        advice.push("$count takes true or false");
    }
    if advice.is_empty() {
        advice.push("one of them is not one this resource takes");
    }
    format!(
        "check the query options ({}): {}; see {QUERY_REFERENCE}",
        q.names.join(", "),
        advice.join("; ")
    )
}

/// A 400 `BadRequest`: Graph could not route the URL. Names the segment it did not know
/// (the request's own segment, found through the one Graph's message quotes), or what else
/// about the path is off.
pub fn path_hint(ctx: &GraphHintContext<'_>) -> String {
    let segments: Vec<&str> = ctx.path.trim_start_matches('/').split('/').collect();
    let version = segments.first().copied().unwrap_or("");
    if !version.eq_ignore_ascii_case("v1.0") && !version.eq_ignore_ascii_case("beta") {
        return format!(
            "Graph's API versions are /v1.0 and /beta: e.g. graphd get /v1.0/users; see {API_REFERENCE}"
        );
    }
    if segments
        .get(1)
        .is_some_and(|s| s.eq_ignore_ascii_case("me"))
    {
        return "/me is the signed-in user, and an app's token has none: use \
                /v1.0/users/{id or userPrincipalName}"
            .into();
    }
    let quoted = ctx
        .message
        .and_then(|m| m.split('\'').nth(1))
        .filter(|q| !q.is_empty());
    let unknown = quoted.and_then(|q| {
        (1..segments.len()).find(|i| decode(segments[*i]).eq_ignore_ascii_case(&decode(q)))
    });
    match unknown {
        Some(i) => format!(
            "check the path: `{}` is not a segment Graph knows under /{}; see {API_REFERENCE}",
            printable(&decode(segments[i]), 100),
            printable(&segments[..i].join("/"), 200)
        ),
        None => format!(
            "check the path {} and its query options: Graph could not route it; see {API_REFERENCE}",
            printable(ctx.path, 200)
        ),
    }
}

/// A 404 `Request_ResourceNotFound`: the object the path's last segment names does not exist.
pub fn not_found_hint(path: &str) -> String {
    let (parent, last) = path
        .trim_end_matches('/')
        .rsplit_once('/')
        .unwrap_or(("", path));
    let shown = printable(&decode(last), 200);
    if parent.eq_ignore_ascii_case("/v1.0/users") || parent.eq_ignore_ascii_case("/beta/users") {
        format!(
            "no user `{shown}` in this tenant: check the id (a GUID) or userPrincipalName; \
             graphd list-users --select id,userPrincipalName lists them"
        )
    } else {
        format!(
            "`{shown}` does not exist under {}: check the id in the path, and that the object \
             was not deleted",
            printable(parent, 200)
        )
    }
}

/// A path segment without its percent-encoding (`%40` is `@`), for comparing and showing.
fn decode(segment: &str) -> String {
    let form = format!("k={}", segment.replace('+', "%2B"));
    url::form_urlencoded::parse(form.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::GraphFailure;
    use super::*;

    fn hint(status: u16, code: &str, path: &str, query: Option<&str>, message: &str) -> String {
        let ctx = GraphHintContext {
            path,
            query,
            message: Some(message),
            graph_origin: "https://graph.microsoft.com",
            consent_url: "https://login.microsoftonline.com/t/v2.0/adminconsent?client_id=c",
        };
        GraphFailure::hint_for(status, Some(code), &ctx).unwrap_or_default()
    }

    #[test]
    fn an_unknown_segment_names_it_not_the_query() {
        let h = hint(
            400,
            "BadRequest",
            "/v1.0/groups",
            Some("$top=5"),
            "Resource not found for the segment 'groups'.",
        );
        assert_eq!(
            h,
            "check the path: `groups` is not a segment Graph knows under /v1.0; see https://learn.microsoft.com/graph/api/overview"
        );
        let h = hint(
            400,
            "BadRequest",
            "/v1.0/users/a%40b.com/foo",
            None,
            "Resource not found for the segment 'foo'.",
        );
        assert!(
            h.contains("`foo` is not a segment Graph knows under /v1.0/users/a%40b.com"),
            "{h}"
        );
        // A message naming nothing of the request: no name is taken from it.
        let h = hint(
            400,
            "BadRequest",
            "/v1.0/users",
            None,
            "Resource 'x\u{1b}[2J' oops",
        );
        assert!(
            h.starts_with("check the path /v1.0/users and its query options"),
            "{h}"
        );
        assert!(!h.contains('\u{1b}'));
        let h = hint(400, "BadRequest", "/v1.0/me", None, "");
        assert!(h.contains("/me is the signed-in user"), "{h}");
        let h = hint(
            400,
            "BadRequest",
            "/v2.0/users",
            None,
            "Invalid version: v2.0",
        );
        assert!(h.contains("/v1.0 and /beta"), "{h}");
    }

    #[test]
    fn query_hints_name_the_options_sent() {
        let h = hint(
            400,
            "Request_BadRequest",
            "/v1.0/users",
            Some("%24select=id,nope"),
            "",
        );
        assert!(
            h.starts_with("check the query options ($select): $select names"),
            "{h}"
        );
        assert!(!h.contains("$filter"), "{h}");
        let h = hint(
            400,
            "Request_BadRequest",
            "/v1.0/users",
            Some("$top=1000"),
            "",
        );
        assert_eq!(h, "$top takes a number from 1 to 999 (list-users --top)");
        let h = hint(
            400,
            "Request_BadRequest",
            "/v1.0/users",
            Some("$skip=5&$top=5"),
            "",
        );
        assert!(h.contains("do not support $skip"), "{h}");
        let h = hint(400, "Request_BadRequest", "/v1.0/users/$count", None, "");
        assert!(h.contains("ConsistencyLevel: eventual"), "{h}");
        // Unsupported without the advanced parameters: an advanced operator needs them, any
        // other filter is read wrongly; with them: the reference.
        for filter in [
            "endsWith(mail,'x')",
            "mail ne 'x'",
            "NOT (startswith(mail,'a'))",
        ] {
            let query = format!("$filter={filter}");
            let h = hint(
                400,
                "Request_UnsupportedQuery",
                "/v1.0/users",
                Some(&query),
                "",
            );
            assert!(h.contains("--count"), "{filter}: {h}");
        }
        let h = hint(
            400,
            "Request_UnsupportedQuery",
            "/v1.0/users",
            Some("$filter=displayName eq Adele"),
            "",
        );
        assert!(h.starts_with("check the $filter syntax"), "{h}");
        let h = hint(
            400,
            "Request_UnsupportedQuery",
            "/v1.0/users",
            Some("$orderby=x"),
            "",
        );
        assert!(h.contains("--count"), "{h}");
        let h = hint(
            400,
            "Request_UnsupportedQuery",
            "/v1.0/users",
            Some("$filter=x&$count=true"),
            "",
        );
        assert!(h.contains("so $filter asks for something"), "{h}");
        assert!(h.contains(ADVANCED_REFERENCE), "{h}");
    }

    #[test]
    fn not_found_names_the_id_and_other_statuses_keep_their_hints() {
        let h = hint(
            404,
            "Request_ResourceNotFound",
            "/v1.0/users/nobody%40example.com",
            None,
            "",
        );
        assert!(
            h.starts_with("no user `nobody@example.com` in this tenant"),
            "{h}"
        );
        let h = hint(
            404,
            "Request_ResourceNotFound",
            "/v1.0/groups/g1/members",
            None,
            "",
        );
        assert!(
            h.starts_with("`members` does not exist under /v1.0/groups/g1"),
            "{h}"
        );
        let h = hint(404, "", "/v1.0/users", None, "");
        assert!(h.contains("--graph"), "{h}");
        let h = hint(403, "Authorization_RequestDenied", "/v1.0/users", None, "");
        assert!(
            h.contains("User.Read.All") && h.contains("adminconsent"),
            "{h}"
        );
        assert!(hint(405, "Request_BadRequest", "/v1.0/users", None, "").contains("GET"));
        assert!(hint(501, "NotImplemented", "/v1.0/users", None, "").contains("single user"));
        assert_eq!(hint(200, "", "/v1.0/users", None, ""), "");
    }
}
