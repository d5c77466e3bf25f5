//! `graphd rotate` with a key file (issue 13), quiet, with `-v` and with `GRAPHD_LOG=trace`:
//! rotations that succeed (the old key removed; an encrypted key kept under its password),
//! `--dry-run` (with and without `--object-id`), and failures at steps 4, 5 and 7. Neither the
//! old nor the new private key (PEM lines, DER, private components), nor the password, nor
//! any JWT (the proof of possession, an assertion, an access token) reaches stdout or stderr;
//! stdout is exactly the new certificate's PEM when one was made, and empty otherwise.

use graphd::emulator::{FaultAction, FaultRule, Schedule, Side};
use openssl::x509::X509;

use super::{Secrets, Way};
use crate::rotate::{Cred, emulator, registered, rotate, today};
use crate::support::CLIENT_ID;
use crate::support::outcome::{Outcome, run};

/// The encrypted key's password (gen-cert and rotate read it from a file).
const PASSWORD: &str = "rotate-leak-Pa55word";

/// What a scenario leaves: the new certificate PEM on stdout, or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Rotated: stdout is the certificate in key.pem, and key.pem is the new key.
    NewCertificate,
    /// Nothing made or nothing printed: stdout is empty.
    Nothing,
}

#[derive(Clone)]
struct Scenario {
    name: &'static str,
    /// `gen-cert` arguments for the starting credential.
    gen_cert: &'static [&'static str],
    password: Option<&'static str>,
    /// The key's propagation delay in the emulator.
    propagation_ms: u64,
    faults: Vec<FaultRule>,
    /// `rotate` arguments; `{pw}` is the password file, `{object}` the app's object id.
    args: &'static [&'static str],
    code: i32,
    expect: Expect,
}

fn scenarios() -> Vec<Scenario> {
    let graph_fails_from = |skip| FaultRule {
        side: Side::Graph,
        schedule: Schedule {
            skip,
            every: 1,
            count: None,
        },
        action: FaultAction::Status {
            status: 503,
            retry_after: None,
        },
    };
    let plain = Scenario {
        name: "remove old",
        gen_cert: &[],
        password: None,
        propagation_ms: 0,
        faults: Vec::new(),
        args: &["--remove-old"],
        code: 0,
        expect: Expect::NewCertificate,
    };
    vec![
        Scenario {
            name: "encrypted key, password file",
            gen_cert: &["--encrypt-key", "--password-file", "pw"],
            password: Some(PASSWORD),
            args: &["--password-file", "{pw}"],
            ..plain.clone()
        },
        Scenario {
            name: "dry run",
            args: &["--dry-run", "--remove-old", "--object-id", "{object}"],
            expect: Expect::Nothing,
            ..plain.clone()
        },
        Scenario {
            name: "dry run, no object id",
            args: &["--dry-run"],
            expect: Expect::Nothing,
            ..plain.clone()
        },
        Scenario {
            name: "step 4: proof refused",
            args: &["--proof-audience", "00000003-0000-0000-c000-000000000000"],
            code: 5,
            expect: Expect::Nothing,
            ..plain.clone()
        },
        Scenario {
            name: "step 5: never propagates",
            propagation_ms: 3_600_000,
            args: &["--propagation-timeout", "1"],
            code: 4,
            expect: Expect::Nothing,
            ..plain.clone()
        },
        Scenario {
            name: "step 7: removeKey fails",
            faults: vec![graph_fails_from(2)],
            args: &["--remove-old", "--max-retries", "0"],
            code: 6,
            ..plain.clone()
        },
        plain,
    ]
}

/// The certificate block of a key + certificate PEM, as text.
fn certificate_in(pem: &[u8]) -> String {
    let text = String::from_utf8(pem.to_vec()).unwrap();
    let start = text
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate in key.pem");
    text[start..].to_string()
}

