//! Every token-request rule (method, tenant, form, credential, scope), each broken alone: the AADSTS code, `error` and HTTP status
//! must be Entra's (docs/protocol.md#token-errors, #aadsts-codes).

use serde_json::json;

use super::*;

fn with(form: &[(String, String)], name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = form.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(v) = value {
        f.push((name.to_string(), v.to_string()));
    }
    f
}

#[tokio::test]
async fn request_shape_rules() {
    let emu = start();
    let good = form(&Jwt::valid(&emu).sign());
    let get = send(client().get(emu.token_endpoint())).await;
    assert_refused(&get, 400, 900_561, "invalid_request", "GET");
    let json_body = send(
        client()
            .post(emu.token_endpoint())
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await;
    assert_refused(&json_body, 400, 900_144, "invalid_request", "JSON body");
    for p in ["grant_type", "client_id", "scope"] {
        let a = post_form(&emu, &with(&good, p, None)).await;
        assert_refused(&a, 400, 900_144, "invalid_request", p);
        assert!(
            a.json()["error_description"]
                .as_str()
                .unwrap()
                .contains(&format!("'{p}'"))
        );
    }
    let a = post_form(&emu, &with(&good, "grant_type", Some("password"))).await;
    assert_refused(
        &a,
        400,
        70_003,
        "unsupported_grant_type",
        "grant_type=password",
    );
    let mut twice = good.clone();
    twice.push(("scope".into(), GRAPH_SCOPE.into()));
    assert_refused(
        &post_form(&emu, &twice).await,
        400,
        9_000_411,
        "invalid_request",
        "duplicated scope",
    );
    let unknown_app = with(
        &good,
        "client_id",
        Some("99999999-9999-9999-9999-999999999999"),
    );
    assert_refused(
        &post_form(&emu, &unknown_app).await,
        400,
        700_016,
        "unauthorized_client",
        "unknown client_id",
    );
}

#[tokio::test]
async fn tenant_rules() {
    let emu = start();
    let base = graphd::cloud::base_str(&emu.authority_host());
    for (tenant, code) in [
        ("99999999-8888-7777-6666-555555555555", 90_002),
        ("fabrikam.onmicrosoft.com", 90_002),
        ("common", 9_001_023),
        ("organizations", 9_001_023),
        ("consumers", 9_001_023),
        ("not_a_tenant!", 900_023),
    ] {
        let url = format!("{base}/{tenant}/oauth2/v2.0/token");
        let mut j = Jwt::valid(&emu);
        j.claims["aud"] = json!(url);
        let a = post_form_to(&url, &form(&j.sign())).await;
        assert_refused(&a, 400, code, "invalid_request", tenant);
    }
}

#[tokio::test]
async fn credential_rules() {
    let emu = start();
    let good = form(&Jwt::valid(&emu).sign());
    let secret = with(&good, "client_secret", Some("s3cr3t"));
    assert_refused(
        &post_form(&emu, &secret).await,
        401,
        7_000_215,
        "invalid_client",
        "client_secret",
    );
    let none = with(&good, "client_assertion", None);
    assert_refused(
        &post_form(&emu, &none).await,
        401,
        7_000_218,
        "invalid_client",
        "no assertion",
    );
    let wrong_type = with(
        &good,
        "client_assertion_type",
        Some("urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
    );
    assert_refused(
        &post_form(&emu, &wrong_type).await,
        401,
        50_012,
        "invalid_client",
        "assertion type",
    );
    let no_type = with(&good, "client_assertion_type", None);
    assert_refused(
        &post_form(&emu, &no_type).await,
        400,
        900_144,
        "invalid_request",
        "no assertion type",
    );
}

#[tokio::test]
async fn scope_rules() {
    let emu = start();
    let good = form(&Jwt::valid(&emu).sign());
    for (scope, code, error) in [
        (
            "https://graph.microsoft.com/User.Read.All",
            1_002_012,
            "invalid_scope",
        ),
        ("User.Read", 1_002_012, "invalid_scope"),
        (
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
            700_022,
            "invalid_scope",
        ),
        ("/.default", 70_011, "invalid_scope"),
        ("openid", 70_011, "invalid_scope"),
        (
            "https://vault.azure.net/.default",
            500_011,
            "invalid_resource",
        ),
    ] {
        let a = post_form(&emu, &with(&good, "scope", Some(scope))).await;
        assert_refused(&a, 400, code, error, scope);
    }
}

#[tokio::test]
async fn error_body_is_entras_shape() {
    let emu = start();
    let r = client()
        .post(emu.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("client-request-id", "3f2a4c1e-0000-4000-8000-00000000abcd")
        .body(encode(&with(
            &form("x.y.z"),
            "client_id",
            Some("99999999-9999-9999-9999-999999999999"),
        )));
    let a = send(r).await;
    let v = a.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    ] {
        assert!(keys.contains(&k), "{k} missing: {v}");
    }
    assert_eq!(v["correlation_id"], "3f2a4c1e-0000-4000-8000-00000000abcd");
    let ts = v["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2024-01-01 00:00:00Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b' ', "{ts}");
    let d = v["error_description"].as_str().unwrap();
    let trace = v["trace_id"].as_str().unwrap();
    assert!(d.ends_with(&format!("\r\nTrace ID: {trace}\r\nCorrelation ID: 3f2a4c1e-0000-4000-8000-00000000abcd\r\nTimestamp: {ts}")), "{d}");
    assert!(a.header("date").is_some());
    // graphd's own Entra error parser reads it.
    let e: graphd::error::EntraError = serde_json::from_value(v).unwrap();
    assert_eq!(e.code(), Some(700_016));
}
