//! Writing gen-cert's files: all or nothing, never over a file the user has, never a
//! half-written key under its real name.
//!
//! Every file is staged with `fileio::stage` under a temporary name in the output directory
//! itself (created with its final mode through `O_CREAT | O_EXCL`, never widened or narrowed
//! afterwards), fsynced, and only then renamed into place: with `renameat2(RENAME_NOREPLACE)`
//! unless `--force`, so a file that appears meanwhile is not replaced either. All existence
//! checks happen before anything is written, and so does the check that nobody else can
//! replace entries of the directory (`dir_trust`: group- or world-writable without the sticky
//! bit is refused), where someone could otherwise swap `cert.pem` before it is uploaded.

use std::fs::{self, DirBuilder, File};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::dir_trust;
use crate::error::{Error, Result};
use crate::fileio::{self, Replace};

/// One file to write: its name in the output directory, contents and mode.
pub struct OutFile<'a> {
    pub name: &'static str,
    pub contents: &'a [u8],
    pub mode: u32,
}

impl<'a> OutFile<'a> {
    /// `key.pem`: the key and its certificate, private, mode 0600 from its creation.
    pub fn key(contents: &'a [u8]) -> Self {
        OutFile {
            name: super::KEY_FILE,
            contents,
            mode: 0o600,
        }
    }

    /// `cert.pem`: public, what gets uploaded.
    pub fn cert(contents: &'a [u8]) -> Self {
        OutFile {
            name: super::CERT_FILE,
            contents,
            mode: 0o644,
        }
    }

    /// `graphd.pfx`: holds the key, mode 0600 from its creation.
    pub fn pfx(contents: &'a [u8]) -> Self {
        OutFile {
            name: super::PFX_FILE,
            contents,
            mode: 0o600,
        }
    }
}

/// An output directory that was checked: it exists (or its parent does, and it will be
/// created with mode 0700), and none of the files to write exists unless `force`.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    missing: bool,
    force: bool,
}

