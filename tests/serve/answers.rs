//! What the endpoint answers: the token in App Service's shape, usable on Graph; and every
//! refusal, with its status and App Service's error body.

use super::*;
use crate::support::CLIENT_ID;
use crate::support::emulator::start;

const GRAPH: &str = "https://graph.microsoft.com";
/// Microsoft Graph's app id: a second resource the emulator issues tokens for.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

#[test]
fn the_token_has_app_services_shape_and_works_on_graph() {
    let emu = start(50);
    let serve = Serve::start(&emu, &[]);
    let answer = serve.token(GRAPH);
    let token = answer.access_token();
    let v = answer.json();
    let now = graphd::clock::now_unix();
    let expires_on: i64 = v["expires_on"]
        .as_str()
        .expect("expires_on is a string, as App Service sends it")
        .parse()
        .unwrap();
    assert!((now + 3500..=now + 3600).contains(&expires_on), "{v}");
    assert_eq!(v["resource"], GRAPH);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["client_id"], CLIENT_ID);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );

    // The token is the emulator's, for Graph.
    let graph_port = emu.graph_endpoint().port().unwrap();
    let users = Conn::open(graph_port).send(&format!(
        "GET /v1.0/users?$top=5 HTTP/1.1\r\nHost: 127.0.0.1:{graph_port}\r\nAuthorization: Bearer {token}"
    ));
    assert_eq!(
        users.status,
        200,
        "{}",
        String::from_utf8_lossy(&users.body)
    );
    assert_eq!(users.json()["value"].as_array().unwrap().len(), 5);

    // The other spellings of the resource: the same cached token, the resource echoed.
    let mut conn = serve.connect();
    for asked in [
        "https://graph.microsoft.com/",
        "https://graph.microsoft.com/.default",
        "HTTPS://Graph.Microsoft.com",
    ] {
        let a = conn.token(&serve, asked);
        assert_eq!(a.access_token(), token, "{asked}");
        assert_eq!(a.json()["resource"], asked);
    }
    // Microsoft's samples append `/?resource=`; and a client_id naming this app is fine.
    let a = conn.send(&format!(
        "GET /msi/token/?{}&client_id={} HTTP/1.1\r\nHost: localhost:{}\r\nX-IDENTITY-HEADER: {}",
        token_query(GRAPH),
        CLIENT_ID.to_uppercase(),
        serve.port,
        serve.header
    ));
    assert_eq!(a.access_token(), token);
    // One token request reached the token service: the one made before serving started.
    assert_eq!(emu.counters().tokens_issued, 1);
}

