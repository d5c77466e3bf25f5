//! Microsoft Graph's refusals as graphd shows them, with hints.

use std::fmt;

use super::printable;

mod hints;

use hints::{
    QueryOptions, advanced_needed, not_found_hint, path_hint, query_hint, unsupported_query_hint,
};

/// A Microsoft Graph error (docs/protocol.md#graph-errors), already reduced to what is shown.
#[derive(Debug, Clone)]
pub struct GraphFailure {
    /// The request's method: `GET`, or `POST` for the actions graphd calls (`addKey`).
    pub method: &'static str,
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
    /// The request's query string, as sent (`$select=id&$top=5`), if any.
    pub query: Option<&'a str>,
    /// Graph's `message`, used only to tell which of the request's own path segments an
    /// unknown-segment error names; never shown from here.
    pub message: Option<&'a str>,
    /// The configured Graph origin, e.g. `https://graph.microsoft.com`.
    pub graph_origin: &'a str,
    /// The app's admin consent URL (`consent::url`), for a 403.
    pub consent_url: &'a str,
}

/// Where to look up Graph's paths.
const API_REFERENCE: &str = "https://learn.microsoft.com/graph/api/overview";
/// Graph's query options, what each needs.
const QUERY_REFERENCE: &str = "https://learn.microsoft.com/graph/query-parameters";
/// Which properties and operators need the advanced-query parameters.
const ADVANCED_REFERENCE: &str = "https://learn.microsoft.com/graph/aad-advanced-queries";

impl GraphFailure {
    /// The hint for a Graph error answer: chosen by the status, Graph's `code` and the
    /// request (its path and query options), never by the message, as Graph's error
    /// guidance says (docs/protocol.md#graph-errors, #advanced-queries;
    /// <https://learn.microsoft.com/graph/errors>): a 400 `BadRequest` comes from the URL
    /// itself (an unknown segment, version or `/me`), `Request_BadRequest` and
    /// `Request_UnsupportedQuery` from the query options, and `Request_ResourceNotFound`
    /// names an object that does not exist.
    pub fn hint_for(status: u16, code: Option<&str>, ctx: &GraphHintContext<'_>) -> Option<String> {
        let query = QueryOptions::parse(ctx.query);
        Some(match (status, code.unwrap_or("")) {
            (403, _) => format!(
                "the app needs the Microsoft Graph application permission {} with admin consent \
                 (App registrations > API permissions > Add a permission > Microsoft Graph > \
                 Application permissions); an admin can consent at: {}",
                if ctx.path.contains("/users") {
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
            (400, "BadRequest") => path_hint(ctx),
            (400, "Request_UnsupportedQuery") => unsupported_query_hint(&query),
            (400, "Request_BadRequest") if ctx.path.ends_with("/$count") => advanced_needed(),
            (400, "Directory_ExpiredPageToken") => {
                "the page token expired; run the command again to start a new listing".into()
            }
            (400, _) if query.names.is_empty() => format!(
                "check the request {}: see {API_REFERENCE}",
                printable(ctx.path, 200)
            ),
            (400, _) => query_hint(&query),
            (404, "Request_ResourceNotFound") => not_found_hint(ctx.path),
            (404, _) => format!(
                "check the path (Graph's start /v1.0/ or /beta/; see {API_REFERENCE}) and that \
                 --graph (GRAPHD_GRAPH_ENDPOINT) is the Graph endpoint: {}",
                ctx.graph_origin
            ),
            (405, _) => format!(
                "{} does not answer GET, the one method graphd sends: check the path ({API_REFERENCE})",
                printable(ctx.path, 200)
            ),
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
                "unusable answer from Graph to {} {} (HTTP {}",
                self.method, self.path, self.status
            )?;
        } else {
            write!(
                f,
                "Graph refused {} {} (HTTP {}",
                self.method, self.path, self.status
            )?;
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
