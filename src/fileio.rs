//! Hardened file I/O, the one place graphd reads a file it was given or writes a file that
//! must stay private: credentials, passwords, the `--config` file, CA files, the token cache,
//! gen-cert's output, delta state.
//!
//! Reads are bounded (at most `limit + 1` bytes, ever), FIFO-safe (the type is checked before
//! the open, the open never blocks, and the type is checked again on the open file), and land
//! in zeroizing memory sized from the file's length, so the buffer never reallocates and leaves
//! no unwiped copy behind.
//!
//! Writes are atomic and private: a temporary file in the target's own directory, created with
//! `O_CREAT | O_EXCL` and its final mode (never widened or narrowed afterwards), written,
//! fsynced, then renamed into place: with `renameat2(RENAME_NOREPLACE)` when nothing may be
//! replaced, so a file that appears meanwhile is not replaced either. A reader never sees a
//! torn file, and a failure leaves no partial file behind.
//!
//! Locks (`lock`) are advisory `flock`s on a sibling `NAME.lock` file.
//!
//! This module never logs and never puts file contents into an error.

mod lock;

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rustix::fs::OFlags;
use rustix::io::Errno;
use zeroize::Zeroizing;

use crate::error::{FileProblem, io_reason};

pub use lock::{Lock, LockError, lock_beside, lock_path};

/// Reads a whole file of at most `limit` bytes into zeroizing memory.
///
/// An empty file is [`FileProblem::Empty`]: callers for which empty is meaningful (an empty
/// password) match on it.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, FileProblem> {
    read_bounded_file(path, limit).map(|read| read.bytes)
}

/// What [`read_bounded_file`] read.
#[derive(Debug)]
pub struct FileRead {
    pub bytes: Zeroizing<Vec<u8>>,
    /// The permission bits (`st_mode & 0o7777`) of the file the bytes came from, taken from
    /// the open file itself: not a second look at the path, which may name another file by
    /// then.
    pub mode: u32,
}

impl FileRead {
    /// Whether users other than the owner may read the file (group or other read bit).
    pub fn readable_by_others(&self) -> bool {
        self.mode & 0o044 != 0
    }
}

/// [`read_bounded`], also returning the file's permission bits (for warnings about secret
/// files that other users can read).
pub fn read_bounded_file(path: &Path, limit: u64) -> Result<FileRead, FileProblem> {
    let meta = std::fs::metadata(path).map_err(|e| problem_of(&e))?;
    check_type(&meta, limit)?;
    // O_NONBLOCK: if the path was swapped for a FIFO since the check above, opening it must
    // not wait for a writer; the type is checked again on the open file.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| problem_of(&e))?;
    let meta = file.metadata().map_err(|e| problem_of(&e))?;
    check_type(&meta, limit)?;
    // The capacity comes from metadata (+1 to see growth past the limit), so the buffer never
    // reallocates; `take` enforces the limit if the file grows meanwhile.
    let capacity = usize::try_from(meta.len().min(limit) + 1).unwrap_or(usize::MAX);
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    read_into_fixed(&mut file.take(limit + 1), &mut buf).map_err(|e| problem_of(&e))?;
    if buf.len() as u64 > limit {
        return Err(FileProblem::TooLarge { limit });
    }
    if buf.is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(FileRead {
        bytes: buf,
        mode: meta.permissions().mode() & 0o7777,
    })
}

