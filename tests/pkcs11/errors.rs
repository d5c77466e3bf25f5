//! Every refusal of issue 12, each with its hint and exit code: the module, the token, the
//! PIN (never retried), the key, the certificate, and URIs that put the PIN on the command line.

use crate::support::outcome::{Outcome, run};
use crate::support::softhsm::{PIN, SoftHsm, module};
use crate::support::{CLIENT_ID, Pair, TENANT, graphd, openssl};

use super::{generated, imported};

/// `graphd assertion` with `hsm`'s token and `args`, PIN from the PIN file unless given.
fn assertion(hsm: &SoftHsm, args: &[&str]) -> Outcome {
    let mut cmd = hsm.graphd();
    cmd.args(["assertion", "--tenant", TENANT, "--client-id", CLIENT_ID])
        .args(args);
    if !args.iter().any(|a| a.starts_with("--pin")) {
        cmd.arg("--pin-file").arg(hsm.pin_file());
    }
    run(&mut cmd)
}

#[test]
fn module_missing_foreign_or_not_given() {
    let hsm = SoftHsm::with_token("graphd");
    let key = ["--key", "pkcs11:token=graphd;object=k"];
    let o = assertion(
        &hsm,
        &[&key[..], &["--pkcs11-module", "/nonexistent/libnothing.so"]].concat(),
    );
    o.refused(
        3,
        None,
        "PKCS#11 module /nonexistent/libnothing.so: no such file",
    );
    assert!(
        o.stderr.contains(module().to_str().unwrap()),
        "the hint names the modules on this machine:\n{}",
        o.stderr
    );

    let text = hsm.dir().join("libtext.so");
    std::fs::write(&text, "not a library").unwrap();
    let o = assertion(
        &hsm,
        &[&key[..], &["--pkcs11-module", text.to_str().unwrap()]].concat(),
    );
    o.refused(
        3,
        None,
        "is not a PKCS#11 module: it is not a shared library",
    );

    // A real shared library that is not a PKCS#11 module.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/usr/lib/libc.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).is_file());
    if let Some(libc) = libc {
        let o = assertion(&hsm, &[&key[..], &["--pkcs11-module", libc]].concat());
        o.refused(
            3,
            None,
            "is not a PKCS#11 module: it exports no C_GetFunctionList",
        );
    }

    let mut cmd = graphd();
    cmd.env("SOFTHSM2_CONF", hsm.conf())
        .args(["assertion", "--tenant", TENANT, "--client-id", CLIENT_ID])
        .args(key);
    let o = run(&mut cmd);
    o.refused(2, None, "no PKCS#11 module");
    assert!(o.stderr.contains("--pkcs11-module"), "{}", o.stderr);

    let o = assertion(
        &hsm,
        &[
            "--key",
            "pkcs11:token=graphd;object=k?module-path=/other/lib.so",
        ],
    );
    o.refused(2, None, "--pkcs11-module names");
}

#[test]
fn token_not_found_lists_the_tokens_present() {
    let hsm = SoftHsm::with_token("graphd");
    hsm.init_token("second");
    let o = assertion(&hsm, &["--key", "pkcs11:token=nope;object=k"]);
    o.refused(3, None, "no token matches pkcs11:token=nope;object=k");
    assert!(
        o.stderr.contains("tokens present: ") && o.stderr.contains("'graphd' (SoftHSM v2, serial "),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("'second'"), "{}", o.stderr);
    let o = assertion(&hsm, &["--key", "pkcs11:object=k"]);
    o.refused(3, None, "2 tokens match pkcs11:object=k");
}

#[test]
fn a_wrong_pin_is_tried_once_and_the_token_flags_are_reported() {
    let hsm = SoftHsm::with_token("graphd");
    imported(&hsm, 2048);
    let wrong = hsm.dir().join("wrong-pin");
    std::fs::write(&wrong, "0000-wrong-pin\n").unwrap();
    let key = "pkcs11:token=graphd;object=app-key";
    let wrong = wrong.to_str().unwrap();
    let o = assertion(&hsm, &["--key", key, "--pin-file", wrong]);
    let line = o.refused(3, None, "token 'graphd' refused the PIN from --pin-file");
    assert!(
        line.contains("CKR_PIN_INCORRECT") && line.contains("does not try again"),
        "{line}"
    );
    assert!(o.stderr.contains("CKF_USER_PIN_COUNT_LOW"), "{}", o.stderr);
    // One C_Login, no second try.
    let o = assertion(&hsm, &["-v", "--key", key, "--pin-file", wrong]);
    assert_eq!(o.code, Some(3));
    assert_eq!(
        o.stderr.matches("pkcs11: logging in").count(),
        1,
        "{}",
        o.stderr
    );

    // A PIN the token cannot take is not even tried.
    let o = assertion(&hsm, &["--key", key, "--pin-stdin"]);
    o.refused(
        3,
        None,
        "the PIN from stdin has 0 characters, but token 'graphd' takes 4 to 255",
    );
    let o = assertion(&hsm, &["-v", "--key", key, "--pin-stdin"]);
    assert_eq!(o.code, Some(3));
    assert_eq!(
        o.stderr.matches("pkcs11: logging in").count(),
        0,
        "{}",
        o.stderr
    );

    // No PIN and no terminal.
    let mut cmd = hsm.graphd();
    cmd.args(["assertion", "--tenant", TENANT, "--client-id", CLIENT_ID])
        .args(["--key", "pkcs11:token=graphd;object=app-key"]);
    let o = run(&mut cmd);
    o.refused(3, None, "token 'graphd' needs its user PIN");
    assert!(o.stderr.contains("GRAPHD_PKCS11_PIN"));
}

