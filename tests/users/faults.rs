//! Transient failures mid-listing: throttling and 503/504 retried on the same nextLink after
//! `Retry-After` (never early, never restarting the listing), an access token that expires
//! between two pages, and the token cache shared by several commands.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use graphd::emulator::{FaultAction, FaultRule, RetryAfter};

use super::*;

fn status(status: u16, retry_after: RetryAfter) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: Some(retry_after),
    }
}

#[test]
fn throttled_and_unavailable_pages_are_retried_in_place() {
    // Six pages of 500. Every rule counts every Graph request, so with the retries the
    // requests are: p1, p2 (429), p2, p3 (503), p3, p4 (504), p4, p5, p6.
    let emu = start(3000);
    emu.set_faults(vec![
        FaultRule::graph(status(429, RetryAfter::Fractional(0.25))).skip(1),
        FaultRule::graph(status(503, RetryAfter::Seconds(1))).skip(3),
        FaultRule::graph(status(504, RetryAfter::HttpDate(1))).skip(5),
    ]);
    let users = ndjson(&list(&emu, &["-o", "ndjson", "--top", "500"]));
    assert_in_order(&users, 3000);

    let counters = emu.counters();
    assert_eq!(counters.graph.faults, 3);
    assert_eq!(counters.graph.early, 0, "a retry came before Retry-After");
    assert_eq!(counters.token.requests, 1);
    let requests = graph_requests(&emu);
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 429, 200, 503, 200, 504, 200, 200, 200]);
    for pair in requests.windows(2) {
        if pair[0].status != 200 {
            assert_eq!(
                pair[0].path, pair[1].path,
                "the retry asks for the same page"
            );
        }
    }
    let first = &requests[0].path;
    assert_eq!(
        requests.iter().filter(|r| &r.path == first).count(),
        1,
        "the listing never restarted"
    );
}

#[test]
fn throttling_that_outlasts_the_retries_is_a_network_error() {
    let emu = start(3000);
    emu.set_faults(vec![
        FaultRule::graph(status(429, RetryAfter::Fractional(0.05)))
            .skip(1)
            .always(),
    ]);
    let out = graphd_at(&emu)
        .args(["list-users", "--max-retries", "2"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("429"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert_in_order(&json_array(&out.stdout), 999);
    assert_eq!(
        graph_requests(&emu).len(),
        4,
        "one page, then 1 + 2 retries"
    );
    assert_eq!(emu.counters().graph.early, 0);
}

#[test]
fn an_expired_token_mid_listing_gets_exactly_one_fresh_token() {
    let emu = start(3000);
    let mut child = spawnable(&graphd_at(&emu))
        .args(["list-users", "-o", "ndjson"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The first page (999 users, ~400 KB) is far larger than a pipe holds, so graphd is
    // still writing it, and has not asked for page 2, when its first line arrives here.
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(
        graph_requests(&emu).len(),
        1,
        "page 2 was not requested yet"
    );
    emu.expire_issued_tokens();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(err, "", "nothing to say about a replaced token");

    let users = ndjson(format!("{first}{rest}").as_bytes());
    assert_in_order(&users, 3000);
    let counters = emu.counters();
    assert_eq!(counters.tokens_issued, 2, "exactly one fresh token");
    assert_eq!(counters.token.requests, 2);
    let statuses: Vec<u16> = graph_requests(&emu).iter().map(|r| r.status).collect();
    // 3000 users are four pages of 999; page 2 is retried once.
    assert_eq!(statuses, [200, 401, 200, 200, 200]);
}

#[test]
fn a_token_refused_twice_is_not_retried_forever() {
    // A Graph that refuses every token: graphd gets one fresh token, retries once, and stops
    // with Graph's error.
    let emu = start(0);
    let fake = ScriptedServer::start([Step::when(
        "GET /v1.0/users",
        graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
            "6f1c2e55-0d0b-4c3b-9a55-1f0e6f0c1a01",
        ),
    )]);
    let out = fake_graph_cmd(&emu, &fake, &["list-users"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("InvalidAuthenticationToken"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert_eq!(fake.requests().len(), 2, "the page and one retry");
    assert_eq!(emu.counters().tokens_issued, 2, "one fresh token");
    assert!(
        out.stdout.is_empty(),
        "an error before the first page prints nothing"
    );
}

#[test]
fn the_token_cache_is_shared_by_every_command() {
    let emu = start(1200);
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    list(&emu, &["--token-cache", dir, "-o", "ndjson"]);
    list(&emu, &["--token-cache", dir, "--max", "10"]);
    graphd_at(&emu)
        .args(["get", "/v1.0/users/$count", "--token-cache", dir])
        .assert()
        .success();
    graphd_at(&emu)
        .env("GRAPHD_TOKEN_CACHE", dir)
        .args(["list-users", "-o", "csv"])
        .assert()
        .success();
    assert_eq!(
        emu.counters().tokens_issued,
        1,
        "one token for four commands"
    );
    assert_eq!(emu.counters().token.requests, 1);

    // Without the cache, each command gets its own token.
    list(&emu, &["--max", "1"]);
    assert_eq!(emu.counters().tokens_issued, 2);
}

#[test]
fn a_looping_next_link_stops_the_listing() {
    // Page 2's nextLink leads back to page 1, every time.
    let emu = start(3000);
    let first = format!(
        "{}/v1.0/users?$top=500",
        graphd::cloud::base_str(&emu.graph_endpoint())
    );
    emu.set_faults(vec![
        FaultRule::graph(FaultAction::NextLink(first))
            .skip(1)
            .every(2)
            .always(),
    ]);
    let out = graphd_at(&emu)
        .args(["list-users", "--top", "500"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("already fetched"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    let pages = graph_requests(&emu).len();
    assert!(pages <= 4, "stopped after {pages} pages");
    assert_eq!(json_array(&out.stdout).len(), 500 * pages);
}
