//! `graphd get`: any Graph GET; `--all` follows paging and streams the items.

use std::ops::ControlFlow;

use super::progress::Progress;
use super::session::Session;
use crate::cli::GetArgs;
use crate::error::Result;
use crate::graph::Graph;
use crate::http;
use crate::output::{self, ItemWriter};

pub fn run(args: &GetArgs) -> Result<()> {
    let session = Session::new(&args.credential, &args.app, &args.signing, &args.net)?;
    let tokens = session.tokens()?;
    let mut graph = Graph::new(&session.http, &session.net.graph, &tokens);
    let url = graph.resolve(&args.path_or_url)?;
    // $count and $search are advanced queries: Graph needs ConsistencyLevel: eventual (facts §7.3).
    let eventual = url.as_str().contains("$count")
        || url.as_str().contains("%24count")
        || url.as_str().contains("$search");
    let rt = http::runtime()?;
    if !args.all {
        let body = rt.block_on(graph.get(&url, eventual))?;
        return output::body(&body);
    }
    let mut writer = ItemWriter::new(args.output, Vec::new());
    let mut progress = Progress::new(args.quiet, "items");
    let result = rt.block_on(graph.pages(url, eventual, |page| {
        progress.before_output();
        writer.page(&page.value)?;
        progress.page(page.value.len() as u64);
        Ok(ControlFlow::Continue(()))
    }));
    progress.finish();
    // What was printed stays printed, and the JSON array is closed, even on error; an error
    // before the first page prints nothing, so a failure never reads as an empty listing.
    let finished = if result.is_ok() || progress.pages() > 0 {
        writer.finish()
    } else {
        Ok(())
    };
    result?;
    finished
}
