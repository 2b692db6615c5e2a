//! Idempotency keys and the outcome journal of every write.
//!
//! # Why a journal
//!
//! Buffer has no idempotency keys: a create whose answer was lost may or may not have made the
//! post, and sending it again may post twice. So every write carries an [`IdempotencyKey`] (given
//! by the application, or [derived](IdempotencyKey::derive) from the content), and before the
//! request goes out its [`Intent`] is journaled: the key, the operation, a fingerprint of the
//! content, one [`SlotIntent`] per channel of each post, and the time of the send. After, each
//! slot's outcome is recorded as a [`SlotState`]: `Created(post)`, `Failed` only when Buffer
//! certainly did not create it, or `Unknown`. A later write with the same key (a retry, an
//! application that was cancelled, a process that restarted) finds the entry instead of sending
//! blindly, and reconciles only what is still unknown.
//!
//! # What survives what
//!
//! - [`MemoryJournal`] lives as long as the client: it covers retries and cancelled futures
//!   within one process, and nothing across a restart.
//! - [`SqliteJournal`] commits every call to a file before it returns (WAL, `synchronous=FULL`):
//!   a process killed at any point (even `SIGKILL`) or a power loss loses no record that a call
//!   had returned, and a process opening the file later sees them all. Several processes may
//!   share one file.
//! - A journal call whose future is dropped may still complete: after a cancellation, read the
//!   [`entry`](Journal::entry) rather than assume either way.
//!
//! # Leases
//!
//! Two holders (tasks, processes, later workers of a fleet) must never send the same key at
//! once. [`Journal::begin`] takes a time-limited [`Lease`] on the key: while it is live, another
//! `begin` of that key is refused with a [`Conflict::Held`] that says until when, and only the
//! holder may [`record`](Journal::record). A holder that dies simply stops renewing; once its
//! lease expires, the next `begin` takes the key over and finds what was recorded. A holder that
//! outlives its lease is refused ([`Conflict::LeaseLost`]) and must begin again. Leases are
//! checked by the store, never by in-process locks, so a networked store can implement
//! [`Journal`] with the same guarantees.
//!
//! # Claims
//!
//! A post recorded as `Created` for one slot is claimed by it: the journal refuses to record it
//! for another slot or key ([`Conflict::Claimed`]), and [`Journal::claimed_by`] tells
//! reconciliation which candidates are already someone's.
//!
//! # Forgetting
//!
//! Entries stay until pruned. A derived key stands for "this content, now": once its horizon has
//! passed, [`Journal::prune_derived`] forgets it, so the same post sent later is a new intent.
//! A given key stands for one intent for as long as the application may retry it;
//! [`Journal::prune`] forgets every old entry, for housekeeping. Neither forgets a key under a
//! live lease.

mod memory;
mod sqlite;

pub use memory::MemoryJournal;
pub use sqlite::SqliteJournal;
#[cfg(feature = "redis")]
pub(crate) use sqlite::{decode as decode_state, encode as encode_state};

use crate::backend::Operation;
use crate::model::{ChannelId, NewPost, Post, PostId, When};
use crate::{Error, ErrorKind, Result};
use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The longest a lease is held without renewal; longer holds are shortened to it, so a dead
/// holder blocks its key for at most this long.
pub const MAX_HOLD: Duration = Duration::from_secs(24 * 60 * 60);

/// The prefix of [derived](IdempotencyKey::derive) keys.
const DERIVED_PREFIX: &str = "auto:";
/// Hex digits of the content hash in a derived key (128 bits).
const DERIVED_HEX_LEN: usize = 32;
/// The longest key an application may give, in characters.
const MAX_KEY_CHARS: usize = 200;

