//! Reading a credential or password file: bounded, zeroized, with a precise reason on failure.
//!
//! The file is checked with `metadata` before it is opened, so a FIFO or device is refused
//! instead of blocking, and at most `limit + 1` bytes are ever read.

use std::fs::{Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustix::fs::OFlags;
use rustix::io::Errno;

use zeroize::Zeroizing;

use crate::error::{CredentialProblem, Error, Result, io_reason};

/// The largest credential file graphd reads: a PEM chain of a dozen certificates is ~25 KiB.
pub const MAX_CREDENTIAL_FILE: u64 = 1024 * 1024;

/// Reads a whole file of at most `limit` bytes into zeroizing memory.
pub fn read_limited(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>> {
    let fail = |problem| Error::credential(Some(path), problem);
    let meta = std::fs::metadata(path).map_err(|e| fail(problem_of(&e)))?;
    check_type(&meta, limit).map_err(fail)?;
    // O_NONBLOCK: if the path was swapped for a FIFO since the check above, opening it must
    // not wait for a writer; the type is checked again on the open file.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| fail(problem_of(&e)))?;
    let meta = file.metadata().map_err(|e| fail(problem_of(&e)))?;
    check_type(&meta, limit).map_err(fail)?;
    // The capacity comes from metadata, so the buffer never reallocates (which would leave an
    // unzeroized copy behind); `take` enforces the limit if the file grows meanwhile.
    let mut buf = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| fail(problem_of(&e)))?;
    if buf.len() as u64 > limit {
        return Err(fail(CredentialProblem::TooLarge { limit }));
    }
    if buf.is_empty() {
        return Err(fail(CredentialProblem::Empty));
    }
    Ok(buf)
}

/// A regular file within the limit; anything else is refused before a byte is read.
fn check_type(meta: &Metadata, limit: u64) -> Result<(), CredentialProblem> {
    if meta.is_dir() {
        return Err(CredentialProblem::IsDirectory);
    }
    if !meta.is_file() {
        return Err(CredentialProblem::NotRegularFile);
    }
    if meta.len() > limit {
        return Err(CredentialProblem::TooLarge { limit });
    }
    Ok(())
}

fn problem_of(e: &io::Error) -> CredentialProblem {
    match e.kind() {
        io::ErrorKind::NotFound => CredentialProblem::NotFound,
        io::ErrorKind::PermissionDenied => CredentialProblem::PermissionDenied,
        io::ErrorKind::IsADirectory => CredentialProblem::IsDirectory,
        _ if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => CredentialProblem::SymlinkLoop,
        _ => CredentialProblem::Unreadable(io_reason(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(r: Result<Zeroizing<Vec<u8>>>) -> CredentialProblem {
        match r {
            Err(Error::Credential { problem, .. }) => problem,
            other => panic!("expected a credential error, got {other:?}"),
        }
    }

    #[test]
    fn refuses_each_unusable_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert_eq!(
            problem(read_limited(&missing, 10)),
            CredentialProblem::NotFound
        );
        assert_eq!(
            problem(read_limited(dir.path(), 10)),
            CredentialProblem::IsDirectory
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(problem(read_limited(&empty, 10)), CredentialProblem::Empty);
        let big = dir.path().join("big.pem");
        std::fs::write(&big, [b'x'; 11]).unwrap();
        assert_eq!(
            problem(read_limited(&big, 10)),
            CredentialProblem::TooLarge { limit: 10 }
        );
        std::fs::write(&big, [b'x'; 10]).unwrap();
        assert_eq!(read_limited(&big, 10).unwrap().len(), 10);
        let lo = dir.path().join("loop");
        std::os::unix::fs::symlink(&lo, &lo).unwrap();
        assert_eq!(
            problem(read_limited(&lo, 10)),
            CredentialProblem::SymlinkLoop
        );
    }
}
