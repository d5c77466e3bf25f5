//! Every credential encoding a real user may hold, made once per test process with the
//! `openssl` command-line tool (where real users' files come from) into a temp dir.
//!
//! The recipes are the ones documented in tests/fixtures/README.md; keep the two in step.
//! Nothing here is committed: the keys exist only for the life of the test process.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{openssl, scratch};

mod chain;
mod others;

/// The password of every encrypted fixture (PFX, encrypted PKCS#8, legacy PKCS#1).
/// Distinctive, so the leak test can look for it in any output.
pub const PASSWORD: &str = "Fixture-pw-9d41c7e2";
/// A password that opens none of the fixtures.
pub const WRONG_PASSWORD: &str = "Wrong-pw-5b0e83aa";
/// A PFX password outside ASCII, with spaces: PKCS#12 encodes it as BMPString.
pub const UNICODE_PASSWORD: &str = "pässwörd mit Ümlaut";

/// The fixture set: `path(name)` for a file, plus the few facts tests compare against.
pub struct Fixtures {
    pub dir: PathBuf,
}

/// The fixture set shared by every test of the process (RSA key generation is slow).
pub fn fixtures() -> &'static Fixtures {
    static FX: OnceLock<Fixtures> = OnceLock::new();
    FX.get_or_init(|| {
        let dir = scratch().path().join("fixtures");
        std::fs::create_dir_all(&dir).expect("fixture dir");
        build(&dir);
        Fixtures { dir }
    })
}

impl Fixtures {
    /// A fixture file; panics (naming it) if the builder did not make it.
    pub fn path(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        assert!(p.exists(), "no fixture named {name}");
        p
    }

    /// The bytes of a fixture file.
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("fixture readable")
    }
}

/// Concatenates fixture files (in this order) into `out`.
fn cat(dir: &Path, parts: &[&str], out: &str) {
    let mut all = Vec::new();
    for p in parts {
        all.extend(std::fs::read(dir.join(p)).expect("fixture part"));
    }
    std::fs::write(dir.join(out), all).expect("write fixture");
}

fn pass(pw: &str) -> String {
    format!("pass:{pw}")
}

/// A self-signed certificate for `key`, valid `days` days from now.
fn self_signed(dir: &Path, key: &str, cn: &str, days: u32, out: &str) {
    let subj = format!("/CN={cn}/O=graphd test fixtures");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-key",
            key,
            "-out",
            out,
            "-days",
            &days.to_string(),
            "-subj",
            &subj,
        ],
    );
}

fn rsa_key(dir: &Path, bits: u32, out: &str) {
    let bits = format!("rsa_keygen_bits:{bits}");
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &bits,
            "-out",
            out,
        ],
    );
}

/// A minimal `openssl ca` set-up, the one way OpenSSL 3.0 gives a certificate chosen
/// start and end dates (`-not_before` arrived only in 3.4).
fn ca_dated(dir: &Path, key: &str, cn: &str, start: &str, end: &str, out: &str) {
    let ca = dir.join("ca");
    std::fs::create_dir_all(&ca).expect("ca dir");
    std::fs::write(
        ca.join("ca.cnf"),
        "[ca]\ndefault_ca = fixture\n[fixture]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\n\
         serial = serial.txt\ndefault_md = sha256\npolicy = anything\nemail_in_dn = no\n\
         unique_subject = no\n[anything]\ncommonName = supplied\norganizationName = optional\n",
    )
    .expect("ca.cnf");
    std::fs::write(ca.join("index.txt"), "").expect("index");
    std::fs::write(ca.join("serial.txt"), "1000\n").expect("serial");
    let key = dir.join(key);
    let key = key.to_str().expect("utf-8 temp path");
    let subj = format!("/CN={cn}");
    openssl(
        &ca,
        &[
            "req", "-new", "-key", key, "-subj", &subj, "-out", "req.csr",
        ],
    );
    let out = dir.join(out);
    let out = out.to_str().expect("utf-8 temp path");
    openssl(
        &ca,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            key,
            "-in",
            "req.csr",
            "-startdate",
            start,
            "-enddate",
            end,
            "-notext",
            "-out",
            out,
        ],
    );
}