/// Identifies the intent of one write across retries, cancellation and process restarts.
///
/// ```
/// use buffer_bridge::journal::IdempotencyKey;
/// use buffer_bridge::model::NewPost;
///
/// let given = IdempotencyKey::new("invoice-2041-reminder")?;
/// assert!(!given.is_derived());
/// let derived = IdempotencyKey::derive(&NewPost::new("Launch day!").channel("4eb854340acb04e870000010"));
/// assert!(derived.as_str().starts_with("auto:"));
/// // A derived key can be given back, say after it was logged before a crash.
/// assert_eq!(IdempotencyKey::new(derived.to_string())?, derived);
/// # Ok::<(), buffer_bridge::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key given by the application: 1 to 200 characters, no control characters. Keys that
    /// start with `auto:` are reserved for derived keys and accepted only in their exact form.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        let chars = key.chars().count();
        if chars == 0 || chars > MAX_KEY_CHARS {
            return Err(Error::invalid_input(format!(
                "an idempotency key has 1 to {MAX_KEY_CHARS} characters; this one has {chars}"
            )));
        }
        if key.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "an idempotency key must not contain control characters",
            ));
        }
        if let Some(hash) = key.strip_prefix(DERIVED_PREFIX) {
            let well_formed = hash.len() == DERIVED_HEX_LEN
                && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !well_formed {
                return Err(Error::invalid_input(format!(
                    "idempotency keys starting with {DERIVED_PREFIX:?} are derived by buffer-bridge \
                     ({DERIVED_PREFIX} and {DERIVED_HEX_LEN} lowercase hex digits); give your own keys another prefix"
                )));
            }
        }
        Ok(Self(key))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stable key derived from a new post's content: `auto:` and 32 hex digits of SHA-256
    /// over a canonical encoding of the channel ids (in the given order), text, assets, link,
    /// publishing time and link shortening. The same post gives the same key in every process
    /// and on every platform; any difference in content gives another.
    pub fn derive(post: &NewPost) -> Self {
        let mut encoding = Canonical::new("buffer-bridge/new-post/v1");
        encoding.count(post.channel_ids.len());
        for channel in &post.channel_ids {
            encoding.text(channel.as_str());
        }
        encoding.optional_text(post.text.as_deref());
        encoding.count(post.assets.len());
        for asset in &post.assets {
            encoding.text(asset.kind.as_str());
            encoding.text(&asset.url);
            encoding.optional_text(asset.thumbnail.as_deref());
            encoding.optional_text(asset.alt_text.as_deref());
            encoding.optional_text(asset.title.as_deref());
        }
        match &post.link {
            None => encoding.tag(0),
            Some(link) => {
                encoding.tag(1);
                encoding.text(&link.url);
                encoding.optional_text(link.title.as_deref());
                encoding.optional_text(link.description.as_deref());
                encoding.optional_text(link.thumbnail.as_deref());
            }
        }
        match post.when {
            When::Queue => encoding.tag(0),
            When::Next => encoding.tag(1),
            When::Now => encoding.tag(2),
            When::At(at) => {
                encoding.tag(3);
                encoding.raw(&at.timestamp().to_le_bytes());
                encoding.raw(&at.timestamp_subsec_nanos().to_le_bytes());
            }
        }
        encoding.tag(match post.shorten {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        // Appended only for drafts, so every key derived before drafts existed stays the same.
        if post.draft {
            encoding.tag(1);
        }
        Self(format!(
            "{DERIVED_PREFIX}{}",
            encoding.hex(DERIVED_HEX_LEN / 2)
        ))
    }

    /// Whether buffer-bridge derived the key from content. Derived keys expire (a later
    /// identical post is a new intent, see [`Journal::prune_derived`]); given ones do not.
    pub fn is_derived(&self) -> bool {
        self.0.starts_with(DERIVED_PREFIX)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = Error;

    fn try_from(key: String) -> Result<Self> {
        Self::new(key)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> Self {
        key.0
    }
}

/// An unambiguous byte encoding fed to SHA-256: every text is length-prefixed and every choice
/// tagged, so no two different contents encode alike. Changing it changes every derived key.
struct Canonical(Sha256);

impl Canonical {
    fn new(domain: &str) -> Self {
        let mut encoding = Self(Sha256::new());
        encoding.text(domain);
        encoding
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn tag(&mut self, tag: u8) {
        self.0.update([tag]);
    }

    fn count(&mut self, count: usize) {
        self.0.update((count as u64).to_le_bytes());
    }

    fn text(&mut self, text: &str) {
        self.count(text.len());
        self.0.update(text.as_bytes());
    }

    fn optional_text(&mut self, text: Option<&str>) {
        match text {
            None => self.tag(0),
            Some(text) => {
                self.tag(1);
                self.text(text);
            }
        }
    }

    /// The first `bytes` bytes of the hash in lowercase hex.
    fn hex(self, bytes: usize) -> String {
        self.0
            .finalize()
            .iter()
            .take(bytes)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// One channel of one post of a write, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SlotIntent {
    /// The index of the post in the request (0 for a single create).
    pub post: u32,
    /// The channel it goes to.
    pub channel_id: ChannelId,
}

impl SlotIntent {
    /// The slot of post number `post` on `channel_id`.
    pub fn new(post: u32, channel_id: impl Into<ChannelId>) -> Self {
        Self {
            post,
            channel_id: channel_id.into(),
        }
    }
}

/// What is known before sending: journaled before the request goes out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// The write's key.
    pub key: IdempotencyKey,
    /// The operation sent.
    pub operation: Operation,
    /// A content fingerprint of the whole request (hex), so a key reused for other content is
    /// caught.
    pub fingerprint: String,
    /// One per channel of each post, in request order.
    pub slots: Vec<SlotIntent>,
    /// A lower bound of the server's time at the first send: posts created before it (minus
    /// clock skew) cannot be this write's.
    pub sent_at: DateTime<Utc>,
    /// The post itself, when the write creates one: what reconciliation matches candidates
    /// against, after a restart too.
    #[serde(default)]
    pub post: Option<NewPost>,
    /// Whether `sent_at` was read from the sender's own clock, no server time being known yet:
    /// that clock may run ahead of the server's, so reconciliation corrects the fence by how
    /// far this machine's clock is ahead, after a restart too.
    #[serde(default)]
    pub local_clock: bool,
}

impl Intent {
    /// An intent with every field given.
    pub fn new(
        key: IdempotencyKey,
        operation: Operation,
        fingerprint: impl Into<String>,
        slots: Vec<SlotIntent>,
        sent_at: DateTime<Utc>,
    ) -> Self {
        Self {
            key,
            operation,
            fingerprint: fingerprint.into(),
            slots,
            sent_at,
            post: None,
            local_clock: false,
        }
    }

    /// The intent to create `post` under `key`: one slot per channel, the content's derived
    /// key as fingerprint, and the post kept for reconciliation.
    pub fn create(key: IdempotencyKey, post: &NewPost, sent_at: DateTime<Utc>) -> Self {
        let slots = post
            .channel_ids
            .iter()
            .map(|channel| SlotIntent::new(0, channel.clone()))
            .collect();
        let mut content = post.clone();
        content.idempotency_key = None;
        let fingerprint = IdempotencyKey::derive(&content).to_string();
        Self {
            post: Some(content),
            ..Self::new(key, Operation::CreatePost, fingerprint, slots, sent_at)
        }
    }
}

/// What became of one slot.
#[derive(Clone, Debug, PartialEq)]
pub enum SlotState {
    /// Journaled, never answered.
    Pending,
    /// Buffer created this post.
    Created(Box<Post>),
    /// Refused: Buffer certainly did not create it.
    Failed(FailedSlot),
    /// The request may have reached Buffer and nothing proves either way.
    Unknown,
}

impl SlotState {
    /// The state of a slot Buffer certainly did not create, for this error.
    pub fn failed(error: &Error) -> Self {
        Self::Failed(FailedSlot::from(error))
    }

    /// The error of a failed slot.
    pub fn error(&self) -> Option<Error> {
        match self {
            Self::Failed(failed) => Some(failed.clone().into_error()),
            _ => None,
        }
    }

    /// The post, when the slot was created.
    pub fn created(&self) -> Option<&Post> {
        match self {
            Self::Created(post) => Some(post),
            _ => None,
        }
    }
}

/// Why a slot certainly failed, in a form that can be stored and read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FailedSlot {
    /// The error's kind.
    pub kind: ErrorKind,
    /// The error's message.
    pub message: String,
    /// The classic error code, when there was one.
    pub legacy_code: Option<u16>,
}

impl FailedSlot {
    /// A failure of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>, legacy_code: Option<u16>) -> Self {
        Self {
            kind,
            message: message.into(),
            legacy_code,
        }
    }

    /// The error again (its kind, message and code; data such as a rate limit's wait is not
    /// kept).
    pub fn into_error(self) -> Error {
        Error::of_kind(self.kind, self.message, self.legacy_code)
    }
}

impl From<&Error> for FailedSlot {
    fn from(error: &Error) -> Self {
        Self::new(error.kind(), error.message(), error.legacy_code())
    }
}

/// A key's journal entry: its intent and what became of each slot.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// What was to be sent.
    pub intent: Intent,
    /// One per slot of [`Intent::slots`], in the same order.
    pub states: Vec<SlotState>,
    /// For each channel whose posts were read before the first send, the ids already there:
    /// none of them can be this write's post. See [`Journal::record_snapshot`].
    pub snapshots: BTreeMap<ChannelId, Vec<PostId>>,
    /// When a state or snapshot was last recorded.
    pub updated_at: DateTime<Utc>,
}

impl Entry {
    /// A new entry: every slot pending, no snapshot.
    pub fn new(intent: Intent, updated_at: DateTime<Utc>) -> Self {
        let states = vec![SlotState::Pending; intent.slots.len()];
        Self {
            intent,
            states,
            snapshots: BTreeMap::new(),
            updated_at,
        }
    }

    /// Whether a slot on `channel` is still pending or unknown: this write's post may be there
    /// without its claim journaled.
    pub fn is_unsettled_on(&self, channel: &ChannelId) -> bool {
        self.intent
            .slots
            .iter()
            .zip(&self.states)
            .any(|(slot, state)| {
                &slot.channel_id == channel
                    && matches!(state, SlotState::Pending | SlotState::Unknown)
            })
    }
}

/// What [`Journal::begin`] found.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per begin, returned once
pub enum Begun {
    /// The key was new: its intent is journaled with every slot pending. Send.
    New,
    /// The key was journaled before: here is what is known. Never send blindly; reconcile
    /// what is pending or unknown.
    Existing(Entry),
}

/// A time-limited exclusive hold on a key: only its holder records, and a dead holder's key is
/// taken over once the lease expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    key: IdempotencyKey,
    holder: String,
    expires_at: DateTime<Utc>,
}

