//! `graphd get`: any Graph GET; `--all` follows paging and streams the items.

use super::listing::Listing;
use crate::cli::GetArgs;
use crate::client::Client;
use crate::error::Result;
use crate::graph::Graph;
use crate::http;
use crate::output;
use crate::settings::Settings;

pub fn run(args: &GetArgs, settings: Settings) -> Result<()> {
    let client = Client::new(settings)?;
    let mut graph = Graph::new(&client);
    let url = graph.resolve(&args.path_or_url)?;
    // $count and $search are advanced queries: Graph needs ConsistencyLevel: eventual (docs/protocol.md#advanced-queries).
    let eventual = url.as_str().contains("$count")
        || url.as_str().contains("%24count")
        || url.as_str().contains("$search");
    let rt = http::runtime()?;
    if !args.all {
        let body = rt.block_on(graph.get(&url, eventual))?;
        return output::body(&body);
    }
    let listing = Listing {
        format: args.output,
        columns: Vec::new(),
        max: None,
        quiet: args.quiet,
        noun: "items",
    };
    listing.run(&rt, &mut graph, url, eventual, |_| {})
}
