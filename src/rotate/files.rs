//! The credential files `graphd rotate` replaces, and how: never losing what the user has.
//!
//! The current files are read once at the start (their bytes become the backup, and tell
//! whether the file changed meanwhile). The new files are staged under temporary names in the
//! same directories before anything is sent to Graph, so a directory that cannot be written
//! is found while nothing has changed yet. Only after the new key has been proven are they
//! put in place: each current file is first copied to `NAME.previous-YYYY-MM-DD` (mode 0600,
//! never over an existing file), then the staged file is renamed over it atomically. A
//! symbolic link stays a link: its target is what gets replaced.
//!
//! This module never prints or logs file contents.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credential::{CredentialSource, MAX_CREDENTIAL_FILE};
use crate::error::{
    CertFile, CredentialProblem, Encrypted, Error, Result, RotateCause, RotateProblem,
};
use crate::fileio::{self, Replace, Staged};

/// How the current credential is laid out on disk; the new one is written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One PEM holding the key and its certificate (gen-cert's `key.pem`).
    Combined,
    /// `--cert CERT.pem` (certificates) and `--key KEY.pem`.
    Pair,
    /// One PKCS#12 file.
    Pfx,
}

/// One current file: as the user named it, where it really is, what it holds.
struct OnDisk {
    shown: PathBuf,
    real: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
    mode: u32,
    /// Whether it holds the private key (written 0600).
    private: bool,
}

/// The current credential files, read.
pub struct CredentialFiles {
    layout: Layout,
    /// Combined and Pfx: the one file; Pair: the certificate file, then the key file.
    files: Vec<OnDisk>,
    encrypted: bool,
}

/// The bytes of the new files, in the order of [`CredentialFiles`]'s files.
pub struct NewContents<'a> {
    pub files: Vec<&'a [u8]>,
}

/// The new files, staged next to the current ones.
pub struct StagedFiles {
    staged: Vec<Staged>,
    layout: Layout,
}

/// What [`StagedFiles::commit`] did: each replaced file and where its previous content is.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub backups: Vec<(PathBuf, PathBuf)>,
}

fn unsupported(why: &str) -> RotateCause {
    RotateCause::Problem(RotateProblem::UnsupportedCredential { why: why.into() })
}

impl CredentialFiles {
    /// Reads the files `source` names; `kind` is what the `--cert` file was found to hold.
    pub fn read(source: &CredentialSource, kind: CertFile) -> Result<Self, RotateCause> {
        if source.thumbprint.is_some() {
            return Err(unsupported(
                "the configuration names the certificate by thumbprint only, so graphd has no certificate file to replace",
            ));
        }
        let key = source.key.as_ref().filter(|k| **k != source.cert);
        let (layout, paths) = match (kind, key) {
            (CertFile::PemWithKey, None) => (Layout::Combined, vec![(&source.cert, true)]),
            (CertFile::Pfx, None) => (Layout::Pfx, vec![(&source.cert, true)]),
            (CertFile::Certificates, Some(key)) => {
                (Layout::Pair, vec![(&source.cert, false), (key, true)])
            }
            (CertFile::Pfx, Some(_)) => {
                return Err(unsupported("a PFX given together with --key"));
            }
            (CertFile::PemWithKey, Some(_)) => {
                return Err(unsupported(
                    "--cert holds a private key and --key names another file",
                ));
            }
            (CertFile::Certificates, None) => {
                return Err(unsupported("the file holds no private key"));
            }
        };
        let mut files = Vec::with_capacity(paths.len());
        for (path, private) in paths {
            files.push(OnDisk::read(path, private)?);
        }
        let encrypted = match layout {
            Layout::Pfx => true,
            Layout::Combined | Layout::Pair => files
                .iter()
                .filter(|f| f.private)
                .any(|f| is_encrypted_pem(&f.bytes)),
        };
        Ok(CredentialFiles {
            layout,
            files,
            encrypted,
        })
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The password the new file needs, if any: the same kind as the current one's.
    pub fn encryption(&self) -> Option<Encrypted> {
        match (self.layout, self.encrypted) {
            (Layout::Pfx, _) => Some(Encrypted::Pfx),
            (_, true) => Some(Encrypted::Key),
            (_, false) => None,
        }
    }

    /// Whether the separate key file (`Pair`) holds its certificate too (gen-cert's key.pem
    /// given as `--key`): the new one does as well.
    pub fn key_file_holds_certificate(&self) -> bool {
        let has = |b: &[u8], n: &[u8]| b.windows(n.len()).any(|w| w == n);
        self.layout == Layout::Pair
            && self
                .files
                .iter()
                .any(|f| f.private && has(&f.bytes, b"-----BEGIN CERTIFICATE-----"))
    }

    /// The file holding the private key, as the user named it.
    pub fn key_path(&self) -> &Path {
        self.files
            .iter()
            .find(|f| f.private)
            .map_or_else(|| Path::new(""), |f| &f.shown)
    }

    /// The files as the user named them, in order.
    pub fn shown(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.shown.as_path()).collect()
    }

