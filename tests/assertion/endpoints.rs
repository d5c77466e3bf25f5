//! Where the assertion is for: clouds and authority hosts set `aud`; plain http only on
//! loopback; tenants that name many tenants and malformed client ids are refused.

use super::{assertion, signed, token_endpoint};
use crate::support::fixtures::fixtures;
use crate::support::outcome::run;
use crate::support::{CLIENT_ID, TENANT, graphd, graphd_app};

#[test]
fn clouds_and_authority_hosts_set_the_audience() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "https://login.microsoftonline.com"),
        (&["--cloud", "public"], "https://login.microsoftonline.com"),
        (&["--cloud", "usgov"], "https://login.microsoftonline.us"),
        (
            &["--cloud", "usgov-dod"],
            "https://login.microsoftonline.us",
        ),
        (&["--cloud", "china"], "https://login.chinacloudapi.cn"),
        (
            &[
                "--authority-host",
                "https://login.partner.microsoftonline.cn/",
            ],
            "https://login.partner.microsoftonline.cn",
        ),
        (
            &["--authority-host", "login.microsoftonline.us"],
            "https://login.microsoftonline.us",
        ),
        (
            &[
                "--cloud",
                "china",
                "--authority-host",
                "https://sts.example.test",
            ],
            "https://sts.example.test",
        ),
        (
            &["--authority-host", "http://127.0.0.1:8443"],
            "http://127.0.0.1:8443",
        ),
        (
            &["--authority-host", "http://localhost:9"],
            "http://localhost:9",
        ),
    ];
    for (args, authority) in cases {
        let jwt = signed(&assertion(args, "key-then-cert.pem"));
        assert_eq!(
            jwt.claims["aud"],
            token_endpoint(authority, TENANT),
            "{args:?}"
        );
    }
    let mut cmd = graphd_app("assertion");
    cmd.arg("--cert")
        .arg(fixtures().path("key-then-cert.pem"))
        .env("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us");
    assert_eq!(
        signed(&run(&mut cmd)).claims["aud"],
        token_endpoint("https://login.microsoftonline.us", TENANT)
    );
    // A tenant domain is used as given (lower-cased), in the path.
    let mut cmd = graphd();
    cmd.args([
        "assertion",
        "--tenant",
        "Contoso.onmicrosoft.com",
        "--client-id",
        CLIENT_ID,
        "--cert",
    ]);
    cmd.arg(fixtures().path("key-then-cert.pem"));
    let jwt = signed(&run(&mut cmd));
    assert_eq!(
        jwt.claims["aud"],
        token_endpoint(
            "https://login.microsoftonline.com",
            "contoso.onmicrosoft.com"
        )
    );
}

#[test]
fn plain_http_is_refused_outside_loopback() {
    for host in [
        "http://login.microsoftonline.com",
        "http://127.0.0.1.example.com",
        "ftp://login.example.test",
    ] {
        let out = assertion(&["--authority-host", host], "key-then-cert.pem");
        out.refused(2, None, "--authority-host");
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn tenants_naming_many_tenants_and_bad_client_ids_are_refused() {
    let fx = fixtures();
    for tenant in [
        "common",
        "organizations",
        "consumers",
        "Common",
        "not a tenant",
        "contoso",
    ] {
        let mut cmd = graphd();
        cmd.args([
            "assertion",
            "--tenant",
            tenant,
            "--client-id",
            CLIENT_ID,
            "--cert",
        ])
        .arg(fx.path("key-then-cert.pem"));
        let out = run(&mut cmd);
        out.refused(2, None, "--tenant");
        assert_eq!(out.stdout, "");
        let mut cmd = graphd();
        cmd.args(["assertion", "--client-id", CLIENT_ID, "--cert"])
            .arg(fx.path("key-then-cert.pem"));
        cmd.env("AZURE_TENANT_ID", tenant);
        run(&mut cmd).refused(2, None, "tenant");
    }
    for id in [
        "my-app",
        "aaaaaaaa-bbbb-cccc-dddd",
        "{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}",
        "zzzzzzzz-bbbb-cccc-dddd-eeeeeeeeeeee",
    ] {
        let mut cmd = graphd();
        cmd.args(["assertion", "--tenant", TENANT, "--client-id", id, "--cert"])
            .arg(fx.path("key-then-cert.pem"));
        run(&mut cmd).refused(2, None, "is not a GUID");
    }
    // Missing settings are usage errors that say what to pass.
    let out = run(graphd()
        .args(["assertion", "--client-id", CLIENT_ID, "--cert"])
        .arg(fx.path("key-then-cert.pem")));
    out.refused(2, None, "no tenant given");
    let out = run(graphd()
        .args(["assertion", "--tenant", TENANT, "--cert"])
        .arg(fx.path("key-then-cert.pem")));
    out.refused(2, None, "no client id given");
    let out = run(&mut graphd_app("assertion"));
    out.refused(2, None, "no certificate given");
}

#[test]
fn no_password_flag_exists() {
    // Secrets never come from argv: there is no --password VALUE to put one there.
    let out = assertion(&["--password", "x"], "key-then-cert.pem");
    out.refused(2, None, "--password");
}
