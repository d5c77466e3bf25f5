//! The changing tenant: users created, updated, deleted (restorably or for good) and restored
//! after the emulator started, as a sparse overlay on the synthetic users.
//!
//! Every change gets the next sequence number. Memory holds one small record per user that
//! ever changed and one log entry per such user (keyed by its latest change), never anything
//! per unchanged user: a million-user tenant with a few thousand changes stays small. What a
//! delta round reports is decided from these records (`delta.rs`); this module never renders
//! JSON and never looks at a request.

use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::props::{MUTABLE, Prop, Revisions};

/// Why a user is gone, as Graph's `@removed.reason` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Deleted, restorable from deleted items: reason `changed`.
    Restorable,
    /// Permanently deleted: reason `deleted`.
    Permanent,
}

impl Removal {
    /// The `@removed.reason` value (<https://learn.microsoft.com/graph/delta-query-users>).
    pub fn reason(self) -> &'static str {
        match self {
            Removal::Restorable => "changed",
            Removal::Permanent => "deleted",
        }
    }
}

/// What happened to one user since the emulator started. Sequence numbers start at 1; 0
/// means "never" (or, for `created`, "one of the users the emulator started with").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub created: u64,
    pub restored: u64,
    pub removed: Option<(u64, Removal)>,
    pub revs: Revisions,
    /// The latest change of each [`MUTABLE`] property.
    pub changed_at: [u64; MUTABLE.len()],
    /// The latest change of any kind (the record's key in the log).
    pub last: u64,
}

/// What one tenant change did, for callers that report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Deleted,
    DeletedPermanently,
    Restored,
}

/// Why a change could not be made; the caller words it for its audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    NoSuchUser,
    AlreadyDeleted,
    NotDeleted,
    NotMutable(Prop),
    TooManyUsers,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NoSuchUser => f.write_str("no such user"),
            Refused::AlreadyDeleted => f.write_str("the user is already deleted"),
            Refused::NotDeleted => f.write_str("the user is not deleted (or is gone for good)"),
            Refused::NotMutable(p) => write!(
                f,
                "'{}' cannot be changed; the emulator changes {}",
                p.name(),
                MUTABLE.map(Prop::name).join(", ")
            ),
            Refused::TooManyUsers => f.write_str("the tenant would exceed the emulator's maximum"),
        }
    }
}

struct Inner {
    /// One past the highest index ever created.
    end: u64,
    /// The latest sequence number handed out.
    seq: u64,
    users: HashMap<u64, Record>,
    /// Latest change -> user index: one entry per changed user.
    log: BTreeMap<u64, u64>,
    /// Users deleted (either way) and not restored.
    removed: u64,
}

/// The changes store, shared by the Graph handlers, the admin endpoint and the handle.
pub struct Changes {
    inner: RwLock<Inner>,
}

impl Changes {
    /// A tenant of `users` synthetic users, none changed yet.
    pub fn new(users: u64) -> Self {
        Changes {
            inner: RwLock::new(Inner {
                end: users,
                seq: 0,
                users: HashMap::new(),
                log: BTreeMap::new(),
                removed: 0,
            }),
        }
    }

    /// A consistent view for building one answer; never held across an `.await`.
    pub fn view(&self) -> View<'_> {
        View(self.inner.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `n` users after the highest index; returns their indices.
    pub fn create(&self, n: u64) -> Result<std::ops::Range<u64>, Refused> {
        let mut inner = self.write();
        let start = inner.end;
        let end = start
            .checked_add(n)
            .filter(|e| *e <= crate::emulator::MAX_USERS)
            .ok_or(Refused::TooManyUsers)?;
        for index in start..end {
            let seq = inner.next_seq();
            inner.users.insert(
                index,
                Record {
                    created: seq,
                    ..Record::default()
                },
            );
            inner.touch(index, seq);
        }
        inner.end = end;
        Ok(start..end)
    }

    /// Gives each of `props` (all in [`MUTABLE`]) of a live user a new value.
    pub fn update(&self, index: u64, props: &[Prop]) -> Result<(), Refused> {
        let slots = props
            .iter()
            .map(|p| p.slot().ok_or(Refused::NotMutable(*p)))
            .collect::<Result<Vec<usize>, Refused>>()?;
        let mut inner = self.write();
        inner.live(index)?;
        let seq = inner.next_seq();
        let record = inner.users.entry(index).or_default();
        for slot in slots {
            record.revs.0[slot] = record.revs.0[slot].wrapping_add(1).max(1);
            record.changed_at[slot] = seq;
        }
        inner.touch(index, seq);
        Ok(())
    }

    /// Deletes a live user (restorably), or any not yet permanently deleted user for good.
    pub fn delete(&self, index: u64, permanently: bool) -> Result<(), Refused> {
        let mut inner = self.write();
        let was = inner.state(index)?;
        match (was, permanently) {
            (Some(Removal::Permanent), _) => return Err(Refused::NoSuchUser),
            (Some(Removal::Restorable), false) => return Err(Refused::AlreadyDeleted),
            (None, _) => inner.removed += 1,
            (Some(Removal::Restorable), true) => {}
        }
        let seq = inner.next_seq();
        let how = if permanently {
            Removal::Permanent
        } else {
            Removal::Restorable
        };
        inner.users.entry(index).or_default().removed = Some((seq, how));
        inner.touch(index, seq);
        Ok(())
    }

    /// Brings back a restorably deleted user.
    pub fn restore(&self, index: u64) -> Result<(), Refused> {
        let mut inner = self.write();
        if inner.state(index)? != Some(Removal::Restorable) {
            return Err(Refused::NotDeleted);
        }
        let seq = inner.next_seq();
        inner.removed -= 1;
        let record = inner.users.entry(index).or_default();
        record.removed = None;
        record.restored = seq;
        inner.touch(index, seq);
        Ok(())
    }
}

impl Inner {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Moves the user's log entry to `seq`.
    fn touch(&mut self, index: u64, seq: u64) {
        if let Some(record) = self.users.get_mut(&index) {
            if record.last != 0 {
                self.log.remove(&record.last);
            }
            record.last = seq;
            self.log.insert(seq, index);
        }
    }

