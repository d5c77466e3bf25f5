//! Every user once, in order, and the query options: `--max`, `--select`, `--filter`,
//! `--top`, `--count`.

use std::collections::BTreeSet;

use super::*;

#[test]
fn totals_and_order_match_the_emulator() {
    for n in [0u64, 1, 999, 1000, 25_000] {
        let emu = start(n);
        let users = ndjson(&list(&emu, &["--output", "ndjson"]));
        let pages = graph_requests(&emu);
        assert_eq!(
            emu.counters().token.requests,
            1,
            "one token for the listing"
        );
        assert_in_order(&users, n);
        assert_eq!(
            ids(&users),
            ids(&emulator_listing(&emu, "/v1.0/users?$top=999")),
            "{n} users: ids differ from the emulator's listing"
        );
        let unique: BTreeSet<String> = ids(&users).into_iter().collect();
        assert_eq!(unique.len() as u64, n, "{n} users: an id twice");
        // One page per 999 users (at least one), each fetched once, all with the default $top.
        assert_eq!(pages.len() as u64, n.div_ceil(999).max(1), "{n} users");
        let paths: BTreeSet<&str> = pages.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths.len(), pages.len(), "a page was fetched twice");
        assert!(
            pages
                .iter()
                .all(|r| r.status == 200 && r.path.contains("$top=999"))
        );
    }
}

#[test]
fn max_stops_early_and_asks_only_for_what_it_needs() {
    let emu = start(25_000);
    let users = ndjson(&list(&emu, &["-o", "ndjson", "--max", "1500"]));
    assert_in_order(&users, 1500);
    assert_eq!(graph_requests(&emu).len(), 2, "two pages of 999, not 26");

    let emu = start(25_000);
    let users = json_array(&list(&emu, &["--max", "5"]));
    assert_in_order(&users, 5);
    let requests = graph_requests(&emu);
    assert_eq!(requests.len(), 1);
    assert!(requests[0].path.contains("$top=5"), "{}", requests[0].path);

    // --max above the total is simply everything.
    let emu = start(1200);
    let users = ndjson(&list(
        &emu,
        &["-o", "ndjson", "--max", "5000", "--top", "500"],
    ));
    assert_in_order(&users, 1200);
    assert_eq!(graph_requests(&emu).len(), 3);
}

#[test]
fn top_sets_the_page_size() {
    let emu = start(1000);
    let users = ndjson(&list(&emu, &["-o", "ndjson", "--top", "100"]));
    assert_in_order(&users, 1000);
    let requests = graph_requests(&emu);
    assert_eq!(requests.len(), 10);
    assert!(requests.iter().all(|r| r.path.contains("$top=100")));

    for bad in ["0", "1000", "x"] {
        graphd_at(&emu)
            .args(["list-users", "--top", bad])
            .assert()
            .code(2);
    }
    assert_eq!(
        graph_requests(&emu).len(),
        10,
        "a usage error sends nothing"
    );
}

#[test]
fn select_returns_exactly_those_properties() {
    let emu = start(1500);
    let select = "id,displayName,accountEnabled,city";
    let users = ndjson(&list(&emu, &["-o", "ndjson", "--select", select]));
    assert_eq!(users.len(), 1500);
    let wanted: BTreeSet<&str> = select.split(',').collect();
    for u in &users {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, wanted, "{u}");
    }
    assert_eq!(
        users,
        emulator_listing(&emu, &format!("/v1.0/users?$top=999&$select={select}"))
    );
    assert!(
        graph_requests(&emu)
            .iter()
            .all(|r| r.path.contains("$select=")),
        "$select is carried by every page"
    );
}

#[test]
fn filter_is_sent_and_carried_across_pages() {
    let emu = start(5000);
    let users = ndjson(&list(
        &emu,
        &[
            "-o",
            "ndjson",
            "--top",
            "100",
            "--filter",
            "accountEnabled eq false",
            "--select",
            "id,userPrincipalName,accountEnabled",
        ],
    ));
    let pages = graph_requests(&emu).len();
    let expected = emulator_listing(
        &emu,
        "/v1.0/users?$top=100&$select=id,userPrincipalName,accountEnabled&$filter=accountEnabled%20eq%20false",
    );
    assert!(expected.len() > 100, "the filter spans several pages");
    assert!(pages > 1, "several pages were fetched");
    assert_eq!(users, expected);
    assert!(users.iter().all(|u| u["accountEnabled"] == false));

    let emu = start(3000);
    let users = ndjson(&list(
        &emu,
        &["-o", "ndjson", "--filter", "startswith(displayName,'A')"],
    ));
    assert!(!users.is_empty());
    assert!(users.iter().all(|u| {
        u["displayName"]
            .as_str()
            .is_some_and(|d| d.to_ascii_lowercase().starts_with('a'))
    }));
    assert_eq!(
        ids(&users),
        ids(&emulator_listing(
            &emu,
            "/v1.0/users?$top=999&$filter=startswith(displayName,'A')"
        ))
    );
}

#[test]
fn count_resends_consistency_level_on_every_page() {
    let n = 2500;
    let emu = start(n);
    let out = graphd_at(&emu)
        .args(["list-users", "-o", "ndjson", "--count"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_in_order(&ndjson(&out.stdout), n);
    let err = stderr(&out);
    assert!(err.contains(&format!("{n} users in total")), "{err}");
    let requests = graph_requests(&emu);
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(
            r.consistency_level.as_deref(),
            Some("eventual"),
            "{}",
            r.path
        );
        assert!(r.path.contains("$count=true"), "{}", r.path);
    }

    // Without --count the header is not sent (basic queries need none, docs/protocol.md#advanced-queries).
    let emu = start(1500);
    list(&emu, &["-o", "ndjson"]);
    assert!(
        graph_requests(&emu)
            .iter()
            .all(|r| r.consistency_level.is_none())
    );
}

#[test]
fn query_values_travel_percent_encoded_as_rfc_3986_asks() {
    let emu = start(20);
    let first = ndjson(&list(
        &emu,
        &[
            "-o",
            "ndjson",
            "--max",
            "1",
            "--select",
            "userPrincipalName",
        ],
    ));
    let upn = first[0]["userPrincipalName"].as_str().unwrap().to_string();
    assert!(
        upn.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.@".contains(&b)),
        "{upn}"
    );
    let before = graph_requests(&emu).len();
    let users = ndjson(&list(
        &emu,
        &[
            "-o",
            "ndjson",
            "--select",
            "id,userPrincipalName",
            "--filter",
            &format!("userPrincipalName eq '{upn}'"),
        ],
    ));
    // The emulator decoded what graphd encoded: exactly that user.
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["userPrincipalName"], upn.as_str());
    assert_eq!(
        graph_requests(&emu)[before].path,
        format!(
            "/v1.0/users?$top=999&$select=id%2CuserPrincipalName&$filter=userPrincipalName%20eq%20%27{}%27",
            upn.replace('@', "%40")
        )
    );

    // A plus sign travels as %2B: a bare `+` would reach Graph as a space.
    let users = ndjson(&list(
        &emu,
        &[
            "-o",
            "ndjson",
            "--filter",
            "userPrincipalName eq 'a+b@x.com'",
        ],
    ));
    assert!(users.is_empty(), "{users:?}");
    let sent = graph_requests(&emu).last().unwrap().path.clone();
    assert!(
        sent.ends_with("&$filter=userPrincipalName%20eq%20%27a%2Bb%40x.com%27"),
        "{sent}"
    );
}