    /// Stages `new` next to the current files (one content per file, in order).
    pub fn stage(&self, new: &NewContents<'_>) -> Result<StagedFiles> {
        if new.files.len() != self.files.len() {
            return Err(Error::Internal(
                "one new content per credential file".into(),
            ));
        }
        let mut staged = Vec::with_capacity(self.files.len());
        for (file, contents) in self.files.iter().zip(&new.files) {
            let (dir, name) = dir_and_name(&file.real);
            let mode = if file.private { 0o600 } else { file.mode };
            let s = fileio::stage(dir, &name, contents, mode)
                .map_err(|e| Error::out_write(&file.shown, "write next to", e))?;
            staged.push(s);
        }
        Ok(StagedFiles {
            staged,
            layout: self.layout,
        })
    }
}

impl OnDisk {
    fn read(shown: &Path, private: bool) -> Result<Self, RotateCause> {
        let fail =
            |p| RotateCause::Error(Error::credential(Some(shown), CredentialProblem::File(p)));
        let real = fs::canonicalize(shown).map_err(|e| fail(fileio::problem_of(&e)))?;
        let bytes = fileio::read_bounded(&real, MAX_CREDENTIAL_FILE).map_err(fail)?;
        let mode = fs::metadata(&real)
            .map_err(|e| fail(fileio::problem_of(&e)))?
            .permissions()
            .mode()
            & 0o777;
        Ok(OnDisk {
            shown: shown.to_path_buf(),
            real,
            bytes,
            mode,
            private,
        })
    }
}

impl OnDisk {
    /// `path` (next to the real file) as the user would name it: next to the path they gave,
    /// unless that is a symbolic link.
    fn as_shown(&self, path: &Path) -> PathBuf {
        let is_link = fs::symlink_metadata(&self.shown).is_ok_and(|m| m.file_type().is_symlink());
        match path.file_name() {
            Some(name) if !is_link => self.shown.with_file_name(name),
            _ => path.to_path_buf(),
        }
    }
}

impl StagedFiles {
    /// Where the staged credential can be loaded from, to prove the new key before it is
    /// put in place.
    pub fn source(&self) -> CredentialSource {
        let path = |i: usize| self.staged[i].path().to_path_buf();
        CredentialSource {
            cert: path(0),
            key: (self.layout == Layout::Pair).then(|| path(1)),
            thumbprint: None,
        }
    }

