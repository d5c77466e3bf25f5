//! TLS with and without `--ca-file`, proxies from the environment (never for loopback), and
//! what `-v` shows: method, host, path, status and request ids, never a secret.

use graphd::emulator::{EmulatorConfig, FaultAction, FaultRule, RetryAfter};

use super::{graphd_via, run, token};
use crate::support::Pair;
use crate::support::emulator::{graphd_at, start, start_with};
use crate::support::scripted::{ScriptedServer, reply};

fn tls_emulator() -> crate::support::emulator::TestEmulator {
    start_with(EmulatorConfig {
        users: 0,
        tls: true,
        ..EmulatorConfig::default()
    })
}

#[test]
fn tls_needs_the_emulators_ca() {
    let emu = tls_emulator();
    assert_eq!(emu.authority_host().scheme(), "https");
    let ca = emu.ca_file().expect("a CA file").display().to_string();
    // graphd_at sets GRAPHD_CA_FILE; the flag works the same.
    token(&emu, &[]).expect_code(0);
    run(graphd_at(&emu)
        .env_remove("GRAPHD_CA_FILE")
        .args(["token", "--ca-file", &ca]))
    .expect_code(0);
    assert_eq!(emu.counters().token.requests, 2);

    let untrusted =
        run(graphd_at(&emu)
            .env_remove("GRAPHD_CA_FILE")
            .args(["token", "--max-retries", "3"]))
        .expect_code(6);
    let (error, hint) = untrusted.error_and_hint();
    assert!(error.contains("TLS failure with 127.0.0.1:"), "{error}");
    assert!(error.contains("not trusted"), "{error}");
    assert!(
        !error.contains("statem"),
        "no OpenSSL source paths: {error}"
    );
    assert!(
        !error.contains("after"),
        "a TLS failure is not retried: {error}"
    );
    assert!(hint.contains("--ca-file"), "{hint}");
    assert_eq!(emu.counters().token.requests, 2, "no request got through");

    // A CA file that holds no certificate is a configuration error, before any request.
    let bad = run(graphd_at(&emu)
        .env("GRAPHD_CA_FILE", &Pair::shared().key)
        .arg("token"))
    .expect_code(3);
    assert!(bad.error_and_hint().0.contains("CA file"), "{bad:#?}");
}

/// A "proxy" that answers every request with 403 and remembers it.
fn recording_proxy() -> ScriptedServer {
    ScriptedServer::start([reply(403, &[], b"proxy says no")])
}

#[test]
fn proxies_never_carry_loopback_traffic() {
    let proxy = recording_proxy();
    let plain = start(0);
    let tls = tls_emulator();
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
        for emu in [&plain, &tls] {
            run(graphd_at(emu)
                .env(var, proxy.origin())
                .env("NO_PROXY", "intranet.example")
                .args(["token", "--max-retries", "0"]))
            .expect_code(0);
        }
        // localhost is loopback too.
        let localhost = plain
            .authority_host()
            .as_str()
            .replace("127.0.0.1", "localhost");
        run(graphd_at(&plain)
            .env(var, proxy.origin())
            .env("AZURE_AUTHORITY_HOST", &localhost)
            .args(["token", "--max-retries", "0"]))
        .expect_code(0);
    }
    assert!(proxy.requests().is_empty(), "{:#?}", proxy.requests());
    assert_eq!(plain.counters().token.requests, 8);
    assert_eq!(tls.counters().token.requests, 4);
}

#[test]
fn https_proxy_carries_remote_traffic() {
    let proxy = recording_proxy();
    let run = run(graphd_via("https://login.microsoftonline.com")
        .env("HTTPS_PROXY", proxy.origin())
        .args(["token", "--max-retries", "0"]))
    .expect_code(6);
    let (error, _) = run.error_and_hint();
    assert!(error.contains("(HTTPS_PROXY is set)"), "{error}");
    let sent = proxy.requests();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(
        sent[0].request_line,
        "CONNECT login.microsoftonline.com:443 HTTP/1.1"
    );
    assert!(
        sent[0].body.is_empty(),
        "nothing but the tunnel request reaches the proxy"
    );
}

#[test]
fn a_proxy_variable_that_is_not_a_url_is_named_not_echoed() {
    let emu = start(0);
    let run = run(graphd_at(&emu)
        .env("HTTPS_PROXY", "http://user:hunter2@[::1")
        .arg("token"))
    .expect_code(3);
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("HTTPS_PROXY"), "{error}");
    assert!(!run.stderr.contains("hunter2"), "{run:#?}");
    assert!(hint.contains("NO_PROXY"), "{hint}");
}

#[test]
fn verbose_traces_requests_without_secrets() {
    let busy_once = || {
        vec![FaultRule::token(FaultAction::Status {
            status: 503,
            retry_after: Some(RetryAfter::Fractional(0.1)),
        })]
    };
    let emu = start(0);
    let host = graphd::http::host_of(&emu.authority_host());
    let key = std::fs::read_to_string(&Pair::shared().key).unwrap();
    for (flag, log) in [("-v", None), ("--json", Some("debug"))] {
        emu.set_faults(busy_once());
        let mut cmd = graphd_at(&emu);
        if let Some(level) = log {
            cmd.env("GRAPHD_LOG", level);
        }
        let verbose = run(cmd.args(["token", flag, "--max-retries", "1"])).expect_code(0);
        let err = &verbose.stderr;
        let endpoint = format!("POST http://{host}/{}/oauth2/v2.0/token", emu.tenant());
        assert!(
            err.contains(&format!("{endpoint} -> 503 Service Unavailable")),
            "{err}"
        );
        assert!(err.contains(&format!("{endpoint} -> 200 OK")), "{err}");
        assert!(err.contains("retrying in 0.100 s (Retry-After)"), "{err}");
        assert!(err.contains("x-ms-request-id "), "{err}");
        // The ids in the trace are the ones the emulator saw.
        let last = emu
            .requests()
            .last()
            .unwrap()
            .client_request_id
            .clone()
            .unwrap();
        assert!(err.contains(&format!("client-request-id {last}")), "{err}");
        // No token, assertion or key: nothing JWT-shaped, no PEM, no key material.
        assert!(!err.contains(verbose.stdout.trim()), "{err}");
        assert!(!err.contains("eyJ"), "{err}");
        assert!(!err.contains("PRIVATE KEY"), "{err}");
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!err.contains(line), "a key line leaked: {err}");
        }
    }
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    let proxy = recording_proxy();
    // A reserved name that resolves nowhere: the direct attempt fails, and the proxy must
    // not have been asked.
    let run = run(graphd_via("https://login.graphd-test.invalid")
        .env("HTTPS_PROXY", proxy.origin())
        .env("NO_PROXY", "example.com, .graphd-test.invalid")
        .args(["token", "--max-retries", "0", "--timeout", "5"]))
    .expect_code(6);
    run.error_and_hint();
    assert!(proxy.requests().is_empty(), "{:#?}", proxy.requests());
}
