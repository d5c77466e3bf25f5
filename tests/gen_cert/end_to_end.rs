//! From nothing to a token: `graphd gen-cert`, register the new certificate with the
//! emulator (as the upload to the app registration would), then `graphd token` with it,
//! through the PEM pair and through the PFX.

use graphd::emulator::{AppRegistration, EmulatorConfig};
use openssl::x509::X509;

use super::gen_cert;
use crate::support::emulator::{graphd_at, start_with};
use crate::support::{CLIENT_ID, TENANT};

#[test]
fn a_generated_certificate_gets_a_token_as_pem_and_as_pfx() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "pfx secret\n").unwrap();
    let out = gen_cert(
        dir.path(),
        &["--pfx", "--password-file", "pw", "--client-id", CLIENT_ID],
    );
    assert!(out.status.success(), "{}", super::stderr(&out));
    // What the user uploads is exactly what gen-cert printed.
    let uploaded = X509::from_pem(&out.stdout).unwrap();
    assert_eq!(
        uploaded.to_der().unwrap(),
        X509::from_pem(&std::fs::read(dir.path().join("certs/cert.pem")).unwrap())
            .unwrap()
            .to_der()
            .unwrap()
    );
    let emu = start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.into(),
            certificates: vec![uploaded],
            roles: vec!["User.Read.All".into()],
        }],
        ..EmulatorConfig::default()
    });
    let certs = dir.path().join("certs");
    for alg in ["PS256", "RS256"] {
        graphd_at(&emu)
            .args(["token", "--alg", alg, "--cert"])
            .arg(certs.join("cert.pem"))
            .arg("--key")
            .arg(certs.join("key.pem"))
            .assert()
            .success();
    }
    graphd_at(&emu)
        .args(["token", "--cert"])
        .arg(certs.join("graphd.pfx"))
        .arg("--password-file")
        .arg(dir.path().join("pw"))
        .assert()
        .success();
    let counters = emu.counters();
    assert_eq!(counters.token.requests, 3);
    // The pair graphd made for someone else's app is refused by the service, not locally.
    let other = graphd_at(&emu)
        .env("AZURE_TENANT_ID", TENANT)
        .args([
            "token",
            "--client-id",
            "00000000-1111-2222-3333-444444444444",
            "--cert",
        ])
        .arg(certs.join("cert.pem"))
        .arg("--key")
        .arg(certs.join("key.pem"))
        .output()
        .unwrap();
    assert_eq!(
        other.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}