impl Lease {
    /// A new lease on `key` with a fresh holder token, live from `now` for `hold` (at most
    /// [`MAX_HOLD`]). For [`Journal`] implementations.
    pub fn issue(key: IdempotencyKey, now: DateTime<Utc>, hold: Duration) -> Self {
        Self {
            key,
            holder: holder_token(),
            expires_at: now + span(hold),
        }
    }

    /// The same holder's lease, live from `now` for `hold` (at most [`MAX_HOLD`]). For
    /// [`Journal`] implementations.
    pub fn extended(&self, now: DateTime<Utc>, hold: Duration) -> Self {
        Self {
            expires_at: now + span(hold),
            ..self.clone()
        }
    }

    /// The key held.
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }

    /// The token that tells this holder from every other, in every process.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// When the lease ends unless renewed.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// Why the journal refused a call: carried by [`Error::Journal`], read with
/// [`Error::journal_conflict`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// Another live holder has the key: wait until `until` (or until it is released) and
    /// begin again.
    #[error(
        "idempotency key {key} is being written by another holder until {until}; begin again after that"
    )]
    Held {
        /// The key.
        key: IdempotencyKey,
        /// When the other holder's lease ends unless renewed.
        until: DateTime<Utc>,
    },
    /// The lease expired, was released, or passed to another holder: nothing was recorded.
    /// Stop sending under it and begin again to see what is known.
    #[error(
        "the lease on idempotency key {key} has expired or passed to another holder; nothing was recorded"
    )]
    LeaseLost {
        /// The key.
        key: IdempotencyKey,
    },
    /// The post is already recorded as created by another slot or key: it cannot be this
    /// slot's.
    #[error("post {post} is already recorded as created by idempotency key {key}, slot {slot}")]
    Claimed {
        /// The post.
        post: PostId,
        /// The key that claimed it.
        key: IdempotencyKey,
        /// The slot that claimed it.
        slot: usize,
    },
}

