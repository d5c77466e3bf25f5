//! Finding 12: a refused value is never repeated, and help never shows an environment
//! variable's value (an authority URL can carry `user:password@`, and help and usage errors
//! end up in CI logs). Checked on the binary, for every command and every value-taking option
//! the unit tests in `cli::render` feed directly.

use crate::support::graphd;
use crate::support::outcome::run;

const SECRET: &str = "hunter2-0b9f";

/// Every environment variable graphd reads through clap, holding something secret-looking.
fn secret_env() -> Vec<(&'static str, String)> {
    vec![
        (
            "AZURE_AUTHORITY_HOST",
            format!("https://user:{SECRET}@login.example"),
        ),
        (
            "GRAPHD_GRAPH_ENDPOINT",
            format!("https://user:{SECRET}@graph.example"),
        ),
        ("AZURE_TENANT_ID", format!("{SECRET}.example")),
        ("AZURE_CLIENT_ID", SECRET.to_string()),
        (
            "AZURE_CLIENT_CERTIFICATE_PATH",
            format!("/{SECRET}/key.pem"),
        ),
        ("GRAPHD_CA_FILE", format!("/{SECRET}/ca.pem")),
        ("GRAPHD_TOKEN_CACHE", format!("/{SECRET}/cache")),
        ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", SECRET.to_string()),
    ]
}

#[test]
fn finding_12_help_never_shows_an_environment_value() {
    let commands = [
        "",
        "gen-cert",
        "cert",
        "assertion",
        "token",
        "list-users",
        "get",
        "consent-url",
        "emulator",
        "demo",
    ];
    for cmd in commands {
        for form in [&["--help"][..], &["-h"], &["help"]] {
            let mut c = graphd();
            for (k, v) in secret_env() {
                c.env(k, v);
            }
            let args: Vec<&str> = match (cmd, form) {
                ("", _) => form.to_vec(),
                (_, ["help"]) => vec!["help", cmd],
                _ => [&[cmd][..], form].concat(),
            };
            let out = run(c.args(&args));
            assert_eq!(out.code, Some(0), "graphd {args:?}: {}", out.stderr);
            assert!(
                !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
                "graphd {args:?} shows an environment value:\n{}",
                out.stdout
            );
        }
    }
}

#[test]
fn finding_12_a_refused_value_is_never_repeated() {
    let cases: &[&[&str]] = &[
        &["token", "--cloud", SECRET],
        &["token", "--alg", SECRET],
        &["token", "--timeout", SECRET],
        &["token", "--max-retries", SECRET],
        &["token", "--tenant", SECRET],
        &["token", "--client-id", SECRET],
        &[
            "token",
            "--authority-host",
            &format!("http://u:{SECRET}@evil.example"),
        ],
        &[
            "token",
            "--graph",
            &format!("ftp://u:{SECRET}@evil.example"),
        ],
        &["list-users", "--output", SECRET],
        &["list-users", "--top", SECRET],
        &["list-users", "--max", SECRET],
        &["gen-cert", "--days", SECRET],
        &["gen-cert", "--key-size", SECRET],
        &["gen-cert", "--subject", &format!("XX={SECRET}")],
        &["emulator", "--bind", SECRET],
        &["emulator", "--users", SECRET],
        &["emulator", "--clock-offset", SECRET],
        &["completions", SECRET],
        &["consent-url", "--redirect-uri", SECRET],
        &[SECRET],
        &["token", SECRET],
        // An unknown option's name is shown (it is what was mistyped), its value never.
        &["token", &format!("--password={SECRET}")],
        &["token", "--password", SECRET],
        &["token", &format!("-p{SECRET}")],
    ];
    for args in cases {
        let out = run(graphd().args(*args));
        assert_eq!(out.code, Some(2), "graphd {args:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains(SECRET) && !out.stdout.contains(SECRET),
            "graphd {args:?} repeats the value:\n{}",
            out.stderr
        );
        assert!(out.stderr.starts_with("graphd: error: "), "{}", out.stderr);
    }
    // The same values from the environment.
    for (k, v) in [
        (
            "AZURE_AUTHORITY_HOST",
            format!("http://u:{SECRET}@evil.example"),
        ),
        (
            "GRAPHD_GRAPH_ENDPOINT",
            format!("ftp://u:{SECRET}@evil.example"),
        ),
        ("AZURE_TENANT_ID", SECRET.to_string()),
        ("AZURE_CLIENT_ID", SECRET.to_string()),
        ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", SECRET.to_string()),
    ] {
        let out = run(graphd().env(k, &v).arg("token"));
        assert_eq!(out.code, Some(2), "{k}: {}", out.stderr);
        assert!(
            !out.stderr.contains(SECRET),
            "{k} repeated:\n{}",
            out.stderr
        );
    }
}
