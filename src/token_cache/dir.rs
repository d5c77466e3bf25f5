//! The token cache's directory (`--token-cache DIR`): created with mode 0700, or an existing
//! one checked: a real directory (not a symlink) of this user that nobody else can write
//! into, tightened to 0700 if others may read or enter it, under ancestors that belong to
//! this user or root and that others cannot write into unless sticky (OpenSSH's
//! StrictModes, `dir_trust`).
//!
//! It never creates anything under an ancestor it cannot trust, never follows a symlink to
//! the directory, and never reads or writes the entries in it (the parent module does).

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use crate::dir_trust;
use crate::error::{ConfigProblem, Error, Result};
use crate::messages;

/// Creates `dir` (mode 0700) or checks it, as the module docs say; tightens a directory
/// others may read to 0700, with a warning.
pub fn prepare(dir: &Path) -> Result<()> {
    let fail = |action, source| Error::File {
        path: dir.to_path_buf(),
        action,
        source,
        hint: Some("--token-cache (GRAPHD_TOKEN_CACHE) must be a directory you own".to_string()),
    };
    let unsafe_path = |problem| {
        Error::Config(ConfigProblem::TokenCacheUnsafe {
            path: dir.to_path_buf(),
            problem,
        })
    };
    // Nothing is created under an ancestor that cannot be trusted. (An existing cache
    // directory is checked itself first, below, then its ancestors.)
    if !dir.exists() {
        let existing = dir
            .ancestors()
            .map(|a| {
                if a.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    a
                }
            })
            .find(|a| a.exists());
        if let Some(existing) = existing {
            dir_trust::check_ancestors(existing).map_err(unsafe_path)?;
        }
    }
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => return Err(fail("create the token cache directory", e)),
    }
    let not_ours = || {
        Error::Config(ConfigProblem::TokenCacheDir {
            path: dir.to_path_buf(),
        })
    };
    // The mode is read from, and tightened on, the directory itself, opened without
    // following a symlink: not a path that may name something else a moment later.
    let handle = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|_| not_ours())?;
    let stat = rustix::fs::fstat(&handle).map_err(|e| fail("inspect", e.into()))?;
    let mode = stat.st_mode & 0o7777;
    if stat.st_uid != rustix::process::geteuid().as_raw() || mode & 0o022 != 0 {
        return Err(not_ours());
    }
    if mode & 0o077 != 0 {
        rustix::fs::fchmod(&handle, Mode::from_raw_mode(0o700))
            .map_err(|e| fail("restrict (chmod 700)", e.into()))?;
        messages::warn(&format!(
            "the token cache {} was open to other users (mode {mode:04o}); graphd made it 0700",
            dir.display()
        ));
    }
    dir_trust::check_ancestors(dir).map_err(unsafe_path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::token_cache::TokenCache;

    #[test]
    fn a_shared_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(TokenCache::open(dir.path()).unwrap_err().exit_code(), 3);
        let link = dir.path().with_extension("link");
        let real = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(real.path(), &link).unwrap();
        let e = TokenCache::open(&link).unwrap_err();
        std::fs::remove_file(&link).unwrap();
        assert_eq!(e.exit_code(), 3, "a symlink is not the cache directory");
    }

    /// Issue 16, finding 8: the README's 0700 holds, and every ancestor is checked.
    #[test]
    fn a_loose_directory_is_tightened_and_a_loose_ancestor_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("cache");
        fs::create_dir(&cache).unwrap();
        fs::set_permissions(&cache, fs::Permissions::from_mode(0o755)).unwrap();
        TokenCache::open(&cache).unwrap();
        let mode = fs::metadata(&cache).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o700, "tightened");

        let parent = tmp.path().join("shared");
        fs::create_dir(&parent).unwrap();
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o777)).unwrap();
        let e = TokenCache::open(&parent.join("a/b/cache")).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(!parent.join("a").exists(), "nothing created under it");
        let text = e.to_string();
        assert!(
            text.contains("other users can write into") && text.contains("shared"),
            "{text}"
        );
        assert!(e.hint().unwrap().contains("chmod g-w,o-w"), "{e:?}");
        // Sticky, as /tmp is: others cannot rename our entries.
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o1777)).unwrap();
        TokenCache::open(&parent.join("a/b/cache")).unwrap();
    }
}
