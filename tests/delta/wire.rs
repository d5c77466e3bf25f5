//! The emulator's `/v1.0/users/delta` on the wire, checked against the shapes Microsoft
//! documents (user-delta.md, delta-query-overview.md, delta-query-users.md), and its changing
//! tenant: the admin endpoint and what plain listings see after changes.

use graphd::emulator::{EmulatorConfig, FaultAction, FaultRule};

use super::*;
use crate::emulator::{Answer, client, graph_get, send, token};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn base(emu: &Emulator) -> String {
    graphd::cloud::base_str(&emu.graph_endpoint())
}

/// GET `url` (absolute) with a bearer and extra headers.
async fn get(url: &str, token: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = client().get(url).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// One round from `first` (absolute): every page's JSON, checked for the link rules.
async fn round(emu: &Emulator, first: &str, token: &str, headers: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut url = first.to_string();
    loop {
        let a = get(&url, token, headers).await;
        assert_eq!(a.status, 200, "{url}: {}", String::from_utf8_lossy(&a.body));
        let page = a.json();
        let next = page["@odata.nextLink"].as_str().map(str::to_string);
        let delta = page["@odata.deltaLink"].as_str().map(str::to_string);
        pages.push(page);
        match (next, delta) {
            (Some(n), None) => {
                let prefix = format!("{}/v1.0/users/delta?$skiptoken=", base(emu));
                assert!(n.starts_with(&prefix), "{n}");
                assert!(!n[prefix.len()..].contains('&'), "only the token: {n}");
                url = n;
            }
            (None, Some(d)) => {
                let prefix = format!("{}/v1.0/users/delta?$deltatoken=", base(emu));
                assert!(d.starts_with(&prefix), "{d}");
                assert!(!d[prefix.len()..].contains('&'), "only the token: {d}");
                return pages;
            }
            other => panic!("a page needs exactly one of nextLink and deltaLink: {other:?}"),
        }
    }
}

fn items(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p["value"].as_array().unwrap().iter().cloned())
        .collect()
}