impl From<Conflict> for Error {
    fn from(conflict: Conflict) -> Self {
        Error::journal(conflict.to_string(), Some(std::sync::Arc::new(conflict)))
    }
}

/// The journal of every write's intent and outcome.
///
/// Every method is one atomic step of the store. Nothing in the contract assumes one process:
/// exclusion comes from the [`Lease`] the store checks, so a networked store can implement it.
#[async_trait]
pub trait Journal: Send + Sync + fmt::Debug {
    /// Takes the key's lease for `hold` (at most [`MAX_HOLD`]) and, if the key is new, records
    /// `intent` with every slot pending ([`Begun::New`]); if the key exists, returns its entry
    /// unchanged ([`Begun::Existing`]; compare its fingerprint, the key may have been reused
    /// for other content). While another live holder has the key, fails with
    /// [`Conflict::Held`], which says when its lease ends; that includes a second `begin` by
    /// the same caller, since every lease has its own holder token: keep the lease you have.
    async fn begin(&self, intent: &Intent, hold: Duration) -> Result<(Begun, Lease)>;

    /// Records one slot's state, only under a live lease of the key ([`Conflict::LeaseLost`]
    /// otherwise). A created slot stays created with its post; a post created for another
    /// slot or key is refused ([`Conflict::Claimed`]).
    async fn record(&self, lease: &Lease, slot: usize, state: &SlotState) -> Result<()>;

