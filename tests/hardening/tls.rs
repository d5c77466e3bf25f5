//! Finding 13: the trust inputs besides `--ca-file`. rustls (through rustls-platform-verifier
//! and rustls-native-certs) reads `SSL_CERT_FILE` and `SSL_CERT_DIR` and, when either is
//! set, trusts their roots *instead of* the system's; `--ca-file` adds to whichever set is in
//! use. graphd now says so: under `-v`, and in the TLS failure such a setting causes.

use graphd::emulator::EmulatorConfig;

use crate::support::emulator::{graphd_at, start_with};
use crate::support::outcome::run;

#[test]
fn finding_13_ssl_cert_file_and_dir_replace_the_system_roots_and_say_so() {
    let emu = start_with(EmulatorConfig {
        tls: true,
        users: 1,
        ..EmulatorConfig::default()
    });
    let ca = emu.ca_file().unwrap().to_path_buf();
    let token = || {
        let mut cmd = graphd_at(&emu);
        cmd.env_remove("GRAPHD_CA_FILE")
            .args(["token", "--max-retries", "0"]);
        cmd
    };
    // Honoured: the emulator's CA as SSL_CERT_FILE, or in SSL_CERT_DIR, is trusted.
    let out = run(token().env("SSL_CERT_FILE", &ca).arg("-v"));
    out.ok();
    assert!(
        out.stderr.contains(&format!(
            "graphd: TLS: trusting the roots of SSL_CERT_FILE={} instead of the system's",
            ca.display()
        )),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&ca, dir.path().join("emulator-ca.pem")).unwrap();
    run(token().env("SSL_CERT_DIR", dir.path())).ok();

    // They replace the system's roots: a missing or empty SSL_CERT_FILE leaves none. That
    // was "internal error ... a bug" (exit 1): now a warning, and the TLS failure says why.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let unrelated = crate::support::Pair::shared().cert.clone();
    for file in [
        empty.as_os_str(),
        "/nonexistent/ca.pem".as_ref(),
        unrelated.as_os_str(),
    ] {
        let out = run(token().env("SSL_CERT_FILE", file));
        assert_eq!(out.code, Some(6), "{out:?}");
        let line = out
            .stderr
            .lines()
            .find(|l| l.starts_with("graphd: error: "))
            .unwrap_or_default();
        assert!(line.contains("not trusted (unknown issuer)"), "{line}");
        assert!(
            line.contains("SSL_CERT_FILE=") && line.contains("not the system's"),
            "{line}"
        );
    }
    // A plain-http emulator needs no roots at all: a broken SSL_CERT_FILE is no obstacle.
    let plain = start_with(EmulatorConfig {
        users: 1,
        ..EmulatorConfig::default()
    });
    run(graphd_at(&plain).env("SSL_CERT_FILE", &empty).arg("token")).ok();
    // --ca-file adds to whichever roots are in use.
    let out = run(token()
        .env("SSL_CERT_FILE", &empty)
        .arg("--ca-file")
        .arg(&ca)
        .arg("-v"));
    out.ok();
    assert!(out.stderr.contains("plus --ca-file's"), "{}", out.stderr);
}
