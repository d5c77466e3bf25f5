//! Tests for `graphd list-users` and `graphd get` (issue 5) against the in-process emulator:
//! totals and order, query options, every output format read back by a real parser, retries
//! in place, the token kept on the Graph origin, Graph's errors and hints, pipes and progress.
//!
//! Expected users come from the emulator itself (its listing fetched page by page by the
//! emulator tests' own HTTP helpers, not by graphd), and order from the index every synthetic
//! UPN ends with.

mod faults;
mod formats;
mod get;
mod hints;
mod listing;
mod origin;
mod refusals;
mod streams;
pub mod terminal;

use std::process::Output;

use graphd::emulator::{Emulator, RequestRecord, Side};
use serde_json::Value;

pub use crate::support::emulator::{graphd_at, spawnable, start, start_with};
pub use crate::support::scripted::{ScriptedServer, Step, graph_error, reply};

/// `graphd list-users ARGS` against `emu`, which must succeed; its stdout.
pub fn list(emu: &Emulator, args: &[&str]) -> Vec<u8> {
    let out = graphd_at(emu)
        .arg("list-users")
        .args(args)
        .output()
        .expect("graphd runs");
    assert!(
        out.status.success(),
        "list-users {args:?}: {:?}\n{}",
        out.status,
        stderr(&out)
    );
    out.stdout
}

/// NDJSON as values: one JSON object per line, nothing else.
pub fn ndjson(out: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(out).expect("UTF-8 output");
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            assert!(v.is_object(), "{line}");
            v
        })
        .collect()
}

/// The default output: one JSON array.
pub fn json_array(out: &[u8]) -> Vec<Value> {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "not one JSON array ({e}): {}",
            String::from_utf8_lossy(&out[..out.len().min(2000)])
        )
    })
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The index of a synthetic user: the digits its UPN's local part ends with.
pub fn index(user: &Value) -> u64 {
    let upn = user["userPrincipalName"]
        .as_str()
        .unwrap_or_else(|| panic!("no userPrincipalName: {user}"));
    let local = upn.split('@').next().unwrap_or("");
    let digits: String = local
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no index in {upn}"))
}

/// Asserts `users` are the emulator's first `n` users in its order: none missing, none twice.
pub fn assert_in_order(users: &[Value], n: u64) {
    assert_eq!(users.len() as u64, n, "number of users");
    for (i, u) in users.iter().enumerate() {
        assert_eq!(index(u), i as u64, "user at position {i}: {u}");
    }
}

pub fn ids(users: &[Value]) -> Vec<String> {
    users
        .iter()
        .map(|u| {
            u["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id: {u}"))
                .to_string()
        })
        .collect()
}

/// The emulator's own answer to `path_and_query`, every page, fetched without graphd.
pub fn emulator_listing(emu: &Emulator, path_and_query: &str) -> Vec<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let token = crate::emulator::token(emu).await;
        let base = graphd::cloud::base_str(&emu.graph_endpoint());
        let mut next = path_and_query.to_string();
        let mut users = Vec::new();
        loop {
            let a = crate::emulator::graph_get(emu, &next, &token).await;
            assert_eq!(
                a.status,
                200,
                "{next}: {}",
                String::from_utf8_lossy(&a.body)
            );
            let page = a.json();
            users.extend(page["value"].as_array().expect("value").iter().cloned());
            match page["@odata.nextLink"].as_str() {
                Some(link) => next = link.strip_prefix(&base).expect("same origin").to_string(),
                None => return users,
            }
        }
    })
}

/// The Graph side's request log.
pub fn graph_requests(emu: &Emulator) -> Vec<RequestRecord> {
    emu.requests()
        .into_iter()
        .filter(|r| r.side == Side::Graph)
        .collect()
}

/// A GUID-shaped request-id shown in an error line: `[request-id <guid>]`.
pub fn shown_request_id(stderr: &str) -> Option<String> {
    let start = stderr.find("[request-id ")? + "[request-id ".len();
    let id: String = stderr[start..].chars().take_while(|c| *c != ']').collect();
    graphd::cloud::is_guid(&id).then_some(id)
}

/// `graphd ARGS` with its tokens from `emu` and its Graph at `fake` (the scope names Graph
/// itself, as the emulator issues tokens only for Graph).
pub fn fake_graph_cmd(emu: &Emulator, fake: &ScriptedServer, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = graphd_at(emu);
    cmd.env("GRAPHD_GRAPH_ENDPOINT", fake.origin())
        .args(args)
        .args(["--scope", "https://graph.microsoft.com/.default"]);
    cmd
}