    /// `Ok(None)` for a live user, `Ok(Some(how))` for a deleted one.
    fn state(&self, index: u64) -> Result<Option<Removal>, Refused> {
        if index >= self.end {
            return Err(Refused::NoSuchUser);
        }
        Ok(self
            .users
            .get(&index)
            .and_then(|r| r.removed)
            .map(|(_, how)| how))
    }

    fn live(&self, index: u64) -> Result<(), Refused> {
        match self.state(index)? {
            None => Ok(()),
            Some(_) => Err(Refused::NoSuchUser),
        }
    }
}

/// A read-locked view of the tenant.
pub struct View<'a>(RwLockReadGuard<'a, Inner>);

impl View<'_> {
    /// One past the highest user index.
    pub fn end(&self) -> u64 {
        self.0.end
    }

    /// The latest change's sequence number (0 before any change).
    pub fn seq(&self) -> u64 {
        self.0.seq
    }

    /// Users that exist now.
    pub fn live_count(&self) -> u64 {
        self.0.end - self.0.removed
    }

    /// The revisions of a user that exists now; `None` for a deleted or unknown one.
    pub fn live(&self, index: u64) -> Option<Revisions> {
        if index >= self.0.end {
            return None;
        }
        match self.0.users.get(&index) {
            None => Some(Revisions::default()),
            Some(r) if r.removed.is_none() => Some(r.revs),
            Some(_) => None,
        }
    }

    /// The record of a user that changed, if any.
    pub fn record(&self, index: u64) -> Option<&Record> {
        self.0.users.get(&index)
    }

    /// Changed users whose latest change is in `from..=to`, oldest first: (that change, index).
    pub fn changed_between(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        (from <= to)
            .then(|| self.0.log.range(from..=to))
            .into_iter()
            .flatten()
            .map(|(s, i)| (*s, *i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_sequenced_and_logged_once_per_user() {
        let c = Changes::new(10);
        assert_eq!(c.create(2).unwrap(), 10..12);
        c.update(3, &[Prop::JobTitle]).unwrap();
        c.update(3, &[Prop::DisplayName]).unwrap();
        c.delete(4, false).unwrap();
        let v = c.view();
        assert_eq!((v.end(), v.seq(), v.live_count()), (12, 5, 11));
        let log: Vec<(u64, u64)> = v.changed_between(1, 5).collect();
        assert_eq!(log, [(1, 10), (2, 11), (4, 3), (5, 4)]);
        let r = v.record(3).unwrap();
        assert_eq!(r.revs.of(Prop::JobTitle), 1);
        assert_eq!(r.changed_at[Prop::JobTitle.slot().unwrap()], 3);
        assert_eq!(r.changed_at[Prop::DisplayName.slot().unwrap()], 4);
        assert_eq!(v.live(4), None);
        assert_eq!(v.live(9), Some(Revisions::default()));
        assert_eq!(v.live(12), None);
        assert_eq!(v.changed_between(6, 5).count(), 0);
    }

    #[test]
    fn deletion_restore_and_refusals() {
        let c = Changes::new(3);
        assert_eq!(c.update(3, &[Prop::JobTitle]), Err(Refused::NoSuchUser));
        assert_eq!(c.update(0, &[Prop::Id]), Err(Refused::NotMutable(Prop::Id)));
        assert_eq!(c.restore(0), Err(Refused::NotDeleted));
        c.delete(0, false).unwrap();
        assert_eq!(c.delete(0, false), Err(Refused::AlreadyDeleted));
        assert_eq!(c.update(0, &[Prop::JobTitle]), Err(Refused::NoSuchUser));
        c.restore(0).unwrap();
        assert_eq!(c.view().live_count(), 3);
        c.delete(0, false).unwrap();
        c.delete(0, true).unwrap();
        assert_eq!(
            c.view().record(0).unwrap().removed.unwrap().1,
            Removal::Permanent
        );
        assert_eq!(c.restore(0), Err(Refused::NotDeleted));
        assert_eq!(c.delete(0, true), Err(Refused::NoSuchUser));
        c.delete(1, true).unwrap();
        assert_eq!(c.view().live_count(), 1);
        assert!(c.create(crate::emulator::MAX_USERS).is_err());
    }
}
