//! The output side of a delta round: pages to the item writer with a progress line, and
//! the count of changes and removals for the summary. Table and CSV rows get a `change`
//! column (`created/updated` or `deleted`) through the ordinary column mechanism; JSON and
//! NDJSON pass Graph's `@removed` annotation through untouched.

use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::super::progress::Progress;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::output::ItemWriter;

/// The `change` column of table and CSV output.
pub const CHANGE: &str = "change";
const CHANGED: &str = "created/updated";
const REMOVED: &str = "deleted";

/// One run's output side: the writer, the progress line and the counts.
pub struct Round {
    pub writer: ItemWriter,
    pub progress: Progress,
    pub tabular: bool,
    pub changed: u64,
    pub removed: u64,
}

impl Round {
    /// Follows a round from `url` to its last page, writing every item; the last page's
    /// `@odata.deltaLink`, if it had one.
    pub fn fetch(
        &mut self,
        rt: &tokio::runtime::Runtime,
        graph: &mut Graph<'_>,
        url: Url,
    ) -> Result<Option<String>> {
        let mut delta_link = None;
        rt.block_on(graph.pages(url, false, |page| {
            self.progress.before_output();
            self.write(&page.value)?;
            self.progress.page(page.value.len() as u64);
            if page.next_link.is_none() {
                delta_link = page.delta_link.clone();
            }
            Ok(ControlFlow::Continue(()))
        }))?;
        Ok(delta_link)
    }

    /// Counts a page's changes and removals and writes it; table and CSV rows get a
    /// `change` cell, JSON and NDJSON pass `@removed` through as Graph sent it.
    fn write(&mut self, items: &[&RawValue]) -> Result<()> {
        let mut marked = Vec::with_capacity(if self.tabular { items.len() } else { 0 });
        for item in items {
            let gone = is_removed(item);
            if gone {
                self.removed += 1;
            } else {
                self.changed += 1;
            }
            if self.tabular {
                marked.push(with_change(item, if gone { REMOVED } else { CHANGED })?);
            }
        }
        if self.tabular {
            let refs: Vec<&RawValue> = marked.iter().map(|b| &**b).collect();
            self.writer.page(&refs)
        } else {
            self.writer.page(items)
        }
    }
}

/// Whether an item is a removal: `{"id": ..., "@removed": {"reason": ...}}`.
fn is_removed(item: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Marker<'a> {
        #[serde(rename = "@removed", borrow)]
        removed: Option<&'a RawValue>,
    }
    // The key can only be there if its quoted name is; most items skip the parse.
    item.get().contains("\"@removed\"")
        && serde_json::from_str::<Marker<'_>>(item.get()).is_ok_and(|m| m.removed.is_some())
}

/// The item with `"change": label` first, for the column mechanism of table and CSV.
fn with_change(item: &RawValue, label: &str) -> Result<Box<RawValue>> {
    let text = item.get().trim_start();
    let Some(rest) = text.strip_prefix('{') else {
        return Ok(item.to_owned());
    };
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    RawValue::from_string(format!("{{\"{CHANGE}\":\"{label}\"{sep}{rest}"))
        .map_err(|e| Error::Internal(format!("marking a delta item: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn removals_are_told_from_changes() {
        assert!(is_removed(&raw(
            r#"{"id":"1","@removed":{"reason":"changed"}}"#
        )));
        assert!(!is_removed(&raw(
            r#"{"id":"1","displayName":"\"@removed\""}"#
        )));
        assert!(!is_removed(&raw(r#"{"id":"1","displayName":"@removed"}"#)));
        assert!(!is_removed(&raw(r#"{"id":"1"}"#)));
    }

    #[test]
    fn the_change_column_comes_first() {
        let marked = with_change(&raw(r#"{"id":"1","mail":null}"#), CHANGED).unwrap();
        assert_eq!(
            marked.get(),
            r#"{"change":"created/updated","id":"1","mail":null}"#
        );
        assert_eq!(
            with_change(&raw("{ }"), REMOVED).unwrap().get(),
            r#"{"change":"deleted" }"#
        );
        assert_eq!(with_change(&raw("[1]"), REMOVED).unwrap().get(), "[1]");
    }
}
