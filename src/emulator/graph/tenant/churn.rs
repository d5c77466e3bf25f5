//! The tenant's randomness: which users a `Pick` names (by id, or live users at random), one
//! random change (`--churn`, the admin endpoint's `churn=N`), and `--churn N`'s pacing, N
//! changes a minute spread evenly.
//!
//! The randomness is xorshift64* from the emulator's seed: fine for picking test users, never
//! for anything secret. It changes users only through `Changes`, as every other caller does.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::{ChangeRequest, Pick, Tenant, index_of};
use crate::emulator::Shared;
use crate::emulator::graph::changes::Change;
use crate::emulator::graph::props::{MUTABLE, Prop};

impl Tenant {
    /// One random change: a fifth creations, three fifths updates of one to three
    /// properties, the rest deletions (one in four of them permanent).
    pub(super) fn churn_one(&self) -> Option<(Change, u64)> {
        let roll = self.random() % 100;
        if roll < 20 {
            let i = self.changes.create(1).ok()?.start;
            return Some((Change::Created, i));
        }
        let i = self.random_live(&HashSet::new())?;
        if roll < 80 {
            let mut props: Vec<Prop> = Vec::new();
            for _ in 0..=self.random() % 3 {
                let p = MUTABLE[(self.random() % MUTABLE.len() as u64) as usize];
                if !props.contains(&p) {
                    props.push(p);
                }
            }
            self.changes.update(i, &props).ok()?;
            Some((Change::Updated, i))
        } else {
            let permanently = roll >= 95;
            self.changes.delete(i, permanently).ok()?;
            Some((
                if permanently {
                    Change::DeletedPermanently
                } else {
                    Change::Deleted
                },
                i,
            ))
        }
    }

    pub(super) fn pick(&self, pick: &Pick, domain: &str) -> Result<Vec<u64>, String> {
        match pick {
            Pick::Ids(ids) => ids.iter().map(|t| index_of(t, domain)).collect(),
            Pick::Random(n) => {
                let mut chosen = HashSet::new();
                let mut out = Vec::new();
                while (out.len() as u64) < *n {
                    let Some(i) = self.random_live(&chosen) else {
                        return Err(format!(
                            "the tenant has fewer than {n} users left to choose from"
                        ));
                    };
                    chosen.insert(i);
                    out.push(i);
                }
                Ok(out)
            }
        }
    }

    /// A live user not in `skip`, at random; `None` when none is found in a few tries.
    fn random_live(&self, skip: &HashSet<u64>) -> Option<u64> {
        let end = self.changes.view().end();
        if end == 0 {
            return None;
        }
        for _ in 0..1000 {
            let i = self.random() % end;
            if !skip.contains(&i) && self.changes.view().live(i).is_some() {
                return Some(i);
            }
        }
        None
    }

    /// xorshift64*: picks for an emulator, not for anything secret.
    fn random(&self) -> u64 {
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Tenant {
    /// Applies `per_minute` random changes a minute, spread evenly, until the emulator's
    /// runtime stops (`graphd emulator --churn N`).
    pub async fn churn(shared: Arc<Shared>, per_minute: u64) {
        let ticks = churn_ticks(per_minute);
        let mut interval = tokio::time::interval(Duration::from_secs(60) / ticks as u32);
        interval.tick().await;
        let mut tick = 0u64;
        loop {
            interval.tick().await;
            tick = tick % ticks + 1;
            let req = ChangeRequest {
                churn: churn_batch(per_minute, tick, ticks),
                ..ChangeRequest::default()
            };
            let _ = shared.directory.apply(&req, &shared.domain);
        }
    }
}

/// Batches of churn a minute: one per change, at most 100 a second.
fn churn_ticks(per_minute: u64) -> u64 {
    per_minute.clamp(1, 6000)
}

/// The changes of batch `tick` (1..=ticks) of a minute: the minute adds up to `per_minute`.
fn churn_batch(per_minute: u64, tick: u64, ticks: u64) -> u64 {
    per_minute * tick / ticks - per_minute * (tick - 1) / ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_batches_add_up_to_the_rate() {
        for per_minute in [1u64, 7, 60, 999, 6000, 6001, 1_000_000] {
            let ticks = churn_ticks(per_minute);
            let batches: Vec<u64> = (1..=ticks)
                .map(|t| churn_batch(per_minute, t, ticks))
                .collect();
            assert_eq!(batches.iter().sum::<u64>(), per_minute, "{per_minute}");
            let (lo, hi) = (batches.iter().min().unwrap(), batches.iter().max().unwrap());
            assert!(hi - lo <= 1, "{per_minute}: evenly spread");
        }
    }
}
