//! The request graphd sends and the success output: both algorithms, the exact form, the
//! headers, a fresh assertion per attempt, `--json`, clouds and the URL policy.

use graphd::emulator::{EmulatorConfig, FaultAction, FaultRule, RetryAfter, Side};

use super::{graphd_via, jwt_part, now, run, token};
use crate::support::emulator::{start, start_with};
use crate::support::scripted::{ScriptedServer, good_token, reply};
use crate::support::{CLIENT_ID, TENANT};

const USER_AGENT: &str = concat!("graphd/", env!("CARGO_PKG_VERSION"));

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

#[test]
fn ps256_and_rs256_both_get_a_token() {
    for alg in ["PS256", "RS256"] {
        let emu = start(0);
        let run = token(&emu, &["--alg", alg]).expect_code(0);
        let jwt = run.stdout.trim();
        assert_eq!(
            run.stdout,
            format!("{jwt}\n"),
            "the token and a newline only"
        );
        let claims = jwt_part(jwt, 1);
        assert_eq!(claims["aud"], "https://graph.microsoft.com", "{alg}");
        assert_eq!(claims["appid"], CLIENT_ID, "{alg}");
        assert_eq!(claims["idtyp"], "app", "{alg}");

        let c = emu.counters();
        assert_eq!((c.token.requests, c.tokens_issued), (1, 1), "{alg}");
        let log = emu.requests();
        assert_eq!(log.len(), 1, "{alg}: {log:#?}");
        let r = &log[0];
        assert_eq!(r.side, Side::Token);
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/{TENANT}/oauth2/v2.0/token"));
        assert_eq!(r.status, 200);
        assert_eq!(r.user_agent.as_deref(), Some(USER_AGENT));
        assert!(r.client_request_id.as_deref().is_some_and(is_uuid), "{r:?}");
    }
}

#[test]
fn the_form_has_exactly_the_documented_fields() {
    for (alg, thumbprint_header) in [("PS256", "x5t#S256"), ("RS256", "x5t")] {
        let server = ScriptedServer::start([good_token("scripted.token.value")]);
        let run = run(graphd_via(&server.origin()).args(["token", "--alg", alg])).expect_code(0);
        assert_eq!(run.stdout, "scripted.token.value\n");
        let sent = server.requests();
        assert_eq!(sent.len(), 1);
        let r = &sent[0];
        assert_eq!(
            r.request_line,
            format!("POST /{TENANT}/oauth2/v2.0/token HTTP/1.1")
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(r.header("user-agent"), Some(USER_AGENT));
        assert!(r.header("client-request-id").is_some_and(is_uuid), "{r:?}");
        // docs/protocol.md#token-request: these five, each once, nothing else (no client_secret, ever).
        let names: Vec<String> = r.form().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "scope",
                "client_assertion_type",
                "client_assertion",
                "grant_type"
            ]
        );
        assert_eq!(r.field("client_id").as_deref(), Some(CLIENT_ID));
        assert_eq!(
            r.field("scope").as_deref(),
            Some("https://graph.microsoft.com/.default")
        );
        assert_eq!(
            r.field("client_assertion_type").as_deref(),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        );
        assert_eq!(r.field("grant_type").as_deref(), Some("client_credentials"));
        let assertion = r.field("client_assertion").unwrap();
        let header = jwt_part(&assertion, 0);
        assert_eq!(header["alg"], alg);
        assert!(header[thumbprint_header].is_string(), "{header}");
        let claims = jwt_part(&assertion, 1);
        assert_eq!(
            claims["aud"],
            format!("{}/{TENANT}/oauth2/v2.0/token", server.origin())
        );
        assert_eq!(claims["iss"], CLIENT_ID);
        assert_eq!(claims["sub"], CLIENT_ID);
    }
}

