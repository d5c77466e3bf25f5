//! What users read, under review: `--help` of every command, and the `graphd: error:` and
//! `hint:` lines of representative failures, as insta snapshots (tests/snapshots/*.snap).
//!
//! A wording change fails here until the snapshot is updated on purpose
//! (`INSTA_UPDATE=always cargo test --test integration snapshots`, or `cargo insta review`),
//! so the diff of the `.snap` file shows every user-visible change in a pull request.
//! Anything that differs between runs (temporary paths, ports, thumbprints of generated
//! fixtures, Entra's trace ids, times) is replaced by a placeholder first.

use std::ffi::{OsStr, OsString};

use assert_cmd::Command;
use clap::CommandFactory;
use graphd::emulator::EmulatorConfig;

use crate::support::emulator::{graphd_at, start, start_with};
use crate::support::fixtures::fixtures;
use crate::support::{CLIENT_ID, TENANT, graphd, scratch};

/// Placeholders for what changes from run to run.
fn filters() -> Vec<(String, &'static str)> {
    let mut f = vec![
        (
            regex_escape(&scratch().path().display().to_string()),
            "[SCRATCH]",
        ),
        (r"/tmp/\.tmp[A-Za-z0-9]+".to_string(), "[TMP]"),
        (r"127\.0\.0\.1:\d+".to_string(), "127.0.0.1:[PORT]"),
        (r"\b[0-9A-F]{64}\b".to_string(), "[SHA256]"),
        (r"\b[0-9A-F]{40}\b".to_string(), "[SHA1]"),
        (r"\b[A-Za-z0-9_-]{43}\b".to_string(), "[X5T#S256]"),
        (
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b".to_string(),
            "[GUID]",
        ),
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?".to_string(),
            "[TIME]",
        ),
        (
            r"\(after \d+ attempts\)".to_string(),
            "(after [N] attempts)",
        ),
    ];
    f.retain(|(p, _)| !p.is_empty());
    f
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

