//! Process-wide protections, set by `main` before anything else runs (before an argument is
//! parsed, a file read or a password asked for).
//!
//! A crash must never write key material, a password or a token to disk: core dumps are
//! turned off for the whole process (`RLIMIT_CORE` 0, soft and hard, so nothing in the
//! process can raise it again), and the process is marked not dumpable (`PR_SET_DUMPABLE` 0),
//! which also keeps other processes of the same user from attaching a debugger to it or
//! reading its memory and environment through `/proc/PID/` (see proc(5) and ptrace(2):
//! "Ptrace access mode checking"). This module never fails the command: a system that
//! refuses either setting gets a warning, and graphd carries on.

use rustix::process::{DumpableBehavior, Resource, Rlimit};

/// Turns core dumps off for this process and marks it not dumpable. Returns what could not be
/// set, for the caller to warn about.
pub fn forbid_core_dumps() -> Result<(), String> {
    let no_core = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    let limit = rustix::process::setrlimit(Resource::Core, no_core)
        .map_err(|e| format!("cannot turn core dumps off (RLIMIT_CORE): {e}"));
    let dumpable = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| format!("cannot mark the process not dumpable (PR_SET_DUMPABLE): {e}"));
    limit.and(dumpable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_dumps_are_off_after_the_call() {
        // The test process itself: harmless, it only loses its core dumps.
        forbid_core_dumps().unwrap();
        let limit = rustix::process::getrlimit(Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            DumpableBehavior::NotDumpable
        );
    }
}
