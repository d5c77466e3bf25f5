//! `graphd list-users`: every user, streamed page by page to the chosen format.

use super::listing::{Listing, USER_COLUMNS};
use crate::cli::ListUsersArgs;
use crate::client::Client;
use crate::error::Result;
use crate::graph::Graph;
use crate::output::OutputFormat;
use crate::settings::Settings;
use crate::{http, messages, query};

pub fn run(args: &ListUsersArgs, settings: Settings) -> Result<()> {
    if let Some(state) = &args.delta {
        return super::delta::run(args, state, settings);
    }
    let client = Client::new(settings)?;
    let mut graph = Graph::new(&client);
    let tabular = matches!(args.output, OutputFormat::Table | OutputFormat::Csv);
    let select: Vec<String> = if args.select.is_empty() && tabular {
        USER_COLUMNS.iter().map(|c| c.to_string()).collect()
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
    let mut params = vec![query::pair("$top", &top.to_string())];
    if !select.is_empty() {
        params.push(query::pair("$select", &select.join(",")));
    }
    if let Some(filter) = &args.filter {
        params.push(query::pair("$filter", filter));
    }
    if args.count {
        params.push(query::pair("$count", "true"));
    }
    url.set_query(Some(&params.join("&")));
    let columns = if tabular { select } else { Vec::new() };
    let count = args.count;
    let listing = Listing {
        format: args.output,
        columns,
        max: args.max,
        quiet: args.quiet,
        noun: "users",
        csv_raw: args.csv_raw,
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
