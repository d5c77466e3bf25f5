//! The opt-in token cache: a hit sends nothing; a file that cannot be trusted (corrupt,
//! truncated, not ours, readable by others, a symlink or FIFO, about to expire) is ignored
//! and replaced; sixteen processes sharing one directory all succeed and leave one valid file.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use graphd::emulator::{Emulator, EmulatorConfig};

use super::{Run, token};
use crate::support::emulator::{graphd_at, start, start_with};
use crate::support::permissions::require_root;

fn cached(emu: &Emulator, dir: &Path) -> Run {
    token(emu, &["--token-cache", &dir.display().to_string()]).expect_code(0)
}

/// The one cache file in `dir`, and no leftover temporary files.
fn cache_file(dir: &Path) -> PathBuf {
    let names: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = names[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("token-") && name.ends_with(".json"),
        "{name}"
    );
    names[0].clone()
}

/// A file graphd may trust: regular, ours, mode 0600, JSON holding `token`.
#[track_caller]
fn assert_trusted_file(path: &Path, token: &str) {
    let meta = fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{path:?} is {:?}",
        meta.file_type()
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{path:?}");
    assert_eq!(meta.uid(), rustix::process::geteuid().as_raw());
    let v: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    assert_eq!(v["access_token"].as_str(), Some(token.trim()));
}

