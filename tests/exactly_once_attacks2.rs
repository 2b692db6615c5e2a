//! More attacks on exactly-once creates, through a journal that fails or stalls on cue: a
//! journal that cannot tell who claimed a post, and two keys with one text racing on one
//! channel. Assertions read the simulator's store.

#[path = "common/sim.rs"]
mod common;

use async_trait::async_trait;
use buffer_bridge::journal::{
    Begun, Entry, IdempotencyKey, Intent, Journal, Lease, MemoryJournal, SlotState, SqliteJournal,
};
use buffer_bridge::model::{ChannelId, ChannelResult, NewPost, PostEdit, PostId};
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt, BackendKind, Error, Result};
use buffer_sim::{Fault, FaultRule, Faults, Simulator};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

fn create_route(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::GraphQl => "createPost",
        _ => "/1/updates/create.json",
    }
}

/// A journal (in memory or SQLite) that fails every `claimed_by` and `record` while `failing` is set, and
/// stalls a `record` of a created or unknown slot under `stalled` key until `release` is
/// notified (once).
#[derive(Debug)]
struct Flaky {
    inner: Box<dyn Journal>,
    failing: AtomicBool,
    /// Only `record` fails (a full disk that still reads).
    failing_writes: AtomicBool,
    stalled: std::sync::Mutex<Option<String>>,
    stalling: Notify,
    release: Notify,
}

impl Flaky {
    fn over(inner: Box<dyn Journal>) -> Self {
        Self {
            inner,
            failing: AtomicBool::new(false),
            failing_writes: AtomicBool::new(false),
            stalled: std::sync::Mutex::new(None),
            stalling: Notify::new(),
            release: Notify::new(),
        }
    }

    fn down(&self) -> Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::journal("the journal's disk is full", None));
        }
        Ok(())
    }
}

#[async_trait]
impl Journal for Flaky {
    async fn begin(&self, intent: &Intent, hold: Duration) -> Result<(Begun, Lease)> {
        self.inner.begin(intent, hold).await
    }
    async fn record(&self, lease: &Lease, slot: usize, state: &SlotState) -> Result<()> {
        self.down()?;
        if self.failing_writes.load(Ordering::SeqCst) {
            return Err(Error::journal("the journal's disk is full", None));
        }
        let stall = matches!(state, SlotState::Created(_) | SlotState::Unknown)
            && self.stalled.lock().unwrap().as_deref() == Some(lease.key().as_str());
        if stall {
            *self.stalled.lock().unwrap() = None;
            self.stalling.notify_one();
            self.release.notified().await;
        }
        self.inner.record(lease, slot, state).await
    }
    async fn record_snapshot(
        &self,
        lease: &Lease,
        channel: &ChannelId,
        existing: &[PostId],
    ) -> Result<()> {
        self.inner.record_snapshot(lease, channel, existing).await
    }
    async fn renew(&self, lease: &Lease, hold: Duration) -> Result<Lease> {
        self.inner.renew(lease, hold).await
    }
    async fn release(&self, lease: Lease) -> Result<()> {
        self.inner.release(lease).await
    }
    async fn entry(&self, key: &IdempotencyKey) -> Result<Option<Entry>> {
        self.inner.entry(key).await
    }
    async fn claimed_by(&self, post: &PostId) -> Result<Option<(IdempotencyKey, usize)>> {
        self.down()?;
        self.inner.claimed_by(post).await
    }
    async fn settling(&self, channel: &ChannelId) -> Result<Vec<Entry>> {
        self.down()?;
        self.inner.settling(channel).await
    }
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        self.inner.prune(before).await
    }
    async fn prune_derived(&self, before: DateTime<Utc>) -> Result<u64> {
        self.inner.prune_derived(before).await
    }
}

