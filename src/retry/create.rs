//! Creates that happen once: a journaled intent per post, an outcome per channel, and one
//! fenced reconciliation for both backends.
//!
//! The unit is one channel of one new post (a *slot*). Before anything is sent, each post's
//! intent is journaled under its idempotency key (with every slot pending); after each attempt
//! every slot is created, refused (Buffer certainly created nothing), refused for now (rate
//! limited: sent again after the wait), or unknown (the request may have reached Buffer).
//!
//! Unknown slots are reconciled, never resent blindly: the channels' posts created since the
//! intent's send time are read in one request (see [`BackendExt::recent_posts`](crate::BackendExt::recent_posts)), and a post
//! counts for a slot only if it was created at or after the send (by the server's clock, less
//! [`Retrying::clock_skew`](super::Retrying::clock_skew)), matches the slot's text,
//! assets, link and due time, and is not claimed by another slot or another key. Exactly as
//! many candidates as slots of the same content on the channel, and no other caller settling a
//! write of that content there right now → created; none after a complete look that shows no
//! unexplained edited post → not created (sent again while attempts remain); anything else
//! stays unknown. A
//! "duplicate" refusal after an uncertain attempt means an earlier attempt got through: it is
//! looked up and never resent.

use super::{Decision, Retrying, pause};
use crate::backend::{Backend, Request, Response};
use crate::journal::{Begun, Conflict, Entry, IdempotencyKey, Intent, Lease, SlotState};
use crate::model::{
    ChannelId, ChannelOutcome, ChannelResult, CreateOutcome, NewPost, Post, PostId, When,
};
use crate::{Error, Result};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Where a slot stands during a create.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // a few per call, never moved in bulk
enum Stage {
    /// To be sent in the next round.
    Send,
    /// The request may have reached Buffer: look before anything else. `may_resend` is
    /// whether a complete look that finds nothing allows sending again.
    Look { error: Error, may_resend: bool },
    /// Settled.
    Done(ChannelResult),
}

/// One channel of one new post.
#[derive(Debug)]
struct Slot {
    /// Which post of the call.
    post: usize,
    /// Which slot of that post's journal entry.
    index: usize,
    channel: ChannelId,
    stage: Stage,
    /// Whether an attempt may have created it: a later "duplicate" then means it exists.
    unsure: bool,
    /// The latest error, reported if the slot ends without a post.
    last_error: Option<Error>,
}

/// One post of the call: its intent and the journal's hold on its key.
struct Write {
    key: IdempotencyKey,
    /// Lower bound of the server's time at the first send, less the allowed skew.
    fence: DateTime<Utc>,
    /// Whether the fence is by this machine's clock (no server time was known at the first
    /// send), which may run ahead of Buffer's: corrected before any lookup (see
    /// [`Retrying::fences`]).
    local_clock: bool,
    lease: Option<Lease>,
}

/// Releases held keys when the create ends or its future is dropped, so a retry by the
/// application does not wait for the leases to expire; except when the future is dropped with
/// a request on its way: Buffer may still handle that request after a retry has looked and
/// found nothing, so the keys stay held until their leases expire, and a retry waits for that
/// (or [`reconcile`](crate::BackendExt::reconcile) answers unknown) instead of sending again.
struct Leases {
    journal: Arc<dyn crate::journal::Journal>,
    held: Vec<Lease>,
    /// Whether a create request is on its way.
    in_flight: bool,
}

impl Drop for Leases {
    fn drop(&mut self) {
        if self.held.is_empty() || self.in_flight {
            return;
        }
        let held = std::mem::take(&mut self.held);
        let journal = self.journal.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for lease in held {
                    let _ = journal.release(lease).await;
                }
            });
        }
    }
}

