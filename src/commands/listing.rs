//! Streaming a paged Graph collection to stdout, shared by `list-users` and `get --all`:
//! at most `max` items, progress on a terminal, and what was printed stays printed (the JSON
//! array closed) even when a later page fails; an error before the first page prints
//! nothing, so a failure never reads as an empty listing.

use std::ops::ControlFlow;

use url::Url;

use super::progress::Progress;
use crate::error::Result;
use crate::graph::{Graph, Page};
use crate::output::ItemWriter;
use crate::output::OutputFormat;

/// Table and CSV columns for users when `--select` is not given.
pub const USER_COLUMNS: [&str; 4] = ["id", "displayName", "userPrincipalName", "mail"];

pub struct Listing {
    pub format: OutputFormat,
    /// Table and CSV columns; empty means the first item's fields.
    pub columns: Vec<String>,
    pub max: Option<u64>,
    pub quiet: bool,
    /// What the items are, for the progress line ("users").
    pub noun: &'static str,
    /// `--csv-raw`: no `'` before CSV cells a spreadsheet would run as formulas.
    pub csv_raw: bool,
}

impl Listing {
    /// Fetches `url` and its next pages into stdout; `first_page` sees the first page before
    /// its items are written (for `@odata.count`).
    pub fn run(
        self,
        rt: &tokio::runtime::Runtime,
        graph: &mut Graph<'_>,
        url: Url,
        eventual: bool,
        mut first_page: impl FnMut(&Page<'_>),
    ) -> Result<()> {
        let mut writer = ItemWriter::new(self.format, self.columns).csv_raw(self.csv_raw);
        let mut progress = Progress::new(self.quiet, self.noun);
        let max = self.max.unwrap_or(u64::MAX);
        let result = rt.block_on(graph.pages(url, eventual, |page| {
            if progress.pages() == 0 {
                first_page(page);
            }
            let room = usize::try_from(max - writer.written()).unwrap_or(usize::MAX);
            let items = &page.value[..page.value.len().min(room)];
            progress.before_output();
            writer.page(items)?;
            progress.page(items.len() as u64);
            Ok(if writer.written() >= max {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        }));
        progress.finish();
        let finished = if result.is_ok() || progress.pages() > 0 {
            writer.finish()
        } else {
            Ok(())
        };
        result?;
        finished
    }
}
