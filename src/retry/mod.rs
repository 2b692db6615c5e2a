//! Retries that never post twice: [`Retrying`], a [`Backend`] layer.
//!
//! Every failed attempt goes to one pure function, [`RetryPolicy::decide`]:
//!
//! - a **read** is retried after a server failure (HTTP 5xx), a timeout, a dropped connection
//!   or a body that broke off, with capped exponential backoff and jitter;
//! - a **rate limit** (HTTP 429) waits as long as the server said (`Retry-After`, else the
//!   reset of the exhausted window), up to [`RetryPolicy::max_wait`]; a longer wait comes
//!   back as [`Error::RateLimited`] carrying it. A 429 means nothing was done, so writes wait
//!   and retry too;
//! - a **create** happens once. Buffer has no idempotency keys, so every new post carries one
//!   ([`NewPost::key`](crate::model::NewPost::key): given, or derived from the content), and
//!   its intent is written to a [`Journal`] before it is sent, its outcome per channel after.
//!   A channel whose outcome is unknown is *reconciled*, never resent blindly: its posts
//!   created since the send are read (one request for all the channels on GraphQL), and only
//!   a channel where a complete look found nothing is sent again. A second call with a key
//!   already journaled returns what is known and reconciles the rest, so an application may
//!   retry a create after an error, a dropped future or a crash without posting twice; see
//!   [`BackendExt::reconcile`](crate::BackendExt::reconcile) to ask without sending;
//! - a delete that meets "not found" after an unknown outcome counts as done. Other writes
//!   (edit, share, reorder, …) return the error: resending them could act twice;
//! - everything else (bad input, not found, unauthorized, a limit reached) is final.
//!
//! Channels that fail inside a successful answer (a typed GraphQL error, a classic code for
//! one profile) keep their error unless it is transient.
//!
//! Waits use `tokio::time`, so tests run them instantly under `tokio::time::pause()`.

mod create;
mod policy;

pub use policy::{Decision, Failure, RetryPolicy};

use crate::backend::{Backend, BackendKind, Capabilities, Operation, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::journal::{Journal, MemoryJournal};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use policy::Jitter;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A [`Backend`] that retries what is safe to retry and reconciles what is not.
///
/// ```no_run
/// use buffer_bridge::retry::{RetryPolicy, Retrying};
/// use buffer_bridge::{BackendExt, rest::ClassicRest};
/// use std::time::Duration;
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let backend = Retrying::new(ClassicRest::builder().access_token("…").build()?)
///     .policy(RetryPolicy::default().max_attempts(5).max_wait(Duration::from_secs(120)));
/// let channels = backend.channels().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Retrying<B> {
    inner: B,
    policy: RetryPolicy,
    jitter: Mutex<Jitter>,
    journal: Arc<dyn Journal>,
    writes: WriteSettings,
}

/// How the write path journals and fences, with documented defaults.
#[derive(Clone, Debug)]
struct WriteSettings {
    /// How long a call holds a key before another may take it over (a holder that died).
    lease: Duration,
    /// How far the server's clock may be behind the time a write is taken to be sent.
    clock_skew: Duration,
    /// How long a derived key names the same write.
    derived_key_horizon: Duration,
}

impl Default for WriteSettings {
    fn default() -> Self {
        Self {
            lease: DEFAULT_LEASE,
            clock_skew: DEFAULT_CLOCK_SKEW,
            derived_key_horizon: DEFAULT_DERIVED_KEY_HORIZON,
        }
    }
}

/// The longest clock skew allowed: clocks a day apart are broken, not skewed, and a longer
/// skew would reach back past any retry to posts that are not the write's.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(24 * 3600);

/// How long a create holds its key by default: longer than any one create takes with the
/// default policy, short enough that a key whose holder died is taken over soon.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// The clock skew allowed by default when fencing reconciliation (see
/// [`Retrying::clock_skew`]).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// How long a derived key names the same write by default: a day, longer than any retry,
/// after which the same content is a new post.
pub const DEFAULT_DERIVED_KEY_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// The error a backend without a journal answers to [`Request::Reconcile`].
pub(crate) fn no_journal(backend: BackendKind) -> Error {
    Error::Unsupported {
        operation: Operation::Reconcile,
        backend,
        hint: "reconciling a write needs the journal of the write path: wrap the backend in \
               retry::Retrying (with a durable journal such as journal::SqliteJournal to ask \
               after a restart)"
            .to_owned(),
    }
}

