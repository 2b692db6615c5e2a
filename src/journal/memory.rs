//! [`MemoryJournal`]: the journal of a plain client, kept for the life of the process.

use super::{Begun, Entry, Hold, IdempotencyKey, Intent, Journal, Lease, SlotState, now, rules};
use crate::Result;
use crate::model::{ChannelId, PostId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// A journal in memory: it makes retries and cancelled futures safe within one process, and
/// forgets everything when the process ends. Use [`SqliteJournal`](super::SqliteJournal) for
/// writes that must be safe across restarts.
#[derive(Default)]
pub struct MemoryJournal {
    store: Mutex<Store>,
}

#[derive(Default)]
struct Store {
    entries: HashMap<IdempotencyKey, Kept>,
    claims: HashMap<PostId, (IdempotencyKey, usize)>,
}

struct Kept {
    entry: Entry,
    hold: Option<Hold>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// The store; a panic elsewhere cannot leave it half-changed (every change below is
    /// checked first, then applied without a fallible step), so a poisoned lock is taken as is.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryJournal")
            .field("entries", &self.store().entries.len())
            .finish()
    }
}

/// The entry held under `lease`, live.
fn held<'a>(
    entries: &'a mut HashMap<IdempotencyKey, Kept>,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<&'a mut Kept> {
    entries
        .get_mut(lease.key())
        .filter(|kept| rules::holds(lease, kept.hold.as_ref(), now))
        .ok_or_else(|| rules::lease_lost(lease))
}

impl Store {
    fn prune(&mut self, before: DateTime<Utc>, derived_only: bool) -> u64 {
        let now = now();
        let doomed: Vec<IdempotencyKey> = self
            .entries
            .iter()
            .filter(|(key, kept)| {
                (!derived_only || key.is_derived())
                    && kept.entry.updated_at < before
                    && !kept.hold.as_ref().is_some_and(|hold| hold.is_live(now))
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in &doomed {
            if let Some(kept) = self.entries.remove(key) {
                for post in kept.entry.states.iter().filter_map(SlotState::created) {
                    self.claims.remove(&post.id);
                }
            }
        }
        doomed.len() as u64
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn begin(&self, intent: &Intent, hold: Duration) -> Result<(Begun, Lease)> {
        let now = now();
        let mut store = self.store();
        let lease = Lease::issue(intent.key.clone(), now, hold);
        match store.entries.get_mut(&intent.key) {
            Some(kept) => {
                rules::may_take(&intent.key, kept.hold.as_ref(), now)?;
                kept.hold = Some(Hold::of(&lease));
                Ok((Begun::Existing(kept.entry.clone()), lease))
            }
            None => {
                store.entries.insert(
                    intent.key.clone(),
                    Kept {
                        entry: Entry::new(intent.clone(), now),
                        hold: Some(Hold::of(&lease)),
                    },
                );
                Ok((Begun::New, lease))
            }
        }
    }

    async fn record(&self, lease: &Lease, slot: usize, state: &SlotState) -> Result<()> {
        let now = now();
        let mut store = self.store();
        let store = &mut *store;
        let kept = held(&mut store.entries, lease, now)?;
        rules::slot_in(&kept.entry.intent, slot)?;
        rules::may_change(lease.key(), slot, &kept.entry.states[slot], state)?;
        if let Some(post) = state.created() {
            let claim = store.claims.get(&post.id).cloned();
            rules::unclaimed(&post.id, claim, lease.key(), slot)?;
            store
                .claims
                .insert(post.id.clone(), (lease.key().clone(), slot));
        }
        kept.entry.states[slot] = state.clone();
        kept.entry.updated_at = now;
        Ok(())
    }

    async fn record_snapshot(
        &self,
        lease: &Lease,
        channel: &ChannelId,
        existing: &[PostId],
    ) -> Result<()> {
        let now = now();
        let mut store = self.store();
        let kept = held(&mut store.entries, lease, now)?;
        rules::channel_in(&kept.entry.intent, channel)?;
        kept.entry
            .snapshots
            .insert(channel.clone(), existing.to_vec());
        kept.entry.updated_at = now;
        Ok(())
    }

    async fn renew(&self, lease: &Lease, hold: Duration) -> Result<Lease> {
        let now = now();
        let mut store = self.store();
        let kept = held(&mut store.entries, lease, now)?;
        let renewed = lease.extended(now, hold);
        kept.hold = Some(Hold::of(&renewed));
        Ok(renewed)
    }

    async fn release(&self, lease: Lease) -> Result<()> {
        let mut store = self.store();
        if let Some(kept) = store.entries.get_mut(lease.key())
            && kept
                .hold
                .as_ref()
                .is_some_and(|hold| hold.holder == lease.holder())
        {
            kept.hold = None;
        }
        Ok(())
    }

    async fn entry(&self, key: &IdempotencyKey) -> Result<Option<Entry>> {
        Ok(self.store().entries.get(key).map(|kept| kept.entry.clone()))
    }

    async fn claimed_by(&self, post: &PostId) -> Result<Option<(IdempotencyKey, usize)>> {
        Ok(self.store().claims.get(post).cloned())
    }

    async fn settling(&self, channel: &ChannelId) -> Result<Vec<Entry>> {
        let now = now();
        Ok(self
            .store()
            .entries
            .values()
            .filter(|kept| kept.hold.as_ref().is_some_and(|hold| hold.is_live(now)))
            .map(|kept| &kept.entry)
            .filter(|entry| entry.is_unsettled_on(channel))
            .cloned()
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(self.store().prune(before, false))
    }

    async fn prune_derived(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(self.store().prune(before, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Operation;
    use crate::journal::SlotIntent;

    #[tokio::test]
    async fn debug_shows_a_count_not_the_entries() {
        let journal = MemoryJournal::new();
        let key = IdempotencyKey::new("secretive-intent").unwrap();
        let intent = Intent::new(
            key,
            Operation::CreatePost,
            "f",
            vec![SlotIntent::new(0, "c")],
            Utc::now(),
        );
        journal
            .begin(&intent, Duration::from_secs(60))
            .await
            .unwrap();
        let shown = format!("{journal:?}");
        assert_eq!(shown, "MemoryJournal { entries: 1 }");
    }
}
