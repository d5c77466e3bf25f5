//! Keys in hardware (issue 12): a key in a PKCS#11 token signs the client assertion inside
//! the token. Every test makes its own SoftHSM2 token (`support::softhsm`), imports a key with
//! `softhsm2-util` or generates one with `graphd gen-cert --key pkcs11:`, and gets tokens from
//! the strict emulator with both algorithms.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graphd::emulator::{AppRegistration, Emulator, EmulatorConfig};
use openssl::x509::X509;

use crate::support::outcome::run;
use crate::support::softhsm::{PIN, SoftHsm};
use crate::support::{CLIENT_ID, Pair, emulator, openssl};

mod errors;
mod inproc;
mod rotate;

/// An emulator that knows the app by `cert` (PEM file).
pub fn emulator_for(cert: &Path) -> crate::support::emulator::TestEmulator {
    let cert = X509::from_pem(&std::fs::read(cert).unwrap()).unwrap();
    emulator::start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.to_string(),
            certificates: vec![cert],
            roles: vec!["User.Read.All".into()],
        }],
        ..EmulatorConfig::default()
    })
}

/// `cmd` pointed at `emu` (authority, Graph, tenant, client id), no credential.
pub fn at(emu: &Emulator, mut cmd: Command) -> Command {
    cmd.env("AZURE_AUTHORITY_HOST", emu.authority_host().as_str())
        .env("GRAPHD_GRAPH_ENDPOINT", emu.graph_endpoint().as_str())
        .env("AZURE_TENANT_ID", emu.tenant())
        .env("AZURE_CLIENT_ID", CLIENT_ID);
    cmd
}

/// A key pair and self-signed certificate made by the openssl CLI, the key imported into the
/// token `graphd` as `app-key`, id 01. Returns the certificate file.
pub fn imported(hsm: &SoftHsm, bits: u32) -> PathBuf {
    let pair = Pair::new(hsm.dir(), "imported", bits, 365);
    hsm.import("graphd", &pair.key, "app-key", "01");
    pair.cert
}

/// `gen-cert --key pkcs11:token=graphd;object=LABEL` into `hsm`, returning cert.pem's path.
pub fn generated(hsm: &SoftHsm, label: &str) -> PathBuf {
    let out = hsm.dir().join(format!("certs-{label}"));
    let uri = format!("pkcs11:token=graphd;object={label}");
    let mut cmd = hsm.graphd();
    cmd.args(["gen-cert", "--key", &uri, "--subject", "CN=in-the-token"])
        .arg("--pin-file")
        .arg(hsm.pin_file())
        .arg("--out")
        .arg(&out);
    let o = run(&mut cmd);
    o.ok();
    let cert = out.join("cert.pem");
    assert_eq!(std::fs::read_to_string(&cert).unwrap(), o.stdout);
    cert
}

/// The JWS header of an assertion, as JSON.
fn header(jwt: &str) -> serde_json::Value {
    let h = jwt.trim().split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

/// The signature of `jwt` verifies with the certificate's public key.
fn verifies(jwt: &str, cert: &Path, alg: graphd::jws::Alg) -> bool {
    let cert = X509::from_pem(&std::fs::read(cert).unwrap()).unwrap();
    let (h, p, s) = graphd::jws::split(jwt.trim()).unwrap();
    let sig = URL_SAFE_NO_PAD.decode(s).unwrap();
    graphd::jws::verify(
        alg,
        &cert.public_key().unwrap(),
        format!("{h}.{p}").as_bytes(),
        &sig,
    )
}

#[test]
fn an_imported_key_gets_tokens_with_both_algorithms() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = imported(&hsm, 2048);
    let emu = emulator_for(&cert);
    for (alg, thumb) in [("PS256", "x5t#S256"), ("RS256", "x5t")] {
        let mut cmd = at(&emu, hsm.graphd());
        cmd.args([
            "token",
            "--alg",
            alg,
            "--key",
            "pkcs11:token=graphd;object=app-key",
        ])
        .arg("--cert")
        .arg(&cert)
        .arg("--pin-file")
        .arg(hsm.pin_file());
        let o = run(&mut cmd);
        o.ok();
        assert!(o.stdout.trim().len() > 100, "{alg}: a token is printed");

        let mut cmd = at(&emu, hsm.graphd());
        cmd.args([
            "assertion",
            "--alg",
            alg,
            "--key",
            "pkcs11:token=graphd;id=%01",
        ])
        .arg("--cert")
        .arg(&cert)
        .env("GRAPHD_PKCS11_PIN", PIN);
        let o = run(&mut cmd);
        o.ok();
        let h = header(&o.stdout);
        assert_eq!(h["alg"], alg);
        assert!(h.get(thumb).is_some(), "{h}");
        let a = if alg == "PS256" {
            graphd::jws::Alg::PS256
        } else {
            graphd::jws::Alg::RS256
        };
        assert!(
            verifies(&o.stdout, &cert, a),
            "{alg} verifies with the certificate"
        );
    }
    assert_eq!(emu.counters().tokens_issued, 2);
}

