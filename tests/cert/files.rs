//! Files graphd must refuse before it can look inside, or whose contents are broken:
//! missing, empty, a directory, a device, a FIFO, a symlink loop, too large, unreadable,
//! cut or garbled PEM; and password files with the same problems.

use std::path::{Path, PathBuf};

use crate::support::fixtures::{PASSWORD, fixtures};
use crate::support::outcome::{Outcome, run};
use crate::support::permissions::{graphd_bound_by_permissions, is_root};
use crate::support::{graphd, graphd_app};

/// A file in a fresh temp dir, with these bytes.
fn file_with(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `graphd cert` and `graphd assertion` on an arbitrary path.
fn refused_path(path: &Path, blamed: &Path, problem: &str) -> Outcome {
    let out = run(graphd().args(["cert", "--cert"]).arg(path));
    out.refused(3, Some(blamed), problem);
    out.stdout_empty_or_report();
    let signed = run(graphd_app("assertion").arg("--cert").arg(path));
    signed.refused(3, Some(blamed), problem);
    assert_eq!(signed.stdout, "");
    out
}

#[test]
fn broken_pem_is_refused_by_block_and_line() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let good = fx.read("key-then-cert.pem");
    let text = String::from_utf8(good.clone()).unwrap();

    // Cut in the middle of the certificate.
    let cut = text.find("-----BEGIN CERTIFICATE-----").unwrap() + 200;
    let key_lines = text[..text.find("-----BEGIN CERTIFICATE-----").unwrap()]
        .lines()
        .count();
    let p = file_with(dir.path(), "truncated.pem", &good[..cut]);
    let line = format!(
        "the CERTIFICATE PEM block at line {} has no END line",
        key_lines + 1
    );
    refused_path(&p, &p, &line);

    // Cut inside the key: nothing after it.
    let p = file_with(dir.path(), "truncated-key.pem", &good[..300]);
    refused_path(
        &p,
        &p,
        "the PRIVATE KEY PEM block at line 1 has no END line",
    );

    // Characters outside base64 in the body.
    let garbled = text.replacen("MII", "M!I", 1);
    let p = file_with(dir.path(), "garbled.pem", garbled.as_bytes());
    refused_path(&p, &p, "the PRIVATE KEY PEM block at line 1 is corrupt");

    // Valid base64 that is not DER.
    let p = file_with(
        dir.path(),
        "not-der.pem",
        b"-----BEGIN CERTIFICATE-----\nSGVsbG8sIHdvcmxkIQ==\n-----END CERTIFICATE-----\n",
    );
    refused_path(&p, &p, "the CERTIFICATE PEM block at line 1 is corrupt");

    // An END that does not close the BEGIN.
    let p = file_with(
        dir.path(),
        "mismatched-end.pem",
        b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END PRIVATE KEY-----\n",
    );
    refused_path(
        &p,
        &p,
        "the CERTIFICATE PEM block at line 1 has no END line",
    );

    // PEM holding neither key nor certificate (a public key).
    let p = fx.path("leaf.pub");
    refused_path(&p, &p, "no private key or certificate");
}

#[test]
fn garbage_empty_and_non_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = file_with(
        dir.path(),
        "garbage.pfx",
        &[0x30, 0x82, 0xff, 0x00, 0x13, 0x37, 0xde, 0xad],
    );
    refused_path(&p, &p, "holds neither PEM nor PKCS#12 (PFX) data");
    let p = file_with(
        dir.path(),
        "notes.txt",
        b"the certificate is in the vault\n",
    );
    refused_path(&p, &p, "holds neither PEM nor PKCS#12 (PFX) data");
    let p = file_with(dir.path(), "empty.pem", b"");
    refused_path(&p, &p, "is empty");
    refused_path(dir.path(), dir.path(), "is a directory");
    let p = dir.path().join("missing.pem");
    refused_path(&p, &p, "no such file");
    let p = dir.path().join("missing-dir").join("cert.pem");
    refused_path(&p, &p, "no such file");
    // A character device: refused by type, never read.
    let zero = Path::new("/dev/zero");
    refused_path(zero, zero, "is not a regular file");
}

