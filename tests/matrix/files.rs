//! Credential files: every refusal of the foundation issue, plus the files a file system can
//! throw at graphd (symlink loops, FIFOs, unreadable modes, huge and sparse files, paths that
//! are not UTF-8). Run through `graphd cert`, the command that only reads.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use super::{Case, run_all, workdir};
use crate::support::fixtures::{PASSWORD, WRONG_PASSWORD, fixtures};
use crate::support::permissions::graphd_bound_by_permissions;

/// Copies a fixture into the working directory under `name` (cases use relative paths, so
/// the error names what the user typed).
fn put(dir: &Path, fixture: &str, name: &str) {
    std::fs::copy(fixtures().path(fixture), dir.join(name)).unwrap();
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

pub fn cases(dir: &Path) -> Vec<Case> {
    for (fixture, name) in [
        ("ec.pem", "ec.pem"),
        ("ec-sec1.pem", "ec-sec1.pem"),
        ("ed25519.pem", "ed25519.pem"),
        ("rsa1024.pem", "rsa1024.pem"),
        ("mismatch.pem", "mismatch.pem"),
        ("mismatch-chain.pem", "mismatch-chain.pem"),
        ("expired.pem", "expired.pem"),
        ("future.pem", "future.pem"),
        ("enc-pkcs8-combined.pem", "enc.pem"),
        ("legacy-enc-combined.pem", "legacy-enc.pem"),
        ("default.pfx", "default.pfx"),
        ("legacy.pfx", "legacy.pfx"),
        ("leaf.crt", "cert-only.pem"),
        ("leaf.key", "key-only.pem"),
        ("leaf.pub", "public-key.pem"),
        ("chain-certs-only.pem", "chain-certs-only.pem"),
        ("key-then-cert.pem", "good.pem"),
        ("leaf.key", "leaf.key"),
        ("leaf.crt", "leaf.crt"),
        ("no-mac.pfx", "no-mac.pfx"),
    ] {
        put(dir, fixture, name);
    }
    let good = std::fs::read(dir.join("good.pem")).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    write(dir, "empty.pem", b"");
    write(dir, "truncated.pem", &good[..good.len() / 2]);
    write(
        dir,
        "garbage.bin",
        &(0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<_>>(),
    );
    write(
        dir,
        "garbage.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64 at all !!!\n-----END CERTIFICATE-----\n",
    );
    write(dir, "text.txt", b"hello, I am not a certificate\n");
    write(
        dir,
        "two-keys.pem",
        &[
            std::fs::read(dir.join("leaf.key")).unwrap(),
            fixtures().read("other.key"),
            fixtures().read("leaf.crt"),
        ]
        .concat(),
    );
    write(dir, "crlf.pem", text.replace('\n', "\r\n").as_bytes());
    write(
        dir,
        "wrong-pw.txt",
        format!("{WRONG_PASSWORD}\n").as_bytes(),
    );
    write(dir, "pw.txt", format!("{PASSWORD}\n").as_bytes());
    write(dir, "big.pem", &vec![b'A'; 2 * 1024 * 1024]);
    let sparse = std::fs::File::create(dir.join("sparse-100MB.pfx")).unwrap();
    sparse.set_len(100 * 1024 * 1024).unwrap();
    std::os::unix::fs::symlink("loop-b", dir.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", dir.join("loop-b")).unwrap();
    std::os::unix::fs::symlink("missing-target.pem", dir.join("dangling.pem")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        dir.join("fifo.pem"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    std::fs::create_dir(dir.join("a-directory")).unwrap();
    let non_utf8 = OsString::from_vec(b"caf\xe9-\xff.pem".to_vec());
    std::fs::write(dir.join(&non_utf8), &good).unwrap();
    let non_utf8_missing = OsString::from_vec(b"missing-\xff.pem".to_vec());

    let cert = |name: &str, code, says: &str, file: &str| {
        Case::new(name, code, says).args(["cert", "--cert", file])
    };
    let mut cases = vec![
        cert(
            "missing file",
            3,
            "missing.pem: no such file",
            "missing.pem",
        ),
        cert("directory", 3, "a-directory: is a directory", "a-directory"),
        cert("empty file", 3, "empty.pem: is empty", "empty.pem"),
        cert("truncated PEM", 3, "truncated.pem: the", "truncated.pem"),
        cert(
            "garbage bytes",
            3,
            "garbage.bin: holds neither PEM nor PKCS#12",
            "garbage.bin",
        ),
        cert(
            "garbage in a PEM block",
            3,
            "garbage.pem: the CERTIFICATE PEM block at line 1 is corrupt",
            "garbage.pem",
        ),
        cert(
            "plain text",
            3,
            "text.txt: holds neither PEM nor PKCS#12",
            "text.txt",
        ),
        cert("EC key (PKCS#8)", 3, "the key is EC", "ec.pem"),
        cert("EC key (SEC1)", 3, "the key is EC", "ec-sec1.pem"),
        cert("Ed25519 key", 3, "the key is Ed25519", "ed25519.pem"),
        cert("RSA 1024", 3, "the RSA key has 1024 bits", "rsa1024.pem"),
        cert(
            "key and certificate do not match",
            3,
            "does not match",
            "mismatch.pem",
        ),
        cert(
            "key matches no certificate of a chain",
            3,
            "matches none of the 3 certificates",
            "mismatch-chain.pem",
        ),
        cert(
            "expired certificate",
            3,
            "the certificate expired on",
            "expired.pem",
        ),
        cert(
            "not yet valid certificate",
            3,
            "not valid before",
            "future.pem",
        ),
        // A file of certificates only is described and accepted by `graphd cert` (issue 10);
        // a command that must sign refuses it.
        cert("certificate without key", 0, "", "cert-only.pem"),
        cert("chain without key", 0, "", "chain-certs-only.pem"),
        Case::new(
            "certificate without key, to sign",
            3,
            "holds a certificate but no private key",
        )
        .args([
            "assertion",
            "--tenant",
            crate::support::TENANT,
            "--client-id",
            crate::support::CLIENT_ID,
            "--cert",
            "cert-only.pem",
        ]),
        cert(
            "key without certificate",
            3,
            "holds a private key but no certificate",
            "key-only.pem",
        ),
        cert(
            "public key only",
            3,
            "holds no private key or certificate",
            "public-key.pem",
        ),
        cert(
            "two private keys",
            3,
            "holds more than one private key",
            "two-keys.pem",
        ),
        cert(
            "file over 1 MiB",
            3,
            "big.pem: is larger than 1024 KiB",
            "big.pem",
        ),
        cert(
            "100 MB sparse file",
            3,
            "sparse-100MB.pfx: is larger than",
            "sparse-100MB.pfx",
        ),
        cert(
            "symlink loop",
            3,
            "loop-a: is a symbolic link loop",
            "loop-a",
        ),
        cert(
            "dangling symlink",
            3,
            "dangling.pem: no such file",
            "dangling.pem",
        ),
        cert("FIFO", 3, "fifo.pem: is not a regular file", "fifo.pem"),
        Case::new(
            "encrypted PKCS#8 without a password",
            3,
            "no password was given",
        )
        .args(["cert", "--cert", "enc.pem"]),
        Case::new(
            "encrypted PKCS#8, wrong password",
            3,
            "wrong password for the encrypted private key",
        )
        .args([
            "cert",
            "--cert",
            "enc.pem",
            "--password-file",
            "wrong-pw.txt",
        ]),
        Case::new(
            "legacy encrypted PKCS#1, wrong password",
            3,
            "wrong password",
        )
        .args(["cert", "--cert", "legacy-enc.pem"])
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", WRONG_PASSWORD),
        Case::new(
            "PFX without a password",
            3,
            "PFX (PKCS#12) file is password-protected",
        )
        .args(["cert", "--cert", "default.pfx"]),
        Case::new("PFX, wrong password", 3, "wrong password for the PFX").args([
            "cert",
            "--cert",
            "default.pfx",
            "--password-file",
            "wrong-pw.txt",
        ]),
        Case::new(
            "legacy PFX, wrong password",
            3,
            "wrong password for the PFX",
        )
        .args(["cert", "--cert", "legacy.pfx"])
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", WRONG_PASSWORD),
        Case::new("PFX without MAC", 3, "no integrity MAC").args([
            "cert",
            "--cert",
            "no-mac.pfx",
            "--password-file",
            "pw.txt",
        ]),
        Case::new("password file missing", 3, "nope.txt").args([
            "cert",
            "--cert",
            "enc.pem",
            "--password-file",
            "nope.txt",
        ]),
        Case::new("password file is a directory", 3, "a-directory").args([
            "cert",
            "--cert",
            "enc.pem",
            "--password-file",
            "a-directory",
        ]),
        Case::new("--key file missing", 3, "nokey.pem: no such file").args([
            "cert",
            "--cert",
            "leaf.crt",
            "--key",
            "nokey.pem",
        ]),
        Case::new(
            "path not UTF-8, missing",
            3,
            "missing-\u{FFFD}.pem: no such file",
        )
        .args([OsString::from("cert"), "--cert".into(), non_utf8_missing]),
        // What must keep working: the same files, told apart by content, not by name.
        Case::new("path not UTF-8, valid PEM", 0, "").args([
            OsString::from("cert"),
            "--cert".into(),
            non_utf8,
        ]),
        Case::new("key and certificate given swapped", 0, "")
            .args(["cert", "--cert", "leaf.key", "--key", "leaf.crt"]),
        Case::new("CRLF line endings", 0, "").args(["cert", "--cert", "crlf.pem", "--json"]),
        Case::new("encrypted PKCS#8 with the password", 0, "").args([
            "cert",
            "--cert",
            "enc.pem",
            "--password-file",
            "pw.txt",
        ]),
    ];
    // Permission bits bind for the table's graphd, as root too (see `file_cases`).
    put(dir, "key-then-cert.pem", "unreadable.pem");
    std::fs::set_permissions(
        dir.join("unreadable.pem"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    cases.push(cert(
        "unreadable file",
        3,
        "unreadable.pem: permission denied",
        "unreadable.pem",
    ));
    cases
}

#[test]
fn file_cases() {
    let dir = workdir();
    let cases = cases(dir.path());
    // As root, graphd runs without the capabilities that bypass permission bits, so the
    // unreadable file is unreadable for it as for any user.
    run_all(dir.path(), graphd_bound_by_permissions, cases);
}
