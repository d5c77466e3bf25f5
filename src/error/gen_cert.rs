//! The errors of `graphd gen-cert` about where it writes (its output directory and its
//! files), built on the general variants (`Error::File`) so that exit codes and hints need no
//! new match arm.
//!
//! They name paths, the OS's reason and what to try; never a file's contents, and never the
//! key or password being written.

use std::io;
use std::path::Path;

use super::{DirProblem, Error};

impl Error {
    /// `--out` names something that is not a directory.
    pub fn out_not_directory(out: &Path) -> Self {
        Error::File {
            path: out.to_path_buf(),
            action: "write into",
            source: io::Error::new(io::ErrorKind::NotADirectory, "it is not a directory"),
            hint: Some("pass --out with a directory (created with mode 0700 if missing)".into()),
        }
    }

    /// `--out` is missing and cannot be created because its parent is missing too.
    pub fn out_parent_missing(out: &Path, parent: &Path) -> Self {
        Error::File {
            path: out.to_path_buf(),
            action: "create the directory",
            source: io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", parent.display()),
            ),
            hint: Some(format!(
                "create {} first, or pass another --out",
                parent.display()
            )),
        }
    }

    /// One of gen-cert's files (or its directory) could not be written; nothing partial stays.
    pub fn out_write(path: &Path, action: &'static str, source: io::Error) -> Self {
        use io::ErrorKind::*;
        let hint = match source.kind() {
            PermissionDenied | ReadOnlyFilesystem => {
                "this user cannot write there: pass another --out, or fix the directory's permissions"
            }
            StorageFull | QuotaExceeded => "free some disk space, or pass another --out",
            _ => "pass another --out, or check the directory",
        };
        Error::File {
            path: path.to_path_buf(),
            action,
            source,
            hint: Some(format!("{hint}; no partial file was left behind")),
        }
    }

    /// `--out` (or the directory it will be created in) lets other users replace its entries:
    /// someone could swap `cert.pem` for their own before it is uploaded.
    pub fn out_shared_directory(problem: DirProblem) -> Self {
        let dir = problem.dir().to_path_buf();
        Error::File {
            path: dir.clone(),
            action: "write into",
            source: io::Error::new(io::ErrorKind::PermissionDenied, problem.to_string()),
            hint: Some(format!(
                "someone else could replace cert.pem or key.pem there before you use them: pass \
                 --out with a directory only you can write to, or restrict this one (chmod g-w,o-w {})",
                crate::safe_text::shell_word(&dir.display().to_string())
            )),
        }
    }

    /// A file gen-cert would replace is a directory, which `--force` does not replace.
    pub fn out_target_is_directory(path: &Path) -> Self {
        Error::File {
            path: path.to_path_buf(),
            action: "replace",
            source: io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
            hint: Some("move it away, or pass another --out; nothing was changed".into()),
        }
    }
}