impl<B: Backend> Retrying<B> {
    /// Retries over `inner` with the [default policy](RetryPolicy::default).
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            policy: RetryPolicy::default(),
            jitter: Mutex::new(Jitter::from_clock()),
            journal: Arc::new(MemoryJournal::new()),
            writes: WriteSettings::default(),
        }
    }

    /// Journals writes here instead of in memory: a durable journal
    /// ([`SqliteJournal`](crate::journal::SqliteJournal)) lets a restarted process learn what
    /// became of the writes of the one that died, and never send them twice. Share one journal
    /// between every `Retrying` that reaches the same Buffer account.
    pub fn journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = journal;
        self
    }

    /// How far behind the server's clock may be (default [`DEFAULT_CLOCK_SKEW`], at most
    /// [`MAX_CLOCK_SKEW`]). A post counts as a write's only if it was created at or after the
    /// write was sent, less this; the send time is the server's own (its latest `Date`
    /// header) where known, this machine's clock otherwise.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.writes.clock_skew = skew.min(MAX_CLOCK_SKEW);
        self
    }

    /// How long a create holds its key (default [`DEFAULT_LEASE`]): another call with the same
    /// key waits that long at most, then reconciles instead of sending.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.writes.lease = lease;
        self
    }

    /// How long a derived key names the same write (default [`DEFAULT_DERIVED_KEY_HORIZON`]):
    /// after that, a settled create with the same content is a new post.
    pub fn derived_key_horizon(mut self, horizon: Duration) -> Self {
        self.writes.derived_key_horizon = horizon;
        self
    }

    /// Uses this policy.
    pub fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Seeds the jitter, so a test sees the same waits on every run.
    pub fn seed(self, seed: u64) -> Self {
        Self {
            jitter: Mutex::new(Jitter::seeded(seed)),
            ..self
        }
    }

    /// The backend underneath.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The policy's decision for attempt `attempt`, with a fresh jitter draw.
    fn decide(&self, error: &Error, attempt: u32, idempotent: bool) -> Decision {
        let draw = self
            .jitter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .next();
        self.policy.decide(error, attempt, idempotent, draw)
    }

    /// Sends a request that has no reconciliation: reads, and writes retried only when the
    /// server refused them outright.
    async fn plain(&self, request: Request) -> Result<Response> {
        let idempotent = !request.writes();
        let mut attempt = 1;
        loop {
            let error = match self.inner.execute(request.clone()).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            match self.decide(&error, attempt, idempotent) {
                Decision::Retry(wait) => {
                    tracing::debug!(operation = %request.operation(), attempt, ?wait, %error, "retrying");
                    pause(wait).await;
                }
                Decision::Reconcile(_) => {
                    tracing::warn!(operation = %request.operation(), %error, "the write may or may not have been done; not resending it");
                    return Err(error);
                }
                Decision::GiveUp => return Err(error),
            }
            attempt += 1;
        }
    }

    /// Deletes a post. After an unknown outcome the delete is sent again, which is its own
    /// check: "not found" then means the first one worked.
    async fn delete(&self, request: Request) -> Result<Response> {
        let mut unsure = false;
        let mut attempt = 1;
        loop {
            let error = match self.inner.execute(request.clone()).await {
                Ok(response) => return Ok(response),
                Err(Error::NotFound { .. }) if unsure => {
                    tracing::debug!("the post is gone: the earlier delete went through");
                    return Ok(Response::Deleted);
                }
                Err(error) => error,
            };
            match self.decide(&error, attempt, false) {
                Decision::Retry(wait) => pause(wait).await,
                Decision::Reconcile(wait) => {
                    unsure = true;
                    pause(wait).await;
                }
                Decision::GiveUp => return Err(error),
            }
            attempt += 1;
        }
    }
}

async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

#[async_trait]
impl<B: Backend> Backend for Retrying<B> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn describe(&self) -> String {
        format!("retrying({})", self.inner.describe())
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.inner.rate_limits()
    }

    fn server_time(&self) -> Option<DateTime<Utc>> {
        self.inner.server_time()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        match request {
            Request::CreatePost { post } => {
                let mut outcomes = self.create(std::slice::from_ref(&post)).await?;
                match outcomes.pop() {
                    Some(outcome) => Ok(Response::Created(outcome)),
                    None => Err(Error::unexpected("a create returned no outcome".to_owned())),
                }
            }
            Request::CreatePosts { posts } => self.create(&posts).await.map(Response::CreatedMany),
            request @ Request::DeletePost { .. } => self.delete(request).await,
            Request::Reconcile { key } => self.reconcile(&key).await.map(Response::Reconciled),
            other => self.plain(other).await,
        }
    }
}