fn delta_link(pages: &[Value]) -> String {
    pages.last().unwrap()["@odata.deltaLink"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_first_round_pages_through_every_user_and_ends_with_a_delta_link() {
    let emu = start(1050);
    let listed = listed_ids(&emu);
    rt().block_on(async {
        let t = token(&emu).await;
        let pages = round(&emu, &format!("{}/v1.0/users/delta", base(&emu)), &t, &[]).await;
        // No Prefer: pages of 200, the most users/delta serves.
        let sizes: Vec<usize> = pages
            .iter()
            .map(|p| p["value"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [200, 200, 200, 200, 200, 50]);
        let all = items(&pages);
        assert_eq!(id_set(&all), listed);
        assert_eq!(all.len(), 1050, "no user twice");
        // The default property set, as on /users.
        assert_eq!(all[0].as_object().unwrap().len(), 11, "{}", all[0]);
        assert_eq!(
            pages[0]["@odata.context"],
            format!("{}/v1.0/$metadata#users", base(&emu))
        );

        // Prefer: odata.maxpagesize sets smaller pages; $top is ignored, as Graph does.
        let prefer = [("Prefer", "odata.maxpagesize=400")];
        let url = format!("{}/v1.0/users/delta?$select=displayName&$top=5", base(&emu));
        let pages = round(&emu, &url, &t, &prefer).await;
        assert_eq!(pages.len(), 6, "400 is capped at 200");
        let small = [("Prefer", "odata.maxpagesize=500, return=minimal")];
        let page = get(&url, &t, &[("Prefer", "odata.maxpagesize=30")])
            .await
            .json();
        assert_eq!(page["value"].as_array().unwrap().len(), 30);
        assert_eq!(round(&emu, &url, &t, &small).await.len(), 6);
        // $select: those properties, and always the id; the first context names them.
        let first = &page["value"][0];
        let keys: BTreeSet<&String> = first.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [&"displayName".to_string(), &"id".to_string()].into(),
            "{first}"
        );
        assert_eq!(
            page["@odata.context"],
            format!("{}/v1.0/$metadata#users(displayName)", base(&emu))
        );
        // The qualified function name works the same.
        let q = get(
            &format!("{}/v1.0/users/microsoft.graph.delta", base(&emu)),
            &t,
            &[],
        )
        .await;
        assert_eq!(q.status, 200);
    });
}

#[test]
fn refusals_use_graphs_error_shape() {
    let emu = start(10);
    rt().block_on(async {
        let t = token(&emu).await;
        for (query, status, code) in [
            (
                "$filter=displayName eq 'x'",
                400,
                "Request_UnsupportedQuery",
            ),
            (
                "$filter=startswith(id,'a')",
                400,
                "Request_UnsupportedQuery",
            ),
            ("$orderby=displayName", 400, "Request_UnsupportedQuery"),
            ("$expand=manager", 400, "Request_UnsupportedQuery"),
            ("$count=true", 400, "Request_UnsupportedQuery"),
            ("$select=nope", 400, "Request_BadRequest"),
            ("$select=aboutMe", 501, "NotImplemented"),
            ("$skiptoken=garbage", 400, "Request_BadRequest"),
            ("$deltatoken=garbage", 400, "Request_BadRequest"),
        ] {
            let a = graph_get(&emu, &format!("/v1.0/users/delta?{query}"), &t).await;
            assert_eq!(
                a.status,
                status,
                "{query}: {}",
                String::from_utf8_lossy(&a.body)
            );
            let e = a.json();
            assert_eq!(e["error"]["code"], code, "{query}");
            assert!(
                e["error"]["innerError"]["request-id"].is_string(),
                "{query}"
            );
        }
        // A nextLink is requested as given: the options are inside the token.
        let page = graph_get(&emu, "/v1.0/users/delta?$select=id", &t)
            .await
            .json();
        let link = delta_link_or_next(&page);
        let a = get(&format!("{link}&$select=mail"), &t, &[]).await;
        assert_eq!(a.status, 400);
        // Without a token: Graph's 401.
        let a = send(client().get(format!("{}/v1.0/users/delta", base(&emu)))).await;
        assert_eq!(a.status, 401);
    });
}

fn delta_link_or_next(page: &Value) -> String {
    page["@odata.deltaLink"]
        .as_str()
        .or(page["@odata.nextLink"].as_str())
        .unwrap()
        .to_string()
}

#[test]
fn a_later_round_reports_exactly_the_changes() {
    let emu = start(500);
    rt().block_on(async {
        let t = token(&emu).await;
        let start_url = format!(
            "{}/v1.0/users/delta?$select=displayName,jobTitle",
            base(&emu)
        );
        let first = round(&emu, &start_url, &t, &[]).await;
        let plain = round(&emu, &format!("{}/v1.0/users/delta", base(&emu)), &t, &[]).await;
        // Nothing changed: one empty page with a new deltaLink.
        let unchanged = round(&emu, &delta_link(&first), &t, &[]).await;
        assert_eq!(unchanged.len(), 1);
        assert!(items(&unchanged).is_empty());

        let created = emu.create_users(2).unwrap();
        let (renamed, moved, soft, gone) = (
            emu.user_id(1),
            emu.user_id(2),
            emu.user_id(3),
            emu.user_id(4),
        );
        emu.update_user(&renamed, &["displayName"]).unwrap();
        // officeLocation is not selected: not tracked by the first round's query.
        emu.update_user(&moved, &["officeLocation"]).unwrap();
        emu.delete_user(&soft).unwrap();
        emu.delete_user_permanently(&gone).unwrap();
        // Created and deleted within the round: the client never saw it.
        let brief = emu.create_users(1).unwrap().remove(0);
        emu.delete_user(&brief).unwrap();

        let later = items(&round(&emu, &delta_link(&first), &t, &[]).await);
        let mut expected: BTreeSet<String> = created.iter().cloned().collect();
        expected.insert(renamed.clone());
        assert_eq!(id_set(&present(&later)), expected);
        let gone_set: BTreeSet<(String, String)> = [
            (soft.clone(), "changed".into()),
            (gone.clone(), "deleted".into()),
        ]
        .into();
        assert_eq!(removals(&later), gone_set);
        for item in &later {
            if item.get("@removed").is_some() {
                assert_eq!(
                    item.as_object().unwrap().len(),
                    2,
                    "id and @removed only: {item}"
                );
            }
        }
        let new_name = later.iter().find(|u| u["id"] == renamed).unwrap();
        assert!(
            new_name["displayName"].as_str().unwrap().contains(". "),
            "{new_name}"
        );
        assert!(
            new_name.get("jobTitle").is_some(),
            "default: every selected property"
        );

        // Without $select every property is tracked: the move shows too.
        let all = items(&round(&emu, &delta_link(&plain), &t, &[]).await);
        assert!(id_set(&all).contains(&moved));

        // return=minimal: only what changed, and the id.
        let minimal = [("Prefer", "return=minimal")];
        let min = items(&round(&emu, &delta_link(&first), &t, &minimal).await);
        let m = min.iter().find(|u| u["id"] == renamed).unwrap();
        assert_eq!(m.as_object().unwrap().len(), 2, "{m}");

        // Restoring brings the user back without an annotation.
        let before = round(&emu, &delta_link(&first), &t, &[]).await;
        emu.restore_user(&soft).unwrap();
        let back = items(&round(&emu, &delta_link(&before), &t, &[]).await);
        assert_eq!(id_set(&back), [soft.clone()].into());
        assert!(removals(&back).is_empty());
    });
}

#[test]
fn filters_track_only_the_named_users() {
    let emu = start(300);
    rt().block_on(async {
        let t = token(&emu).await;
        let (a, b) = (emu.user_id(10), emu.user_id(250));
        let filter = format!("id eq '{a}' or id eq '{b}'");
        let url = format!(
            "{}/v1.0/users/delta?$filter={}",
            base(&emu),
            filter.replace(' ', "%20")
        );
        let first = round(&emu, &url, &t, &[]).await;
        assert_eq!(id_set(&items(&first)), [a.clone(), b.clone()].into());
        emu.update_user(&a, &[]).unwrap();
        emu.update_user(&emu.user_id(11), &[]).unwrap();
        let later = items(&round(&emu, &delta_link(&first), &t, &[]).await);
        assert_eq!(id_set(&later), [a].into());
    });
}

#[test]
fn expired_and_reset_tokens_are_refused_as_graph_does() {
    let emu = start(30);
    rt().block_on(async {
        let t = token(&emu).await;
        let url = format!("{}/v1.0/users/delta?$select=id,mail", base(&emu));
        let first = round(&emu, &url, &t, &[]).await;
        let mid = get(&url, &t, &[("Prefer", "odata.maxpagesize=10")])
            .await
            .json();
        let next = mid["@odata.nextLink"].as_str().unwrap().to_string();
        emu.expire_delta_tokens();
        for link in [delta_link(&first), next] {
            let a = get(&link, &t, &[]).await;
            assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
            assert_eq!(a.json()["error"]["code"], "syncStateNotFound");
        }
        // Tokens issued after the expiry work; a reset makes them 410 with a Location.
        let fresh = round(&emu, &url, &t, &[]).await;
        emu.reset_delta_sync();
        let a = get(&delta_link(&fresh), &t, &[]).await;
        assert_eq!(a.status, 410);
        assert_eq!(a.json()["error"]["code"], "resyncRequired");
        let location = a.header("location").expect("Location");
        assert!(
            location.starts_with(&format!("{}/v1.0/users/delta?", base(&emu))),
            "{location}"
        );
        assert!(location.ends_with("$deltatoken="), "{location}");
        // The Location is the initial request again: the same query, a full round.
        let again = round(&emu, &location, &t, &[]).await;
        assert_eq!(items(&again).len(), 30);
        assert_eq!(items(&again)[0].as_object().unwrap().len(), 2);
        // "Sync from now": no users, a deltaLink; the round after it sees later changes only.
        let now = get(
            &format!("{}/v1.0/users/delta?$deltatoken=latest", base(&emu)),
            &t,
            &[],
        )
        .await
        .json();
        assert!(now["value"].as_array().unwrap().is_empty());
        emu.update_user(&emu.user_id(5), &[]).unwrap();
        let after = items(&round(&emu, now["@odata.deltaLink"].as_str().unwrap(), &t, &[]).await);
        assert_eq!(id_set(&after), [emu.user_id(5)].into());
    });
}

#[test]
fn tokens_are_bound_to_their_emulator_and_the_lifetime_is_configurable() {
    // Expiry by age is covered by the emulator's unit tests (it would need waiting here);
    // a token of another emulator is an unknown sync state, as after a restart.
    let a = start(5);
    let b = start_with(EmulatorConfig {
        users: 5,
        delta_token_lifetime_secs: 1,
        ..EmulatorConfig::default()
    });
    rt().block_on(async {
        let ta = token(&a).await;
        let tb = token(&b).await;
        let link =
            delta_link(&round(&a, &format!("{}/v1.0/users/delta", base(&a)), &ta, &[]).await);
        let foreign = link.replace(&base(&a), &base(&b));
        let r = get(&foreign, &tb, &[]).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"]["code"], "syncStateNotFound");
        let admin = send(client().get(format!("{}/_emulator/tenant", base(&b)))).await;
        assert_eq!(admin.json()["deltaTokenLifetimeSeconds"], 1);
    });
}

#[test]
fn the_admin_endpoint_changes_the_tenant_and_is_not_graph() {
    let emu = start(100);
    // Graph faults do not touch it, and it needs no token.
    emu.set_faults(vec![
        FaultRule::graph(FaultAction::Status {
            status: 503,
            retry_after: None,
        })
        .always(),
    ]);
    rt().block_on(async {
        let url = |p: &str| format!("{}/_emulator/tenant{p}", base(&emu));
        let a = send(client().post(url(
            "/changes?create=3&update=5&delete=2&deletePermanently=1",
        )))
        .await;
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let done = a.json();
        for (kind, n) in [
            ("created", 3),
            ("updated", 5),
            ("deleted", 2),
            ("deletedPermanently", 1),
        ] {
            assert_eq!(done[kind].as_array().unwrap().len(), n, "{kind}: {done}");
        }
        let status = send(client().get(url(""))).await.json();
        assert_eq!(status["users"], 100);
        assert_eq!(status["changes"], 11);
        let victim = done["deleted"][0].as_str().unwrap();
        let a = send(client().post(url(&format!("/changes?restore={victim}")))).await;
        assert_eq!(a.json()["restored"][0], victim);
        for (method, path, code) in [
            ("GET", "/changes?create=1", 405),
            ("POST", "/changes?bogus=1", 400),
            ("POST", "/changes?delete=not-a-user-id", 400),
            ("POST", &format!("/changes?restore={}", emu.user_id(0)), 400),
            ("POST", "/nothing", 404),
        ] {
            let req = if method == "GET" {
                client().get(url(path))
            } else {
                client().post(url(path))
            };
            let a = send(req).await;
            assert_eq!(
                a.status,
                code,
                "{method} {path}: {}",
                String::from_utf8_lossy(&a.body)
            );
            assert!(a.json()["error"]["code"].is_string());
        }
        assert_eq!(emu.counters().graph.faults, 0);
        let a = send(client().post(url("/expire-delta-tokens"))).await;
        assert_eq!(a.status, 204);
    });
    emu.set_faults(Vec::new());
    assert_eq!(emu.user_count(), 101);
}

#[test]
fn plain_listings_see_the_changed_tenant() {
    let emu = start(50);
    let created = emu.create_users(2).unwrap();
    let (renamed, soft) = (emu.user_id(7), emu.user_id(8));
    emu.update_user(&renamed, &["displayName", "accountEnabled"])
        .unwrap();
    emu.delete_user(&soft).unwrap();
    let ids = listed_ids(&emu);
    assert_eq!(ids.len(), 51);
    assert!(created.iter().all(|c| ids.contains(c)));
    assert!(!ids.contains(&soft));
    rt().block_on(async {
        let t = token(&emu).await;
        let a = graph_get(&emu, &format!("/v1.0/users/{soft}"), &t).await;
        assert_eq!(a.status, 404);
        let u = graph_get(
            &emu,
            &format!("/v1.0/users/{renamed}?$select=displayName,accountEnabled"),
            &t,
        )
        .await
        .json();
        assert!(u["displayName"].as_str().unwrap().contains(". "), "{u}");
        let count = send(
            client()
                .get(format!("{}/v1.0/users/$count", base(&emu)))
                .bearer_auth(&t)
                .header("ConsistencyLevel", "eventual"),
        )
        .await;
        assert_eq!(String::from_utf8_lossy(&count.body), "51");
        // The filter sees the new name.
        let name = u["displayName"].as_str().unwrap();
        let q = format!("/v1.0/users?$filter=displayName eq '{name}'").replace(' ', "%20");
        let found = graph_get(&emu, &q, &t).await.json();
        assert_eq!(found["value"][0]["id"], renamed.as_str());
    });
}