#[test]
fn a_hit_sends_no_request() {
    let emu = start(0);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested").join("cache");
    let first = cached(&emu, &dir);
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_trusted_file(&cache_file(&dir), &first.stdout);
    let second = cached(&emu, &dir);
    assert_eq!(second.stdout, first.stdout);
    // The environment variable works the same way.
    let third = graphd_at(&emu)
        .env("GRAPHD_TOKEN_CACHE", &dir)
        .args(["token", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    assert_eq!(v["access_token"].as_str(), Some(first.stdout.trim()));
    assert!(v["expires_in"].as_i64().unwrap() > 3000);
    assert_eq!(emu.counters().token.requests, 1, "hits send nothing");

    // Another scope is another key.
    token(
        &emu,
        &[
            "--token-cache",
            &dir.display().to_string(),
            "--scope",
            "00000003-0000-0000-c000-000000000000/.default",
        ],
    )
    .expect_code(0);
    assert_eq!(emu.counters().token.requests, 2);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
}

/// Caches a token, lets `spoil` do its worst to the file, and checks that the next run
/// ignores it, fetches a new token and leaves a trusted file that later runs reuse.
fn ignored_and_replaced(what: &str, spoil: impl FnOnce(&Path)) {
    let emu = start(0);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let first = cached(&emu, &dir);
    let file = cache_file(&dir);
    spoil(&file);
    let second = cached(&emu, &dir);
    assert_ne!(
        second.stdout, first.stdout,
        "{what}: the spoiled file was used"
    );
    assert_eq!(emu.counters().token.requests, 2, "{what}");
    assert_trusted_file(&cache_file(&dir), &second.stdout);
    assert_eq!(cached(&emu, &dir).stdout, second.stdout, "{what}");
    assert_eq!(
        emu.counters().token.requests,
        2,
        "{what}: the new file is a hit"
    );
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn corrupt_and_truncated_files_are_replaced() {
    ignored_and_replaced("corrupt", |f| fs::write(f, b"{ this is not JSON").unwrap());
    ignored_and_replaced("truncated", |f| {
        let bytes = fs::read(f).unwrap();
        fs::write(f, &bytes[..bytes.len() / 2]).unwrap();
    });
    ignored_and_replaced("empty", |f| fs::write(f, b"").unwrap());
}

#[test]
fn files_others_can_read_are_replaced() {
    ignored_and_replaced("group-readable", |f| chmod(f, 0o640));
    ignored_and_replaced("world-readable", |f| chmod(f, 0o604));
    ignored_and_replaced("group-writable", |f| chmod(f, 0o620));
}

#[test]
fn a_file_owned_by_someone_else_is_replaced() {
    require_root("give the cache file to another user");
    ignored_and_replaced("owned by nobody", |f| {
        // nobody:nogroup, the conventional unprivileged user (65534 on Debian).
        std::os::unix::fs::chown(f, Some(65_534), Some(65_534)).unwrap();
    });
}

#[test]
fn a_symlink_or_fifo_in_its_place_is_replaced() {
    let elsewhere = tempfile::tempdir().unwrap();
    let planted = elsewhere.path().join("planted.json");
    ignored_and_replaced("symlink", |f| {
        // A valid cache file, but reached through a link: someone else chose it.
        fs::rename(f, &planted).unwrap();
        std::os::unix::fs::symlink(&planted, f).unwrap();
    });
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&planted).unwrap()).unwrap();
    assert!(
        v["access_token"].is_string(),
        "the link's target is left alone"
    );

    ignored_and_replaced("fifo", |f| {
        fs::remove_file(f).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(f)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
    });
}

#[test]
fn a_token_expiring_within_five_minutes_is_not_reused() {
    let emu = start_with(EmulatorConfig {
        users: 0,
        token_lifetime_secs: 290,
        ..EmulatorConfig::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let first = cached(&emu, tmp.path());
    let second = cached(&emu, tmp.path());
    assert_ne!(first.stdout, second.stdout);
    assert_eq!(emu.counters().token.requests, 2);
    assert_trusted_file(&cache_file(tmp.path()), &second.stdout);
}

#[test]
fn a_cache_directory_others_can_write_is_refused() {
    let emu = start(0);
    let tmp = tempfile::tempdir().unwrap();
    chmod(tmp.path(), 0o777);
    let run = token(&emu, &["--token-cache", &tmp.path().display().to_string()]).expect_code(3);
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("closed to others"), "{error}");
    assert!(hint.contains("mkdir -m 700"), "{hint}");
    assert_eq!(emu.counters().token.requests, 0);
}

#[test]
fn sixteen_processes_share_one_cache() {
    let emu = start(0);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shared-cache");
    let barrier = std::sync::Barrier::new(16);
    let runs: Vec<std::process::Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let mut cmd = graphd_at(&emu);
                cmd.args(["token", "--token-cache", &dir.display().to_string()]);
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    cmd.output().expect("graphd runs")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut tokens = Vec::new();
    for out in &runs {
        assert!(out.status.success(), "{out:#?}");
        tokens.push(String::from_utf8(out.stdout.clone()).unwrap());
    }
    let file = cache_file(&dir);
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    let kept = format!("{}\n", v["access_token"].as_str().unwrap());
    assert!(
        tokens.contains(&kept),
        "the file holds a token some process got"
    );
    assert_trusted_file(&file, &kept);
    let requests = emu.counters().token.requests;
    assert!((1..=16).contains(&requests), "{requests}");
}

/// A cache hit needs only the certificate's thumbprint: the private key is neither parsed nor
/// decrypted, so an encrypted key's password is not needed (issue 10: "a cache hit still
/// parses the private key").
#[test]
fn a_hit_never_touches_the_private_key() {
    use crate::support::fixtures::{PASSWORD, fixtures};
    let leaf = openssl::x509::X509::from_pem(&fixtures().read("leaf.crt")).unwrap();
    let emu = start_with(EmulatorConfig {
        apps: vec![graphd::emulator::AppRegistration {
            client_id: crate::support::CLIENT_ID.to_string(),
            certificates: vec![leaf],
            roles: vec!["User.Read.All".into()],
        }],
        ..EmulatorConfig::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let credential = fixtures().path("enc-pkcs8-combined.pem");
    let cmd = || {
        let mut c = graphd_at(&emu);
        c.env("AZURE_CLIENT_CERTIFICATE_PATH", &credential)
            .args(["token", "--token-cache"])
            .arg(&dir);
        c
    };
    let first = super::run(cmd().env("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD)).expect_code(0);
    // No password anywhere now, and no terminal to ask on: only the cache can answer.
    let second = super::run(&mut cmd()).expect_code(0);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(emu.counters().token.requests, 1);
    // The key really is encrypted: without the cache the same command needs the password.
    let mut uncached = graphd_at(&emu);
    uncached
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &credential)
        .arg("token");
    let refused = super::run(&mut uncached).expect_code(3);
    assert!(refused.stderr.contains("password"), "{}", refused.stderr);
}
