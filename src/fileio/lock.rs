//! Locks: advisory `flock`s on a sibling `NAME.lock` file (never deleted: a file replaced by
//! rename cannot hold a lock), which also records the holder's pid for the message a second
//! process prints. The kernel releases a lock when its process ends, however it ends.
//!
//! A lock is taken without waiting, and only on a regular file of this user that others
//! cannot write (created 0600, never through a symlink). This module never logs and never
//! reads more of a lock file than a pid.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, OFlags, flock};
use rustix::io::Errno;

use crate::error::io_reason;

/// A held lock (see the module docs); dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

/// Why [`lock_beside`] did not get the lock.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it: its pid, when it wrote one.
    Held(Option<u32>),
    /// The lock file cannot be used, in words.
    Unusable(String),
}

/// `path` with `.lock` appended to its file name.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Takes the exclusive advisory lock of `path` (on `path.lock`) without waiting, and
/// records this process's pid in the lock file. The lock file must be a regular file of this
/// user that others cannot write (it is created 0600).
pub fn lock_beside(path: &Path) -> Result<Lock, LockError> {
    let lock = lock_path(path);
    let unusable = |why: String| LockError::Unusable(format!("{}: {why}", lock.display()));
    let flags = OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(flags.bits() as i32)
        .open(&lock)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = lock.parent().unwrap_or(Path::new("."));
            return Err(LockError::Unusable(format!(
                "its directory {} does not exist",
                dir.display()
            )));
        }
        Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => {
            return Err(unusable("it is a symbolic link".into()));
        }
        Err(e) => return Err(unusable(io_reason(&e))),
    };
    let meta = file.metadata().map_err(|e| unusable(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(unusable("it is not a regular file".into()));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() || meta.mode() & 0o022 != 0 {
        return Err(unusable(
            "it belongs to another user, or others can write to it".into(),
        ));
    }
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == Errno::WOULDBLOCK => {
            let mut text = String::new();
            let _ = (&mut file).take(32).read_to_string(&mut text);
            return Err(LockError::Held(text.trim().parse().ok()));
        }
        Err(e) => return Err(unusable(format!("cannot lock: {}", io_reason(&e.into())))),
    }
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(|e| unusable(io_reason(&e)))?;
    Ok(Lock {
        _file: file,
        path: lock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let held = lock_beside(&state).unwrap();
        assert_eq!(held.path, dir.path().join("state.json.lock"));
        match lock_beside(&state) {
            Err(LockError::Held(pid)) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(lock_beside(&state).is_ok());
        match lock_beside(&dir.path().join("missing/state.json")) {
            Err(LockError::Unusable(why)) => assert!(why.contains("does not exist"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
