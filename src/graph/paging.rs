//! Paging through a Graph collection (docs/protocol.md#paging): each page is parsed into
//! borrowed raw items, so memory stays one page deep however many items there are, and
//! `@odata.nextLink` is followed verbatim once it passes the origin check, until there is none
//! or a chain of links loops.
//!
//! It never sends a request itself (every page goes through [`Graph::get`], with its token
//! and retry policy) and never follows a link to another origin.

use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::Graph;
use crate::error::{GraphFailure, Result};

/// One page of a collection, borrowing from the body.
#[derive(Deserialize)]
pub struct Page<'a> {
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.count")]
    pub count: Option<u64>,
    /// The last page of a delta round: where the next round starts
    /// (<https://learn.microsoft.com/graph/delta-query-overview>).
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
    /// Required: an answer without it is not a collection page (a single object, say), and
    /// must not pass for an empty one.
    #[serde(borrow)]
    pub value: Vec<&'a RawValue>,
}

impl Graph<'_> {
    /// Fetches `first` and every page after it, calling `each` with every page until there is
    /// no `@odata.nextLink` or `each` breaks. Returns the number of pages fetched.
    pub async fn pages(
        &mut self,
        first: Url,
        eventual: bool,
        mut each: impl FnMut(&Page<'_>) -> Result<ControlFlow<()>>,
    ) -> Result<u64> {
        let mut loops = LoopGuard::new(&first);
        let mut url = first;
        let mut pages = 0u64;
        loop {
            let body = self.get(&url, eventual).await?;
            pages += 1;
            let page: Page<'_> = serde_json::from_slice(&body).map_err(|e| {
                self.failure(
                    "GET",
                    200,
                    None,
                    Some(format!("a page that is not a Graph collection ({e})")),
                    None,
                    &url,
                    Some(GraphFailure::not_a_collection_hint()),
                )
            })?;
            if each(&page)?.is_break() {
                return Ok(pages);
            }
            let Some(next) = &page.next_link else {
                return Ok(pages);
            };
            let next = Url::parse(next).map_err(|e| {
                self.failure(
                    "GET",
                    200,
                    None,
                    Some(format!("an @odata.nextLink that is not a URL ({e})")),
                    None,
                    &url,
                    None,
                )
            })?;
            // Checked before any request, so the token never reaches another host.
            self.check_origin(&next)?;
            if next == url || !loops.step(&next) {
                return Err(self.failure(
                    "GET",
                    200,
                    None,
                    Some("an @odata.nextLink leading back to a page already fetched".into()),
                    None,
                    &url,
                    Some(GraphFailure::looping_next_link_hint()),
                ));
            }
            url = next;
        }
    }
}

/// Notices a chain of nextLinks that loops, in constant memory (Brent's cycle detection): a
/// remembered link jumps ahead to the current one at every power of two steps, so a loop of
/// any length is noticed within a few laps, and listing a million pages keeps one URL.
struct LoopGuard {
    mark: Url,
    power: u64,
    steps: u64,
}

impl LoopGuard {
    fn new(first: &Url) -> Self {
        LoopGuard {
            mark: first.clone(),
            power: 1,
            steps: 0,
        }
    }

    /// Takes the next link; `false` when it is the remembered one: the chain loops.
    fn step(&mut self, next: &Url) -> bool {
        if *next == self.mark {
            return false;
        }
        self.steps += 1;
        if self.steps == self.power {
            self.mark = next.clone();
            self.power = self.power.saturating_mul(2);
            self.steps = 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looping_next_links_are_noticed() {
        let url = |i: usize| Url::parse(&format!("https://g/v1.0/users?$skiptoken={i}")).unwrap();
        // A chain of `tail` pages, then a loop of `cycle` pages: stopped in time linear in both.
        for tail in 0..6 {
            for cycle in 1..40 {
                let at = |k: usize| {
                    url(if k < tail {
                        k
                    } else {
                        tail + (k - tail) % cycle
                    })
                };
                let mut guard = LoopGuard::new(&at(0));
                let stopped = (1..10_000).find(|k| !guard.step(&at(*k)));
                let k = stopped.unwrap_or_else(|| panic!("tail {tail}, loop {cycle}"));
                assert!(
                    k <= 2 * (tail + cycle) + cycle,
                    "tail {tail}, loop {cycle}: {k} steps"
                );
            }
        }
        // A chain without a loop is never stopped.
        let mut guard = LoopGuard::new(&url(0));
        assert!((1..100_000).all(|k| guard.step(&url(k))));
    }

    #[test]
    fn pages_borrow_raw_items() {
        let body = br#"{"@odata.context":"x","@odata.count":2,"value":[{"id":"1"},{"id":"2","a":[1,2]}],"@odata.nextLink":"https://g/v1.0/users?$skiptoken=a"}"#;
        let p: Page<'_> = serde_json::from_slice(body).unwrap();
        assert_eq!(p.value.len(), 2);
        assert_eq!(p.value[1].get(), r#"{"id":"2","a":[1,2]}"#);
        assert_eq!(p.count, Some(2));
        assert!(p.next_link.is_some());
        let empty: Page<'_> = serde_json::from_slice(br#"{"value":[]}"#).unwrap();
        assert!(empty.value.is_empty() && empty.next_link.is_none());
        // A single object is not an empty page.
        assert!(serde_json::from_slice::<Page<'_>>(br#"{"id":"1","displayName":"A"}"#).is_err());
        assert!(serde_json::from_slice::<Page<'_>>(br#"{"value":null}"#).is_err());
    }
}
