//! The changing tenant as callers see it: changes by user id (the handle's API and the
//! admin endpoint share them), random churn (`churn`), and which delta tokens are still
//! honoured.
//!
//! Directory delta tokens live seven days by default
//! (<https://devblogs.microsoft.com/microsoft365dev/duration-of-change-tracking-tokens-for-identity-and-education-resources>);
//! an older one, or one issued before [`Tenant::expire_tokens`], is an unknown sync state,
//! and one issued before [`Tenant::reset_sync`] gets the 410 of a synchronization reset
//! (<https://learn.microsoft.com/graph/delta-query-overview>, "Synchronization reset").

mod churn;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::changes::{Change, Changes, Refused};
use super::delta_token::StateToken;
use super::props::Prop;
use super::users::{self, User};

/// Default lifetime of delta tokens: seven days, as Graph's for directory objects.
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// What an update changes when the caller names no property: visible in a default table.
const DEFAULT_UPDATE: [Prop; 2] = [Prop::DisplayName, Prop::JobTitle];

/// The tenant's changes and its delta-token bookkeeping.
pub struct Tenant {
    pub changes: Changes,
    /// Tokens older than this (seconds) are expired.
    pub token_lifetime: i64,
    next_serial: AtomicU64,
    expired_below: AtomicU64,
    reset_below: AtomicU64,
    rng: Mutex<u64>,
}

/// Why a genuine token is no longer honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// Past its lifetime or expired on purpose: Graph's `syncStateNotFound`.
    Expired,
    /// Issued before a synchronization reset: Graph's 410.
    Reset,
}

/// Which users a change request applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// This many live users, chosen at random.
    Random(u64),
    /// These users, by id.
    Ids(Vec<String>),
}

impl Default for Pick {
    fn default() -> Self {
        Pick::Random(0)
    }
}

/// A batch of changes (the admin endpoint's query, the handle's calls).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeRequest {
    pub create: u64,
    pub update: Pick,
    /// What `update` changes; empty means displayName and jobTitle.
    pub props: Vec<Prop>,
    pub delete: Pick,
    pub delete_permanently: Pick,
    pub restore: Vec<String>,
    /// Random changes of every kind.
    pub churn: u64,
}

/// The ids each kind of change applied to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantChanges {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
    pub deleted_permanently: Vec<String>,
    pub restored: Vec<String>,
}

impl TenantChanges {
    fn push(&mut self, change: Change, id: String) {
        match change {
            Change::Created => self.created.push(id),
            Change::Updated => self.updated.push(id),
            Change::Deleted => self.deleted.push(id),
            Change::DeletedPermanently => self.deleted_permanently.push(id),
            Change::Restored => self.restored.push(id),
        }
    }
}

impl Tenant {
    pub fn new(users: u64, token_lifetime: i64, seed: u64) -> Self {
        Tenant {
            changes: Changes::new(users),
            token_lifetime,
            next_serial: AtomicU64::new(0),
            expired_below: AtomicU64::new(0),
            reset_below: AtomicU64::new(0),
            rng: Mutex::new(seed | 1),
        }
    }

    /// The serial number of a new state token.
    pub fn issue_serial(&self) -> u64 {
        self.next_serial.fetch_add(1, Ordering::SeqCst)
    }

    /// Every delta and skip token issued so far becomes an unknown sync state.
    pub fn expire_tokens(&self) {
        let next = self.next_serial.load(Ordering::SeqCst);
        self.expired_below.fetch_max(next, Ordering::SeqCst);
    }

    /// Every token issued so far gets a 410: the client must synchronize from the start.
    pub fn reset_sync(&self) {
        let next = self.next_serial.load(Ordering::SeqCst);
        self.reset_below.fetch_max(next, Ordering::SeqCst);
    }

    /// Whether a genuine token is still honoured at `now` (the emulator's clock).
    pub fn check(&self, token: &StateToken, now: i64) -> Result<(), Stale> {
        if token.serial < self.reset_below.load(Ordering::SeqCst) {
            return Err(Stale::Reset);
        }
        let too_old = now.saturating_sub(token.issued) > self.token_lifetime;
        if too_old || token.serial < self.expired_below.load(Ordering::SeqCst) {
            return Err(Stale::Expired);
        }
        Ok(())
    }