/// Reads until EOF into `buf` without ever growing it: a file that grew since its length was
/// read fills the buffer up to its capacity and stops, so the caller sees "too large".
fn read_into_fixed(input: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let room = buf.capacity() - buf.len();
        if room == 0 {
            return Ok(());
        }
        let n = match input.read(&mut chunk[..room.min(8192)]) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A regular file within the limit; anything else is refused before a byte is read.
fn check_type(meta: &Metadata, limit: u64) -> Result<(), FileProblem> {
    if meta.is_dir() {
        return Err(FileProblem::IsDirectory);
    }
    if !meta.is_file() {
        return Err(FileProblem::NotRegularFile);
    }
    if meta.len() > limit {
        return Err(FileProblem::TooLarge { limit });
    }
    Ok(())
}

/// The [`FileProblem`] an I/O error stands for.
pub fn problem_of(e: &io::Error) -> FileProblem {
    match e.kind() {
        io::ErrorKind::NotFound => FileProblem::NotFound,
        io::ErrorKind::PermissionDenied => FileProblem::PermissionDenied,
        io::ErrorKind::IsADirectory => FileProblem::IsDirectory,
        _ if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => FileProblem::SymlinkLoop,
        _ => FileProblem::Unreadable(io_reason(e)),
    }
}

/// Why [`read_own_private`] will not use a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untrusted {
    Missing,
    /// A symlink, FIFO, directory or device.
    NotRegularFile,
    OwnedByAnother,
    OpenToOthers,
    TooLarge,
    Unreadable,
}

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Untrusted::Missing => "missing",
            Untrusted::NotRegularFile => "not a regular file",
            Untrusted::OwnedByAnother => "owned by another user",
            Untrusted::OpenToOthers => "readable or writable by others",
            Untrusted::TooLarge => "too large",
            Untrusted::Unreadable => "cannot be read",
        })
    }
}

/// Reads a file graphd wrote for this user alone (a token cache entry): it must be a regular
/// file (a symlink is not followed, a FIFO is not waited on), owned by the effective user,
/// with no group or other permission bits, and at most `limit` bytes. Anything else is not
/// trusted, whatever it holds.
pub fn read_own_private(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, Untrusted> {
    let flags = OFlags::NOFOLLOW | OFlags::NONBLOCK;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Untrusted::Missing),
        Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => {
            return Err(Untrusted::NotRegularFile);
        }
        Err(_) => return Err(Untrusted::Unreadable),
    };
    let meta = file.metadata().map_err(|_| Untrusted::Unreadable)?;
    if !meta.is_file() {
        return Err(Untrusted::NotRegularFile);
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(Untrusted::OwnedByAnother);
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Untrusted::OpenToOthers);
    }
    if meta.len() > limit {
        return Err(Untrusted::TooLarge);
    }
    let capacity = usize::try_from(meta.len() + 1).unwrap_or(usize::MAX);
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    read_into_fixed(&mut file.take(limit + 1), &mut buf).map_err(|_| Untrusted::Unreadable)?;
    if buf.len() as u64 > limit {
        return Err(Untrusted::TooLarge);
    }
    Ok(buf)
}

/// Whether [`write_atomic`] may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Fail with `AlreadyExists` if the target exists, even if it appeared a moment ago.
    Never,
    /// Replace the target atomically (readers see the old or the new file, never a mix).
    Atomically,
}

/// Writes `contents` to `path` atomically with `mode` (0600 for anything secret): staged
/// under a temporary name in the same directory, created with that mode, fsynced, renamed.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32, replace: Replace) -> io::Result<()> {
    let (dir, name) = dir_and_name(path);
    stage(dir, &name, contents, mode)?.commit(path, replace)
}