    /// Records the ids already on `channel` before the first send, under a live lease, so
    /// reconciliation after a restart can still rule them out. The channel must be one of the
    /// intent's.
    async fn record_snapshot(
        &self,
        lease: &Lease,
        channel: &ChannelId,
        existing: &[PostId],
    ) -> Result<()>;

    /// Extends a live lease by `hold` from now (at most [`MAX_HOLD`]), for long
    /// reconciliations; an expired lease is refused.
    async fn renew(&self, lease: &Lease, hold: Duration) -> Result<Lease>;

    /// Gives the key up so another holder need not wait for the lease to expire. Releasing a
    /// lease that has already passed to another holder changes nothing.
    async fn release(&self, lease: Lease) -> Result<()>;

    /// The entry of a key.
    async fn entry(&self, key: &IdempotencyKey) -> Result<Option<Entry>>;

    /// Which key and slot recorded this post as created, so reconciliation never lets two
    /// slots (or two keys) claim one post.
    async fn claimed_by(&self, post: &PostId) -> Result<Option<(IdempotencyKey, usize)>>;

    /// Every entry under a live lease with a slot on `channel` still pending or unknown: a
    /// write another caller is settling right now, whose post may be on Buffer with its claim
    /// not journaled yet (its answer on its way), so another key's reconciliation cannot tell
    /// a look-alike post from its own. (Look-alikes of writes no one holds are told apart by
    /// count and claims.)
    async fn settling(&self, channel: &ChannelId) -> Result<Vec<Entry>>;

    /// Forgets every entry last updated before `before`, except those under a live lease, and
    /// returns how many. Given keys are forgotten too: a repeat of a forgotten key is a new
    /// intent, so keep `before` older than any retry an application may still make.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64>;