#[test]
fn every_attempt_carries_a_fresh_assertion_and_request_id() {
    let busy = reply(503, &[("Retry-After", "0")], b"");
    let server = ScriptedServer::start([busy.clone(), busy, good_token("third.time.lucky")]);
    let run =
        run(graphd_via(&server.origin()).args(["token", "--max-retries", "2"])).expect_code(0);
    assert_eq!(run.stdout, "third.time.lucky\n");
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    let jtis: Vec<String> = sent
        .iter()
        .map(|r| jwt_part(&r.field("client_assertion").unwrap(), 1)["jti"].to_string())
        .collect();
    let ids: Vec<&str> = sent
        .iter()
        .map(|r| r.header("client-request-id").unwrap())
        .collect();
    for i in 0..3 {
        for j in i + 1..3 {
            assert_ne!(jtis[i], jtis[j]);
            assert_ne!(ids[i], ids[j]);
        }
    }

    // The same against the emulator, from its own log.
    let emu = start_with(EmulatorConfig {
        users: 0,
        strict_jti: true,
        faults: vec![FaultRule::token(FaultAction::Status {
            status: 503,
            retry_after: Some(RetryAfter::Seconds(0)),
        })],
        ..EmulatorConfig::default()
    });
    token(&emu, &["--max-retries", "1"]).expect_code(0);
    let log = emu.requests();
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [503, 200]);
    assert_ne!(log[0].client_request_id, log[1].client_request_id);
}

#[test]
fn json_has_the_response_fields_and_expires_on() {
    let emu = start_with(EmulatorConfig {
        users: 0,
        token_lifetime_secs: 1234,
        ..EmulatorConfig::default()
    });
    let before = now();
    let run = token(&emu, &["--json"]).expect_code(0);
    let after = now();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 1234);
    assert_eq!(v["ext_expires_in"], 1234);
    let expires_on = v["expires_on"].as_i64().expect("expires_on is a number");
    assert!(
        (before + 1234..=after + 1234).contains(&expires_on),
        "{expires_on} not within [{before}, {after}] + 1234"
    );
    assert_eq!(
        jwt_part(v["access_token"].as_str().unwrap(), 1)["appid"],
        CLIENT_ID
    );
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn clouds_set_the_audience_and_the_scope() {
    let aud = |args: &[&str]| {
        let run = run(super::super::support::graphd()
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", CLIENT_ID)
            .env(
                "AZURE_CLIENT_CERTIFICATE_PATH",
                &crate::support::Pair::shared().combined,
            )
            .arg("assertion")
            .args(args))
        .expect_code(0);
        jwt_part(&run.stdout, 1)["aud"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let endpoint = |host: &str| format!("https://{host}/{TENANT}/oauth2/v2.0/token");
    assert_eq!(aud(&[]), endpoint("login.microsoftonline.com"));
    assert_eq!(
        aud(&["--cloud", "usgov"]),
        endpoint("login.microsoftonline.us")
    );
    assert_eq!(
        aud(&["--cloud", "usgov-dod"]),
        endpoint("login.microsoftonline.us")
    );
    assert_eq!(
        aud(&["--cloud", "china"]),
        endpoint("login.chinacloudapi.cn")
    );
    assert_eq!(
        aud(&["--cloud", "usgov", "--authority-host", "login.example.net"]),
        endpoint("login.example.net"),
        "--authority-host overrides --cloud"
    );

    // The token request follows the cloud's Graph: its scope is that cloud's /.default.
    let server = ScriptedServer::start([good_token("gov.token.value")]);
    run(graphd_via(&server.origin()).args(["token", "--cloud", "usgov"])).expect_code(0);
    assert_eq!(
        server.requests()[0].field("scope").as_deref(),
        Some("https://graph.microsoft.us/.default")
    );
}

#[test]
fn plain_http_is_refused_for_a_remote_authority() {
    let emu = start(0);
    for host in [
        "http://login.microsoftonline.com",
        "http://127.0.0.1.example.com",
        "http://10.0.0.1:8080",
    ] {
        let flag = run(crate::support::emulator::graphd_at(&emu).args([
            "token",
            "--authority-host",
            host,
        ]))
        .expect_code(2);
        let (error, _) = flag.error_and_hint();
        assert!(error.contains("plain http"), "{error}");
        let env = run(graphd_via(host).arg("token")).expect_code(2);
        assert!(env.error_and_hint().0.contains("plain http"));
    }
    assert_eq!(emu.counters().token.requests, 0);
}