/// The directory a file is in (`.` for a bare name) and its name, as staging needs them.
pub fn dir_and_name(path: &Path) -> (&Path, String) {
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

/// A file written under a temporary name, not yet in place; removed if dropped uncommitted.
/// Several staged files committed one after the other make an all-or-nothing set when every
/// write happened before the first commit (gen-cert's key.pem, cert.pem, graphd.pfx).
#[derive(Debug)]
pub struct Staged(tempfile::NamedTempFile);

/// Writes `contents` to a new temporary file in `dir` (named after `name`), created with
/// `mode` and `O_EXCL`, and fsynced.
pub fn stage(dir: &Path, name: &str, contents: &[u8], mode: u32) -> io::Result<Staged> {
    // tempfile creates with O_EXCL and the given mode (before the umask narrows it, never
    // widening it), so a secret is never readable by others, not even for a moment.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    Ok(Staged(tmp))
}

impl Staged {
    /// Where the staged file is, under its temporary name (to load it before committing it).
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Renames the staged file to `target` (in the same directory), refusing with
    /// `AlreadyExists` to replace anything unless `replace` says so.
    pub fn commit(self, target: &Path, replace: Replace) -> io::Result<()> {
        match replace {
            Replace::Never => self.0.persist_noclobber(target).map_err(|e| e.error)?,
            Replace::Atomically => self.0.persist(target).map_err(|e| e.error)?,
        };
        // The rename is durable once the directory is; a filesystem that cannot sync a
        // directory has the file already, which is not worth failing for.
        if let Ok(d) = File::open(dir_and_name(target).0) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_each_unusable_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert_eq!(read_bounded(&missing, 10), Err(FileProblem::NotFound));
        assert_eq!(read_bounded(dir.path(), 10), Err(FileProblem::IsDirectory));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(read_bounded(&empty, 10), Err(FileProblem::Empty));
        let big = dir.path().join("big.pem");
        std::fs::write(&big, [b'x'; 11]).unwrap();
        assert_eq!(
            read_bounded(&big, 10),
            Err(FileProblem::TooLarge { limit: 10 })
        );
        std::fs::write(&big, [b'x'; 10]).unwrap();
        assert_eq!(read_bounded(&big, 10).unwrap().len(), 10);
        let lo = dir.path().join("loop");
        std::os::unix::fs::symlink(&lo, &lo).unwrap();
        assert_eq!(read_bounded(&lo, 10), Err(FileProblem::SymlinkLoop));
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert_eq!(read_bounded(&fifo, 10), Err(FileProblem::NotRegularFile));
    }

    #[test]
    fn the_mode_comes_with_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key.pem");
        std::fs::write(&f, b"k").unwrap();
        for (mode, others) in [(0o600, false), (0o640, true), (0o604, true), (0o400, false)] {
            std::fs::set_permissions(&f, Permissions::from_mode(mode)).unwrap();
            let read = read_bounded_file(&f, 10).unwrap();
            assert_eq!((read.mode, read.readable_by_others()), (mode, others));
        }
    }

    #[test]
    fn the_buffer_is_sized_once_and_never_grows() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, vec![b'k'; 20_000]).unwrap();
        let buf = read_bounded(&f, 1 << 20).unwrap();
        assert_eq!(buf.len(), 20_000);
        assert_eq!(
            buf.capacity(),
            20_001,
            "sized from metadata, never reallocated"
        );
        // A private file (a token cache entry) too: sized from the open file's length.
        std::fs::set_permissions(&f, Permissions::from_mode(0o600)).unwrap();
        let own = read_own_private(&f, 1 << 20).unwrap();
        assert_eq!((own.len(), own.capacity()), (20_000, 20_001));
        // A reader that yields more than the capacity stops at the capacity.
        let mut v = Vec::with_capacity(5);
        read_into_fixed(&mut &b"0123456789"[..], &mut v).unwrap();
        assert_eq!((v.len(), v.capacity()), (5, 5));
    }

    #[test]
    fn only_own_private_files_are_trusted() {
        use std::fs::Permissions;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        assert_eq!(read_own_private(&f, 10), Err(Untrusted::Missing));
        write_atomic(&f, b"secret", 0o600, Replace::Never).unwrap();
        assert_eq!(&*read_own_private(&f, 10).unwrap(), b"secret");
        assert_eq!(read_own_private(&f, 5), Err(Untrusted::TooLarge));
        std::fs::set_permissions(&f, Permissions::from_mode(0o640)).unwrap();
        assert_eq!(read_own_private(&f, 10), Err(Untrusted::OpenToOthers));
        std::fs::set_permissions(&f, Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert_eq!(read_own_private(&link, 10), Err(Untrusted::NotRegularFile));
        assert_eq!(
            read_own_private(dir.path(), 10),
            Err(Untrusted::NotRegularFile)
        );
    }

    #[test]
    fn atomic_writes_are_private_and_respect_replace() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"one", 0o600, Replace::Never).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        let e = write_atomic(&p, b"two", 0o600, Replace::Never).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"two", 0o600, Replace::Atomically).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file left behind: {left:?}");
    }
}