/// Each backend over each journal, on a fresh simulator.
async fn each() -> Vec<(
    BackendKind,
    String,
    Simulator,
    Arc<Flaky>,
    Arc<Retrying<Box<dyn Backend>>>,
)> {
    let mut all = Vec::new();
    for kind in BackendKind::ALL {
        for durable in [false, true] {
            let sim = Simulator::builder().start().await;
            let backend: Box<dyn Backend> = match kind {
                BackendKind::GraphQl => Box::new(common::graphql(&sim)),
                _ => Box::new(common::rest(&sim)),
            };
            let inner: Box<dyn Journal> = if durable {
                Box::new(SqliteJournal::open_in_memory().unwrap())
            } else {
                Box::new(MemoryJournal::new())
            };
            let journal = Arc::new(Flaky::over(inner));
            let retrying = Retrying::new(backend)
                .journal(journal.clone())
                .policy(
                    RetryPolicy::default()
                        .backoff(Duration::from_millis(5), Duration::from_millis(20)),
                )
                .seed(11);
            let name = format!("{kind} on {}", if durable { "sqlite" } else { "memory" });
            all.push((kind, name, sim, journal, Arc::new(retrying)));
        }
    }
    all
}

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey::new(name).unwrap()
}

/// Posts on the channel with exactly this text.
fn stored(sim: &Simulator, channel: &str, text: &str) -> Vec<String> {
    sim.store()
        .channel_posts(channel)
        .iter()
        .filter(|p| p.text == text)
        .map(|p| p.id.to_string())
        .collect()
}

