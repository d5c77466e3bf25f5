//! Tests for `graphd consent-url`: the admin consent URL, parsed back as a browser would.

use std::collections::HashMap;

use url::Url;

use super::stderr;
use crate::support::{CLIENT_ID, TENANT, graphd};

/// Runs `graphd consent-url ARGS` and parses the one line it prints.
fn consent(args: &[&str]) -> (Url, HashMap<String, String>) {
    let out = graphd().arg("consent-url").args(args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let url = Url::parse(text.trim_end()).unwrap();
    let query = url.query_pairs().into_owned().collect();
    (url, query)
}

#[test]
fn v2_form_by_default_and_v1_on_request() {
    let (url, q) = consent(&["--tenant", TENANT, "--client-id", CLIENT_ID]);
    assert_eq!(
        url.as_str(),
        format!(
            "https://login.microsoftonline.com/{TENANT}/v2.0/adminconsent?client_id={CLIENT_ID}\
             &scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        )
    );
    assert_eq!(q["scope"], "https://graph.microsoft.com/.default");

    let (url, q) = consent(&[
        "--v1",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        CLIENT_ID,
    ]);
    assert_eq!(url.path(), "/contoso.onmicrosoft.com/adminconsent");
    assert_eq!(q.len(), 1, "v1 has no scope: {q:?}");
    assert_eq!(q["client_id"], CLIENT_ID);
}

#[test]
fn each_cloud_has_its_authority_and_graph_scope() {
    for (cloud, host, graph) in [
        (
            "public",
            "login.microsoftonline.com",
            "https://graph.microsoft.com",
        ),
        (
            "usgov",
            "login.microsoftonline.us",
            "https://graph.microsoft.us",
        ),
        (
            "usgov-dod",
            "login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
        ),
        (
            "china",
            "login.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
        ),
    ] {
        let (url, q) = consent(&[
            "--cloud",
            cloud,
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT_ID,
        ]);
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host_str(), Some(host), "{cloud}");
        assert_eq!(url.path(), format!("/{TENANT}/v2.0/adminconsent"));
        assert_eq!(q["scope"], format!("{graph}/.default"), "{cloud}");
        let (url, _) = consent(&[
            "--v1",
            "--cloud",
            cloud,
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT_ID,
        ]);
        assert_eq!(url.host_str(), Some(host), "{cloud}");
    }
    // --authority-host overrides --cloud's host; the scope stays that cloud's Graph.
    let (url, q) = consent(&[
        "--cloud",
        "usgov",
        "--authority-host",
        "https://login.example.test",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
    ]);
    assert_eq!(url.host_str(), Some("login.example.test"));
    assert_eq!(q["scope"], "https://graph.microsoft.us/.default");
}

#[test]
fn settings_come_from_the_environment_and_the_quickstart_config() {
    let out = graphd()
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .arg("consent-url")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!(
        "/{TENANT}/v2.0/adminconsent?client_id={CLIENT_ID}"
    )));

    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("parameters.json");
    std::fs::write(
        &config,
        format!(r#"{{"authority": "https://login.microsoftonline.us/fabrikam.com", "client_id": "{CLIENT_ID}"}}"#),
    )
    .unwrap();
    let (url, q) = consent(&["--config", config.to_str().unwrap()]);
    assert_eq!(url.host_str(), Some("login.microsoftonline.us"));
    assert_eq!(url.path(), "/fabrikam.com/v2.0/adminconsent");
    assert_eq!(q["scope"], "https://graph.microsoft.us/.default");
}

#[test]
fn the_redirect_uri_is_percent_encoded_and_round_trips() {
    let redirect = "https://app.example/consent done?next=/home&lang=fr-FR";
    let (url, q) = consent(&[
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        redirect,
    ]);
    let raw = url.query().unwrap();
    assert!(raw.contains("redirect_uri=https%3A%2F%2Fapp.example%2Fconsent%2520done%3Fnext%3D%2Fhome%26lang%3Dfr-FR"), "{raw}");
    assert_eq!(q["redirect_uri"], Url::parse(redirect).unwrap().as_str());
    assert_eq!(q.len(), 3, "client_id, scope, redirect_uri: {q:?}");
    let (_, q) = consent(&[
        "--v1",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        redirect,
    ]);
    assert_eq!(q["redirect_uri"], Url::parse(redirect).unwrap().as_str());
}

#[test]
fn refused_without_a_tenant_or_client_id() {
    for (args, says, hint) in [
        (
            &["--client-id", CLIENT_ID][..],
            "no tenant given",
            "--tenant",
        ),
        (
            &["--tenant", TENANT][..],
            "no client id given",
            "--client-id",
        ),
        (
            &["--tenant", "organizations", "--client-id", CLIENT_ID][..],
            "organizations",
            "hint:",
        ),
        (
            &["--tenant", TENANT, "--client-id", "not-a-guid"][..],
            "not a GUID",
            "hint:",
        ),
    ] {
        let out = graphd().arg("consent-url").args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
        assert!(err.starts_with("graphd: error: "), "{err}");
        assert!(
            err.lines().next().unwrap().contains(says),
            "{args:?}: {err}"
        );
        assert!(
            err.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("hint: ") && l.contains(hint)),
            "{err}"
        );
    }
}
