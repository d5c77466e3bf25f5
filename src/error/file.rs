//! Why a file graphd reads cannot be used: said once here, for every kind of file (key,
//! certificate, password, config, CA, federated token). Never holds file contents.

use std::fmt;

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