/// Makes every fixture. The names say what each file holds.
fn build(d: &Path) {
    let pw = pass(PASSWORD);

    // The main key (PKCS#8 PEM, OpenSSL 3's default) and its self-signed certificate.
    rsa_key(d, 2048, "leaf.key");
    self_signed(d, "leaf.key", "graphd fixture leaf", 365, "leaf.crt");
    cat(d, &["leaf.key", "leaf.crt"], "key-then-cert.pem");
    cat(d, &["leaf.crt", "leaf.key"], "cert-then-key.pem");

    // The same key in every other encoding.
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "leaf.key",
            "-traditional",
            "-out",
            "leaf.pkcs1.key",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "leaf.key",
            "-v2",
            "aes-256-cbc",
            "-passout",
            &pw,
            "-out",
            "leaf.enc.key",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "leaf.key",
            "-traditional",
            "-aes256",
            "-passout",
            &pw,
            "-out",
            "leaf.legacy-enc.key",
        ],
    );
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "leaf.key",
            "-outform",
            "DER",
            "-out",
            "leaf.key.der",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "leaf.key",
            "-traditional",
            "-outform",
            "DER",
            "-out",
            "leaf.pkcs1.key.der",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-in",
            "leaf.crt",
            "-outform",
            "DER",
            "-out",
            "leaf.crt.der",
        ],
    );
    openssl(
        d,
        &[
            "x509", "-in", "leaf.crt", "-pubkey", "-noout", "-out", "leaf.pub",
        ],
    );
    cat(d, &["leaf.pkcs1.key", "leaf.crt"], "pkcs1-combined.pem");
    cat(d, &["leaf.crt", "leaf.enc.key"], "enc-pkcs8-combined.pem");
    cat(
        d,
        &["leaf.legacy-enc.key", "leaf.crt"],
        "legacy-enc-combined.pem",
    );

    // PFX: OpenSSL 3 defaults (AES-256-CBC, PBKDF2, SHA-256 MAC), -legacy (RC2-40 certs,
    // 3DES key, SHA-1 MAC: old Windows and Azure exports), empty password, no password at all.
    let pkcs12 = |extra: &[&str], out: &str| {
        let mut args = vec![
            "pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.crt", "-out", out,
        ];
        args.extend_from_slice(extra);
        openssl(d, &args);
    };
    pkcs12(&["-passout", &pw], "default.pfx");
    pkcs12(&["-legacy", "-passout", &pw], "legacy.pfx");
    pkcs12(&["-passout", "pass:"], "empty-password.pfx");
    pkcs12(
        &[
            "-keypbe", "NONE", "-certpbe", "NONE", "-nomac", "-passout", "pass:",
        ],
        "no-password.pfx",
    );
    pkcs12(
        &["-passout", &pass(UNICODE_PASSWORD)],
        "unicode-password.pfx",
    );
    // Encrypted but without the integrity MAC: OpenSSL 3.0's PKCS12_parse cannot open it.
    pkcs12(&["-nomac", "-passout", &pw], "no-mac.pfx");

    chain::build(d);
    others::build(d);

    // Password files: with the trailing newline `echo` adds, and a wrong one.
    std::fs::write(d.join("password.txt"), format!("{PASSWORD}\n")).expect("password file");
    std::fs::write(d.join("wrong-password.txt"), format!("{WRONG_PASSWORD}\n"))
        .expect("password file");

    // Private, as keys and passwords should be: graphd warns about a key or password file
    // others can read (issue 16), and tests of that make their own.
    for entry in std::fs::read_dir(d).expect("fixture dir").flatten() {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .expect("chmod 600");
        }
    }
}
