//! The Graph side: paging, query options, single users and bearer checks (docs/protocol.md#paging).

use std::collections::HashSet;

use serde_json::json;

use super::*;

fn users_emulator(users: u64) -> TestEmulator {
    start_with(EmulatorConfig {
        users,
        ..Default::default()
    })
}

/// Follows `@odata.nextLink` from `first` to the end; returns every user and the page count.
async fn all_pages(
    emu: &Emulator,
    first: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (Vec<Value>, usize) {
    let mut users = Vec::new();
    let mut url = format!("{}{first}", graphd::cloud::base_str(&emu.graph_endpoint()));
    let mut pages = 0;
    loop {
        let mut req = client().get(&url).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let a = send(req).await;
        assert_eq!(a.status, 200, "{url}: {}", String::from_utf8_lossy(&a.body));
        let page = a.json();
        pages += 1;
        users.extend(page["value"].as_array().expect("value").iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(graphd::cloud::base_str(&emu.graph_endpoint()).as_str()),
                    "{next}"
                );
                url = next.to_string();
            }
            None => return (users, pages),
        }
    }
}

fn ids(users: &[Value]) -> HashSet<String> {
    users
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn paging_totals_have_no_duplicates_and_no_gaps() {
    for (n, top, expected_pages) in [
        (0u64, 999u64, 1usize),
        (1, 999, 1),
        (999, 999, 1),
        (1000, 999, 2),
        (1000, 100, 10),
        (25_000, 999, 26),
    ] {
        let emu = users_emulator(n);
        let t = token(&emu).await;
        let (users, pages) = all_pages(&emu, &format!("/v1.0/users?$top={top}"), &t, &[]).await;
        assert_eq!(users.len() as u64, n, "{n} users, $top={top}");
        assert_eq!(ids(&users).len() as u64, n, "{n} users: duplicates");
        assert_eq!(pages, expected_pages, "{n} users, $top={top}");
    }
}

#[tokio::test]
async fn default_page_is_100_with_the_default_properties() {
    let emu = users_emulator(250);
    let t = token(&emu).await;
    let a = graph_get(&emu, "/v1.0/users", &t).await;
    let page = a.json();
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    assert_eq!(
        page["@odata.context"],
        format!(
            "{}/v1.0/$metadata#users",
            graphd::cloud::base_str(&emu.graph_endpoint())
        )
    );
    let first = page["value"][0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    let mut expected = vec![
        "businessPhones",
        "displayName",
        "givenName",
        "id",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
    ];
    let mut sorted = keys.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(
        a.header("request-id").is_some()
            && a.header("client-request-id").is_some()
            && a.header("date").is_some()
    );
    // The nextLink keeps the original options and adds an opaque $skiptoken.
    let b = graph_get(&emu, "/v1.0/users?$top=7&$select=id,displayName", &t)
        .await
        .json();
    let next = b["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains("$top=7")
            && next.contains("$select=id,displayName")
            && next.contains("$skiptoken="),
        "{next}"
    );
}

#[tokio::test]
async fn same_index_same_user_across_emulators() {
    let a = users_emulator(50);
    let b = users_emulator(5000);
    let (ta, tb) = (token(&a).await, token(&b).await);
    let pa = graph_get(&a, "/v1.0/users?$top=50", &ta).await.json();
    let pb = graph_get(&b, "/v1.0/users?$top=50", &tb).await.json();
    assert_eq!(pa["value"], pb["value"]);
}

#[tokio::test]
async fn select_returns_only_those_properties() {
    let emu = users_emulator(30);
    let t = token(&emu).await;
    let page = graph_get(
        &emu,
        "/v1.0/users?$select=displayName,accountEnabled,ID",
        &t,
    )
    .await
    .json();
    for u in page["value"].as_array().unwrap() {
        let keys: HashSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, HashSet::from(["displayName", "accountEnabled", "id"]));
        assert!(u["accountEnabled"].is_boolean());
    }
    assert!(
        page["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#users(displayName,accountEnabled,id)")
    );
    let bad = graph_get(&emu, "/v1.0/users?$select=displayName,shoeSize", &t).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "Request_BadRequest");
    let single_only = graph_get(&emu, "/v1.0/users?$select=aboutMe", &t).await;
    assert_eq!(single_only.status, 501);
}

