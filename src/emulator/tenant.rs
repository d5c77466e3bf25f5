//! The running emulator's tenant, changed from Rust: what tests (graphd's and yours) call
//! between two delta rounds. The admin endpoint (`/_emulator/` on the Graph port) offers the
//! same changes over HTTP.

use super::Emulator;
use super::graph::tenant::{self, ChangeRequest, Pick};
use crate::error::{Error, Result, UsageProblem};

pub use super::graph::tenant::TenantChanges;

impl Emulator {
    /// The id of the user at `index` (the synthetic users are numbered from 0; users created
    /// later continue the numbering).
    pub fn user_id(&self, index: u64) -> String {
        tenant::user_id(index, &self.shared.domain)
    }

    /// Applies a batch; a refusal (an unknown id, a user already deleted) is a usage error.
    fn apply(&self, req: ChangeRequest) -> Result<TenantChanges> {
        self.shared
            .directory
            .apply(&req, &self.shared.domain)
            .map_err(|why| {
                Error::Usage(UsageProblem::Invalid {
                    flag: "a tenant change",
                    why,
                })
            })
    }

    /// Adds `n` users; returns their ids.
    pub fn create_users(&self, n: u64) -> Result<Vec<String>> {
        Ok(self
            .apply(ChangeRequest {
                create: n,
                ..ChangeRequest::default()
            })?
            .created)
    }

    /// Changes properties of a user: `props` among displayName, jobTitle, department,
    /// officeLocation, mobilePhone, accountEnabled; none given: displayName and jobTitle.
    pub fn update_user(&self, id: &str, props: &[&str]) -> Result<()> {
        let props = props
            .iter()
            .map(|name| {
                super::graph::users::Prop::from_name(name)
                    .filter(|p| p.slot().is_some())
                    .ok_or_else(|| {
                        Error::Usage(UsageProblem::Invalid {
                            flag: "a user property",
                            why: format!("{name:?} is not a property the emulator changes"),
                        })
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        self.apply(ChangeRequest {
            update: Pick::Ids(vec![id.to_string()]),
            props,
            ..ChangeRequest::default()
        })
        .map(drop)
    }

    /// Deletes a user restorably (delta reports `@removed` with reason `changed`).
    pub fn delete_user(&self, id: &str) -> Result<()> {
        self.apply(ChangeRequest {
            delete: Pick::Ids(vec![id.to_string()]),
            ..ChangeRequest::default()
        })
        .map(drop)
    }

    /// Deletes a user for good (reason `deleted`), whether or not it was deleted before.
    pub fn delete_user_permanently(&self, id: &str) -> Result<()> {
        self.apply(ChangeRequest {
            delete_permanently: Pick::Ids(vec![id.to_string()]),
            ..ChangeRequest::default()
        })
        .map(drop)
    }

    /// Restores a restorably deleted user.
    pub fn restore_user(&self, id: &str) -> Result<()> {
        self.apply(ChangeRequest {
            restore: vec![id.to_string()],
            ..ChangeRequest::default()
        })
        .map(drop)
    }

    /// Applies `n` random changes (creations, updates, deletions); returns what changed.
    pub fn churn(&self, n: u64) -> TenantChanges {
        self.apply(ChangeRequest {
            churn: n,
            ..ChangeRequest::default()
        })
        .unwrap_or_default()
    }

    /// Users that exist now.
    pub fn user_count(&self) -> u64 {
        self.shared.directory.changes.view().live_count()
    }

    /// From now on every delta and skip token issued so far is refused as an expired sync
    /// state (HTTP 400 `syncStateNotFound`).
    pub fn expire_delta_tokens(&self) {
        self.shared.directory.expire_tokens();
    }

    /// From now on every delta and skip token issued so far gets HTTP 410 (a
    /// synchronization reset): the client must start over.
    pub fn reset_delta_sync(&self) {
        self.shared.directory.reset_sync();
    }
}
