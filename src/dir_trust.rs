//! Whether a directory can be trusted to keep what graphd puts in it: nobody else may
//! replace, rename or delete its entries. The rules are OpenSSH's StrictModes (`safe_path()`
//! in auth.c): the directory and each of its ancestors belong to this user or root, and are
//! not writable by group or others, unless the sticky bit is set (`/tmp`: others may add
//! entries but not touch ours).
//!
//! A group-writable directory is trusted when its group is this user's own private group
//! (user private groups, where every directory a user makes is group-writable under umask
//! 002): a group in /etc/group with no member but this user, and no other account's primary
//! group, as Debian's OpenSSH decides (`secure_permissions()`). Only the local files are
//! read; a group they do not describe is taken to be shared. This module reads metadata and
//! those two files, never changes anything, and never follows a path twice: ancestors are
//! those of the canonical path.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::DirProblem;
use crate::fileio;

/// The write bits for group and others, and the sticky bit.
const GROUP_WRITE: u32 = 0o020;
const OTHER_WRITE: u32 = 0o002;
const STICKY: u32 = 0o1000;

/// Checks `dir` (an existing directory, `meta` its metadata) alone: not writable by others.
pub fn check_writers(dir: &Path, meta: &Metadata) -> Result<(), DirProblem> {
    let mode = meta.mode() & 0o7777;
    if mode & STICKY != 0 {
        return Ok(());
    }
    let others = mode & OTHER_WRITE != 0;
    let group = mode & GROUP_WRITE != 0 && !is_private_group(meta.gid());
    if others || group {
        return Err(DirProblem::WritableByOthers {
            dir: dir.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Checks `dir` and every ancestor of its canonical path up to `/`: each belongs to this user
/// or root and is not writable by others ([`check_writers`]).
pub fn check_ancestors(dir: &Path) -> Result<(), DirProblem> {
    let real = std::fs::canonicalize(dir).map_err(|e| DirProblem::Uninspectable {
        dir: dir.to_path_buf(),
        reason: crate::error::io_reason(&e),
    })?;
    let me = rustix::process::geteuid().as_raw();
    for at in real.ancestors() {
        let meta = std::fs::metadata(at).map_err(|e| DirProblem::Uninspectable {
            dir: at.to_path_buf(),
            reason: crate::error::io_reason(&e),
        })?;
        if meta.uid() != me && meta.uid() != 0 {
            return Err(DirProblem::OwnedByOther {
                dir: at.to_path_buf(),
                uid: meta.uid(),
            });
        }
        check_writers(at, &meta)?;
    }
    Ok(())
}

/// Whether `gid` is this user's private group: in /etc/group with no member but this user,
/// and in /etc/passwd the primary group of this user and of nobody else.
fn is_private_group(gid: u32) -> bool {
    let me = rustix::process::geteuid().as_raw();
    let read = |path: &str| fileio::read_bounded(Path::new(path), 16 * 1024 * 1024).ok();
    let (Some(passwd), Some(group)) = (read("/etc/passwd"), read("/etc/group")) else {
        return false;
    };
    private_group_in(
        &String::from_utf8_lossy(&passwd),
        &String::from_utf8_lossy(&group),
        me,
        gid,
    )
}

/// [`is_private_group`] over the texts of /etc/passwd and /etc/group.
fn private_group_in(passwd: &str, group: &str, me: u32, gid: u32) -> bool {
    let field = |line: &str, i: usize| line.split(':').nth(i).map(str::to_string);
    let mut my_name = None;
    for line in passwd.lines() {
        let (Some(uid), Some(primary)) = (field(line, 2), field(line, 3)) else {
            continue;
        };
        let (Ok(uid), Ok(primary)) = (uid.parse::<u32>(), primary.parse::<u32>()) else {
            continue;
        };
        if uid == me {
            if primary != gid {
                return false;
            }
            my_name = field(line, 0);
        } else if primary == gid {
            return false;
        }
    }
    let Some(my_name) = my_name else { return false };
    group.lines().any(|line| {
        field(line, 2).and_then(|g| g.parse::<u32>().ok()) == Some(gid)
            && field(line, 3).is_some_and(|members| {
                members
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .all(|m| m == my_name)
            })
    })
}

/// The directory a path's entry lives in (`.` for a bare name).
pub fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use std::fs::Permissions;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        alice:x:1000:1000:Alice:/home/alice:/bin/bash\n\
        bob:x:1001:100:Bob:/home/bob:/bin/bash\n\
        carol:x:1002:100::/home/carol:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nalice:x:1000:\nusers:x:100:alice\nstaff:x:50:alice,bob\n";

    #[test]
    fn a_private_group_has_no_one_else() {
        assert!(
            private_group_in(PASSWD, GROUP, 1000, 1000),
            "alice's own group"
        );
        assert!(
            !private_group_in(PASSWD, GROUP, 1001, 100),
            "bob shares users with carol"
        );
        assert!(!private_group_in(PASSWD, GROUP, 1000, 50), "staff has bob");
        assert!(
            !private_group_in(PASSWD, GROUP, 1000, 100),
            "not alice's primary group"
        );
        assert!(
            !private_group_in(PASSWD, GROUP, 1000, 4242),
            "an unknown group"
        );
        assert!(
            !private_group_in(PASSWD, GROUP, 4242, 1000),
            "an unknown user"
        );
        let with_guest = GROUP.replace("alice:x:1000:", "alice:x:1000:guest");
        assert!(!private_group_in(PASSWD, &with_guest, 1000, 1000));
    }

    #[test]
    fn writable_by_others_is_refused_unless_sticky() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        for (mode, ok) in [
            (0o700, true),
            (0o755, true),
            (0o757, false),
            (0o777, false),
            (0o1777, true),
            (0o1757, true),
        ] {
            std::fs::set_permissions(&dir, Permissions::from_mode(mode)).unwrap();
            let meta = std::fs::metadata(&dir).unwrap();
            assert_eq!(check_writers(&dir, &meta).is_ok(), ok, "{mode:o}");
        }
        std::fs::set_permissions(&dir, Permissions::from_mode(0o700)).unwrap();
        let inner = dir.join("inner");
        std::fs::create_dir(&inner).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        match check_ancestors(&inner).unwrap_err() {
            DirProblem::WritableByOthers { dir: bad, mode } => {
                assert_eq!((bad, mode), (std::fs::canonicalize(&dir).unwrap(), 0o777));
            }
            other => panic!("{other:?}"),
        }
        std::fs::set_permissions(&dir, Permissions::from_mode(0o1777)).unwrap();
        check_ancestors(&inner).unwrap();
    }
}