    /// Like [`prune`](Journal::prune), for derived keys only: their horizon, after which an
    /// identical post is a new intent.
    async fn prune_derived(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// The journal's clock, to the microsecond that both stores keep.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// A hold as a time span, clamped to [`MAX_HOLD`] and to whole microseconds.
fn span(hold: Duration) -> TimeDelta {
    let micros = hold.min(MAX_HOLD).as_micros();
    TimeDelta::microseconds(i64::try_from(micros).unwrap_or(i64::MAX))
}

/// A holder token that differs across processes and calls: the process id, the time, a
/// counter, and 64 bits from the standard library's randomly seeded hasher.
fn holder_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let mut random = std::collections::hash_map::RandomState::new().build_hasher();
    random.write_u64(count);
    random.write_i64(nanos);
    format!(
        "{:x}-{nanos:x}-{count:x}-{:016x}",
        std::process::id(),
        random.finish()
    )
}

/// Who holds a key in the store: a holder token and its lease's end.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hold {
    holder: String,
    expires_at: DateTime<Utc>,
}

impl Hold {
    fn of(lease: &Lease) -> Self {
        Self {
            holder: lease.holder.clone(),
            expires_at: lease.expires_at,
        }
    }

    fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

/// The rules every store applies, so all behave alike.
pub(crate) mod rules {
    use super::*;

