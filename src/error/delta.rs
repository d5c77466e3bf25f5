//! The errors of `list-users --delta`: its state file, its lock, and a sync state Graph no
//! longer honours, each with its hint and exit code. Never holds the delta link itself
//! (its token is the run's position in the tenant's changes, kept out of logs).

use std::fmt;
use std::path::PathBuf;

use super::{exit, printable};

/// What went wrong with an incremental sync.
#[derive(Debug)]
pub enum DeltaProblem {
    /// Another run holds the state file's lock (exit 3).
    Locked { path: PathBuf, pid: Option<u32> },
    /// The state file (or its lock file) cannot be opened, read or trusted (exit 3).
    Unusable { path: PathBuf, reason: String },
    /// A file that is not a graphd delta state, which graphd will not overwrite (exit 3).
    NotState { path: PathBuf, reason: String },
    /// The state was saved for another tenant, app, Graph endpoint or query (exit 3).
    OtherQuery {
        path: PathBuf,
        what: &'static str,
        saved: String,
        now: String,
    },
    /// Graph no longer accepts the saved state: expired, or a synchronization reset (exit 5).
    Expired {
        path: PathBuf,
        status: u16,
        code: Option<String>,
        saved_at: Option<String>,
    },
    /// Graph ended a round without a usable `@odata.deltaLink` (exit 5).
    NoDeltaLink { reason: String },
    /// Every item was written, but the new state could not be saved (exit 3).
    NotSaved { path: PathBuf, reason: String },
}

impl DeltaProblem {
    pub fn exit_code(&self) -> u8 {
        match self {
            DeltaProblem::Expired { .. } | DeltaProblem::NoDeltaLink { .. } => exit::GRAPH,
            _ => exit::CREDENTIAL,
        }
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            DeltaProblem::Locked { .. } => "two runs must not share a state file: wait for the \
                other run to finish, or give this one its own STATE_FILE"
                .into(),
            DeltaProblem::Unusable { .. } => "STATE_FILE must be a regular file in an \
                existing directory, owned by you and not writable by others; remove a damaged \
                one to start over with a full round"
                .into(),
            DeltaProblem::NotState { .. } => "graphd does not overwrite a file it did not \
                write: choose another STATE_FILE, or move this file away"
                .into(),
            DeltaProblem::OtherQuery { .. } => "each query needs its own state file; pass \
                --delta-reset to start this one over with a full round (the file is replaced \
                only when the round completes)"
                .into(),
            DeltaProblem::Expired { .. } => "Graph keeps sync state for a limited time (7 \
                days for users): run again with --delta-reset for a full round, or add \
                --delta-reset-on-expiry to nightly jobs so this happens by itself"
                .into(),
            DeltaProblem::NoDeltaLink { .. } => "the state file was left as it was; is \
                --graph (GRAPHD_GRAPH_ENDPOINT) Microsoft Graph, and is no proxy rewriting \
                its answers?"
                .into(),
            DeltaProblem::NotSaved { .. } => "every change was printed but the state was not \
                saved, so the next run prints these changes again; check the directory's \
                permissions and free space"
                .into(),
        })
    }

    /// The hint for a `--filter` Graph refused on the delta function.
    pub fn filter_hint() -> String {
        "on users/delta Graph filters only by object id: --filter \"id eq 'ID1' or id eq \
         'ID2'\" (at most 50 ids)"
            .into()
    }
}

impl fmt::Display for DeltaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeltaProblem::Locked {
                path,
                pid: Some(pid),
            } => write!(
                f,
                "{} is in use by another graphd run (pid {pid})",
                path.display()
            ),
            DeltaProblem::Locked { path, pid: None } => {
                write!(f, "{} is in use by another graphd run", path.display())
            }
            DeltaProblem::Unusable { path, reason } => {
                write!(f, "cannot use the state file {}: {reason}", path.display())
            }
            DeltaProblem::NotState { path, reason } => write!(
                f,
                "{} is not a graphd delta state file ({reason})",
                path.display()
            ),
            DeltaProblem::OtherQuery {
                path,
                what,
                saved,
                now,
            } => write!(
                f,
                "{} was saved for another {what} ({}), not this one ({})",
                path.display(),
                printable(saved, 200),
                printable(now, 200)
            ),
            DeltaProblem::Expired {
                path,
                status,
                code,
                saved_at,
            } => {
                write!(
                    f,
                    "Graph no longer accepts the sync state in {} (HTTP {status}",
                    path.display()
                )?;
                if let Some(code) = code {
                    write!(f, ", {}", printable(code, 80))?;
                }
                f.write_str(")")?;
                if let Some(at) = saved_at {
                    write!(f, "; it was saved at {}", printable(at, 40))?;
                }
                Ok(())
            }
            DeltaProblem::NoDeltaLink { reason } => {
                write!(f, "Graph ended the delta round without {reason}")
            }
            DeltaProblem::NotSaved { path, reason } => {
                write!(f, "cannot save the state file {}: {reason}", path.display())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_the_holder() {
        let locked = DeltaProblem::Locked {
            path: "s.json".into(),
            pid: Some(4242),
        };
        assert_eq!(
            locked.to_string(),
            "s.json is in use by another graphd run (pid 4242)"
        );
        assert_eq!(locked.exit_code(), 3);
        let expired = DeltaProblem::Expired {
            path: "s.json".into(),
            status: 400,
            code: Some("syncStateNotFound".into()),
            saved_at: Some("2026-01-01T00:00:00Z".into()),
        };
        assert_eq!(expired.exit_code(), 5);
        assert!(expired.to_string().contains("syncStateNotFound"));
        assert!(expired.hint().unwrap().contains("--delta-reset"));
        let other = DeltaProblem::OtherQuery {
            path: "s.json".into(),
            what: "$select",
            saved: "mail\u{1b}[2J".into(),
            now: "id".into(),
        };
        assert!(!other.to_string().chars().any(char::is_control));
        assert!(other.hint().unwrap().contains("--delta-reset"));
    }
}
