//! Tests for incremental sync (issue 15): the emulator's `/v1.0/users/delta` and its changing
//! tenant checked on the wire.
//!
//! Expected users come from the emulator's own plain listing and from the ids its change API
//! returns, never from graphd.

mod wire;

use std::collections::BTreeSet;

use graphd::emulator::Emulator;
use serde_json::Value;

pub use crate::support::emulator::{start, start_with};
pub use crate::users::emulator_listing;

/// The ids of items, as a set.
pub fn id_set(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|u| {
            u["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id: {u}"))
                .to_string()
        })
        .collect()
}

/// Every id the emulator lists right now (its plain `/v1.0/users`).
pub fn listed_ids(emu: &Emulator) -> BTreeSet<String> {
    id_set(&emulator_listing(emu, "/v1.0/users?$top=999&$select=id"))
}

/// Items with an `@removed` annotation, as (id, reason).
pub fn removals(items: &[Value]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .filter(|u| u.get("@removed").is_some())
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["@removed"]["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Items without `@removed`.
pub fn present(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .filter(|u| u.get("@removed").is_none())
        .cloned()
        .collect()
}