#[tokio::test]
async fn filter_matches_what_the_client_would_compute() {
    let emu = users_emulator(3000);
    let t = token(&emu).await;
    let (everyone, _) = all_pages(
        &emu,
        "/v1.0/users?$top=999&$select=id,displayName,userPrincipalName,accountEnabled",
        &t,
        &[],
    )
    .await;
    let expect_a: HashSet<String> = everyone
        .iter()
        .filter(|u| {
            u["displayName"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .starts_with("ad")
        })
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!expect_a.is_empty());
    let (got, _) = all_pages(
        &emu,
        "/v1.0/users?$filter=startswith(displayName,'aD')&$top=999",
        &t,
        &[],
    )
    .await;
    assert_eq!(ids(&got), expect_a);
    let disabled: HashSet<String> = everyone
        .iter()
        .filter(|u| u["accountEnabled"] == json!(false))
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let (got, _) = all_pages(
        &emu,
        "/v1.0/users?$filter=accountEnabled%20eq%20false",
        &t,
        &[],
    )
    .await;
    assert_eq!(ids(&got), disabled);
    let someone = &everyone[1234];
    let upn = someone["userPrincipalName"].as_str().unwrap();
    let (got, _) = all_pages(
        &emu,
        &format!(
            "/v1.0/users?$filter=userPrincipalName eq '{}'",
            upn.to_uppercase()
        ),
        &t,
        &[],
    )
    .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["id"], someone["id"]);
    let ne = graph_get(&emu, "/v1.0/users?$filter=displayName ne 'x'", &t).await;
    assert_eq!(ne.status, 400);
    assert_eq!(ne.json()["error"]["code"], "Request_UnsupportedQuery");
    let junk = graph_get(&emu, "/v1.0/users?$filter=displayName gt 'x'", &t).await;
    assert_eq!(junk.json()["error"]["code"], "Request_UnsupportedQuery");
}

#[tokio::test]
async fn count_needs_consistency_level() {
    let emu = users_emulator(1234);
    let t = token(&emu).await;
    let eventual = [("ConsistencyLevel", "eventual")];
    let first = send(
        client()
            .get(format!(
                "{}/v1.0/users?$count=true&$top=999",
                graphd::cloud::base_str(&emu.graph_endpoint())
            ))
            .bearer_auth(&t)
            .header("ConsistencyLevel", "eventual"),
    )
    .await
    .json();
    assert_eq!(first["@odata.count"], 1234);
    let second = send(
        client()
            .get(first["@odata.nextLink"].as_str().unwrap())
            .bearer_auth(&t)
            .header("ConsistencyLevel", "eventual"),
    )
    .await
    .json();
    assert!(
        second.get("@odata.count").is_none(),
        "count on the first page only"
    );
    let silent = graph_get(&emu, "/v1.0/users?$count=true", &t).await;
    assert_eq!(silent.status, 200);
    assert!(silent.json().get("@odata.count").is_none());
    let base = graphd::cloud::base_str(&emu.graph_endpoint());
    let text = send(
        client()
            .get(format!("{base}/v1.0/users/$count"))
            .bearer_auth(&t)
            .header(eventual[0].0, eventual[0].1),
    )
    .await;
    assert_eq!(text.status, 200);
    assert!(
        text.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(String::from_utf8(text.body).unwrap(), "1234");
    let refused = graph_get(&emu, "/v1.0/users/$count", &t).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["code"], "Request_BadRequest");
    let log = emu.requests();
    assert!(
        log.iter()
            .any(|r| r.consistency_level.as_deref() == Some("eventual"))
    );
}

#[tokio::test]
async fn top_bounds() {
    let emu = users_emulator(2000);
    let t = token(&emu).await;
    for (top, len) in [(1, 1), (999, 999)] {
        let page = graph_get(&emu, &format!("/v1.0/users?$top={top}"), &t)
            .await
            .json();
        assert_eq!(page["value"].as_array().unwrap().len(), len);
    }
    for top in ["0", "1000", "-1", "many"] {
        let a = graph_get(&emu, &format!("/v1.0/users?$top={top}"), &t).await;
        assert_eq!(a.status, 400, "$top={top}");
    }
    let a = graph_get(&emu, "/v1.0/users?$top=1000", &t).await;
    assert_eq!(
        a.json()["error"]["message"],
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    );
}