#[test]
fn oversized_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    // Just over the limit.
    let p = file_with(dir.path(), "big.pem", &vec![b'A'; 1024 * 1024 + 1]);
    refused_path(&p, &p, "is larger than 1024 KiB");
    // Exactly at the limit is read (and is then not a credential).
    let p = file_with(dir.path(), "limit.pem", &vec![b'A'; 1024 * 1024]);
    refused_path(&p, &p, "holds neither PEM nor PKCS#12");
    // A sparse 64 GiB file: reading it would exhaust memory; graphd must not try.
    let p = dir.path().join("sparse.pfx");
    std::fs::File::create(&p)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    refused_path(&p, &p, "is larger than 1024 KiB");
}

#[test]
fn fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cert.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    // Nobody writes to the FIFO: a graphd that opened it for reading would block until the
    // hang guard kills it, and fail on the exit code.
    refused_path(&p, &p, "is not a regular file");
    let mut cmd = graphd();
    cmd.args(["cert", "--cert"])
        .arg(fixtures().path("enc-pkcs8-combined.pem"));
    cmd.arg("--password-file").arg(&p);
    run(&mut cmd).refused(3, Some(&p), "is not a regular file");
}

#[test]
fn symlink_loop_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.pem");
    let b = dir.path().join("b.pem");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    refused_path(&a, &a, "symbolic link loop");
    // A symlink to a good file is just that file.
    let link = dir.path().join("link.pem");
    std::os::unix::fs::symlink(fixtures().path("key-then-cert.pem"), &link).unwrap();
    run(graphd().args(["cert", "--cert"]).arg(&link)).ok();
}

#[test]
fn unreadable_file_is_refused_unless_this_user_can_read_it_anyway() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = file_with(
        dir.path(),
        "locked.pem",
        &fixtures().read("key-then-cert.pem"),
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    let pw = file_with(dir.path(), "pw.txt", format!("{PASSWORD}\n").as_bytes());
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o000)).unwrap();
    let pfx = fixtures().path("default.pfx");
    // For a process the mode binds (as root: one without CAP_DAC_OVERRIDE), permission denied.
    let out = run(graphd_bound_by_permissions()
        .args(["cert", "--cert"])
        .arg(&p));
    out.refused(3, Some(&p), "permission denied");
    let out = run(graphd_bound_by_permissions()
        .args(["cert", "--cert"])
        .arg(&pfx)
        .arg("--password-file")
        .arg(&pw));
    out.refused(3, Some(&pw), "permission denied");
    // Root (CAP_DAC_OVERRIDE) reads a mode-000 file; graphd must then behave as the OS
    // lets it, not pretend.
    if is_root() {
        run(graphd().args(["cert", "--cert"]).arg(&p)).ok();
        run(graphd()
            .args(["cert", "--cert"])
            .arg(&pfx)
            .arg("--password-file")
            .arg(&pw))
        .ok();
    }
}

#[test]
fn password_file_problems_name_the_password_file() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-password.txt");
    let mut cmd = graphd();
    cmd.args(["cert", "--cert"]).arg(fx.path("default.pfx"));
    cmd.arg("--password-file").arg(&missing);
    let out = run(&mut cmd);
    let line = out.refused(3, Some(&missing), "no such file");
    assert!(line.contains("password file"), "{line}");
    let hint = out.stderr.lines().nth(1).unwrap();
    assert!(hint.contains("--password-file"), "{hint}");
    // A password file on an unencrypted credential is never read.
    let mut cmd = graphd();
    cmd.args(["cert", "--cert"])
        .arg(fx.path("key-then-cert.pem"));
    cmd.arg("--password-file").arg(&missing);
    run(&mut cmd).ok();
}
