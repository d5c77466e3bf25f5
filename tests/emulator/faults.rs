//! Every fault mode, on the side it applies to, and the counters that let client tests prove
//! they honour `Retry-After` without sleeping.

use std::time::{Duration, SystemTime};

use graphd::emulator::{FaultAction, FaultRule, RetryAfter, Side};

use super::*;

fn users_url(emu: &Emulator) -> String {
    format!(
        "{}/v1.0/users",
        graphd::cloud::base_str(&emu.graph_endpoint())
    )
}

#[tokio::test]
async fn throttling_with_each_retry_after_form() {
    let emu = start();
    let t = token(&emu).await;
    let cases = [
        (Some(RetryAfter::Seconds(7)), Some("7".to_string())),
        (
            Some(RetryAfter::Fractional(2.128)),
            Some("2.128".to_string()),
        ),
        (Some(RetryAfter::HttpDate(30)), None),
        (None, None),
    ];
    for (ra, expected) in cases {
        emu.set_faults(vec![FaultRule::graph(FaultAction::Status {
            status: 429,
            retry_after: ra,
        })]);
        let a = graph_get(&emu, "/v1.0/users", &t).await;
        assert_eq!(a.status, 429, "{ra:?}");
        assert_eq!(a.json()["error"]["code"], "TooManyRequests");
        let header = a.header("retry-after");
        match (ra, expected) {
            (Some(RetryAfter::HttpDate(s)), _) => {
                let date =
                    httpdate::parse_http_date(&header.expect("Retry-After")).expect("an HTTP-date");
                let ahead = date.duration_since(SystemTime::now()).unwrap_or_default();
                assert!(
                    ahead > Duration::from_secs(s - 2) && ahead <= Duration::from_secs(s + 1),
                    "{ahead:?}"
                );
            }
            (_, e) => assert_eq!(header, e, "{ra:?}"),
        }
    }
    assert_eq!(emu.counters().graph.faults, 4);
}

#[tokio::test]
async fn early_retries_are_counted() {
    let emu = start();
    let t = token(&emu).await;
    emu.set_faults(vec![FaultRule::graph(FaultAction::Status {
        status: 503,
        retry_after: Some(RetryAfter::Seconds(60)),
    })]);
    assert_eq!(graph_get(&emu, "/v1.0/users", &t).await.status, 503);
    // A client that retries at once, ignoring the 60 s it was asked to wait:
    assert_eq!(graph_get(&emu, "/v1.0/users", &t).await.status, 200);
    let c = emu.counters();
    assert_eq!(c.graph.early, 1);
    assert_eq!(c.token.early, 0);
    assert!(emu.requests().iter().any(|r| r.early && r.status == 200));

    // Retry-After: 0 allows an immediate retry: not early.
    let emu = start();
    let t = token(&emu).await;
    emu.set_faults(vec![FaultRule::graph(FaultAction::Status {
        status: 429,
        retry_after: Some(RetryAfter::Seconds(0)),
    })]);
    assert_eq!(graph_get(&emu, "/v1.0/users", &t).await.status, 429);
    assert_eq!(graph_get(&emu, "/v1.0/users", &t).await.status, 200);
    assert_eq!(emu.counters().graph.early, 0);
}

#[tokio::test]
async fn server_errors_on_both_sides() {
    let emu = start();
    let t = token(&emu).await;
    for status in [500, 502, 503, 504] {
        emu.set_faults(vec![
            FaultRule::graph(FaultAction::Status {
                status,
                retry_after: None,
            }),
            FaultRule::token(FaultAction::Status {
                status,
                retry_after: Some(RetryAfter::Seconds(1)),
            }),
        ]);
        let g = graph_get(&emu, "/v1.0/users", &t).await;
        assert_eq!(g.status, status);
        assert!(g.json()["error"]["code"].is_string());
        let s = post_assertion(&emu, &Jwt::valid(&emu).sign()).await;
        assert_eq!(s.status, status);
        assert_eq!(s.header("retry-after").as_deref(), Some("1"));
        assert!(s.json()["error_codes"][0].is_u64());
    }
}

