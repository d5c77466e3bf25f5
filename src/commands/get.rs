//! `graphd get`: any Graph GET, its JSON indented on a terminal (`--pretty` / `--compact`
//! to choose); `--all` follows paging and streams the items.

use super::listing::Listing;
use crate::cli::GetArgs;
use crate::client::Client;
use crate::error::Result;
use crate::graph::Graph;
use crate::http;
use crate::output::{self, BodyLayout};
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
        let layout = match (args.pretty, args.compact) {
            (true, _) => BodyLayout::Pretty,
            (_, true) => BodyLayout::Compact,
            _ => BodyLayout::Auto,
        };
        return output::graph_body(&body, layout);
    }
    let listing = Listing {
        format: args.output,
        columns: Vec::new(),
        max: None,
        quiet: args.quiet,
        noun: "items",
        csv_raw: args.csv_raw,
    };
    listing.run(&rt, &mut graph, url, eventual, |_| {})
}
