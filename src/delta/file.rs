//! The state file on disk, behind three calls: [`read`], [`write_atomic_0600`] and [`lock`].
//!
//! - Reading refuses what could be a trap: a symbolic link, a FIFO or device, a file owned
//!   by someone else or writable by others, an oversized file.
//! - Writing is create-or-replace and atomic: a 0600 temporary file in the same directory,
//!   flushed to disk, renamed over the state file, and the directory flushed; a crash at any
//!   point leaves the old state or the new one, never a torn file.
//! - The lock is an advisory `flock` on `STATE_FILE.lock` (a sibling, never deleted: the
//!   state file itself is replaced by rename, so a lock on it would not hold), which also
//!   records the holder's pid for the message a second run prints. The kernel releases it
//!   when the process ends, however it ends.
//!
//! Nothing here knows what the state means; `super` parses it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, OFlags, flock};

/// The largest state file graphd reads (a state is well under 4 KiB).
pub const MAX_STATE_FILE: u64 = 64 * 1024;

/// Why a state or lock file cannot be used.
#[derive(Debug)]
pub enum FileError {
    /// Another process holds the lock; its pid, when it wrote one.
    Locked(Option<u32>),
    /// Anything else, in words (never the contents).
    Unusable(String),
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

/// `STATE_FILE.lock`.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    state.with_file_name(name)
}

fn reason(e: &io::Error) -> String {
    crate::error::io_reason(e)
}

/// Opens without following a symbolic link and without blocking on a FIFO put in its place.
fn open_flags() -> i32 {
    (OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC).bits() as i32
}

/// Refuses a file that is not a regular file of ours, closed to writers other than us.
fn check_trusted(meta: &std::fs::Metadata) -> Result<(), FileError> {
    if !meta.is_file() {
        return Err(FileError::Unusable("it is not a regular file".into()));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(FileError::Unusable("it is owned by another user".into()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(FileError::Unusable(
            "other users can write to it".to_string(),
        ));
    }
    Ok(())
}

fn opened(result: io::Result<File>) -> Result<Option<File>, FileError> {
    match result {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => Err(
            FileError::Unusable("it is a symbolic link (give the real path)".into()),
        ),
        Err(e) => Err(FileError::Unusable(reason(&e))),
    }
}

/// The state file's bytes; `None` when it does not exist.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, FileError> {
    let open = OpenOptions::new()
        .read(true)
        .custom_flags(open_flags())
        .open(path);
    let Some(mut file) = opened(open)? else {
        return Ok(None);
    };
    let meta = file
        .metadata()
        .map_err(|e| FileError::Unusable(reason(&e)))?;
    check_trusted(&meta)?;
    if meta.len() > MAX_STATE_FILE {
        return Err(FileError::Unusable(format!(
            "it is larger than {} KiB",
            MAX_STATE_FILE / 1024
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(MAX_STATE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Unusable(reason(&e)))?;
    Ok(Some(bytes))
}

/// Creates or replaces `path` with `bytes`, atomically, mode 0600.
pub fn write_atomic_0600(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // tempfile creates its files 0600 on Unix, from the start (no chmod window).
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename is durable only once the directory is.
    File::open(dir)?.sync_all()
}

/// Takes the advisory lock of `state` without waiting, and records this process's pid in
/// the lock file.
pub fn lock(state: &Path) -> Result<Lock, FileError> {
    let path = lock_path(state);
    let open = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(open_flags())
        .open(&path);
    let mut file = match opened(open)? {
        Some(f) => f,
        None => {
            let dir = path.parent().unwrap_or(Path::new("."));
            return Err(FileError::Unusable(format!(
                "its directory {} does not exist",
                dir.display()
            )));
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| FileError::Unusable(reason(&e)))?;
    check_trusted(&meta).map_err(|e| match e {
        FileError::Unusable(why) => FileError::Unusable(format!("{}: {why}", path.display())),
        other => other,
    })?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            let mut text = String::new();
            let _ = (&mut file).take(32).read_to_string(&mut text);
            return Err(FileError::Locked(text.trim().parse().ok()));
        }
        Err(e) => {
            return Err(FileError::Unusable(format!(
                "cannot lock {}: {}",
                path.display(),
                reason(&e.into())
            )));
        }
    }
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(|e| FileError::Unusable(format!("{}: {}", path.display(), reason(&e))))?;
    Ok(Lock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn writes_are_0600_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(read(&path).unwrap().is_none());
        write_atomic_0600(&path, b"one").unwrap();
        write_atomic_0600(&path, b"two").unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Only the state file is left: no temporary files.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn untrusted_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, b"{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let why = |r: Result<Option<Vec<u8>>, FileError>| match r {
            Err(FileError::Unusable(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(why(read(&link)).contains("symbolic link"));
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(why(read(&real)).contains("write"));
        assert!(why(read(dir.path())).contains("regular"));
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; MAX_STATE_FILE as usize + 1]).unwrap();
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(why(read(&big)).contains("larger"));
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let held = lock(&state).unwrap();
        assert_eq!(held.path, dir.path().join("state.json.lock"));
        match lock(&state) {
            Err(FileError::Locked(pid)) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(lock(&state).is_ok());
        match lock(&dir.path().join("missing/state.json")) {
            Err(FileError::Unusable(why)) => assert!(why.contains("does not exist"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