fn snapshot(name: &str, text: &str) {
    let filters: Vec<(String, &str)> = filters();
    let filters: Vec<(&str, &str)> = filters.iter().map(|(p, r)| (p.as_str(), *r)).collect();
    insta::with_settings!({
        filters => filters,
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn help_of_every_command() {
    let root = graphd::cli::Cli::command();
    let mut names: Vec<Vec<String>> = vec![Vec::new()];
    for sub in root.get_subcommands() {
        names.push(vec![sub.get_name().to_string()]);
    }
    for args in names {
        let out = graphd()
            .args(&args)
            .arg("--help")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let name = if args.is_empty() {
            "help".to_string()
        } else {
            format!("help-{}", args.join("-"))
        };
        snapshot(&name, &String::from_utf8_lossy(&out.stdout));
    }
}

/// One failure: what was run (described, not the temp paths), the exit code and the two
/// lines users read.
struct Case {
    title: &'static str,
    cmd: Command,
}

fn case(title: &'static str, cmd: Command) -> Case {
    Case { title, cmd }
}

/// `base` with these arguments.
fn run(mut base: Command, args: &[&dyn AsRef<OsStr>]) -> Command {
    for a in args {
        base.arg(a);
    }
    base
}

/// `base` with one more environment variable.
fn env(mut base: Command, key: &str, value: &str) -> Command {
    base.env(key, value);
    base
}

fn fx(name: &str) -> OsString {
    fixtures().path(name).into_os_string()
}

fn app() -> Command {
    let mut c = graphd();
    c.env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID);
    c
}

fn render(cases: Vec<Case>) -> String {
    let mut out = String::new();
    for mut c in cases {
        let o = c.cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("graphd: error: ") || l.starts_with("hint: "))
            .collect();
        assert!(
            lines
                .first()
                .is_some_and(|l| l.starts_with("graphd: error: ")),
            "{}: {stderr}",
            c.title
        );
        out.push_str(&format!(
            "## {} (exit {})\n{}\n\n",
            c.title,
            o.status.code().unwrap_or(-1),
            lines.join("\n")
        ));
    }
    out
}

#[test]
fn errors_and_hints_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let secret_config = write("secret.json", r#"{"client_id": "x", "secret": "abc"}"#);
    let not_json = write("broken.json", "{not json");
    let unknown_field = write("typo.json", r#"{"tennant": "contoso.com"}"#);
    let thumbprint_only = write(
        "quickstart.json",
        &format!(
            r#"{{"private_key_file": {:?}, "thumbprint": "00112233445566778899AABBCCDDEEFF00112233"}}"#,
            fixtures().path("leaf.key")
        ),
    );
    let empty = write("empty.pem", "");
    let open_cache = tmp.path().join("cache");
    std::fs::create_dir(&open_cache).unwrap();
    std::fs::set_permissions(
        &open_cache,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let not_ca = write("not-ca.pem", "no certificates here\n");
    let gen_out = tmp.path().join("certs");
    std::fs::create_dir(&gen_out).unwrap();
    std::fs::write(gen_out.join("key.pem"), "mine").unwrap();

    let combined = fx("key-then-cert.pem");
    let cases = vec![
        case(
            "no tenant",
            run(
                graphd(),
                &[&"token", &"--client-id", &CLIENT_ID, &"--cert", &combined],
            ),
        ),
        case(
            "no client id",
            run(graphd(), &[&"token", &"--tenant", &TENANT]),
        ),
        case("no certificate", run(app(), &[&"token"])),
        case(
            "certificate file missing",
            run(app(), &[&"token", &"--cert", &"/nonexistent/key.pem"]),
        ),
        case(
            "certificate path is a directory",
            run(app(), &[&"token", &"--cert", &"/"]),
        ),
        case(
            "empty certificate file",
            run(app(), &[&"token", &"--cert", &empty]),
        ),
        case(
            "certificate without its key",
            run(app(), &[&"assertion", &"--cert", &fx("leaf.crt")]),
        ),
        case(
            "key of another certificate",
            run(
                app(),
                &[
                    &"assertion",
                    &"--cert",
                    &fx("leaf.crt"),
                    &"--key",
                    &fx("other.key"),
                ],
            ),
        ),
        case(
            "encrypted key, no password",
            run(
                app(),
                &[&"assertion", &"--cert", &fx("enc-pkcs8-combined.pem")],
            ),
        ),
        case(
            "wrong PFX password",
            run(
                env(app(), "AZURE_CLIENT_CERTIFICATE_PASSWORD", "Wrong-pw"),
                &[&"assertion", &"--cert", &fx("default.pfx")],
            ),
        ),
        case(
            "RSA key below 2048 bits",
            run(
                app(),
                &[
                    &"assertion",
                    &"--cert",
                    &fx("rsa1024.crt"),
                    &"--key",
                    &fx("rsa1024.key"),
                ],
            ),
        ),
        case(
            "expired certificate",
            run(
                app(),
                &[
                    &"assertion",
                    &"--cert",
                    &fx("expired.crt"),
                    &"--key",
                    &fx("leaf.key"),
                ],
            ),
        ),
        case(
            "EC key",
            run(app(), &[&"assertion", &"--cert", &fx("ec.key")]),
        ),
        case(
            "config file with a client secret",
            run(graphd(), &[&"token", &"--config", &secret_config]),
        ),
        case(
            "config file not JSON",
            run(graphd(), &[&"token", &"--config", &not_json]),
        ),
        case(
            "config file with an unknown field",
            run(graphd(), &[&"token", &"--config", &unknown_field]),
        ),
        case(
            "PS256 with only a configured thumbprint",
            run(
                app(),
                &[
                    &"assertion",
                    &"--alg",
                    &"PS256",
                    &"--config",
                    &thumbprint_only,
                ],
            ),
        ),
        case(
            "x5c with only a configured thumbprint",
            run(
                app(),
                &[&"assertion", &"--send-x5c", &"--config", &thumbprint_only],
            ),
        ),
        case(
            "multi-tenant alias",
            run(
                graphd(),
                &[
                    &"consent-url",
                    &"--tenant",
                    &"organizations",
                    &"--client-id",
                    &CLIENT_ID,
                ],
            ),
        ),
        case(
            "unknown cloud",
            run(app(), &[&"token", &"--cloud", &"hunter2"]),
        ),
        case(
            "misspelt flag",
            run(app(), &[&"token", &"--tenant-id", &"x"]),
        ),
        case("misspelt command", run(graphd(), &[&"tokne"])),
        case(
            "a password as an argument",
            run(app(), &[&"token", &"hunter2"]),
        ),
        case(
            "a password flag",
            run(app(), &[&"token", &"--password=hunter2"]),
        ),
        case(
            "two password sources",
            run(
                app(),
                &[&"token", &"--password-file", &"pw", &"--password-stdin"],
            ),
        ),
        case(
            "token cache others can write",
            run(
                app(),
                &[
                    &"token",
                    &"--cert",
                    &combined,
                    &"--token-cache",
                    &open_cache,
                ],
            ),
        ),
        case(
            "CA file without certificates",
            run(
                app(),
                &[&"token", &"--cert", &combined, &"--ca-file", &not_ca],
            ),
        ),
        case(
            "proxy variable that is not a URL",
            run(
                env(app(), "HTTPS_PROXY", "::not a url::"),
                &[&"token", &"--cert", &combined],
            ),
        ),
        case(
            "gen-cert over an existing key",
            run(graphd(), &[&"gen-cert", &"--out", &gen_out]),
        ),
        case(
            "plain http to a remote host",
            run(
                app(),
                &[&"token", &"--authority-host", &"http://login.example.com"],
            ),
        ),
    ];
    assert!(cases.len() >= 25);
    snapshot("errors-offline", &render(cases));
}

#[test]
fn errors_and_hints_from_services() {
    let emu = start(3);
    let unregistered = start_with(EmulatorConfig {
        apps: vec![graphd::emulator::AppRegistration {
            certificates: vec![
                openssl::x509::X509::from_pem(&fixtures().read("other.crt")).unwrap(),
            ],
            ..crate::support::emulator::shared_app(&["User.Read.All"])
        }],
        ..EmulatorConfig::default()
    });
    let no_roles = start_with(EmulatorConfig {
        apps: vec![crate::support::emulator::shared_app(&[])],
        ..EmulatorConfig::default()
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let authority = format!("http://127.0.0.1:{closed_port}");
    let cases = vec![
        case(
            "certificate not registered (AADSTS700027)",
            run(graphd_at(&unregistered), &[&"token"]),
        ),
        case(
            "no application permission (Graph 403)",
            run(graphd_at(&no_roles), &[&"list-users"]),
        ),
        case(
            "unknown Graph segment (Graph 400)",
            run(graphd_at(&emu), &[&"get", &"/v1.0/groupz"]),
        ),
        case(
            "a URL on another host",
            run(
                graphd_at(&emu),
                &[&"get", &"https://example.com/v1.0/users"],
            ),
        ),
        case(
            "nothing listening",
            run(
                graphd_at(&emu),
                &[
                    &"token",
                    &"--max-retries",
                    &"0",
                    &"--authority-host",
                    &authority,
                ],
            ),
        ),
    ];
    snapshot("errors-services", &render(cases));
    drop(emu);
}