impl<B: Backend> Retrying<B> {
    /// Creates every post on each of its channels; one outcome per post, in order.
    pub(super) async fn create(&self, posts: &[NewPost]) -> Result<Vec<CreateOutcome>> {
        if let Some(i) = posts.iter().position(|p| p.channel_ids.is_empty()) {
            return Err(Error::invalid_input(format!(
                "a new post needs at least one channel; add one with NewPost::channel (post {i} has none)"
            )));
        }
        let keys: Vec<IdempotencyKey> = posts.iter().map(NewPost::key).collect();
        if let Some(twice) = first_repeat(&keys) {
            return Err(Error::invalid_input(format!(
                "two posts of one call have the idempotency key {twice}; give each write its own key"
            )));
        }
        let mut leases = Leases {
            journal: self.journal.clone(),
            held: Vec::new(),
            in_flight: false,
        };
        let mut writes = Vec::with_capacity(posts.len());
        let mut slots = Vec::new();
        for (p, (post, key)) in posts.iter().zip(keys).enumerate() {
            let (write, stages) = self.begin(post, key, &mut leases).await?;
            for (index, (channel, stage)) in post.channel_ids.iter().zip(stages).enumerate() {
                slots.push(Slot {
                    post: p,
                    index,
                    channel: channel.clone(),
                    unsure: matches!(stage, Stage::Look { .. }),
                    stage,
                    last_error: None,
                });
            }
            writes.push(write);
        }
        self.settle(posts, &mut writes, &mut slots, &mut leases)
            .await;
        let mut outcomes: Vec<Vec<ChannelOutcome>> = posts.iter().map(|_| Vec::new()).collect();
        for slot in slots {
            let result = match slot.stage {
                Stage::Done(result) => result,
                Stage::Look { error, .. } => ChannelResult::Unknown(error),
                Stage::Send => ChannelResult::Failed(
                    slot.last_error.unwrap_or_else(|| never_sent(&slot.channel)),
                ),
            };
            outcomes[slot.post].push(ChannelOutcome::new(slot.channel, result));
        }
        for lease in std::mem::take(&mut leases.held) {
            let _ = self.journal.release(lease).await;
        }
        Ok(outcomes.into_iter().map(CreateOutcome::new).collect())
    }

    /// Journals a post's intent under its key, or finds the entry an earlier call left: its
    /// created channels are done, its refused ones are sent again (nothing was created), and
    /// its pending or unknown ones are looked up first.
    async fn begin(
        &self,
        post: &NewPost,
        key: IdempotencyKey,
        leases: &mut Leases,
    ) -> Result<(Write, Vec<Stage>)> {
        let mut intent = Intent::create(key.clone(), post, self.send_time());
        intent.local_clock = self.inner.server_time().is_none();
        let (mut begun, mut lease) = self.acquire(&intent).await?;
        if let Begun::Existing(entry) = &begun
            && is_stale(entry, &intent, self.writes.derived_key_horizon)
        {
            // A derived key past its horizon: the same content is a new post now.
            self.journal.release(lease).await?;
            let horizon =
                TimeDelta::from_std(self.writes.derived_key_horizon).unwrap_or(TimeDelta::MAX);
            self.journal.prune_derived(intent.sent_at - horizon).await?;
            (begun, lease) = self.acquire(&intent).await?;
        }
        let entry = match begun {
            Begun::New => None,
            Begun::Existing(entry) => Some(entry),
        };
        leases.held.push(lease.clone());
        let Some(entry) = entry else {
            let stages = post.channel_ids.iter().map(|_| Stage::Send).collect();
            let fence = intent.sent_at - self.skew();
            return Ok((
                Write {
                    key,
                    fence,
                    local_clock: intent.local_clock,
                    lease: Some(lease),
                },
                stages,
            ));
        };
        if entry.intent.fingerprint != intent.fingerprint {
            return Err(Error::invalid_input(format!(
                "the idempotency key {key} was used for a different post; a key names one write"
            )));
        }
        let stages = entry.states.iter().map(stage_of).collect();
        Ok((
            Write {
                key,
                fence: entry.intent.sent_at - self.skew(),
                local_clock: entry.intent.local_clock,
                lease: Some(lease),
            },
            stages,
        ))
    }

