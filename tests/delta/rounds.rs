//! `list-users --delta` rounds: the first equals a full listing, a later one prints exactly
//! what changed with the right markers in every format, an unchanged tenant prints nothing,
//! and the state file is what the issue says it is.

use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn the_first_run_lists_everyone_and_saves_the_state() {
    let emu = start(1234);
    let dir = state_dir();
    let state = path_in(&dir, "users.state");
    let out = delta(&emu, &state, &["-o", "ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // On the wire: users/delta, the page size as a preference on every page, never $top.
    let requests = crate::users::graph_requests(&emu);
    assert_eq!(requests.len(), 7, "1234 users in pages of 200");
    assert_eq!(requests[0].path, "/v1.0/users/delta");
    assert!(requests.iter().all(|r| !r.path.contains("$top")));
    let users = ndjson(&out.stdout);
    assert_eq!(users.len(), 1234, "no user twice");
    assert_eq!(id_set(&users), listed_ids(&emu));
    assert_eq!(
        stderr(&out),
        format!(
            "graphd: delta: 1234 changed, 0 removed (full round); state saved to {}\n",
            state.display()
        )
    );
    // The state: 0600, what it is valid for, the deltaLink; no temporary file left over.
    let mode = std::fs::metadata(&state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let saved: Value = serde_json::from_slice(&state_bytes(&state)).unwrap();
    assert_eq!(saved["format"], "graphd-users-delta/1");
    assert_eq!(saved["tenant"], emu.tenant());
    assert_eq!(saved["client_id"], crate::support::CLIENT_ID);
    assert_eq!(
        saved["graph"],
        graphd::cloud::base_str(&emu.graph_endpoint())
    );
    let link = saved["delta_link"].as_str().unwrap();
    assert!(link.contains("/v1.0/users/delta?$deltatoken="), "{link}");
    // No access token (a JWT) in the state file or on stderr.
    let state_text = String::from_utf8(state_bytes(&state)).unwrap();
    assert!(!state_text.contains("eyJ") && !stderr(&out).contains("eyJ"));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["users.state", "users.state.lock"]);

    // -v shows the requests, never their state tokens.
    let verbose = delta(&emu, &path_in(&dir, "users.state"), &["-v", "-o", "ndjson"]);
    assert!(verbose.status.success());
    let err = stderr(&verbose);
    assert!(err.contains("/v1.0/users/delta"), "{err}");
    assert!(!err.contains("token="), "{err}");

    // --top is the preferred page size, sent with every page (it is not carried in links).
    let before = crate::users::graph_requests(&emu).len();
    let small = ndjson(&delta_ok(
        &emu,
        &path_in(&dir, "small"),
        &["-o", "ndjson", "--top", "100"],
    ));
    assert_eq!(small.len(), 1234);
    assert_eq!(crate::users::graph_requests(&emu).len() - before, 13);
}

#[test]
fn a_later_run_prints_exactly_the_changes_with_their_markers() {
    let emu = start(600);
    let dir = state_dir();
    let formats = ["ndjson", "json", "csv", "table"];
    for f in formats {
        delta_ok(&emu, &path_in(&dir, f), &["-o", f]);
    }
    let created = emu.create_users(3).unwrap();
    let updated: Vec<String> = [5, 150, 299, 450, 599]
        .iter()
        .map(|i| emu.user_id(*i))
        .collect();
    for id in &updated {
        emu.update_user(id, &[]).unwrap();
    }
    let (soft, hard) = (emu.user_id(10), emu.user_id(20));
    emu.delete_user(&soft).unwrap();
    emu.delete_user_permanently(&hard).unwrap();
    let changed: BTreeSet<String> = created.iter().chain(&updated).cloned().collect();
    let removed: BTreeSet<(String, String)> = [
        (soft.clone(), "changed".into()),
        (hard.clone(), "deleted".into()),
    ]
    .into();

    let out = delta(&emu, &path_in(&dir, "ndjson"), &["-o", "ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let items = ndjson(&out.stdout);
    assert_eq!(items.len(), 10);
    assert_eq!(id_set(&present(&items)), changed);
    assert_eq!(removals(&items), removed);
    assert!(
        stderr(&out).starts_with("graphd: delta: 8 changed, 2 removed (since "),
        "{}",
        stderr(&out)
    );
    for u in present(&items) {
        if updated.contains(&u["id"].as_str().unwrap().to_string()) {
            assert!(
                u["displayName"].as_str().unwrap().contains(". "),
                "new name: {u}"
            );
        }
    }

    // JSON: one array, `@removed` passed through as Graph sent it.
    let items = json_array(&delta_ok(&emu, &path_in(&dir, "json"), &["-o", "json"]));
    assert_eq!(id_set(&present(&items)), changed);
    assert_eq!(removals(&items), removed);

    // CSV: a `change` column first.
    let csv_out = delta_ok(&emu, &path_in(&dir, "csv"), &["-o", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_out.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["change", "id", "displayName", "userPrincipalName", "mail"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 10);
    for row in &rows {
        let id = row[1].to_string();
        match &row[0] {
            "created/updated" => {
                assert!(changed.contains(&id), "{row:?}");
                assert!(!row[3].is_empty(), "{row:?}");
            }
            "deleted" => {
                assert!(id == soft || id == hard, "{row:?}");
                assert!(row[2].is_empty() && row[3].is_empty(), "{row:?}");
            }
            other => panic!("change {other:?}"),
        }
    }

    // Table: the same column, aligned.
    let table =
        String::from_utf8(delta_ok(&emu, &path_in(&dir, "table"), &["-o", "table"])).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 11, "{table}");
    assert!(lines[0].starts_with("change "), "{table}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("deleted ")).count(),
        2,
        "{table}"
    );

    // Nothing changed since: nothing printed (an empty array, a bare header).
    assert!(delta_ok(&emu, &path_in(&dir, "ndjson"), &["-o", "ndjson"]).is_empty());
    assert_eq!(
        delta_ok(&emu, &path_in(&dir, "json"), &["-o", "json"]),
        b"[]\n"
    );
    assert_eq!(
        String::from_utf8(delta_ok(&emu, &path_in(&dir, "csv"), &["-o", "csv"])).unwrap(),
        "change,id,displayName,userPrincipalName,mail\n"
    );
    let quiet = delta(&emu, &path_in(&dir, "ndjson"), &["-o", "ndjson", "-q"]);
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn select_decides_what_is_tracked_and_filter_whom() {
    let emu = start(300);
    let dir = state_dir();
    let named = path_in(&dir, "named");
    let first = ndjson(&delta_ok(
        &emu,
        &named,
        &["-o", "ndjson", "--select", "displayName,mail"],
    ));
    assert_eq!(first.len(), 300);
    let keys: BTreeSet<String> = first[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["displayName".into(), "id".into(), "mail".into()].into()
    );
    let (a, b) = (emu.user_id(1), emu.user_id(2));
    emu.update_user(&a, &["jobTitle"]).unwrap();
    emu.update_user(&b, &["displayName"]).unwrap();
    let later = ndjson(&delta_ok(
        &emu,
        &named,
        &["-o", "ndjson", "--select", "mail,displayName"],
    ));
    assert_eq!(
        id_set(&later),
        [b.clone()].into(),
        "a jobTitle change is not tracked here"
    );

    let (x, y) = (emu.user_id(100), emu.user_id(200));
    let filter = format!("id eq '{x}' or id eq '{y}'");
    let some = path_in(&dir, "some");
    let first = ndjson(&delta_ok(
        &emu,
        &some,
        &["-o", "ndjson", "--filter", &filter],
    ));
    assert_eq!(id_set(&first), [x.clone(), y.clone()].into());
    emu.delete_user(&y).unwrap();
    emu.update_user(&emu.user_id(101), &[]).unwrap();
    let later = ndjson(&delta_ok(
        &emu,
        &some,
        &["-o", "ndjson", "--filter", &filter],
    ));
    assert_eq!(removals(&later), [(y, "changed".to_string())].into());
    assert_eq!(later.len(), 1);

    // A filter users/delta does not take: Graph's refusal, with the delta hint.
    let out = delta(
        &emu,
        &path_in(&dir, "bad"),
        &["--filter", "startswith(displayName,'A')"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hint: on users/delta Graph filters only by object id"),
        "{}",
        stderr(&out)
    );
    assert!(!path_in(&dir, "bad").exists());
}

#[test]
fn delta_refuses_options_that_cannot_end_a_round() {
    let emu = start(5);
    let dir = state_dir();
    for extra in [&["--max", "3"][..], &["--count"][..]] {
        let out = delta(&emu, &path_in(&dir, "s"), extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
    }
    let out = graphd_at(&emu)
        .args(["list-users", "--delta-reset"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!path_in(&dir, "s").exists());
}