/// Runs `s` one way, then checks its output against every key it knew or made.
fn check(s: &Scenario, way: Way) -> Outcome {
    let name = format!("{} ({way:?})", s.name);
    let cred = Cred::new(s.gen_cert, s.password);
    let emu = emulator(&cred, &["Application.Read.All"], s.propagation_ms);
    let original = std::fs::read(&cred.key).unwrap();
    let upload = std::fs::read(&cred.cert).unwrap();
    let object_id = emu.object_id(CLIENT_ID).unwrap();
    let pw_file = cred.path("pw");
    if pw_file.exists() {
        // As a password file should be (graphd warns about one others can read).
        std::fs::set_permissions(
            &pw_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
    }
    let pw_file = pw_file.display().to_string();
    let args: Vec<String> = s
        .args
        .iter()
        .map(|a| a.replace("{pw}", &pw_file).replace("{object}", &object_id))
        .collect();
    emu.set_faults(s.faults.clone());
    let out = run(way.apply(rotate(&emu, &cred.key).args(&args)));
    emu.set_faults(Vec::new());
    assert_eq!(
        out.code,
        Some(s.code),
        "{name}:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);

    let mut public = vec![X509::from_pem(&upload).unwrap().to_der().unwrap()];
    let now = std::fs::read(&cred.key).unwrap();
    let rotated = now != original;
    match s.expect {
        Expect::NewCertificate => {
            assert!(rotated, "{name}: key.pem holds the new key");
            assert_eq!(out.stdout, certificate_in(&now), "{name}: stdout");
            let new = X509::from_pem(out.stdout.as_bytes()).unwrap();
            assert_eq!(
                registered(&emu).last(),
                Some(&crate::rotate::thumbprint_of(out.stdout.as_bytes()))
            );
            public.push(new.to_der().unwrap());
            let backup = cred.path(&format!("certs/key.pem.previous-{}", today()));
            assert_eq!(std::fs::read(&backup).unwrap(), original, "{name}: backup");
        }
        Expect::Nothing => {
            assert!(!rotated, "{name}: key.pem unchanged");
            assert_eq!(out.stdout, "", "{name}: stdout");
        }
    }
    let mut secrets = Secrets::none();
    secrets.add_key(&original, s.password, &public);
    if rotated {
        secrets.add_key(&now, s.password, &public);
    }
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        secrets.assert_absent(&format!("{name}: {stream}"), text);
        // A JWS header or payload starts with `eyJ` (`{"`): no proof, assertion or token.
        assert!(!text.contains("eyJ"), "{name}: {stream} shows a JWT");
    }
    if s.code != 0 {
        assert!(
            out.stderr.contains("graphd: error: rotate step") && out.stderr.contains("\nhint: "),
            "{name}: {}",
            out.stderr
        );
    }
    out
}

#[test]
fn rotate_shows_neither_key_nor_proof_nor_token() {
    for s in scenarios() {
        for way in Way::ALL {
            let out = check(&s, way);
            // The traces say something whenever requests were sent.
            if way.traces() && !s.args.contains(&"--dry-run") {
                assert!(
                    out.stderr.contains("/oauth2/v2.0/token -> "),
                    "{} ({way:?}): no token request traced:\n{}",
                    s.name,
                    out.stderr
                );
            }
            if s.args.contains(&"--dry-run") {
                assert!(
                    out.stderr.contains("nothing will be sent"),
                    "{}",
                    out.stderr
                );
            }
        }
    }
}

/// The key search finds a key in every form it may be printed in, and not in its certificate.
#[test]
fn the_key_search_finds_keys_not_certificates() {
    let cred = Cred::new(&["--encrypt-key", "--password-file", "pw"], Some(PASSWORD));
    let pem = std::fs::read(&cred.key).unwrap();
    let cert = X509::from_pem(&std::fs::read(&cred.cert).unwrap()).unwrap();
    let mut secrets = Secrets::none();
    secrets.add_key(&pem, Some(PASSWORD), &[cert.to_der().unwrap()]);
    let key =
        openssl::pkey::PKey::private_key_from_pem_passphrase(&pem, PASSWORD.as_bytes()).unwrap();
    let rsa = key.rsa().unwrap();
    let found = |text: &str| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            secrets.assert_absent("probe", text)
        }))
        .is_err()
    };
    let plain_pem = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let pkcs1_pem = String::from_utf8(rsa.private_key_to_pem().unwrap()).unwrap();
    let encrypted = String::from_utf8(pem.clone()).unwrap();
    let d_hex = format!("Rsa {{ d: {} }}", rsa.d().to_hex_str().unwrap());
    for (what, text) in [
        ("PKCS#8 PEM", plain_pem.as_str()),
        ("PKCS#1 PEM", pkcs1_pem.as_str()),
        ("the encrypted PEM", encrypted.as_str()),
        ("d in hex", d_hex.as_str()),
        ("the password", PASSWORD),
    ] {
        assert!(found(text), "{what} is not found");
    }
    let cert_pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
    assert!(!found(&cert_pem), "the certificate is public");
}