    /// Takes the key's lease, waiting (up to the policy's longest wait) while another caller
    /// holds it: that caller is sending the same write right now.
    async fn acquire(&self, intent: &Intent) -> Result<(Begun, Lease)> {
        let deadline = tokio::time::Instant::now() + self.writes.lease;
        loop {
            match self.journal.begin(intent, self.writes.lease).await {
                Ok(taken) => return Ok(taken),
                Err(error) if is_held(&error) && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends and reconciles until every slot is settled or the attempts run out.
    async fn settle(
        &self,
        posts: &[NewPost],
        writes: &mut [Write],
        slots: &mut [Slot],
        leases: &mut Leases,
    ) {
        let mut attempt = 1;
        loop {
            if slots.iter().any(|s| matches!(s.stage, Stage::Look { .. })) {
                self.look(posts, writes, slots).await;
            }
            let todo: Vec<usize> = (0..slots.len())
                .filter(|&i| matches!(slots[i].stage, Stage::Send))
                .collect();
            if todo.is_empty() || attempt > self.policy.attempts() {
                return;
            }
            let todo = self.renew(posts, writes, slots, leases, todo).await;
            if todo.is_empty() {
                // Every write to send had lost its lease: look again under the new ones.
                attempt += 1;
                continue;
            }
            leases.in_flight = true;
            let results = self
                .keeping_leases(writes, slots, &todo, self.send(posts, slots, &todo))
                .await;
            leases.in_flight = false;
            let mut wait = Duration::ZERO;
            for (&i, result) in todo.iter().zip(results) {
                let slot = &mut slots[i];
                let write = &writes[slot.post];
                let (stage, state) = match result {
                    ChannelResult::Created(post) => {
                        let state = SlotState::Created(Box::new(post.clone()));
                        (Stage::Done(ChannelResult::Created(post)), state)
                    }
                    ChannelResult::Failed(error) if slot.unsure && error.is_duplicate() => {
                        // Buffer refuses a recent duplicate: an earlier attempt got through.
                        // Final: it is found, or stays unknown; never sent again.
                        let stage = Stage::Look {
                            error: error.clone(),
                            may_resend: false,
                        };
                        (stage, SlotState::Unknown)
                    }
                    ChannelResult::Failed(error) => match self.decide(&error, attempt, false) {
                        Decision::Retry(after) => {
                            wait = wait.max(after);
                            slot.last_error = Some(error);
                            continue;
                        }
                        _ => (
                            Stage::Done(ChannelResult::Failed(error.clone())),
                            SlotState::failed(&error),
                        ),
                    },
                    ChannelResult::Unknown(error) => {
                        slot.unsure = true;
                        let may_resend = match self.decide(&error, attempt, false) {
                            Decision::Reconcile(after) | Decision::Retry(after) => {
                                wait = wait.max(after);
                                true
                            }
                            Decision::GiveUp => false,
                        };
                        (Stage::Look { error, may_resend }, SlotState::Unknown)
                    }
                };
                self.record(write, slot.index, &state).await;
                slot.stage = stage;
            }
            pause(wait).await;
            attempt += 1;
        }
    }

    /// Runs `send` while renewing the leases of the writes it sends, every third of a lease: a
    /// send may be many requests (one a post on the classic API, paced), and a lease that
    /// expired under it would let another holder take over a key not sent yet and send it too.
    /// Dropped with the send, so a cancelled create's leases then run out by themselves.
    async fn keeping_leases<T>(
        &self,
        writes: &[Write],
        slots: &[Slot],
        todo: &[usize],
        send: impl std::future::Future<Output = T>,
    ) -> T {
        let mut held: Vec<&Write> = Vec::new();
        for &i in todo {
            let write = &writes[slots[i].post];
            if !held.iter().any(|w| w.key == write.key) {
                held.push(write);
            }
        }
        let beat = async {
            loop {
                tokio::time::sleep(self.writes.lease / 3).await;
                for write in &held {
                    if let Some(lease) = &write.lease
                        && let Err(error) = self.journal.renew(lease, self.writes.lease).await
                    {
                        tracing::warn!(key = %write.key, %error, "could not renew a lease while sending");
                    }
                }
            }
        };
        futures::pin_mut!(send, beat);
        match futures::future::select(send, beat).await {
            futures::future::Either::Left((sent, _)) => sent,
            futures::future::Either::Right((never, _)) => never,
        }
    }

    /// Journals that a slot was not created, and says whether that is now the key's record:
    /// only then may the slot be reported failed. A lease lost during a long look means
    /// another holder may have taken the key over and sent it meanwhile.
    async fn record_failed(&self, write: &Write, slot: usize, error: &Error) -> bool {
        let Some(lease) = &write.lease else {
            return false;
        };
        match self
            .journal
            .record(lease, slot, &SlotState::failed(error))
            .await
        {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(key = %write.key, slot, %error, "could not journal that a write was not created; it stays unknown");
                false
            }
        }
    }

    /// Renews the lease of every write about to be sent, so its request goes out under a live
    /// lease. A write whose lease is lost (it expired during a long wait) is not sent now:
    /// another holder may have taken the key over and sent it. If no one holds the key, it is
    /// taken again and its slots are looked up before anything is sent; else they are unknown,
    /// for the key's holder to settle. Returns the slots still to send.
    async fn renew(
        &self,
        posts: &[NewPost],
        writes: &mut [Write],
        slots: &mut [Slot],
        leases: &mut Leases,
        todo: Vec<usize>,
    ) -> Vec<usize> {
        let mut lost: BTreeMap<usize, (Error, bool)> = BTreeMap::new();
        let mut renewed: HashSet<usize> = HashSet::new();
        for &i in &todo {
            let post = slots[i].post;
            if !renewed.insert(post) {
                continue;
            }
            let write = &mut writes[post];
            let Some(lease) = &write.lease else {
                continue;
            };
            let Err(error) = self.journal.renew(lease, self.writes.lease).await else {
                continue;
            };
            tracing::warn!(key = %write.key, %error, "lost the key's lease; not sending");
            let intent = Intent::create(write.key.clone(), &posts[post], self.send_time());
            let retaken = match self.journal.begin(&intent, self.writes.lease).await {
                Ok((_, lease)) => {
                    leases.held.push(lease.clone());
                    write.lease = Some(lease);
                    true
                }
                Err(_) => false,
            };
            lost.insert(post, (error, retaken));
        }
        todo.into_iter()
            .filter(|&i| match lost.get(&slots[i].post) {
                Some((error, retaken)) => {
                    slots[i].stage = if *retaken {
                        slots[i].unsure = true;
                        Stage::Look {
                            error: error.clone(),
                            may_resend: true,
                        }
                    } else {
                        Stage::Done(ChannelResult::Unknown(error.clone()))
                    };
                    false
                }
                None => true,
            })
            .collect()
    }

    /// Journals one slot's state. A journal that cannot be written leaves the slot's entry
    /// pending or unknown, which the next call with the key reconciles: never a resend.
    ///
    /// Returns false only when the journal refused because the post is already claimed by
    /// another slot or key: then it cannot be this slot's.
    async fn record(&self, write: &Write, slot: usize, state: &SlotState) -> bool {
        let Some(lease) = &write.lease else {
            return true;
        };
        match self.journal.record(lease, slot, state).await {
            Ok(()) => true,
            Err(error) if matches!(error.journal_conflict(), Some(Conflict::Claimed { .. })) => {
                false
            }
            Err(error) => {
                tracing::warn!(key = %write.key, slot, %error, "could not journal a write's outcome");
                true
            }
        }
    }

    /// Looks up every slot in [`Stage::Look`] with one listing of their channels' recent posts,
    /// and settles each: created, not created (sent again if allowed), or still unknown.
    async fn look(&self, posts: &[NewPost], writes: &[Write], slots: &mut [Slot]) {
        let looking: Vec<usize> = (0..slots.len())
            .filter(|&i| matches!(slots[i].stage, Stage::Look { .. }))
            .collect();
        let mut channels: Vec<ChannelId> = Vec::new();
        for &i in &looking {
            if !channels.contains(&slots[i].channel) {
                channels.push(slots[i].channel.clone());
            }
        }
        let fences = self.fences(writes).await;
        let since = looking
            .iter()
            .map(|&i| fences[slots[i].post])
            .min()
            .unwrap_or_else(Utc::now);
        let listing = match self
            .plain(Request::RecentPosts {
                channel_ids: channels,
                since,
            })
            .await
        {
            Ok(Response::RecentPosts(listing)) => listing,
            Ok(_) | Err(_) => {
                tracing::warn!("could not read the channels' recent posts; outcomes stay unknown");
                for &i in &looking {
                    if let Stage::Look { error, .. } = &slots[i].stage {
                        slots[i].stage = Stage::Done(ChannelResult::Unknown(error.clone()));
                    }
                }
                return;
            }
        };
        // Posts already taken: created in this call, or by any slot of any key in the journal.
        let mut taken: HashSet<PostId> = slots
            .iter()
            .filter_map(|s| match &s.stage {
                Stage::Done(ChannelResult::Created(post)) => Some(post.id.clone()),
                _ => None,
            })
            .collect();
        // Slots of one channel with the same content share their candidates.
        let mut groups: BTreeMap<(ChannelId, String), Vec<usize>> = BTreeMap::new();
        for &i in &looking {
            let post = &posts[slots[i].post];
            let channel = slots[i].channel.clone();
            let like = likeness(post, &channel);
            groups.entry((channel, like)).or_default().push(i);
        }
        for ((channel, like), members) in groups {
            let new = &posts[slots[members[0]].post];
            let fence = members
                .iter()
                .map(|&i| fences[slots[i].post])
                .min()
                .unwrap_or(since);
            let mut candidates: Vec<&Post> = Vec::new();
            // Whether a candidate may be another key's without the journal saying so (a claim
            // it could not read, or a write of the same post on the channel being settled):
            // then nothing here can be counted, and the slots stay unknown.
            let mut untold = false;
            for found in &listing.posts {
                if found.channel_id != channel
                    || taken.contains(&found.id)
                    || found.created_at.is_none_or(|at| at < fence)
                    || !same_content(new, found)
                {
                    continue;
                }
                let Ok(owner) = self.journal.claimed_by(&found.id).await else {
                    untold = true;
                    break;
                };
                let ours = owner.as_ref().is_none_or(|(key, index)| {
                    members
                        .iter()
                        .any(|&i| &writes[slots[i].post].key == key && slots[i].index == *index)
                });
                if ours {
                    candidates.push(found);
                }
            }
            candidates.sort_by_key(|post| post.created_at);
            if !untold && !candidates.is_empty() {
                untold = self
                    .rivalled(&channel, &like, writes, slots, &members)
                    .await;
            }
            if untold {
                tracing::warn!(%channel, "could not read the journal's claims; not sending it again");
                for &i in &members {
                    if let Stage::Look { error, .. } = &slots[i].stage {
                        slots[i].stage = Stage::Done(ChannelResult::Unknown(error.clone()));
                    }
                }
            } else if candidates.len() == members.len() {
                for (&i, found) in members.iter().zip(candidates) {
                    tracing::debug!(channel = %slots[i].channel, post = %found.id, "the post was created by an earlier attempt");
                    taken.insert(found.id.clone());
                    let state = SlotState::Created(Box::new(found.clone()));
                    let ours = self
                        .record(&writes[slots[i].post], slots[i].index, &state)
                        .await;
                    slots[i].stage = match (&slots[i].stage, ours) {
                        (_, true) => Stage::Done(ChannelResult::Created(found.clone())),
                        (Stage::Look { error, .. }, false) => {
                            Stage::Done(ChannelResult::Unknown(error.clone()))
                        }
                        (stage, false) => stage.clone(),
                    };
                }
            } else if candidates.is_empty()
                && listing.complete
                && self
                    .unexplained(&channel, fence, &listing.posts, &taken, new)
                    .await
            {
                tracing::warn!(%channel, "a post since the send is no write's: it may be this one, edited; not sending it again");
                for &i in &members {
                    if let Stage::Look { error, .. } = &slots[i].stage {
                        slots[i].stage = Stage::Done(ChannelResult::Unknown(error.clone()));
                    }
                }
            } else if candidates.is_empty() && listing.complete {
                for &i in &members {
                    let Stage::Look { error, may_resend } = slots[i].stage.clone() else {
                        continue;
                    };
                    slots[i].last_error = Some(error.clone());
                    slots[i].stage = if may_resend {
                        Stage::Send
                    } else if error.is_duplicate() {
                        // Refused as a duplicate, yet nothing of ours is there: unknown.
                        Stage::Done(ChannelResult::Unknown(error))
                    } else if self
                        .record_failed(&writes[slots[i].post], slots[i].index, &error)
                        .await
                    {
                        // Out of attempts, and a complete look found nothing: not created.
                        Stage::Done(ChannelResult::Failed(error))
                    } else {
                        // Not journaled under a live lease: another holder may have taken the
                        // key over and be sending it, so "not created" may not stay true.
                        Stage::Done(ChannelResult::Unknown(error))
                    };
                }
            } else {
                tracing::warn!(%channel, candidates = candidates.len(), slots = members.len(), complete = listing.complete, "could not tell whether the post was created; not sending it again");
                for &i in &members {
                    if let Stage::Look { error, .. } = &slots[i].stage {
                        slots[i].stage = Stage::Done(ChannelResult::Unknown(error.clone()));
                    }
                }
            }
        }
    }

    /// Whether `channel` has a post made since `fence` and changed after it was made that no
    /// write explains: not the new post's content, not claimed, and not the content of any
    /// write being settled there (or the journal cannot say). It may be the write's own post,
    /// edited by someone before this look: a look that shows it has not found "nothing", and
    /// sending again could post twice. Posts never changed are not suspects, so other
    /// writers' fresh posts do not hold a write back.
    async fn unexplained(
        &self,
        channel: &ChannelId,
        fence: DateTime<Utc>,
        listing: &[Post],
        taken: &HashSet<PostId>,
        new: &NewPost,
    ) -> bool {
        let mut strangers = Vec::new();
        for found in listing {
            if &found.channel_id != channel
                || taken.contains(&found.id)
                || found.created_at.is_none_or(|at| at < fence)
                || !edited(found)
                || same_content(new, found)
            {
                continue;
            }
            match self.journal.claimed_by(&found.id).await {
                Ok(Some(_)) => {}
                Ok(None) => strangers.push(found),
                Err(_) => return true,
            }
        }
        if strangers.is_empty() {
            return false;
        }
        let Ok(settling) = self.journal.settling(channel).await else {
            return true;
        };
        strangers.iter().any(|found| {
            !settling.iter().any(|entry| {
                entry
                    .intent
                    .post
                    .as_ref()
                    .is_some_and(|post| same_content(post, found))
            })
        })
    }

    /// Whether another caller is settling a write of the same post on `channel` under another
    /// key (or the journal cannot say): its post may be on Buffer with its claim not yet
    /// journaled (its answer on its way, or lost), and a look-alike cannot be told from ours.
    async fn rivalled(
        &self,
        channel: &ChannelId,
        like: &str,
        writes: &[Write],
        slots: &[Slot],
        members: &[usize],
    ) -> bool {
        let Ok(settling) = self.journal.settling(channel).await else {
            return true;
        };
        settling.iter().any(|entry| {
            !members
                .iter()
                .any(|&i| writes[slots[i].post].key == entry.intent.key)
                && entry
                    .intent
                    .post
                    .as_ref()
                    .is_none_or(|post| likeness(post, channel) == like)
        })
    }

    /// Sends the slots in `todo` as one request: each post with just those of its channels
    /// (a `CreatePost` for one post, a `CreatePosts` for several). One result per slot of
    /// `todo`, in order; a call that failed as a whole gives each slot its error.
    async fn send(&self, posts: &[NewPost], slots: &[Slot], todo: &[usize]) -> Vec<ChannelResult> {
        // Slots are in post order: group them into one subset post per post.
        let mut subsets: Vec<NewPost> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        for &index in todo {
            let slot = &slots[index];
            if owners.last() != Some(&slot.post) {
                let mut subset = posts[slot.post].clone();
                subset.channel_ids.clear();
                subsets.push(subset);
                owners.push(slot.post);
            }
            if let Some(subset) = subsets.last_mut() {
                subset.channel_ids.push(slot.channel.clone());
            }
        }
        let request = match subsets.as_slice() {
            [post] if posts.len() == 1 => Request::CreatePost { post: post.clone() },
            _ => Request::CreatePosts {
                posts: subsets.clone(),
            },
        };
        let outcomes = match self.inner.execute(request).await {
            Ok(Response::Created(outcome)) => vec![outcome],
            Ok(Response::CreatedMany(outcomes)) => outcomes,
            Ok(other) => {
                let error =
                    Error::unexpected(format!("the backend answered {other:?} to a create"));
                return vec![ChannelResult::Unknown(error); todo.len()];
            }
            Err(error) => return vec![ChannelResult::of_attempt(Err(error)); todo.len()],
        };
        if outcomes.len() != subsets.len() {
            let error = Error::unexpected(format!(
                "the backend answered {} outcomes to a create of {} posts",
                outcomes.len(),
                subsets.len()
            ));
            return vec![ChannelResult::Unknown(error); todo.len()];
        }
        subsets
            .iter()
            .zip(outcomes)
            .flat_map(|(post, outcome)| by_channel(&post.channel_ids, outcome))
            .collect()
    }

    /// Answers [`Request::Reconcile`]: the journaled outcome of a key, with every pending or
    /// unknown channel looked up (nothing is sent). A key another caller is sending right now
    /// keeps its unsettled channels unknown.
    pub(super) async fn reconcile(&self, key: &IdempotencyKey) -> Result<Vec<CreateOutcome>> {
        let Some(entry) = self.journal.entry(key).await? else {
            return Err(Error::not_found(format!(
                "no write with the idempotency key {key} is in this journal; it was never \
                     sent through it (or the journal was pruned)"
            )));
        };
        let Some(post) = entry.intent.post.clone() else {
            return Err(Error::invalid_input(format!(
                "the write journaled under {key} is not a create; only creates are reconciled"
            )));
        };
        let lease = match self.journal.begin(&entry.intent, self.writes.lease).await {
            Ok((_, lease)) => Some(lease),
            Err(error) if is_held(&error) => None,
            Err(error) => return Err(error),
        };
        let mut leases = Leases {
            journal: self.journal.clone(),
            held: lease.iter().cloned().collect(),
            in_flight: false,
        };
        let write = Write {
            key: key.clone(),
            fence: entry.intent.sent_at - self.skew(),
            local_clock: entry.intent.local_clock,
            lease,
        };
        let in_progress = write.lease.is_none();
        let mut slots: Vec<Slot> = entry
            .intent
            .slots
            .iter()
            .zip(&entry.states)
            .enumerate()
            .map(|(index, (slot, state))| {
                let stage = match (stage_of(state), in_progress) {
                    (Stage::Look { error, .. }, true) => {
                        Stage::Done(ChannelResult::Unknown(Error::unexpected(format!(
                            "{error}; another caller is sending this write right now"
                        ))))
                    }
                    (Stage::Look { error, .. }, false) => Stage::Look {
                        error,
                        may_resend: false,
                    },
                    // Journaled as refused: nothing was created.
                    (Stage::Send, _) => Stage::Done(ChannelResult::Failed(
                        state
                            .error()
                            .unwrap_or_else(|| never_sent(&slot.channel_id)),
                    )),
                    (done, _) => done,
                };
                Slot {
                    post: 0,
                    index,
                    channel: slot.channel_id.clone(),
                    stage,
                    unsure: true,
                    last_error: None,
                }
            })
            .collect();
        if slots.iter().any(|s| matches!(s.stage, Stage::Look { .. })) {
            self.look(
                std::slice::from_ref(&post),
                std::slice::from_ref(&write),
                &mut slots,
            )
            .await;
        }
        for lease in std::mem::take(&mut leases.held) {
            let _ = self.journal.release(lease).await;
        }
        let channels = slots
            .into_iter()
            .map(|slot| {
                let result = match slot.stage {
                    Stage::Done(result) => result,
                    Stage::Look { error, .. } => ChannelResult::Unknown(error),
                    Stage::Send => ChannelResult::Failed(
                        slot.last_error.unwrap_or_else(|| never_sent(&slot.channel)),
                    ),
                };
                ChannelOutcome::new(slot.channel, result)
            })
            .collect();
        Ok(vec![CreateOutcome::new(channels)])
    }

    /// Each write's fence for a lookup. A write first sent before any answer told the server's
    /// time (in this process or the one that journaled it) was fenced by its clock, which may run ahead of Buffer's by more than
    /// the allowed skew: its fence would then rule out the very post a lost answer made, and
    /// the post would be sent again. Its fence moves back by how far this machine's clock is
    /// ahead, measured now against the server's latest `Date` (read once first if the client
    /// has heard nothing from Buffer yet: only a fresh client whose first answer was lost
    /// pays that read).
    async fn fences(&self, writes: &[Write]) -> Vec<DateTime<Utc>> {
        let mut ahead = TimeDelta::zero();
        if writes.iter().any(|w| w.local_clock) {
            if self.inner.server_time().is_none()
                && let Err(error) = self.plain(Request::Account).await
            {
                tracing::warn!(%error, "could not learn Buffer's clock; fencing by this machine's");
            }
            // The latest `Date` is at or before the server's now: this underestimates the
            // server's time, so overestimates how far ahead this machine is, and the fence
            // stays a lower bound.
            if let Some(server) = self.inner.server_time() {
                ahead = (Utc::now() - server).max(TimeDelta::zero());
            }
        }
        writes
            .iter()
            .map(|w| {
                if w.local_clock {
                    w.fence - ahead
                } else {
                    w.fence
                }
            })
            .collect()
    }

    /// The lower bound of the server's time now: its latest `Date`, else this machine's clock.
    fn send_time(&self) -> DateTime<Utc> {
        self.inner.server_time().unwrap_or_else(Utc::now)
    }

    fn skew(&self) -> TimeDelta {
        TimeDelta::from_std(self.writes.clock_skew).unwrap_or(TimeDelta::MAX)
    }
}

/// Where a journaled slot resumes.
fn stage_of(state: &SlotState) -> Stage {
    match state {
        SlotState::Created(post) => Stage::Done(ChannelResult::Created((**post).clone())),
        // Refused: nothing was created, so sending again cannot post twice.
        SlotState::Failed(_) => Stage::Send,
        SlotState::Pending | SlotState::Unknown => Stage::Look {
            error: Error::unexpected(
                "an earlier attempt of this write may have reached Buffer".to_owned(),
            ),
            may_resend: true,
        },
    }
}

/// Whether a found post is the new post's: the same text (a link in the text may come back
/// shortened, so words that are links match any link), the same assets, the same link
/// preview (or none on one side where the other's URL is in the text: networks without link
/// previews drop it, and some add one from the text), and the same due time when one was set.
fn same_content(new: &NewPost, found: &Post) -> bool {
    // A draft has no due time yet: Buffer keeps the time for when it is approved.
    if let When::At(at) = new.when
        && !new.draft
        && found.due_at.map(|due| due.timestamp()) != Some(at.timestamp())
    {
        return false;
    }
    let text = new.text.as_deref().unwrap_or_default();
    if !same_text(text, &found.text) {
        return false;
    }
    let assets = |assets: &[crate::model::Asset]| -> Vec<(crate::model::AssetKind, String)> {
        assets
            .iter()
            .map(|a| (a.kind.clone(), a.url.clone()))
            .collect()
    };
    if assets(&new.assets) != assets(&found.assets) {
        return false;
    }
    match (&new.link, &found.link) {
        (Some(a), Some(b)) => a.url == b.url,
        (Some(only), None) | (None, Some(only)) => text.contains(&only.url),
        (None, None) => true,
    }
}

/// Equal word for word after folding whitespace, where a link may stand for another link (the
/// classic API shortens links in the text by default) but never for a plain word.
fn same_text(a: &str, b: &str) -> bool {
    let is_link = |w: &str| w.starts_with("http://") || w.starts_with("https://");
    let mut a = a.split_whitespace();
    let mut b = b.split_whitespace();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || (is_link(x) && is_link(y)) => {}
            _ => return false,
        }
    }
}