#[test]
fn every_pin_source_works_and_logs_in_once() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = imported(&hsm, 2048);
    let uri_file = format!(
        "pkcs11:token=graphd;object=app-key?pin-source=file://{}",
        hsm.pin_file().display()
    );
    type Setup<'a> = Box<dyn Fn(&mut Command) + 'a>;
    let cases: Vec<(&str, Setup)> = vec![
        (
            "--pin-file",
            Box::new(|c: &mut Command| {
                c.args(["--key", "pkcs11:token=graphd;object=app-key", "--pin-file"])
                    .arg(hsm.pin_file());
            }),
        ),
        (
            "--pin-stdin",
            Box::new(|c: &mut Command| {
                c.args(["--key", "pkcs11:token=graphd;object=app-key", "--pin-stdin"])
                    .write_stdin(format!("{PIN}\n"));
            }),
        ),
        (
            "GRAPHD_PKCS11_PIN",
            Box::new(|c: &mut Command| {
                c.args(["--key", "pkcs11:token=graphd;object=app-key"])
                    .env("GRAPHD_PKCS11_PIN", PIN);
            }),
        ),
        (
            "pin-source",
            Box::new(|c: &mut Command| {
                c.args(["--key", &uri_file]);
            }),
        ),
    ];
    for (name, set) in cases {
        let mut cmd = hsm.graphd();
        cmd.args(["-v", "assertion", "--tenant", crate::support::TENANT])
            .args(["--client-id", CLIENT_ID, "--cert"])
            .arg(&cert);
        set(&mut cmd);
        let o = run(&mut cmd);
        o.ok();
        assert!(
            verifies(&o.stdout, &cert, graphd::jws::Alg::PS256),
            "{name}"
        );
        let logins = o.stderr.matches("pkcs11: logging in").count();
        assert_eq!(logins, 1, "{name}: one login:\n{}", o.stderr);
        assert!(o.stderr.contains("logged out of token 'graphd'"), "{name}");
    }
}

#[test]
fn gen_cert_makes_the_key_in_the_token_and_the_certificate_next_to_it() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = generated(&hsm, "gen-key");
    let out = cert.parent().unwrap();
    assert!(!out.join("key.pem").exists(), "no key file is written");
    let emu = emulator_for(&cert);
    // The certificate comes from the token, next to the key.
    for alg in ["PS256", "RS256"] {
        let mut cmd = at(&emu, hsm.graphd());
        cmd.args([
            "token",
            "--alg",
            alg,
            "--key",
            "pkcs11:token=graphd;object=gen-key",
        ])
        .arg("--pin-file")
        .arg(hsm.pin_file());
        run(&mut cmd).ok();
    }
    // `--cert pkcs11:` alone names both.
    let mut cmd = at(&emu, hsm.graphd());
    cmd.args([
        "token",
        "--cert",
        "pkcs11:token=graphd;object=gen-key;type=cert",
    ])
    .arg("--pin-file")
    .arg(hsm.pin_file());
    run(&mut cmd).ok();
    assert_eq!(emu.counters().tokens_issued, 3);

    // The report says where the key is and that it cannot leave.
    let mut cmd = hsm.graphd();
    cmd.args(["cert", "--json", "pkcs11:token=graphd;object=gen-key"])
        .arg("--pin-file")
        .arg(hsm.pin_file());
    let o = run(&mut cmd);
    o.ok().stdout_empty_or_report();
    let v = o.json();
    let fingerprint = crate::support::ossl::stdout(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-noout",
        "-fingerprint",
        "-sha1",
    ]);
    assert!(
        fingerprint
            .replace(':', "")
            .contains(v["thumbprint"].as_str().unwrap()),
        "{fingerprint} {v}"
    );
    let p = &v["pkcs11"];
    assert_eq!(p["token"], "graphd");
    assert_eq!(p["model"], "SoftHSM v2");
    assert_eq!(p["key_type"], "RSA");
    assert_eq!(p["key_bits"], 2048);
    assert_eq!(p["sensitive"], true);
    assert_eq!(p["extractable"], false);
    assert_eq!(p["never_extractable"], true);
    assert_eq!(p["generated_in_token"], true);
    assert_eq!(v["key_match"], true);
    let mut cmd = hsm.graphd();
    cmd.args(["cert", "--key", "pkcs11:token=graphd;object=gen-key"])
        .arg("--pin-file")
        .arg(hsm.pin_file());
    let o = run(&mut cmd);
    o.ok();
    assert!(
        o.stdout.contains("sensitive, not extractable"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("CKM_RSA_PKCS_PSS"), "{}", o.stdout);
}

