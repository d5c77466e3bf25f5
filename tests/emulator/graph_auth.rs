//! The Graph side: single users, bearer checks, permissions, origins (docs/protocol.md#graph-errors).

use super::*;

fn users_emulator(users: u64) -> TestEmulator {
    start_with(EmulatorConfig {
        users,
        ..Default::default()
    })
}

#[tokio::test]
async fn single_user_by_id_or_upn() {
    let emu = users_emulator(500);
    let t = token(&emu).await;
    let listed = graph_get(&emu, "/v1.0/users?$top=999", &t).await.json()["value"][321].clone();
    let id = listed["id"].as_str().unwrap();
    let by_id = graph_get(&emu, &format!("/v1.0/users/{id}"), &t)
        .await
        .json();
    assert_eq!(by_id["id"], listed["id"]);
    assert_eq!(by_id["displayName"], listed["displayName"]);
    assert!(
        by_id["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#users/$entity")
    );
    let upn = listed["userPrincipalName"].as_str().unwrap();
    let by_upn = graph_get(&emu, &format!("/v1.0/users/{upn}?$select=id"), &t)
        .await
        .json();
    assert_eq!(by_upn["id"], listed["id"]);
    // A percent-encoded key is decoded (RFC 3986 §2.1); a `+` in a path stays a plus sign.
    let encoded = upn.replace('@', "%40").replacen('.', "%2E", 1);
    let by_encoded = graph_get(&emu, &format!("/v1.0/users/{encoded}?$select=id"), &t).await;
    assert_eq!(by_encoded.json()["id"], listed["id"], "{encoded}");
    let plus = graph_get(&emu, "/v1.0/users/a+b%20c@example.com", &t).await;
    assert_eq!(plus.status, 404);
    let message = plus.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("Resource 'a+b c@example.com' does not exist"),
        "{message}"
    );
    for missing in [
        "00000000-0000-4000-8000-000000000000",
        "nobody@example.com",
        "not-an-id",
    ] {
        let a = graph_get(&emu, &format!("/v1.0/users/{missing}"), &t).await;
        assert_eq!(a.status, 404, "{missing}");
        let e = a.json();
        assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
        for k in ["date", "request-id", "client-request-id"] {
            assert!(e["error"]["innerError"][k].is_string(), "{k}");
        }
    }
    let other = graph_get(&emu, "/v1.0/groups", &t).await;
    assert_eq!(other.status, 400);
    assert_eq!(other.json()["error"]["code"], "BadRequest");
}

#[tokio::test]
async fn bearer_failures() {
    let emu = users_emulator(10);
    let base = graphd::cloud::base_str(&emu.graph_endpoint());
    let missing = send(client().get(format!("{base}/v1.0/users"))).await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json()["error"]["code"],
        "InvalidAuthenticationToken"
    );
    let challenge = missing.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains("client_id=\"00000003-0000-0000-c000-000000000000\""),
        "{challenge}"
    );

    let t = token(&emu).await;
    let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
    let other = other_key();
    let sig = graphd::jws::sign(
        graphd::jws::Alg::RS256,
        &other,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
    )
    .unwrap();
    parts[2] = URL_SAFE_NO_PAD.encode(sig);
    let forged = graph_get(&emu, "/v1.0/users", &parts.join(".")).await;
    assert_eq!(forged.status, 401);
    assert!(
        forged.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Access token validation failure")
    );

    let garbage = graph_get(&emu, "/v1.0/users", "not-a-jwt").await;
    assert_eq!(garbage.status, 401);

    assert_eq!(graph_get(&emu, "/v1.0/users", &t).await.status, 200);
    emu.expire_issued_tokens();
    let expired = graph_get(&emu, "/v1.0/users", &t).await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.json()["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    let fresh = token(&emu).await;
    assert_eq!(graph_get(&emu, "/v1.0/users", &fresh).await.status, 200);
    let log = emu.requests();
    assert!(log.iter().any(|r| r.authorization) && log.iter().any(|r| !r.authorization));
}

#[tokio::test]
async fn no_roles_means_403() {
    let emu = start_with(EmulatorConfig {
        apps: vec![app(&[])],
        ..Default::default()
    });
    let t = token(&emu).await;
    let a = graph_get(&emu, "/v1.0/users", &t).await;
    assert_eq!(a.status, 403);
    let e = a.json();
    assert_eq!(e["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        e["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    for role in graphd::emulator::READ_USERS_ROLES {
        emu.register_app(app(&[role]));
        let t = token(&emu).await;
        assert_eq!(
            graph_get(&emu, "/v1.0/users", &t).await.status,
            200,
            "{role}"
        );
    }
}

#[tokio::test]
async fn token_for_the_graph_origin_is_not_served_by_the_token_origin() {
    let emu = users_emulator(10);
    let t = token(&emu).await;
    let wrong = send(
        client()
            .get(format!(
                "{}/v1.0/users",
                graphd::cloud::base_str(&emu.authority_host())
            ))
            .bearer_auth(&t),
    )
    .await;
    assert_eq!(wrong.status, 404);
    assert_ne!(emu.authority_host().port(), emu.graph_endpoint().port());
}
