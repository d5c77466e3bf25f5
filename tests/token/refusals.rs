//! Every refusal of issue 4: exit 4, one line with the AADSTS code, its meaning and the
//! request ids, a hint that says what to do, and no retry. Natural triggers where the
//! emulator has them, its `aadsts=CODE` fault for the rest.

use graphd::emulator::{AppRegistration, EmulatorConfig, FaultAction, FaultRule};
use openssl::x509::X509;

use super::{Run, shared_thumbprint, token};
use crate::support::emulator::{graphd_at, shared_app, start, start_with};
use crate::support::fixtures::fixtures;
use crate::support::{CLIENT_ID, Pair, TENANT};

/// Checks the common shape of a refusal and returns (error line, hint).
#[track_caller]
fn refused(run: Run, code: u32) -> (String, String) {
    let run = run.expect_code(4);
    let (error, hint) = run.error_and_hint();
    assert!(error.contains(&format!(": AADSTS{code} ")), "{error}");
    assert!(error.contains("trace_id "), "{error}");
    assert!(error.contains("correlation_id "), "{error}");
    assert!(!hint.is_empty(), "AADSTS{code} has a hint: {run:#?}");
    (error, hint)
}

#[test]
fn an_unregistered_certificate_names_its_thumbprint_and_the_upload() {
    let other_cert = X509::from_pem(&fixtures().read("other.crt")).unwrap();
    let emu = start_with(EmulatorConfig {
        users: 0,
        apps: vec![AppRegistration {
            certificates: vec![other_cert],
            ..shared_app(&["User.Read.All"])
        }],
        ..EmulatorConfig::default()
    });
    // The shared credential as one PEM holding the key: upload the certificate only.
    let (_, hint) = refused(token(&emu, &[]), 700_027);
    assert!(hint.contains(&shared_thumbprint()), "{hint}");
    let combined = &Pair::shared().combined;
    let extracted = combined.with_file_name(format!(
        "{}.cert.pem",
        combined.file_stem().unwrap().to_string_lossy()
    ));
    assert!(
        hint.contains(&format!(
            "openssl x509 -in {} -out {} && az ad app credential reset --id {CLIENT_ID} --cert @{} --append",
            combined.display(),
            extracted.display(),
            extracted.display()
        )),
        "{hint}"
    );
    // Certificate and key in separate files: upload the certificate file as it is.
    let cert = Pair::shared().cert.display().to_string();
    let run = super::run(graphd_at(&emu).args([
        "token",
        "--cert",
        &cert,
        "--key",
        &Pair::shared().key.display().to_string(),
    ]));
    let (_, hint) = refused(run, 700_027);
    assert!(
        hint.contains(&format!(
            "az ad app credential reset --id {CLIENT_ID} --cert @{cert} --append"
        )),
        "{hint}"
    );
    assert!(!hint.contains("openssl"), "{hint}");
    assert_eq!(emu.counters().token.requests, 2, "refusals are not retried");
}

#[test]
fn an_unknown_app_tenant_or_scope_is_named() {
    let emu = start(0);
    let other_app = "99999999-8888-7777-6666-555555555555";
    let (_, hint) = refused(token(&emu, &["--client-id", other_app]), 700_016);
    assert!(hint.contains(other_app) && hint.contains(TENANT), "{hint}");

    let other_tenant = "22222222-3333-4444-5555-666666666666";
    let (_, hint) = refused(token(&emu, &["--tenant", other_tenant]), 90_002);
    assert!(
        hint.contains(other_tenant) && hint.contains("--cloud"),
        "{hint}"
    );

    let (error, hint) = refused(
        token(
            &emu,
            &["--scope", "https://graph.microsoft.com/User.Read.All"],
        ),
        1_002_012,
    );
    assert!(error.contains("/.default"), "{error}");
    assert!(
        hint.contains("/.default") && hint.contains("--scope"),
        "{hint}"
    );

    let (_, hint) = refused(token(&emu, &["--scope", "/.default"]), 70_011);
    assert!(hint.contains("--scope"), "{hint}");
    assert_eq!(emu.counters().token.requests, 4, "refusals are not retried");
    assert_eq!(emu.counters().tokens_issued, 0);
}

#[test]
fn clock_skew_shows_both_clocks() {
    // A certificate valid since yesterday, so that a service clock an hour behind still
    // finds it valid and judges the assertion instead.
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, cert) = super::backdated_cert(dir.path());
    let (cert_path, key_path) = (
        cert_path.display().to_string(),
        Pair::shared().key.display().to_string(),
    );
    for (offset, direction) in [(3600, "behind"), (-3600, "ahead")] {
        let emu = start_with(EmulatorConfig {
            users: 0,
            clock_offset_secs: offset,
            apps: vec![AppRegistration {
                certificates: vec![cert.clone()],
                ..shared_app(&["User.Read.All"])
            }],
            ..EmulatorConfig::default()
        });
        let args = ["--cert", cert_path.as_str(), "--key", key_path.as_str()];
        let (_, hint) = refused(token(&emu, &args), 700_024);
        assert!(hint.contains("local 20"), "{hint}");
        assert!(hint.contains("server 20"), "{hint}");
        // The server's Date has whole seconds: the measured skew is within one of the truth.
        let skew = offset.abs();
        assert!(
            [skew - 1, skew, skew + 1]
                .iter()
                .any(|s| hint.contains(&format!("this machine is {s} s {direction}"))),
            "{hint}"
        );
        assert!(hint.contains("NTP"), "{hint}");
    }
}

#[test]
fn injected_refusals_each_have_their_hint() {
    let cases: [(u32, &[&str]); 6] = [
        (7_000_215, &["client secret", "certificate assertion"]),
        (7_000_222, &["expired", "graphd gen-cert --client-id"]),
        (50_032, &["2048"]),
        (
            700_023,
            &["audience", "/oauth2/v2.0/token", "--authority-host"],
        ),
        (700_027, &["az ad app credential reset"]),
        (70_011, &["/.default"]),
    ];
    for (code, words) in cases {
        let emu = start_with(EmulatorConfig {
            users: 0,
            faults: vec![FaultRule::token(FaultAction::Entra(code))],
            ..EmulatorConfig::default()
        });
        let (_, hint) = refused(token(&emu, &["--max-retries", "3"]), code);
        for w in words {
            assert!(hint.contains(w), "AADSTS{code}: {w:?} not in {hint}");
        }
        let c = emu.counters();
        assert_eq!(
            (c.token.requests, c.tokens_issued),
            (1, 0),
            "AADSTS{code} is not retried"
        );
    }
    // The audience named in the 700023 hint is the endpoint graphd called.
    let emu = start_with(EmulatorConfig {
        users: 0,
        faults: vec![FaultRule::token(FaultAction::Entra(700_023))],
        ..EmulatorConfig::default()
    });
    let (_, hint) = refused(token(&emu, &[]), 700_023);
    assert!(hint.contains(&emu.token_endpoint()), "{hint}");
}
