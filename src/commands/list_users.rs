//! `graphd list-users`: every user, streamed page by page to the chosen format.

use super::listing::Listing;
use super::session::Session;
use crate::cli::{ListUsersArgs, OutputFormat};
use crate::error::Result;
use crate::graph::Graph;
use crate::{http, messages};

/// Table and CSV columns when `--select` is not given (issue 5).
pub(super) const DEFAULT_COLUMNS: [&str; 4] = ["id", "displayName", "userPrincipalName", "mail"];

pub fn run(args: &ListUsersArgs) -> Result<()> {
    if let Some(state) = &args.delta {
        return super::delta::run(args, state);
    }
    let session = Session::new(&args.credential, &args.app, &args.signing, &args.net)?;
    let tokens = session.tokens()?;
    let mut graph = Graph::new(&session.http, &session.net.graph, &tokens);
    let tabular = matches!(args.output, OutputFormat::Table | OutputFormat::Csv);
    let select: Vec<String> = if args.select.is_empty() && tabular {
        DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect()
    } else {
        args.select
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut url = graph.resolve("/v1.0/users")?;
    // No bigger pages than --max needs: `--max 5` asks for 5 users, not 999.
    let top = args
        .max
        .map_or(u64::from(args.top), |m| m.clamp(1, u64::from(args.top)));
    let mut query = vec![query_pair("$top", &top.to_string())];
    if !select.is_empty() {
        query.push(query_pair("$select", &select.join(",")));
    }
    if let Some(filter) = &args.filter {
        query.push(query_pair("$filter", filter));
    }
    if args.count {
        query.push(query_pair("$count", "true"));
    }
    url.set_query(Some(&query.join("&")));
    let columns = if tabular { select } else { Vec::new() };
    let count = args.count;
    let listing = Listing {
        format: args.output,
        columns,
        max: args.max,
        quiet: args.quiet,
        noun: "users",
    };
    listing.run(&http::runtime()?, &mut graph, url, count, |page| {
        if count {
            match page.count {
                Some(n) => messages::info(&format!("graphd: {n} users in total (@odata.count)")),
                None => messages::warn("Graph returned no @odata.count"),
            }
        }
    })
}

/// `key=value` with the value percent-encoded as RFC 3986 asks, which Graph's query
/// parameter guidance requires: a space is `%20`, never the form encoding's `+` (which a
/// server reading RFC 3986 takes for a plus sign, as in `userPrincipalName eq 'a+b@x'`).
pub(super) fn query_pair(key: &str, value: &str) -> String {
    let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    // byte_serialize writes a literal '+' as %2B, so every '+' left is a space.
    format!("{key}={}", value.replace('+', "%20"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_rfc_3986_encoded() {
        assert_eq!(
            super::query_pair("$filter", "userPrincipalName eq 'a+b@x.com'"),
            "$filter=userPrincipalName%20eq%20%27a%2Bb%40x.com%27"
        );
        assert_eq!(
            super::query_pair("$select", "id,displayName"),
            "$select=id%2CdisplayName"
        );
    }
}
