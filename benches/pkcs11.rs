//! Signing one client assertion with a key inside a PKCS#11 token (SoftHSM2) against the
//! same key in a PEM file, PS256 and RS256: the per-call cost of keeping the key in hardware
//! once the process has logged in (one login, then one `C_Sign` per assertion).
//!
//! `cargo bench --bench pkcs11` (needs SoftHSM2: scripts/test.sh installs it). SoftHSM reads
//! `SOFTHSM2_CONF` when its module is initialized, so the bench makes a throwaway token and
//! runs itself again with that variable set.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use criterion::Criterion;
use graphd::cli::{Cli, Command as Sub};
use graphd::identity::{Identity, Proof};
use graphd::settings::Settings;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const PIN: &str = "bench-pin-1234";
const READY: &str = "GRAPHD_BENCH_SOFTHSM_DIR";

fn module() -> PathBuf {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .expect("SoftHSM2 is not installed: scripts/test.sh installs it")
}

fn sh(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A token holding a 2048-bit key, its certificate and the same key as a file.
fn set_up(dir: &Path) {
    std::fs::create_dir(dir.join("tokens")).expect("tokens dir");
    std::fs::write(
        dir.join("softhsm2.conf"),
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .expect("conf");
    sh(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "365",
            "-subj",
            "/CN=bench",
        ],
        dir,
    );
    let mut both = std::fs::read(dir.join("key.pem")).expect("key");
    both.extend(std::fs::read(dir.join("cert.pem")).expect("cert"));
    std::fs::write(dir.join("both.pem"), both).expect("both");
    std::fs::write(dir.join("pin"), PIN).expect("pin");
    sh(
        "softhsm2-util",
        &[
            "--init-token",
            "--free",
            "--label",
            "bench",
            "--pin",
            PIN,
            "--so-pin",
            "so-1234",
        ],
        dir,
    );
    sh(
        "softhsm2-util",
        &[
            "--import", "key.pem", "--token", "bench", "--label", "key", "--id", "01", "--pin", PIN,
        ],
        dir,
    );
}

fn text(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn identity(args: &[&str]) -> Identity {
    let mut argv = vec![
        "graphd",
        "assertion",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
    ];
    argv.extend(args);
    let Sub::Assertion(a) = Cli::try_parse_from(argv).expect("parses").command else {
        unreachable!("parsed as assertion")
    };
    let s = Settings::resolve(&a.identity, &Default::default()).expect("resolves");
    Identity::new(s.app, s.proof).expect("identity")
}

fn bench(c: &mut Criterion, dir: &Path) {
    let module = module();
    let cert = dir.join("cert.pem");
    let pin = dir.join("pin");
    for alg in ["PS256", "RS256"] {
        let cases = [
            (
                "PEM file key",
                identity(&["--alg", alg, "--cert", text(&dir.join("both.pem"))]),
            ),
            (
                "PKCS#11 SoftHSM key",
                identity(&[
                    "--alg",
                    alg,
                    "--cert",
                    text(&cert),
                    "--key",
                    "pkcs11:token=bench;object=key",
                    "--pkcs11-module",
                    text(&module),
                    "--pin-file",
                    text(&pin),
                ]),
            ),
        ];
        for (what, id) in &cases {
            let Proof::Certificate(proof) = id.proof() else {
                unreachable!("a certificate identity")
            };
            let aud = id.app().token_endpoint();
            // The first call loads the key (and logs in): outside the measurement.
            proof.assertion(&aud, CLIENT_ID).expect("signs");
            c.bench_function(&format!("assertion {alg}, {what}"), |b| {
                b.iter(|| black_box(proof.assertion(&aud, CLIENT_ID).expect("signs")))
            });
        }
    }
    let stats = graphd::pkcs11::stats();
    eprintln!(
        "PKCS#11: {} signatures, {} login(s)",
        stats.signatures, stats.logins
    );
}

fn main() {
    let Some(dir) = std::env::var_os(READY).map(PathBuf::from) else {
        let dir = tempfile::tempdir().expect("temp dir");
        set_up(dir.path());
        let status = Command::new(std::env::current_exe().expect("own path"))
            .args(std::env::args_os().skip(1))
            .env("SOFTHSM2_CONF", dir.path().join("softhsm2.conf"))
            .env(READY, dir.path())
            .status()
            .expect("runs itself");
        std::process::exit(status.code().unwrap_or(1));
    };
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &dir);
    c.final_summary();
}
