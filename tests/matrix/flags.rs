//! Flags, environment and `--config`: usage errors exit 2 before anything is read; problems
//! in a config file exit 3. None of them may touch a file.

use std::path::Path;

use super::{Case, run_all, workdir};
use crate::support::{CLIENT_ID, Pair, TENANT, graphd};

pub fn cases(dir: &Path) -> Vec<Case> {
    let pair = Pair::shared();
    std::fs::copy(&pair.combined, dir.join("cred.pem")).unwrap();
    std::fs::copy(&pair.key, dir.join("key-only.pem")).unwrap();
    let config = |name: &str, json: &str| {
        std::fs::write(dir.join(name), json).unwrap();
    };
    config("malformed.json", "{\"client_id\": ");
    config(
        "unknown.json",
        &format!(
            "{{\"tenant\": \"{TENANT}\", \"client_id\": \"{CLIENT_ID}\", \"tennant\": \"x\"}}"
        ),
    );
    config(
        "secret.json",
        &format!(
            "{{\"authority\": \"https://login.microsoftonline.com/{TENANT}\", \"client_id\": \"{CLIENT_ID}\", \"secret\": \"s3cr3t-value\"}}"
        ),
    );
    config(
        "placeholder.json",
        &format!(
            "{{\"authority\": \"https://login.microsoftonline.com/Enter_the_Tenant_Name_Here\", \"client_id\": \"{CLIENT_ID}\", \"private_key_file\": \"cred.pem\"}}"
        ),
    );
    config(
        "two-scopes.json",
        &format!(
            "{{\"tenant\": \"{TENANT}\", \"client_id\": \"{CLIENT_ID}\", \"scope\": [\"https://graph.microsoft.com/.default\", \"https://x/.default\"], \"cert\": \"cred.pem\"}}"
        ),
    );
    config(
        "bad-client.json",
        &format!(
            "{{\"tenant\": \"{TENANT}\", \"client_id\": \"not-a-guid\", \"cert\": \"cred.pem\"}}"
        ),
    );
    config(
        "thumbprint-mismatch.json",
        &format!(
            "{{\"authority\": \"https://login.microsoftonline.com/{TENANT}\", \"client_id\": \"{CLIENT_ID}\", \"private_key_file\": \"cred.pem\", \"thumbprint\": \"{}\"}}",
            "AB".repeat(20)
        ),
    );
    config(
        "thumbprint.json",
        &format!(
            "{{\"authority\": \"https://login.microsoftonline.com/{TENANT}\", \"client_id\": \"{CLIENT_ID}\", \"private_key_file\": \"key-only.pem\", \"thumbprint\": \"{}\"}}",
            "AB".repeat(20)
        ),
    );
    config(
        "wrong-type.json",
        &format!("{{\"tenant\": \"{TENANT}\", \"client_id\": 12345}}"),
    );
    std::fs::write(dir.join("a-file"), b"user data").unwrap();

    let app = [
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--cert",
        "cred.pem",
    ];
    let assertion = |name: &str, code, says: &str, extra: &[&str]| {
        Case::new(name, code, says)
            .args(["assertion"])
            .args(extra.iter().copied())
    };
    let with_app = |name: &str, code, says: &str, cmd: &str, extra: &[&str]| {
        Case::new(name, code, says)
            .args([cmd])
            .args(app)
            .args(extra.iter().copied())
    };
    vec![
        assertion(
            "tenant common",
            2,
            "invalid --tenant",
            &[
                "--tenant",
                "common",
                "--client-id",
                CLIENT_ID,
                "--cert",
                "cred.pem",
            ],
        ),
        assertion(
            "tenant organizations",
            2,
            "names many tenants",
            &[
                "--tenant",
                "organizations",
                "--client-id",
                CLIENT_ID,
                "--cert",
                "cred.pem",
            ],
        ),
        assertion(
            "tenant consumers",
            2,
            "names many tenants",
            &[
                "--tenant",
                "consumers",
                "--client-id",
                CLIENT_ID,
                "--cert",
                "cred.pem",
            ],
        ),
        assertion(
            "tenant not a GUID or domain",
            2,
            "neither a GUID nor a domain",
            &[
                "--tenant",
                "contoso",
                "--client-id",
                CLIENT_ID,
                "--cert",
                "cred.pem",
            ],
        ),
        Case::new("AZURE_TENANT_ID=common", 2, "names many tenants")
            .args(["assertion", "--client-id", CLIENT_ID, "--cert", "cred.pem"])
            .env("AZURE_TENANT_ID", "common"),
        assertion(
            "client id not a GUID",
            2,
            "is not a GUID",
            &[
                "--tenant",
                TENANT,
                "--client-id",
                "my-app",
                "--cert",
                "cred.pem",
            ],
        ),
        assertion(
            "client id GUID malformed",
            2,
            "is not a GUID",
            &[
                "--tenant",
                TENANT,
                "--client-id",
                "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeee",
                "--cert",
                "cred.pem",
            ],
        ),
        Case::new("AZURE_CLIENT_ID invalid", 2, "is not a GUID")
            .args(["assertion", "--tenant", TENANT, "--cert", "cred.pem"])
            .env("AZURE_CLIENT_ID", "12345"),
        with_app(
            "http:// non-loopback authority",
            2,
            "plain http",
            "token",
            &["--authority-host", "http://login.microsoftonline.com"],
        ),
        Case::new("AZURE_AUTHORITY_HOST http:// non-loopback", 2, "plain http")
            .args(["token"])
            .args(app)
            .env("AZURE_AUTHORITY_HOST", "http://login.example.com"),
        with_app(
            "http:// non-loopback Graph",
            2,
            "plain http",
            "list-users",
            &["--graph", "http://graph.microsoft.com"],
        ),
        Case::new(
            "GRAPHD_GRAPH_ENDPOINT http:// non-loopback",
            2,
            "plain http",
        )
        .args(["list-users"])
        .args(app)
        .env("GRAPHD_GRAPH_ENDPOINT", "http://graph.example.com"),
        with_app(
            "authority with a query",
            2,
            "query",
            "token",
            &["--authority-host", "https://login.microsoftonline.com/?x=1"],
        ),
        with_app(
            "authority not a URL scheme",
            2,
            "unsupported scheme",
            "token",
            &["--authority-host", "ftp://login.microsoftonline.com"],
        ),
        with_app(
            "password file and stdin together",
            2,
            "--password-file",
            "assertion",
            &["--password-file", "a-file", "--password-stdin"],
        ),
        with_app(
            "unknown cloud",
            2,
            "invalid value for --cloud",
            "token",
            &["--cloud", "mars"],
        ),
        with_app(
            "--alg ES256",
            2,
            "invalid value for --alg",
            "assertion",
            &["--alg", "ES256"],
        ),
        with_app("--top 1000", 2, "--top", "list-users", &["--top", "1000"]),
        with_app("--top 0", 2, "--top", "list-users", &["--top", "0"]),
        with_app("--timeout 0", 2, "--timeout", "token", &["--timeout", "0"]),
        with_app(
            "--max-retries 11",
            2,
            "--max-retries",
            "token",
            &["--max-retries", "11"],
        ),
        with_app(
            "--output without --all",
            2,
            "--all",
            "get",
            &["/v1.0/users", "--output", "csv"],
        ),
        with_app(
            "unknown output format",
            2,
            "invalid value for --output",
            "list-users",
            &["--output", "xml"],
        ),
        Case::new("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=maybe", 2, "--send-x5c")
            .args(["assertion"])
            .args(app)
            .env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "maybe"),
        Case::new("no tenant", 2, "no tenant given").args([
            "token",
            "--client-id",
            CLIENT_ID,
            "--cert",
            "cred.pem",
        ]),
        Case::new("no client id", 2, "no client id given")
            .args(["token", "--tenant", TENANT, "--cert", "cred.pem"]),
        Case::new("no certificate", 2, "no certificate given").args([
            "token",
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT_ID,
        ]),
        Case::new("unknown subcommand", 2, "").args(["list-groups"]),
        Case::new("unknown flag", 2, "unexpected argument '--tenat'")
            .args(["token", "--tenat", TENANT]),
        Case::new("gen-cert --key-size 1024", 2, "--key-size").args([
            "gen-cert",
            "--key-size",
            "1024",
            "--out",
            "out",
        ]),
        Case::new("gen-cert --days 0", 2, "--days")
            .args(["gen-cert", "--days", "0", "--out", "out"]),
        Case::new("gen-cert --days 4000", 2, "--days")
            .args(["gen-cert", "--days", "4000", "--out", "out"]),
        Case::new("gen-cert --subject malformed", 2, "--subject").args([
            "gen-cert",
            "--subject",
            "graphd",
            "--out",
            "out",
        ]),
        Case::new("gen-cert --out is a file", 3, "a-file").args(["gen-cert", "--out", "a-file"]),
        Case::new("gen-cert --pfx without a password", 3, "password")
            .args(["gen-cert", "--pfx", "--out", "out"]),
        Case::new("config missing", 3, "nope.json").args(["assertion", "--config", "nope.json"]),
        Case::new("config malformed JSON", 3, "malformed.json").args([
            "assertion",
            "--config",
            "malformed.json",
        ]),
        Case::new("config unknown field", 3, "tennant").args([
            "assertion",
            "--config",
            "unknown.json",
            "--cert",
            "cred.pem",
        ]),
        Case::new("config with a client secret", 3, "client secret").args([
            "token",
            "--config",
            "secret.json",
            "--cert",
            "cred.pem",
        ]),
        Case::new(
            "config authority placeholder",
            3,
            "Enter_the_Tenant_Name_Here",
        )
        .args(["assertion", "--config", "placeholder.json"]),
        Case::new("config with two scopes", 3, "scope").args([
            "token",
            "--config",
            "two-scopes.json",
        ]),
        Case::new("config client id not a GUID", 3, "client_id").args([
            "assertion",
            "--config",
            "bad-client.json",
        ]),
        Case::new("config field of the wrong type", 3, "client_id").args([
            "assertion",
            "--config",
            "wrong-type.json",
            "--cert",
            "cred.pem",
        ]),
        Case::new(
            "config thumbprint is not the certificate's",
            3,
            "thumbprint",
        )
        .args(["assertion", "--config", "thumbprint-mismatch.json"]),
        Case::new(
            "PS256 with only a SHA-1 thumbprint",
            3,
            "PS256 needs the certificate",
        )
        .args(["assertion", "--config", "thumbprint.json", "--alg", "PS256"]),
    ]
}

#[test]
fn flag_and_environment_cases() {
    let dir = workdir();
    let cases = cases(dir.path());
    run_all(dir.path(), graphd, cases);
}