    /// `begin` may take a key only when no one else holds it live.
    pub(super) fn may_take(
        key: &IdempotencyKey,
        hold: Option<&Hold>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match hold {
            Some(hold) if hold.is_live(now) => Err(Conflict::Held {
                key: key.clone(),
                until: hold.expires_at,
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Whether `lease` is the one the store has for the key, still live: what every record
    /// needs.
    pub(super) fn holds(lease: &Lease, hold: Option<&Hold>, now: DateTime<Utc>) -> bool {
        hold.is_some_and(|hold| hold.holder == lease.holder && hold.is_live(now))
    }

    /// The refusal of a record under a lease that [`holds`] no more.
    pub(crate) fn lease_lost(lease: &Lease) -> Error {
        Conflict::LeaseLost {
            key: lease.key.clone(),
        }
        .into()
    }

    /// The slot exists in the intent.
    pub(crate) fn slot_in(intent: &Intent, slot: usize) -> Result<()> {
        if slot < intent.slots.len() {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "slot {slot} is out of range: idempotency key {} has {} slots",
                intent.key,
                intent.slots.len()
            )))
        }
    }

    /// The channel is one of the intent's.
    pub(crate) fn channel_in(intent: &Intent, channel: &ChannelId) -> Result<()> {
        if intent.slots.iter().any(|slot| &slot.channel_id == channel) {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "channel {channel} is not one of idempotency key {}'s channels",
                intent.key
            )))
        }
    }

    /// A created slot stays created with its post (which may be updated); every other state
    /// may change.
    pub(crate) fn may_change(
        key: &IdempotencyKey,
        slot: usize,
        old: &SlotState,
        new: &SlotState,
    ) -> Result<()> {
        match (old.created(), new.created()) {
            (Some(old), Some(new)) if old.id == new.id => Ok(()),
            (Some(old), _) => Err(Error::journal(
                format!(
                    "slot {slot} of idempotency key {key} is recorded as created (post {}); a created slot does not change",
                    old.id
                ),
                None,
            )),
            (None, _) => Ok(()),
        }
    }

    /// A post may be claimed by one slot of one key.
    pub(crate) fn unclaimed(
        post: &PostId,
        claim: Option<(IdempotencyKey, usize)>,
        key: &IdempotencyKey,
        slot: usize,
    ) -> Result<()> {
        match claim {
            Some((by, by_slot)) if (&by, by_slot) != (key, slot) => Err(Conflict::Claimed {
                post: post.clone(),
                key: by,
                slot: by_slot,
            }
            .into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Asset, Link};

    #[test]
    fn given_keys_are_bounded_and_printable() {
        assert!(IdempotencyKey::new("a").is_ok());
        assert!(
            IdempotencyKey::new("é".repeat(200)).is_ok(),
            "200 characters, 400 bytes"
        );
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("x".repeat(201)).is_err());
        assert!(IdempotencyKey::new("line\nbreak").is_err());
        assert!(IdempotencyKey::new("nul\0").is_err());
    }

    #[test]
    fn the_derived_prefix_is_reserved_for_derived_keys() {
        assert!(IdempotencyKey::new("auto:mine").is_err());
        assert!(IdempotencyKey::new(format!("auto:{}", "A".repeat(32))).is_err());
        let derived = IdempotencyKey::derive(&NewPost::new("x"));
        assert!(derived.is_derived());
        let again = IdempotencyKey::new(derived.as_str()).unwrap();
        assert!(again.is_derived());
        assert!(!IdempotencyKey::new("autopilot").unwrap().is_derived());
    }

    #[test]
    fn keys_deserialize_only_when_valid() {
        let key: IdempotencyKey = serde_json::from_str("\"k-1\"").unwrap();
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"k-1\"");
        assert!(serde_json::from_str::<IdempotencyKey>("\"\"").is_err());
        assert!(serde_json::from_str::<IdempotencyKey>("\"auto:x\"").is_err());
    }

    #[test]
    fn the_encoding_cannot_be_shifted_between_fields() {
        // Moving text between adjacent fields must change the key.
        let a = NewPost::new("ab").link(Link::new("c"));
        let b = NewPost::new("a").link(Link::new("bc"));
        assert_ne!(IdempotencyKey::derive(&a), IdempotencyKey::derive(&b));
        let none = NewPost::default();
        let empty = NewPost::new("");
        assert_ne!(
            IdempotencyKey::derive(&none),
            IdempotencyKey::derive(&empty)
        );
        let alt = NewPost::new("x").asset(Asset::image("u").with_alt_text("t"));
        let thumb = NewPost::new("x").asset(Asset::image("u").with_thumbnail("t"));
        assert_ne!(IdempotencyKey::derive(&alt), IdempotencyKey::derive(&thumb));
    }

    #[test]
    fn holds_are_clamped_to_the_maximum() {
        let now = now();
        let key = IdempotencyKey::new("k").unwrap();
        let lease = Lease::issue(key, now, Duration::MAX);
        assert_eq!(lease.expires_at() - now, span(MAX_HOLD));
    }

    #[test]
    fn holder_tokens_differ() {
        let tokens: std::collections::HashSet<_> = (0..1000).map(|_| holder_token()).collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn a_created_slot_keeps_its_post() {
        use crate::model::{PostStatus, Service};
        let key = IdempotencyKey::new("k").unwrap();
        let post = |id: &str| {
            SlotState::Created(Box::new(Post::new(
                id,
                "c",
                Service::Twitter,
                "t",
                PostStatus::Scheduled,
            )))
        };
        assert!(rules::may_change(&key, 0, &SlotState::Pending, &post("a")).is_ok());
        assert!(rules::may_change(&key, 0, &SlotState::Unknown, &SlotState::Pending).is_ok());
        assert!(rules::may_change(&key, 0, &post("a"), &post("a")).is_ok());
        assert!(rules::may_change(&key, 0, &post("a"), &post("b")).is_err());
        assert!(rules::may_change(&key, 0, &post("a"), &SlotState::Unknown).is_err());
    }

    #[test]
    fn failed_slots_give_back_their_error() {
        let error = Error::from_legacy_code(1023, None);
        let failed = FailedSlot::from(&error);
        let back = failed.into_error();
        assert_eq!(back.kind(), ErrorKind::LimitReached);
        assert_eq!(back.legacy_code(), Some(1023));
        assert_eq!(back.message(), error.message());
    }
}