    /// Puts the new files in place: checks that the current ones did not change since they
    /// were read, copies each to `NAME.previous-DATE` (0600, never over anything), then
    /// renames each staged file over its target. If a rename fails, the files already
    /// replaced get their previous content back.
    pub fn commit(self, current: &CredentialFiles, date: &str) -> Result<Replaced, RotateCause> {
        for file in &current.files {
            let now = fileio::read_bounded(&file.real, MAX_CREDENTIAL_FILE);
            if !matches!(&now, Ok(b) if b.as_slice() == file.bytes.as_slice()) {
                return Err(RotateCause::Problem(RotateProblem::FileChanged {
                    path: file.shown.clone(),
                }));
            }
        }
        let mut backups = Vec::with_capacity(current.files.len());
        for file in &current.files {
            let backup = write_backup(file, date)?;
            backups.push((file.shown.clone(), file.as_shown(&backup)));
        }
        let mut placed: Vec<&OnDisk> = Vec::with_capacity(current.files.len());
        for (staged, file) in self.staged.into_iter().zip(&current.files) {
            if let Err(e) = staged.commit(&file.real, Replace::Atomically) {
                for done in &placed {
                    // Best effort: the previous content is also in its backup file.
                    let _ = fileio::write_atomic(
                        &done.real,
                        &done.bytes,
                        done.mode,
                        Replace::Atomically,
                    );
                }
                return Err(RotateCause::Error(Error::out_write(
                    &file.shown,
                    "replace",
                    e,
                )));
            }
            placed.push(file);
        }
        for file in &current.files {
            let (dir, _) = dir_and_name(&file.real);
            // Make the renames durable; a directory that cannot be synced has the files anyway.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(Replaced { backups })
    }
}

/// Copies `file`'s content (as read at the start) to `NAME.previous-DATE` next to it, or
/// `NAME.previous-DATE.N` when that exists: a backup never replaces anything.
fn write_backup(file: &OnDisk, date: &str) -> Result<PathBuf, RotateCause> {
    let (dir, name) = dir_and_name(&file.real);
    for n in 1..1000 {
        let backup = match n {
            1 => dir.join(format!("{name}.previous-{date}")),
            n => dir.join(format!("{name}.previous-{date}.{n}")),
        };
        match fileio::write_atomic(&backup, &file.bytes, 0o600, Replace::Never) {
            Ok(()) => return Ok(backup),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(RotateCause::Error(Error::out_write(&backup, "write", e))),
        }
    }
    Err(RotateCause::Error(Error::out_write(
        &dir.join(format!("{name}.previous-{date}")),
        "write",
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a thousand backups of today exist already",
        ),
    )))
}