#[tokio::test]
async fn schedules_pick_the_requests() {
    let emu = start();
    let t = token(&emu).await;
    emu.set_faults(vec![
        FaultRule::graph(FaultAction::Status {
            status: 429,
            retry_after: None,
        })
        .skip(1)
        .times(2),
    ]);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(graph_get(&emu, "/v1.0/users?$top=1", &t).await.status);
    }
    assert_eq!(statuses, [200, 429, 429, 200, 200]);
    emu.set_faults(vec![
        FaultRule::graph(FaultAction::Status {
            status: 503,
            retry_after: None,
        })
        .every(2)
        .always(),
    ]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(graph_get(&emu, "/v1.0/users?$top=1", &t).await.status);
    }
    assert_eq!(statuses, [503, 200, 503, 200]);
}

#[tokio::test]
async fn token_faults_leave_discovery_alone() {
    let emu = start();
    emu.set_faults(vec![FaultRule::token(FaultAction::Entra(50_196))]);
    let base = graphd::cloud::base_str(&emu.authority_host());
    let cfg = send(client().get(format!(
        "{base}/{}/v2.0/.well-known/openid-configuration",
        crate::support::TENANT
    )))
    .await;
    assert_eq!(cfg.status, 200);
    let a = post_assertion(&emu, &Jwt::valid(&emu).sign()).await;
    assert_eq!(a.aadsts(), 50_196);
    assert_eq!(
        post_assertion(&emu, &Jwt::valid(&emu).sign()).await.status,
        200
    );
}

#[tokio::test]
async fn entra_codes_a_client_cannot_cause() {
    let emu = start();
    for (code, status, error) in [
        (7_000_215, 401, "invalid_client"),
        (50_032, 401, "invalid_client"),
        (7_000_222, 401, "invalid_client"),
        (700_023, 401, "invalid_client"),
        (700_016, 400, "unauthorized_client"),
    ] {
        emu.set_faults(vec![FaultRule::token(FaultAction::Entra(code))]);
        let a = post_assertion(&emu, &Jwt::valid(&emu).sign()).await;
        assert_refused(&a, status, code as u64, error, &format!("injected {code}"));
    }
}

