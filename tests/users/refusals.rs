//! Graph's refusals as the user sees them: one `graphd: error:` line with the status, Graph's
//! `code`, its message and the request-id, a hint that says what to do, and exit 5.

use crate::support::emulator::shared_app;
use graphd::emulator::EmulatorConfig;

use super::*;

/// Asserts the error line carries `status`, `code` and a GUID request-id; returns stderr.
fn assert_graph_error(out: &Output, status: u16, code: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("graphd: error: "), "{err}");
    assert!(first.contains(&format!("HTTP {status}")), "{err}");
    assert!(first.contains(code), "{err}");
    assert!(shown_request_id(first).is_some(), "a request-id: {err}");
    assert!(
        err.lines().nth(1).is_some_and(|l| l.starts_with("hint: ")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "one error line and one hint: {err}");
    err
}

#[test]
fn forbidden_names_the_permission_and_the_consent_url() {
    // The app has a certificate but no application permission: tokens without roles.
    let emu = start_with(EmulatorConfig {
        users: 10,
        apps: vec![shared_app(&[])],
        ..Default::default()
    });
    let consent = graphd_at(&emu).arg("consent-url").output().unwrap();
    assert!(consent.status.success());
    let consent_url = String::from_utf8(consent.stdout)
        .unwrap()
        .trim()
        .to_string();
    for args in [&["list-users"][..], &["get", "/v1.0/users/$count"][..]] {
        let out = graphd_at(&emu).args(args).output().unwrap();
        let err = assert_graph_error(&out, 403, "Authorization_RequestDenied");
        assert!(
            err.contains("Insufficient privileges"),
            "Graph's message: {err}"
        );
        let hint = err.lines().nth(1).unwrap();
        assert!(hint.contains("User.Read.All"), "{hint}");
        assert!(hint.contains("Application permissions"), "{hint}");
        assert!(hint.contains(&consent_url), "{hint}\nvs {consent_url}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn the_request_id_shown_is_graphs() {
    let emu = start(0);
    let id = "0b7e9a4f-3c2d-4e1f-8a6b-5c4d3e2f1a09";
    let fake = ScriptedServer::start([Step::when(
        "GET /v1.0/users",
        graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges\nto complete the operation.",
            id,
        ),
    )]);
    let out = fake_graph_cmd(&emu, &fake, &["list-users"])
        .output()
        .unwrap();
    let err = assert_graph_error(&out, 403, "Authorization_RequestDenied");
    assert_eq!(shown_request_id(&err).as_deref(), Some(id));
    assert!(
        err.contains("Insufficient privileges to complete the operation."),
        "the message on one line: {err}"
    );
}

#[test]
fn query_errors_show_graphs_code_and_message() {
    let emu = start(100);
    // endsWith is an advanced query: without --count Graph refuses it and says why.
    let out = graphd_at(&emu)
        .args(["list-users", "--filter", "endsWith(mail,'@contoso.com')"])
        .output()
        .unwrap();
    let err = assert_graph_error(&out, 400, "Request_UnsupportedQuery");
    assert!(
        err.contains("Operator 'endswith' is not supported"),
        "{err}"
    );
    assert!(err.contains("--count"), "the hint names the fix: {err}");
    assert!(
        out.stdout.is_empty(),
        "an error before the first page prints nothing"
    );

    let out = graphd_at(&emu)
        .args(["list-users", "--select", "id,noSuchProperty"])
        .output()
        .unwrap();
    let err = assert_graph_error(&out, 400, "Request_BadRequest");
    assert!(err.contains("noSuchProperty"), "{err}");

    // A property only a single user has, on the collection: 501.
    let out = graphd_at(&emu)
        .args(["list-users", "--select", "id,aboutMe"])
        .output()
        .unwrap();
    let err = assert_graph_error(&out, 501, "NotImplemented");
    assert!(err.contains("single user"), "{err}");
}

#[test]
fn missing_objects_are_404_with_graphs_code() {
    let emu = start(10);
    for path in [
        "/v1.0/users/00000000-0000-4000-8000-000000000000",
        "/v1.0/users/nobody@example.com",
    ] {
        let out = graphd_at(&emu).args(["get", path]).output().unwrap();
        let err = assert_graph_error(&out, 404, "Request_ResourceNotFound");
        assert!(err.contains("does not exist"), "{err}");
        assert!(out.stdout.is_empty());
    }
    let out = graphd_at(&emu)
        .args(["get", "/v1.0/groups"])
        .output()
        .unwrap();
    assert_graph_error(&out, 400, "BadRequest");
}

#[test]
fn an_error_that_is_not_graphs_shape_still_reads_well() {
    let emu = start(0);
    let fake = ScriptedServer::start([Step::when(
        "GET /v1.0/users",
        reply(
            404,
            &[("content-type", "text/html")],
            b"<html><body>Not here</body></html>",
        ),
    )]);
    let out = fake_graph_cmd(&emu, &fake, &["get", "/v1.0/users"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.starts_with("graphd: error: "), "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
    assert!(!err.contains("<html>"), "no raw body: {err}");
    assert!(err.contains("hint: "), "{err}");
}
