//! Tests for incremental sync (issue 15): the emulator's `/v1.0/users/delta` and its changing
//! tenant checked on the wire, and `graphd list-users --delta STATE_FILE` driven as a nightly
//! job would drive it: rounds, markers, refusals, expiry, interruptions, concurrent runs.
//!
//! Expected users come from the emulator's own plain listing and from the ids its change API
//! returns, never from graphd.

mod rounds;
mod runs;
mod wire;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use graphd::emulator::Emulator;
use serde_json::Value;

pub use crate::support::emulator::{graphd_at, spawnable, start, start_with};
pub use crate::users::{emulator_listing, json_array, ndjson, stderr};

/// A fresh directory for one test's state files.
pub fn state_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// `graphd list-users --delta STATE ARGS` against `emu`.
pub fn delta(emu: &Emulator, state: &Path, args: &[&str]) -> Output {
    graphd_at(emu)
        .arg("list-users")
        .arg("--delta")
        .arg(state)
        .args(args)
        .output()
        .expect("graphd runs")
}

/// As [`delta`], which must succeed; its stdout.
pub fn delta_ok(emu: &Emulator, state: &Path, args: &[&str]) -> Vec<u8> {
    let out = delta(emu, state, args);
    assert!(
        out.status.success(),
        "list-users --delta {args:?}: {:?}\n{}",
        out.status,
        stderr(&out)
    );
    out.stdout
}

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

/// The state file's bytes (to check a run left them alone).
pub fn state_bytes(state: &Path) -> Vec<u8> {
    std::fs::read(state).unwrap_or_else(|e| panic!("{}: {e}", state.display()))
}

pub fn path_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