/// Whether a post was changed after it was made (edited, or sent).
fn edited(post: &Post) -> bool {
    post.updated_at
        .zip(post.created_at)
        .is_some_and(|(updated, created)| updated > created)
}

/// What tells a post's copies on one channel from other posts there: its content with that
/// channel alone and no key, so writes of the same post under other keys, or with other
/// channels besides, compare equal.
fn likeness(post: &NewPost, channel: &ChannelId) -> String {
    let mut alone = post.clone();
    alone.channel_ids = vec![channel.clone()];
    alone.idempotency_key = None;
    IdempotencyKey::derive(&alone).to_string()
}

/// Whether the journal refused because another live caller holds the key.
fn is_held(error: &Error) -> bool {
    matches!(error.journal_conflict(), Some(Conflict::Held { .. }))
}

/// The first key named twice.
fn first_repeat(keys: &[IdempotencyKey]) -> Option<&IdempotencyKey> {
    let mut seen = HashSet::new();
    keys.iter().find(|key| !seen.insert(*key))
}

/// Matches a create's outcome to the channels asked for: by position when the backend kept
/// the order, else by channel id. A channel the answer lacks is unknown.
fn by_channel(channels: &[ChannelId], outcome: CreateOutcome) -> Vec<ChannelResult> {
    let in_order = outcome.channels.len() == channels.len()
        && outcome
            .channels
            .iter()
            .zip(channels)
            .all(|(got, asked)| &got.channel_id == asked);
    if in_order {
        return outcome.channels.into_iter().map(|c| c.result).collect();
    }
    let mut left = outcome.channels;
    channels
        .iter()
        .map(
            |channel| match left.iter().position(|c| &c.channel_id == channel) {
                Some(i) => left.remove(i).result,
                None => ChannelResult::Unknown(Error::unexpected(format!(
                    "the backend's answer has no outcome for channel {channel}"
                ))),
            },
        )
        .collect()
}

