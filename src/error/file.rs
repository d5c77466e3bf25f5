//! Why a file graphd reads cannot be used: said once here, for every kind of file (key,
//! certificate, password, config, CA, federated token). Never holds file contents.

use std::fmt;
use std::path::PathBuf;

/// Why a file cannot be read. The caller says what the file was for (and so picks the hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    NotFound,
    IsDirectory,
    /// A FIFO, socket or device: refused before it is opened, so nothing blocks on it.
    NotRegularFile,
    PermissionDenied,
    SymlinkLoop,
    /// Larger than the bound for this kind of file; nothing was read.
    TooLarge {
        limit: u64,
    },
    Empty,
    /// Any other I/O failure, as the OS said it (without the "os error N" noise).
    Unreadable(String),
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::NotFound => f.write_str("no such file"),
            FileProblem::IsDirectory => f.write_str("is a directory, not a file"),
            FileProblem::NotRegularFile => {
                f.write_str("is not a regular file (a FIFO, socket or device?)")
            }
            FileProblem::PermissionDenied => f.write_str("permission denied"),
            FileProblem::SymlinkLoop => f.write_str("is a symbolic link loop"),
            FileProblem::TooLarge { limit } => write!(
                f,
                "is larger than {} KiB, far more than such a file needs; not read",
                limit.div_ceil(1024)
            ),
            FileProblem::Empty => f.write_str("is empty"),
            FileProblem::Unreadable(reason) => write!(f, "cannot read: {reason}"),
        }
    }
}

impl FileProblem {
    /// The hint shared by every kind of file, when the problem is the file system's.
    pub fn generic_hint(&self) -> Option<&'static str> {
        Some(match self {
            FileProblem::PermissionDenied => {
                "make the file readable by this user, and by nobody else (chmod 600)"
            }
            FileProblem::SymlinkLoop => {
                "the path is a symbolic link that points back to itself; fix the link"
            }
            FileProblem::Unreadable(_) => "check the path and that the file is readable",
            _ => return None,
        })
    }
}

/// Why a directory cannot be trusted to keep what graphd puts in it (OpenSSH's StrictModes
/// rules): someone else could replace, rename or delete its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirProblem {
    /// It belongs to another user (neither this one nor root).
    OwnedByOther { dir: PathBuf, uid: u32 },
    /// Group- or world-writable without the sticky bit (and the group is not this user's own).
    WritableByOthers { dir: PathBuf, mode: u32 },
    /// It could not be inspected.
    Uninspectable { dir: PathBuf, reason: String },
}

impl DirProblem {
    /// The directory the problem is about.
    pub fn dir(&self) -> &std::path::Path {
        match self {
            DirProblem::OwnedByOther { dir, .. }
            | DirProblem::WritableByOthers { dir, .. }
            | DirProblem::Uninspectable { dir, .. } => dir,
        }
    }
}

impl fmt::Display for DirProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirProblem::OwnedByOther { dir, uid } => {
                write!(f, "{} belongs to another user (uid {uid})", dir.display())
            }
            DirProblem::WritableByOthers { dir, mode } => write!(
                f,
                "other users can write into {} (mode {mode:04o}, no sticky bit)",
                dir.display()
            ),
            DirProblem::Uninspectable { dir, reason } => {
                write!(f, "cannot inspect {}: {reason}", dir.display())
            }
        }
    }
}
