//! Finding 11: the emulator answers only requests addressed to its own loopback name and port
//! (a page on evil.example resolving to 127.0.0.1, DNS rebinding, gets nothing), and every
//! numeric flag of `graphd emulator` is range-checked, so none can overflow its clock.

use std::io::{Read, Write};
use std::net::TcpStream;

use graphd::emulator::EmulatorConfig;

use crate::support::emulator::{graphd_at, start, start_with};
use crate::support::graphd;
use crate::support::outcome::run;

/// Sends one raw HTTP/1.1 request (`host` as the Host header, or none) to the emulator port
/// `addr` and returns the status code and body.
fn raw_get(addr: &url::Url, path: &str, host: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect((
        addr.host_str().unwrap(),
        addr.port_or_known_default().unwrap(),
    ))
    .unwrap();
    let host_line = host.map_or(String::new(), |h| format!("Host: {h}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\n{host_line}Accept: application/json\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn finding_11_the_emulator_refuses_other_host_names() {
    let emu = start(3);
    let (token, graph) = (emu.authority_host(), emu.graph_endpoint());
    let discovery = format!("/{}/v2.0/.well-known/openid-configuration", emu.tenant());
    let tport = token.port().unwrap();
    let gport = graph.port().unwrap();
    for host in [
        format!("evil.example:{tport}"),
        "evil.example".to_string(),
        format!("127.0.0.1.nip.io:{tport}"),
        format!("127.0.0.1:{gport}"),
        format!("localhost:{}", tport.wrapping_add(1)),
    ] {
        let (status, body) = raw_get(&token, &discovery, Some(&host));
        assert_eq!(status, 421, "Host {host}: {body}");
        assert!(!body.contains("token_endpoint"), "{body}");
    }
    let (status, _) = raw_get(
        &graph,
        "/v1.0/users",
        Some(&format!("evil.example:{gport}")),
    );
    assert_eq!(status, 421);
    let (status, _) = raw_get(&graph, "/v1.0/users", None);
    assert!(status == 400 || status == 421, "no Host: {status}");
    // Nothing the refused requests asked for was served or counted.
    let counters = emu.counters();
    assert_eq!((counters.token.requests, counters.graph.requests), (0, 0));
    // Its own names work: the emulator's clients use both.
    for host in [format!("127.0.0.1:{tport}"), format!("LOCALHOST:{tport}")] {
        let (status, body) = raw_get(&token, &discovery, Some(&host));
        assert_eq!(status, 200, "Host {host}: {body}");
    }
    run(graphd_at(&emu).args(["list-users", "--top", "2"])).ok();
}

#[test]
fn finding_11_numeric_flags_are_range_checked() {
    for (flag, value) in [
        ("--clock-offset", "9223372036854775807"),
        ("--clock-offset", "-9223372036854775808"),
        ("--clock-offset", "316224001"),
        ("--users", "18446744073709551615"),
        ("--users", "1000000000001"),
        ("--token-lifetime", "86401"),
        ("--token-lifetime", "0"),
        ("--port", "65536"),
        ("--graph-port", "-1"),
        ("--fault", "graph:slow=18446744073709551615"),
        ("--fault", "graph:429,retry-after=18446744073709551615"),
        ("--fault", "token:429,retry-after=date:18446744073709551615"),
    ] {
        let arg = format!("{flag}={value}");
        let out = run(graphd().args(["emulator", &arg]));
        let line = out.refused(2, None, flag);
        assert!(!out.stderr.contains("panicked"), "{arg}: {line}");
    }
    let out = run(graphd().args(["demo", "--users", "18446744073709551615"]));
    out.refused(2, None, "--users");
}

#[test]
fn finding_11_an_embedder_cannot_start_a_clock_that_overflows() {
    for offset in [i64::MAX, i64::MIN, 316_224_001] {
        let e = graphd::emulator::Emulator::start(EmulatorConfig {
            clock_offset_secs: offset,
            ..EmulatorConfig::default()
        })
        .unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
    }
    // The widest accepted offsets still issue tokens and dates without panicking.
    for offset in [316_224_000, -316_224_000] {
        let emu = start_with(EmulatorConfig {
            clock_offset_secs: offset,
            users: 1,
            ..EmulatorConfig::default()
        });
        let out = run(graphd_at(&emu).arg("token"));
        // The emulator's clock is years off: Entra's rules refuse the certificate or the
        // assertion (exit 4), with a refusal, not a panic.
        out.refused(4, None, "AADSTS");
    }
}