fn never_sent(channel: &ChannelId) -> Error {
    Error::unexpected(format!("no attempt was made for channel {channel}"))
}

/// Whether a settled entry under a derived key is older than the horizon: the same content
/// is then a new write, not a repeat of that one.
fn is_stale(entry: &Entry, intent: &Intent, horizon: Duration) -> bool {
    let settled = entry
        .states
        .iter()
        .all(|s| matches!(s, SlotState::Created(_) | SlotState::Failed(_)));
    let age = intent.sent_at - entry.updated_at;
    intent.key.is_derived() && settled && age.to_std().is_ok_and(|age| age > horizon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Asset, Link, PostStatus, Service};

    fn post(id: &str, channel: &str, text: &str) -> Post {
        Post::new(id, channel, Service::Twitter, text, PostStatus::Scheduled)
    }

    #[test]
    fn texts_match_word_for_word_with_links_standing_for_links() {
        assert!(same_text("Hello  world\n", "Hello world"));
        assert!(same_text(
            "Read https://example.com/a/long/path now",
            "Read https://buff.ly/3xYz now"
        ));
        assert!(!same_text("Hello world", "Hello there"));
        assert!(!same_text("Hello", ""));
        assert!(!same_text("https://example.com/a", "Launch"));
        assert!(!same_text("", "https://example.com/a"));
    }

    #[test]
    fn content_tells_apart_links_media_and_due_times() {
        let found = post("p", "c", "New article");
        let plain = NewPost::new("New article").channel("c");
        assert!(same_content(&plain, &found));
        let linked = plain.clone().link(Link::new("https://example.com/b"));
        assert!(
            !same_content(&linked, &found),
            "a link the found post lacks"
        );
        let mut with_link = found.clone();
        with_link.link = Some(Link::new("https://example.com/a"));
        assert!(!same_content(&linked, &with_link), "another link");
        let imaged = plain
            .clone()
            .asset(Asset::image("https://example.com/1.png"));
        assert!(!same_content(&imaged, &found), "media the found post lacks");
        let at = DateTime::parse_from_rfc3339("2026-12-24T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let scheduled = plain.clone().when(When::At(at));
        let mut due = found.clone();
        due.due_at = Some(at + TimeDelta::days(1));
        assert!(!same_content(&scheduled, &due), "another due time");
        due.due_at = Some(at);
        assert!(same_content(&scheduled, &due));
    }

    #[test]
    fn outcomes_are_matched_by_channel_when_out_of_order() {
        let channels: Vec<ChannelId> = vec!["a".into(), "b".into()];
        let outcome = CreateOutcome::new(vec![
            ChannelOutcome::failed("b", Error::invalid_input("no")),
            ChannelOutcome::created("a", post("p", "a", "x")),
        ]);
        let results = by_channel(&channels, outcome);
        assert!(results[0].is_created());
        assert!(results[1].is_failed());
        let missing = by_channel(&channels, CreateOutcome::new(Vec::new()));
        assert!(missing.iter().all(ChannelResult::is_unknown));
    }
}
