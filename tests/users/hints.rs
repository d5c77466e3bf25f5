//! Issue 10, "hints that don't fit the error": each Graph refusal gets the hint for its code
//! and for the request that caused it (the unknown path segment, the query option sent, the
//! id not found), end to end against the emulator's Graph-shaped answers.

use super::*;

/// Runs `graphd ARGS` against `emu`, expects exit 5 with `status` and `code` on the error
/// line; returns the hint line without its `hint: ` prefix.
fn refusal_hint(emu: &Emulator, args: &[&str], status: u16, code: &str) -> String {
    let out = graphd_at(emu).args(args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{args:?}: {err}");
    let mut lines = err.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.contains(&format!("(HTTP {status}, {code})")),
        "{args:?}: {err}"
    );
    let hint = lines.next().unwrap_or_default();
    assert_eq!(err.lines().count(), 2, "{err}");
    hint.strip_prefix("hint: ")
        .unwrap_or_else(|| panic!("no hint: {err}"))
        .to_string()
}

#[test]
fn an_unknown_segment_gets_the_path_hint_not_the_query_hint() {
    let emu = start(3);
    let hint = refusal_hint(&emu, &["get", "/v1.0/groups"], 400, "BadRequest");
    assert_eq!(
        hint,
        "check the path: `groups` is not a segment Graph knows under /v1.0; see https://learn.microsoft.com/graph/api/overview"
    );
    // The query options have nothing to do with it, even when there are some.
    let hint = refusal_hint(&emu, &["get", "/v1.0/userz?$top=5"], 400, "BadRequest");
    assert!(
        hint.starts_with("check the path: `userz` is not a segment"),
        "{hint}"
    );
    assert!(
        !hint.contains("$top") && !hint.contains("$select"),
        "{hint}"
    );
    let id = emulator_listing(&emu, "/v1.0/users")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hint = refusal_hint(
        &emu,
        &["get", &format!("/v1.0/users/{id}/foo")],
        400,
        "BadRequest",
    );
    assert!(
        hint.contains(&format!(
            "`foo` is not a segment Graph knows under /v1.0/users/{id}"
        )),
        "{hint}"
    );
    let hint = refusal_hint(&emu, &["get", "/v1.0/me"], 400, "BadRequest");
    assert!(hint.contains("/me is the signed-in user"), "{hint}");
    assert!(hint.contains("/v1.0/users/"), "{hint}");
}

#[test]
fn query_errors_get_the_option_that_was_sent() {
    let emu = start(3);
    let hint = refusal_hint(
        &emu,
        &["list-users", "--select", "id,noSuchProperty"],
        400,
        "Request_BadRequest",
    );
    assert!(
        hint.starts_with("check the query options ($top, $select)"),
        "the options list-users sent, in its order: {hint}"
    );
    assert!(hint.contains("$select names properties"), "{hint}");
    assert!(!hint.contains("$filter"), "{hint}");
    let hint = refusal_hint(
        &emu,
        &["get", "/v1.0/users?$skip=2"],
        400,
        "Request_BadRequest",
    );
    assert!(hint.contains("do not support $skip"), "{hint}");
    assert!(hint.contains("--all"), "{hint}");
    let hint = refusal_hint(
        &emu,
        &["get", "/v1.0/users?$top=1000"],
        400,
        "Request_BadRequest",
    );
    assert_eq!(hint, "$top takes a number from 1 to 999 (list-users --top)");
    // An advanced operator without the advanced-query parameters: how to send them.
    let hint = refusal_hint(
        &emu,
        &["list-users", "--filter", "endsWith(mail,'@example.com')"],
        400,
        "Request_UnsupportedQuery",
    );
    assert!(hint.contains("--count"), "{hint}");
    // A filter Graph cannot read: its syntax, not the advanced-query parameters.
    let hint = refusal_hint(
        &emu,
        &["list-users", "--filter", "displayName eq Adele"],
        400,
        "Request_UnsupportedQuery",
    );
    assert!(hint.starts_with("check the $filter syntax"), "{hint}");
    assert!(!hint.contains("--count"), "{hint}");
}

#[test]
fn a_missing_object_gets_its_id_named() {
    let emu = start(3);
    let hint = refusal_hint(
        &emu,
        &["get", "/v1.0/users/nobody@example.com"],
        404,
        "Request_ResourceNotFound",
    );
    assert!(
        hint.starts_with("no user `nobody@example.com` in this tenant"),
        "{hint}"
    );
    assert!(hint.contains("graphd list-users"), "{hint}");
}