#[tokio::test]
async fn bodies_that_are_not_what_they_should_be() {
    let emu = start();
    let t = token(&emu).await;
    let assertion = Jwt::valid(&emu).sign();
    for side in [Side::Token, Side::Graph] {
        let get = |emu: &Emulator| {
            let emu_token = emu.token_endpoint();
            let users = users_url(emu);
            let t = t.clone();
            let body = encode(&form(&assertion));
            async move {
                match side {
                    Side::Token => {
                        send(
                            client()
                                .post(emu_token)
                                .header("content-type", "application/x-www-form-urlencoded")
                                .body(body),
                        )
                        .await
                    }
                    Side::Graph => send(client().get(users).bearer_auth(t)).await,
                }
            }
        };
        let rule = |a| FaultRule {
            side,
            schedule: Default::default(),
            action: a,
        };
        emu.set_faults(vec![rule(FaultAction::TruncatedJson)]);
        let a = get(&emu).await;
        assert_eq!(a.status, 200);
        assert!(
            a.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert!(
            serde_json::from_slice::<Value>(&a.body).is_err(),
            "{side:?} truncated"
        );
        emu.set_faults(vec![rule(FaultAction::NotJson(200))]);
        let a = get(&emu).await;
        assert_eq!(a.status, 200);
        assert!(serde_json::from_slice::<Value>(&a.body).is_err());
        emu.set_faults(vec![rule(FaultAction::Html(502))]);
        let a = get(&emu).await;
        assert_eq!(a.status, 502);
        assert!(a.header("content-type").unwrap().starts_with("text/html"));
        emu.set_faults(vec![rule(FaultAction::HugeBody(10 * 1024 * 1024))]);
        let a = get(&emu).await;
        assert_eq!(a.body.len(), 10 * 1024 * 1024);
        assert!(a.json().is_object(), "{side:?} huge body is valid JSON");
    }
}

#[tokio::test]
async fn foreign_next_link() {
    let emu = start();
    let t = token(&emu).await;
    let evil = "https://graph.evil.example/v1.0/users?$skiptoken=steal";
    emu.set_faults(vec![FaultRule::graph(FaultAction::NextLink(
        evil.to_string(),
    ))]);
    let page = graph_get(&emu, "/v1.0/users?$top=5", &t).await.json();
    assert_eq!(page["@odata.nextLink"], evil);
    assert_eq!(page["value"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn slow_then_normal() {
    let emu = start();
    let t = token(&emu).await;
    emu.set_faults(vec![FaultRule::graph(FaultAction::Delay(
        Duration::from_secs(30),
    ))]);
    // A client whose timeout is shorter than the delay gives up; the delay is certain.
    graphd::http::install_crypto_provider();
    let quick = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let r = quick.get(users_url(&emu)).bearer_auth(&t).send().await;
    assert!(r.is_err_and(|e| e.is_timeout()));
    emu.set_faults(vec![FaultRule::graph(FaultAction::Delay(
        Duration::from_millis(10),
    ))]);
    assert_eq!(graph_get(&emu, "/v1.0/users", &t).await.status, 200);
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.status == 200 && r.fault.as_deref().is_some_and(|f| f.starts_with("Delay")))
    );
}

#[tokio::test]
async fn hang_never_answers_until_shutdown() {
    let emu = start();
    let t = token(&emu).await;
    emu.set_faults(vec![FaultRule::graph(FaultAction::Hang)]);
    let url = users_url(&emu);
    let mut pending = Box::pin(client().get(url).bearer_auth(t).send());
    // Drive the request until the emulator has logged it, then check it got no answer.
    loop {
        tokio::select! {
            biased;
            r = &mut pending => panic!("a hung request was answered: {r:?}"),
            _ = tokio::task::yield_now() => {}
        }
        if emu
            .requests()
            .iter()
            .any(|r| r.fault.as_deref() == Some("Hang"))
        {
            break;
        }
    }
    tokio::select! {
        biased;
        r = &mut pending => panic!("a hung request was answered: {r:?}"),
        _ = std::future::ready(()) => {}
    }
    let record = emu
        .requests()
        .into_iter()
        .find(|r| r.fault.as_deref() == Some("Hang"))
        .unwrap();
    assert_eq!(record.status, 0);
    emu.shutdown();
    assert!(
        pending.await.is_err(),
        "shutdown closes the hung connection"
    );
}

#[tokio::test]
async fn drop_closes_the_connection() {
    let emu = start();
    emu.set_faults(vec![FaultRule::token(FaultAction::Drop)]);
    let r = client()
        .post(emu.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&form(&Jwt::valid(&emu).sign())))
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(emu.counters().token.faults, 1);
    assert_eq!(
        post_assertion(&emu, &Jwt::valid(&emu).sign()).await.status,
        200
    );
}

#[tokio::test]
async fn command_line_specs_become_the_same_rules() {
    let r: FaultRule = "graph:429,retry-after=date:3,count=2,skip=1"
        .parse()
        .unwrap();
    assert_eq!(
        r,
        FaultRule::graph(FaultAction::Status {
            status: 429,
            retry_after: Some(RetryAfter::HttpDate(3))
        })
        .times(2)
        .skip(1)
    );
    let emu = start_with(EmulatorConfig {
        faults: vec!["token:aadsts=7000222".parse().unwrap()],
        ..Default::default()
    });
    assert_eq!(
        post_assertion(&emu, &Jwt::valid(&emu).sign())
            .await
            .aadsts(),
        7_000_222
    );
}