#[test]
fn gen_cert_refuses_an_existing_object_unless_forced() {
    let hsm = SoftHsm::with_token("graphd");
    let first = generated(&hsm, "app");
    let before = std::fs::read(&first).unwrap();
    let out = hsm.dir().join("again");
    let uri = "pkcs11:token=graphd;object=app";
    let mut cmd = hsm.graphd();
    cmd.args(["gen-cert", "--key", uri, "--pin-file"])
        .arg(hsm.pin_file())
        .arg("--out")
        .arg(&out);
    let o = run(&mut cmd);
    o.refused(
        3,
        None,
        "token 'graphd' already holds a private key (object=app",
    );
    assert!(o.stderr.contains("--force"));
    assert!(!out.join("cert.pem").exists(), "nothing written");

    let mut cmd = hsm.graphd();
    cmd.args(["gen-cert", "--force", "--key", uri, "--pin-file"])
        .arg(hsm.pin_file())
        .arg("--out")
        .arg(&out);
    let o = run(&mut cmd);
    o.ok();
    assert!(
        o.stderr.contains("destroyed the old private key"),
        "{}",
        o.stderr
    );
    assert_ne!(o.stdout.as_bytes(), before.as_slice(), "a new certificate");
    // One key and one certificate with that label remain: the new ones.
    let mut cmd = hsm.graphd();
    cmd.args(["cert", "--json", uri])
        .arg("--pin-file")
        .arg(hsm.pin_file());
    let v = run(&mut cmd).ok().json();
    let new = X509::from_pem(o.stdout.as_bytes()).unwrap();
    let new_thumb = graphd::credential::Thumbprints::of_cert(&new)
        .unwrap()
        .sha1_hex();
    assert_eq!(v["thumbprint"], new_thumb);
}

#[test]
fn a_certificate_file_with_its_chain_is_sent_in_x5c() {
    let hsm = SoftHsm::with_token("graphd");
    let dir = hsm.dir();
    // A CA-issued leaf, as an enterprise PKI hands it out.
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "365",
            "-subj",
            "/CN=hsm test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=hsm leaf",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "300",
        ],
    );
    let chain = dir.join("chain.pem");
    let mut both = std::fs::read(dir.join("ca.pem")).unwrap();
    both.extend(std::fs::read(dir.join("leaf.pem")).unwrap());
    std::fs::write(&chain, both).unwrap();
    hsm.import("graphd", &dir.join("leaf.key"), "leaf", "0a");
    let mut cmd = hsm.graphd();
    cmd.args([
        "assertion",
        "--send-x5c",
        "--tenant",
        crate::support::TENANT,
    ])
    .args([
        "--client-id",
        CLIENT_ID,
        "--key",
        "pkcs11:token=graphd;object=leaf",
    ])
    .arg("--cert")
    .arg(&chain)
    .env("GRAPHD_PKCS11_PIN", PIN);
    let o = run(&mut cmd);
    o.ok();
    let x5c = header(&o.stdout)["x5c"].as_array().unwrap().clone();
    assert_eq!(x5c.len(), 2, "leaf then CA");
    let first = base64::engine::general_purpose::STANDARD
        .decode(x5c[0].as_str().unwrap())
        .unwrap();
    let leaf = X509::from_pem(&std::fs::read(dir.join("leaf.pem")).unwrap()).unwrap();
    assert_eq!(first, leaf.to_der().unwrap(), "the leaf comes first");
    assert!(verifies(
        &o.stdout,
        &dir.join("leaf.pem"),
        graphd::jws::Alg::PS256
    ));
}
