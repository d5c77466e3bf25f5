//! Microsoft Graph's refusals as graphd shows them, with hints.

use std::fmt;

use super::printable;

/// A Microsoft Graph error (docs/protocol.md#graph-errors), already reduced to what is shown.
#[derive(Debug, Clone)]
pub struct GraphFailure {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub path: String,
    pub hint: Option<String>,
}

/// What a Graph hint may need to know besides the status and `code`.
#[derive(Debug, Clone, Copy)]
pub struct GraphHintContext<'a> {
    /// The request path, e.g. `/v1.0/users`.
    pub path: &'a str,
    /// The configured Graph origin, e.g. `https://graph.microsoft.com`.
    pub graph_origin: &'a str,
    /// The app's admin consent URL (`consent::url`), for a 403.
    pub consent_url: &'a str,
}

impl GraphFailure {
    /// The hint for a Graph error answer (docs/protocol.md#advanced-queries, #graph-errors): branch on the status and `code`,
    /// never on the message, as Graph's error guidance says.
    pub fn hint_for(status: u16, code: Option<&str>, ctx: &GraphHintContext<'_>) -> Option<String> {
        let users = ctx.path.contains("/users");
        let advanced = "advanced queries (ne, not, endsWith, $search, $count) need \
                        ConsistencyLevel: eventual: add --count to list-users, or $count=true to \
                        the query of graphd get (graphd then sends the header)";
        Some(match (status, code) {
            (403, _) => format!(
                "the app needs the Microsoft Graph application permission {} with admin consent \
                 (App registrations > API permissions > Add a permission > Microsoft Graph > \
                 Application permissions); an admin can consent at: {}",
                if users {
                    "User.Read.All"
                } else {
                    "this API requires (for users: User.Read.All)"
                },
                ctx.consent_url
            ),
            (401, _) => format!(
                "Graph did not accept the token: check that --scope is this Graph endpoint's \
                 /.default and that --cloud or --graph matches the token service ({})",
                ctx.graph_origin
            ),
            (400, Some("Request_UnsupportedQuery")) => advanced.into(),
            (400, Some("Request_BadRequest")) if ctx.path.ends_with("/$count") => advanced.into(),
            (400, Some("Directory_ExpiredPageToken")) => {
                "the page token expired; run the command again to start a new listing".into()
            }
            (400, _) => {
                "check the query options: $select names, $filter syntax, $top between 1 and 999"
                    .into()
            }
            (404, _) => "check the path (e.g. /v1.0/users/{id}) and that the object exists".into(),
            (501, _) => "some properties can be selected only when getting a single user \
                         (/v1.0/users/{id}); drop them from --select"
                .into(),
            (s, _) if (300..400).contains(&s) => "request the final URL directly".into(),
            _ => return None,
        })
    }

    /// The hint for a nextLink chain that loops back (a server or proxy bug).
    pub fn looping_next_link_hint() -> String {
        "Graph itself never does this: is a proxy rewriting the paging links? the items \
         printed so far may repeat"
            .into()
    }

    /// The hint for a 2xx answer that is not a page of a collection.
    pub fn not_a_collection_hint() -> String {
        "--all and list-users need a collection (a JSON object with \"value\"); without --all, \
         graphd get prints any answer as it is. Is --graph (GRAPHD_GRAPH_ENDPOINT) the Graph endpoint?"
            .into()
    }
}

impl fmt::Display for GraphFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (200..300).contains(&self.status) {
            write!(
                f,
                "unusable answer from Graph to GET {} (HTTP {}",
                self.path, self.status
            )?;
        } else {
            write!(f, "Graph refused GET {} (HTTP {}", self.path, self.status)?;
        }
        // Graph's text is shown only after `printable`: a broken or hostile server must not
        // break the one-line error or drive the terminal.
        if let Some(code) = &self.code {
            write!(f, ", {}", printable(code, 80))?;
        }
        f.write_str(")")?;
        if let Some(m) = &self.message {
            write!(f, ": {}", printable(m, 600))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {}]", printable(id, 80))?;
        }
        Ok(())
    }
}