#[test]
fn allowed_resources_get_their_own_tokens() {
    let emu = start(1);
    let serve = Serve::start(
        &emu,
        &[
            "--allow-resource",
            GRAPH_APP_ID,
            "--allow-resource",
            "https://management.azure.com/.default",
        ],
    );
    let graph = serve.token(GRAPH).access_token();
    let by_app_id = serve.token(GRAPH_APP_ID);
    assert_ne!(by_app_id.access_token(), graph);
    assert_eq!(by_app_id.json()["resource"], GRAPH_APP_ID);
    // Allowed here, but unknown to the token service: 500 with Entra's reason.
    let message = serve.token("https://management.azure.com").refusal(500);
    assert!(
        message.contains("AADSTS500011") && message.contains("https://management.azure.com"),
        "{message}"
    );
    let stopped = serve.stop(rustix::process::Signal::TERM);
    assert_eq!(stopped.code, Some(0));
    assert!(
        stopped
            .stderr
            .contains("graphd: warning: serve: no token for https://management.azure.com"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn requests_without_the_header_are_401() {
    let emu = start(1);
    let serve = Serve::start(&emu, &[]);
    let host = format!("Host: 127.0.0.1:{}", serve.port);
    let target = format!("GET /msi/token?{} HTTP/1.1", token_query(GRAPH));
    let mut wrong = serve.header.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    let mut conn = serve.connect();
    for extra in [
        String::new(),
        "\r\nX-IDENTITY-HEADER: ".to_string(),
        format!("\r\nX-IDENTITY-HEADER: {wrong}"),
        format!("\r\nX-IDENTITY-HEADER: {}", &serve.header[..20]),
        format!("\r\nsecret: {}", serve.header),
        format!(
            "\r\nX-IDENTITY-HEADER: {0}\r\nX-IDENTITY-HEADER: {0}",
            serve.header
        ),
    ] {
        let a = conn.send(&format!("{target}\r\n{host}{extra}"));
        let message = a.refusal(401);
        assert!(message.contains("X-IDENTITY-HEADER"), "{message}");
        assert!(!String::from_utf8_lossy(&a.body).contains(&serve.header[..20]));
    }
    assert_eq!(
        conn.token(&serve, GRAPH).status,
        200,
        "the connection still serves"
    );
}

#[test]
fn browsers_other_hosts_and_other_requests_are_refused() {
    let emu = start(1);
    let serve = Serve::start(&emu, &[]);
    let port = serve.port;
    let secret = format!("X-IDENTITY-HEADER: {}", serve.header);
    let target = format!("/msi/token?{}", token_query(GRAPH));
    let cases: Vec<(String, u16, &str)> = vec![
        // DNS rebinding: the page's own name, or the right name on another port.
        (
            format!("GET {target} HTTP/1.1\r\nHost: attacker.example:{port}\r\n{secret}"),
            403,
            "Host",
        ),
        (
            format!(
                "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{secret}",
                port.wrapping_add(1)
            ),
            403,
            "Host",
        ),
        (
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{secret}"),
            403,
            "Host",
        ),
        (format!("GET {target} HTTP/1.0\r\n{secret}"), 403, "Host"),
        (
            format!(
                "GET http://attacker.example:{port}{target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}"
            ),
            403,
            "Host",
        ),
        // What browsers add to every request.
        (
            format!(
                "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://attacker.example\r\n{secret}"
            ),
            403,
            "browser",
        ),
        (
            format!(
                "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Mode: no-cors\r\n{secret}"
            ),
            403,
            "browser",
        ),
        // Only GET, on the one path, without a body.
        (
            format!(
                "POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}\r\nContent-Length: 0"
            ),
            405,
            "GET",
        ),
        (
            format!(
                "GET /metadata/identity/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}"
            ),
            404,
            "/msi/token",
        ),
        // The query.
        (
            format!(
                "GET /msi/token?resource={GRAPH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}"
            ),
            400,
            "api-version",
        ),
        (
            format!(
                "GET /msi/token?resource={GRAPH}&api-version=2017-09-01 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}"
            ),
            400,
            "2019-08-01",
        ),
        (
            format!(
                "GET /msi/token?api-version=2019-08-01 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}"
            ),
            400,
            "resource",
        ),
        (
            format!(
                "GET {target}&mi_res_id=/subscriptions/x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}"
            ),
            400,
            "one identity",
        ),
        (
            format!(
                "GET /msi/token?{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}",
                token_query("https://vault.azure.net")
            ),
            403,
            "--allow-resource https://vault.azure.net",
        ),
    ];
    for (head, status, says) in &cases {
        // A fresh connection each: some refusals (HTTP/1.0) close it.
        let a = serve.connect().send(head);
        let message = a.refusal(*status);
        assert!(message.contains(says), "{head}\n-> {message}");
        if *status == 405 {
            assert_eq!(a.header("allow"), Some("GET"));
        }
    }
    // A body is refused without being read.
    let a = serve.connect().send(&format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}\r\nContent-Length: 5\r\n\r\nhello"
    ));
    assert!(a.refusal(400).contains("no body"));
    // Bounded heads: too many headers, or too many bytes.
    let many: String = (0..40).map(|i| format!("\r\nX-Pad-{i}: {i}")).collect();
    let a = serve.connect().send(&format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}{many}"
    ));
    assert_eq!(a.status, 431);
    let big = "x".repeat(16 * 1024);
    let a = serve.connect().send(&format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{secret}\r\nX-Big: {big}"
    ));
    assert_eq!(a.status, 431);
    // None of it reached the token service, and the endpoint still serves.
    assert_eq!(serve.token(GRAPH).status, 200);
    assert_eq!(emu.counters().tokens_issued, 1);
}

#[test]
fn slow_and_idle_clients_are_let_go() {
    let emu = start(1);
    let serve = Serve::start(&emu, &[]);
    // Half a request head, never finished; and a kept-alive connection left idle.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    slow.set_read_timeout(Some(DEADLINE)).unwrap();
    slow.write_all(
        format!(
            "GET /msi/token HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
            serve.port
        )
        .as_bytes(),
    )
    .unwrap();
    let mut idle = serve.connect();
    assert_eq!(idle.token(&serve, GRAPH).status, 200);
    // Both are closed by the server (end of file, not the read timeout), and no token was sent.
    let mut rest = Vec::new();
    slow.read_to_end(&mut rest).expect("closed by the server");
    assert!(!String::from_utf8_lossy(&rest).contains("access_token"));
    let mut rest = Vec::new();
    idle.stream.set_read_timeout(Some(DEADLINE)).unwrap();
    idle.reader
        .read_to_end(&mut rest)
        .expect("closed by the server");
    assert!(rest.is_empty());
    assert_eq!(serve.token(GRAPH).status, 200, "still serving");
}
