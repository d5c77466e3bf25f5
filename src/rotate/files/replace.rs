//! Putting the staged files in place (step 6): the current files must not have changed since
//! they were read; each is first copied to `NAME.previous-DATE` (0600, never over an existing
//! file), then the staged file is renamed over it. If a rename fails, the files already
//! replaced get their previous content back.

use std::fs;
use std::path::{Path, PathBuf};

use super::{CredentialFiles, OnDisk, Replaced, StagedFiles, write_failed};
use crate::credential::MAX_CREDENTIAL_FILE;
use crate::error::{RotateCause, RotateProblem};
use crate::fileio::dir_and_name;
use crate::fileio::{self, Replace};

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
                return Err(RotateCause::Error(write_failed(&file.shown, "replace", e)));
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
            Err(e) => return Err(RotateCause::Error(write_failed(&backup, "write", e))),
        }
    }
    Err(RotateCause::Error(write_failed(
        &dir.join(format!("{name}.previous-{date}")),
        "write",
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a thousand backups of today exist already",
        ),
    )))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::super::{Layout, NewContents};
    use super::*;
    use crate::credential::CredentialSource;
    use crate::error::CertFile;

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
}
