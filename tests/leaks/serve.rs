//! `graphd serve` (issue 14): with `-v` and with `GRAPHD_LOG=trace`, through tokens served,
//! refusals and a token service failure, its stderr holds neither the identity header nor a
//! token nor the key, and its access log names no query. The header is on stdout once, in
//! the line that announces it, and nowhere else.

use rustix::process::Signal;

use crate::serve::{Serve, token_query};
use crate::support::Pair;
use crate::support::emulator::start;

const GRAPH: &str = "https://graph.microsoft.com";

/// The base64 lines of the shared private key's PEM.
fn key_lines() -> Vec<String> {
    std::fs::read_to_string(&Pair::shared().key)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

#[test]
fn serve_logs_neither_the_header_nor_a_token() {
    let emu = start(1);
    let key = key_lines();
    assert!(key.len() > 10);
    for (how, env) in [
        ("-v", None),
        ("GRAPHD_LOG=trace", Some(("GRAPHD_LOG", "trace"))),
    ] {
        let mut args = vec!["--allow-resource", "https://management.azure.com"];
        if env.is_none() {
            args.push("-v");
        }
        let serve = Serve::start_with(&emu, &args, env.as_slice());
        let header = serve.header.clone();
        let mut tokens = vec![serve.token(GRAPH).access_token()];
        tokens.push(
            serve
                .token("https://graph.microsoft.com/.default")
                .access_token(),
        );
        // Refusals of every kind, a wrong header among them, and an upstream failure.
        let mut wrong = header.clone().into_bytes();
        wrong.reverse();
        let wrong = String::from_utf8(wrong).unwrap();
        let port = serve.port;
        for head in [
            format!(
                "GET /msi/token?{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-IDENTITY-HEADER: {wrong}",
                token_query(GRAPH)
            ),
            format!(
                "GET /msi/token?{} HTTP/1.1\r\nHost: evil.example:{port}\r\nX-IDENTITY-HEADER: {header}",
                token_query(GRAPH)
            ),
            format!(
                "GET /msi/token?{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-IDENTITY-HEADER: {header}",
                token_query("https://vault.azure.net")
            ),
            format!(
                "POST /msi/token?{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-IDENTITY-HEADER: {header}\r\nContent-Length: 0",
                token_query(GRAPH)
            ),
        ] {
            assert_ne!(serve.connect().send(&head).status, 200, "{how}: {head}");
        }
        assert_eq!(serve.token("https://management.azure.com").status, 500);
        let stdout = serve.stdout.clone();
        let stopped = serve.stop(Signal::TERM);
        assert_eq!(stopped.code, Some(0), "{how}");
        let stderr = stopped.stderr;

        // The trace says something: the access log, with resources and statuses.
        for expected in [
            "serve: GET /msi/token -> 200 (resource https://graph.microsoft.com,",
            "serve: GET /msi/token -> 401 (correlation id ",
            "serve: GET /msi/token -> 403 (resource https://vault.azure.net,",
            "serve: POST /msi/token -> 405",
            "serve: GET /msi/token -> 500 (resource https://management.azure.com,",
        ] {
            assert!(
                stderr.contains(expected),
                "{how}: no {expected:?} in\n{stderr}"
            );
        }
        // ... and nothing secret: no header (nor the wrong one a client sent), no token, no
        // key, no query string.
        let mut needles = vec![
            header.clone(),
            header[..16].to_string(),
            header[27..].to_string(),
            wrong,
        ];
        for t in &tokens {
            needles.push(t.clone());
            needles.push(t.rsplit('.').next().unwrap().to_string());
        }
        needles.extend(key.iter().cloned());
        for n in &needles {
            assert!(
                !stderr.contains(n.as_str()),
                "{how}: stderr leaks a secret ({} chars, starting {:?})",
                n.len(),
                &n[..4]
            );
        }
        assert!(
            !stderr.contains("api-version"),
            "{how}: a query was logged:\n{stderr}"
        );
        // stdout: the two announcement lines, the header in the second only.
        assert_eq!(stdout.matches(header.as_str()).count(), 1, "{how}");
        assert!(stdout.lines().nth(1).unwrap().ends_with(&header));
        for t in &tokens {
            assert!(!stdout.contains(t.as_str()));
        }
    }
}