    /// Applies a batch in order: creations, updates, deletions, permanent deletions,
    /// restores, churn. Stops at the first refusal; what was applied before it stays.
    pub fn apply(&self, req: &ChangeRequest, domain: &str) -> Result<TenantChanges, String> {
        let mut done = TenantChanges::default();
        let id = |i: u64| user_id(i, domain);
        let created = self.changes.create(req.create).map_err(|r| r.to_string())?;
        for i in created {
            done.push(Change::Created, id(i));
        }
        let props: &[Prop] = if req.props.is_empty() {
            &DEFAULT_UPDATE
        } else {
            &req.props
        };
        for i in self.pick(&req.update, domain)? {
            self.changes
                .update(i, props)
                .map_err(|r| refused(&id(i), &r))?;
            done.push(Change::Updated, id(i));
        }
        for (pick, permanently, change) in [
            (&req.delete, false, Change::Deleted),
            (&req.delete_permanently, true, Change::DeletedPermanently),
        ] {
            for i in self.pick(pick, domain)? {
                self.changes
                    .delete(i, permanently)
                    .map_err(|r| refused(&id(i), &r))?;
                done.push(change, id(i));
            }
        }
        for text in &req.restore {
            let i = index_of(text, domain)?;
            self.changes.restore(i).map_err(|r| refused(text, &r))?;
            done.push(Change::Restored, id(i));
        }
        for _ in 0..req.churn {
            if let Some((change, i)) = self.churn_one() {
                done.push(change, id(i));
            }
        }
        Ok(done)
    }
}

/// The id of the user at `index`.
pub fn user_id(index: u64, domain: &str) -> String {
    let mut scratch = Vec::with_capacity(36);
    User::new(index, domain)
        .text(Prop::Id, &mut scratch)
        .unwrap_or_default()
        .to_string()
}

/// The index behind a user id of this emulator (existing or not).
pub fn index_of(id: &str, domain: &str) -> Result<u64, String> {
    users::index_of_id(id.trim(), crate::emulator::MAX_USERS, domain)
        .ok_or_else(|| format!("{:?} is not the id of a user of this emulator", id.trim()))
}

fn refused(id: &str, why: &Refused) -> String {
    format!("user {id}: {why}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::emulator::graph::delta_token::Cursor;

    const D: &str = "contoso.example";

    #[test]
    fn requests_apply_by_id_and_at_random() {
        let t = Tenant::new(100, DEFAULT_TOKEN_LIFETIME_SECS, 42);
        let victim = user_id(7, D);
        let done = t
            .apply(
                &ChangeRequest {
                    create: 2,
                    update: Pick::Random(5),
                    delete: Pick::Ids(vec![victim.clone()]),
                    ..ChangeRequest::default()
                },
                D,
            )
            .unwrap();
        assert_eq!(done.created, [user_id(100, D), user_id(101, D)]);
        assert_eq!(done.updated.len(), 5);
        assert_eq!(
            done.updated.iter().collect::<HashSet<_>>().len(),
            5,
            "distinct users"
        );
        assert_eq!(done.deleted, std::slice::from_ref(&victim));
        assert_eq!(t.changes.view().live_count(), 101);
        let again = ChangeRequest {
            delete: Pick::Ids(vec![victim.clone()]),
            ..ChangeRequest::default()
        };
        assert!(t.apply(&again, D).unwrap_err().contains("already deleted"));
        let restore = ChangeRequest {
            restore: vec![victim.clone()],
            ..ChangeRequest::default()
        };
        assert_eq!(t.apply(&restore, D).unwrap().restored, [victim]);
        assert!(index_of("not-an-id", D).is_err());
        let churned = t
            .apply(
                &ChangeRequest {
                    churn: 50,
                    ..ChangeRequest::default()
                },
                D,
            )
            .unwrap();
        let n = churned.created.len()
            + churned.updated.len()
            + churned.deleted.len()
            + churned.deleted_permanently.len();
        assert_eq!(n, 50);
        let tiny = Tenant::new(1, 60, 1);
        let too_many = ChangeRequest {
            update: Pick::Random(2),
            ..ChangeRequest::default()
        };
        assert!(tiny.apply(&too_many, D).is_err());
    }

    #[test]
    fn tokens_expire_with_age_and_on_request() {
        let t = Tenant::new(1, 3600, 1);
        let token = |serial, issued| StateToken {
            serial,
            issued,
            since: 0,
            until: 0,
            cursor: Cursor::Done,
            select: None,
            ids: None,
        };
        let a = token(t.issue_serial(), 1000);
        assert_eq!(t.check(&a, 1000 + 3600), Ok(()));
        assert_eq!(t.check(&a, 1000 + 3601), Err(Stale::Expired));
        t.expire_tokens();
        assert_eq!(t.check(&a, 1000), Err(Stale::Expired));
        let b = token(t.issue_serial(), 1000);
        assert_eq!(t.check(&b, 1000), Ok(()));
        t.reset_sync();
        assert_eq!(t.check(&b, 1000), Err(Stale::Reset));
        assert_eq!(t.check(&token(t.issue_serial(), 1000), 1000), Ok(()));
    }
}
