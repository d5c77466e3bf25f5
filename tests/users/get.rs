//! `graphd get PATH_OR_URL [--all]`: one Graph GET printed as received, or every item of
//! every page.

use super::*;

fn get(emu: &Emulator, args: &[&str]) -> Vec<u8> {
    let out = graphd_at(emu).arg("get").args(args).output().unwrap();
    assert!(out.status.success(), "get {args:?}: {}", stderr(&out));
    out.stdout
}

#[test]
fn a_single_user_by_id_and_by_upn() {
    let emu = start(1000);
    let listed = emulator_listing(&emu, "/v1.0/users?$top=999");
    let graph = graphd::cloud::base_str(&emu.graph_endpoint());
    for user in [&listed[0], &listed[457], &listed[999]] {
        let id = user["id"].as_str().unwrap();
        let upn = user["userPrincipalName"].as_str().unwrap();
        for path in [
            format!("/v1.0/users/{id}"),
            format!("users/{upn}"),
            format!("v1.0/users/{}", upn.to_uppercase()),
            format!("{graph}/v1.0/users/{id}"),
        ] {
            let got: Value = serde_json::from_slice(&get(&emu, &[&path])).unwrap();
            assert_eq!(got["id"], user["id"], "{path}");
            assert_eq!(
                got["userPrincipalName"], user["userPrincipalName"],
                "{path}"
            );
            assert!(
                got["@odata.context"].as_str().is_some(),
                "printed as received: {got}"
            );
        }
    }
    let with_select: Value = serde_json::from_slice(&get(
        &emu,
        &[&format!(
            "/v1.0/users/{}?$select=id,city",
            listed[3]["id"].as_str().unwrap()
        )],
    ))
    .unwrap();
    assert_eq!(with_select["id"], listed[3]["id"]);
    assert!(with_select.get("displayName").is_none(), "{with_select}");
}

#[test]
fn count_is_text_and_sent_with_consistency_level() {
    for n in [0u64, 1234] {
        let emu = start(n);
        let out = String::from_utf8(get(&emu, &["/v1.0/users/$count"])).unwrap();
        assert_eq!(out, format!("{n}\n"));
        let requests = graph_requests(&emu);
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].consistency_level.as_deref(), Some("eventual"));
    }
}

#[test]
fn one_page_without_all_every_page_with_it() {
    let emu = start(1000);
    let page: Value = serde_json::from_slice(&get(&emu, &["/v1.0/users?$top=100"])).unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    assert!(page["@odata.nextLink"].as_str().is_some());
    assert_eq!(graph_requests(&emu).len(), 1);

    let emu = start(1000);
    let users = ndjson(&get(
        &emu,
        &["--all", "/v1.0/users?$top=100", "-o", "ndjson"],
    ));
    assert_in_order(&users, 1000);
    assert_eq!(graph_requests(&emu).len(), 10);
    let users = json_array(&get(&emu, &["--all", "users?$top=999&$count=true"]));
    assert_in_order(&users, 1000);
    let counted = graph_requests(&emu);
    assert!(
        counted[10..]
            .iter()
            .all(|r| r.consistency_level.as_deref() == Some("eventual")),
        "$count in the URL sends ConsistencyLevel on every page"
    );

    let csv_out = get(&emu, &["--all", "/v1.0/users?$select=id,mail", "-o", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_out.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "mail"],
        "the columns of the first item, in Graph's order"
    );
    assert_eq!(reader.records().count(), 1000);
}

#[test]
fn all_needs_a_collection() {
    let emu = start(10);
    let listed = emulator_listing(&emu, "/v1.0/users");
    let path = format!("/v1.0/users/{}", listed[0]["id"].as_str().unwrap());
    let out = graphd_at(&emu)
        .args(["get", "--all", &path])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("not a Graph collection"), "{err}");
    assert!(err.contains("without --all"), "the hint: {err}");
    assert!(
        out.stdout.is_empty(),
        "an error before the first page prints nothing"
    );
}