/// A create whose request never reached Buffer must not take another key's post of the
/// same text as its own because the journal could not say who claimed it.
#[tokio::test]
async fn a_journal_that_cannot_tell_claims_never_hands_over_another_keys_post() {
    for (kind, name, sim, journal, backend) in each().await {
        let channel = sim.demo().channels[0].id.clone();
        let text = "Same words, two orders";
        let first = backend
            .create_post(
                &NewPost::new(text)
                    .channel(channel.as_str())
                    .idempotency_key(key("order-1")),
            )
            .await
            .unwrap();
        assert!(first.channels[0].result.is_created(), "{name}");
        sim.set_faults(
            Faults::seeded(1).rule(
                FaultRule::new(Fault::Drop)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        journal.failing.store(true, Ordering::SeqCst);
        let second = backend
            .create_post(
                &NewPost::new(text)
                    .channel(channel.as_str())
                    .idempotency_key(key("order-2")),
            )
            .await
            .unwrap();
        let posts = stored(&sim, &channel, text);
        if let ChannelResult::Created(post) = &second.channels[0].result {
            assert_eq!(
                posts.len(),
                2,
                "{name}: order-2 reported created, but Buffer has only order-1's post"
            );
            assert!(posts.contains(&post.id.to_string()), "{name}");
        }
        assert!(posts.len() <= 2, "{name}: {posts:?}");
    }
}

/// Two keys with one text on one channel: the first's answer is in, its journal write is
/// slow; the second's request never reached Buffer and it looks meanwhile. The first's post
/// is not the second's.
#[tokio::test]
async fn a_post_whose_claim_is_still_being_written_is_not_taken_by_another_key() {
    for (kind, name, sim, journal, backend) in each().await {
        let channel = sim.demo().channels[0].id.clone();
        let text = "Flash sale, twice";
        *journal.stalled.lock().unwrap() = Some("order-a".to_owned());
        let first = tokio::spawn({
            let backend = backend.clone();
            let post = NewPost::new(text)
                .channel(channel.as_str())
                .idempotency_key(key("order-a"));
            async move { backend.create_post(&post).await }
        });
        journal.stalling.notified().await;
        sim.set_faults(
            Faults::seeded(2).rule(
                FaultRule::new(Fault::Drop)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let second = backend
            .create_post(
                &NewPost::new(text)
                    .channel(channel.as_str())
                    .idempotency_key(key("order-b")),
            )
            .await
            .unwrap();
        journal.release.notify_one();
        let first = first.await.unwrap().unwrap();
        let posts = stored(&sim, &channel, text);
        assert!(posts.len() <= 2, "{name}: {posts:?}");
        let reported: Vec<String> = [&first, &second]
            .iter()
            .filter_map(|o| o.channels[0].result.post().map(|p| p.id.to_string()))
            .collect();
        if reported.len() == 2 {
            assert_ne!(
                reported[0], reported[1],
                "{name}: two keys report one post; Buffer has {posts:?}"
            );
        }
        for id in &reported {
            assert!(posts.contains(id), "{name}");
        }
        if second.channels[0].result.is_created() {
            assert_eq!(
                posts.len(),
                2,
                "{name}: order-b reported created, Buffer has {posts:?}"
            );
        }
    }
}

/// A post whose answer was lost is edited by someone else before the write looks for it: the
/// look finds no post with the write's text, yet its post is there. Sending again would put
/// the post on the channel twice.
#[tokio::test]
async fn a_post_edited_before_the_look_is_not_sent_again() {
    for (kind, name, sim, journal, backend) in each().await {
        let channel = sim.demo().channels[0].id.clone();
        let before = sim.store().channel_posts(&channel).len();
        sim.set_faults(
            Faults::seeded(3).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        *journal.stalled.lock().unwrap() = Some("order-e".to_owned());
        let create = tokio::spawn({
            let backend = backend.clone();
            let post = NewPost::new("Opening hours: 9 to 5")
                .channel(channel.as_str())
                .idempotency_key(key("order-e"));
            async move { backend.create_post(&post).await }
        });
        journal.stalling.notified().await;
        let made = sim.store().channel_posts(&channel);
        let made = made
            .iter()
            .find(|p| p.text == "Opening hours: 9 to 5")
            .expect("the lost answer's post is on Buffer");
        sim.clock().advance(Duration::from_secs(30));
        let editor = common::rest(&sim);
        editor
            .edit_post(
                &PostId::from(made.id.to_string()),
                &PostEdit::default().text("Opening hours: 9 to 6"),
            )
            .await
            .unwrap();
        journal.release.notify_one();
        let outcome = create.await.unwrap().unwrap();
        assert_eq!(
            sim.store().channel_posts(&channel).len(),
            before + 1,
            "{name}: the write was posted again after its post was edited; it reported {:?}",
            outcome.channels[0].result
        );
    }
}

/// A caller bug: one key for two different posts, the first's answer lost. The second is
/// refused before anything is sent, and never answered with the first's post.
#[tokio::test]
async fn a_key_reused_for_other_content_is_refused_not_posted_or_claimed() {
    for (kind, name, sim, _journal, backend) in each().await {
        let channel = sim.demo().channels[0].id.clone();
        sim.set_faults(
            Faults::seeded(4).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let first = NewPost::new("Menu for Monday")
            .channel(channel.as_str())
            .idempotency_key(key("menu"));
        backend.create_post(&first).await.unwrap();
        let creates = sim.requests_to(create_route(kind));
        let second = NewPost::new("Menu for Tuesday")
            .channel(channel.as_str())
            .idempotency_key(key("menu"));
        let refused = backend.create_post(&second).await;
        assert!(refused.is_err(), "{name}: {refused:?}");
        assert_eq!(sim.requests_to(create_route(kind)), creates, "{name}");
        assert!(
            stored(&sim, &channel, "Menu for Tuesday").is_empty(),
            "{name}"
        );
        assert_eq!(stored(&sim, &channel, "Menu for Monday").len(), 1, "{name}");
    }
}

/// The first key's post is made but its claim cannot be journaled (the disk is full); later a
/// second key with the same post loses its request before Buffer and looks. The first's post
/// is not the second's.
#[tokio::test]
#[ignore = "open: a created post whose claim could not be journaled is free for another key's look-alike once the first key's lease is gone"]
async fn a_claim_the_journal_could_not_write_is_not_taken_by_another_key() {
    for (kind, name, sim, journal, backend) in each().await {
        let channel = sim.demo().channels[0].id.clone();
        let text = "Doors open at noon";
        journal.failing_writes.store(true, Ordering::SeqCst);
        let first = backend
            .create_post(
                &NewPost::new(text)
                    .channel(channel.as_str())
                    .idempotency_key(key("door-1")),
            )
            .await
            .unwrap();
        journal.failing_writes.store(false, Ordering::SeqCst);
        sim.set_faults(
            Faults::seeded(5).rule(
                FaultRule::new(Fault::Drop)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let second = backend
            .create_post(
                &NewPost::new(text)
                    .channel(channel.as_str())
                    .idempotency_key(key("door-2")),
            )
            .await
            .unwrap();
        let posts = stored(&sim, &channel, text);
        let reported: Vec<String> = [&first, &second]
            .iter()
            .filter_map(|o| o.channels[0].result.post().map(|p| p.id.to_string()))
            .collect();
        if reported.len() == 2 {
            assert_ne!(
                reported[0], reported[1],
                "{name}: two keys report one post; Buffer has {posts:?}"
            );
        }
        assert!(posts.len() <= 2, "{name}: {posts:?}");
    }
}
