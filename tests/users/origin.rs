//! The bearer token goes only to the configured Graph origin: a nextLink or a `get` URL with
//! another scheme, host or port is refused before any request is sent (exit 5), and what
//! was already printed stays printed.

use graphd::emulator::{FaultAction, FaultRule};

use super::*;

#[test]
fn a_foreign_next_link_is_refused_before_any_request() {
    let foreign = ScriptedServer::silent();
    let emu = start(3000);
    let graph_port = emu.graph_endpoint().port().unwrap();
    let cases = [
        // Same host, another port: the plain listener, which must see no connection.
        foreign.origin(),
        // Same host and port, another scheme.
        format!("https://127.0.0.1:{graph_port}"),
        // Same port, another host name for the same machine: still another origin.
        format!("http://localhost:{graph_port}"),
    ];
    for (k, origin) in cases.iter().enumerate() {
        let link = format!("{origin}/v1.0/users?$top=999&$skiptoken=stolen");
        // The second page's nextLink points away.
        emu.set_faults(vec![
            FaultRule::graph(FaultAction::NextLink(link.clone())).skip(1),
        ]);
        let before = graph_requests(&emu).len();
        let out = graphd_at(&emu)
            .args(["list-users", "--top", "500"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{link}: {err}");
        let shown_host = origin.split("://").nth(1).unwrap();
        assert!(
            err.starts_with("graphd: error: ") && err.contains(shown_host),
            "{link}: the error names the foreign host: {err}"
        );
        assert!(err.contains("hint: "), "{err}");
        assert!(!err.contains("stolen"), "no query in the message: {err}");
        // Two pages printed, as one valid array; no third request anywhere.
        assert_in_order(&json_array(&out.stdout), 1000);
        assert_eq!(graph_requests(&emu).len() - before, 2, "case {k}: {link}");
    }
    foreign.assert_untouched();
    assert_eq!(
        emu.counters().token.requests,
        3,
        "one token per run, none sent away"
    );
}

#[test]
fn get_refuses_a_foreign_url_without_any_request() {
    let foreign = ScriptedServer::silent();
    let emu = start(10);
    for url in [
        format!("{}/v1.0/users", foreign.origin()),
        format!(
            "{}/v1.0/users",
            foreign.origin().replace("127.0.0.1", "localhost")
        ),
        "https://graph.microsoft.com/v1.0/users".to_string(),
        format!(
            "HTTP://{}/v1.0/users",
            foreign.origin().trim_start_matches("http://")
        ),
    ] {
        for all in [false, true] {
            let mut cmd = graphd_at(&emu);
            cmd.args(["get", &url]);
            if all {
                cmd.arg("--all");
            }
            let out = cmd.output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(5), "{url}: {err}");
            let host = url.split("://").nth(1).unwrap().split('/').next().unwrap();
            let host = host.to_ascii_lowercase();
            assert!(err.contains(&host), "{err}");
            assert!(out.stdout.is_empty(), "{url}");
        }
    }
    foreign.assert_untouched();
    let counters = emu.counters();
    assert_eq!(
        (counters.token.requests, counters.graph.requests),
        (0, 0),
        "no token was even asked for"
    );
}

#[test]
fn redirects_are_not_followed() {
    let foreign = ScriptedServer::silent();
    let emu = start(0);
    let fake = ScriptedServer::start([Step::when(
        "GET /v1.0/users",
        reply(
            302,
            &[("location", &format!("{}/v1.0/users", foreign.origin()))],
            b"",
        ),
    )]);
    let out = fake_graph_cmd(&emu, &fake, &["list-users"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("302"), "{err}");
    assert!(
        err.contains(&foreign.origin()),
        "the redirect target is named: {err}"
    );
    assert_eq!(fake.requests().len(), 1);
    foreign.assert_untouched();
}
