//! Findings 7 and 8: files and directories other users can reach. An unencrypted key or a
//! password file others can read is used with one warning that says how to fix it (as ssh
//! would refuse it); gen-cert writes into no directory others can write into; the token
//! cache's directory is 0700 and its every ancestor as OpenSSH's StrictModes wants.

use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::emulator::{graphd_at, start};
use crate::support::fixtures::{PASSWORD, fixtures};
use crate::support::outcome::run;
use crate::support::{Pair, graphd};

fn copy_with_mode(from: &Path, to: &Path, mode: u32) {
    fs::copy(from, to).unwrap();
    fs::set_permissions(to, Permissions::from_mode(mode)).unwrap();
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("graphd: warning: "))
        .collect()
}

#[test]
fn finding_7_a_key_others_can_read_is_used_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open key.pem");
    copy_with_mode(&Pair::shared().combined, &open, 0o644);
    let out = run(graphd().args(["cert", "--cert", open.to_str().unwrap()]));
    out.ok();
    let w = warnings(&out.stderr);
    assert_eq!(w.len(), 1, "{}", out.stderr);
    assert!(
        w[0].contains("unencrypted private key") && w[0].contains("(mode 0644)"),
        "{}",
        w[0]
    );
    assert!(
        w[0].ends_with(&format!("chmod 600 '{}'", open.display())),
        "{}",
        w[0]
    );

    // `token` looks at the file twice (certificate peek, then the key): still one warning.
    let emu = start(1);
    let out = run(graphd_at(&emu)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &open)
        .arg("token"));
    out.ok();
    assert_eq!(warnings(&out.stderr).len(), 1, "{}", out.stderr);

    // Group-readable counts; a private file, or a key only a password opens, says nothing.
    fs::set_permissions(&open, Permissions::from_mode(0o640)).unwrap();
    let out = run(graphd().args(["cert", "--cert", open.to_str().unwrap()]));
    assert_eq!(warnings(&out.stderr).len(), 1, "{}", out.stderr);
    fs::set_permissions(&open, Permissions::from_mode(0o600)).unwrap();
    let out = run(graphd().args(["cert", "--cert", open.to_str().unwrap()]));
    assert!(warnings(&out.stderr).is_empty(), "{}", out.stderr);
    let encrypted = dir.path().join("enc.pem");
    copy_with_mode(
        &fixtures().path("enc-pkcs8-combined.pem"),
        &encrypted,
        0o644,
    );
    let pw = dir.path().join("pw");
    fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    fs::set_permissions(&pw, Permissions::from_mode(0o600)).unwrap();
    let out = run(graphd().args([
        "cert",
        "--cert",
        encrypted.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ]));
    out.ok();
    assert!(warnings(&out.stderr).is_empty(), "{}", out.stderr);
    // A PFX whose password is empty protects nothing.
    let pfx = dir.path().join("empty.pfx");
    copy_with_mode(&fixtures().path("empty-password.pfx"), &pfx, 0o644);
    let out = run(graphd().args(["cert", "--cert", pfx.to_str().unwrap()]));
    out.ok();
    assert_eq!(warnings(&out.stderr).len(), 1, "{}", out.stderr);
}

#[test]
fn finding_7_a_password_file_others_can_read_is_used_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw.txt");
    fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    fs::set_permissions(&pw, Permissions::from_mode(0o604)).unwrap();
    let key = dir.path().join("enc.pem");
    copy_with_mode(&fixtures().path("enc-pkcs8-combined.pem"), &key, 0o600);
    let out = run(graphd().args([
        "cert",
        "--cert",
        key.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ]));
    out.ok();
    let w = warnings(&out.stderr);
    assert_eq!(w.len(), 1, "{}", out.stderr);
    assert!(
        w[0].contains("password file") && w[0].contains("(mode 0604)"),
        "{}",
        w[0]
    );
    assert!(
        w[0].ends_with(&format!("chmod 600 {}", pw.display())),
        "{}",
        w[0]
    );
    assert!(!out.stderr.contains(PASSWORD));
}

#[test]
fn finding_7_gen_cert_refuses_a_directory_others_can_write_into() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, Permissions::from_mode(0o777)).unwrap();
    for out_dir in [shared.clone(), shared.join("certs")] {
        let out = run(graphd().args(["gen-cert", "--out", out_dir.to_str().unwrap()]));
        let line = out.refused(3, None, "other users can write into");
        assert!(line.contains("no sticky bit"), "{line}");
        assert!(out.stderr.contains("chmod g-w,o-w"), "{}", out.stderr);
        assert_eq!(fs::read_dir(&shared).unwrap().count(), 0, "nothing written");
    }
    // With the sticky bit, as /tmp has, nobody else can touch the new files.
    fs::set_permissions(&shared, Permissions::from_mode(0o1777)).unwrap();
    run(graphd().args(["gen-cert", "--out", shared.join("certs").to_str().unwrap()])).ok();
    assert!(shared.join("certs/key.pem").exists());
}

#[test]
fn finding_8_the_token_cache_checks_every_ancestor_and_keeps_0700() {
    let emu = start(1);
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, Permissions::from_mode(0o777)).unwrap();
    let cache = shared.join("home/.cache/graphd");
    let out = run(graphd_at(&emu).args(["token", "--token-cache", cache.to_str().unwrap()]));
    let line = out.refused(3, None, "other users can write into");
    assert!(line.contains(&shared.display().to_string()), "{line}");
    assert!(!shared.join("home").exists(), "nothing created under it");
    assert_eq!(
        emu.counters().token.requests,
        0,
        "refused before any request"
    );

    // An existing cache directory others may read: made 0700, with a warning, and used.
    let mine = tmp.path().join("cache");
    fs::create_dir(&mine).unwrap();
    fs::set_permissions(&mine, Permissions::from_mode(0o755)).unwrap();
    let out = run(graphd_at(&emu).args(["token", "--token-cache", mine.to_str().unwrap()]));
    out.ok();
    assert!(out.stderr.contains("graphd made it 0700"), "{}", out.stderr);
    let mode = fs::metadata(&mine).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o700);
    assert_eq!(
        fs::read_dir(&mine).unwrap().count(),
        1,
        "the token was cached"
    );
    let again = run(graphd_at(&emu).args(["token", "--token-cache", mine.to_str().unwrap()]));
    again.ok();
    assert!(warnings(&again.stderr).is_empty(), "{}", again.stderr);
    assert_eq!(
        emu.counters().tokens_issued,
        1,
        "the second run was a cache hit"
    );
}