fn dir_and_name(path: &Path) -> (&Path, String) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// An encrypted PEM private key: PKCS#8 `ENCRYPTED PRIVATE KEY`, or the legacy
/// `Proc-Type: 4,ENCRYPTED` header (RFC 1421).
fn is_encrypted_pem(bytes: &[u8]) -> bool {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn combined(dir: &Path, contents: &[u8]) -> CredentialFiles {
        let p = dir.join("key.pem");
        fs::write(&p, contents).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let source = CredentialSource {
            cert: p,
            key: None,
            thumbprint: None,
        };
        CredentialFiles::read(&source, CertFile::PemWithKey).unwrap()
    }

    #[test]
    fn replaces_and_keeps_the_previous_file() {
        let tmp = tempfile::tempdir().unwrap();
        let current = combined(tmp.path(), b"old key and cert");
        assert_eq!(current.layout(), Layout::Combined);
        assert_eq!(current.encryption(), None);
        let staged = current
            .stage(&NewContents {
                files: vec![b"new key and cert"],
            })
            .unwrap();
        assert_eq!(fs::read(staged.source().cert).unwrap(), b"new key and cert");
        let done = staged.commit(&current, "2026-12-01").unwrap();
        let key = tmp.path().join("key.pem");
        assert_eq!(fs::read(&key).unwrap(), b"new key and cert");
        let backup = tmp.path().join("key.pem.previous-2026-12-01");
        assert_eq!(done.backups, vec![(key.clone(), backup.clone())]);
        assert!(
            tmp.path().is_absolute(),
            "the expected path is the one given"
        );
        assert_eq!(fs::read(&backup).unwrap(), b"old key and cert");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&key), mode(&backup)), (0o600, 0o600));

        // A second rotation the same day keeps both backups.
        let current = combined(tmp.path(), b"newer");
        let staged = current
            .stage(&NewContents {
                files: vec![b"newest"],
            })
            .unwrap();
        staged.commit(&current, "2026-12-01").unwrap();
        assert_eq!(
            listing(tmp.path()),
            [
                "key.pem",
                "key.pem.previous-2026-12-01",
                "key.pem.previous-2026-12-01.2"
            ]
        );
        assert_eq!(fs::read(&backup).unwrap(), b"old key and cert");
    }

    #[test]
    fn a_file_changed_meanwhile_is_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let current = combined(tmp.path(), b"old");
        let staged = current
            .stage(&NewContents {
                files: vec![b"new"],
            })
            .unwrap();
        fs::write(tmp.path().join("key.pem"), b"someone else's").unwrap();
        let e = staged.commit(&current, "2026-12-01").err().unwrap();
        assert!(matches!(
            e,
            RotateCause::Problem(RotateProblem::FileChanged { .. })
        ));
        assert_eq!(
            fs::read(tmp.path().join("key.pem")).unwrap(),
            b"someone else's"
        );
        assert_eq!(
            listing(tmp.path()),
            ["key.pem"],
            "the staged file went away"
        );
    }

    #[test]
    fn a_symlink_stays_a_link_to_the_new_file() {
        let tmp = tempfile::tempdir().unwrap();
        let real_dir = tmp.path().join("secrets");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("app.pem");
        fs::write(&real, b"old").unwrap();
        let link = tmp.path().join("key.pem");
        symlink(&real, &link).unwrap();
        let source = CredentialSource {
            cert: link.clone(),
            key: None,
            thumbprint: None,
        };
        let current = CredentialFiles::read(&source, CertFile::PemWithKey).unwrap();
        let staged = current
            .stage(&NewContents {
                files: vec![b"new"],
            })
            .unwrap();
        staged.commit(&current, "2026-12-01").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&link).unwrap(), b"new");
        assert_eq!(
            fs::read(real_dir.join("app.pem.previous-2026-12-01")).unwrap(),
            b"old"
        );
    }

    #[test]
    fn layouts_and_encryption_are_recognised() {
        let tmp = tempfile::tempdir().unwrap();
        let cert = tmp.path().join("cert.pem");
        let key = tmp.path().join("k.pem");
        fs::write(&cert, b"-----BEGIN CERTIFICATE-----").unwrap();
        fs::set_permissions(&cert, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&key, b"-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap();
        let pair = CredentialSource {
            cert: cert.clone(),
            key: Some(key.clone()),
            thumbprint: None,
        };
        let files = CredentialFiles::read(&pair, CertFile::Certificates).unwrap();
        assert_eq!(files.layout(), Layout::Pair);
        assert_eq!(files.encryption(), Some(Encrypted::Key));
        assert_eq!(files.key_path(), key.as_path());
        let staged = files
            .stage(&NewContents {
                files: vec![b"cert", b"key"],
            })
            .unwrap();
        let src = staged.source();
        assert_eq!(fs::read(&src.cert).unwrap(), b"cert");
        assert_eq!(fs::read(src.key.as_ref().unwrap()).unwrap(), b"key");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&src.cert), 0o644, "the certificate keeps its mode");
        assert_eq!(mode(src.key.as_ref().unwrap()), 0o600);

        let legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n";
        assert!(is_encrypted_pem(legacy));
        assert!(!is_encrypted_pem(b"-----BEGIN PRIVATE KEY-----"));

        let thumb_only = CredentialSource {
            cert: key.clone(),
            key: None,
            thumbprint: Some("AB".into()),
        };
        assert!(CredentialFiles::read(&thumb_only, CertFile::PemWithKey).is_err());
        let missing = CredentialSource {
            cert: tmp.path().join("missing.pem"),
            key: None,
            thumbprint: None,
        };
        assert!(matches!(
            CredentialFiles::read(&missing, CertFile::PemWithKey),
            Err(RotateCause::Error(Error::Credential { .. }))
        ));
    }
}