#[test]
fn keys_that_cannot_be_used() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = imported(&hsm, 2048);
    // Not there: the hint lists the keys that are.
    let o = assertion(&hsm, &["--key", "pkcs11:token=graphd;object=missing"]);
    o.refused(
        3,
        None,
        "no private key matches pkcs11:token=graphd;object=missing in token 'graphd'",
    );
    assert!(o.stderr.contains("object=app-key;id=%01"), "{}", o.stderr);

    // Not RSA, and too small.
    let dir = hsm.dir();
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.pem",
        ],
    );
    hsm.import("graphd", &dir.join("ec.pem"), "ec-key", "02");
    let o = assertion(&hsm, &["--key", "pkcs11:token=graphd;object=ec-key"]);
    o.refused(3, None, "is EC, not RSA");
    let small = Pair::new(dir, "small", 1024, 365);
    hsm.import("graphd", &small.key, "small", "03");
    let o = assertion(
        &hsm,
        &[
            "--key",
            "pkcs11:token=graphd;object=small",
            "--cert",
            small.cert.to_str().unwrap(),
        ],
    );
    o.refused(
        3,
        None,
        "is RSA 1024 bits, below Entra ID's minimum of 2048",
    );

    // Another key's certificate, and no certificate at all.
    let other = Pair::new(dir, "other", 2048, 365);
    let o = assertion(
        &hsm,
        &[
            "--key",
            "pkcs11:token=graphd;object=app-key",
            "--cert",
            other.cert.to_str().unwrap(),
        ],
    );
    o.refused(3, None, "does not belong to the certificate");
    let o = assertion(&hsm, &["--key", "pkcs11:token=graphd;object=app-key"]);
    o.refused(3, None, "the token holds no certificate for the key");
    assert!(o.stderr.contains("--cert FILE"));
    // With its own certificate it works.
    assertion(
        &hsm,
        &[
            "--key",
            "pkcs11:token=graphd;object=app-key",
            "--cert",
            cert.to_str().unwrap(),
        ],
    )
    .ok();
}

#[test]
fn uris_that_cannot_work_are_usage_errors_and_never_echo_a_pin() {
    let hsm = SoftHsm::with_token("graphd");
    for (uri, says) in [
        (
            format!("pkcs11:token=graphd;object=k?pin-value={PIN}"),
            "pin-value",
        ),
        (format!("pkcs11:token=graphd;pin-value={PIN}"), "pin-value"),
        (
            "pkcs11:token=graphd;object=k;token=x".to_string(),
            "appears twice",
        ),
        (
            "pkcs11:token=graphd;objekt=k".to_string(),
            "objekt is not one graphd understands",
        ),
        ("pkcs11:token=graphd;id=%zz".to_string(), "two-digit escape"),
    ] {
        for flag in ["--key", "--cert"] {
            let o = assertion(&hsm, &[flag, &uri]);
            o.refused(2, None, says);
            assert!(
                !o.stderr.contains(PIN),
                "{uri}: the PIN is echoed:\n{}",
                o.stderr
            );
        }
    }
    let o = assertion(&hsm, &["--key", "pkcs11:token=graphd;object=k;type=cert"]);
    o.refused(2, None, "--key names a cert object");
    // gen-cert: --key is a URI or nothing; a PIN only with it.
    let mut cmd = hsm.graphd();
    cmd.args(["gen-cert", "--key", "key.pem"]);
    run(&mut cmd).refused(2, None, "invalid --key");
    let mut cmd = hsm.graphd();
    cmd.args(["gen-cert", "--pin-stdin"])
        .arg("--out")
        .arg(hsm.dir());
    run(&mut cmd).refused(2, None, "a PIN is only for --key pkcs11:");
}

#[test]
fn a_key_the_token_limits_is_refused_with_the_way_out() {
    let hsm = SoftHsm::with_token("graphd");
    generated(&hsm, "base");
    // Keys with CKA_ALLOWED_MECHANISMS = {CKM_SHA256_RSA_PKCS} and CKA_ALWAYS_AUTHENTICATE,
    // made by a child process that talks to the token directly.
    super::inproc::child(&hsm, "child_make_limited_keys").ok();
    let o = assertion(&hsm, &["--key", "pkcs11:token=graphd;object=rs256-only"]);
    o.refused(
        3,
        None,
        "token 'graphd' offers no RSA-PSS signature for this key",
    );
    assert!(o.stderr.contains("--alg RS256"));
    // RS256 passes that check and stops at the next: no certificate for this key.
    let o = assertion(
        &hsm,
        &[
            "--alg",
            "RS256",
            "--key",
            "pkcs11:token=graphd;object=rs256-only",
        ],
    );
    o.refused(3, None, "the token holds no certificate for the key");
    let o = assertion(&hsm, &["--key", "pkcs11:token=graphd;object=always"]);
    o.refused(
        3,
        None,
        "wants the PIN again for every signature (CKA_ALWAYS_AUTHENTICATE)",
    );
}
