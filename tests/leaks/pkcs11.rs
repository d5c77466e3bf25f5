//! A token's PIN never reaches stdout or stderr (issue 12): every PIN source, right and wrong
//! PINs, a PIN refused before it is tried, a PIN put in the URI (`pin-value`), gen-cert, cert
//! and token; each quiet, with `-v` and with `GRAPHD_LOG=trace`.

use std::path::Path;

use crate::pkcs11::{at, emulator_for, generated};
use crate::support::outcome::run;
use crate::support::softhsm::{PIN, SoftHsm};
use crate::support::{CLIENT_ID, TENANT};

const WRONG_PIN: &str = "8462-wrong-pin-Hq";

struct Case {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    stdin: Option<String>,
    ok: bool,
}

fn case(name: &'static str, args: &[&str], ok: bool) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        stdin: None,
        ok,
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn no_pin_reaches_any_output() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = generated(&hsm, "app");
    let emu = emulator_for(&cert);
    let wrong = hsm.dir().join("wrong");
    std::fs::write(&wrong, format!("{WRONG_PIN}\n")).unwrap();
    let pin_file = hsm.pin_file();
    let key = "pkcs11:token=graphd;object=app";
    let id = ["assertion", "--tenant", TENANT, "--client-id", CLIENT_ID];
    let with =
        |extra: &[&str]| -> Vec<String> { id.iter().chain(extra).map(|s| s.to_string()).collect() };
    let pin_source = format!("{key}?pin-source=file:{}", p(&pin_file));
    let wrong_source = format!("{key}?pin-source=file:{}", p(&wrong));
    let mut cases = vec![
        case("assertion, PIN file", &[], true),
        case("assertion, pin-source", &[], true),
        case("assertion, wrong PIN file", &[], false),
        case("assertion, wrong pin-source", &[], false),
        case(
            "cert, PIN file",
            &["cert", "--json", key, "--pin-file", p(&pin_file)],
            true,
        ),
        case(
            "cert, wrong PIN",
            &["cert", key, "--pin-file", p(&wrong)],
            false,
        ),
        case(
            "gen-cert exists",
            &["gen-cert", "--key", key, "--pin-file", p(&pin_file)],
            false,
        ),
    ];
    cases[0].args = with(&["--key", key, "--pin-file", p(&pin_file)]);
    cases[1].args = with(&["--key", &pin_source]);
    cases[2].args = with(&["--key", key, "--pin-file", p(&wrong)]);
    cases[3].args = with(&["--key", &wrong_source]);
    let out = hsm.dir().join("gen");
    cases[6].args.extend(["--out".into(), p(&out).into()]);
    for (name, pin, ok) in [("env", PIN, true), ("wrong env", WRONG_PIN, false)] {
        let mut c = case(name, &[], ok);
        c.args = with(&["--key", key]);
        c.env.push(("GRAPHD_PKCS11_PIN", pin.into()));
        cases.push(c);
    }
    for (name, pin, ok) in [
        ("stdin", PIN.to_string(), true),
        ("wrong stdin", format!("{WRONG_PIN}\n"), false),
        ("short stdin", "12\n".to_string(), false),
    ] {
        let mut c = case(name, &[], ok);
        c.args = with(&["--key", key, "--pin-stdin"]);
        c.stdin = Some(pin);
        cases.push(c);
    }
    for (name, pin) in [("pin-value", PIN), ("wrong pin-value", WRONG_PIN)] {
        let mut c = case(name, &[], false);
        c.args = with(&["--key", &format!("{key}?pin-value={pin}")]);
        cases.push(c);
    }
    cases.push(case(
        "token",
        &["token", "--key", key, "--pin-file", p(&pin_file)],
        true,
    ));

    let mut runs = 0;
    for c in &cases {
        for (how, verbose, log) in [
            ("quiet", false, false),
            ("-v", true, false),
            ("GRAPHD_LOG=trace", false, true),
        ] {
            let mut cmd = if c.name == "token" {
                at(&emu, hsm.graphd())
            } else {
                hsm.graphd()
            };
            if verbose {
                cmd.arg("-v");
            }
            cmd.args(&c.args);
            for (k, v) in &c.env {
                cmd.env(k, v);
            }
            if log {
                cmd.env("GRAPHD_LOG", "trace");
            }
            if let Some(s) = &c.stdin {
                cmd.write_stdin(s.clone());
            }
            let o = run(&mut cmd);
            let name = format!("{} ({how})", c.name);
            assert_eq!(o.code == Some(0), c.ok, "{name}:\n{}", o.stderr);
            for (what, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
                assert!(!text.contains(PIN), "{name}: the PIN is on {what}");
                assert!(
                    !text.contains(WRONG_PIN),
                    "{name}: the wrong PIN is on {what}"
                );
                assert!(
                    !text.contains("7391-hsm"),
                    "{name}: part of the PIN is on {what}"
                );
            }
            assert!(!o.stderr.contains("panicked"), "{name}");
            runs += 1;
        }
    }
    assert_eq!(runs, cases.len() * 3);
}
