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

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use graphd::emulator::{Emulator, RequestRecord, Side};
use serde_json::Value;

pub use crate::support::emulator::{graphd_at, spawnable, start, start_with};

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

/// A loopback port standing for a foreign host: nothing may ever connect to it.
pub struct Foreign {
    listener: TcpListener,
}

impl Foreign {
    pub fn new() -> Foreign {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Foreign { listener }
    }

    /// `http://127.0.0.1:PORT` (same host as the emulator, another port).
    pub fn origin(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }

    /// Asserts no connection was made (a completed handshake waits in the backlog even
    /// though nothing accepts it, so this holds after the client has exited).
    pub fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
            Ok((_, peer)) => panic!("the foreign host received a connection from {peer}"),
        }
    }
}

/// A GUID-shaped request-id shown in an error line: `[request-id <guid>]`.
pub fn shown_request_id(stderr: &str) -> Option<String> {
    let start = stderr.find("[request-id ")? + "[request-id ".len();
    let id: String = stderr[start..].chars().take_while(|c| *c != ']').collect();
    graphd::cloud::is_guid(&id).then_some(id)
}

/// A stand-in Graph on loopback that answers each request with the next canned raw HTTP
/// response (the last one repeats) and records the request heads, for answers the emulator
/// does not give: a token refused every time, a redirect, an error with a known request-id.
pub struct FakeGraph {
    addr: std::net::SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGraph {
    pub fn start(answers: Vec<String>) -> FakeGraph {
        assert!(!answers.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (heads.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let n = {
                    let mut heads = h.lock().unwrap();
                    heads.push(String::from_utf8_lossy(&head).into_owned());
                    heads.len()
                };
                let answer = &answers[(n - 1).min(answers.len() - 1)];
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        FakeGraph {
            addr,
            heads,
            stop,
            thread: Some(thread),
        }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request heads received (request line and headers).
    pub fn requests(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A raw HTTP/1.1 response that closes the connection.
pub fn http_response(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    let mut r = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

/// A Graph error answer in Graph's shape (docs/protocol.md#graph-errors).
pub fn graph_error(status: u16, code: &str, message: &str, request_id: &str) -> String {
    let body = serde_json::json!({"error": {
        "code": code,
        "message": message,
        "innerError": {"date": "2024-05-01T10:00:00", "request-id": request_id, "client-request-id": request_id},
    }});
    http_response(
        status,
        &[
            ("content-type", "application/json"),
            ("request-id", request_id),
        ],
        &body.to_string(),
    )
}

/// `graphd ARGS` with its tokens from `emu` and its Graph at `fake` (the scope names Graph
/// itself, as the emulator issues tokens only for Graph).
pub fn fake_graph_cmd(emu: &Emulator, fake: &FakeGraph, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = graphd_at(emu);
    cmd.env("GRAPHD_GRAPH_ENDPOINT", fake.origin())
        .args(args)
        .args(["--scope", "https://graph.microsoft.com/.default"]);
    cmd
}