impl OutDir {
    /// Checks `dir` and the files `names` in it, before anything is generated or written.
    pub fn check(dir: &Path, names: &[&str], force: bool) -> Result<Self> {
        if dir.as_os_str().is_empty() {
            return Err(Error::out_not_directory(dir));
        }
        let missing = match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {
                dir_trust::check_writers(dir, &meta).map_err(Error::out_shared_directory)?;
                false
            }
            Ok(_) => return Err(Error::out_not_directory(dir)),
            // A dangling symlink: creating the directory would fail; say what it is.
            Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(dir).is_ok() => {
                return Err(Error::out_not_directory(dir));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let parent = dir
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                match fs::metadata(parent) {
                    // Whoever can write into the parent can replace the new directory.
                    Ok(meta) if meta.is_dir() => {
                        dir_trust::check_writers(parent, &meta)
                            .map_err(Error::out_shared_directory)?;
                        true
                    }
                    Ok(_) => return Err(Error::out_not_directory(parent)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(Error::out_parent_missing(dir, parent));
                    }
                    Err(e) => return Err(Error::out_write(dir, "create the directory", e)),
                }
            }
            Err(e) => return Err(Error::out_write(dir, "use the directory", e)),
        };
        let out = OutDir {
            dir: dir.to_path_buf(),
            missing,
            force,
        };
        if !missing {
            for name in names {
                let path = out.path(name);
                // symlink_metadata: a dangling symlink is a file the user has, too.
                match fs::symlink_metadata(&path) {
                    Ok(meta) if meta.is_dir() => return Err(Error::out_target_is_directory(&path)),
                    Ok(_) if !force => return Err(Error::Exists { path }),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::out_write(&path, "check", e)),
                }
            }
        }
        Ok(out)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `name` goes.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether the directory does not exist yet (it is created by `write`).
    pub fn will_create(&self) -> bool {
        self.missing
    }

    /// Creates the directory if needed and writes `files`, all or none.
    ///
    /// On failure every staged temporary file is removed, as are the files this call had
    /// already put in place and the directory it created. With `--force` the files already
    /// replaced stay replaced: the old ones are gone by then (each rename is atomic, the set
    /// is not; a rename within one directory fails only if the directory itself changes).
    pub fn write(&self, files: &[OutFile<'_>]) -> Result<()> {
        if self.missing {
            DirBuilder::new()
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| Error::out_write(&self.dir, "create the directory", e))?;
        }
        let result = self.write_files(files);
        if result.is_err() && self.missing {
            // Empty again by now; remove_dir never removes anything else.
            let _ = fs::remove_dir(&self.dir);
        }
        result
    }

    fn write_files(&self, files: &[OutFile<'_>]) -> Result<()> {
        let mut staged = Vec::with_capacity(files.len());
        for file in files {
            let target = self.path(file.name);
            let temp = fileio::stage(&self.dir, file.name, file.contents, file.mode)
                .map_err(|e| Error::out_write(&target, "write", e))?;
            staged.push((temp, target));
        }
        let mut placed: Vec<PathBuf> = Vec::with_capacity(staged.len());
        // On an early return, the temporary files not yet renamed are deleted on drop.
        for (temp, target) in staged {
            let replace = if self.force {
                Replace::Atomically
            } else {
                Replace::Never
            };
            if let Err(e) = temp.commit(&target, replace) {
                if !self.force {
                    for path in &placed {
                        let _ = fs::remove_file(path);
                    }
                }
                return Err(if e.kind() == io::ErrorKind::AlreadyExists {
                    Error::Exists { path: target }
                } else {
                    Error::out_write(&target, "write", e)
                });
            }
            placed.push(target);
        }
        // Make the renames durable as well; a filesystem that cannot sync a directory has
        // already got the files, so a failure here is not worth failing the command for.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_the_directory_and_files_with_their_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certs");
        let out = OutDir::check(&dir, &["a", "b"], false).unwrap();
        assert!(out.will_create());
        out.write(&[
            OutFile {
                name: "a",
                contents: b"secret",
                mode: 0o600,
            },
            OutFile {
                name: "b",
                contents: b"public",
                mode: 0o644,
            },
        ])
        .unwrap();
        assert_eq!(listing(&dir), ["a", "b"]);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("a")), 0o600);
        assert_eq!(fs::read(dir.join("b")).unwrap(), b"public");
    }

    #[test]
    fn a_file_that_appears_after_the_check_is_kept_and_the_rest_is_undone() {
        let tmp = tempfile::tempdir().unwrap();
        let out = OutDir::check(tmp.path(), &["a", "b"], false).unwrap();
        fs::write(tmp.path().join("b"), b"theirs").unwrap();
        let err = out
            .write(&[
                OutFile {
                    name: "a",
                    contents: b"ours",
                    mode: 0o600,
                },
                OutFile {
                    name: "b",
                    contents: b"ours",
                    mode: 0o600,
                },
            ])
            .unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path.ends_with("b")),
            "{err}"
        );
        assert_eq!(listing(tmp.path()), ["b"]);
        assert_eq!(fs::read(tmp.path().join("b")).unwrap(), b"theirs");
    }

    #[test]
    fn refuses_what_it_must_not_touch() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("a"), b"x").unwrap();
        assert!(matches!(
            OutDir::check(tmp.path(), &["a"], false),
            Err(Error::Exists { .. })
        ));
        assert!(OutDir::check(tmp.path(), &["a"], true).is_ok());
        fs::create_dir(tmp.path().join("d")).unwrap();
        let e = OutDir::check(tmp.path(), &["d"], true).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), tmp.path().join("dangling"))
            .unwrap();
        assert!(matches!(
            OutDir::check(tmp.path(), &["dangling"], false),
            Err(Error::Exists { .. })
        ));
        let e = OutDir::check(&tmp.path().join("a"), &["k"], false).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        let e = OutDir::check(&tmp.path().join("no/such"), &["k"], false).unwrap_err();
        let parent = format!("{} does not exist", tmp.path().join("no").display());
        assert!(e.to_string().contains(&parent), "{e}");
        assert_eq!(e.exit_code(), 3);
        assert!(OutDir::check(Path::new(""), &["k"], false).is_err());
    }

    /// Issue 16, finding 7: a directory others can write into is refused, before anything
    /// is written, whether --out exists or is to be created in it.
    #[test]
    fn a_directory_others_can_write_into_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        for out in [shared.clone(), shared.join("certs")] {
            let e = OutDir::check(&out, &["a"], false).unwrap_err();
            assert!(e.to_string().contains("other users can write into"), "{e}");
            assert!(e.hint().unwrap().contains("chmod g-w,o-w"), "{e}");
            assert_eq!(e.exit_code(), 3);
        }
        assert_eq!(listing(&shared), Vec::<String>::new());
        // The sticky bit (/tmp) keeps others from touching our entries.
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(OutDir::check(&shared, &["a"], false).is_ok());
        assert!(OutDir::check(&shared.join("certs"), &["a"], false).is_ok());
    }
}
